//! Time for MIDI: the monotonic microsecond clock every MIDI timestamp uses, the mapping from
//! the audio graph's frame counter to that clock, MIDI clock messages, and a follower that
//! reads a tempo from incoming clock ticks.

use std::collections::VecDeque;

/// MIDI clock ticks per quarter note.
pub const PPQN: u32 = 24;
/// Clock ticks per sixteenth-note step.
pub const TICKS_PER_STEP: u32 = PPQN / 4;

/// Timing clock (0xF8).
pub const CLOCK: u8 = 0xF8;
/// Start (0xFA): play from the top.
pub const START: u8 = 0xFA;
/// Continue (0xFB): play on from the song position.
pub const CONTINUE: u8 = 0xFB;
/// Stop (0xFC).
pub const STOP: u8 = 0xFC;
/// Song position pointer (0xF2, then a 14-bit count of sixteenths).
pub const SONG_POSITION: u8 = 0xF2;

/// Microseconds on the monotonic clock (`CLOCK_MONOTONIC`: the clock `Instant` and JACK's
/// `jack_get_time` read on Linux), so timestamps can cross thread and client boundaries.
pub fn now_us() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; CLOCK_MONOTONIC always exists.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    ts.tv_sec as u64 * 1_000_000 + ts.tv_nsec as u64 / 1_000
}

/// The song position pointer message for a position in sixteenths (wraps at 16384).
pub fn song_position(sixteenths: u64) -> [u8; 3] {
    let v = (sixteenths % 16_384) as u16;
    [SONG_POSITION, (v & 0x7F) as u8, (v >> 7) as u8]
}

/// How long the window of the smallest lateness lasts before a fresh one takes over (tracks
/// drift between the audio clock and the system clock).
const WINDOW_US: f64 = 2_000_000.0;

/// Maps frames of the audio graph to monotonic microseconds.
///
/// The audio thread publishes its frame counter after each buffer. Each first sight of a new
/// value says "frame F was reached no later than now", so `now − F / rate` is the time of
/// frame 0 plus a non-negative scheduling delay; the smallest such value over a sliding window
/// is the estimate (delays only ever add). Two windows overlap so the estimate never starts
/// from scratch.
#[derive(Debug, Clone)]
pub struct FrameClock {
    rate: f64,
    last_frame: u64,
    best: Option<f64>,
    candidate: Option<f64>,
    window_start: f64,
    period: u64,
}

impl FrameClock {
    /// A clock for a graph at `rate` frames per second.
    pub fn new(rate: u32) -> Self {
        FrameClock {
            rate: f64::from(rate.max(1)),
            last_frame: 0,
            best: None,
            candidate: None,
            window_start: 0.0,
            period: 0,
        }
    }

    /// Feeds the published frame counter as read at `now_us`.
    pub fn observe(&mut self, frame: u64, now_us: u64) {
        if frame == self.last_frame {
            return;
        }
        if frame > self.last_frame && self.last_frame > 0 {
            // The smallest step seen: a look that missed a buffer sees two.
            let step = frame - self.last_frame;
            self.period = if self.period == 0 {
                step
            } else {
                self.period.min(step)
            };
        }
        self.last_frame = frame;
        let origin = now_us as f64 - frame as f64 * 1e6 / self.rate;
        let now = now_us as f64;
        self.candidate = Some(self.candidate.map_or(origin, |c| c.min(origin)));
        match self.best {
            None => {
                self.best = Some(origin);
                self.window_start = now;
            }
            Some(b) => {
                self.best = Some(b.min(origin));
                if now - self.window_start > WINDOW_US {
                    self.best = self.candidate;
                    self.candidate = Some(origin);
                    self.window_start = now;
                }
            }
        }
    }

    /// Whether a frame has been seen.
    pub fn is_ready(&self) -> bool {
        self.best.is_some()
    }

    /// Frames in the audio thread's buffers: the smallest advance seen (0 before two
    /// observations).
    pub fn period_frames(&self) -> u64 {
        self.period
    }

    /// The time a (fractional) frame plays, in monotonic microseconds.
    pub fn time_of(&self, frame: f64) -> f64 {
        self.best.unwrap_or(0.0) + frame * 1e6 / self.rate
    }

    /// The (fractional) frame that plays at a time.
    pub fn frame_at(&self, us: f64) -> f64 {
        (us - self.best.unwrap_or(0.0)) * self.rate / 1e6
    }
}

/// How many tick intervals the tempo estimate averages (one beat).
const FOLLOW_WINDOW: usize = PPQN as usize;
/// Longest gap between ticks that still counts as a running clock (a 10 BPM clock).
const MAX_TICK_GAP_US: f64 = 250_000.0;
/// How far (relative) the two halves of the window may differ for the tempo to count as
/// locked.
const LOCK_TOLERANCE: f64 = 0.005;

/// What the incoming clock is doing.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Follow {
    /// Whether a start or continue was seen more recently than a stop.
    pub running: bool,
    /// Tempo read from the ticks (smoothed over a beat), once two ticks arrived.
    pub bpm: Option<f64>,
    /// Whether the estimate is steady (the two halves of the last beat agree within 0.5 %).
    pub locked: bool,
    /// Ticks since the last start.
    pub ticks: u64,
    /// Ticks after the start at which the estimate first locked.
    pub locked_after: Option<u64>,
}

