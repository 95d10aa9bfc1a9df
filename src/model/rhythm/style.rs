//! How a run of drum windows plays, measured the same way for a drummer's windows and for
//! the cycles a rendered set played: how many windows are distinct, how much one window
//! changes into the next, how loud the kick is, how the kick count varies, how syncopated
//! the kick, snare and toms are, how often toms and cymbals play and whether the hits sit
//! early or late on average. A drummer's windows move; a loop that stands still does not.

use serde::Serialize;

use crate::midifile::velocity_to_midi;
use crate::pattern::{DrumPattern, STEPS, Voice};

/// Statistics of runs of two-bar drum windows.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct GrooveStats {
    /// Windows measured.
    pub windows: usize,
    /// Distinct windows (by their hits, every voice and step) as a share of the windows.
    pub distinct_share: f64,
    /// Mean number of cells (voice × step) whose hit differs from the window before, over
    /// consecutive windows of a run.
    pub mean_change: f64,
    /// Median MIDI velocity (1..127) of the kick's hits.
    pub kick_velocity_median: f64,
    /// Standard deviation of the kick count per window.
    pub kick_count_sd: f64,
    /// Mean syncopation a window (Longuet-Higgins & Lee, over the kick, snare and toms as
    /// one line): the metrical weight a silent stronger position has over the hit before it.
    pub syncopation: f64,
    /// Tom hits a window.
    pub toms: f64,
    /// Crash and ride hits a window.
    pub cymbals: f64,
    /// Mean micro-timing offset of all hits, in sixteenths (negative: early).
    pub mean_offset: f64,
    /// Share of the windows that play the most common kick row (1: one kick figure all
    /// along).
    pub kick_row_mode_share: f64,
}

/// Metrical weight of a sixteenth of a 4/4 bar (Longuet-Higgins & Lee): 0 on the bar's
/// one, −1 on three, −2 on two and four, −3 on the off-beat eighths, −4 on the sixteenths.
fn weight(step: usize) -> i32 {
    match step % 16 {
        0 => 0,
        8 => -1,
        4 | 12 => -2,
        s if s % 2 == 0 => -3,
        _ => -4,
    }
}

/// Syncopation of one window's kick, snare and toms (as one line, the window repeating).
pub fn syncopation(pattern: &DrumPattern) -> u32 {
    let line = [
        Voice::Kick,
        Voice::Snare,
        Voice::LowTom,
        Voice::MidTom,
        Voice::HighTom,
    ];
    let onsets: Vec<usize> = (0..STEPS)
        .filter(|&s| line.iter().any(|&v| pattern.get(v, s).hit))
        .collect();
    let mut total = 0;
    for (i, &at) in onsets.iter().enumerate() {
        let next = onsets.get(i + 1).copied().unwrap_or(onsets[0] + STEPS);
        let strongest_rest = (at + 1..next).map(weight).max();
        if let Some(rest) = strongest_rest.filter(|&w| w > weight(at)) {
            total += (rest - weight(at)).unsigned_abs();
        }
    }
    total
}

/// The hit cells of a window, voice-major.
fn hits(pattern: &DrumPattern) -> [bool; Voice::COUNT * STEPS] {
    let mut out = [false; Voice::COUNT * STEPS];
    for voice in Voice::ALL {
        for (step, cell) in pattern.row(voice).iter().enumerate() {
            out[voice.index() * STEPS + step] = cell.hit;
        }
    }
    out
}

/// Counts behind [`GrooveStats`].
#[derive(Debug, Clone, Default)]
pub struct GrooveTally {
    grids: Vec<[bool; Voice::COUNT * STEPS]>,
    pairs: usize,
    change: usize,
    kick_velocities: Vec<u8>,
    kick_rows: Vec<u32>,
    kick_counts: Vec<f64>,
    syncopation: u64,
    toms: usize,
    cymbals: usize,
    offsets: f64,
    hits: usize,
}

