//! Loop playback on the audio thread, and the loop sets it plays.
//!
//! A [`LoopBuffer`] is prepared on a worker thread: decoded, converted to the device rate and
//! time-stretched (the loop library's WSOLA) to exactly one cycle (two bars) at the set's tempo.
//! It travels to the audio thread boxed through a lock-free queue; the player starts it on the
//! next cycle boundary with a short crossfade from what played before, and sends every buffer
//! it lets go back through a second queue, so the control side frees it. The audio thread only
//! reads prepared samples.

use serde::{Deserialize, Serialize};
use thiserror::Error;

use super::Track;

/// The loop sets of the library (one folder and one mixer track each).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LoopSet {
    /// Melodic loops (chords, leads, pads).
    Music,
    /// Textures and field-recording-like sound.
    Ambient,
    /// Human voice.
    Voice,
    /// Drum loops rendered from patterns (each stored with its pattern).
    Rhythm,
}

impl LoopSet {
    /// Number of sets.
    pub const COUNT: usize = 4;
    /// All sets in mixer order.
    pub const ALL: [LoopSet; LoopSet::COUNT] = [
        LoopSet::Music,
        LoopSet::Ambient,
        LoopSet::Voice,
        LoopSet::Rhythm,
    ];

    /// Folder and command name.
    pub fn name(self) -> &'static str {
        match self {
            LoopSet::Music => "music",
            LoopSet::Ambient => "ambient",
            LoopSet::Voice => "voice",
            LoopSet::Rhythm => "rhythm",
        }
    }

    /// Parses a set name.
    pub fn from_name(name: &str) -> Result<LoopSet, UnknownSet> {
        LoopSet::ALL
            .into_iter()
            .find(|s| s.name() == name.trim())
            .ok_or_else(|| UnknownSet(name.to_string()))
    }

    /// Index in [`LoopSet::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }

    /// Whether its loops sound a key (the rhythm set's drum loops do not).
    pub fn pitched(self) -> bool {
        self != LoopSet::Rhythm
    }

    /// The mixer track that plays this set.
    pub fn track(self) -> Track {
        match self {
            LoopSet::Music => Track::Music,
            LoopSet::Ambient => Track::Ambient,
            LoopSet::Voice => Track::Voice,
            LoopSet::Rhythm => Track::Rhythm,
        }
    }
}

/// A name that is not a loop set.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("unknown loop set {0:?} (expected music, ambient, voice or rhythm)")]
pub struct UnknownSet(pub String);

/// Crossfade between the old and the new loop at a switch, in seconds.
pub const CROSSFADE_S: f32 = 0.03;

/// One cycle of loop audio at the device rate, ready to play.
#[derive(Debug, Clone, PartialEq)]
pub struct LoopBuffer {
    /// Mono samples of one cycle at `tempo_bpm`.
    pub samples: Vec<f32>,
    /// Tempo the buffer was stretched to.
    pub tempo_bpm: f32,
    /// Library name of the loop (for displays).
    pub name: String,
}

/// What a loop track should do from its next cycle on.
#[derive(Debug)]
pub enum LoopCue {
    /// Play this buffer.
    Play(Box<LoopBuffer>),
    /// Fall silent.
    Stop,
}

#[derive(Debug, Default)]
struct Slot {
    current: Option<Box<LoopBuffer>>,
    pending: Option<LoopCue>,
    fading: Option<Box<LoopBuffer>>,
    fade_left: usize,
}

/// The loop tracks' players: one per [`LoopSet`].
#[derive(Debug)]
pub struct LoopPlayers {
    slots: [Slot; LoopSet::COUNT],
    frame_in_cycle: usize,
    cycle_frames: usize,
    fade_frames: usize,
}

impl LoopPlayers {
    /// Silent players at `sample_rate`.
    pub fn new(sample_rate: f32) -> Self {
        LoopPlayers {
            slots: Default::default(),
            frame_in_cycle: 0,
            cycle_frames: 1,
            fade_frames: ((sample_rate * CROSSFADE_S) as usize).max(1),
        }
    }

