//! Triplets for the loop model, rendered from multi-track MIDI songs.
//!
//! Every two-bar window of a song where drums, bass and melodic parts all play (one candidate a
//! bar, up to [`DataConfig::max_windows`] a song) is rendered three ways: its drums+bass with
//! a SoundFont (the *SoundFont anchor*), its drums and bassline — quantised to a pattern and
//! a bassline as the dataset does — through ubiq's dry query renderer (a [`RenderQuery`] the
//! caller passes: the engine's, so that the *ubiq anchor* is what the engine embeds on
//! stage), and its melodic channels with the same SoundFont (the *positive*). A negative is
//! the melodic stem of a window of another song of the same split (training adds others:
//! see [`super::train`]).
//!
//! The songs are found as the dataset finds them ([`songs_of`]): a corpus whose `info.csv`
//! groups its songs (the MMA grooves by style family) is split by group, any other song by
//! its id. Training renders each key of a window with the next of the SoundFonts given
//! ([`soundfont_for`]), so no SoundFont's sound can tell a song.
//!
//! Windows are left out when a render is silent (peak under −60 dBFS) or when the melodic stem
//! sounds in less than [`DataConfig::min_sounding`] of its frames (a frame sounds when its
//! power is within 20 dB of the loudest frame's): a stem that is mostly silent fits any
//! anchor, so such a triplet cannot be decided, and a library loop is never mostly silent.
//! The same rule holds in training and in evaluation.
//!
//! Training windows are also rendered transposed: anchor and positive move by the same random
//! number of semitones (drums stay), so the model has to learn which parts fit each other
//! rather than which keys are common; optionally ([`DataConfig::program_jitter`]) the
//! transposed renders also swap every instrument for another of its General MIDI family, so
//! that a song cannot be told by its instruments alone.
//!
//! The SoundFont renders are cached on disk (`$XDG_CACHE_HOME/ubiq`, else `~/.cache/ubiq`),
//! one file per song and variant, `loops-<key>-k<variant>[j].bin` (`j`: with instrument
//! changes); the key covers [`DATA_VERSION`], the spectrogram's shape, the window choice and
//! seed of the [`DataConfig`], the song's canonical path and content, and the SoundFont's
//! path, size and modification time. The ubiq anchors are rendered afresh on every run (about
//! 1.5 ms a window).

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use burn::config::Config;
use serde::{Deserialize, Serialize};

use crate::dataset::extract::import_options;
use crate::dataset::sources::{Source, discover, fnv1a};
use crate::dataset::{CacheMode, Split};
use crate::loops::audio::peak;
use crate::loops::features::{BASELINE_LEN, FEATURE_LEN, features};
use crate::loops::mel::{FRAMES, HOP, MelAnalyser, N_FFT, N_MELS, SAMPLE_RATE, standardise};
use crate::loops::stems::{MidiSong, StemGroup, StemRenderer, Variant};
use crate::midifile::key;
use crate::midifile::quantise::{bassline_at, drum_pattern_at};
use crate::midifile::{Limits, read_song};
use crate::model::rng::Rng;

use crate::model::artifact::ModelError;
use crate::pattern::{Bassline, DrumPattern};

/// Renders the ubiq anchor of a window: its drums, its bassline and the bassline's tonic,
/// rendered dry, mono, at the model's 16 kHz, from the downbeat (the engine's query renderer).
pub type RenderQuery = dyn Fn(&DrumPattern, &Bassline, u8) -> Vec<f32> + Sync;

/// Bumped whenever the cached SoundFont renders change: old caches are then ignored.
pub const DATA_VERSION: u32 = 3;
/// A render whose peak stays below this (−60 dBFS) is silent.
const SILENT_PEAK: f32 = 1.0e-3;
/// A frame of a spectrogram sounds when its power is within this many decibels of the
/// loudest frame's.
const SOUNDING_DB: f32 = 20.0;
const MAGIC: &[u8; 8] = b"UBIQLOOP";
/// Transpositions of training windows are drawn from this range of semitones.
pub const SHIFTS: std::ops::RangeInclusive<i8> = -5..=6;
/// Values of a spectrogram cell: centi-decibels.
const CENTI: f32 = 100.0;

