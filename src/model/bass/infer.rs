//! The engine's side of the translation network: load a model (a file or the embedded default)
//! and translate a drum pattern into a bassline, cheaply enough for every cycle.
//!
//! Sampling is autoregressive over 32 steps, so it runs on the plain-float copy of the
//! network ([`FastNet`]).

use std::path::{Path, PathBuf};

use burn::module::Module;
use burn::tensor::Device;
use serde::{Deserialize, Serialize};

use super::fast::FastNet;
use super::model::{BassNet, BassNetConfig, HOLD, MASKED, NOTE0, PITCHES, REST, VOCAB, pitch_of};
use super::train::TrainingConfig;
use crate::model::artifact::{self, Architecture, Kind, ModelError, Stored};
use crate::model::rng::Rng;
use crate::pattern::{BassStep, Bassline, DrumPattern, Key, STEPS, Scale};

/// The default model's weights (trained on the Freedoom and Simutrans songs' drum+bass pairs,
/// train split; see `models/bass.manifest.md`).
pub const EMBEDDED_WEIGHTS: &[u8] = include_bytes!("../../../models/bass.bpk");
/// The default model's metadata (training configuration and summary).
pub const EMBEDDED_META: &str = include_str!("../../../models/bass.json");
/// The default model's rhythm network (the same architecture, the epoch of the best
/// validation onset F1; see [`BassModel::with_rhythm`]).
pub const EMBEDDED_RHYTHM_WEIGHTS: &[u8] = include_bytes!("../../../models/bass.rhythm.bpk");

/// Where the rhythm network of the model at `weights` lies: `NAME.rhythm.bpk` beside
/// `NAME.bpk`.
pub fn rhythm_path(weights: &Path) -> PathBuf {
    weights.with_extension("rhythm.bpk")
}

/// Pitches kept by top-k sampling unless told otherwise: 0, all of them, so that at pitch
/// temperature 1 a note's pitch follows the model's own distribution. Chosen on a whole
/// held-out source (Freedoom) with the pitch temperature: the pitch-class histogram of the
/// lines comes closest to the songs' (see `models/bass.manifest.md`).
pub const DEFAULT_TOP_K: usize = 0;
/// Temperature of the rhythm choice used when none is given (a scene's `ai.temperature`
/// default), chosen on a whole held-out source (Freedoom): onset F1 falls as the rhythm
/// temperature rises, and 0.1 keeps the likeliest rhythm's within a tenth of a point while
/// near-equal choices still vary. See `models/bass.manifest.md`.
pub const DEFAULT_TEMPERATURE: f32 = 0.1;

/// Temperature of the pitch choice used when none is given (a scene's
/// `ai.pitch_temperature` default): 1 follows the model's own spread of pitches, so lines
/// move as human lines do instead of settling on the likeliest pitch, the tonic, while
/// whether a note starts stays close to the likeliest choice (the rhythm temperature).
/// Chosen on a held-out source; see `models/bass.manifest.md`.
pub const DEFAULT_PITCH_TEMPERATURE: f32 = 1.0;

/// How a bassline is sampled.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TranslateOptions {
    /// The set's key: pitches are written relative to its tonic.
    pub key: Key,
    /// The set's scale.
    pub scale: Scale,
    /// Temperature of the rhythm choice of a step (rest / hold / note; see [`sample`]); 0
    /// takes the likeliest choice at every step.
    pub temperature: f32,
    /// Temperature of a note's pitch choice; 0 takes the likeliest pitch.
    pub pitch_temperature: f32,
    /// Sample a note's pitch only among the `top_k` likeliest pitches (0 = all).
    pub top_k: usize,
    /// Keep every note in `scale`.
    pub constrain: bool,
    /// Seed of the sampling.
    pub seed: u64,
}

impl Default for TranslateOptions {
    fn default() -> Self {
        TranslateOptions {
            key: Key::default(),
            scale: Scale::default(),
            temperature: DEFAULT_TEMPERATURE,
            pitch_temperature: DEFAULT_PITCH_TEMPERATURE,
            top_k: DEFAULT_TOP_K,
            constrain: true,
            seed: 0,
        }
    }
}

/// Metadata stored beside a model's weights (`NAME.json` next to `NAME.bpk`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ModelMeta {
    /// Always [`META_KIND`].
    pub kind: String,
    /// The training configuration (architecture included).
    pub training: TrainingConfig,
    /// Training examples (all transpositions).
    pub train_examples: usize,
    /// Validation examples.
    pub valid_examples: usize,
    /// Best validation epoch.
    pub best_epoch: usize,
    /// Its validation loss.
    pub best_valid_loss: f64,
    /// Its teacher-forced validation token accuracy.
    pub best_valid_accuracy: f64,
    /// Training time in seconds.
    pub train_seconds: f64,
    /// The epoch kept as the rhythm network (`NAME.rhythm.bpk`), when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rhythm_epoch: Option<usize>,
    /// Its validation onset F1 (likeliest lines).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rhythm_valid_onset_f1: Option<f64>,
}

