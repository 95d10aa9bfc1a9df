//! A cycle compiled for the audio thread: a sorted list of timed events.
//!
//! The engine compiles patterns, swing and tempo into a [`CyclePlan`] off the audio thread;
//! the sequencer only walks it. A plan is a fixed-size value, so handing it over allocates
//! nothing.

use super::params::Params;
use crate::pattern::{ACCENT_THRESHOLD, BassStep, Bassline, DrumPattern, STEPS, Voice};

/// Lowest tempo the sequencer plays, in BPM.
pub const MIN_BPM: f32 = 40.0;
/// Highest tempo the sequencer plays, in BPM.
pub const MAX_BPM: f32 = 240.0;
/// Swing value that plays straight sixteenths (MPC-style percent).
pub const STRAIGHT_SWING: f32 = 50.0;
/// Heaviest swing, in percent (off-beat sixteenths half a step late).
pub const MAX_SWING: f32 = 75.0;
/// How long a bass note sounds within its last step, as a fraction of a step.
pub const BASS_GATE: f32 = 0.75;

const MAX_EVENTS: usize = STEPS * Voice::COUNT + 2 * STEPS;

/// What happens at an event.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum EventKind {
    /// A drum hit.
    Drum {
        /// Which drum.
        voice: Voice,
        /// Loudness 0..1.
        velocity: f32,
    },
    /// A bass note starts.
    BassOn {
        /// MIDI note number.
        note: u8,
        /// Loudness 0..1.
        velocity: f32,
        /// Accented note.
        accent: bool,
        /// Glides from the sounding note instead of retriggering.
        slide: bool,
    },
    /// The bass note ends.
    BassOff,
    /// A new cycle begins (the sequencer emits this at every boundary).
    CycleStart,
}

/// An event at a time in steps from the start of its cycle (may lie slightly before 0 or
/// after 32 when micro-timing pushes a hit across the boundary).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Event {
    /// Time in steps from the cycle start.
    pub time: f32,
    /// What happens.
    pub kind: EventKind,
}

/// One compiled cycle: tempo plus its events sorted by time.
#[derive(Debug, Clone, Copy)]
pub struct CyclePlan {
    tempo_bpm: f32,
    params: Option<Params>,
    events: [Event; MAX_EVENTS],
    len: usize,
}

impl Default for CyclePlan {
    fn default() -> Self {
        CyclePlan {
            tempo_bpm: 120.0,
            params: None,
            events: [Event {
                time: 0.0,
                kind: EventKind::BassOff,
            }; MAX_EVENTS],
            len: 0,
        }
    }
}

/// Delay of a step caused by swing, in steps (only odd sixteenths move).
pub fn swing_delay(step: usize, swing_percent: f32) -> f32 {
    if step % 2 == 1 {
        (swing_percent.clamp(STRAIGHT_SWING, MAX_SWING) / 100.0 - 0.5) * 2.0
    } else {
        0.0
    }
}

impl CyclePlan {
    /// Compiles a cycle. `bass_tonic` is the MIDI note the bassline's pitches are relative to;
    /// tempo is clamped to 40–240 BPM and swing to 50–75 %.
    pub fn new(
        drums: &DrumPattern,
        bass: &Bassline,
        bass_tonic: u8,
        tempo_bpm: f32,
        swing_percent: f32,
    ) -> Self {
        let mut plan = CyclePlan {
            tempo_bpm: tempo_bpm.clamp(MIN_BPM, MAX_BPM),
            ..CyclePlan::default()
        };
        for voice in Voice::ALL {
            for (step, cell) in drums.row(voice).iter().enumerate() {
                if cell.hit && cell.velocity > 0.0 {
                    plan.push(
                        step as f32 + swing_delay(step, swing_percent) + cell.offset,
                        EventKind::Drum {
                            voice,
                            velocity: cell.velocity,
                        },
                    );
                }
            }
        }
        plan.compile_bass(bass, bass_tonic, swing_percent);
        plan.events[..plan.len].sort_by(|a, b| a.time.total_cmp(&b.time));
        plan
    }