/// Which windows are rendered, and how.
#[derive(Config, Debug, PartialEq)]
pub struct DataConfig {
    /// Beats between candidate window starts (4: a one-bar hop).
    #[config(default = 4)]
    pub hop_beats: u32,
    /// Most windows a song (spread evenly over its candidates).
    #[config(default = 32)]
    pub max_windows: usize,
    /// Renders of each training window: the original key first, then random transpositions
    /// (from [`SHIFTS`], never 0). Validation and test windows are rendered once, untransposed.
    #[config(default = 3)]
    pub train_keys: usize,
    /// Seed of the transpositions and instrument changes.
    #[config(default = 1)]
    pub seed: u64,
    /// Transposed training renders also change every pitched channel's instrument to
    /// another of its General MIDI family (the same change for anchor and positive).
    #[config(default = true)]
    pub program_jitter: bool,
    /// Windows whose melodic stem sounds (see [`Spectrogram::sounding_share`]) in less than
    /// this share of the frames are left out of training and evaluation: a stem that is
    /// mostly silent fits anything, and a library loop is never mostly silent.
    #[config(default = 0.75)]
    pub min_sounding: f32,
    /// From a corpus whose `info.csv` groups its songs (the MMA grooves by style family), at
    /// most this many songs of each group, chosen by a stable hash of the song and `seed`: a
    /// family with many grooves does not outweigh the others, and the renders stay within
    /// the time budget. 0 takes every song.
    #[config(default = 4)]
    pub group_songs: usize,
}

/// A log-mel spectrogram, band-major `[N_MELS × FRAMES]`, in centi-decibels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spectrogram(pub Vec<i16>);

impl Spectrogram {
    /// The spectrogram of `samples` (16 kHz, tempo-normalised).
    pub fn of(analyser: &mut MelAnalyser, samples: &[f32]) -> Spectrogram {
        Spectrogram(
            analyser
                .log_mel(samples)
                .iter()
                .map(|db| (db * CENTI).round().clamp(-32_768.0, 32_767.0) as i16)
                .collect(),
        )
    }

    /// The share of frames that sound: whose power (summed over the bands) is within
    /// `SOUNDING_DB` of the loudest frame's.
    pub fn sounding_share(&self) -> f32 {
        let frame_db: Vec<f32> = (0..FRAMES)
            .map(|t| {
                let power: f32 = (0..N_MELS)
                    .map(|m| 10f32.powf(f32::from(self.0[m * FRAMES + t]) / (10.0 * CENTI)))
                    .sum();
                10.0 * power.max(f32::MIN_POSITIVE).log10()
            })
            .collect();
        let loudest = frame_db.iter().copied().fold(f32::MIN, f32::max);
        frame_db
            .iter()
            .filter(|&&db| db > loudest - SOUNDING_DB)
            .count() as f32
            / FRAMES as f32
    }

    /// [`Spectrogram::input`] of a randomly coloured and masked copy, for training: a random
    /// equaliser — a tilt of up to ±`eq_db` at the ends of the band range and a bell of up
    /// to ±`eq_db` at a random band — is added in decibels before standardising, then a run of
    /// up to `mask[0]` bands and one of up to `mask[1]` frames are set to the mean (0).
    pub fn augmented_input(&self, rng: &mut Rng, eq_db: f32, mask: [usize; 2]) -> Vec<f32> {
        let tilt = eq_db * (2.0 * rng.uniform() - 1.0);
        let bell = eq_db * (2.0 * rng.uniform() - 1.0);
        let centre = rng.uniform() * N_MELS as f32;
        let width = (0.05 + 0.2 * rng.uniform()) * N_MELS as f32;
        let mut db = Vec::with_capacity(N_MELS * FRAMES);
        for m in 0..N_MELS {
            let z = (m as f32 - centre) / width;
            let eq =
                tilt * (2.0 * m as f32 / (N_MELS - 1) as f32 - 1.0) + bell * (-0.5 * z * z).exp();
            db.extend(
                self.0[m * FRAMES..(m + 1) * FRAMES]
                    .iter()
                    .map(|&v| f32::from(v) / CENTI + eq),
            );
        }
        let mut x = standardise(db);
        let bands = rng.below(mask[0].min(N_MELS) + 1);
        let first = rng.below(N_MELS - bands + 1);
        x[first * FRAMES..(first + bands) * FRAMES].fill(0.0);
        let frames = rng.below(mask[1].min(FRAMES) + 1);
        let first = rng.below(FRAMES - frames + 1);
        for row in x.chunks_mut(FRAMES) {
            row[first..first + frames].fill(0.0);
        }
        x
    }

