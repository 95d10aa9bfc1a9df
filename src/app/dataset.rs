//! `ubiq dataset stats`: what a set of MIDI folders gives as training data.

use std::path::PathBuf;

use crate::dataset::{CacheMode, Corpus, LoadOptions};

/// Options of `ubiq dataset stats`.
#[derive(Debug, Clone)]
pub struct StatsArgs {
    /// Folders (searched recursively) and MIDI files.
    pub paths: Vec<PathBuf>,
    /// Print JSON instead of text.
    pub json: bool,
    /// Where to cache the extracted corpus.
    pub cache: CacheMode,
}

/// Loads the corpus (from the cache when the files are unchanged) and prints its report.
pub fn stats(args: StatsArgs) -> anyhow::Result<()> {
    let options = LoadOptions {
        cache: args.cache,
        ..LoadOptions::default()
    };
    let corpus = Corpus::load(&args.paths, &options)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(corpus.report())?);
    } else {
        print!("{}", corpus.report().to_text());
    }
    Ok(())
}
