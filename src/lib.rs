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
//! - [`loops`]: the loop library, loop playback, stems and spectrograms.
//! - [`model`]: the neural networks (the loop-compatibility model).
//! - [`midi`]: standard MIDI files in and out.
//! - [`dataset`]: training data (drum windows, drum+bass pairs, splits) from MIDI corpora.
//! - [`model`]: the neural networks (Burn): rhythm → bassline translation.
//! - [`engine`]: the performance state and the live engine thread.
//! - [`ui`]: the full-screen terminal interface.
//! - [`model`]: the neural networks (Burn): the rhythm VAE.
//! - [`app`]: the subcommands as the binary runs them.

pub mod app;
pub mod audio;
pub mod command;
pub mod dataset;
pub mod engine;
pub mod files;
pub mod loops;
pub mod midi;
pub mod model;
pub mod pattern;
pub mod render;
pub mod scene;
pub mod ui;
pub mod wav;
