//! What a load found, per split: the report behind `ubiq dataset stats`.
//!
//! The JSON keys are stable: `files`, `files_with_windows`, `files_with_pairs`, `drum_skips`
//! and `pair_skips` (reason key → files), `splits` (`train`, `validation`, `test`) and `total`,
//! each with `files`, `windows`, `sparse_windows`, `distinct_windows`, `pairs`,
//! `distinct_pairs`, `pairs_in_all_keys` and `hit_rate` (voice → share of steps hit in the
//! distinct windows); `cache` and `seconds`.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use super::extract::{FileOutcome, SkipReason};
use super::{BassPair, DrumWindow, Split};
use crate::pattern::{STEPS, Voice};

/// Counts for one split (or all of them).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct SplitCounts {
    /// Files in the split.
    pub files: usize,
    /// Drum windows with more than five hits, duplicates included.
    pub windows: usize,
    /// 4/4 windows dropped for having five hits or fewer.
    pub sparse_windows: usize,
    /// Drum windows after removing duplicates.
    pub distinct_windows: usize,
    /// Drum+bass pairs, duplicates included, before transposition.
    pub pairs: usize,
    /// Drum+bass pairs after removing duplicates, before transposition.
    pub distinct_pairs: usize,
    /// Pairs transposed to all twelve keys (notes leaving the MIDI range drop a key).
    pub pairs_in_all_keys: usize,
    /// Per voice, the share of steps with a hit over the distinct windows.
    pub hit_rate: BTreeMap<String, f64>,
}

/// Where the corpus came from on this load.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct CacheInfo {
    /// The cache file.
    pub path: String,
    /// Whether the corpus was read from it.
    pub hit: bool,
    /// Whether a fresh extraction was written to it.
    pub written: bool,
}

/// What loading a corpus found.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Report {
    /// MIDI files found.
    pub files: usize,
    /// Files that gave at least one drum window.
    pub files_with_windows: usize,
    /// Files that gave at least one drum+bass pair.
    pub files_with_pairs: usize,
    /// Files without drum windows, by reason key.
    pub drum_skips: BTreeMap<String, usize>,
    /// Files without drum+bass pairs, by reason key.
    pub pair_skips: BTreeMap<String, usize>,
    /// Counts per split (`train`, `validation`, `test`).
    pub splits: BTreeMap<String, SplitCounts>,
    /// Counts over all splits.
    pub total: SplitCounts,
    /// The cache used, if any.
    pub cache: Option<CacheInfo>,
    /// Seconds the load took.
    pub seconds: f64,
}

impl Report {
    /// Adds one file's outcome.
    pub(crate) fn count_file(&mut self, split: Split, outcome: &FileOutcome) {
        self.files += 1;
        if let Some(reason) = outcome.drum_skip {
            *self.drum_skips.entry(reason.key().into()).or_default() += 1;
        } else {
            self.files_with_windows += 1;
        }
        if let Some(reason) = outcome.pair_skip {
            *self.pair_skips.entry(reason.key().into()).or_default() += 1;
        } else {
            self.files_with_pairs += 1;
        }
        for counts in [
            self.splits.entry(split.name().into()).or_default(),
            &mut self.total,
        ] {
            counts.files += 1;
            counts.windows += outcome.windows.len();
            counts.sparse_windows += outcome.sparse;
            counts.pairs += outcome.pairs.len();
        }
    }

    /// Counts one distinct drum+bass pair.
    pub(crate) fn count_distinct_pair(&mut self, split: Split) {
        self.splits
            .entry(split.name().into())
            .or_default()
            .distinct_pairs += 1;
        self.total.distinct_pairs += 1;
    }

