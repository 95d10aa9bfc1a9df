//! MIDI out: drums, bass and clock scheduled ahead from a thread of their own.
//!
//! The scheduler runs its own [`Sequencer`] on the plans the engine queues for the audio
//! thread, started at the frame where the audio thread started, so it walks exactly the
//! timeline the audio plays. Frames become monotonic microseconds through [`FrameClock`] (the
//! audio thread's published frame counter against the system clock); each message is handed
//! to the port ahead of time (JACK places it at its exact frame) or sent when due (ALSA), never
//! from the audio callback. MIDI clock (24 ppqn) ticks on the same timeline, with start,
//! continue, stop and song position.

use std::sync::mpsc::{self, Receiver, Sender, TryRecvError};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use super::clock::{self, FrameClock, TICKS_PER_STEP, now_us};
use super::map::NoteMap;
use super::ports::{Ports, Timed};
use crate::audio::link::Shared;
use crate::audio::plan::{CyclePlan, EventKind};
use crate::audio::sequencer::Sequencer;
use crate::pattern::STEPS;

/// How long a drum note lasts, in steps (as in exported pattern files).
pub const DRUM_GATE: f64 = 0.25;
/// How far ahead of the audio clock events are generated.
const HORIZON_US: f64 = 40_000.0;
/// How often ports are checked for ones that vanished or came back.
const RECONNECT_US: u64 = 1_000_000;
/// The scheduler sleeps at most this long between looks at the clock.
const TICK_US: u64 = 1_000;
/// Below this much time to the next due message the scheduler spins instead of sleeping.
const SPIN_US: u64 = 200;

/// Turns sequencer events into note messages (stateful: the bass is monophonic).
#[derive(Debug, Clone)]
pub struct Voicer {
    map: NoteMap,
    bass: Option<u8>,
}

/// A message some steps after the event that caused it.
pub type Voiced = (f64, [u8; 3]);

impl Voicer {
    /// A voicer with a note map.
    pub fn new(map: NoteMap) -> Self {
        Voicer { map, bass: None }
    }

    /// The messages of one event, each with its delay in steps.
    pub fn event(&mut self, kind: EventKind, out: &mut Vec<Voiced>) {
        let bass_ch = self.map.bass_wire_channel();
        match kind {
            EventKind::Drum { voice, velocity } => {
                let (ch, note) = self.map.wire(voice);
                let vel = crate::midifile::velocity_to_midi(velocity);
                out.push((0.0, [0x90 | ch, note, vel]));
                out.push((DRUM_GATE, [0x80 | ch, note, 0]));
            }
            EventKind::BassOn {
                note,
                velocity,
                slide,
                ..
            } => {
                let on = [
                    0x90 | bass_ch,
                    note,
                    crate::midifile::velocity_to_midi(velocity),
                ];
                match self.bass {
                    Some(prev) if slide && prev == note => return,
                    Some(prev) if slide => {
                        out.push((0.0, on));
                        out.push((0.0, [0x80 | bass_ch, prev, 0]));
                    }
                    Some(prev) => {
                        out.push((0.0, [0x80 | bass_ch, prev, 0]));
                        out.push((0.0, on));
                    }
                    None => out.push((0.0, on)),
                }
                self.bass = Some(note);
            }
            EventKind::BassOff => {
                if let Some(prev) = self.bass.take() {
                    out.push((0.0, [0x80 | bass_ch, prev, 0]));
                }
            }
            EventKind::CycleStart => {}
        }
    }

    /// Note-offs for whatever still sounds.
    pub fn release(&mut self, out: &mut Vec<Voiced>) {
        self.event(EventKind::BassOff, out);
    }
}

