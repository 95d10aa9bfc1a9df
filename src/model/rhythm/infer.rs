//! The engine's side of the rhythm VAE: load a model (a file or the embedded default), decode
//! latent points under density conditions into patterns, encode patterns back to the plane.

use std::path::Path;
use std::sync::Arc;

use burn::module::Module;
use burn::tensor::{Device, Tensor};
use serde::{Deserialize, Serialize};

use super::fast::FastVae;
use super::latent_map::LatentMap;
use super::model::{
    CELLS, CHANNELS, CONDITIONS, ConditionStats, LATENT, RhythmVae, RhythmVaeConfig,
    pattern_features, patterns_tensor, rows_tensor,
};
use super::train::TrainingConfig;
use crate::model::artifact::{self, Architecture, Kind, ModelError, Stored};
use crate::model::rng::Rng;
use crate::pattern::{DrumCell, DrumPattern, STEPS, Voice};

/// The default model's weights (trained on the Groove MIDI Dataset's train split, CC BY 4.0;
/// see `models/rhythm.manifest.md`).
pub const EMBEDDED_WEIGHTS: &[u8] = include_bytes!("../../../models/rhythm.bpk");
/// The default model's metadata (training configuration and summary).
pub const EMBEDDED_META: &str = include_str!("../../../models/rhythm.json");
/// The dance model's weights (trained on MMA's dance grooves, GPL-2.0-or-later; see
/// `models/rhythm-dance.manifest.md`).
pub const DANCE_WEIGHTS: &[u8] = include_bytes!("../../../models/rhythm-dance.bpk");
/// The dance model's metadata.
pub const DANCE_META: &str = include_str!("../../../models/rhythm-dance.json");

/// Share of the latent map's training windows inside [`RhythmModel::data_radius`]: the
/// circle the AI's walk keeps to, so what it decodes is a groove the model learned and not an
/// extrapolation.
pub const DATA_SHARE: f32 = 0.75;

/// The strong velocity of a voice the model never plays.
const STRONG_FALLBACK: f32 = 0.7;

/// How far either side of the onset threshold the seed may flip a cell.
pub const DITHER: f32 = 0.05;

/// Kick and hi-hat density, in standard deviations of the training set's counts (0 is strong,
/// ±2 is very sparse or very busy).
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct Conditions {
    /// Kick density z-score.
    pub kick: f32,
    /// Hi-hat (closed + open) density z-score.
    pub hats: f32,
}

impl Conditions {
    fn array(self) -> [f32; CONDITIONS] {
        [self.kick, self.hats]
    }
}

/// How decoded probabilities become a pattern.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DecodeOptions {
    /// A cell sounds when its hit probability exceeds this (0..1; 0.5 is neutral).
    pub threshold: f32,
    /// Scales the decoded micro-timing: 0 quantised, 1 as the model plays it.
    pub timing: f32,
    /// Seed of the variation: cells whose probability lies within [`DITHER`] of the threshold
    /// are decided by a seeded coin weighted by how far past the threshold they are.
    pub seed: u64,
}

impl Default for DecodeOptions {
    fn default() -> Self {
        DecodeOptions {
            threshold: 0.5,
            timing: 1.0,
            seed: 0,
        }
    }
}

/// Raw decoder output for one point: per cell (voice-major, `voice × 32 + step`).
///
/// [`Decoded::to_pattern`] centres the micro-timing: the hits of a pattern sit on the grid on
/// average (a drummer of the Groove MIDI Dataset plays about a twelfth of a sixteenth ahead of
/// the click, and the model learned it), while each hit keeps its place against the others.
#[derive(Debug, Clone, PartialEq)]
pub struct Decoded {
    /// Hit probabilities.
    pub probability: Vec<f32>,
    /// Velocities 0..1.
    pub velocity: Vec<f32>,
    /// Offsets −0.5..0.5.
    pub offset: Vec<f32>,
}