    /// The spectrogram part of the model input (as [`MelAnalyser::model_input`] makes it, up
    /// to the 0.01 dB grid).
    pub fn input(&self) -> Vec<f32> {
        standardise(self.0.iter().map(|&v| f32::from(v) / CENTI).collect())
    }
}

/// The two renders of a window's drums and bass.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AnchorKind {
    /// Drums and bass channels rendered with the SoundFont.
    #[serde(rename = "soundfont")]
    SoundFont,
    /// The window's drum pattern and bassline through ubiq's drum machine and bass synth.
    Ubiq,
}

impl AnchorKind {
    /// Both kinds.
    pub const ALL: [AnchorKind; 2] = [AnchorKind::SoundFont, AnchorKind::Ubiq];

    /// Name in reports.
    pub fn name(self) -> &'static str {
        match self {
            AnchorKind::SoundFont => "soundfont",
            AnchorKind::Ubiq => "ubiq",
        }
    }
}

/// One rendered window (in one key).
#[derive(Debug, Clone)]
pub struct WindowData {
    /// Index of its song in [`TripletData::songs`].
    pub song: usize,
    /// The song's split.
    pub split: Split,
    /// First beat of the window.
    pub beat: u32,
    /// Semitones its pitched parts were moved by.
    pub shift: i8,
    /// Drums+bass rendered with the SoundFont.
    pub anchor: Spectrogram,
    /// Drum pattern and bassline rendered by ubiq.
    pub ubiq_anchor: Spectrogram,
    /// The melodic channels.
    pub positive: Spectrogram,
    /// Baseline features of `anchor`, `ubiq_anchor` and `positive`.
    pub features: [Vec<f32>; 3],
}

/// What the model reads of one loop: its spectrogram and its chroma.
#[derive(Debug, Clone, Copy)]
pub struct LoopInput<'a> {
    /// The log-mel spectrogram.
    pub spectrogram: &'a Spectrogram,
    /// The sliced chroma ([`crate::loops::mel::SLICED_CHROMA`] values, unit length as a whole).
    pub chroma: &'a [f32],
}

impl WindowData {
    /// The model input of the anchor of `kind`.
    pub fn anchor_input(&self, kind: AnchorKind) -> LoopInput<'_> {
        LoopInput {
            spectrogram: self.anchor_of(kind),
            chroma: &self.anchor_features(kind)[BASELINE_LEN..],
        }
    }

    /// The model input of the positive.
    pub fn positive_input(&self) -> LoopInput<'_> {
        LoopInput {
            spectrogram: &self.positive,
            chroma: &self.positive_features()[BASELINE_LEN..],
        }
    }

    /// The anchor of `kind`.
    pub fn anchor_of(&self, kind: AnchorKind) -> &Spectrogram {
        match kind {
            AnchorKind::SoundFont => &self.anchor,
            AnchorKind::Ubiq => &self.ubiq_anchor,
        }
    }

    /// Baseline features of the anchor of `kind`.
    pub fn anchor_features(&self, kind: AnchorKind) -> &[f32] {
        match kind {
            AnchorKind::SoundFont => &self.features[0],
            AnchorKind::Ubiq => &self.features[1],
        }
    }

    /// Baseline features of the positive.
    pub fn positive_features(&self) -> &[f32] {
        &self.features[2]
    }
}

