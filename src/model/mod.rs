//! The neural networks: model definitions, training, inference and evaluation, in Burn.
//!
//! - [`bass`]: rhythm → bassline translation (seq2seq LSTM).
//! - [`rng`]: the small seeded generator every random choice of training and sampling uses.

pub mod bass;
pub mod rng;
