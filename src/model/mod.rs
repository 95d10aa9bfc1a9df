//! The neural networks: model definitions, training, inference and evaluation, in Burn.
//!
//! - [`artifact`]: model files (weights, metadata beside them, the embedded defaults) and
//!   [`ModelError`], the one error type of the models.
//! - [`registry`]: the models the engine composes with — what is loaded, from where, with its
//!   latent map — and the loop library.
//! - [`train_loop`]: the epoch loop every trainer runs (early stopping, progress, history).
//! - [`bass`]: rhythm → bassline translation (seq2seq LSTM).
//! - [`loops`]: the loop-compatibility model (Siamese CNN over log-mel spectrograms, triplet
//!   loss).
//! - [`rhythm`]: the rhythm VAE (two-bar drum pattern ↔ 2-D latent point, conditioned on kick
//!   and hi-hat density).
//! - [`rng`]: the small seeded generator every random choice of training and sampling uses.
//! - [`Backend`]: which Burn backend runs a model.

pub mod artifact;
pub mod bass;
pub mod loops;
pub(crate) mod plain;
pub mod registry;
pub mod rhythm;
pub mod rhythmvae;
pub mod rng;
pub mod train_loop;

pub use artifact::ModelError;

use burn::tensor::Device;

/// The Burn backends ubiq compiles in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Backend {
    /// Burn's pure-Rust CPU backend (the default and the faster one).
    #[default]
    Flex,
    /// The ndarray CPU backend (deprecated upstream, kept because the product card names it).
    Ndarray,
}

impl Backend {
    /// The inference device of this backend.
    pub fn device(self) -> Device {
        match self {
            Backend::Flex => Device::flex(),
            #[allow(deprecated)]
            Backend::Ndarray => Device::ndarray(),
        }
    }

    /// The name `--backend` takes.
    pub fn name(self) -> &'static str {
        match self {
            Backend::Flex => "flex",
            Backend::Ndarray => "ndarray",
        }
    }
}
