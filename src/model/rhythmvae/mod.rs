//! M4L.RhythmVAE's models, as the Max for Live device saves them: a folder with `encoder/`
//! and `decoder/` (TensorFlow.js layers models, [`tfjs`]) and `model_rvae.json` (the training
//! set's condition statistics). Read as data and run on plain floats ([`graph`]).
//!
//! The decoder reads a latent point (2) and the conditions as z-scores of the training set
//! (kick onsets, hi-hat onsets and, in the performance's models, the ratio of off-beat to
//! on-beat kicks), and writes three heads of 9 classes × ticks, class-major: onset
//! probabilities, velocities and time shifts. The device's grid is 2 bars of 96 ticks (12 per
//! beat); its 32-step variant, 32. The classes are kick, snare, closed hat, open hat, low,
//! mid and high tom, clap and rim.

pub mod graph;
pub mod tfjs;

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::pattern::{DrumCell, DrumPattern, STEPS, Voice};
use graph::Graph;
use tfjs::{TfjsError, TfjsModel};

/// Drum classes of the device, in its order.
pub const CLASSES: [&str; 9] = [
    "kick",
    "snare",
    "closed_hat",
    "open_hat",
    "low_tom",
    "mid_tom",
    "high_tom",
    "clap",
    "rim",
];
/// Ticks of the device's fine grid (two bars, 12 per beat).
pub const FINE_TICKS: usize = 96;
/// Ticks of its 32-step variant.
pub const STEP_TICKS: usize = 32;
/// Largest `model_rvae.json`, in bytes.
const STATS_LIMIT: u64 = 64 << 10;

/// The training set's condition statistics (`model_rvae.json`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeviceStats {
    /// Mean kick onsets per pattern.
    pub onset_kick_mean: f32,
    /// Their standard deviation.
    pub onset_kick_std: f32,
    /// Mean hi-hat onsets per pattern (closed and open, averaged as the device counts).
    pub onset_hats_mean: f32,
    /// Their standard deviation.
    pub onset_hats_std: f32,
    /// Mean ratio of off-beat to on-beat kicks (models with the third condition).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub onoff_ratio_mean: Option<f32>,
    /// Its standard deviation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub onoff_ratio_std: Option<f32>,
}

/// The decoder's raw outputs at one point: per class and tick (class-major).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RawOutput {
    /// Ticks per class.
    pub ticks: usize,
    /// Onset probabilities 0..1.
    pub onsets: Vec<f32>,
    /// Velocities 0..1.
    pub velocities: Vec<f32>,
    /// Time shifts −1..1 (of half the way to the next tick).
    pub shifts: Vec<f32>,
}

impl RawOutput {
    /// ubiq's 32-step pattern of these outputs: every tick whose onset probability reaches
    /// `threshold` is a hit at its nearest sixteenth, offset by where the tick lies between
    /// the sixteenths (−⅓, 0 or +⅓ of a step on the 96-tick grid) times `timing`, at its
    /// velocity. Where several ticks fall on one step the likeliest plays. Clap and rim, which
    /// ubiq's kit has no voices for, play as the snare. The time-shift head is not read.
    pub fn to_pattern(&self, threshold: f32, timing: f32) -> DrumPattern {
        let per_step = (self.ticks / STEPS).max(1);
        let mut best = [[0.0f32; STEPS]; Voice::COUNT];
        let mut pattern = DrumPattern::new();
        for (class, onsets) in self.onsets.chunks_exact(self.ticks).enumerate() {
            let voice = match class {
                0..=6 => Voice::ALL[class],
                _ => Voice::Snare,
            };
            for (tick, &p) in onsets.iter().enumerate() {
                if p < threshold {
                    continue;
                }
                // Ticks from half a step before a sixteenth up to half a step after it.
                let nearest = (tick + per_step / 2) / per_step;
                let step = nearest % STEPS;
                if p <= best[voice.index()][step] {
                    continue;
                }
                best[voice.index()][step] = p;
                let offset = (tick as f32 - (nearest * per_step) as f32) / per_step as f32;
                let velocity = self.velocities[class * self.ticks + tick];
                pattern.set(voice, step, DrumCell::hit(velocity, offset * timing));
            }
        }
        pattern
    }
}

/// A model saved by the device.
#[derive(Debug, Clone)]
pub struct DeviceModel {
    decoder: Graph,
    encoder: Graph,
    /// Its condition statistics.
    pub stats: DeviceStats,
    /// Ticks of its grid ([`FINE_TICKS`] or [`STEP_TICKS`]).
    pub ticks: usize,
    /// Conditions it reads: 2 (kick, hats) or 3 (and the off-beat ratio).
    pub conditions: usize,
}

impl DeviceModel {
    /// Whether `dir` looks like a folder the device saved (it has `decoder/model.json`).
    pub fn is_device_folder(dir: &Path) -> bool {
        dir.join("decoder").join("model.json").is_file()
    }