impl Decoded {
    /// The pattern these outputs give under `options`.
    pub fn to_pattern(&self, options: &DecodeOptions) -> DrumPattern {
        let mut rng = Rng::new(options.seed);
        let mut p = DrumPattern::new();
        let mut hits = [false; CELLS];
        for voice in Voice::ALL {
            for step in 0..STEPS {
                let i = voice.index() * STEPS + step;
                let prob = self.probability[i];
                let margin = prob - options.threshold;
                let coin = rng.uniform();
                let hit = if margin.abs() < DITHER {
                    coin < (margin + DITHER) / (2.0 * DITHER)
                } else {
                    margin > 0.0
                };
                hits[i] = hit;
            }
        }
        let count = hits.iter().filter(|&&h| h).count();
        let sum: f32 = (0..CELLS)
            .filter(|&i| hits[i])
            .map(|i| self.offset[i])
            .sum();
        let mean = sum / count.max(1) as f32;
        for i in (0..CELLS).filter(|&i| hits[i]) {
            let (voice, step) = (Voice::ALL[i / STEPS], i % STEPS);
            let offset = (self.offset[i] - mean) * options.timing;
            p.set(voice, step, DrumCell::hit(self.velocity[i], offset));
        }
        p
    }
}

/// Metadata stored beside a model's weights (`NAME.json` next to `NAME.bpk`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ModelMeta {
    /// Always `"ubiq-rhythm-vae"`.
    pub kind: String,
    /// The training configuration (architecture included).
    pub training: TrainingConfig,
    /// Condition statistics (also stored inside the weights).
    pub stats: ConditionStats,
    /// Training windows.
    pub train_windows: usize,
    /// Validation windows.
    pub valid_windows: usize,
    /// Best validation epoch.
    pub best_epoch: usize,
    /// Its validation loss.
    pub best_valid_loss: f64,
    /// Training time in seconds.
    pub train_seconds: f64,
}

/// Kind tag of [`ModelMeta`].
pub const META_KIND: &str = "ubiq-rhythm-vae";

/// A loaded rhythm VAE, ready for inference.
#[derive(Debug, Clone)]
pub struct RhythmModel {
    vae: RhythmVae,
    /// The plain-float copy decode and encode run on (none when a weight is not finite:
    /// [`RhythmModel::from_bytes`] refuses such a file, training may still hold one).
    fast: Option<FastVae>,
    stats: ConditionStats,
    device: Device,
    origin: String,
    /// Where its training windows sit on the plane, when a map was loaded with it.
    latent_map: Option<Arc<LatentMap>>,
    /// The map's [`DATA_SHARE`] radius, measured once when the map is attached.
    data_radius: Option<f32>,
    /// Each voice's strong velocity (see [`RhythmModel::strong_velocities`]).
    strong: [f32; Voice::COUNT],
}

impl Stored for RhythmModel {
    const KIND: Kind = Kind::Rhythm;
    const EMBEDDED_WEIGHTS: &'static [u8] = EMBEDDED_WEIGHTS;
    const EMBEDDED_META: &'static str = EMBEDDED_META;
    const EMBEDDED_ORIGIN: &'static str = "the embedded model";
    type Meta = Architecture<RhythmVaeConfig>;

    fn default_meta() -> Option<Self::Meta> {
        Some(Architecture::new(RhythmVaeConfig::new()))
    }

    fn from_parts(
        bytes: &[u8],
        meta: Self::Meta,
        device: Device,
        origin: &str,
    ) -> Result<Self, ModelError> {
        Self::from_bytes(bytes, meta.model(), device, origin)
    }
}

impl RhythmModel {
    /// Wraps a trained module for inference on `device`.
    pub fn new(vae: RhythmVae, device: Device, origin: impl Into<String>) -> Self {
        let vae = vae.valid().to_device(&device);
        let stats = vae.stats();
        let mut model = RhythmModel {
            fast: FastVae::of(&vae).ok(),
            vae,
            stats,
            device,
            origin: origin.into(),
            latent_map: None,
            data_radius: None,
            strong: [STRONG_FALLBACK; Voice::COUNT],
        };
        model.strong = model.measure_strong_velocities();
        model
    }

