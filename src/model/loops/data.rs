//! Triplets for the loop model, rendered from multi-track MIDI songs: for each two-bar window
//! of a song, the anchor is its drums+bass stem and the positive its melodic stem; the negative
//! is the melodic stem of a window of another song of the same split.

use std::path::{Path, PathBuf};

use crate::dataset::Split;
use crate::loops::features::features;
use crate::loops::mel::{MelAnalyser, SAMPLE_RATE};
use crate::loops::stems::{MidiSong, StemGroup, StemRenderer};
use crate::model::rng::Rng;

use super::LoopModelError;

/// One rendered window.
#[derive(Debug, Clone)]
pub struct WindowData {
    /// Index of its song in [`TripletData::songs`].
    pub song: usize,
    /// The song's split.
    pub split: Split,
    /// First beat of the window.
    pub beat: u32,
    /// Model input of the drums+bass stem.
    pub anchor: Vec<f32>,
    /// Model input of the melodic stem.
    pub positive: Vec<f32>,
    /// Baseline features of the drums+bass stem.
    pub anchor_features: Vec<f32>,
    /// Baseline features of the melodic stem.
    pub positive_features: Vec<f32>,
}

/// Every rendered window of a corpus.
#[derive(Debug, Clone, Default)]
pub struct TripletData {
    /// Song ids (file stems).
    pub songs: Vec<String>,
    /// The windows.
    pub windows: Vec<WindowData>,
    /// Files that could not be used, with reasons.
    pub skipped: Vec<String>,
}

/// A triplet of window indices: anchor and positive come from `anchor`, the negative is the
/// melodic stem of `negative`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Triplet {
    /// Window of the anchor and the positive.
    pub anchor: usize,
    /// Window whose melodic stem is the negative.
    pub negative: usize,
}

/// MIDI files under the given files or folders (recursively), sorted.
pub fn midi_files(paths: &[PathBuf]) -> Vec<PathBuf> {
    fn walk(p: &Path, out: &mut Vec<PathBuf>) {
        if p.is_dir() {
            if let Ok(rd) = std::fs::read_dir(p) {
                for e in rd.flatten() {
                    walk(&e.path(), out);
                }
            }
        } else if p
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| matches!(e.to_ascii_lowercase().as_str(), "mid" | "midi"))
        {
            out.push(p.to_path_buf());
        }
    }
    let mut out = Vec::new();
    for p in paths {
        walk(p, &mut out);
    }
    out.sort();
    out
}

impl TripletData {
    /// Renders the windows of every song under `paths` whose split is in `splits`.
    /// `progress(done, total)` is called after each file.
    pub fn build(
        paths: &[PathBuf],
        soundfont: &Path,
        splits: &[Split],
        mut progress: impl FnMut(usize, usize),
    ) -> Result<TripletData, LoopModelError> {
        let renderer = StemRenderer::new(soundfont, SAMPLE_RATE)?;
        let files = midi_files(paths);
        let mut data = TripletData::default();
        let mut analyser = MelAnalyser::new();
        for (n, file) in files.iter().enumerate() {
            progress(n, files.len());
            let song = match MidiSong::load(file) {
                Ok(s) => s,
                Err(e) => {
                    data.skipped.push(e.to_string());
                    continue;
                }
            };
            let split = Split::for_song(&song.name);
            if !splits.contains(&split) {
                continue;
            }
            let windows = song.windows();
            if windows.is_empty() {
                continue;
            }
            let song_index = data.songs.len();
            data.songs.push(song.name.clone());
            for beat in windows {
                let anchor = renderer.render(&song, beat, &[StemGroup::Drums, StemGroup::Bass])?;
                let positive = renderer.render(&song, beat, &[StemGroup::Melodic])?;
                if crate::loops::audio::peak(&positive) < 1.0e-3
                    || crate::loops::audio::peak(&anchor) < 1.0e-3
                {
                    continue;
                }
                data.windows.push(WindowData {
                    song: song_index,
                    split,
                    beat,
                    anchor: analyser.model_input(&anchor),
                    positive: analyser.model_input(&positive),
                    anchor_features: features(&mut analyser, &anchor),
                    positive_features: features(&mut analyser, &positive),
                });
            }
        }
        progress(files.len(), files.len());
        Ok(data)
    }

    /// Indices of the windows of `split`.
    pub fn indices(&self, split: Split) -> Vec<usize> {
        (0..self.windows.len())
            .filter(|&i| self.windows[i].split == split)
            .collect()
    }

    /// One triplet per window of `split`, each negative drawn (seeded) from another song of
    /// the same split. Empty when the split has fewer than two songs.
    pub fn triplets(&self, split: Split, seed: u64) -> Vec<Triplet> {
        let idx = self.indices(split);
        let mut rng = Rng::new(seed);
        let songs: std::collections::BTreeSet<usize> =
            idx.iter().map(|&i| self.windows[i].song).collect();
        if songs.len() < 2 {
            return Vec::new();
        }
        idx.iter()
            .map(|&a| {
                loop {
                    let n = idx[rng.below(idx.len())];
                    if self.windows[n].song != self.windows[a].song {
                        break Triplet {
                            anchor: a,
                            negative: n,
                        };
                    }
                }
            })
            .collect()
    }
}
