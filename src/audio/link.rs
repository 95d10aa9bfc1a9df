//! The only bridge between the control side and the audio thread.
//!
//! Control → audio: a bounded lock-free SPSC queue of fixed-size [`AudioMsg`] values (nothing
//! to allocate or free on either end). Audio → control: atomics with the playhead, levels and
//! health counters, read by displays at their own pace.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

use rtrb::{Consumer, Producer, RingBuffer};
use thiserror::Error;

use super::dsp::NoDenormals;
use super::params::{Params, Track};
use super::plan::CyclePlan;
use super::synth::Synth;
use crate::loops::LoopSet;
use crate::loops::player::{LoopBuffer, LoopCue};

/// Messages the audio thread understands.
#[derive(Debug, Clone, Copy)]
#[allow(clippy::large_enum_variant)] // fixed-size by design: no boxes to free on the audio thread
pub enum AudioMsg {
    /// Play this cycle from the next free boundary.
    Cycle(CyclePlan),
    /// New sound, mixer and effect settings.
    Params(Params),
}

/// Room in the queue: far more than the engine sends per cycle.
const QUEUE_CAPACITY: usize = 64;
/// Room in the loop-cue queue.
const CUE_CAPACITY: usize = 16;
/// Room in the queue of loop buffers going back to be freed: more than the players can let go
/// between two reclaims (each cue displaces at most one, each cycle at most one per set).
const RETURN_CAPACITY: usize = 256;

/// The audio thread is not draining its queue (stalled device or far too many messages).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[error("the audio queue is full; the message was dropped")]
pub struct QueueFull;

/// State the audio thread publishes.
#[derive(Debug, Default)]
pub struct Shared {
    frame: AtomicU64,
    cycle: AtomicU64,
    step_bits: AtomicU64,
    tempo_bits: AtomicU32,
    peaks: [AtomicU32; Track::COUNT + 1],
    load_bits: AtomicU32,
    xruns: AtomicU64,
    late_plans: AtomicU64,
}

/// A snapshot of what the audio thread published.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Status {
    /// Frames rendered since the start.
    pub frame: u64,
    /// Cycles completed.
    pub cycle: u64,
    /// Playhead within the cycle, in steps 0..32.
    pub step: f64,
    /// Tempo of the current cycle.
    pub tempo_bpm: f32,
    /// Peak level per track (post-fader), linear.
    pub track_peaks: [f32; Track::COUNT],
    /// Master peak level, linear.
    pub master_peak: f32,
    /// Share of the buffer period spent rendering (device backends), 0..1+.
    pub dsp_load: f32,
    /// Buffer underruns / stream errors reported by the backend.
    pub xruns: u64,
    /// Cycles that reached the audio thread too late for their boundary (deadline misses).
    pub late_plans: u64,
}

impl Shared {
    /// Reads everything at once.
    pub fn status(&self) -> Status {
        let f = |a: &AtomicU32| f32::from_bits(a.load(Ordering::Relaxed));
        let mut track_peaks = [0.0; Track::COUNT];
        for (p, a) in track_peaks.iter_mut().zip(&self.peaks) {
            *p = f(a);
        }
        Status {
            frame: self.frame.load(Ordering::Relaxed),
            cycle: self.cycle.load(Ordering::Relaxed),
            step: f64::from_bits(self.step_bits.load(Ordering::Relaxed)),
            tempo_bpm: f(&self.tempo_bits),
            track_peaks,
            master_peak: f(&self.peaks[Track::COUNT]),
            dsp_load: f(&self.load_bits),
            xruns: self.xruns.load(Ordering::Relaxed),
            late_plans: self.late_plans.load(Ordering::Relaxed),
        }
    }

    /// Records the share of the period the last callback used (called by device backends).
    pub fn store_load(&self, load: f32) {
        self.load_bits.store(load.to_bits(), Ordering::Relaxed);
    }

    /// Counts an underrun or stream error (called by device backends).
    pub fn count_xrun(&self) {
        self.xruns.fetch_add(1, Ordering::Relaxed);
    }
}

/// The control side's end: sends messages, reads status.
pub struct AudioHandle {
    tx: Producer<AudioMsg>,
    cues: Producer<(LoopSet, LoopCue)>,
    returned: Consumer<Box<LoopBuffer>>,
    shared: Arc<Shared>,
    sample_rate: u32,
}