    /// Decodes a grid of the plane under a range of densities and takes, for each voice, the
    /// velocity three quarters of the hits it plays there stay under.
    fn measure_strong_velocities(&self) -> [f32; Voice::COUNT] {
        let levels = [-2.0, -1.0, 0.0, 1.0, 2.0];
        let mut points = Vec::new();
        for x in levels {
            for y in levels {
                for kick in [-1.0, 0.0, 1.0] {
                    for hats in [-1.0, 0.0, 1.0] {
                        points.push(([x, y], Conditions { kick, hats }));
                    }
                }
            }
        }
        let decoded = self.decode_raw(&points);
        let mut strong = [STRONG_FALLBACK; Voice::COUNT];
        for voice in Voice::ALL {
            let mut velocities: Vec<f32> = decoded
                .iter()
                .flat_map(|d| {
                    let cells = voice.index() * STEPS..(voice.index() + 1) * STEPS;
                    cells
                        .filter(|&i| d.probability[i] > 0.5 && d.velocity[i].is_finite())
                        .map(|i| d.velocity[i])
                })
                .collect();
            if velocities.is_empty() {
                continue;
            }
            velocities.sort_by(f32::total_cmp);
            let at = velocities.len() * 3 / 4;
            strong[voice.index()] = velocities[at].clamp(0.1, 1.0);
        }
        strong
    }

    /// Each voice's strong velocity as this model plays it (0.1..1): the velocity three
    /// quarters of its hits over the plane stay under. A kit's accents scale the model's
    /// velocities so that this lands on the kit's accent.
    pub fn strong_velocities(&self) -> [f32; Voice::COUNT] {
        self.strong
    }

    /// The embedded default model on the Flex backend.
    pub fn embedded() -> Result<Self, ModelError> {
        Self::embedded_on(Device::flex())
    }

    /// The embedded default model on `device`.
    pub fn embedded_on(device: Device) -> Result<Self, ModelError> {
        artifact::embedded(device)
    }

    /// The embedded dance model (Flex backend).
    pub fn embedded_dance() -> Result<Self, ModelError> {
        artifact::embedded_from(
            DANCE_WEIGHTS,
            DANCE_META,
            "the embedded dance model",
            Device::flex(),
        )
    }

    /// A model from burnpack bytes of the architecture `config`.
    pub fn from_bytes(
        bytes: &[u8],
        config: &RhythmVaeConfig,
        device: Device,
        origin: &str,
    ) -> Result<Self, ModelError> {
        let format = |reason: String| ModelError::Format {
            kind: Kind::Rhythm,
            origin: origin.into(),
            reason,
        };
        let blank = config.init(ConditionStats::default(), &device, &mut Rng::new(0));
        let vae = artifact::load_weights(blank, bytes, Kind::Rhythm, origin)?;
        let model = Self::new(vae, device, origin);
        if model.fast.is_none() {
            // Copied once in `new`; only a refusal asks again, for its reason.
            FastVae::of(&model.vae).map_err(|e| format(e.to_string()))?;
        }
        let s = model.stats;
        if [s.kick_mean, s.kick_std, s.hats_mean, s.hats_std]
            .iter()
            .any(|v| !v.is_finite())
            || s.kick_std <= 0.0
            || s.hats_std <= 0.0
        {
            return Err(format("its condition statistics are not usable".into()));
        }
        Ok(model)
    }

    /// Loads `path` (burnpack weights); the architecture comes from the `.json` beside it when
    /// there is one, else the default architecture.
    pub fn load(path: &Path, device: Device) -> Result<Self, ModelError> {
        artifact::load(path, device)
    }

    /// The model at `path` when given, else the embedded default.
    pub fn load_or_embedded(path: Option<&Path>, device: Device) -> Result<Self, ModelError> {
        artifact::load_or_embedded(path, device)
    }

    /// The weights as burnpack bytes.
    pub fn to_bytes(&self) -> Result<Vec<u8>, ModelError> {
        artifact::weights(&self.vae, Kind::Rhythm, &self.origin)
    }

    /// Writes the weights to `path` and `meta` beside it, each atomically.
    pub fn save(&self, path: &Path, meta: &ModelMeta) -> Result<(), ModelError> {
        artifact::save(&self.vae, path, meta, Kind::Rhythm, &self.origin)
    }

    /// This model with the latent map of its training windows.
    pub fn with_latent_map(mut self, map: Option<Arc<LatentMap>>) -> Self {
        self.data_radius = map.as_ref().and_then(|m| m.radius(DATA_SHARE));
        self.latent_map = map;
        self
    }

    /// The radius of the circle that holds [`DATA_SHARE`] of its training windows (from the
    /// latent map; none without one): where its data lives.
    pub fn data_radius(&self) -> Option<f32> {
        self.data_radius
    }

    /// The latent map loaded with it, if any.
    pub fn latent_map(&self) -> Option<&Arc<LatentMap>> {
        self.latent_map.as_ref()
    }

