//! `ubiq dataset stats`: what a set of MIDI folders gives as training data; and the training
//! data the `train` and `eval` commands load: the corpus, and the drum windows of the rhythm
//! commands grouped by split with the Groove MIDI Dataset primary style (`funk`, `rock`, …;
//! `unknown` elsewhere).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand};

use crate::dataset::{CacheMode, Corpus, LoadOptions, Split};
use crate::pattern::DrumPattern;

/// `ubiq dataset …`.
#[derive(Subcommand, Debug)]
pub enum DatasetCommand {
    /// Files read and skipped, drum windows, drum+bass pairs and hit rates, per split.
    Stats(StatsArgs),
}

impl DatasetCommand {
    /// Runs the subcommand.
    pub fn run(self) -> anyhow::Result<ExitCode> {
        match self {
            DatasetCommand::Stats(args) => args.run(),
        }
    }
}

/// Options of `ubiq dataset stats`.
#[derive(Args, Debug)]
pub struct StatsArgs {
    /// MIDI folders (searched recursively) or files.
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// Print JSON (stable keys) instead of text.
    #[arg(long)]
    pub json: bool,
    /// Cache folder (default: $XDG_CACHE_HOME/ubiq or ~/.cache/ubiq).
    #[arg(long, conflicts_with = "no_cache")]
    pub cache: Option<PathBuf>,
    /// Always extract; neither read nor write the cache.
    #[arg(long)]
    pub no_cache: bool,
}

impl StatsArgs {
    /// Loads the corpus (from the cache when the files are unchanged) and prints its report.
    pub fn run(self) -> anyhow::Result<ExitCode> {
        let cache = match (self.no_cache, self.cache) {
            (true, _) => CacheMode::Off,
            (false, Some(dir)) => CacheMode::Dir(dir),
            (false, None) => CacheMode::Default,
        };
        let corpus = load_corpus(&self.paths, cache)?;
        if self.json {
            let json = serde_json::to_string_pretty(corpus.report())?;
            println!("{}", crate::text::escape_json(&json));
        } else {
            print!("{}", crate::text::escape_lines(&corpus.report().to_text()));
        }
        Ok(ExitCode::SUCCESS)
    }
}

/// The cache mode of a command's `--no-cache` flag.
pub fn cache_mode(no_cache: bool) -> CacheMode {
    if no_cache {
        CacheMode::Off
    } else {
        CacheMode::Default
    }
}

/// Loads the MIDI files under `paths` through the corpus cache.
pub fn load_corpus(paths: &[PathBuf], cache: CacheMode) -> anyhow::Result<Corpus> {
    let options = LoadOptions {
        cache,
        ..LoadOptions::default()
    };
    Ok(Corpus::load(paths, &options)?)
}

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
pub fn load_rhythm(dirs: &[PathBuf]) -> anyhow::Result<RhythmCorpus> {
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