impl AudioHandle {
    /// Sends a message to the audio thread.
    pub fn send(&mut self, msg: AudioMsg) -> Result<(), QueueFull> {
        self.tx.push(msg).map_err(|_| QueueFull)
    }

    /// Sends a loop cue: `set` plays the buffer (or falls silent) from the next cycle on. Also
    /// frees the buffers the audio thread has let go.
    pub fn cue_loop(&mut self, set: LoopSet, cue: LoopCue) -> Result<(), QueueFull> {
        self.reclaim();
        self.cues.push((set, cue)).map_err(|_| QueueFull)
    }

    /// Frees, here on the control side, the loop buffers the audio thread no longer plays;
    /// returns how many.
    pub fn reclaim(&mut self) -> usize {
        let mut n = 0;
        while let Ok(buffer) = self.returned.pop() {
            drop(buffer);
            n += 1;
        }
        n
    }

    /// What the audio thread last published.
    pub fn status(&self) -> Status {
        self.shared.status()
    }

    /// The published state itself, for backends that report load and underruns.
    pub fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }

    /// Sample rate the graph runs at.
    pub fn sample_rate(&self) -> u32 {
        self.sample_rate
    }
}

/// The audio thread's end: owns the graph, drains messages, renders, publishes.
pub struct AudioCore {
    synth: Synth,
    rx: Consumer<AudioMsg>,
    cues: Consumer<(LoopSet, LoopCue)>,
    returns: Producer<Box<LoopBuffer>>,
    shared: Arc<Shared>,
    frames: u64,
}

impl AudioCore {
    /// Renders interleaved stereo into `out`. Real-time safe: no allocation, lock or I/O.
    pub fn process(&mut self, out: &mut [f32]) {
        let _flush = NoDenormals::new();
        while let Ok(msg) = self.rx.pop() {
            match msg {
                AudioMsg::Cycle(plan) => {
                    if !self.synth.queue_cycle(plan) {
                        self.shared.late_plans.fetch_add(1, Ordering::Relaxed);
                    }
                }
                AudioMsg::Params(params) => self.synth.set_params(&params),
            }
        }
        while let Ok((set, cue)) = self.cues.pop() {
            if let Some(old) = self.synth.cue_loop(set, cue) {
                give_back(&mut self.returns, old);
            }
        }
        let returns = &mut self.returns;
        self.synth.render(out, |b| give_back(returns, b));
        self.frames += (out.len() / 2) as u64;
        let pos = self.synth.position();
        let peaks = self.synth.peaks();
        let s = &self.shared;
        s.frame.store(self.frames, Ordering::Relaxed);
        s.cycle.store(pos.cycle, Ordering::Relaxed);
        s.step_bits.store(pos.step.to_bits(), Ordering::Relaxed);
        s.tempo_bits
            .store(pos.tempo_bpm.to_bits(), Ordering::Relaxed);
        for (a, p) in s.peaks.iter().zip(peaks.tracks) {
            a.store(p.to_bits(), Ordering::Relaxed);
        }
        s.peaks[Track::COUNT].store(peaks.master.to_bits(), Ordering::Relaxed);
    }

    /// Output latency of the graph in frames.
    pub fn latency(&self) -> usize {
        self.synth.latency()
    }

    /// The published state (device backends add load and underruns to it).
    pub fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }
}

/// Hands a loop buffer back to the control side. Should the return queue ever be full, the
/// buffer is leaked rather than freed on the audio thread.
fn give_back(returns: &mut Producer<Box<LoopBuffer>>, buffer: Box<LoopBuffer>) {
    if let Err(rtrb::PushError::Full(b)) = returns.push(buffer) {
        std::mem::forget(b);
    }
}

/// Builds a graph at `sample_rate` with its two ends.
pub fn link(sample_rate: u32, seed: u64) -> (AudioHandle, AudioCore) {
    let (tx, rx) = RingBuffer::new(QUEUE_CAPACITY);
    let (cue_tx, cue_rx) = RingBuffer::new(CUE_CAPACITY);
    let (ret_tx, ret_rx) = RingBuffer::new(RETURN_CAPACITY);
    let shared = Arc::new(Shared::default());
    let handle = AudioHandle {
        tx,
        cues: cue_tx,
        returned: ret_rx,
        shared: Arc::clone(&shared),
        sample_rate,
    };
    let core = AudioCore {
        synth: Synth::new(sample_rate as f32, seed),
        rx,
        cues: cue_rx,
        returns: ret_tx,
        shared,
        frames: 0,
    };
    (handle, core)
}
