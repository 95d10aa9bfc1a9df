//! Training data from MIDI corpora: two-bar drum windows and drum+bass pairs, with splits.
//!
//! ```no_run
//! use ubiq::dataset::{Corpus, LoadOptions, Split};
//! let corpus = Corpus::load(&["../shared/datasets/groove".into()], &LoadOptions::default())?;
//! for window in corpus.drum_windows(Split::Train) {
//!     let _ = (&window.pattern, window.style(), &window.source.song);
//! }
//! for pair in corpus.pairs(Split::Train) {
//!     let _ = (&pair.drums, &pair.bass, pair.tonic, pair.key, pair.scale);
//! }
//! # Ok::<(), ubiq::dataset::DatasetError>(())
//! ```
//!
//! Loading walks the folders ([`sources`]), extracts every file on all cores ([`extract`]),
//! removes duplicate drum windows within each split and keeps the result in a binary [`cache`]
//! keyed on the files' paths, sizes and modification times and the extractor version.
//! Drum+bass pairs keep a song's repeats (the same drums often carry a different bassline, and
//! a repeated section is part of how the song goes); the report counts the distinct ones too.

pub mod cache;
pub mod extract;
pub mod sources;
pub mod stats;

use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::midifile::Limits;
use crate::pattern::{Bassline, DrumPattern, Key, Scale};

pub use cache::CacheMode;
pub use extract::SkipReason;
pub use sources::{Source, Split};
pub use stats::{Report, SplitCounts};

/// Why a corpus could not be loaded (files that cannot be used are skipped, not errors).
#[derive(Debug, thiserror::Error)]
pub enum DatasetError {
    /// A folder or file given could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The Groove MIDI Dataset's `info.csv` is unusable.
    #[error("{path}: {message}")]
    Info {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// More files than one load handles.
    #[error("more than {0} MIDI files")]
    TooManyFiles(usize),
}

/// How a corpus is loaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadOptions {
    /// Where the extracted corpus is cached.
    pub cache: CacheMode,
    /// Bounds on each file.
    pub limits: Limits,
}

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions {
            cache: CacheMode::Default,
            limits: Limits::default(),
        }
    }
}

/// A two-bar drum window.
#[derive(Debug, Clone, PartialEq)]
pub struct DrumWindow {
    /// The pattern (velocities on the 1/127 grid, offsets on the MIDI offset grid).
    pub pattern: DrumPattern,
    /// The file it came from, with split, song id and style.
    pub source: Arc<Source>,
    /// First bar of the window in the file (0-based).
    pub bar: u32,
    /// Tempo at the window's start, in BPM.
    pub bpm: f32,
}

impl DrumWindow {
    /// Its split.
    pub fn split(&self) -> Split {
        self.source.split
    }

    /// Its Groove MIDI Dataset style, when known.
    pub fn style(&self) -> Option<&str> {
        self.source.style.as_deref()
    }
}

/// A drum window with the bassline played over the same two bars.
#[derive(Debug, Clone, PartialEq)]
pub struct BassPair {
    /// The drums.
    pub drums: DrumPattern,
    /// The bass, one voice, pitches relative to `tonic`.
    pub bass: Bassline,
    /// MIDI note of the tonic: the estimated key's root in octave 1 (`key.root_midi(1)`), so
    /// `tonic + pitch` is the absolute note.
    pub tonic: u8,
    /// Estimated key of the window (bass and other pitched parts).
    pub key: Key,
    /// Estimated mode: [`Scale::Major`] or [`Scale::Minor`].
    pub scale: Scale,
    /// The file it came from.
    pub source: Arc<Source>,
    /// First bar of the window in the file (0-based).
    pub bar: u32,
    /// Tempo at the window's start, in BPM.
    pub bpm: f32,
}

impl BassPair {
    /// Its split.
    pub fn split(&self) -> Split {
        self.source.split
    }

    /// The id of its song (the unit of splitting).
    pub fn song(&self) -> &str {
        &self.source.song
    }

    /// The pair moved by `semitones`: key and tonic move, the absolute bass notes move by the
    /// same amount. `None` when a note would leave the MIDI range.
    pub fn transposed(&self, semitones: i8) -> Option<BassPair> {
        let key = Key::new(i32::from(self.key.pitch_class()) + i32::from(semitones));
        let tonic = key.root_midi(1);
        let shift = i16::from(self.tonic) + i16::from(semitones) - i16::from(tonic);
        let in_range = self.bass.pitches().all(|p| {
            let note = i16::from(self.tonic) + i16::from(p) + i16::from(semitones);
            (0..=127).contains(&note)
        });
        in_range.then(|| BassPair {
            bass: self.bass.transposed(shift as i8),
            tonic,
            key,
            ..self.clone()
        })
    }

    /// The pair in all twelve keys (−6 … +5 semitones, the original among them), leaving out
    /// any that would leave the MIDI range.
    pub fn in_all_keys(&self) -> impl Iterator<Item = BassPair> + '_ {
        (-6..=5).filter_map(|s| self.transposed(s))
    }
}