/// Kind tag of [`ModelMeta`].
pub const META_KIND: &str = "ubiq-bass-seq2seq";

// [`sample`] sums token probabilities into rest, hold and note by index.
const _: () = assert!(REST == 0 && HOLD == 1 && NOTE0 == 2);

/// Picks the index of one of `weights` in proportion to it, with a uniform draw `u` in
/// [0, 1); `None` when no weight is positive.
fn pick(weights: &[f32], u: f32) -> Option<usize> {
    let total: f32 = weights.iter().sum();
    if total <= 0.0 || !total.is_finite() {
        return None;
    }
    let mut target = u * total;
    for (i, &w) in weights.iter().enumerate() {
        if target < w {
            return Some(i);
        }
        target -= w;
    }
    weights.iter().rposition(|&w| w > 0.0)
}

/// Picks a token from `logits` in two steps, as a bassist decides: first whether the step
/// rests, holds or starts a note (each choice weighted by the total probability of its
/// tokens, sharpened by the rhythm temperature), then, for a note, its pitch (softmax at the
/// pitch temperature over the `top_k` likeliest pitches, all when 0). At temperature 0 a step
/// takes the likeliest choice. `u` and `v` are uniform draws in [0, 1).
///
/// Sampling the tokens flat would split a note's probability over its pitches, so that a low
/// temperature (or top-k) favours the single rest or hold token over the many notes and
/// leaves out onsets the model expects.
pub fn sample(
    logits: &[f32; VOCAB],
    (temperature, pitch_temperature): (f32, f32),
    top_k: usize,
    u: f32,
    v: f32,
) -> usize {
    let greedy = temperature <= 0.0 || !temperature.is_finite();
    let best = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let mut masses = [0.0f32; 3];
    // Masses of rest (0), hold (1) and every note together (NOTE0 = 2).
    for (token, &l) in logits.iter().enumerate() {
        masses[token.min(NOTE0)] += (l - best).exp();
    }
    let class = if greedy {
        (0..3).max_by(|&a, &b| masses[a].total_cmp(&masses[b]))
    } else {
        let sharpened = masses.map(|m| {
            if m > 0.0 {
                (m.ln() / temperature).exp()
            } else {
                0.0
            }
        });
        pick(&sharpened, u)
    };
    match class {
        Some(REST) => return REST,
        Some(HOLD) => return HOLD,
        _ => {}
    }
    let mut order: [usize; PITCHES] = std::array::from_fn(|i| NOTE0 + i);
    order.sort_by(|&a, &b| logits[b].total_cmp(&logits[a]));
    if pitch_temperature <= 0.0 || !pitch_temperature.is_finite() {
        return order[0];
    }
    let k = if top_k == 0 {
        PITCHES
    } else {
        top_k.min(PITCHES)
    };
    let top = logits[order[0]];
    let mut weights = [0.0f32; PITCHES];
    for (w, &i) in weights.iter_mut().zip(&order[..k]) {
        *w = ((logits[i] - top) / pitch_temperature).exp();
    }
    pick(&weights[..k], v).map_or(order[0], |i| order[i])
}

/// A loaded translation model, ready for inference: the network that chooses the pitches,
/// and the one that chooses the rhythm when the model has its own (else the same).
#[derive(Debug, Clone)]
pub struct BassModel {
    net: BassNet,
    fast: FastNet,
    rhythm: Option<(BassNet, FastNet)>,
    origin: String,
}

impl Stored for BassModel {
    const KIND: Kind = Kind::Bass;
    const EMBEDDED_WEIGHTS: &'static [u8] = EMBEDDED_WEIGHTS;
    const EMBEDDED_META: &'static str = EMBEDDED_META;
    const EMBEDDED_ORIGIN: &'static str = "the embedded bass model";
    type Meta = Architecture<BassNetConfig>;

    fn default_meta() -> Option<Self::Meta> {
        Some(Architecture::new(BassNetConfig::new()))
    }

    /// Bass models always run on the CPU inference device.
    fn from_parts(
        bytes: &[u8],
        meta: Self::Meta,
        _device: Device,
        origin: &str,
    ) -> Result<Self, ModelError> {
        Self::from_bytes(bytes, meta.model(), origin)
    }
}

