//! The rhythm VAE: a two-bar drum pattern ↔ a point of a 2-D latent plane, steered by kick and
//! hi-hat density.
//!
//! - [`model`]: the Burn module and its one `forward`.
//! - [`train`]: loss, training loop, early stopping.
//! - [`infer`]: [`RhythmModel`], the engine's API (load, decode, encode, batch decode) and the
//!   embedded default model.
//! - [`fast`]: decode and encode on plain floats, for every cycle.
//! - [`eval`]: reconstruction, baselines, conditioning control and diversity.
//! - [`latent_map`]: latent positions of training windows with their style labels.

pub mod eval;
pub mod fast;
pub mod infer;
pub mod latent_map;
pub mod model;
pub mod train;

pub use infer::{Conditions, DecodeOptions, RhythmModel};
pub use model::{ConditionStats, RhythmVae, RhythmVaeConfig};
pub use train::{TrainingConfig, train};

/// Errors of the rhythm model.
#[derive(Debug, thiserror::Error)]
pub enum RhythmError {
    /// A model file could not be read.
    #[error("cannot read rhythm model {path}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// A model file could not be written.
    #[error("cannot write rhythm model {path}")]
    Write {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The bytes are not a rhythm VAE of this architecture.
    #[error("{origin} is not a usable rhythm model: {reason}")]
    Format {
        /// Where the bytes came from (a path or "the embedded model").
        origin: String,
        /// What was wrong.
        reason: String,
    },
    /// The configuration beside a model file is unreadable.
    #[error("cannot read model configuration {path}: {reason}")]
    Meta {
        /// The file.
        path: String,
        /// What was wrong.
        reason: String,
    },
    /// Invalid training settings.
    #[error("invalid training settings: {0}")]
    Config(String),
    /// No windows to learn or measure from.
    #[error("no {0} windows")]
    NoData(&'static str),
}
