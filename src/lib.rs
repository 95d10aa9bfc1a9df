//! ubiq — a terminal instrument for improvised, AI-driven live performance.
//!
//! Small neural networks compose two-bar drum patterns, basslines and loop choices while a
//! performer steers them. This crate holds the whole instrument; `main.rs` only parses the
//! command line.
//!
//! - [`pattern`]: drum patterns, basslines, keys and the grid syntax.
//! - [`scene`]: RON scene files.
//! - [`command`]: the one command type every input path speaks, and its table.
//! - [`audio`]: the real-time graph, its lock-free link, the deck and the device backends.
//! - [`performance`]: the musical state, what each command changes, the AI's turn, loop
//!   ranking, the set list.
//! - [`engine`]: the conductor that carries out every change, and its two stages: the live
//!   engine thread and the offline driver (renders to WAV and MIDI).
//! - [`snapshot`]: the picture of the performance the front ends draw.
//! - [`fastmath`]: `exp`, `log10`, logistic and `tanh` in plain arithmetic (they vectorise).
//! - [`loops`]: the loop library, loop playback, stems and spectrograms.
//! - [`model`]: the neural networks in Burn: the rhythm VAE, rhythm → bassline translation and
//!   the loop-compatibility model.
//! - [`midi`]: live MIDI: notes and clock out, controllers and clock in, note maps, ports.
//! - [`midifile`]: standard MIDI files: import, export, quantising, drum maps, key estimation.
//! - [`dataset`]: training data (drum windows, drum+bass pairs, splits) from MIDI corpora.
//! - Front ends, both driven from engine snapshots: [`ui`], the full-screen terminal
//!   interface, and [`headless`], commands on stdin and a status line (or JSON object) per
//!   cycle on stdout.
//! - [`bench`](mod@bench): timings of the AI's work per cycle (`ubiq bench`).
//! - [`soak`]: a long accelerated performance with a careless performer (`ubiq soak`).
//! - [`text`]: text from outside (names, paths, file text, arguments) escaped and cut before
//!   it reaches a terminal.
//! - [`watch`]: folder watching for the hot reloads (writes only; folders that come back).
//! - [`app`]: the subcommands as the binary runs them, one module per verb; each wires its
//!   parts together (`ubiq play` picks the front end).

pub mod app;
pub mod audio;
pub mod bench;
pub mod command;
pub mod dataset;
pub mod engine;
pub mod fastmath;
pub mod files;
pub mod headless;
pub mod kit;
pub mod loops;
pub mod midi;
pub mod midifile;
pub mod model;
pub mod pattern;
pub mod performance;
pub mod scene;
pub mod snapshot;
pub mod soak;
pub mod text;
pub mod ui;
pub mod watch;
pub mod wav;