/// Every rendered window of a corpus.
#[derive(Debug, Clone, Default)]
pub struct TripletData {
    /// Song ids: the file's path below the folder given, after that folder's name
    /// (`freedoom/d_e1m1.mid`; see [`Source::song`]).
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

/// The songs under `paths` whose windows are rendered, with their split (the dataset's rule:
/// a grouped corpus by group, any other song by its id; see [`discover`]). Drum-only
/// recordings (the Groove MIDI Dataset) are left out; from a grouped corpus at most
/// [`DataConfig::group_songs`] songs of a group are kept.
pub fn songs_of(paths: &[PathBuf], config: &DataConfig) -> Result<Vec<Source>, ModelError> {
    let (sources, _) = discover(paths)?;
    let mut per_group: BTreeMap<(String, String), Vec<Source>> = BTreeMap::new();
    let mut out = Vec::new();
    for s in sources.into_iter().filter(|s| !s.groove) {
        match (&s.style, config.group_songs) {
            (Some(group), n) if n > 0 => per_group
                .entry((s.corpus().to_string(), group.clone()))
                .or_default()
                .push(s),
            _ => out.push(s),
        }
    }
    for (_, mut group) in per_group {
        group.sort_by_key(|s| fnv1a(s.song.as_bytes()) ^ config.seed.rotate_left(29));
        group.truncate(config.group_songs);
        out.extend(group);
    }
    out.sort_by(|a, b| a.song.cmp(&b.song));
    Ok(out)
}

/// Which of `count` SoundFonts renders variant `variant` (0: the original key) of song
/// `song`: each song starts at its own (hashed) SoundFont and its transposed variants take
/// the next ones in turn, so every SoundFont hears every kind of song.
pub fn soundfont_for(song: &str, variant: usize, count: usize) -> usize {
    (fnv1a(song.as_bytes()) as usize).wrapping_add(variant) % count.max(1)
}

/// What renders a song's windows.
#[derive(Clone, Copy)]
struct Renderers<'a> {
    /// The stem renderers, one per SoundFont, with the SoundFont's path (part of the cache
    /// key).
    stems: &'a [(PathBuf, StemRenderer)],
    /// The ubiq anchors' renderer.
    query: &'a RenderQuery,
}

/// Why one song was left out (it goes to [`TripletData::skipped`]).
#[derive(Debug, thiserror::Error)]
#[error("{}: {reason}", file.display())]
struct SongError {
    /// The song's file.
    file: PathBuf,
    /// What went wrong.
    reason: String,
}

/// The windows of one song.
struct SongData {
    name: String,
    windows: Vec<WindowData>,
}

/// The SoundFont renders of one window in one key: what the cache holds.
#[derive(Clone)]
struct SoundFontWindow {
    beat: u32,
    shift: i8,
    anchor: Spectrogram,
    positive: Spectrogram,
    /// Baseline features of `anchor` and `positive`.
    features: [Vec<f32>; 2],
}

/// The transpositions of window `beat` of `song`: 0, then `keys − 1` distinct random non-zero
/// shifts (seeded by the song, the window and `seed`).
fn shifts_for(song: &str, beat: u32, keys: usize, seed: u64) -> Vec<i8> {
    let mut rng = Rng::new(fnv1a(song.as_bytes()) ^ (u64::from(beat) << 32) ^ seed);
    let mut out = vec![0i8];
    let span = (SHIFTS.end() - SHIFTS.start() + 1) as usize;
    while out.len() < keys.clamp(1, span) {
        let s = SHIFTS.start() + rng.below(span) as i8;
        if !out.contains(&s) {
            out.push(s);
        }
    }
    out
}

