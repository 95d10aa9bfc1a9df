//! Musical material: two-bar drum patterns and basslines.
//!
//! A cycle is two bars of sixteenth notes ([`STEPS`] = 32 steps). Drums use the nine
//! Magenta GrooVAE voice classes; every cell carries a hit flag, a velocity 0..1 and a
//! micro-timing offset of −0.5..0.5 step. Basslines are 32 steps of rest / hold / note,
//! with pitches relative to the set's key so a line follows a key change.

mod bassline;
mod drums;
pub mod grid;
mod key;

pub use bassline::{ACCENT_THRESHOLD, BassStep, Bassline, BasslineError};
pub use drums::{DrumCell, DrumPattern, Voice};
pub use grid::GridError;
pub use key::{Key, KeyError, Scale, note_name, parse_note_name};

/// Steps in one bar (sixteenth notes of a 4/4 bar).
pub const STEPS_PER_BAR: usize = 16;
/// Bars in one cycle.
pub const BARS_PER_CYCLE: usize = 2;
/// Steps in one cycle: the unit every pattern, bassline and loop is made of.
pub const STEPS: usize = STEPS_PER_BAR * BARS_PER_CYCLE;