/// An extracted corpus.
#[derive(Debug, Clone, PartialEq)]
pub struct Corpus {
    windows: Vec<DrumWindow>,
    pairs: Vec<BassPair>,
    report: Report,
}

impl Corpus {
    /// Loads the MIDI files in `paths` (folders are searched recursively for `.mid`/`.midi`),
    /// from the cache when the files are unchanged.
    pub fn load(paths: &[PathBuf], options: &LoadOptions) -> Result<Corpus, DatasetError> {
        let began = std::time::Instant::now();
        let (sources, infos) = sources::discover(paths)?;
        let key = cache::content_key(&sources, &infos, &options.limits);
        let cache_path = options.cache.file_for(paths);
        if let Some(path) = &cache_path {
            if let Some(mut corpus) = cache::read(path, key) {
                corpus.report.cache = Some(stats::CacheInfo {
                    path: path.display().to_string(),
                    hit: true,
                    written: false,
                });
                corpus.report.seconds = began.elapsed().as_secs_f64();
                return Ok(corpus);
            }
        }
        let mut corpus = Corpus::extract(sources, &options.limits);
        if let Some(path) = &cache_path {
            let written = cache::write(path, key, &corpus).is_ok();
            corpus.report.cache = Some(stats::CacheInfo {
                path: path.display().to_string(),
                hit: false,
                written,
            });
        }
        corpus.report.seconds = began.elapsed().as_secs_f64();
        Ok(corpus)
    }

    /// Extracts every source on all cores, then removes duplicates within each split.
    fn extract(sources: Vec<Source>, limits: &Limits) -> Corpus {
        let sources: Vec<Arc<Source>> = sources.into_iter().map(Arc::new).collect();
        let outcomes = extract_all(&sources, limits);
        let mut report = Report::default();
        let mut windows = Vec::new();
        let mut pairs = Vec::new();
        let mut seen_windows: HashSet<(Split, Vec<u8>)> = HashSet::new();
        let mut seen_pairs: HashSet<(Split, Vec<u8>)> = HashSet::new();
        for (source, outcome) in sources.iter().zip(outcomes) {
            report.count_file(source.split, &outcome);
            for window in &outcome.windows {
                let key = (source.split, cache::encode_pattern(&window.pattern));
                if seen_windows.insert(key) {
                    windows.push(DrumWindow {
                        pattern: window.pattern,
                        source: Arc::clone(source),
                        bar: window.bar,
                        bpm: window.bpm,
                    });
                }
            }
            for pair in &outcome.pairs {
                let window = &outcome.windows[pair.window];
                let mut key = cache::encode_pattern(&window.pattern);
                cache::encode_bassline(&pair.bass, &mut key);
                key.push(pair.tonic);
                if seen_pairs.insert((source.split, key)) {
                    report.count_distinct_pair(source.split);
                }
                pairs.push(BassPair {
                    drums: window.pattern,
                    bass: pair.bass,
                    tonic: pair.tonic,
                    key: pair.key,
                    scale: pair.scale,
                    source: Arc::clone(source),
                    bar: window.bar,
                    bpm: window.bpm,
                });
            }
        }
        let mut corpus = Corpus {
            windows,
            pairs,
            report,
        };
        corpus.report.fill_distinct(&corpus.windows, &corpus.pairs);
        corpus
    }

    /// The distinct drum windows of one split.
    pub fn drum_windows(&self, split: Split) -> impl Iterator<Item = &DrumWindow> {
        self.windows.iter().filter(move |w| w.split() == split)
    }

    /// The drum+bass pairs of one split, every window where drums and bass play (repeats
    /// included), not transposed.
    pub fn pairs(&self, split: Split) -> impl Iterator<Item = &BassPair> {
        self.pairs.iter().filter(move |p| p.split() == split)
    }

    /// Every distinct drum window, all splits.
    pub fn all_drum_windows(&self) -> &[DrumWindow] {
        &self.windows
    }

    /// Every pair, all splits.
    pub fn all_pairs(&self) -> &[BassPair] {
        &self.pairs
    }

    /// What loading found: files read and skipped, windows and pairs per split.
    pub fn report(&self) -> &Report {
        &self.report
    }
}

/// Runs [`extract::extract_file`] over all sources on every core, results in source order.
fn extract_all(sources: &[Arc<Source>], limits: &Limits) -> Vec<extract::FileOutcome> {
    let threads = std::thread::available_parallelism()
        .map_or(1, usize::from)
        .min(sources.len().max(1));
    let next = AtomicUsize::new(0);
    let mut results: BTreeMap<usize, extract::FileOutcome> = BTreeMap::new();
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut done = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(source) = sources.get(i) else {
                            break;
                        };
                        let options = extract::import_options(source.groove, *limits);
                        done.push((i, extract::extract_file(&source.path, &options)));
                    }
                    done
                })
            })
            .collect();
        for worker in workers {
            if let Ok(done) = worker.join() {
                results.extend(done);
            }
        }
    });
    (0..sources.len())
        .map(|i| {
            results
                .remove(&i)
                .unwrap_or_else(|| extract::FileOutcome::skipped(SkipReason::Unreadable))
        })
        .collect()
}