/// The note messages a plan plays over `frames` frames from its start at `sample_rate`, in
/// send order, each with its (fractional) frame. The same sequencer and voicer as on stage,
/// so a file written from this holds what a port would have received.
pub fn render_events(
    plan: &CyclePlan,
    map: &NoteMap,
    sample_rate: u32,
    frames: i64,
) -> Vec<(f64, [u8; 3])> {
    let mut seq = Sequencer::new(sample_rate as f32);
    seq.queue(*plan);
    let mut played = Vec::new();
    while let Some((frame, kind)) = seq.next_event(frames) {
        played.push((frame, kind, seq.position().samples_per_step));
    }
    voice_events(&played, map, frames)
}

/// The note messages of events a sequencer played (frame, event, samples per step), in send
/// order, each with its (fractional) frame; a bass note still sounding ends at `end`.
pub fn voice_events(
    played: &[(i64, EventKind, f64)],
    map: &NoteMap,
    end: i64,
) -> Vec<(f64, [u8; 3])> {
    let mut voicer = Voicer::new(map.clone());
    let mut out = Vec::new();
    let mut voiced = Vec::new();
    for &(frame, kind, sps) in played {
        voicer.event(kind, &mut voiced);
        for (delay, msg) in voiced.drain(..) {
            out.push((frame as f64 + delay * sps, msg));
        }
    }
    voicer.release(&mut voiced);
    for (_, msg) in voiced.drain(..) {
        out.push((end as f64, msg));
    }
    // Stable: messages at the same frame keep the order they were made in.
    out.sort_by(|a, b| a.0.total_cmp(&b.0));
    out
}

/// What the scheduler is told.
#[derive(Debug)]
enum Msg {
    Plan(Box<CyclePlan>),
    Clock(bool),
    Quit,
}

/// How MIDI out behaves.
#[derive(Debug, Clone)]
pub struct OutOptions {
    /// Notes and channels.
    pub map: NoteMap,
    /// Send MIDI clock (with start / stop and song position) from the start.
    pub clock: bool,
    /// Added to every message's time, in milliseconds (negative: earlier, for gear that is
    /// slow to sound).
    pub offset_ms: f64,
}

/// What the scheduler reports for displays.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OutStatus {
    /// Ports and connections in words.
    pub ports: String,
    /// Whether clock is being sent.
    pub clock: bool,
    /// Messages the port refused or had no room for.
    pub dropped: u64,
    /// The timeline is known: plans sent from now on play on time.
    pub ready: bool,
}

/// The engine's end of MIDI out.
pub struct MidiOut {
    tx: Sender<Msg>,
    status: Arc<Mutex<OutStatus>>,
    thread: Option<JoinHandle<()>>,
}

impl MidiOut {
    /// Starts the scheduler thread on the audio graph's published clock.
    pub fn start(
        ports: Ports,
        shared: Arc<Shared>,
        sample_rate: u32,
        opts: OutOptions,
    ) -> std::io::Result<MidiOut> {
        let (tx, rx) = mpsc::channel();
        let status = Arc::new(Mutex::new(OutStatus {
            ports: ports.describe(),
            clock: opts.clock,
            dropped: 0,
            ready: false,
        }));
        let scheduler = Scheduler::new(ports, shared, sample_rate, opts, Arc::clone(&status));
        let thread = std::thread::Builder::new()
            .name("ubiq-midi-out".into())
            .spawn(move || scheduler.run(&rx))?;
        Ok(MidiOut {
            tx,
            status,
            thread: Some(thread),
        })
    }

    /// The plan the audio thread was just sent (the same one, in the same order).
    pub fn plan(&self, plan: &CyclePlan) {
        let _ = self.tx.send(Msg::Plan(Box::new(*plan)));
    }

    /// Starts (continue from the song position) or stops sending clock.
    pub fn set_clock(&self, on: bool) {
        let _ = self.tx.send(Msg::Clock(on));
    }