    /// Fills in the counts of the distinct windows, the hit rates and the transposed pairs.
    pub(crate) fn fill_distinct(&mut self, windows: &[DrumWindow], pairs: &[BassPair]) {
        for split in Split::ALL {
            self.splits.entry(split.name().into()).or_default();
        }
        let mut hits: BTreeMap<&str, [usize; Voice::COUNT]> = BTreeMap::new();
        for w in windows {
            for name in [w.split().name(), "total"] {
                let row = hits.entry(name).or_default();
                for voice in Voice::ALL {
                    row[voice.index()] += w.pattern.count(voice);
                }
            }
        }
        for name in Split::ALL.iter().map(|s| s.name()).chain(["total"]) {
            let in_split = |split: Split| name == "total" || split.name() == name;
            let counts = if name == "total" {
                &mut self.total
            } else {
                self.splits.entry(name.into()).or_default()
            };
            counts.distinct_windows = windows.iter().filter(|w| in_split(w.split())).count();
            let split_pairs = pairs.iter().filter(|p| in_split(p.split()));
            counts.pairs_in_all_keys = split_pairs
                .map(|p| (-6..=5).filter(|&s| p.transposed(s).is_some()).count())
                .sum();
            let steps = (counts.distinct_windows * STEPS).max(1) as f64;
            let row = hits.get(name).copied().unwrap_or_default();
            counts.hit_rate = Voice::ALL
                .iter()
                .map(|v| (v.name().to_string(), row[v.index()] as f64 / steps))
                .collect();
        }
    }

    /// The report as a musician reads it.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "{} MIDI files: {} gave drum windows, {} gave drum+bass pairs ({:.2} s{})",
            self.files,
            self.files_with_windows,
            self.files_with_pairs,
            self.seconds,
            match &self.cache {
                Some(c) if c.hit => format!(", from cache {}", c.path),
                Some(c) if c.written => format!(", cached in {}", c.path),
                _ => String::new(),
            }
        );
        let columns: Vec<(&str, &SplitCounts)> = Split::ALL
            .iter()
            .filter_map(|s| self.splits.get(s.name()).map(|c| (s.name(), c)))
            .chain([("total", &self.total)])
            .collect();
        let _ = write!(out, "\n{:<34}", "");
        for (name, _) in &columns {
            let _ = write!(out, "{name:>11}");
        }
        out.push('\n');
        let rows: [Row; 7] = [
            ("files", |c| c.files),
            ("drum windows (> 5 hits)", |c| c.windows),
            ("  distinct", |c| c.distinct_windows),
            ("  dropped: 5 hits or fewer", |c| c.sparse_windows),
            ("drum+bass pairs", |c| c.pairs),
            ("  distinct", |c| c.distinct_pairs),
            ("  in all 12 keys", |c| c.pairs_in_all_keys),
        ];
        for (label, get) in rows {
            let _ = write!(out, "{label:<34}");
            for (_, counts) in &columns {
                let _ = write!(out, "{:>11}", get(counts));
            }
            out.push('\n');
        }
        let _ = writeln!(out, "\nhits per step (distinct windows)");
        for voice in Voice::ALL {
            let _ = write!(out, "  {:<32}", voice.name());
            for (_, counts) in &columns {
                let rate = counts.hit_rate.get(voice.name()).copied().unwrap_or(0.0);
                let _ = write!(out, "{:>10.1}%", rate * 100.0);
            }
            out.push('\n');
        }
        for (title, skips) in [
            ("files without drum windows", &self.drum_skips),
            ("files without drum+bass pairs", &self.pair_skips),
        ] {
            let total: usize = skips.values().sum();
            if total == 0 {
                continue;
            }
            let _ = writeln!(out, "\n{title}: {total}");
            for (key, n) in skips {
                let _ = writeln!(out, "  {:<32}{n:>11}", describe(key));
            }
        }
        out
    }
}

/// A table row: its label and how to read its count.
type Row = (&'static str, fn(&SplitCounts) -> usize);

/// The phrase for a reason key.
fn describe(key: &str) -> String {
    const ALL: [SkipReason; 12] = [
        SkipReason::Unreadable,
        SkipReason::TooLarge,
        SkipReason::TooLong,
        SkipReason::ParseError,
        SkipReason::Timecode,
        SkipReason::Type2,
        SkipReason::TooShort,
        SkipReason::NotFourFour,
        SkipReason::NoDrums,
        SkipReason::TooFewHits,
        SkipReason::NoBass,
        SkipReason::BassSilent,
    ];
    ALL.iter()
        .find(|r| r.key() == key)
        .map_or_else(|| key.to_string(), |r| r.describe().to_string())
}