impl BassModel {
    /// Wraps a trained network (moved to the CPU inference device, autodiff dropped).
    pub fn new(net: BassNet, origin: impl Into<String>) -> Result<Self, ModelError> {
        let origin = origin.into();
        let net = net.valid().to_device(&Device::flex());
        let fast = FastNet::of(&net).map_err(|e| ModelError::Format {
            kind: Kind::Bass,
            origin: origin.clone(),
            reason: e.to_string(),
        })?;
        Ok(BassModel {
            net,
            fast,
            rhythm: None,
            origin,
        })
    }

    /// The model with `rhythm` (the same architecture) choosing where notes start, hold and
    /// rest in the first pass of [`BassModel::translate_with`]: a network kept at the epoch
    /// its rhythm was best (see `TrainingConfig::rhythm_by_onsets`), while this one's pitches
    /// kept improving.
    pub fn with_rhythm(mut self, rhythm: BassNet) -> Result<Self, ModelError> {
        let rhythm = rhythm.valid().to_device(&Device::flex());
        let fast = FastNet::of(&rhythm).map_err(|e| ModelError::Format {
            kind: Kind::Bass,
            origin: format!("{} (rhythm)", self.origin),
            reason: e.to_string(),
        })?;
        self.rhythm = Some((rhythm, fast));
        Ok(self)
    }

    /// Whether the model has its own rhythm network.
    pub fn has_rhythm(&self) -> bool {
        self.rhythm.is_some()
    }

    /// The rhythm network read from burnpack `bytes`, with this model's architecture.
    fn rhythm_from(self, bytes: &[u8], origin: &str) -> Result<Self, ModelError> {
        let config = BassNetConfig::new()
            .with_encoder_hidden(self.net.encoder_hidden())
            .with_decoder_hidden(self.net.decoder_hidden());
        let net = net_from_bytes(bytes, &config, origin)?;
        self.with_rhythm(net)
    }

    /// The embedded default model, with its rhythm network.
    pub fn embedded() -> Result<Self, ModelError> {
        let model: Self = artifact::embedded(Device::flex())?;
        model.rhythm_from(EMBEDDED_RHYTHM_WEIGHTS, "the embedded bass model (rhythm)")
    }

    /// A model from burnpack bytes of the architecture `config`.
    pub fn from_bytes(
        bytes: &[u8],
        config: &BassNetConfig,
        origin: &str,
    ) -> Result<Self, ModelError> {
        Self::new(net_from_bytes(bytes, config, origin)?, origin)
    }

    /// Loads `PATH` (burnpack) with the architecture in `PATH.json` beside it (the default
    /// architecture when there is none), and its rhythm network `PATH.rhythm.bpk` when there
    /// is one.
    pub fn load(path: &Path) -> Result<Self, ModelError> {
        let model: Self = artifact::load(path, Device::flex())?;
        let rhythm = rhythm_path(path);
        if !rhythm.exists() {
            return Ok(model);
        }
        let bytes = artifact::read(&rhythm, Kind::Bass)?;
        model.rhythm_from(&bytes, &rhythm.display().to_string())
    }

    /// The model at `path`, or the embedded default.
    pub fn load_or_embedded(path: Option<&Path>) -> Result<Self, ModelError> {
        match path {
            Some(p) => Self::load(p),
            None => Self::embedded(),
        }
    }