    fn compile_bass(&mut self, bass: &Bassline, tonic: u8, swing_percent: f32) {
        let steps = &bass.steps;
        for (step, s) in steps.iter().enumerate() {
            let BassStep::Note { pitch, velocity } = *s else {
                continue;
            };
            let after_hold = step > 0 && steps[step - 1] == BassStep::Hold;
            let note = (i32::from(tonic) + i32::from(pitch)).clamp(0, 127) as u8;
            self.push(
                step as f32 + swing_delay(step, swing_percent),
                EventKind::BassOn {
                    note,
                    velocity,
                    accent: velocity >= ACCENT_THRESHOLD,
                    slide: after_hold,
                },
            );
            let holds = steps[step + 1..]
                .iter()
                .take_while(|s| **s == BassStep::Hold)
                .count();
            let next = step + 1 + holds;
            let slides_on = holds > 0 && matches!(steps.get(next), Some(BassStep::Note { .. }));
            if !slides_on {
                let last = (step + holds) as f32;
                self.push(
                    (last + BASS_GATE).min(STEPS as f32 - 0.05),
                    EventKind::BassOff,
                );
            }
        }
    }

    fn push(&mut self, time: f32, kind: EventKind) {
        if self.len < MAX_EVENTS {
            self.events[self.len] = Event { time, kind };
            self.len += 1;
        }
    }

    /// Makes the sound, mixer and effect settings change exactly when this cycle starts.
    pub fn with_params(mut self, params: Params) -> Self {
        self.params = Some(params);
        self
    }

    /// Replaces the settings this cycle would bring, if it brings any.
    pub fn refresh_params(&mut self, params: &Params) {
        if let Some(p) = &mut self.params {
            *p = *params;
        }
    }

    /// Settings that take effect when this cycle starts, if any.
    pub fn params(&self) -> Option<&Params> {
        self.params.as_ref()
    }

    /// The same events without settings (what a repeat of this cycle plays).
    pub fn repeated(&self) -> Self {
        CyclePlan {
            params: None,
            ..*self
        }
    }

    /// Tempo of this cycle in BPM.
    pub fn tempo_bpm(&self) -> f32 {
        self.tempo_bpm
    }

    /// The events, sorted by time.
    pub fn events(&self) -> &[Event] {
        &self.events[..self.len]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pattern::DrumCell;

    #[test]
    fn events_sorted_with_swing_and_offsets() {
        let mut p = DrumPattern::new();
        p.set(Voice::Kick, 0, DrumCell::hit(1.0, -0.2));
        p.set(Voice::ClosedHat, 1, DrumCell::hit(0.5, 0.0));
        p.set(Voice::Snare, 4, DrumCell::hit(0.9, 0.1));
        let plan = CyclePlan::new(&p, &Bassline::default(), 33, 120.0, 62.5);
        let times: Vec<f32> = plan.events().iter().map(|e| e.time).collect();
        assert_eq!(times, vec![-0.2, 1.25, 4.1]);
    }

    #[test]
    fn bass_holds_slides_and_gates() {
        let line = Bassline::parse("A1 - C2 . A1 A1 . . . . . . . . . .", 33).unwrap();
        let plan = CyclePlan::new(&DrumPattern::new(), &line, 33, 120.0, 50.0);
        let bass: Vec<(f32, EventKind)> = plan
            .events()
            .iter()
            .filter(|e| e.time < 16.0)
            .map(|e| (e.time, e.kind))
            .collect();
        let on = |note, slide| EventKind::BassOn {
            note,
            velocity: 0.75,
            accent: false,
            slide,
        };
        assert_eq!(
            bass,
            vec![
                (0.0, on(33, false)),
                (2.0, on(36, true)),
                (2.75, EventKind::BassOff),
                (4.0, on(33, false)),
                (4.75, EventKind::BassOff),
                (5.0, on(33, false)),
                (5.75, EventKind::BassOff),
            ]
        );
    }
}
