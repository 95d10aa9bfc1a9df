//! ubiq — a terminal instrument for improvised, AI-driven live performance.
//!
//! Small neural networks compose two-bar drum patterns, basslines and loop choices while a
//! performer steers them. This crate holds the whole instrument; `main.rs` only parses the
//! command line.
//!
//! - [`pattern`]: drum patterns, basslines, keys and the grid syntax.
//! - [`scene`]: RON scene files.
//! - [`audio`]: the real-time graph, its lock-free link and the output backends.
//! - [`render`]: offline rendering to WAV.
//! - [`model`]: the neural networks (Burn): the rhythm VAE.
//! - [`app`]: the subcommands as the binary runs them.

pub mod app;
pub mod audio;
pub mod files;
pub mod model;
pub mod pattern;
pub mod render;
pub mod scene;
pub mod wav;
