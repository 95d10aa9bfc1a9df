//! One MIDI file → its two-bar drum windows and drum+bass pairs, or the reason it gave none.
//!
//! Windows start on every bar (a one-bar hop) where that bar and the next are whole bars of
//! 4/4; windows with five hits or fewer are dropped, as the reference does.

use std::io::Read;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::midifile::key;
use crate::midifile::quantise::{bassline_at, drum_pattern_at};
use crate::midifile::{DrumMap, ImportOptions, Limits, MidiError, read_song};
use crate::pattern::{Bassline, DrumPattern, Key, Scale};

/// A window needs more hits than this to be kept.
pub const MIN_HITS_EXCLUSIVE: usize = 5;
/// Most windows taken from one file (a 2,000-bar song is well over an hour).
pub const MAX_WINDOWS_PER_FILE: usize = 2_000;

/// Why a file gave no drum windows (or no drum+bass pairs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SkipReason {
    /// The file could not be read from disk.
    Unreadable,
    /// The file is larger than the limit.
    TooLarge,
    /// Too many events, notes or bars.
    TooLong,
    /// Not a well-formed MIDI file (corrupt or truncated).
    ParseError,
    /// SMPTE timecode timing.
    Timecode,
    /// A type 2 file.
    Type2,
    /// Shorter than two bars (a one-bar fill, say).
    TooShort,
    /// No two consecutive bars of 4/4.
    NotFourFour,
    /// No drum notes.
    NoDrums,
    /// Every 4/4 window had five hits or fewer.
    TooFewHits,
    /// No bass part (GM program 32–39 or a track named bass).
    NoBass,
    /// A bass part, but silent in every kept window.
    BassSilent,
}

impl SkipReason {
    /// The stable key used in JSON reports.
    pub fn key(self) -> &'static str {
        match self {
            SkipReason::Unreadable => "unreadable",
            SkipReason::TooLarge => "too_large",
            SkipReason::TooLong => "too_long",
            SkipReason::ParseError => "parse_error",
            SkipReason::Timecode => "timecode",
            SkipReason::Type2 => "type_2",
            SkipReason::TooShort => "too_short",
            SkipReason::NotFourFour => "not_4_4",
            SkipReason::NoDrums => "no_drums",
            SkipReason::TooFewHits => "too_few_hits",
            SkipReason::NoBass => "no_bass",
            SkipReason::BassSilent => "bass_silent",
        }
    }

    /// A musician-readable phrase.
    pub fn describe(self) -> &'static str {
        match self {
            SkipReason::Unreadable => "could not be read",
            SkipReason::TooLarge => "too large",
            SkipReason::TooLong => "too long (events, notes or bars)",
            SkipReason::ParseError => "corrupt or truncated MIDI",
            SkipReason::Timecode => "SMPTE timecode timing",
            SkipReason::Type2 => "type 2 MIDI (independent sequences)",
            SkipReason::TooShort => "shorter than two bars",
            SkipReason::NotFourFour => "no two bars of 4/4",
            SkipReason::NoDrums => "no drums",
            SkipReason::TooFewHits => "only sparse windows (≤ 5 hits)",
            SkipReason::NoBass => "no bass part",
            SkipReason::BassSilent => "bass silent in the drum windows",
        }
    }

    fn of(error: &MidiError) -> SkipReason {
        match error {
            MidiError::Parse(_) => SkipReason::ParseError,
            MidiError::TooLarge { .. } => SkipReason::TooLarge,
            MidiError::TooLong(_) => SkipReason::TooLong,
            MidiError::Timecode => SkipReason::Timecode,
            MidiError::Sequential => SkipReason::Type2,
            MidiError::NotFourFour => SkipReason::NotFourFour,
        }
    }
}

/// A drum window as extracted, before deduplication.
#[derive(Debug, Clone, PartialEq)]
pub struct RawWindow {
    /// The pattern.
    pub pattern: DrumPattern,
    /// First bar (0-based) of the window in its file.
    pub bar: u32,
    /// Tempo at the window's start.
    pub bpm: f32,
}

/// A drum+bass pair as extracted.
#[derive(Debug, Clone, PartialEq)]
pub struct RawPair {
    /// Index of its drum window in [`FileOutcome::windows`].
    pub window: usize,
    /// The bassline, relative to `tonic`.
    pub bass: Bassline,
    /// The estimated key's root in octave 1, as a MIDI note.
    pub tonic: u8,
    /// Estimated key.
    pub key: Key,
    /// Estimated mode.
    pub scale: Scale,
}

