//! What front ends draw: an immutable picture of the performance, published by the engine.

use crate::audio::Status;
use crate::audio::params::{Params, Track};
use crate::pattern::{Bassline, DrumPattern, Key, Scale};

/// A message for the performer (command results, reload errors).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    /// False for errors.
    pub ok: bool,
    /// One line.
    pub text: String,
}

/// The drums and bass of one cycle as the audio thread was given them.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Playing {
    /// The drum pattern.
    pub pattern: DrumPattern,
    /// The bassline (pitches relative to `tonic`).
    pub bassline: Bassline,
    /// MIDI note the bassline is relative to.
    pub tonic: u8,
}

/// The state of the performance at one moment.
#[derive(Debug, Clone, PartialEq)]
pub struct Snapshot {
    /// Scene name.
    pub scene: String,
    /// What the audio thread reported (playhead, levels, load).
    pub status: Status,
    /// Tempo the next cycle will play at.
    pub tempo_bpm: f32,
    /// Swing the next cycle will play with.
    pub swing: f32,
    /// The drum pattern the engine last queued: what the next cycle plays.
    pub pattern: DrumPattern,
    /// The bassline the engine last queued (pitches relative to `tonic`).
    pub bassline: Bassline,
    /// MIDI note the bassline is relative to.
    pub tonic: u8,
    /// What the audio thread plays in the current cycle (equal to the queued material once
    /// the queued cycle has started).
    pub playing: Playing,
    /// The set's key.
    pub key: Key,
    /// The set's scale.
    pub scale: Scale,
    /// Effective settings (solo applied).
    pub params: Params,
    /// Soloed track.
    pub solo: Option<Track>,
    /// The audio output in words.
    pub output: String,
    /// MIDI in words: `off`, or ports, clock out and the followed clock.
    pub midi: String,
    /// The latest notice.
    pub notice: Option<Notice>,
}
