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

/// A loop as the audio thread was (or is to be) given it: its name, the tempo it was
/// stretched to and the semitones it was moved by (`loop SET key follow`).
#[derive(Debug, Clone, PartialEq)]
pub struct Cued {
    /// The loop's name.
    pub name: String,
    /// The tempo it plays at (BPM).
    pub tempo: f32,
    /// Its transposition (0: as recorded).
    pub semitones: i8,
}

/// A loop cue: a loop, or silence.
pub type Cue = Option<Cued>;

/// What each set has been cued, so that only changes travel to the audio thread.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LoopFeed {
    cued: [Cue; LoopSet::COUNT],
}

impl LoopFeed {
    /// The cues that bring the audio thread to what `perf` wants for its next cycle: a new
    /// loop, the same loop at a new tempo or in a new key (prepared again), or silence.
    /// `library` tells the loops' keys (see [`Performance::loop_shift`]).
    pub fn changes(&self, perf: &Performance, library: Option<&Library>) -> Vec<(LoopSet, Cue)> {
        let tempo = perf.scene().tempo;
        LoopSet::ALL
            .into_iter()
            .filter_map(|set| {
                let want = perf.wanted_loop(set).map(|name| Cued {
                    name: name.to_string(),
                    tempo,
                    semitones: perf.loop_shift(set, name, library),
                });
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
    /// Semitones to move it by, tempo kept.
    pub semitones: i8,
    /// Sample rate to play it at.
    pub sample_rate: u32,
}

impl LoopJob {
    /// The job of cue `cued` in `set` of `library`.
    pub fn new(
        library: &Library,
        set: LoopSet,
        cued: &Cued,
        sample_rate: u32,
    ) -> Result<LoopJob, LoopError> {
        let entry = library.find(set, &cued.name)?;
        Ok(LoopJob {
            set,
            name: cued.name.clone(),
            file: library.file_path(set, entry),
            source_bpm: entry.tempo_bpm,
            bars: entry.bars,
            tempo_bpm: cued.tempo,
            semitones: cued.semitones,
            sample_rate,
        })
    }

    /// Decodes the loop and stretches it to one cycle (see [`stretch_loop`]).
    pub fn run(&self) -> Result<LoopBuffer, LoopError> {
        let mono = audio::decode_file(&self.file)?;
        Ok(stretch_loop(&mono, self))
    }
}

/// Prepares a loop for playback as `job` asks: its first two bars (one bar is played twice)
/// converted to the job's sample rate, moved by its semitones (see [`transpose`]) and
/// stretched with WSOLA to exactly one cycle at its tempo.
pub fn stretch_loop(mono: &Mono, job: &LoopJob) -> LoopBuffer {
    let LoopJob {
        source_bpm,
        bars,
        tempo_bpm,
        semitones,
        sample_rate,
        ref name,
        ..
    } = *job;
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
        samples: wsola(
            &transpose(&source, semitones, sample_rate),
            cycle,
            sample_rate,
        ),
        tempo_bpm,
        name: name.to_string(),
    }
}

/// The cyclic loop `source` (at `sample_rate`) moved by `semitones`: played faster or
/// slower by the interval's frequency ratio (band-limited first when faster, so that nothing
/// folds back below the new Nyquist frequency), which changes its length by the inverse
/// ratio; the WSOLA stretch that follows brings it back to the cycle, so the tempo stays.
pub fn transpose(source: &[f32], semitones: i8, sample_rate: u32) -> Vec<f32> {
    if semitones == 0 || source.is_empty() {
        return source.to_vec();
    }
    let ratio = 2f64.powf(f64::from(semitones) / 12.0);
    let frames = ((source.len() as f64 / ratio).round() as usize).max(1);
    if ratio > 1.0 {
        let cutoff = 0.45 * sample_rate as f32 / ratio as f32;
        let limited = audio::low_pass(source, cutoff, sample_rate as f32);
        audio::resample_to(&limited, frames, true)
    } else {
        audio::resample_to(source, frames, true)
    }
}

/// Prepared loop buffers kept for reuse (switching back and forth between loops, or a tempo
/// coming back), most recent first.
#[derive(Debug, Default)]
pub struct LoopCache {
    entries: VecDeque<((PathBuf, u32, i8, u32), LoopBuffer)>,
}

/// Buffers the cache keeps.
const CACHED: usize = 12;

impl LoopCache {
    /// The buffer `job` prepares, from the cache or prepared now.
    pub fn get(&mut self, job: &LoopJob) -> Result<Box<LoopBuffer>, LoopError> {
        let key = (
            job.file.clone(),
            job.tempo_bpm.to_bits(),
            job.semitones,
            job.sample_rate,
        );
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Frequency of a steady tone by its rising zero crossings.
    fn frequency(samples: &[f32], sample_rate: u32) -> f64 {
        let rising: Vec<usize> = samples
            .windows(2)
            .enumerate()
            .filter(|(_, w)| w[0] < 0.0 && w[1] >= 0.0)
            .map(|(i, _)| i)
            .collect();
        let (first, last) = (rising[0], rising[rising.len() - 1]);
        (rising.len() - 1) as f64 * f64::from(sample_rate) / (last - first) as f64
    }

    #[test]
    fn a_transposed_loop_sounds_higher_or_lower_and_keeps_its_cycle() {
        let rate = 44_100;
        // Two bars at 100 BPM of A4.
        let frames = audio::bar_frames(2, 100.0, rate);
        let mono = Mono {
            samples: (0..frames)
                .map(|i| 0.5 * (std::f32::consts::TAU * 440.0 * i as f32 / rate as f32).sin())
                .collect(),
            sample_rate: rate,
        };
        for (semitones, hz) in [(0, 440.0), (3, 523.25), (-5, 329.63), (5, 587.33)] {
            let job = LoopJob {
                set: LoopSet::Music,
                name: "a".into(),
                file: PathBuf::new(),
                source_bpm: 100.0,
                bars: 2,
                tempo_bpm: 120.0,
                semitones,
                sample_rate: 48_000,
            };
            let buffer = stretch_loop(&mono, &job);
            assert_eq!(buffer.samples.len(), audio::bar_frames(2, 120.0, 48_000));
            // The middle, away from the cyclic seam.
            let n = buffer.samples.len();
            let heard = frequency(&buffer.samples[n / 4..3 * n / 4], 48_000);
            assert!(
                (heard / hz - 1.0).abs() < 0.01,
                "{semitones:+} semitones: {heard:.1} Hz, want {hz}"
            );
        }
    }
}