/// The cache key of one song's renders: everything that decides them except the variant.
fn song_key(file: &Path, bytes: &[u8], soundfont: &Path, config: &DataConfig) -> u64 {
    let mut key = Vec::new();
    key.extend_from_slice(&DATA_VERSION.to_le_bytes());
    for c in [N_FFT, HOP, N_MELS, FRAMES] {
        key.extend_from_slice(&(c as u64).to_le_bytes());
    }
    key.extend_from_slice(&config.hop_beats.to_le_bytes());
    key.extend_from_slice(&(config.max_windows as u64).to_le_bytes());
    key.extend_from_slice(&config.seed.to_le_bytes());
    key.extend_from_slice(&fnv1a(bytes).to_le_bytes());
    // The canonical path, so a relative and an absolute name share the cache.
    let file = std::fs::canonicalize(file).unwrap_or_else(|_| file.to_path_buf());
    key.extend_from_slice(file.to_string_lossy().as_bytes());
    key.push(0);
    key.extend_from_slice(soundfont.to_string_lossy().as_bytes());
    if let Ok(m) = std::fs::metadata(soundfont) {
        key.extend_from_slice(&m.len().to_le_bytes());
        if let Ok(t) = m.modified() {
            let d = t.duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
            key.extend_from_slice(&d.as_nanos().to_le_bytes());
        }
    }
    fnv1a(&key)
}

/// The instrument changes of a transposed training render (none for the original key, or
/// without [`DataConfig::program_jitter`]).
fn program_offsets(config: &DataConfig, song: &str, beat: u32, shift: i8) -> [u8; 16] {
    if !config.program_jitter || shift == 0 {
        return [0; 16];
    }
    let mut rng = Rng::new(
        fnv1a(song.as_bytes())
            ^ config.seed.rotate_left(17)
            ^ u64::from(beat)
            ^ (u64::from(shift as u8) << 40),
    );
    std::array::from_fn(|_| rng.below(8) as u8)
}