/// Reads a tempo from incoming MIDI clock: the mean tick interval over the last beat, so
/// timestamp noise averages out and a tempo change is followed within one beat.
#[derive(Debug, Clone, Default)]
pub struct ClockFollower {
    last_tick: Option<u64>,
    intervals: VecDeque<f64>,
    sum: f64,
    state: Follow,
}

impl ClockFollower {
    /// A follower that has heard nothing.
    pub fn new() -> Self {
        Self::default()
    }

    /// Feeds one real-time message (`0xF8`, `0xFA`, `0xFB`, `0xFC`) received at `at_us`.
    /// Returns the new state when the message changed something a performer would see
    /// (transport, or a tempo estimate).
    pub fn feed(&mut self, status: u8, at_us: u64) -> Follow {
        match status {
            START => {
                self.reset();
                self.state.running = true;
                self.state.ticks = 0;
            }
            CONTINUE => self.state.running = true,
            STOP => {
                self.state.running = false;
                self.last_tick = None;
            }
            CLOCK => self.tick(at_us),
            _ => {}
        }
        self.state
    }

    fn reset(&mut self) {
        self.last_tick = None;
        self.intervals.clear();
        self.sum = 0.0;
        self.state.locked = false;
        self.state.locked_after = None;
    }

    fn tick(&mut self, at_us: u64) {
        self.state.ticks += 1;
        if let Some(last) = self.last_tick {
            let gap = at_us.saturating_sub(last) as f64;
            if gap > MAX_TICK_GAP_US || gap <= 0.0 {
                self.reset();
            } else {
                self.intervals.push_back(gap);
                self.sum += gap;
                if self.intervals.len() > FOLLOW_WINDOW {
                    self.sum -= self.intervals.pop_front().unwrap_or(0.0);
                }
                let mean = self.sum / self.intervals.len() as f64;
                let bpm = 60e6 / (mean * f64::from(PPQN));
                self.state.bpm = Some(bpm);
                self.state.locked = self.halves_agree();
                if self.state.locked && self.state.locked_after.is_none() {
                    self.state.locked_after = Some(self.state.ticks);
                }
            }
        }
        self.last_tick = Some(at_us);
    }

    /// Whether the older and newer halves of the window give the same tempo (needs half a
    /// beat of ticks).
    fn halves_agree(&self) -> bool {
        let n = self.intervals.len();
        if n < FOLLOW_WINDOW / 2 {
            return false;
        }
        let half = n / 2;
        let older: f64 = self.intervals.iter().take(half).sum::<f64>() / half as f64;
        let newer: f64 = self.intervals.iter().skip(n - half).sum::<f64>() / half as f64;
        ((older - newer) / older).abs() < LOCK_TOLERANCE
    }

    /// The current state.
    pub fn state(&self) -> Follow {
        self.state
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_clock_takes_the_earliest_sighting() {
        let mut c = FrameClock::new(48_000);
        // Buffers of 480 frames (10 ms) seen 0.3…2 ms late.
        let lateness = [300, 2_000, 900, 1_500, 400, 1_100];
        for (i, late) in lateness.iter().enumerate() {
            let frame = (i as u64 + 1) * 480;
            c.observe(frame, 1_000_000 + (i as u64 + 1) * 10_000 + late);
        }
        assert_eq!(c.period_frames(), 480);
        let t = c.time_of(48_000.0);
        assert!((t - 2_000_300.0).abs() < 1e-6, "{t}");
        assert!((c.frame_at(t) - 48_000.0).abs() < 1e-6);
    }

    #[test]
    fn follower_locks_to_120_bpm_within_two_beats() {
        let mut f = ClockFollower::new();
        f.feed(START, 0);
        let tick = 20_833; // 120 BPM: 500 ms / 24
        let mut locked_at = None;
        for i in 0..(4 * PPQN as u64) {
            // ±150 µs of timestamp noise
            let noise = [0i64, 150, -120, 80, -150, 30][(i % 6) as usize];
            let at = (i * tick) as i64 + noise;
            let s = f.feed(CLOCK, at as u64);
            if s.locked && locked_at.is_none() {
                locked_at = Some(i);
            }
        }
        let s = f.state();
        assert!((s.bpm.unwrap() - 120.0).abs() < 0.05, "{:?}", s.bpm);
        let at = locked_at.expect("locks");
        assert!(at <= 2 * u64::from(PPQN), "locked after {at} ticks");
        f.feed(STOP, 0);
        assert!(!f.state().running);
    }

    #[test]
    fn follower_follows_a_tempo_change_within_a_beat() {
        let mut f = ClockFollower::new();
        f.feed(START, 0);
        let mut t = 0u64;
        for _ in 0..48 {
            f.feed(CLOCK, t);
            t += 20_833;
        }
        for _ in 0..25 {
            f.feed(CLOCK, t);
            t += 25_000; // 100 BPM
        }
        assert!((f.state().bpm.unwrap() - 100.0).abs() < 0.05);
    }

    #[test]
    fn song_position_splits_fourteen_bits() {
        assert_eq!(song_position(0), [0xF2, 0, 0]);
        assert_eq!(song_position(130), [0xF2, 2, 1]);
    }
}