/// What one file gave.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FileOutcome {
    /// Its drum windows with more than five hits.
    pub windows: Vec<RawWindow>,
    /// Its drum+bass pairs.
    pub pairs: Vec<RawPair>,
    /// 4/4 windows dropped for having five hits or fewer.
    pub sparse: usize,
    /// Why there are no windows, when there are none.
    pub drum_skip: Option<SkipReason>,
    /// Why there are no pairs, when there are none.
    pub pair_skip: Option<SkipReason>,
}

impl FileOutcome {
    pub(crate) fn skipped(reason: SkipReason) -> FileOutcome {
        FileOutcome {
            drum_skip: Some(reason),
            pair_skip: Some(reason),
            ..FileOutcome::default()
        }
    }
}

/// Import options for a file: the TD-11 map, every channel drums, for Groove MIDI Dataset
/// recordings; General MIDI otherwise.
pub fn import_options(groove: bool, limits: Limits) -> ImportOptions {
    ImportOptions {
        drum_map: if groove {
            DrumMap::RolandTd11
        } else {
            DrumMap::GeneralMidi
        },
        all_channels_are_drums: groove,
        limits,
    }
}

/// Reads and extracts one file, never reading more than the size limit.
pub fn extract_file(path: &Path, options: &ImportOptions) -> FileOutcome {
    let limit = options.limits.max_file_bytes;
    let Ok(file) = std::fs::File::open(path) else {
        return FileOutcome::skipped(SkipReason::Unreadable);
    };
    let mut bytes = Vec::new();
    if file.take(limit + 1).read_to_end(&mut bytes).is_err() {
        return FileOutcome::skipped(SkipReason::Unreadable);
    }
    extract_bytes(&bytes, options)
}

/// Extracts windows and pairs from the bytes of a MIDI file. Never panics; every cost is
/// bounded by `options.limits` and [`MAX_WINDOWS_PER_FILE`].
pub fn extract_bytes(bytes: &[u8], options: &ImportOptions) -> FileOutcome {
    let song = match read_song(bytes, options) {
        Ok(song) => song,
        Err(e) => return FileOutcome::skipped(SkipReason::of(&e)),
    };
    if song.drums.is_empty() {
        return FileOutcome::skipped(SkipReason::NoDrums);
    }
    let bars = match song.bars(&options.limits) {
        Ok(bars) => bars,
        Err(e) => return FileOutcome::skipped(SkipReason::of(&e)),
    };
    if bars.len() < 2 {
        return FileOutcome::skipped(SkipReason::TooShort);
    }
    let has_bass = song.notes.iter().any(|n| n.bass);
    let cycle = song.ticks_per_bar() * 2;
    let mut out = FileOutcome::default();
    let mut any_four_four = false;
    for (index, pair) in bars.windows(2).enumerate() {
        if !(pair[0].four_four && pair[1].four_four) {
            continue;
        }
        any_four_four = true;
        if out.windows.len() >= MAX_WINDOWS_PER_FILE {
            break;
        }
        let start = pair[0].start;
        let pattern = drum_pattern_at(&song, start, false);
        if pattern.total_hits() <= MIN_HITS_EXCLUSIVE {
            out.sparse += 1;
            continue;
        }
        let window = out.windows.len();
        out.windows.push(RawWindow {
            pattern,
            bar: index as u32,
            bpm: song.bpm_at(start),
        });
        if has_bass {
            let (key, scale) = key::estimate(&song, start, start + cycle);
            let tonic = key.root_midi(1);
            let bass = bassline_at(&song, start, tonic);
            if bass.note_count() > 0 {
                out.pairs.push(RawPair {
                    window,
                    bass,
                    tonic,
                    key,
                    scale,
                });
            }
        }
    }
    if out.windows.is_empty() {
        let reason = if any_four_four {
            SkipReason::TooFewHits
        } else {
            SkipReason::NotFourFour
        };
        out.drum_skip = Some(reason);
        out.pair_skip = Some(reason);
    } else if !has_bass {
        out.pair_skip = Some(SkipReason::NoBass);
    } else if out.pairs.is_empty() {
        out.pair_skip = Some(SkipReason::BassSilent);
    }
    out
}
