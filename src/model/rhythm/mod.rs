//! The rhythm VAE: a two-bar drum pattern ↔ a point of a 2-D latent plane, steered by kick and
//! hi-hat density.
//!
//! - [`model`]: the Burn module and its one `forward`.
//! - [`train`](mod@train): loss and the training steps on the shared epoch loop.
//! - [`infer`]: [`RhythmModel`], the engine's API (load, decode, encode, batch decode) and the
//!   embedded default model.
//! - [`fast`]: decode and encode on plain floats, for every cycle.
//! - [`eval`]: reconstruction, baselines, conditioning control and diversity.
//! - [`latent_map`]: latent positions of training windows with their style labels.
//! - [`style`]: how a run of windows plays (variety, change, kick level, syncopation).

pub mod eval;
pub mod fast;
pub mod infer;
pub mod latent_map;
pub mod model;
pub mod style;
pub mod train;

pub use infer::{Conditions, DecodeOptions, RhythmModel};
pub use model::{ConditionStats, RhythmVae, RhythmVaeConfig};
pub use train::{TrainingConfig, train};