    /// Waits (at most `limit`) until the scheduler knows the audio timeline, so the first
    /// cycle is not late on MIDI; true when it does.
    pub fn wait_ready(&self, limit: Duration) -> bool {
        let until = std::time::Instant::now() + limit;
        while std::time::Instant::now() < until {
            if self.status().ready {
                return true;
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        false
    }

    /// What is connected and sent.
    pub fn status(&self) -> OutStatus {
        self.status.lock().map(|s| s.clone()).unwrap_or_default()
    }
}

impl Drop for MidiOut {
    /// Sends note-offs and a clock stop, then ends the thread.
    fn drop(&mut self) {
        let _ = self.tx.send(Msg::Quit);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Where MIDI clock is within the cycle that plays.
#[derive(Debug, Clone, Copy)]
struct Ticks {
    /// Frame of the cycle start.
    start: f64,
    samples_per_step: f64,
    /// Next tick within the cycle, 0..192.
    next: u32,
    /// Sixteenths from the first cycle to this cycle's start.
    song_steps: u64,
}

/// How sequencer frames become port times.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Timeline {
    /// Monotonic microseconds through [`FrameClock`]; `delay` frames from the playhead to
    /// the sound.
    Micros { delay: f64 },
    /// JACK frames: the audio plays on the same server, so a frame maps by a constant
    /// `offset` (JACK frame − audio frame, plus the graph's look-ahead); `now` is the current
    /// JACK frame.
    JackFrames { offset: f64, now: f64 },
}

/// What the clock output does next.
#[derive(Debug, Clone, Copy, PartialEq)]
enum ClockState {
    Off,
    /// Send start (first cycle) or song position + continue at the next step boundary.
    Starting,
    On,
    /// Send stop at the next tick.
    Stopping,
}

struct Scheduler {
    ports: Ports,
    shared: Arc<Shared>,
    frames: FrameClock,
    rate: u32,
    offset_us: f64,
    status: Arc<Mutex<OutStatus>>,
    ready: bool,
    timeline: Timeline,
    /// Plans sent before the audio thread started (the first one starts the timeline).
    early: Vec<CyclePlan>,
    /// What goes out, on the sequencer's timeline.
    em: Emitter,
    /// Messages waiting for their time: (time, order, message).
    due: Vec<(u64, u64, Timed)>,
    order: u64,
    dropped: u64,
    /// The emitter's messages before they are timed.
    framed: Vec<Framed>,
    /// The audio's transport epoch last seen (it grows with every restart).
    epoch: u64,
}

/// A message of up to three bytes (`len` of them) at a (fractional) sequencer frame.
type Framed = (f64, [u8; 3], usize);

fn emit(out: &mut Vec<Framed>, frame: f64, bytes: &[u8]) {
    let mut b = [0; 3];
    let len = bytes.len().min(3);
    b[..len].copy_from_slice(&bytes[..len]);
    out.push((frame, b, len));
}

/// What goes out on the sequencer's timeline: the notes of the plans, and the clock with its
/// start, continue, song position and stop, each at its sequencer frame and in the order they
/// must be sent (the clock's messages at a frame before the notes of that frame).
struct Emitter {
    seq: Option<Sequencer>,
    voicer: Voicer,
    ticks: Option<Ticks>,
    clock: ClockState,
    started_once: bool,
    scratch: Vec<Voiced>,
}

impl Scheduler {
    fn new(
        ports: Ports,
        shared: Arc<Shared>,
        rate: u32,
        opts: OutOptions,
        status: Arc<Mutex<OutStatus>>,
    ) -> Self {
        Scheduler {
            ports,
            shared,
            frames: FrameClock::new(rate),
            rate,
            offset_us: opts.offset_ms * 1000.0,
            status,
            ready: false,
            timeline: Timeline::Micros { delay: 0.0 },
            early: Vec::new(),
            em: Emitter::new(opts.map, opts.clock),
            due: Vec::new(),
            order: 0,
            dropped: 0,
            framed: Vec::new(),
            epoch: 0,
        }
    }

    /// Frames between the sequencer's playhead and the sound: the graph's look-ahead plus the
    /// buffer being rendered.
    fn audio_delay(&self, latency: u64) -> f64 {
        (latency + self.frames.period_frames()) as f64
    }

    fn push(&mut self, at_us: f64, bytes: &[u8]) {
        let at = at_us.max(0.0) as u64;
        self.due.push((at, self.order, Timed::new(at, bytes)));
        self.order += 1;
    }

    fn run(mut self, rx: &Receiver<Msg>) {
        let mut next_reconnect = now_us() + RECONNECT_US;
        loop {
            loop {
                match rx.try_recv() {
                    Ok(Msg::Plan(plan)) => match &mut self.em.seq {
                        Some(seq) => {
                            seq.queue(*plan);
                        }
                        None => self.early.push(*plan),
                    },
                    Ok(Msg::Clock(on)) => self.set_clock(on),
                    Ok(Msg::Quit) | Err(TryRecvError::Disconnected) => {
                        self.finish();
                        return;
                    }
                    Err(TryRecvError::Empty) => break,
                }
            }
            let now = now_us();
            let status = self.shared.status();
            self.frames.observe(status.frame, now);
            if !self.ready && self.frames.is_ready() && !self.ports.offset_pending() {
                self.ready = true;
                if let Ok(mut s) = self.status.lock() {
                    s.ready = true;
                }
            }
            if self.em.seq.is_none() && !self.early.is_empty() && status.playing {
                self.epoch = status.transport_epoch;
                self.begin(status.cycle_start);
            }
            self.follow_transport(&status);
            if self.em.seq.is_some() && self.ports.has_out() && !self.ports.offset_pending() {
                self.timeline = match (self.ports.frame_offset(), self.ports.jack_now()) {
                    (Some(offset), Some(jack_now)) => Timeline::JackFrames {
                        // One period behind the audio: the scheduler learns where a cycle
                        // starts only after the audio rendered that period.
                        offset: (offset as u64 + status.latency + self.frames.period_frames())
                            as f64,
                        now: jack_now as f64,
                    },
                    _ => Timeline::Micros {
                        delay: self.audio_delay(status.latency),
                    },
                };
                let horizon = self.horizon(now).floor();
                self.generate(horizon as i64);
                if self.ports.places_itself() {
                    // Everything before the horizon is final: hand it over, in time order.
                    self.release(self.time_of(horizon).max(0.0) as u64);
                }
            }
            if !self.ports.places_itself() {
                self.release(now);
            }
            if now >= next_reconnect {
                next_reconnect = now + RECONNECT_US;
                self.ports.reconnect();
                if let Ok(mut s) = self.status.lock() {
                    s.ports = self.ports.describe();
                    s.dropped = self.dropped;
                    s.clock = matches!(self.em.clock, ClockState::On | ClockState::Starting);
                }
            }
            self.wait();
        }
    }

    /// Follows the audio's transport: when it stops, the notes end and the clock stops;
    /// when it starts again, the timeline restarts with the audio's new cycle (and the clock
    /// with a start from the top).
    fn follow_transport(&mut self, status: &crate::audio::Status) {
        let Some(seq) = &mut self.em.seq else { return };
        let restarted = status.transport_epoch != self.epoch;
        if (restarted || !status.playing) && !seq.is_stopped() {
            seq.stop();
            let frame = seq.frame() as f64;
            let mut framed = std::mem::take(&mut self.framed);
            self.em.stop(frame, &mut framed);
            self.send_framed(&mut framed);
            self.framed = framed;
        }
        if restarted {
            self.epoch = status.transport_epoch;
            self.em.restart(status.cycle_start);
        }
    }

    fn begin(&mut self, cycle_start: f64) {
        let early: Vec<CyclePlan> = self.early.drain(..).collect();
        self.em.begin(self.rate, cycle_start, early);
    }

    /// The last sequencer frame to generate now.
    fn horizon(&self, now_us: u64) -> f64 {
        match self.timeline {
            Timeline::Micros { delay } => {
                self.frames
                    .frame_at(now_us as f64 + HORIZON_US - self.offset_us)
                    - delay
            }
            Timeline::JackFrames { offset, now } => {
                now + HORIZON_US * f64::from(self.rate) / 1e6 - offset - self.offset_frames()
            }
        }
    }

    fn offset_frames(&self) -> f64 {
        self.offset_us * f64::from(self.rate) / 1e6
    }

    /// The port's time of a sequencer frame.
    fn time_of(&self, frame: f64) -> f64 {
        match self.timeline {
            Timeline::Micros { delay } => self.frames.time_of(frame + delay) + self.offset_us,
            Timeline::JackFrames { offset, .. } => frame + offset + self.offset_frames(),
        }
    }

    /// Generates every message up to the sequencer frame `horizon`.
    fn generate(&mut self, horizon: i64) {
        let mut framed = std::mem::take(&mut self.framed);
        self.em.generate(horizon, &mut framed);
        self.send_framed(&mut framed);
        self.framed = framed;
    }

    /// Times the emitter's messages and queues them, in the order they came.
    fn send_framed(&mut self, framed: &mut Vec<Framed>) {
        for (frame, bytes, len) in framed.drain(..) {
            let at = self.time_of(frame);
            self.push(at, &bytes[..len]);
        }
    }

    fn set_clock(&mut self, on: bool) {
        self.em.set_clock(on);
        if let Ok(mut s) = self.status.lock() {
            s.clock = on;
        }
    }

    /// Hands over every message due by `until`, in time order.
    fn release(&mut self, until: u64) {
        if self.due.is_empty() {
            return;
        }
        self.due.sort_by_key(|&(at, order, _)| (at, order));
        let ready = self
            .due
            .iter()
            .take_while(|(at, _, _)| *at <= until)
            .count();
        for (_, _, msg) in self.due.drain(..ready) {
            if !self.ports.send(msg) {
                self.dropped += 1;
            }
        }
    }

    /// Sleeps until the next message is due or a millisecond passes; spins the last moments
    /// so a message sent when due (ALSA) leaves within microseconds of its time.
    fn wait(&self) {
        let now = now_us();
        let next_due = if self.ports.places_itself() {
            u64::MAX
        } else {
            self.due
                .iter()
                .map(|(at, _, _)| *at)
                .min()
                .unwrap_or(u64::MAX)
        };
        let until = next_due.min(now + TICK_US);
        if until > now + SPIN_US {
            std::thread::sleep(Duration::from_micros(until - now - SPIN_US));
        }
        while now_us() < until {
            std::hint::spin_loop();
        }
    }

    /// Note-offs for everything due or sounding, and a clock stop, sent now.
    fn finish(&mut self) {
        let now = match self.timeline {
            Timeline::JackFrames { .. } => self.ports.jack_now().unwrap_or(0),
            Timeline::Micros { .. } => now_us(),
        };
        let mut offs: Vec<Timed> = self
            .due
            .drain(..)
            .map(|(_, _, m)| m)
            .filter(|m| m.bytes[0] & 0xF0 == 0x80)
            .map(|m| Timed { at_us: now, ..m })
            .collect();
        let mut voiced = Vec::new();
        self.em.voicer.release(&mut voiced);
        offs.extend(voiced.iter().map(|(_, m)| Timed::new(now, m)));
        if matches!(self.em.clock, ClockState::On | ClockState::Stopping) {
            offs.push(Timed::new(now, &[clock::STOP]));
        }
        for m in offs {
            self.ports.send(m);
        }
        // JACK writes what it was handed up to its lead ahead, then these: wait for that.
        std::thread::sleep(Duration::from_micros(HORIZON_US as u64) + Duration::from_millis(60));
    }
}

impl Emitter {
    fn new(map: NoteMap, clock: bool) -> Self {
        Emitter {
            seq: None,
            voicer: Voicer::new(map),
            ticks: None,
            clock: if clock {
                ClockState::Starting
            } else {
                ClockState::Off
            },
            started_once: false,
            scratch: Vec::new(),
        }
    }

    /// Starts the timeline at `cycle_start` with the plans sent so far.
    fn begin(&mut self, rate: u32, cycle_start: f64, plans: Vec<CyclePlan>) {
        let mut seq = Sequencer::new(rate as f32);
        seq.advance_to(cycle_start.round() as i64);
        for plan in plans {
            seq.queue(plan);
        }
        self.ticks = Some(Ticks {
            start: cycle_start.round(),
            samples_per_step: seq.position().samples_per_step,
            next: 0,
            song_steps: 0,
        });
        self.seq = Some(seq);
    }

    /// The transport stopped at `frame`: the notes end and the clock stops.
    fn stop(&mut self, frame: f64, out: &mut Vec<Framed>) {
        self.ticks = None;
        let mut voiced = Vec::new();
        self.voicer.release(&mut voiced);
        for (_, msg) in voiced {
            emit(out, frame, &msg);
        }
        if matches!(self.clock, ClockState::On | ClockState::Stopping) {
            emit(out, frame, &[clock::STOP]);
            self.clock = ClockState::Starting;
        }
        self.started_once = false;
    }

    /// The transport started again with a new cycle at `cycle_start` (the clock from the top).
    fn restart(&mut self, cycle_start: f64) {
        let Some(seq) = &mut self.seq else { return };
        seq.advance_to(cycle_start.round() as i64);
        if seq.restart() {
            self.ticks = Some(Ticks {
                start: cycle_start.round(),
                samples_per_step: seq.position().samples_per_step,
                next: 0,
                song_steps: 0,
            });
        }
    }

    /// Every message up to the sequencer frame `horizon`.
    fn generate(&mut self, horizon: i64, out: &mut Vec<Framed>) {
        loop {
            let Some(seq) = &mut self.seq else { return };
            if horizon <= seq.frame() {
                return;
            }
            let Some((frame, kind)) = seq.next_event(horizon) else {
                seq.advance_to(horizon);
                self.clock_until(horizon as f64, out);
                return;
            };
            let pos = seq.position();
            if kind == EventKind::CycleStart {
                self.clock_until(frame as f64, out);
                let song_steps = self.ticks.map_or(0, |t| t.song_steps + STEPS as u64);
                self.ticks = Some(Ticks {
                    start: frame as f64,
                    samples_per_step: pos.samples_per_step,
                    next: 0,
                    song_steps,
                });
                continue;
            }
            // The clock at this very frame (a start and its song position) goes first.
            self.clock_until(frame as f64, out);
            let mut voiced = std::mem::take(&mut self.scratch);
            self.voicer.event(kind, &mut voiced);
            for (d, msg) in voiced.drain(..) {
                emit(out, frame as f64 + d * pos.samples_per_step, &msg);
            }
            self.scratch = voiced;
        }
    }

    /// Clock messages of the current cycle at or before sequencer frame `end`.
    fn clock_until(&mut self, end: f64, out: &mut Vec<Framed>) {
        let Some(mut t) = self.ticks else { return };
        let per_cycle = STEPS as u32 * TICKS_PER_STEP;
        while t.next < per_cycle {
            let frame =
                t.start + f64::from(t.next) * t.samples_per_step / f64::from(TICKS_PER_STEP);
            if frame > end {
                break;
            }
            match self.clock {
                ClockState::Off => {}
                ClockState::Starting => {
                    if t.next % TICKS_PER_STEP == 0 {
                        let steps = t.song_steps + u64::from(t.next / TICKS_PER_STEP);
                        if !self.started_once && steps == 0 {
                            emit(out, frame, &clock::song_position(0));
                            emit(out, frame, &[clock::START]);
                        } else {
                            emit(out, frame, &clock::song_position(steps));
                            emit(out, frame, &[clock::CONTINUE]);
                        }
                        self.started_once = true;
                        self.clock = ClockState::On;
                        emit(out, frame, &[clock::CLOCK]);
                    }
                }
                ClockState::On => emit(out, frame, &[clock::CLOCK]),
                ClockState::Stopping => {
                    emit(out, frame, &[clock::STOP]);
                    self.clock = ClockState::Off;
                }
            }
            t.next += 1;
        }
        self.ticks = Some(t);
    }

    fn set_clock(&mut self, on: bool) {
        self.clock = match (on, self.clock) {
            (true, ClockState::Off | ClockState::Stopping) => ClockState::Starting,
            (true, s) => s,
            (false, ClockState::Starting) => ClockState::Off,
            (false, ClockState::On) => ClockState::Stopping,
            (false, s) => s,
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pattern::{Bassline, DrumCell, DrumPattern, Voice};

    #[test]
    fn drums_and_bass_become_notes_with_offs() {
        let mut p = DrumPattern::new();
        p.set(Voice::Kick, 0, DrumCell::hit(1.0, 0.0));
        p.set(Voice::Snare, 4, DrumCell::hit(0.5, 0.0));
        let line = Bassline::parse("A1 - C2 . . . . . . . . . . . . .", 33).unwrap();
        let plan = CyclePlan::new(&p, &line, 33, 120.0, 50.0);
        // 120 BPM at 48 kHz: 6,000 frames a step; one cycle.
        let events = render_events(&plan, &NoteMap::default(), 48_000, 32 * 6_000);
        let expect: Vec<(f64, [u8; 3])> = vec![
            (0.0, [0x99, 36, 127]),
            (0.0, [0x90, 33, 95]),
            (1_500.0, [0x89, 36, 0]),
            (12_000.0, [0x90, 36, 95]),
            (12_000.0, [0x80, 33, 0]),
            (16_500.0, [0x80, 36, 0]),
            (24_000.0, [0x99, 38, 64]),
            (25_500.0, [0x89, 38, 0]),
            // A 16-step line plays twice a cycle.
            (96_000.0, [0x90, 33, 95]),
            (108_000.0, [0x90, 36, 95]),
            (108_000.0, [0x80, 33, 0]),
            (112_500.0, [0x80, 36, 0]),
        ];
        assert_eq!(events, expect);
    }

    #[test]
    fn start_and_song_position_go_out_before_the_first_note_of_their_frame() {
        let mut p = DrumPattern::new();
        p.set(Voice::Kick, 0, DrumCell::hit(1.0, 0.0));
        let line = Bassline::parse("A1 . . . . . . . . . . . . . . .", 33).unwrap();
        let plan = CyclePlan::new(&p, &line, 33, 120.0, 50.0);
        let mut em = Emitter::new(NoteMap::default(), true);
        em.begin(48_000, 1_000.0, vec![plan]);
        let mut out = Vec::new();
        // In slices, as the scheduler generates: the first ends right after the downbeat.
        for horizon in [1_001, 4_000, 20_000] {
            em.generate(horizon, &mut out);
        }
        let first: Vec<(f64, &[u8])> = out
            .iter()
            .filter(|(f, _, _)| *f == 1_000.0)
            .map(|(f, b, n)| (*f, &b[..*n]))
            .collect();
        assert_eq!(
            first,
            [
                (1_000.0, &clock::song_position(0)[..]),
                (1_000.0, &[clock::START][..]),
                (1_000.0, &[clock::CLOCK][..]),
                (1_000.0, &[0x99, 36, 127][..]),
                (1_000.0, &[0x90, 33, 95][..]),
            ]
        );
        // 24 clocks a quarter note: a tick every 1,000 frames at 120 BPM and 48 kHz.
        let ticks = out
            .iter()
            .filter(|(_, b, n)| b[..*n] == [clock::CLOCK])
            .count();
        assert_eq!(ticks, 20);
    }
}
