//! Basslines: 32 steps of rest / hold / note, pitched relative to the set's key.
//!
//! Written form (scene files): whitespace-separated tokens, one per step: `.` rest, `-` hold
//! (the previous note keeps sounding; a note right after a hold slides into it), a note name
//! such as `A1`, `C#2` or `Eb1`, with `!` for an accent (`A1!`). `|` tokens are ignored. Sixteen
//! tokens are repeated to fill both bars.

use serde::{Deserialize, Serialize};
use thiserror::Error;

use super::{STEPS, STEPS_PER_BAR, note_name, parse_note_name};

/// Velocity of a written note.
pub const NOTE_VELOCITY: f32 = 0.75;
/// Velocity of an accented note; the synth accents from [`ACCENT_THRESHOLD`] up.
pub const ACCENT_VELOCITY: f32 = 1.0;
/// Velocities at or above this play accented.
pub const ACCENT_THRESHOLD: f32 = 0.9;

/// Why a written bassline cannot be read. The message is one line.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum BasslineError {
    /// The first step is a hold, with no note before it.
    #[error("a bassline cannot start with a hold (-)")]
    StartsWithHold,
    /// A token that is neither `.`, `-` nor a note name.
    #[error("step {step}: {} is not a note (use . - A1 C#2 Eb1!)", crate::text::quote(.token))]
    NotANote {
        /// The step, from 1.
        step: usize,
        /// What was written.
        token: String,
    },
    /// A note more than an `i8` of semitones away from the tonic.
    #[error("step {step}: {} is too far from the key", crate::text::quote(.token))]
    TooFar {
        /// The step, from 1.
        step: usize,
        /// What was written.
        token: String,
    },
    /// Neither 16 nor 32 steps.
    #[error("a bassline has 16 or 32 steps, this one has {0}")]
    Length(usize),
}

/// One step of a bassline.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub enum BassStep {
    /// Silence.
    #[default]
    Rest,
    /// The previous note goes on sounding.
    Hold,
    /// A new note.
    Note {
        /// Semitones above the key's tonic in the bass octave (may be negative).
        pitch: i8,
        /// Loudness 0..1; from [`ACCENT_THRESHOLD`] up the note is accented.
        velocity: f32,
    },
}

/// A two-bar bassline.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Bassline {
    /// The 32 steps.
    pub steps: [BassStep; STEPS],
}

impl Bassline {
    /// Parses the written form, with note names taken relative to `tonic_midi`.
    pub fn parse(text: &str, tonic_midi: u8) -> Result<Bassline, BasslineError> {
        let mut steps = [BassStep::Rest; STEPS];
        let mut n = 0usize;
        for token in text.split_whitespace().filter(|t| *t != "|") {
            let step = match token {
                "." => BassStep::Rest,
                "-" => {
                    if n == 0 {
                        return Err(BasslineError::StartsWithHold);
                    }
                    BassStep::Hold
                }
                note => {
                    let (name, velocity) = match note.strip_suffix('!') {
                        Some(name) => (name, ACCENT_VELOCITY),
                        None => (note, NOTE_VELOCITY),
                    };
                    let midi = parse_note_name(name).ok_or_else(|| BasslineError::NotANote {
                        step: n + 1,
                        token: note.into(),
                    })?;
                    let pitch =
                        i8::try_from(i32::from(midi) - i32::from(tonic_midi)).map_err(|_| {
                            BasslineError::TooFar {
                                step: n + 1,
                                token: note.into(),
                            }
                        })?;
                    BassStep::Note { pitch, velocity }
                }
            };
            if n < STEPS {
                steps[n] = step;
            }
            n += 1;
        }
        match n {
            STEPS_PER_BAR => {
                let (first, second) = steps.split_at_mut(STEPS_PER_BAR);
                second.copy_from_slice(first);
            }
            STEPS => {}
            other => return Err(BasslineError::Length(other)),
        }
        Ok(Bassline { steps })
    }

    /// Writes the line with note names for the given tonic, a `|` between the bars.
    pub fn format(&self, tonic_midi: u8) -> String {
        let tokens: Vec<String> = self
            .steps
            .iter()
            .enumerate()
            .flat_map(|(i, step)| {
                let bar = (i == STEPS_PER_BAR).then(|| "|".to_string());
                let token = match *step {
                    BassStep::Rest => ".".to_string(),
                    BassStep::Hold => "-".to_string(),
                    BassStep::Note { pitch, velocity } => {
                        let midi = (i32::from(tonic_midi) + i32::from(pitch)).clamp(0, 127) as u8;
                        let accent = if velocity >= ACCENT_THRESHOLD {
                            "!"
                        } else {
                            ""
                        };
                        format!("{}{accent}", note_name(midi))
                    }
                };
                bar.into_iter().chain(std::iter::once(token))
            })
            .collect();
        tokens.join(" ")
    }

    /// Number of notes started.
    pub fn note_count(&self) -> usize {
        self.steps
            .iter()
            .filter(|s| matches!(s, BassStep::Note { .. }))
            .count()
    }

    /// The same line moved by `semitones` (pitches saturate at the i8 range).
    pub fn transposed(&self, semitones: i8) -> Bassline {
        let mut out = *self;
        for step in &mut out.steps {
            if let BassStep::Note { pitch, .. } = step {
                *pitch = pitch.saturating_add(semitones);
            }
        }
        out
    }

    /// Pitches of the notes, relative to the tonic, for key-aware checks.
    pub fn pitches(&self) -> impl Iterator<Item = i8> + '_ {
        self.steps.iter().filter_map(|s| match s {
            BassStep::Note { pitch, .. } => Some(*pitch),
            _ => None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_format() {
        let line = "A1 . A1! - . C2 G1 - | . A1 . . E1 . G1 .";
        let b = Bassline::parse(line, 33).unwrap();
        assert_eq!(
            b.steps[0],
            BassStep::Note {
                pitch: 0,
                velocity: NOTE_VELOCITY
            }
        );
        assert_eq!(b.steps[3], BassStep::Hold);
        assert_eq!(
            b.steps[5],
            BassStep::Note {
                pitch: 3,
                velocity: NOTE_VELOCITY
            }
        );
        assert_eq!(
            b.steps[16 + 12],
            BassStep::Note {
                pitch: -5,
                velocity: NOTE_VELOCITY
            }
        );
        let again = Bassline::parse(&b.format(33), 33).unwrap();
        assert_eq!(again, b);
    }

    #[test]
    fn errors() {
        assert!(Bassline::parse("- A1", 33).is_err());
        assert!(
            Bassline::parse("A1 . . .", 33)
                .unwrap_err()
                .to_string()
                .contains("16 or 32")
        );
        assert!(
            Bassline::parse("A1 Q2 . . . . . . . . . . . . . .", 33)
                .unwrap_err()
                .to_string()
                .contains("step 2")
        );
    }
}
