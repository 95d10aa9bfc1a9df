//! Live MIDI: notes and clock out to gear, controllers and clock in (standard MIDI files are
//! [`crate::midifile`]).
//!
//! - [`out`]: drums, bass and clock scheduled on the audio timeline, sent from their own
//!   thread.
//! - [`input`]: clock follow and controller bindings with learn mode, reported through a
//!   callback.
//! - [`map`]: note maps (General MIDI, TR-8S, RD-8, Digitakt or a RON file) and controller
//!   bindings in RON.
//! - [`clock`]: timestamps, clock messages and the tempo follower.
//! - [`ports`]: JACK or ALSA ports by name, reconnected when they come back.

pub mod clock;
pub mod input;
pub mod map;
pub mod out;
pub mod ports;