    /// Reads the model in folder `dir`; anything it does not understand is refused in one
    /// line naming the file and the layer or weight.
    pub fn load(dir: &Path) -> Result<DeviceModel, TfjsError> {
        let stats_path = dir.join("model_rvae.json");
        let bytes =
            crate::files::read_bounded(&stats_path, STATS_LIMIT).map_err(|e| TfjsError {
                path: stats_path.clone(),
                message: e.to_string(),
            })?;
        let stats: DeviceStats = serde_json::from_slice(&bytes).map_err(|e| TfjsError {
            path: stats_path.clone(),
            message: format!("not the device's statistics: {e}"),
        })?;
        let decoder_dir = dir.join("decoder");
        let encoder_dir = dir.join("encoder");
        let decoder = Graph::compile(
            &TfjsModel::load(&decoder_dir)?,
            &decoder_dir.join("model.json"),
        )?;
        let encoder = Graph::compile(
            &TfjsModel::load(&encoder_dir)?,
            &encoder_dir.join("model.json"),
        )?;
        Self::of(decoder, encoder, stats, dir)
    }

    /// Checks that the networks have the device's shapes.
    fn of(
        decoder: Graph,
        encoder: Graph,
        stats: DeviceStats,
        dir: &Path,
    ) -> Result<Self, TfjsError> {
        let err = |part: &str, m: String| TfjsError {
            path: dir.join(part).join("model.json"),
            message: m,
        };
        let ins = decoder.input_widths();
        let conditions = ins.len().saturating_sub(1);
        if ins.first() != Some(&2)
            || !(2..=3).contains(&conditions)
            || ins[1..].iter().any(|&w| w != 1)
        {
            return Err(err(
                "decoder",
                format!(
                    "inputs of widths {ins:?} (expected a point of 2 and 2 or 3 conditions of 1)"
                ),
            ));
        }
        let outs = decoder.output_widths();
        let ticks = outs.first().copied().unwrap_or(0) / CLASSES.len();
        if outs.len() != 3
            || outs.iter().any(|&w| w != ticks * CLASSES.len())
            || ![FINE_TICKS, STEP_TICKS].contains(&ticks)
        {
            return Err(err(
                "decoder",
                format!("outputs of widths {outs:?} (expected three heads of 9 × 96 or 9 × 32)"),
            ));
        }
        let enc_in = encoder.input_widths();
        let expected: Vec<usize> = [ticks * CLASSES.len(); 3]
            .into_iter()
            .chain(std::iter::repeat_n(1, conditions))
            .collect();
        if enc_in != expected {
            return Err(err(
                "encoder",
                format!("inputs of widths {enc_in:?} (expected {expected:?})"),
            ));
        }
        if encoder.output_widths().first() != Some(&2) {
            return Err(err(
                "encoder",
                "its first output is no latent mean of 2".into(),
            ));
        }
        if conditions == 3 && stats.onoff_ratio_mean.is_none() {
            return Err(TfjsError {
                path: dir.join("model_rvae.json"),
                message: "the decoder reads an off-beat condition but there are no onoff_ratio statistics".into(),
            });
        }
        Ok(DeviceModel {
            decoder,
            encoder,
            stats,
            ticks,
            conditions,
        })
    }

    /// The decoder's raw outputs at point `z` under condition z-scores (kick, hats, off-beat;
    /// a model without the third condition ignores it).
    pub fn decode_raw(&self, z: [f32; 2], conditions: [f32; 3]) -> RawOutput {
        let mut inputs: Vec<&[f32]> = vec![&z];
        for c in conditions.iter().take(self.conditions) {
            inputs.push(std::slice::from_ref(c));
        }
        let mut heads = self.decoder.run(&inputs).into_iter();
        RawOutput {
            ticks: self.ticks,
            onsets: heads.next().unwrap_or_default(),
            velocities: heads.next().unwrap_or_default(),
            shifts: heads.next().unwrap_or_default(),
        }
    }

    /// The encoder's latent mean of raw heads (as [`RawOutput`] holds them) under condition
    /// z-scores.
    pub fn encode_raw(&self, raw: &RawOutput, conditions: [f32; 3]) -> [f32; 2] {
        let mut inputs: Vec<&[f32]> = vec![&raw.onsets, &raw.velocities, &raw.shifts];
        for c in conditions.iter().take(self.conditions) {
            inputs.push(std::slice::from_ref(c));
        }
        let out = self.encoder.run(&inputs);
        let mean = out.first().map(Vec::as_slice).unwrap_or(&[]);
        [
            mean.first().copied().unwrap_or(0.0),
            mean.get(1).copied().unwrap_or(0.0),
        ]
    }
}

#[cfg(test)]
pub(crate) mod tests;
