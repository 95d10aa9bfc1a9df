//! Offline rendering to WAV and MIDI: the same graph as on stage, driven as fast as the CPU
//! allows.

use std::path::Path;

use thiserror::Error;

use super::offline::{Offline, Rendered};
use crate::model::registry::Models;
use crate::scene::Scene;

/// What to render.
#[derive(Debug, Clone, Copy)]
pub struct RenderOptions {
    /// Length in bars (a cycle is two bars).
    pub bars: u32,
    /// Output sample rate.
    pub sample_rate: u32,
    /// Seed of every noise source: same inputs and seed, same file.
    pub seed: u64,
}

/// Why a render failed.
#[derive(Debug, Error)]
pub enum RenderError {
    /// The WAV file could not be written.
    #[error("cannot write {path}: {message}")]
    Write {
        /// Target file.
        path: String,
        /// What went wrong.
        message: String,
    },
}

/// Frames in `bars` bars of `scene` at `sample_rate` (rounded to the nearest frame).
pub fn frames_for_bars(scene: &Scene, bars: u32, sample_rate: u32) -> usize {
    (scene.cycle_frames(sample_rate) * f64::from(bars) / 2.0).round() as usize
}

/// Performs the scene offline for `bars` bars with `models` — the AI composes, listens and
/// cues loops exactly as on stage, with no performer — and returns the samples (frame 0 on the
/// first downbeat), the events played and the replayable log.
pub fn render_set(scene: &Scene, models: &mut Models, opts: &RenderOptions) -> Rendered {
    let frames = frames_for_bars(scene, opts.bars, opts.sample_rate) as u64;
    Offline::perform(scene, models, frames, opts.sample_rate, opts.seed)
}

/// Renders the scene as written (no models), to interleaved stereo samples aligned so that
/// frame 0 is the downbeat.
pub fn render_scene(scene: &Scene, opts: &RenderOptions) -> Vec<f32> {
    render_set(scene, &mut Models::none(), opts).samples
}

/// The MIDI that MIDI out would have sent for a rendered set: (frame from the first sample,
/// message), through the same voicer and note map as on stage.
pub fn midi_of(rendered: &Rendered, map: &crate::midi::map::NoteMap) -> Vec<(f64, [u8; 3])> {
    let played: Vec<_> = rendered
        .events
        .iter()
        .map(|&(f, kind, sps)| (f - rendered.origin, kind, sps))
        .filter(|(f, _, _)| *f >= 0)
        .collect();
    let end = (rendered.samples.len() / 2) as i64;
    crate::midi::out::voice_events(&played, map, end)
        .into_iter()
        .filter(|(f, _)| *f <= end as f64)
        .collect()
}

/// Writes a performance's MIDI as a standard MIDI file, atomically.
pub fn write_midi(
    path: &Path,
    events: &[(f64, [u8; 3])],
    bpm: f32,
    sample_rate: u32,
) -> Result<(), RenderError> {
    let write = |message: String| RenderError::Write {
        path: path.display().to_string(),
        message,
    };
    let bytes = crate::midifile::export::export_performance(events, bpm, sample_rate)
        .map_err(|e| write(e.to_string()))?;
    crate::files::write_atomic(path, &bytes).map_err(|e| write(e.to_string()))
}

/// Writes interleaved stereo float samples as a 32-bit float WAV file, atomically.
pub fn write_wav(path: &Path, samples: &[f32], sample_rate: u32) -> Result<(), RenderError> {
    let bytes = crate::wav::encode_f32(samples, 2, sample_rate);
    crate::files::write_atomic(path, &bytes).map_err(|e| RenderError::Write {
        path: path.display().to_string(),
        message: e.to_string(),
    })
}
