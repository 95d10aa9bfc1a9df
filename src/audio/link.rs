//! The only bridge between the control side and the audio thread.
//!
//! Control → audio: a bounded lock-free SPSC queue of fixed-size [`AudioMsg`] values (nothing
//! to allocate or free on either end). Audio → control: atomics with the playhead, levels and
//! health counters, read by displays at their own pace.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};

use rtrb::{Consumer, Producer, RingBuffer};
use thiserror::Error;

use super::deck::{DeckBuffer, DeckControl, DeckPosition};
use super::dsp::NoDenormals;
use super::kit::SampleKit;
use super::loop_player::LoopCue;
use super::loop_player::LoopSet;
use super::params::{Params, Track};
use super::plan::{CyclePlan, EventKind};
use super::synth::{Garbage, RenderSink, Synth};

/// Messages the audio thread understands.
#[derive(Debug, Clone, Copy)]
#[allow(clippy::large_enum_variant)] // fixed-size by design: no boxes to free on the audio thread
pub enum AudioMsg {
    /// Play this cycle from the next free boundary: the AI's turn, a whole cycle ahead. One
    /// that comes after the next cycle has begun to sound missed its boundary and is counted
    /// late (it plays from the boundary after).
    Cycle(CyclePlan),
    /// Replace the next cycle with this one (a performer's change): like [`AudioMsg::Cycle`],
    /// but one that comes after the next cycle has begun to sound (an early hit of its
    /// downbeat played) simply waits for the boundary after, without counting as late.
    Replan(CyclePlan),
    /// New sound, mixer and effect settings.
    Params(Params),
    /// Play, stop, cue, nudge or pitch the deck.
    Deck(DeckControl),
    /// Start the transport (true: a new cycle begins now) or stop it (false).
    Transport(bool),
    /// Changes nothing: the frame at which it is applied places a change that sends the audio
    /// thread nothing else (a setting the AI reads at its next turn), so a live session log
    /// keeps that change in its place.
    Mark,
}

/// What travels boxed to the audio thread (prepared off it, never freed on it).
#[derive(Debug)]
pub enum Boxed {
    /// A loop set plays this (or falls silent) from the next cycle boundary.
    Loop(LoopSet, LoopCue),
    /// A record for the deck (or none: take it off).
    Deck(Option<Box<DeckBuffer>>),
    /// A live input for the deck (mono samples at the graph's rate, from an input device).
    DeckInput(Consumer<f32>),
    /// A drum kit from the next cycle boundary (none: the synthesized voices).
    Kit(Option<Box<SampleKit>>),
}

