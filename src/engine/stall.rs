//! The engine's watch on the audio clock: when wall time runs far ahead of the frames the
//! audio has played (the process was stopped, the machine stalled, the device's clock froze),
//! the cycle boundaries that should have sounded meanwhile were lost, and are counted late.
//!
//! The audio thread cannot see these itself: while it stands still it runs no code, and
//! afterwards it simply goes on from the frame where it stopped.

use std::time::Instant;

use crate::audio::Status;
use crate::pattern::STEPS;

/// How far the audio may fall behind wall time before it counts as a stall (buffers of any
/// size and a scheduler's hiccups stay well below it).
const STALL_S: f64 = 0.3;
/// A stall in progress: where the playhead stood in its cycle and how many of the boundaries
/// it cost were counted so far.
#[derive(Debug, Clone, Copy)]
struct Stall {
    position_s: f64,
    cycle_s: f64,
    counted: u64,
}

/// Compares the audio clock with wall time, one look at a time.
#[derive(Debug)]
pub struct StallWatch {
    epoch: Instant,
    /// The last look: wall time, and wall time minus audio time (seconds).
    last: Option<(f64, f64)>,
    /// Wall time minus audio time while the audio last kept up: a slow drift between the
    /// device's clock and the system's moves it along, and never adds up to a stall.
    rest: f64,
    stall: Option<Stall>,
}

impl StallWatch {
    /// A watch from `now` on.
    pub fn new(now: Instant) -> Self {
        StallWatch {
            epoch: now,
            last: None,
            rest: 0.0,
            stall: None,
        }
    }

    /// Looks at the audio clock at `now`; returns how many cycle boundaries were lost since
    /// the last look (each counted once, however long the stall lasts).
    pub fn look(&mut self, now: Instant, status: &Status) -> u64 {
        if status.sample_rate == 0 {
            return 0;
        }
        let wall = now.saturating_duration_since(self.epoch).as_secs_f64();
        let offset = wall - status.frame as f64 / f64::from(status.sample_rate);
        let Some((last_wall, last_offset)) = self.last.replace((wall, offset)) else {
            self.rest = offset;
            return 0;
        };
        // Standing still: wall time went on, the audio (mostly) did not.
        let growing = offset - last_offset > 0.5 * (wall - last_wall);
        if !status.playing || (!growing && self.stall.is_none()) {
            self.stall = None;
            self.rest = offset;
            return 0;
        }
        let stood = offset - self.rest;
        if self.stall.is_none() && stood <= STALL_S {
            return 0;
        }
        let stall = self.stall.get_or_insert_with(|| Stall {
            position_s: (status.frame as f64 - status.cycle_start).max(0.0)
                / f64::from(status.sample_rate),
            cycle_s: STEPS as f64 * 15.0 / f64::from(status.tempo_bpm.max(1.0)),
            counted: 0,
        });
        let lost = ((stall.position_s + stood) / stall.cycle_s) as u64;
        let new = lost.saturating_sub(stall.counted);
        stall.counted = stall.counted.max(lost);
        if !growing {
            // The audio runs again: the stall is over, and from here it keeps up.
            self.stall = None;
            self.rest = offset;
        }
        new
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    const RATE: u32 = 48_000;

    /// A playing status at `frame`, 120 BPM (a cycle is 4 s), its cycle starting at
    /// `cycle_start`.
    fn at(frame: u64, cycle_start: u64) -> Status {
        Status {
            frame,
            cycle_start: cycle_start as f64,
            tempo_bpm: 120.0,
            sample_rate: RATE,
            playing: true,
            ..Status::default()
        }
    }

    fn secs(s: f64) -> u64 {
        (s * f64::from(RATE)) as u64
    }

    #[test]
    fn a_clock_that_keeps_up_loses_nothing() {
        let t0 = Instant::now();
        let mut watch = StallWatch::new(t0);
        let mut lost = 0;
        // Five minutes in looks every 5 ms; the device delivers 256-frame buffers, and its
        // clock runs 0.1 % slow.
        for i in 0..60_000u64 {
            let wall = i as f64 * 0.005;
            let frame = (secs(wall * 0.999) / 256) * 256;
            lost += watch.look(t0 + Duration::from_secs_f64(wall), &at(frame, 0));
        }
        assert_eq!(lost, 0);
    }

    #[test]
    fn hiccups_shorter_than_a_stall_never_add_up_to_one() {
        let t0 = Instant::now();
        let mut watch = StallWatch::new(t0);
        let mut lost = 0;
        let mut behind = 0.0;
        // Every ten seconds the audio drops 0.2 s (a silent clock that was not scheduled).
        for i in 0..60_000u64 {
            let wall = i as f64 * 0.005;
            if i % 2_000 == 1_999 {
                behind += 0.2;
            }
            let frame = secs(wall - behind);
            lost += watch.look(t0 + Duration::from_secs_f64(wall), &at(frame, 0));
        }
        assert!(behind > 5.0);
        assert_eq!(lost, 0);
    }

    #[test]
    fn a_stopped_process_loses_the_boundaries_of_the_time_it_stood_still() {
        let t0 = Instant::now();
        let mut watch = StallWatch::new(t0);
        assert_eq!(watch.look(t0, &at(0, 0)), 0);
        assert_eq!(
            watch.look(t0 + Duration::from_secs(3), &at(secs(3.0), 0)),
            0
        );
        // Stopped at 3 s into a 4 s cycle for 5 s: the boundaries at 4 s and 8 s were lost.
        let back = t0 + Duration::from_secs(8);
        assert_eq!(watch.look(back, &at(secs(3.0), 0)), 2);
        // The audio goes on from where it stood: nothing more is lost.
        let mut more = 0;
        for i in 1..400u64 {
            let d = i as f64 * 0.005;
            more += watch.look(back + Duration::from_secs_f64(d), &at(secs(3.0 + d), 0));
        }
        assert_eq!(more, 0);
        // A second stop is counted on its own.
        let now = back + Duration::from_secs(2);
        let frame = secs(5.0);
        assert_eq!(watch.look(now, &at(frame, secs(4.0))), 0);
        assert_eq!(
            watch.look(now + Duration::from_secs(4), &at(frame, secs(4.0))),
            1
        );
    }

    #[test]
    fn a_frozen_clock_counts_each_boundary_once_as_it_passes() {
        let t0 = Instant::now();
        let mut watch = StallWatch::new(t0);
        let frozen = at(secs(1.0), 0);
        let mut total = 0;
        let mut when = Vec::new();
        for i in 0..=2_000u64 {
            let wall = 1.0 + i as f64 * 0.005;
            let lost = watch.look(t0 + Duration::from_secs_f64(wall), &frozen);
            if lost > 0 {
                when.push(wall);
            }
            total += lost;
        }
        // Frozen at 1 s for 10 s: the boundaries at 4 s, 8 s (and 12 s is not reached yet
        // after 11 s).
        assert_eq!(total, 2);
        assert!((when[0] - 4.0).abs() < 0.05, "{when:?}");
        assert!((when[1] - 8.0).abs() < 0.05, "{when:?}");
    }

    #[test]
    fn a_stopped_transport_loses_no_boundary() {
        let t0 = Instant::now();
        let mut watch = StallWatch::new(t0);
        let mut status = at(0, 0);
        status.playing = false;
        assert_eq!(watch.look(t0, &status), 0);
        assert_eq!(watch.look(t0 + Duration::from_secs(9), &status), 0);
        status.playing = true;
        assert_eq!(
            watch.look(
                t0 + Duration::from_secs(9) + Duration::from_millis(5),
                &status
            ),
            0
        );
    }
}