    /// Writes the weights to `path` and `meta` beside them, and the rhythm network's to
    /// [`rhythm_path`] when the model has one (else removes a stale one), each atomically.
    pub fn save(&self, path: &Path, meta: &ModelMeta) -> Result<(), ModelError> {
        artifact::save(&self.net, path, meta, Kind::Bass, &self.origin)?;
        let rhythm = rhythm_path(path);
        match &self.rhythm {
            Some((net, _)) => artifact::write(
                &rhythm,
                &artifact::weights(net, Kind::Bass, &self.origin)?,
                Kind::Bass,
            ),
            None => match std::fs::remove_file(&rhythm) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(ModelError::Write {
                    kind: Kind::Bass,
                    path: rhythm.display().to_string(),
                    source: e,
                }),
                _ => Ok(()),
            },
        }
    }

    /// Where the model came from (a path or "the embedded bass model").
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// The Burn network.
    pub fn net(&self) -> &BassNet {
        &self.net
    }

    /// The plain-float copy used for decoding.
    pub fn fast(&self) -> &FastNet {
        &self.fast
    }

    /// The bassline the model plays with `drums` in `key` and `scale`, its rhythm sampled at
    /// `temperature` (0: the most likely), its pitches at [`DEFAULT_PITCH_TEMPERATURE`] with
    /// top-k [`DEFAULT_TOP_K`] and notes kept in the scale. The same arguments give the same
    /// line.
    pub fn translate(
        &self,
        drums: &DrumPattern,
        key: Key,
        scale: Scale,
        temperature: f32,
        seed: u64,
    ) -> Bassline {
        self.translate_with(
            drums,
            &TranslateOptions {
                key,
                scale,
                temperature,
                seed,
                ..TranslateOptions::default()
            },
        )
    }

    /// [`BassModel::translate`] with every option.
    ///
    /// Two passes, as a bassist first feels the rhythm and then chooses the notes: the first
    /// samples where notes start, hold and rest (at `temperature`, each pitch the likeliest;
    /// on the rhythm network when the model has one), the second keeps that rhythm and
    /// samples each note's pitch at the pitch temperature.
    /// Sampled pitches fed back into one pass make the network start fewer notes; keeping
    /// the rhythm of the first pass keeps its onsets while the line moves.
    pub fn translate_with(&self, drums: &DrumPattern, options: &TranslateOptions) -> Bassline {
        let mut rng = Rng::new(options.seed);
        let keep_in_scale = |logits: &mut [f32; VOCAB]| {
            if options.constrain {
                for (t, l) in logits.iter_mut().enumerate().skip(NOTE0) {
                    if !pitch_of(t).is_some_and(|p| options.scale.contains(i32::from(p))) {
                        *l += MASKED;
                    }
                }
            }
        };
        let rhythm_net = self.rhythm.as_ref().map_or(&self.fast, |(_, fast)| fast);
        let (rhythm, _) = rhythm_net.decode(drums, options.key, options.scale, |_, logits| {
            keep_in_scale(logits);
            let (u, v) = (rng.uniform(), rng.uniform());
            sample(logits, (options.temperature, 0.0), options.top_k, u, v)
        });
        let pitch_temperature = options.pitch_temperature;
        let (tokens, velocities) =
            self.fast
                .decode(drums, options.key, options.scale, |step, logits| {
                    let planned = rhythm[step];
                    if planned < NOTE0 {
                        return planned;
                    }
                    keep_in_scale(logits);
                    logits[REST] += MASKED;
                    logits[HOLD] += MASKED;
                    let v = rng.uniform();
                    sample(logits, (0.0, pitch_temperature), options.top_k, 0.0, v)
                });
        line_of(&tokens, &velocities)
    }
}

/// A network of the architecture `config` with the weights of the burnpack `bytes`.
fn net_from_bytes(
    bytes: &[u8],
    config: &BassNetConfig,
    origin: &str,
) -> Result<BassNet, ModelError> {
    let blank = config.init(&Device::flex(), &mut Rng::new(0));
    artifact::load_weights(blank, bytes, Kind::Bass, origin)
}

/// The bassline of decoded tokens and velocities.
pub fn line_of(tokens: &[usize; STEPS], velocities: &[f32; STEPS]) -> Bassline {
    let mut line = Bassline::default();
    for (i, (&token, &velocity)) in tokens.iter().zip(velocities).enumerate() {
        line.steps[i] = match (token, pitch_of(token)) {
            (HOLD, _) => BassStep::Hold,
            (_, Some(pitch)) => BassStep::Note {
                pitch,
                velocity: velocity.clamp(0.0, 1.0),
            },
            _ => BassStep::Rest,
        };
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scene_samples_the_bass_at_the_models_default_temperatures() {
        let ai = crate::scene::Ai::default();
        assert_eq!(ai.temperature, DEFAULT_TEMPERATURE);
        assert_eq!(ai.pitch_temperature, DEFAULT_PITCH_TEMPERATURE);
    }

    #[test]
    fn the_pitch_is_sampled_hotter_than_the_rhythm() {
        // Two pitches, the second a little less likely; a rest far behind.
        let mut logits = [-30.0f32; VOCAB];
        logits[NOTE0 + 3] = 1.0;
        logits[NOTE0 + 7] = 0.5;
        let draws = 400;
        let second = |pitch_temperature: f32| {
            (0..draws)
                .filter(|i| {
                    let v = (*i as f32 + 0.5) / draws as f32;
                    sample(&logits, (0.4, pitch_temperature), 8, 0.5, v) == NOTE0 + 7
                })
                .count()
        };
        // At 0.4 the second pitch comes about a fifth of the time, at 1.0 about 38 %.
        let (cold, hot) = (second(0.4), second(1.0));
        assert!(cold < draws / 4 && hot > draws / 3, "{cold} {hot}");
        assert_eq!(
            second(0.0),
            0,
            "a pitch temperature of 0 takes the likeliest"
        );
    }
}
