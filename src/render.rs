//! Offline rendering: the same graph as on stage, driven as fast as the CPU allows.

use std::path::Path;

use thiserror::Error;

use crate::audio::{AudioMsg, link};
use crate::engine::Performance;
use crate::scene::Scene;

/// Frames per render call (the size a device callback would ask for).
const BLOCK_FRAMES: usize = 512;

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

/// Renders the scene to interleaved stereo samples, aligned so that frame 0 is the downbeat
/// (the limiter's look-ahead is compensated).
pub fn render_scene(scene: &Scene, opts: &RenderOptions) -> Vec<f32> {
    let (mut handle, mut core) = link(opts.sample_rate, opts.seed);
    let perf = Performance::new(scene.clone());
    // A fresh queue has room for both messages.
    let _ = handle.send(AudioMsg::Params(perf.params()));
    let _ = handle.send(AudioMsg::Cycle(perf.plan()));
    let frames = frames_for_bars(scene, opts.bars, opts.sample_rate);
    let latency = core.latency();
    let mut out = vec![0.0f32; (frames + latency) * 2];
    for block in out.chunks_mut(BLOCK_FRAMES * 2) {
        core.process(block);
    }
    out.drain(..latency * 2);
    out
}

/// The MIDI that MIDI out would send while the scene plays for `bars` bars: (frame, message)
/// from the first downbeat, through the same sequencer and note map as on stage.
pub fn render_midi(
    scene: &Scene,
    opts: &RenderOptions,
    map: &crate::midi::map::NoteMap,
) -> Vec<(f64, [u8; 3])> {
    let perf = Performance::new(scene.clone());
    let frames = frames_for_bars(scene, opts.bars, opts.sample_rate) as i64;
    crate::midi::out::render_events(&perf.plan(), map, opts.sample_rate, frames)
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
    let bytes = crate::midi::export::export_performance(events, bpm, sample_rate)
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