/// Renders (or reads from the cache in `cache_dir`) the windows of one song: with
/// `transposed`, a training song in [`DataConfig::train_keys`] keys, else once as written.
/// The SoundFont renders of each variant (key) are cached in a file of their own; the ubiq
/// anchors are rendered afresh (the dry query renderer is cheap). Windows whose melodic stem
/// or ubiq anchor is silent are left out.
fn render_song(
    source: &Source,
    renderers: &Renderers,
    analyser: &mut MelAnalyser,
    config: &DataConfig,
    transposed: bool,
    cache_dir: Option<&Path>,
) -> Result<SongData, SongError> {
    let Renderers {
        stems: soundfonts,
        query: render_query,
    } = *renderers;
    let file = source.path.as_path();
    let fail = |reason: String| SongError {
        file: file.to_path_buf(),
        reason,
    };
    let bytes = std::fs::read(file).map_err(|e| fail(e.to_string()))?;
    // Transpositions and instrument changes are seeded by the file's stem.
    let name = file
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let split = source.split;
    let keys = if transposed && split == Split::Train {
        config.train_keys.max(1)
    } else {
        1
    };
    let mut rendered = Vec::new();
    let mut missing = Vec::new();
    for variant in 0..keys {
        let font = soundfont_for(&source.song, variant, soundfonts.len());
        let key = song_key(file, &bytes, &soundfonts[font].0, config);
        // Instrument changes apply to the transposed variants only.
        let jitter = if config.program_jitter && variant > 0 {
            "j"
        } else {
            ""
        };
        let path = cache_dir.map(|d| d.join(format!("loops-{key:016x}-k{variant}{jitter}.bin")));
        match path.as_deref().and_then(|p| read_cache(p, key)) {
            Some(w) => rendered.extend(w),
            None => missing.push((variant, font, key, path)),
        }
    }
    let song = read_song(&bytes, &import_options(false, Limits::default()))
        .map_err(|e| fail(e.to_string()))?;
    // The quantised drum pattern, bassline and tonic of a window.
    let parts = |beat: u32| {
        let start = u64::from(beat) * u64::from(song.ticks_per_beat);
        let (key, _) = key::estimate(&song, start, start + 2 * song.ticks_per_bar());
        let tonic = key.root_midi(1);
        (
            drum_pattern_at(&song, start, false),
            bassline_at(&song, start, tonic),
            tonic,
        )
    };
    if !missing.is_empty() {
        let stems = MidiSong::parse(&name, &bytes).map_err(|e| fail(e.to_string()))?;
        let mut fresh: Vec<Vec<SoundFontWindow>> = vec![Vec::new(); missing.len()];
        for beat in stems.windows_every(config.hop_beats, config.max_windows) {
            let shifts = shifts_for(&name, beat, keys, config.seed);
            for (slot, (variant, font, _, _)) in missing.iter().enumerate() {
                let renderer = &soundfonts[*font].1;
                let shift = shifts.get(*variant).copied().unwrap_or(0);
                let variant = Variant {
                    semitones: shift,
                    program_offsets: program_offsets(config, &name, beat, shift),
                };
                let render = |groups: &[StemGroup]| {
                    renderer
                        .render_variant(&stems, beat, groups, &variant)
                        .map_err(|e| fail(e.to_string()))
                };
                let anchor = render(&[StemGroup::Drums, StemGroup::Bass])?;
                let positive = render(&[StemGroup::Melodic])?;
                if peak(&positive) < SILENT_PEAK || peak(&anchor) < SILENT_PEAK {
                    continue;
                }
                fresh[slot].push(SoundFontWindow {
                    beat,
                    shift,
                    anchor: Spectrogram::of(analyser, &anchor),
                    positive: Spectrogram::of(analyser, &positive),
                    features: [features(analyser, &anchor), features(analyser, &positive)],
                });
            }
        }
        for ((_, _, key, path), w) in missing.iter().zip(fresh) {
            if let Some(p) = path {
                // A cache that cannot be written only costs the next run its rendering time.
                let _ = write_cache(p, *key, &w);
            }
            rendered.extend(w);
        }
    }
    let mut windows = Vec::with_capacity(rendered.len());
    let mut queries = BTreeMap::new();
    for w in rendered {
        if w.positive.sounding_share() < config.min_sounding {
            continue;
        }
        let (drums, bass, tonic) = queries.entry(w.beat).or_insert_with(|| parts(w.beat));
        let tonic = (i16::from(*tonic) + i16::from(w.shift)).clamp(0, 127) as u8;
        let ubiq = render_query(drums, bass, tonic);
        if peak(&ubiq) < SILENT_PEAK {
            continue;
        }
        let [anchor_features, positive_features] = w.features;
        windows.push(WindowData {
            song: 0,
            split,
            beat: w.beat,
            shift: w.shift,
            anchor: w.anchor,
            ubiq_anchor: Spectrogram::of(analyser, &ubiq),
            positive: w.positive,
            features: [
                anchor_features,
                features(analyser, &ubiq),
                positive_features,
            ],
        });
    }
    windows.sort_by_key(|w| (w.beat, w.shift != 0, w.shift));
    Ok(SongData {
        name: source.song.clone(),
        windows,
    })
}