/// What [`Shared::turned`] holds until an engine reports its first turn.
const NOT_WATCHED: u64 = u64::MAX;
/// Room in the queue: far more than the engine sends per cycle.
const QUEUE_CAPACITY: usize = 64;
/// Seconds of audio the recording tap buffers for a writer that falls behind.
const TAP_SECONDS: usize = 4;
/// Room in the queue of boxed items (loop cues, records).
const CUE_CAPACITY: usize = 16;
/// Mono samples the listening tap holds for a reader that falls behind (the engine drains it
/// continuously; this is 21 s at 48 kHz).
const LISTEN_CAPACITY: usize = 1 << 20;
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
    cycle_start_bits: AtomicU64,
    latency: AtomicU64,
    peaks: [AtomicU32; Track::COUNT + 1],
    load_bits: AtomicU32,
    xruns: AtomicU64,
    late_plans: AtomicU64,
    missed: AtomicU64,
    turned: AtomicU64,
    recording: AtomicBool,
    playing: AtomicBool,
    tap_start: AtomicU64,
    tap_dropped: AtomicU64,
    deck_playing: AtomicBool,
    deck_frame: AtomicU64,
    deck_length: AtomicU64,
    sample_rate: AtomicU32,
    start_lead: AtomicU32,
    transport_epoch: AtomicU64,
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
    /// Frame (fractional) at which the current cycle started: `frame` and this place the
    /// playhead on the audio clock exactly (MIDI out schedules from it).
    pub cycle_start: f64,
    /// Frames from the sequencer's playhead to the graph's output (the limiter's look-ahead).
    pub latency: u64,
    /// Peak level per track (post-fader), linear.
    pub track_peaks: [f32; Track::COUNT],
    /// Master peak level, linear.
    pub master_peak: f32,
    /// Share of the buffer period spent rendering (device backends), 0..1+.
    pub dsp_load: f32,
    /// Buffer underruns / stream errors reported by the backend.
    pub xruns: u64,
    /// Cycle boundaries the audio did not get on time, whatever the cause (deadline misses):
    /// plans that reached the audio thread too late ([`Status::deferred_plans`]), boundaries
    /// that passed before the AI's turn for them was done, and boundaries lost while the
    /// audio stood still (a stopped process, a stalled or frozen clock).
    pub late_plans: u64,
    /// Plans that reached the audio thread after the next cycle had begun to sound: each plays
    /// one cycle later than it was sent for.
    pub deferred_plans: u64,
    /// The first cycle has started (before that the graph renders silence).
    pub playing: bool,
    /// Where the deck is.
    pub deck: DeckPosition,
    /// Sample rate of the graph.
    pub sample_rate: u32,
    /// How many times the transport was started again after a stop.
    pub transport_epoch: u64,
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
            cycle_start: f64::from_bits(self.cycle_start_bits.load(Ordering::Relaxed)),
            latency: self.latency.load(Ordering::Relaxed),
            track_peaks,
            master_peak: f(&self.peaks[Track::COUNT]),
            dsp_load: f(&self.load_bits),
            xruns: self.xruns.load(Ordering::Relaxed),
            late_plans: self.late_plans.load(Ordering::Relaxed)
                + self.missed.load(Ordering::Relaxed),
            deferred_plans: self.late_plans.load(Ordering::Relaxed),
            playing: self.playing.load(Ordering::Relaxed),
            deck: DeckPosition {
                playing: self.deck_playing.load(Ordering::Relaxed),
                frame: self.deck_frame.load(Ordering::Relaxed),
                length: self.deck_length.load(Ordering::Relaxed),
            },
            sample_rate: self.sample_rate.load(Ordering::Relaxed),
            transport_epoch: self.transport_epoch.load(Ordering::Relaxed),
        }
    }

    /// Frames rendered since the start (one atomic read, for real-time readers).
    pub fn frame(&self) -> u64 {
        self.frame.load(Ordering::Relaxed)
    }

    /// Records the share of the period the last callback used (called by device backends).
    pub fn store_load(&self, load: f32) {
        self.load_bits.store(load.to_bits(), Ordering::Relaxed);
    }

    /// Counts an underrun or stream error (called by device backends).
    pub fn count_xrun(&self) {
        self.xruns.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts cycle boundaries that passed while the audio stood still (seen by the engine:
    /// a stopped process, a stalled or frozen clock); they show in [`Status::late_plans`].
    pub fn count_missed(&self, boundaries: u64) {
        self.missed.fetch_add(boundaries, Ordering::Relaxed);
    }

    /// The live engine has taken its turn for cycle `cycle` (written the cycle after it). From
    /// the first call on, the audio thread counts as late every boundary it reaches before the
    /// turn for the cycle it ends: it can only repeat or hold what it has. Stages that never
    /// call this (offline renders, which take every turn in time) are not watched.
    pub fn turned(&self, cycle: u64) {
        self.turned.store(cycle, Ordering::Release);
    }
}

/// The control side's end: sends messages, reads status.
pub struct AudioHandle {
    tx: Producer<(u64, AudioMsg)>,
    boxed: Producer<(u64, Boxed)>,
    returned: Consumer<Garbage>,
    applied: Consumer<(u64, u64)>,
    tap: Option<Tap>,
    listen: Option<Consumer<f32>>,
    next_id: u64,
    shared: Arc<Shared>,
    sample_rate: u32,
}

/// The recording tap: the rendered output, while recording is switched on.
pub struct Tap {
    /// Interleaved stereo samples in render order.
    pub samples: Consumer<f32>,
    /// The published state (recording switch, start frame, dropped frames).
    pub shared: Arc<Shared>,
}

impl Shared {
    /// Switches the tap on or off; the audio thread notes the frame where it starts.
    pub fn set_recording(&self, on: bool) {
        self.recording.store(on, Ordering::Release);
    }

    /// Frame at which the tap started delivering samples (valid once samples arrive).
    pub fn tap_start_frame(&self) -> u64 {
        self.tap_start.load(Ordering::Acquire)
    }

    /// Frames the tap had to drop because the writer fell behind.
    pub fn tap_dropped(&self) -> u64 {
        self.tap_dropped.load(Ordering::Relaxed)
    }
}

impl AudioHandle {
    /// Sends a message to the audio thread; returns its id, which [`AudioHandle::applied`]
    /// later reports with the exact frame at which it took effect.
    pub fn send(&mut self, msg: AudioMsg) -> Result<u64, QueueFull> {
        let id = self.next_id;
        self.tx.push((id, msg)).map_err(|_| QueueFull)?;
        self.next_id += 1;
        Ok(id)
    }

    /// Sends a boxed item (a loop cue: the set plays the buffer, or falls silent, from the
    /// next cycle on; a record for the deck). Returns its id, which [`AudioHandle::applied`]
    /// reports with the frame at which the audio thread took it. Also frees the buffers the
    /// audio thread has let go.
    pub fn send_boxed(&mut self, item: Boxed) -> Result<u64, QueueFull> {
        self.reclaim();
        let id = self.next_id;
        self.boxed.push((id, item)).map_err(|_| QueueFull)?;
        self.next_id += 1;
        Ok(id)
    }

    /// Sends a loop cue (see [`AudioHandle::send_boxed`]).
    pub fn cue_loop(&mut self, set: LoopSet, cue: LoopCue) -> Result<u64, QueueFull> {
        self.send_boxed(Boxed::Loop(set, cue))
    }

    /// Frees, here on the control side, the buffers the audio thread no longer plays;
    /// returns how many.
    pub fn reclaim(&mut self) -> usize {
        let mut n = 0;
        while let Ok(buffer) = self.returned.pop() {
            drop(buffer);
            n += 1;
        }
        n
    }

    /// Sends several messages that the audio thread takes together (in one callback, so at
    /// one frame); returns the id of the first, the others follow in order.
    pub fn send_all(&mut self, msgs: &[AudioMsg]) -> Result<u64, QueueFull> {
        let first = self.next_id;
        let mut chunk = self
            .tx
            .write_chunk_uninit(msgs.len())
            .map_err(|_| QueueFull)?;
        let (a, b) = chunk.as_mut_slices();
        for (i, slot) in a.iter_mut().chain(b.iter_mut()).enumerate() {
            slot.write((first + i as u64, msgs[i]));
        }
        // SAFETY: every slot of the chunk was written just above.
        unsafe { chunk.commit_all() };
        self.next_id += msgs.len() as u64;
        Ok(first)
    }

    /// `(message id, frame)` of the messages the audio thread has applied since the last call.
    pub fn applied(&mut self) -> Vec<(u64, u64)> {
        let mut out = Vec::new();
        while let Ok(x) = self.applied.pop() {
            out.push(x);
        }
        out
    }

    /// Takes the recording tap (once).
    pub fn take_tap(&mut self) -> Option<Tap> {
        self.tap.take()
    }

    /// Takes the listening tap (once): the mono sum of the master output, always flowing, for
    /// the feedback analysis. Samples it has no room for are dropped.
    pub fn take_listen(&mut self) -> Option<Consumer<f32>> {
        self.listen.take()
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

    /// Frames the transport waits after a start before its downbeat (see
    /// [`AudioCore::with_start_lead`]).
    pub fn start_lead(&self) -> u32 {
        self.shared.start_lead.load(Ordering::Relaxed)
    }
}

/// The audio thread's end: owns the graph, drains messages, renders, publishes.
pub struct AudioCore {
    synth: Synth,
    rx: Consumer<(u64, AudioMsg)>,
    boxed: Consumer<(u64, Boxed)>,
    returns: Producer<Garbage>,
    applied: Producer<(u64, u64)>,
    tap: Producer<f32>,
    listen: Producer<f32>,
    tapping: bool,
    shared: Arc<Shared>,
    frames: u64,
}

/// The audio thread's sink: hands buffers back, passes events to `on_event`.
struct CoreSink<'a, F: FnMut(i64, EventKind, f64)> {
    returns: &'a mut Producer<Garbage>,
    on_event: F,
}

impl<F: FnMut(i64, EventKind, f64)> RenderSink for CoreSink<'_, F> {
    fn release(&mut self, garbage: Garbage) {
        give_back(self.returns, garbage);
    }

    fn event(&mut self, frame: i64, kind: EventKind, samples_per_step: f64) {
        (self.on_event)(frame, kind, samples_per_step);
    }
}

