//! Preparing loops and records for the audio thread: what each loop set has been cued, the
//! jobs that decode and stretch a loop to one cycle at the set's tempo (on a worker thread
//! live, at once offline), a cache of prepared buffers, and records decoded for the deck.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};

use crate::audio::loop_player::LoopBuffer;
use crate::loops::audio::{self, Mono};
use crate::loops::library::Library;
use crate::loops::stretch::wsola;
use crate::loops::{LoopError, LoopSet};
use crate::performance::Performance;

/// A loop cue the audio thread was (or is to be) given: the loop and the tempo it was
/// stretched to, or silence.
pub type Cue = Option<(String, f32)>;

/// What each set has been cued, so that only changes travel to the audio thread.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LoopFeed {
    cued: [Cue; LoopSet::COUNT],
}

impl LoopFeed {
    /// The cues that bring the audio thread to what `perf` wants for its next cycle: a new
    /// loop, the same loop at a new tempo (stretched again), or silence.
    pub fn changes(&self, perf: &Performance) -> Vec<(LoopSet, Cue)> {
        let tempo = perf.scene().tempo;
        LoopSet::ALL
            .into_iter()
            .filter_map(|set| {
                let want = perf.wanted_loop(set).map(|n| (n.to_string(), tempo));
                (want != self.cued[set.index()]).then_some((set, want))
            })
            .collect()
    }

    /// Notes that `set` was cued `cue`.
    pub fn cued(&mut self, set: LoopSet, cue: Cue) {
        self.cued[set.index()] = cue;
    }

    /// What `set` was last cued.
    pub fn current(&self, set: LoopSet) -> &Cue {
        &self.cued[set.index()]
    }
}

/// Everything a worker needs to prepare a loop for playback, without the library.
#[derive(Debug, Clone, PartialEq)]
pub struct LoopJob {
    /// The set it plays in.
    pub set: LoopSet,
    /// Loop name.
    pub name: String,
    /// Its audio file.
    pub file: PathBuf,
    /// Tempo the audio plays at.
    pub source_bpm: f32,
    /// Its length in bars.
    pub bars: u32,
    /// Tempo to stretch it to.
    pub tempo_bpm: f32,
    /// Sample rate to play it at.
    pub sample_rate: u32,
}

impl LoopJob {
    /// The job of `name` in `set` of `library`.
    pub fn new(
        library: &Library,
        set: LoopSet,
        name: &str,
        tempo_bpm: f32,
        sample_rate: u32,
    ) -> Result<LoopJob, LoopError> {
        let entry = library.find(set, name)?;
        Ok(LoopJob {
            set,
            name: name.to_string(),
            file: library.file_path(set, entry),
            source_bpm: entry.tempo_bpm,
            bars: entry.bars,
            tempo_bpm,
            sample_rate,
        })
    }

    /// Decodes the loop and stretches it to one cycle (see [`stretch_loop`]).
    pub fn run(&self) -> Result<LoopBuffer, LoopError> {
        let mono = audio::decode_file(&self.file)?;
        Ok(stretch_loop(
            &mono,
            self.source_bpm,
            self.bars,
            self.tempo_bpm,
            self.sample_rate,
            &self.name,
        ))
    }
}

/// Prepares a loop for playback: its first two bars (one bar is played twice) converted to
/// `sample_rate` and stretched with WSOLA to exactly one cycle at `tempo_bpm`, pitch kept.
pub fn stretch_loop(
    mono: &Mono,
    source_bpm: f32,
    bars: u32,
    tempo_bpm: f32,
    sample_rate: u32,
    name: &str,
) -> LoopBuffer {
    let at_rate = audio::resample(mono, sample_rate);
    let two_bars = audio::bar_frames(2, source_bpm, sample_rate);
    let mut source: Vec<f32> = if bars >= 2 {
        at_rate.samples.iter().copied().take(two_bars).collect()
    } else {
        at_rate
            .samples
            .iter()
            .chain(&at_rate.samples)
            .copied()
            .take(two_bars)
            .collect()
    };
    source.resize(two_bars, 0.0);
    let cycle = audio::bar_frames(2, tempo_bpm, sample_rate);
    LoopBuffer {
        samples: wsola(&source, cycle, sample_rate),
        tempo_bpm,
        name: name.to_string(),
    }
}

/// Prepared loop buffers kept for reuse (switching back and forth between loops, or a tempo
/// coming back), most recent first.
#[derive(Debug, Default)]
pub struct LoopCache {
    entries: VecDeque<((PathBuf, u32, u32), LoopBuffer)>,
}

/// Buffers the cache keeps.
const CACHED: usize = 12;

impl LoopCache {
    /// The buffer `job` prepares, from the cache or prepared now.
    pub fn get(&mut self, job: &LoopJob) -> Result<Box<LoopBuffer>, LoopError> {
        let key = (job.file.clone(), job.tempo_bpm.to_bits(), job.sample_rate);
        if let Some(i) = self.entries.iter().position(|(k, _)| *k == key)
            && let Some((_, buffer)) = self.entries.remove(i)
        {
            self.entries.push_front((key, buffer.clone()));
            return Ok(Box::new(buffer));
        }
        let mut buffer = job.run()?;
        buffer.name = job.name.clone();
        self.entries.push_front((key, buffer.clone()));
        self.entries.truncate(CACHED);
        Ok(Box::new(buffer))
    }
}

/// Decodes an audio file for the deck at `sample_rate` (mono).
pub fn load_record(
    path: &Path,
    sample_rate: u32,
) -> Result<crate::audio::deck::DeckBuffer, LoopError> {
    let mono = audio::decode_record(path)?;
    let at_rate = audio::resample(&mono, sample_rate);
    Ok(crate::audio::deck::DeckBuffer {
        samples: at_rate.samples,
        name: path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
    })
}
