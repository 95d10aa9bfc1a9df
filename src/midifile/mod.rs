//! Standard MIDI files in and out (live MIDI ports are the `midi` module).
//!
//! - [`import`]: read a file (type 0 or 1, any PPQ, running status, tempo and meter maps) into a
//!   [`Song`] of drum hits and pitched notes, bounded in time and memory; and read a
//!   two-bar pattern file back into a [`DrumPattern`] and bassline.
//! - [`export`]: write a drum pattern, an optional bassline, its tonic and tempo as SMF type 1,
//!   or a whole performance's MIDI.
//! - [`quantise`]: a song's two bars from a given tick as a drum pattern or a bassline.
//! - [`drum_map`]: General MIDI and Roland TD-11 drum notes → the nine voices.
//! - [`key`]: the key and scale a stretch of a song is in, from its pitch classes.
//!
//! # Resolution
//! A cell's micro-timing offset is kept in units of 1/[`OFFSET_UNITS`] of a step and its
//! velocity in MIDI's 1/127 steps. [`EXPORT_PPQ`] gives exactly one tick per offset unit, so a
//! pattern whose values lie on that grid (every imported one does, see [`quantise_pattern`])
//! survives pattern → `.mid` → pattern bit for bit. Other values are rounded to the grid first.
//! Tempo is kept to 1/100 BPM ([`quantise_bpm`]).

pub mod drum_map;
pub mod export;
pub mod import;
pub mod key;
pub mod quantise;

use crate::pattern::{BassStep, Bassline, DrumCell, DrumPattern, Voice};

pub use drum_map::DrumMap;
pub use export::{BassPart, ExportError, PatternFile, export_pattern, write_pattern};
pub use import::{ImportOptions, Limits, Song, read_pattern, read_song};

/// Offset resolution: one step (a sixteenth) is this many units.
///
/// 480 = lcm of the step lengths of the common PPQs (96, 120, 192, 240, 384, 480, 960 → 24 … 240
/// ticks a step), so offsets read from files at those resolutions are exact.
pub const OFFSET_UNITS: i32 = 480;

/// Ticks per quarter note of exported files: one tick per offset unit.
pub const EXPORT_PPQ: u16 = (OFFSET_UNITS * 4) as u16;

/// Why a MIDI file could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MidiError {
    /// The bytes are not a well-formed standard MIDI file.
    #[error("not a valid MIDI file: {0}")]
    Parse(String),
    /// The file is larger than [`Limits::max_file_bytes`].
    #[error("file is too large ({bytes} bytes, limit {limit})")]
    TooLarge {
        /// Size of the file.
        bytes: u64,
        /// The limit.
        limit: u64,
    },
    /// The file has more events, notes or bars than the limits allow.
    #[error("file is too long: {0}")]
    TooLong(&'static str),
    /// SMPTE timecode timing, which has no beats to quantise to.
    #[error("SMPTE timecode timing is not supported")]
    Timecode,
    /// Type 2 files hold independent sequences, not one song.
    #[error("type 2 (sequential) files are not supported")]
    Sequential,
    /// A pattern file has no two-bar 4/4 start.
    #[error("the file does not start with two bars of 4/4")]
    NotFourFour,
}

/// Rounds a micro-timing offset to the MIDI offset grid, in units of 1/[`OFFSET_UNITS`] step,
/// within −0.5 ..< 0.5 step.
pub fn offset_units(offset: f32) -> i32 {
    let half = OFFSET_UNITS / 2;
    ((offset * OFFSET_UNITS as f32).round() as i32).clamp(-half, half - 1)
}

/// The offset of a number of units (the inverse of [`offset_units`] on the grid).
pub fn offset_from_units(units: i32) -> f32 {
    units as f32 / OFFSET_UNITS as f32
}

/// Rounds a velocity 0..1 to a MIDI velocity 1..=127 (a hit is never silent).
pub fn velocity_to_midi(velocity: f32) -> u8 {
    (velocity.clamp(0.0, 1.0) * 127.0).round().clamp(1.0, 127.0) as u8
}

/// The velocity 0..1 of a MIDI velocity.
pub fn velocity_from_midi(velocity: u8) -> f32 {
    f32::from(velocity.min(127)) / 127.0
}

/// Microseconds per quarter note of a tempo, as a MIDI tempo event holds it.
pub fn micros_per_beat(bpm: f32) -> Option<u32> {
    let micros = (60_000_000.0 / f64::from(bpm)).round();
    (micros.is_finite() && (1.0..=f64::from(0x00FF_FFFF)).contains(&micros))
        .then_some(micros as u32)
}

/// The tempo of a MIDI tempo event, rounded to 1/100 BPM so a tempo with two decimals survives
/// export and import unchanged.
pub fn bpm_from_micros(micros: u32) -> f32 {
    ((60_000_000.0 / f64::from(micros.max(1)) * 100.0).round() / 100.0) as f32
}

/// The tempo as MIDI carries it: what export then import gives (1/100 BPM).
pub fn quantise_bpm(bpm: f32) -> f32 {
    micros_per_beat(bpm).map_or(bpm, bpm_from_micros)
}

/// The pattern as MIDI can carry it: velocities on the 1/127 grid, offsets on the
/// 1/[`OFFSET_UNITS`] grid, cells without a hit cleared. Export then import gives exactly this.
pub fn quantise_pattern(pattern: &DrumPattern) -> DrumPattern {
    let mut out = DrumPattern::new();
    for voice in Voice::ALL {
        for (step, cell) in pattern.row(voice).iter().enumerate() {
            if cell.hit {
                out.set(voice, step, quantise_cell(cell));
            }
        }
    }
    out
}

fn quantise_cell(cell: &DrumCell) -> DrumCell {
    DrumCell {
        hit: true,
        velocity: velocity_from_midi(velocity_to_midi(cell.velocity)),
        offset: offset_from_units(offset_units(cell.offset)),
    }
}

/// The bassline as MIDI can carry it with this tonic: note velocities on the 1/127 grid, notes
/// outside the MIDI range and holds with no note before them turned into rests. Export then
/// import gives exactly this.
pub fn quantise_bassline(bass: &Bassline, tonic_midi: u8) -> Bassline {
    let mut out = *bass;
    let mut sounding = false;
    for step in &mut out.steps {
        match *step {
            BassStep::Rest => sounding = false,
            BassStep::Hold => {
                if !sounding {
                    *step = BassStep::Rest;
                }
            }
            BassStep::Note { pitch, velocity } => {
                sounding = (0..=127).contains(&(i16::from(tonic_midi) + i16::from(pitch)));
                *step = if sounding {
                    BassStep::Note {
                        pitch,
                        velocity: velocity_from_midi(velocity_to_midi(velocity)),
                    }
                } else {
                    BassStep::Rest
                };
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offset_grid_is_exact() {
        for units in -(OFFSET_UNITS / 2)..OFFSET_UNITS / 2 {
            assert_eq!(offset_units(offset_from_units(units)), units);
        }
        assert_eq!(offset_units(0.5), OFFSET_UNITS / 2 - 1);
        assert_eq!(offset_units(-0.7), -OFFSET_UNITS / 2);
    }

    #[test]
    fn velocity_grid_is_exact() {
        for v in 1..=127u8 {
            assert_eq!(velocity_to_midi(velocity_from_midi(v)), v);
        }
        assert_eq!(velocity_to_midi(0.0), 1);
    }
}
