//! How basslines move, measured the same way for a song's lines, the model's and those a
//! rendered set played: the share of notes on the tonic, of notes repeating the previous
//! pitch, notes a bar, the range a line spans, the pitch-class histogram and the share of
//! notes that start with a kick. A bassist's lines leave the tonic and move; a pedal does not.

use serde::Serialize;

use crate::pattern::{BassStep, Bassline, DrumPattern, STEPS, Voice};

/// Statistics of a set of basslines.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct LineStats {
    /// Lines (two-bar windows or cycles) measured.
    pub lines: usize,
    /// Notes they start.
    pub notes: usize,
    /// Share of notes whose pitch class is the key's tonic.
    pub tonic_share: f64,
    /// Share of notes (after a line's first) with the same pitch as the note before.
    pub repeated_ratio: f64,
    /// Notes a bar.
    pub notes_per_bar: f64,
    /// Mean span of a line, lowest to highest note, in semitones (lines with a note).
    pub range: f64,
    /// Share of notes of each pitch class, relative to the tonic (0 = tonic).
    pub pitch_classes: [f64; 12],
    /// Share of notes starting on a step with a kick.
    pub on_kick_share: f64,
}

impl LineStats {
    /// Half the L1 distance between two pitch-class histograms: 0 the same, 1 disjoint.
    pub fn pitch_class_distance(&self, other: &LineStats) -> f64 {
        self.pitch_classes
            .iter()
            .zip(&other.pitch_classes)
            .map(|(a, b)| (a - b).abs())
            .sum::<f64>()
            / 2.0
    }
}

/// Counts behind [`LineStats`].
#[derive(Debug, Clone, Copy, Default)]
pub struct StatsTally {
    lines: usize,
    bars: f64,
    notes: usize,
    tonic: usize,
    follow: usize,
    repeated: usize,
    ranged_lines: usize,
    range_sum: i64,
    pitch_classes: [usize; 12],
    on_kick: usize,
}

impl StatsTally {
    /// Adds a line of `bars` bars: its notes in order, each a pitch relative to the tonic
    /// and whether a kick starts with it.
    pub fn add_notes(&mut self, notes: &[(i32, bool)], bars: f64) {
        self.lines += 1;
        self.bars += bars;
        self.notes += notes.len();
        for (i, &(pitch, on_kick)) in notes.iter().enumerate() {
            let class = pitch.rem_euclid(12) as usize;
            self.pitch_classes[class] += 1;
            if class == 0 {
                self.tonic += 1;
            }
            if on_kick {
                self.on_kick += 1;
            }
            if i > 0 {
                self.follow += 1;
                if notes[i - 1].0 == pitch {
                    self.repeated += 1;
                }
            }
        }
        let (lo, hi) = notes
            .iter()
            .fold((i32::MAX, i32::MIN), |(lo, hi), &(p, _)| {
                (lo.min(p), hi.max(p))
            });
        if lo <= hi {
            self.ranged_lines += 1;
            self.range_sum += i64::from(hi - lo);
        }
    }

    /// Adds a two-bar line (pitches relative to the tonic) over its drums.
    pub fn add_line(&mut self, drums: &DrumPattern, line: &Bassline) {
        let kicks = drums.row(Voice::Kick);
        let notes: Vec<(i32, bool)> = line
            .steps
            .iter()
            .enumerate()
            .filter_map(|(step, s)| match s {
                BassStep::Note { pitch, .. } => Some((i32::from(*pitch), kicks[step].hit)),
                _ => None,
            })
            .collect();
        self.add_notes(&notes, STEPS as f64 / 16.0);
    }

    /// The statistics.
    pub fn stats(&self) -> LineStats {
        let ratio = |a: usize, b: usize| if b == 0 { 0.0 } else { a as f64 / b as f64 };
        let mut pitch_classes = [0.0; 12];
        for (share, &n) in pitch_classes.iter_mut().zip(&self.pitch_classes) {
            *share = ratio(n, self.notes);
        }
        LineStats {
            lines: self.lines,
            notes: self.notes,
            tonic_share: ratio(self.tonic, self.notes),
            repeated_ratio: ratio(self.repeated, self.follow),
            notes_per_bar: if self.bars > 0.0 {
                self.notes as f64 / self.bars
            } else {
                0.0
            },
            range: if self.ranged_lines == 0 {
                0.0
            } else {
                self.range_sum as f64 / self.ranged_lines as f64
            },
            pitch_classes,
            on_kick_share: ratio(self.on_kick, self.notes),
        }
    }
}

/// The statistics of two-bar lines over their drums.
pub fn line_stats<'a>(
    lines: impl IntoIterator<Item = (&'a DrumPattern, &'a Bassline)>,
) -> LineStats {
    let mut tally = StatsTally::default();
    for (drums, line) in lines {
        tally.add_line(drums, line);
    }
    tally.stats()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pedal_and_a_walking_line_measure_apart() {
        let mut drums = DrumPattern::new();
        for step in (0..STEPS).step_by(8) {
            drums.set(Voice::Kick, step, crate::pattern::DrumCell::hit(1.0, 0.0));
        }
        let pedal = Bassline::parse("C1 - C1 - C1 - C1 - C1 - C1 - C1 - C1 -", 24).unwrap();
        let walk = Bassline::parse("C1 . E1 . G1 . A1 . C2 . A1 . G1 . E1 .", 24).unwrap();
        let p = line_stats([(&drums, &pedal)]);
        assert_eq!((p.notes, p.tonic_share, p.repeated_ratio), (16, 1.0, 1.0));
        assert_eq!(
            (p.notes_per_bar, p.range, p.on_kick_share),
            (8.0, 0.0, 0.25)
        );
        let w = line_stats([(&drums, &walk)]);
        assert_eq!(
            (w.tonic_share, w.repeated_ratio, w.range),
            (0.25, 0.0, 12.0)
        );
        assert!((p.pitch_class_distance(&w) - 0.75).abs() < 1e-9);
        assert_eq!(p.pitch_class_distance(&p), 0.0);
    }
}