impl TripletData {
    /// Renders the windows of `songs` (see [`songs_of`]) on every core, or reads them from the
    /// cache (see the module docs): with `transposed` (training), a training song in
    /// [`DataConfig::train_keys`] keys, each key with the next of `soundfonts` in turn (see
    /// [`soundfont_for`]); without, every song once, as written, with its first SoundFont.
    /// `progress(done, total)` is called as songs finish. `render_query` renders the ubiq
    /// anchors.
    pub fn build(
        songs: &[Source],
        soundfonts: &[PathBuf],
        render_query: &RenderQuery,
        config: &DataConfig,
        transposed: bool,
        cache: &CacheMode,
        mut progress: impl FnMut(usize, usize),
    ) -> Result<TripletData, ModelError> {
        if soundfonts.is_empty() {
            return Err(ModelError::NoData("SoundFont"));
        }
        let cache_dir = cache.dir();
        let stems = soundfonts
            .iter()
            .map(|sf| Ok((sf.clone(), StemRenderer::new(sf, SAMPLE_RATE)?)))
            .collect::<Result<Vec<_>, ModelError>>()?;
        let threads = std::thread::available_parallelism()
            .map_or(1, usize::from)
            .min(songs.len().max(1));
        let next = AtomicUsize::new(0);
        let (tx, rx) = std::sync::mpsc::channel();
        let mut results = BTreeMap::new();
        std::thread::scope(|scope| {
            for _ in 0..threads {
                let tx = tx.clone();
                let next = &next;
                let renderers = Renderers {
                    stems: &stems,
                    query: render_query,
                };
                let cache_dir = cache_dir.as_deref();
                scope.spawn(move || {
                    let mut analyser = MelAnalyser::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(song) = songs.get(i) else {
                            break;
                        };
                        let done = render_song(
                            song,
                            &renderers,
                            &mut analyser,
                            config,
                            transposed,
                            cache_dir,
                        );
                        if tx.send((i, done)).is_err() {
                            break;
                        }
                    }
                });
            }
            drop(tx);
            for (i, done) in rx {
                results.insert(i, done);
                progress(results.len(), songs.len());
            }
        });
        let mut data = TripletData::default();
        for (_, done) in results {
            match done {
                Ok(song) if !song.windows.is_empty() => {
                    let index = data.songs.len();
                    data.songs.push(song.name);
                    data.windows.extend(
                        song.windows
                            .into_iter()
                            .map(|w| WindowData { song: index, ..w }),
                    );
                }
                Ok(_) => {}
                Err(e) => data.skipped.push(e.to_string()),
            }
        }
        Ok(data)
    }

    /// Indices of the windows of `split`.
    pub fn indices(&self, split: Split) -> Vec<usize> {
        (0..self.windows.len())
            .filter(|&i| self.windows[i].split == split)
            .collect()
    }

    /// Songs with windows in `split`.
    pub fn song_count(&self, split: Split) -> usize {
        self.windows
            .iter()
            .filter(|w| w.split == split)
            .map(|w| w.song)
            .collect::<BTreeSet<_>>()
            .len()
    }

    /// `negatives` triplets for every untransposed window of `split`, each negative drawn
    /// (seeded) from the untransposed windows of another song of the same split. Empty when
    /// the split has fewer than two songs.
    pub fn triplets(&self, split: Split, negatives: usize, seed: u64) -> Vec<Triplet> {
        self.triplets_where(|w| w.split == split, negatives, seed)
    }

    /// The corpus of a song: the first part of its id (`freedoom`, `mma`, …).
    pub fn corpus(&self, song: usize) -> &str {
        self.songs[song].split('/').next().unwrap_or_default()
    }

    /// `negatives` triplets for every untransposed window that `keep` keeps, each negative
    /// drawn (seeded) from the untransposed kept windows of another song. Empty when they
    /// hold fewer than two songs.
    pub fn triplets_where(
        &self,
        keep: impl Fn(&WindowData) -> bool,
        negatives: usize,
        seed: u64,
    ) -> Vec<Triplet> {
        let idx: Vec<usize> = (0..self.windows.len())
            .filter(|&i| self.windows[i].shift == 0 && keep(&self.windows[i]))
            .collect();
        let mut rng = Rng::new(seed);
        let songs: BTreeSet<usize> = idx.iter().map(|&i| self.windows[i].song).collect();
        if songs.len() < 2 {
            return Vec::new();
        }
        let mut out = Vec::with_capacity(idx.len() * negatives);
        for &a in &idx {
            for _ in 0..negatives.max(1) {
                loop {
                    let n = idx[rng.below(idx.len())];
                    if self.windows[n].song != self.windows[a].song {
                        out.push(Triplet {
                            anchor: a,
                            negative: n,
                        });
                        break;
                    }
                }
            }
        }
        out
    }
}

fn put_u32(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_le_bytes());
}

