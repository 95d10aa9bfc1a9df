//! Drum windows for the rhythm commands: [`crate::dataset::Corpus`] windows grouped by split,
//! with the Groove MIDI Dataset primary style (`funk`, `rock`, …; `unknown` elsewhere).

use std::path::PathBuf;

use crate::dataset::{Corpus, LoadOptions, Split};
use crate::pattern::DrumPattern;

/// The windows of one split with their style labels (parallel vectors).
#[derive(Debug, Clone, Default)]
pub struct SplitWindows {
    /// The two-bar patterns.
    pub patterns: Vec<DrumPattern>,
    /// A style label per pattern.
    pub styles: Vec<String>,
}

/// All windows of a set of MIDI folders, by split.
#[derive(Debug, Clone, Default)]
pub struct RhythmCorpus {
    train: SplitWindows,
    valid: SplitWindows,
    test: SplitWindows,
}

impl RhythmCorpus {
    /// The windows of one split.
    pub fn split(&self, split: Split) -> &SplitWindows {
        match split {
            Split::Train => &self.train,
            Split::Validation => &self.valid,
            Split::Test => &self.test,
        }
    }
}

/// Loads the MIDI files under `dirs` (through the corpus cache) into drum windows by split.
pub fn load(dirs: &[PathBuf]) -> anyhow::Result<RhythmCorpus> {
    let corpus = Corpus::load(dirs, &LoadOptions::default())?;
    let mut out = RhythmCorpus::default();
    for window in corpus.all_drum_windows() {
        let target = match window.split() {
            Split::Train => &mut out.train,
            Split::Validation => &mut out.valid,
            Split::Test => &mut out.test,
        };
        let style = window
            .style()
            .and_then(|s| s.split('/').next())
            .unwrap_or("unknown");
        target.patterns.push(window.pattern);
        target.styles.push(style.to_string());
    }
    if out.train.patterns.is_empty() && out.test.patterns.is_empty() {
        anyhow::bail!("no drum windows found in the given MIDI folders");
    }
    Ok(out)
}
