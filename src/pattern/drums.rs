//! Drum voices, cells and the two-bar drum pattern.

use serde::{Deserialize, Serialize};

use super::STEPS;

/// The nine drum classes of Magenta's GrooVAE, in their canonical order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Voice {
    /// Bass drum.
    Kick,
    /// Snare drum (also rimshot and clap).
    Snare,
    /// Closed hi-hat (also pedal hi-hat).
    ClosedHat,
    /// Open hi-hat.
    OpenHat,
    /// Low (floor) tom.
    LowTom,
    /// Mid tom.
    MidTom,
    /// High tom.
    HighTom,
    /// Crash cymbal.
    Crash,
    /// Ride cymbal (also ride bell).
    Ride,
}

impl Voice {
    /// Number of voices.
    pub const COUNT: usize = 9;
    /// All voices in canonical order (the row order of every grid).
    pub const ALL: [Voice; Voice::COUNT] = [
        Voice::Kick,
        Voice::Snare,
        Voice::ClosedHat,
        Voice::OpenHat,
        Voice::LowTom,
        Voice::MidTom,
        Voice::HighTom,
        Voice::Crash,
        Voice::Ride,
    ];

    /// Row index of this voice in a pattern.
    pub fn index(self) -> usize {
        self as usize
    }

    /// The name used in scene files and commands (`kick`, `closed_hat`, …).
    pub fn name(self) -> &'static str {
        match self {
            Voice::Kick => "kick",
            Voice::Snare => "snare",
            Voice::ClosedHat => "closed_hat",
            Voice::OpenHat => "open_hat",
            Voice::LowTom => "low_tom",
            Voice::MidTom => "mid_tom",
            Voice::HighTom => "high_tom",
            Voice::Crash => "crash",
            Voice::Ride => "ride",
        }
    }

    /// A two-letter label for narrow displays.
    pub fn short(self) -> &'static str {
        match self {
            Voice::Kick => "BD",
            Voice::Snare => "SD",
            Voice::ClosedHat => "CH",
            Voice::OpenHat => "OH",
            Voice::LowTom => "LT",
            Voice::MidTom => "MT",
            Voice::HighTom => "HT",
            Voice::Crash => "CR",
            Voice::Ride => "RD",
        }
    }

    /// Looks a voice up by its scene-file name.
    pub fn from_name(name: &str) -> Option<Voice> {
        Voice::ALL.into_iter().find(|v| v.name() == name)
    }
}

/// One cell of the drum grid.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct DrumCell {
    /// Whether the voice sounds on this step.
    pub hit: bool,
    /// Loudness 0..1 (only meaningful when `hit`).
    pub velocity: f32,
    /// Micro-timing offset in steps, −0.5 (early) ..0.5 (late).
    pub offset: f32,
}

impl DrumCell {
    /// A hit with the given velocity and offset, both clamped into range.
    pub fn hit(velocity: f32, offset: f32) -> Self {
        DrumCell {
            hit: true,
            velocity: velocity.clamp(0.0, 1.0),
            offset: offset.clamp(-0.5, 0.5),
        }
    }
}

/// A two-bar drum pattern: 32 steps × 9 voices.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DrumPattern {
    cells: [[DrumCell; STEPS]; Voice::COUNT],
}

impl Default for DrumPattern {
    fn default() -> Self {
        DrumPattern {
            cells: [[DrumCell::default(); STEPS]; Voice::COUNT],
        }
    }
}

impl DrumPattern {
    /// An empty pattern.
    pub fn new() -> Self {
        Self::default()
    }

    /// The cell of `voice` at `step` (0..32).
    pub fn get(&self, voice: Voice, step: usize) -> DrumCell {
        self.cells[voice.index()][step]
    }

    /// Replaces the cell of `voice` at `step` (0..32).
    pub fn set(&mut self, voice: Voice, step: usize, cell: DrumCell) {
        self.cells[voice.index()][step] = cell;
    }

    /// The 32 cells of one voice.
    pub fn row(&self, voice: Voice) -> &[DrumCell; STEPS] {
        &self.cells[voice.index()]
    }

    /// Mutable access to the 32 cells of one voice.
    pub fn row_mut(&mut self, voice: Voice) -> &mut [DrumCell; STEPS] {
        &mut self.cells[voice.index()]
    }

    /// Number of hits of one voice.
    pub fn count(&self, voice: Voice) -> usize {
        self.row(voice).iter().filter(|c| c.hit).count()
    }

    /// Number of hits over all voices.
    pub fn total_hits(&self) -> usize {
        Voice::ALL.iter().map(|&v| self.count(v)).sum()
    }

    /// True when no voice sounds.
    pub fn is_empty(&self) -> bool {
        self.total_hits() == 0
    }
}