    /// Where this model came from (a path or "the embedded model").
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// The condition statistics of its training set.
    pub fn stats(&self) -> ConditionStats {
        self.stats
    }

    /// The underlying Burn module.
    pub fn vae(&self) -> &RhythmVae {
        &self.vae
    }

    /// The inference device.
    pub fn device(&self) -> &Device {
        &self.device
    }

    /// The conditions of a pattern (its kick and hi-hat counts as z-scores).
    pub fn conditions_of(&self, pattern: &DrumPattern) -> Conditions {
        let [kick, hats] = self.stats.conditions(pattern);
        Conditions { kick, hats }
    }

    /// Raw decoder outputs for many points at once.
    pub fn decode_raw(&self, points: &[([f32; LATENT], Conditions)]) -> Vec<Decoded> {
        if let Some(fast) = &self.fast {
            return points
                .iter()
                .map(|(z, c)| fast.decode(z, &c.array()))
                .collect();
        }
        if points.is_empty() {
            return Vec::new();
        }
        let z: Vec<f32> = points.iter().flat_map(|(z, _)| *z).collect();
        let c: Vec<f32> = points.iter().flat_map(|(_, c)| c.array()).collect();
        let (logits, velocity, offset) = self.vae.decode(
            rows_tensor(z, LATENT, &self.device),
            rows_tensor(c, CONDITIONS, &self.device),
        );
        let probability = to_vec(burn::tensor::activation::sigmoid(logits));
        let velocity = to_vec(velocity);
        let offset = to_vec(offset);
        (0..points.len())
            .map(|i| Decoded {
                probability: probability[i * CELLS..(i + 1) * CELLS].to_vec(),
                velocity: velocity[i * CELLS..(i + 1) * CELLS].to_vec(),
                offset: offset[i * CELLS..(i + 1) * CELLS].to_vec(),
            })
            .collect()
    }

    /// Decodes latent point `z` under `conditions` into a pattern.
    pub fn decode(
        &self,
        z: [f32; LATENT],
        conditions: Conditions,
        options: &DecodeOptions,
    ) -> DrumPattern {
        self.decode_batch(&[(z, conditions)], options)
            .pop()
            .unwrap_or_default()
    }

    /// Decodes many points in one pass (a grid for the latent pad, say).
    pub fn decode_batch(
        &self,
        points: &[([f32; LATENT], Conditions)],
        options: &DecodeOptions,
    ) -> Vec<DrumPattern> {
        self.decode_raw(points)
            .iter()
            .map(|d| d.to_pattern(options))
            .collect()
    }

    /// Encodes a pattern: its latent mean and its conditions.
    pub fn encode(&self, pattern: &DrumPattern) -> ([f32; LATENT], Conditions) {
        let (mu, _) = self.encode_batch(std::slice::from_ref(pattern));
        (
            mu.first().copied().unwrap_or_default(),
            self.conditions_of(pattern),
        )
    }

    /// Encodes many patterns: latent means and log variances, one pair per pattern.
    pub fn encode_batch(
        &self,
        patterns: &[DrumPattern],
    ) -> (Vec<[f32; LATENT]>, Vec<[f32; LATENT]>) {
        if let Some(fast) = &self.fast {
            let mut features = Vec::with_capacity(CHANNELS * CELLS);
            return patterns
                .iter()
                .map(|p| {
                    features.clear();
                    pattern_features(p, &mut features);
                    fast.encode(&features, &self.stats.conditions(p))
                })
                .unzip();
        }
        if patterns.is_empty() {
            return (Vec::new(), Vec::new());
        }
        let refs: Vec<&DrumPattern> = patterns.iter().collect();
        let x = patterns_tensor(&refs, &self.device);
        let c: Vec<f32> = patterns
            .iter()
            .flat_map(|p| self.stats.conditions(p))
            .collect();
        let (mu, log_var) = self.vae.encode(x, rows_tensor(c, CONDITIONS, &self.device));
        (pairs(to_vec(mu)), pairs(to_vec(log_var)))
    }
}

fn to_vec(t: Tensor<2>) -> Vec<f32> {
    t.into_data().try_into_vec().unwrap_or_default()
}

fn pairs(v: Vec<f32>) -> Vec<[f32; LATENT]> {
    v.chunks_exact(LATENT).map(|c| [c[0], c[1]]).collect()
}
