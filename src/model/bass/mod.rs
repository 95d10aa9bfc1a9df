//! Rhythm → bassline translation: a seq2seq LSTM that reads a two-bar drum pattern and writes
//! the bassline played with it, in the set's key.
//!
//! - [`model`]: the Burn module, its tokens and features, and the one teacher-forced `forward`.
//! - [`train`]: loss, training loop, early stopping.
//! - [`infer`]: [`BassModel`], the engine's API (load, translate) and the embedded default.
//! - [`eval`]: token accuracy, onsets, pitch classes, scale and emptiness, with baselines.

pub mod eval;
pub mod infer;
pub mod model;
pub mod train;

pub use infer::{BassModel, TranslateOptions};
pub use model::{BassNet, BassNetConfig};
pub use train::{TrainingConfig, train};

/// Errors of the bass model.
#[derive(Debug, thiserror::Error)]
pub enum BassError {
    /// A model file could not be read.
    #[error("cannot read bass model {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// A model file could not be written.
    #[error("cannot write bass model {path}: {source}")]
    Write {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The bytes are not a bass model of this architecture.
    #[error("{origin} is not a usable bass model: {reason}")]
    Format {
        /// Where the bytes came from (a path or "the embedded bass model").
        origin: String,
        /// What was wrong.
        reason: String,
    },
    /// The configuration beside a model file is unreadable.
    #[error("cannot read bass model configuration {path}: {reason}")]
    Meta {
        /// The file.
        path: String,
        /// What was wrong.
        reason: String,
    },
    /// Invalid training settings.
    #[error("invalid training settings: {0}")]
    Config(String),
    /// No pairs to learn or measure from.
    #[error("no {0} drum+bass pairs")]
    NoData(&'static str),
}
