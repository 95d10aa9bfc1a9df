//! Everything that runs on (or feeds) the audio thread.
//!
//! The graph ([`synth::Synth`]) is one value that renders interleaved stereo. The control side
//! talks to it only through [`link`](mod@link): a lock-free queue in, atomics out. Backends
//! drive the same graph: a cpal device ([`output`]), the silent clock ([`silent`]) or the
//! engine's offline render.

pub mod bass;
pub mod deck;
pub mod drums;
pub mod dsp;
pub mod fx;
pub mod input;
pub mod kit;
pub mod link;
pub mod loop_player;
pub mod master;
pub mod mixer;
pub mod output;
pub mod params;
pub mod plan;
pub mod quiet;
pub mod record;
pub mod sequencer;
pub mod silent;
pub mod slot;
pub mod synth;

pub use link::{AudioCore, AudioHandle, AudioMsg, Status, link};
pub use params::{Params, Track};
pub use plan::CyclePlan;