impl AudioCore {
    /// Lets the transport start `frames` after its first plan (and each restart) arrives:
    /// see [`Sequencer::set_start_lead`](super::sequencer::Sequencer::set_start_lead).
    pub fn with_start_lead(mut self, frames: u32) -> Self {
        self.synth.set_start_lead(frames);
        self.shared.start_lead.store(frames, Ordering::Relaxed);
        self
    }

    /// Renders interleaved stereo into `out`. Real-time safe: no allocation, lock or I/O.
    pub fn process(&mut self, out: &mut [f32]) {
        self.process_with(out, |_, _, _| {});
    }

    /// Renders like [`AudioCore::process`] and passes every event the sequencer plays (frame,
    /// event, samples per step) to `on_event`: offline renders write MIDI files from these.
    pub fn process_with(&mut self, out: &mut [f32], on_event: impl FnMut(i64, EventKind, f64)) {
        let _flush = NoDenormals::new();
        // Boxed items first: a record loaded and played in one go is on the deck before the
        // play control arrives.
        while let Ok((id, item)) = self.boxed.pop() {
            let _ = self.applied.push((id, self.frames));
            match item {
                Boxed::Loop(set, cue) => {
                    if let Some(old) = self.synth.cue_loop(set, cue) {
                        give_back(&mut self.returns, Garbage::Loop(old));
                    }
                }
                Boxed::Deck(record) => {
                    if let Some(old) = self.synth.load_deck(record) {
                        give_back(&mut self.returns, Garbage::Deck(old));
                    }
                }
                Boxed::DeckInput(input) => {
                    if let Some(old) = self.synth.set_deck_input(input) {
                        give_back(&mut self.returns, Garbage::Input(old));
                    }
                }
                Boxed::Kit(kit) => {
                    if let Some(old) = self.synth.load_kit(kit) {
                        give_back(&mut self.returns, Garbage::Kit(old));
                    }
                }
            }
        }
        while let Ok((id, msg)) = self.rx.pop() {
            // A full report queue only loses the report, never the message.
            let _ = self.applied.push((id, self.frames));
            match msg {
                AudioMsg::Cycle(plan) => {
                    if !self.synth.queue_cycle(plan) {
                        self.shared.late_plans.fetch_add(1, Ordering::Relaxed);
                    }
                }
                AudioMsg::Replan(plan) => {
                    self.synth.queue_cycle(plan);
                }
                AudioMsg::Params(params) => self.synth.apply_params(&params),
                AudioMsg::Deck(control) => self.synth.control_deck(control),
                AudioMsg::Mark => {}
                AudioMsg::Transport(false) => self.synth.stop(),
                AudioMsg::Transport(true) => {
                    let mut sink = CoreSink {
                        returns: &mut self.returns,
                        on_event: |_, _, _| {},
                    };
                    if self.synth.restart(&mut sink) {
                        self.shared.transport_epoch.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
        }
        let before = self.synth.position().cycle;
        let mut sink = CoreSink {
            returns: &mut self.returns,
            on_event,
        };
        self.synth.render(out, &mut sink);
        self.feed_tap(out);
        self.feed_listen(out);
        self.frames += (out.len() / 2) as u64;
        let pos = self.synth.position();
        let peaks = self.synth.peaks();
        let s = &self.shared;
        s.missed
            .fetch_add(missed_boundaries(before, pos.cycle, s), Ordering::Relaxed);
        s.frame.store(self.frames, Ordering::Relaxed);
        s.cycle.store(pos.cycle, Ordering::Relaxed);
        s.playing.store(self.synth.is_playing(), Ordering::Relaxed);
        s.step_bits.store(pos.step.to_bits(), Ordering::Relaxed);
        s.tempo_bits
            .store(pos.tempo_bpm.to_bits(), Ordering::Relaxed);
        s.cycle_start_bits
            .store(pos.cycle_start.to_bits(), Ordering::Relaxed);
        for (a, p) in s.peaks.iter().zip(peaks.tracks) {
            a.store(p.to_bits(), Ordering::Relaxed);
        }
        s.peaks[Track::COUNT].store(peaks.master.to_bits(), Ordering::Relaxed);
        let deck = self.synth.deck_position();
        s.deck_playing.store(deck.playing, Ordering::Relaxed);
        s.deck_frame.store(deck.frame, Ordering::Relaxed);
        s.deck_length.store(deck.length, Ordering::Relaxed);
    }

    fn feed_listen(&mut self, out: &[f32]) {
        let room = self.listen.slots().min(out.len() / 2);
        if let Ok(mut chunk) = self.listen.write_chunk_uninit(room) {
            let (a, b) = chunk.as_mut_slices();
            for (slot, frame) in a.iter_mut().chain(b.iter_mut()).zip(out.chunks_exact(2)) {
                slot.write(0.5 * (frame[0] + frame[1]));
            }
            // SAFETY: every slot of the chunk was written just above (`room` frames).
            unsafe { chunk.commit_all() };
        }
    }

    fn feed_tap(&mut self, out: &[f32]) {
        let on = self.shared.recording.load(Ordering::Acquire);
        if on && !self.tapping {
            self.shared.tap_start.store(self.frames, Ordering::Release);
        }
        self.tapping = on;
        if !on {
            return;
        }
        let room = self.tap.slots().min(out.len()) & !1;
        if let Ok(mut chunk) = self.tap.write_chunk_uninit(room) {
            let (a, b) = chunk.as_mut_slices();
            let split = a.len();
            for (slot, x) in a.iter_mut().zip(out) {
                slot.write(*x);
            }
            for (slot, x) in b.iter_mut().zip(&out[split..]) {
                slot.write(*x);
            }
            // SAFETY: every slot of the chunk was written just above.
            unsafe { chunk.commit_all() };
        }
        let lost = (out.len() - room) / 2;
        if lost > 0 {
            self.shared
                .tap_dropped
                .fetch_add(lost as u64, Ordering::Relaxed);
        }
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

/// How many of the boundaries from cycle `before` to cycle `after` came before the engine's
/// turn for the cycle they end (none where no engine reports its turns).
fn missed_boundaries(before: u64, after: u64, shared: &Shared) -> u64 {
    let turned = shared.turned.load(Ordering::Acquire);
    if turned == NOT_WATCHED {
        return 0;
    }
    // The boundary that ends cycle `c` needs the turn for `c`: the ones of the cycles after
    // `turned` came too early.
    after.saturating_sub(before.max(turned + 1))
}

/// Hands a buffer back to the control side. Should the return queue ever be full, the
/// buffer is leaked rather than freed on the audio thread.
fn give_back(returns: &mut Producer<Garbage>, garbage: Garbage) {
    if let Err(rtrb::PushError::Full(g)) = returns.push(garbage) {
        std::mem::forget(g);
    }
}

/// Builds a graph at `sample_rate` with its two ends.
pub fn link(sample_rate: u32, seed: u64) -> (AudioHandle, AudioCore) {
    let (tx, rx) = RingBuffer::new(QUEUE_CAPACITY);
    let (applied_tx, applied_rx) = RingBuffer::new(QUEUE_CAPACITY * 4);
    let (cue_tx, cue_rx) = RingBuffer::new(CUE_CAPACITY);
    let (ret_tx, ret_rx) = RingBuffer::new(RETURN_CAPACITY);
    let (tap_tx, tap_rx) = RingBuffer::new(sample_rate as usize * 2 * TAP_SECONDS);
    let (listen_tx, listen_rx) = RingBuffer::new(LISTEN_CAPACITY);
    let shared = Arc::new(Shared::default());
    shared.sample_rate.store(sample_rate, Ordering::Relaxed);
    shared.turned.store(NOT_WATCHED, Ordering::Relaxed);
    let handle = AudioHandle {
        tx,
        boxed: cue_tx,
        returned: ret_rx,
        applied: applied_rx,
        listen: Some(listen_rx),
        tap: Some(Tap {
            samples: tap_rx,
            shared: Arc::clone(&shared),
        }),
        next_id: 0,
        shared: Arc::clone(&shared),
        sample_rate,
    };
    let synth = Synth::new(sample_rate as f32, seed);
    shared
        .latency
        .store(synth.latency() as u64, Ordering::Relaxed);
    let core = AudioCore {
        synth,
        rx,
        boxed: cue_rx,
        returns: ret_tx,
        applied: applied_tx,
        tap: tap_tx,
        listen: listen_tx,
        tapping: false,
        shared,
        frames: 0,
    };
    (handle, core)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pattern::{Bassline, DrumPattern};

    /// A cycle at 120 BPM: four seconds.
    fn plan() -> CyclePlan {
        CyclePlan::new(&DrumPattern::new(), &Bassline::default(), 45, 120.0, 50.0)
    }

    /// Renders `seconds` of audio in blocks of 512 frames.
    fn play(core: &mut AudioCore, seconds: f64) {
        let mut block = vec![0.0; 2 * 512];
        for _ in 0..(seconds * 48_000.0 / 512.0).ceil() as usize {
            core.process(&mut block);
        }
    }

    #[test]
    fn boundaries_reached_before_the_engines_turn_are_late() {
        let (mut handle, mut core) = link(48_000, 1);
        handle.send(AudioMsg::Cycle(plan())).unwrap();
        handle.shared().turned(0);
        // Two boundaries pass (at 4 s and 8 s), the second with no turn for the cycle it ends.
        play(&mut core, 10.0);
        let status = handle.status();
        assert_eq!(status.cycle, 2);
        assert_eq!(status.late_plans, 1, "the boundary that ends cycle 1");
        assert_eq!(status.deferred_plans, 0);
        // The engine catches up: the next boundary is on time.
        handle.shared().turned(2);
        play(&mut core, 4.0);
        let status = handle.status();
        assert_eq!(status.cycle, 3);
        assert_eq!(status.late_plans, 1);
    }

    #[test]
    fn a_graph_no_engine_watches_counts_no_missed_boundary() {
        let (mut handle, mut core) = link(48_000, 1);
        handle.send(AudioMsg::Cycle(plan())).unwrap();
        play(&mut core, 10.0);
        assert_eq!(handle.status().cycle, 2);
        assert_eq!(handle.status().late_plans, 0);
    }

    #[test]
    fn boundaries_lost_to_a_stall_are_counted_with_the_late_plans() {
        let (handle, _core) = link(48_000, 1);
        handle.shared().count_missed(3);
        let status = handle.status();
        assert_eq!(status.late_plans, 3);
        assert_eq!(status.deferred_plans, 0);
    }
}
