//! A song's hits and notes → a two-bar drum pattern and bassline at a given start tick.
//!
//! Positions are computed in whole offset units (1/[`OFFSET_UNITS`] of a step) with integer
//! arithmetic, so the result does not depend on floating-point rounding: each hit goes to the
//! nearest sixteenth, its offset is −0.5 ..< 0.5 step, and when two hits of one voice land in
//! one cell the louder stays.

use super::import::Song;
use super::{OFFSET_UNITS, offset_from_units, velocity_from_midi};
use crate::pattern::{BassStep, Bassline, DrumCell, DrumPattern, STEPS};

const HALF: i64 = OFFSET_UNITS as i64 / 2;
const UNITS: i64 = OFFSET_UNITS as i64;
const CYCLE_UNITS: i64 = STEPS as i64 * UNITS;

/// Offset units from `start` to `tick` (a step is `ticks_per_beat / 4` ticks), rounded.
fn units_between(start: u64, tick: u64, ticks_per_beat: u32) -> i64 {
    let num = (i128::from(tick) - i128::from(start)) * i128::from(4 * UNITS);
    let den = i128::from(ticks_per_beat.max(1));
    let rounded = (2 * num + den).div_euclid(2 * den);
    i64::try_from(rounded).unwrap_or(if num < 0 { i64::MIN / 2 } else { i64::MAX / 2 })
}

/// The step a position in units rounds to, and the offset units left over (−HALF ..< HALF).
fn step_and_offset(units: i64) -> (i64, i64) {
    let step = (units + HALF).div_euclid(UNITS);
    (step, units - step * UNITS)
}

/// Ticks of half a step, rounded up: how far before a cycle a hit may lie and still count.
fn half_step_ticks(song: &Song) -> u64 {
    u64::from(song.ticks_per_beat).div_ceil(8)
}

/// The drum pattern of the two bars starting at `start`. Hits up to half a step before `start`
/// land on step 0 with a negative offset; with `wrap`, hits in the last half step of the cycle
/// do instead (a loop), otherwise they belong to the next cycle.
pub fn drum_pattern_at(song: &Song, start: u64, wrap: bool) -> DrumPattern {
    let cycle_ticks = song.ticks_per_bar() * 2;
    let from = if wrap {
        start
    } else {
        start.saturating_sub(half_step_ticks(song))
    };
    let to = start.saturating_add(cycle_ticks);
    let first = song.drums.partition_point(|h| h.tick < from);
    let mut pattern = DrumPattern::new();
    for hit in song.drums[first..].iter().take_while(|h| h.tick < to) {
        let mut units = units_between(start, hit.tick, song.ticks_per_beat);
        if wrap {
            units = units.rem_euclid(CYCLE_UNITS);
        }
        let (step, offset) = step_and_offset(units);
        let step = if wrap {
            step.rem_euclid(STEPS as i64)
        } else {
            step
        };
        let Ok(step) = usize::try_from(step) else {
            continue;
        };
        if step >= STEPS {
            continue;
        }
        let velocity = velocity_from_midi(hit.velocity);
        let cell = pattern.get(hit.voice, step);
        if !cell.hit || velocity > cell.velocity {
            pattern.set(
                hit.voice,
                step,
                DrumCell {
                    hit: true,
                    velocity,
                    offset: offset_from_units(offset as i32),
                },
            );
        }
    }
    pattern
}

/// One note of the reduced bass voice, in steps of the cycle.
#[derive(Debug, Clone, Copy)]
struct VoiceNote {
    start: i64,
    end: i64,
    pitch: u8,
    velocity: u8,
}

/// The bassline of the two bars starting at `start`, pitches relative to `tonic_midi`.
///
/// Bass notes are quantised to the nearest step (start and end), then reduced to one voice:
/// of notes starting together the lowest wins, and a higher note that starts while a lower one
/// sounds is dropped, while a lower one cuts the sounding note short. A note still sounding
/// from before the cycle is not carried over (the line cannot start with a hold).
pub fn bassline_at(song: &Song, start: u64, tonic_midi: u8) -> Bassline {
    let cycle_ticks = song.ticks_per_bar() * 2;
    let from = start.saturating_sub(half_step_ticks(song));
    let to = start.saturating_add(cycle_ticks);
    let first = song.notes.partition_point(|n| n.start < from);
    let mut notes: Vec<VoiceNote> = song.notes[first..]
        .iter()
        .take_while(|n| n.start < to)
        .filter(|n| n.bass)
        .filter_map(|n| {
            let (s, _) = step_and_offset(units_between(start, n.start, song.ticks_per_beat));
            let (e, _) = step_and_offset(units_between(start, n.end, song.ticks_per_beat));
            (0..STEPS as i64).contains(&s).then_some(VoiceNote {
                start: s,
                end: e.max(s + 1),
                pitch: n.pitch,
                velocity: n.velocity,
            })
        })
        .collect();
    notes.sort_by_key(|n| (n.start, n.pitch));
    let mut voice: Vec<VoiceNote> = Vec::with_capacity(notes.len());
    for note in notes {
        if let Some(last) = voice.last_mut() {
            if last.end > note.start {
                if last.start == note.start || last.pitch <= note.pitch {
                    continue;
                }
                last.end = note.start;
            }
        }
        voice.push(note);
    }
    let mut line = Bassline::default();
    for note in voice {
        let pitch = (i16::from(note.pitch) - i16::from(tonic_midi)) as i8;
        let first = note.start as usize;
        line.steps[first] = BassStep::Note {
            pitch,
            velocity: velocity_from_midi(note.velocity),
        };
        let end = (note.end.min(STEPS as i64)) as usize;
        for step in &mut line.steps[first + 1..end.max(first + 1)] {
            *step = BassStep::Hold;
        }
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounding_splits_at_half_a_step() {
        assert_eq!(step_and_offset(0), (0, 0));
        assert_eq!(step_and_offset(HALF - 1), (0, HALF - 1));
        assert_eq!(step_and_offset(HALF), (1, -HALF));
        assert_eq!(step_and_offset(-HALF), (0, -HALF));
        assert_eq!(step_and_offset(-HALF - 1), (-1, HALF - 1));
    }

    #[test]
    fn units_for_common_ppqs() {
        for ppq in [96u32, 120, 192, 240, 384, 480, 960, 1920] {
            let step = u64::from(ppq / 4);
            assert_eq!(units_between(1000 * step, 1003 * step, ppq), 3 * UNITS);
        }
        assert_eq!(units_between(100, 99, 480), -4);
    }
}
