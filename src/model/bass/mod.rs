//! Rhythm → bassline translation: a seq2seq LSTM that reads a two-bar drum pattern and writes
//! the bassline played with it, in the set's key.
//!
//! - [`model`]: the Burn module, its tokens and features, and the one teacher-forced `forward`.
//! - [`train`](mod@train): loss and the training steps on the shared epoch loop.
//! - [`infer`]: [`BassModel`], the engine's API (load, translate) and the embedded default.
//! - [`fast`]: the network on plain floats, step by step, for every cycle.
//! - [`eval`]: token accuracy, onsets, pitch classes, scale and emptiness, with baselines.
//! - [`style`]: how lines move (tonic share, repeated notes, notes a bar, range, pitch
//!   classes, notes on kicks), for songs, the model and rendered sets alike.

pub mod eval;
pub mod fast;
pub mod infer;
pub mod model;
pub mod style;
pub mod train;

pub use infer::{BassModel, TranslateOptions};
pub use model::{BassNet, BassNetConfig};
pub use train::{TrainingConfig, train};
