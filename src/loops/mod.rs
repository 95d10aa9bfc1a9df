//! Audio loops: the library on disk, decoding, tempo fitting, the pitch-keeping time-stretch,
//! log-mel spectrograms, stems rendered from MIDI songs and
//! the hand-made feature baseline of the loop-compatibility model.
//!
//! - [`audio`]: decode (wav / flac / ogg), mono mix-down, resampling, tempo from name or
//!   length, whole bars, loudness.
//! - [`library`]: `loops/<set>/index.ron`, adding and listing loops, ranking by embedding.
//! - [`stretch`]: WSOLA time-stretch (keeps pitch), computed off the audio thread.
//! - [`mel`]: the log-mel spectrogram the model reads.
//! - [`features`]: chroma + onset-envelope features (the baseline).
//! - [`key`]: the key of a pitched loop, heard from its audio.
//! - [`stems`]: channel-group stems of multi-track MIDI songs, rendered with a SoundFont.
//! - [`watch`]: the library on disk followed while playing.

pub mod audio;
pub mod features;
pub mod key;
pub mod library;
pub mod mel;
pub mod stems;
pub mod stretch;
pub mod watch;

use thiserror::Error;

pub use crate::audio::loop_player::{LoopSet, UnknownSet};

/// Why a loop, a loop file or the library could not be used.
#[derive(Debug, Error)]
pub enum LoopError {
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// What went wrong.
        source: std::io::Error,
    },
    /// An index that cannot be written out.
    #[error("{path}: {source}")]
    Index {
        /// The index file.
        path: String,
        /// What went wrong.
        source: ron::Error,
    },
    /// A file was refused (not a SoundFont).
    #[error("{path}: {message}")]
    File {
        /// The file.
        path: String,
        /// What is wrong with it.
        message: String,
    },
    /// A file's audio cannot be a loop (wrong format, truncated, silent, too short, no tempo).
    #[error("{path}: {source}")]
    Audio {
        /// The file.
        path: String,
        /// Why its audio is refused.
        source: audio::AudioError,
    },
    /// A MIDI song cannot be read.
    #[error("{path}: {source}")]
    Song {
        /// The file.
        path: String,
        /// Why it is refused.
        source: stems::SongError,
    },
    /// No such set.
    #[error(transparent)]
    UnknownSet(#[from] UnknownSet),
    /// No loop of that name in the set.
    #[error("no loop {name:?} in set {set}")]
    UnknownLoop {
        /// The set.
        set: &'static str,
        /// The name asked for.
        name: String,
    },
    /// A SoundFont or MIDI song could not be used.
    #[error("{0}")]
    Render(String),
}

impl LoopError {
    /// A failure to read or write `path`.
    pub fn io(path: impl std::fmt::Display, source: std::io::Error) -> LoopError {
        LoopError::Io {
            path: path.to_string(),
            source,
        }
    }

    /// A refusal of `path`'s audio.
    pub fn audio(path: impl std::fmt::Display, source: audio::AudioError) -> LoopError {
        LoopError::Audio {
            path: path.to_string(),
            source,
        }
    }

    /// A refusal of `path` with `message`.
    pub fn file(path: impl std::fmt::Display, message: impl Into<String>) -> LoopError {
        LoopError::File {
            path: path.to_string(),
            message: message.into(),
        }
    }
}
