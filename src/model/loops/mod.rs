//! The loop-compatibility model: a Siamese network that embeds the log-mel spectrogram (a CNN)
//! and the chroma (circular convolutions over the pitch classes) of a tempo-normalised two-bar
//! loop so that loops that fit together lie close.
//!
//! - [`model`]: the module, its configuration and the one `forward`.
//! - [`data`]: triplets (drums+bass anchor, melodic positive from the same window, melodic
//!   negative from another song) rendered from multi-track MIDI songs.
//! - [`train`]: triplet-loss training.
//! - [`infer`]: loading (file or embedded default) and embedding.
//! - [`fast`]: the embedding on plain floats, for every cycle.
//! - [`eval`]: triplet accuracy and ROC-AUC against the random and feature baselines.

pub mod data;
pub mod eval;
pub mod fast;
pub mod infer;
pub mod model;
pub mod train;
