//! The neural networks: model definitions, training, inference and evaluation, in Burn.
//!
//! - [`loops`]: the loop-compatibility model (Siamese CNN over log-mel spectrograms, triplet
//!   loss).
//! - [`rng`]: the small seeded generator every random choice of training and sampling uses.

pub mod loops;
pub mod rng;