impl GrooveTally {
    /// Adds a run of consecutive windows (a rendered set's cycles, or a song's two-bar
    /// windows one after another).
    pub fn add_run(&mut self, run: &[DrumPattern]) {
        for (i, p) in run.iter().enumerate() {
            let grid = hits(p);
            if i > 0 {
                let before = hits(&run[i - 1]);
                self.change += grid.iter().zip(&before).filter(|(a, b)| a != b).count();
                self.pairs += 1;
            }
            self.grids.push(grid);
            let kicks = p.row(Voice::Kick).iter().filter(|c| c.hit);
            self.kick_velocities
                .extend(kicks.map(|c| velocity_to_midi(c.velocity)));
            self.kick_counts.push(p.count(Voice::Kick) as f64);
            let row = p.row(Voice::Kick).iter().enumerate();
            self.kick_rows
                .push(row.filter(|(_, c)| c.hit).map(|(s, _)| 1u32 << s).sum());
            self.syncopation += u64::from(syncopation(p));
            self.toms += [Voice::LowTom, Voice::MidTom, Voice::HighTom]
                .iter()
                .map(|&v| p.count(v))
                .sum::<usize>();
            self.cymbals += p.count(Voice::Crash) + p.count(Voice::Ride);
            for voice in Voice::ALL {
                for c in p.row(voice).iter().filter(|c| c.hit) {
                    self.offsets += f64::from(c.offset);
                    self.hits += 1;
                }
            }
        }
    }

    /// The statistics of everything added.
    pub fn stats(&self) -> GrooveStats {
        let n = self.grids.len();
        let windows = n.max(1) as f64;
        let mut distinct = self.grids.clone();
        distinct.sort_unstable();
        distinct.dedup();
        let distinct = distinct.len();
        let mut velocities = self.kick_velocities.clone();
        velocities.sort_unstable();
        let kick_velocity_median = match velocities.len() {
            0 => 0.0,
            m if m % 2 == 1 => f64::from(velocities[m / 2]),
            m => (f64::from(velocities[m / 2 - 1]) + f64::from(velocities[m / 2])) / 2.0,
        };
        let mean_kicks = self.kick_counts.iter().sum::<f64>() / windows;
        let variance = self
            .kick_counts
            .iter()
            .map(|k| (k - mean_kicks).powi(2))
            .sum::<f64>()
            / windows;
        let mut rows = self.kick_rows.clone();
        rows.sort_unstable();
        let mode = rows
            .chunk_by(|a, b| a == b)
            .map(<[u32]>::len)
            .max()
            .unwrap_or(0);
        GrooveStats {
            windows: n,
            kick_row_mode_share: mode as f64 / windows,
            distinct_share: distinct as f64 / windows,
            mean_change: self.change as f64 / self.pairs.max(1) as f64,
            kick_velocity_median,
            kick_count_sd: variance.sqrt(),
            syncopation: self.syncopation as f64 / windows,
            toms: self.toms as f64 / windows,
            cymbals: self.cymbals as f64 / windows,
            mean_offset: self.offsets / self.hits.max(1) as f64,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pattern::DrumCell;

    fn pattern(kicks: &[usize], snares: &[usize]) -> DrumPattern {
        let mut p = DrumPattern::new();
        for &s in kicks {
            p.set(Voice::Kick, s, DrumCell::hit(0.8, -0.1));
        }
        for &s in snares {
            p.set(Voice::Snare, s, DrumCell::hit(0.6, 0.1));
        }
        p
    }

    #[test]
    fn four_on_the_floor_is_not_syncopated_and_an_anticipated_one_is() {
        let floor = pattern(&[0, 4, 8, 12, 16, 20, 24, 28], &[]);
        assert_eq!(syncopation(&floor), 0);
        // A kick on the "and" of four, the next bar's one left silent: −3 → 0.
        let pushed = pattern(&[0, 4, 8, 14, 20, 24, 28], &[]);
        assert_eq!(syncopation(&pushed), 3);
    }

    #[test]
    fn a_run_that_stands_still_has_no_change_and_one_grid() {
        let a = pattern(&[0, 8, 16, 24], &[4, 12, 20, 28]);
        let b = pattern(&[0, 6, 16, 22], &[4, 12, 20, 28]);
        let mut still = GrooveTally::default();
        still.add_run(&[a, a, a, a]);
        let s = still.stats();
        assert_eq!((s.windows, s.distinct_share, s.mean_change), (4, 0.25, 0.0));
        assert_eq!(s.kick_velocity_median, 102.0);
        let mut moving = GrooveTally::default();
        moving.add_run(&[a, b, a]);
        let m = moving.stats();
        // Two distinct grids in three windows; a and b differ in 4 cells.
        assert!((m.distinct_share - 2.0 / 3.0).abs() < 1e-9);
        assert_eq!(m.mean_change, 4.0);
        assert!((m.kick_row_mode_share - 2.0 / 3.0).abs() < 1e-9);
        assert!(m.mean_offset.abs() < 0.1, "{}", m.mean_offset);
    }
}