    /// Queues `cue` for `set` from the next cycle boundary; returns the buffer of a cue it
    /// replaces, for the caller to hand back to the control side.
    pub fn cue(&mut self, set: LoopSet, cue: LoopCue) -> Option<Box<LoopBuffer>> {
        match self.slots[set.index()].pending.replace(cue) {
            Some(LoopCue::Play(b)) => Some(b),
            _ => None,
        }
    }

    /// A cycle of `cycle_frames` frames starts now: pending cues take over, the loops they
    /// replace fade out. Each buffer let go is passed to `release`.
    pub fn cycle_start(&mut self, cycle_frames: usize, mut release: impl FnMut(Box<LoopBuffer>)) {
        self.frame_in_cycle = 0;
        self.cycle_frames = cycle_frames.max(1);
        for slot in &mut self.slots {
            let Some(cue) = slot.pending.take() else {
                continue;
            };
            if let Some(old) = slot.fading.take() {
                release(old);
            }
            slot.fading = slot.current.take();
            slot.fade_left = if slot.fading.is_some() {
                self.fade_frames
            } else {
                0
            };
            if let LoopCue::Play(buffer) = cue {
                slot.current = Some(buffer);
            }
        }
    }

    /// Adds `frames` samples of every loop track to `outs` (one mono buffer per set, at least
    /// `frames` long). Before the first cycle starts, the players advance silently.
    pub fn render(
        &mut self,
        outs: &mut [&mut [f32]; LoopSet::COUNT],
        frames: usize,
        mut release: impl FnMut(Box<LoopBuffer>),
    ) {
        let start = self.frame_in_cycle;
        let cycle = self.cycle_frames;
        let fade = self.fade_frames;
        for (slot, out) in self.slots.iter_mut().zip(outs.iter_mut()) {
            let fade_left_before = slot.fade_left;
            if let Some(buf) = &slot.current {
                let fade_in = if slot.fading.is_some() {
                    Some(fade_left_before)
                } else {
                    None
                };
                play(buf, &mut out[..frames], start, cycle, |i| match fade_in {
                    Some(left) if i < left => 1.0 - (left - i) as f32 / fade as f32,
                    _ => 1.0,
                });
            }
            if let Some(old) = &slot.fading {
                // The old loop goes on where it was (the cycle before) while it fades out.
                let left = fade_left_before;
                play(old, &mut out[..frames], start, cycle, |i| {
                    if i < left {
                        (left - i) as f32 / fade as f32
                    } else {
                        0.0
                    }
                });
                slot.fade_left = left.saturating_sub(frames);
                if slot.fade_left == 0
                    && let Some(done) = slot.fading.take()
                {
                    release(done);
                }
            }
        }
        self.frame_in_cycle = start + frames;
    }

    /// Name of the loop each set plays (`None` when silent).
    pub fn playing(&self, set: LoopSet) -> Option<&str> {
        self.slots[set.index()]
            .current
            .as_deref()
            .map(|b| b.name.as_str())
    }
}

/// Adds `out.len()` samples of `buf` starting at cycle frame `start`, read at the phase of the
/// cycle (a buffer prepared for another tempo plays varispeed until its replacement arrives),
/// scaled by `gain(i)`.
fn play(
    buf: &LoopBuffer,
    out: &mut [f32],
    start: usize,
    cycle: usize,
    gain: impl Fn(usize) -> f32,
) {
    let len = buf.samples.len();
    if len == 0 {
        return;
    }
    let ratio = len as f64 / cycle as f64;
    for (i, o) in out.iter_mut().enumerate() {
        let g = gain(i);
        if g == 0.0 {
            continue;
        }
        let pos = ((start + i) as f64 * ratio) as usize % len;
        *o += buf.samples[pos] * g;
    }
}