/// Writes the SoundFont renders of one variant of a song: magic, version, key, then the
/// windows (beat, shift, anchor and positive spectrograms as i16, their feature vectors as
/// f32); all little-endian.
fn write_cache(path: &Path, key: u64, windows: &[SoundFontWindow]) -> std::io::Result<()> {
    let cells = N_MELS * FRAMES;
    let mut out = Vec::with_capacity(windows.len() * (4 * cells + 8 * FEATURE_LEN + 5) + 24);
    out.extend_from_slice(MAGIC);
    put_u32(&mut out, DATA_VERSION);
    out.extend_from_slice(&key.to_le_bytes());
    put_u32(&mut out, windows.len() as u32);
    for w in windows {
        put_u32(&mut out, w.beat);
        out.push(w.shift as u8);
        for s in [&w.anchor, &w.positive] {
            for v in &s.0 {
                out.extend_from_slice(&v.to_le_bytes());
            }
        }
        for f in &w.features {
            for v in f {
                out.extend_from_slice(&v.to_le_bytes());
            }
        }
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    crate::files::write_atomic(path, &out)
}

/// A little-endian reader over the cache bytes.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.0.len() < n {
            return None;
        }
        let (head, tail) = self.0.split_at(n);
        self.0 = tail;
        Some(head)
    }

    fn u8(&mut self) -> Option<u8> {
        self.take(1).map(|b| b[0])
    }

    fn u32(&mut self) -> Option<u32> {
        self.take(4)
            .and_then(|b| b.try_into().ok())
            .map(u32::from_le_bytes)
    }
}

/// Reads one cached variant of a song; `None` when it is missing, stale or damaged.
fn read_cache(path: &Path, key: u64) -> Option<Vec<SoundFontWindow>> {
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .ok()?
        .read_to_end(&mut bytes)
        .ok()?;
    let mut r = Reader(&bytes);
    if r.take(8)? != MAGIC || r.u32()? != DATA_VERSION {
        return None;
    }
    if u64::from_le_bytes(r.take(8)?.try_into().ok()?) != key {
        return None;
    }
    let cells = N_MELS * FRAMES;
    let count = r.u32()? as usize;
    let mut windows = Vec::with_capacity(count.min(bytes.len() / (4 * cells)));
    for _ in 0..count {
        let beat = r.u32()?;
        let shift = r.u8()? as i8;
        let mut spec = || -> Option<Spectrogram> {
            let b = r.take(2 * cells)?;
            Some(Spectrogram(
                b.chunks_exact(2)
                    .map(|c| i16::from_le_bytes([c[0], c[1]]))
                    .collect(),
            ))
        };
        let (anchor, positive) = (spec()?, spec()?);
        let mut feat = || -> Option<Vec<f32>> {
            let b = r.take(4 * FEATURE_LEN)?;
            Some(
                b.chunks_exact(4)
                    .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                    .collect(),
            )
        };
        let features = [feat()?, feat()?];
        windows.push(SoundFontWindow {
            beat,
            shift,
            anchor,
            positive,
            features,
        });
    }
    r.0.is_empty().then_some(windows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shifts_start_untransposed_and_are_distinct() {
        let s = shifts_for("song", 8, 4, 1);
        assert_eq!(s[0], 0);
        assert_eq!(s.len(), 4);
        assert!(s.iter().all(|x| SHIFTS.contains(x)));
        let distinct: BTreeSet<i8> = s.iter().copied().collect();
        assert_eq!(distinct.len(), 4);
        assert_eq!(s, shifts_for("song", 8, 4, 1));
    }

    #[test]
    fn spectrogram_input_matches_the_analyser() {
        let mut an = MelAnalyser::new();
        let x: Vec<f32> = (0..64_000).map(|i| (i as f32 * 0.05).sin() * 0.3).collect();
        let direct = &an.model_input(&x)[..N_MELS * FRAMES];
        let cached = Spectrogram::of(&mut an, &x).input();
        let worst = direct
            .iter()
            .zip(&cached)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0f32, f32::max);
        assert!(worst < 1.0e-3, "{worst}");
    }
}
