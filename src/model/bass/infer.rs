//! The engine's side of the translation network: load a model (a file or the embedded default)
//! and translate a drum pattern into a bassline, cheaply enough for every cycle.
//!
//! Sampling is autoregressive over 32 steps, so it runs on a plain-Rust copy of the Burn
//! network's weights ([`FastNet`]): the same equations as [`BassNet::forward`] one step at a
//! time, without a tensor library's per-operation cost. A test holds the two to the same
//! numbers.

use std::path::{Path, PathBuf};

use burn::module::Module;
use burn::store::ModuleRecord;
use burn::tensor::{Bytes, Device};
use serde::{Deserialize, Serialize};

use super::BassError;
use super::model::{
    BassNet, BassNetConfig, CONDITIONS, DRUM_FEATURES, FusedLstm, HOLD, MASKED, NOTE0, PITCHES,
    REST, START, VOCAB, allowed_after, condition_features, drum_features, pitch_of,
};
use super::train::TrainingConfig;
use crate::model::plain::{Dense, avx2_dispatch, sigmoid, tanh};
use crate::model::rng::Rng;
use crate::pattern::{BassStep, Bassline, DrumPattern, Key, STEPS, Scale};

/// The default model's weights (trained on the Freedoom and Simutrans songs' drum+bass pairs,
/// train split; see `models/bass.manifest.md`).
pub const EMBEDDED_WEIGHTS: &[u8] = include_bytes!("../../../models/bass.bpk");
/// The default model's metadata (training configuration and summary).
pub const EMBEDDED_META: &str = include_str!("../../../models/bass.json");

/// Pitches kept by top-k sampling unless told otherwise.
pub const DEFAULT_TOP_K: usize = 8;
/// Temperature used when none is given, chosen on the validation songs: the highest of
/// 0.4…0.7 whose onset F1 stays within one point of the likeliest line's (lines still vary:
/// 3.6 different lines out of 4 seeds). See `models/bass.manifest.md`.
pub const DEFAULT_TEMPERATURE: f32 = 0.5;

/// How a bassline is sampled.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TranslateOptions {
    /// The set's key: pitches are written relative to its tonic.
    pub key: Key,
    /// The set's scale.
    pub scale: Scale,
    /// Temperature of both choices of a step (rest / hold / note, then the pitch; see
    /// [`sample`]); 0 takes the likeliest choice at every step.
    pub temperature: f32,
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
}

/// Kind tag of [`ModelMeta`].
pub const META_KIND: &str = "ubiq-bass-seq2seq";

/// The part of a [`ModelMeta`] that loading needs: the architecture. Reading only this lets
/// model files written with other training settings (older or newer) load.
#[derive(Deserialize)]
struct MetaArchitecture {
    training: TrainingArchitecture,
}

#[derive(Deserialize)]
struct TrainingArchitecture {
    model: BassNetConfig,
}

/// The architecture recorded in a model's metadata JSON.
fn architecture(json: &str) -> Result<BassNetConfig, serde_json::Error> {
    serde_json::from_str::<MetaArchitecture>(json).map(|m| m.training.model)
}

/// The metadata path beside a weights path.
pub fn meta_path(weights: &Path) -> PathBuf {
    weights.with_extension("json")
}

#[derive(Debug, Clone)]
struct FastLstm {
    input: Dense,
    recurrent: Dense,
    hidden: usize,
}

impl FastLstm {
    fn of(lstm: &FusedLstm) -> Result<Self, String> {
        Ok(FastLstm {
            input: Dense::of(&lstm.input)?,
            recurrent: Dense::of(&lstm.recurrent)?,
            hidden: lstm.hidden(),
        })
    }

    /// One step: `gates` holds the projected input and is overwritten.
    #[inline(always)]
    fn step(&self, gates: &mut [f32], h: &mut [f32], c: &mut [f32]) {
        let n = self.hidden;
        self.recurrent.accumulate(h, 0, gates);
        for j in 0..n {
            let i = sigmoid(gates[j]);
            let f = sigmoid(gates[n + j]);
            let g = tanh(gates[2 * n + j]);
            let o = sigmoid(gates[3 * n + j]);
            c[j] = f * c[j] + i * g;
            h[j] = o * tanh(c[j]);
        }
    }

    /// Runs over `STEPS` inputs of `width` floats; hidden states in time order and the last.
    #[inline(always)]
    fn run(&self, input: &[f32], width: usize, reverse: bool) -> (Vec<f32>, Vec<f32>) {
        let n = self.hidden;
        let mut out = vec![0.0; STEPS * n];
        let (mut h, mut c) = (vec![0.0; n], vec![0.0; n]);
        let mut gates = vec![0.0; 4 * n];
        for k in 0..STEPS {
            let t = if reverse { STEPS - 1 - k } else { k };
            self.input
                .apply(&input[t * width..(t + 1) * width], &mut gates);
            self.step(&mut gates, &mut h, &mut c);
            out[t * n..(t + 1) * n].copy_from_slice(&h);
        }
        (out, h)
    }
}

/// The translation network's weights as plain floats, for fast step-by-step decoding.
#[derive(Debug, Clone)]
pub struct FastNet {
    encoder_fwd: FastLstm,
    encoder_bwd: FastLstm,
    bridge: Dense,
    decoder: FastLstm,
    token_head: Dense,
    velocity_head: Dense,
}

impl FastNet {
    /// Copies the weights of a Burn network.
    pub fn of(net: &BassNet) -> Result<Self, String> {
        Ok(FastNet {
            encoder_fwd: FastLstm::of(&net.encoder_fwd)?,
            encoder_bwd: FastLstm::of(&net.encoder_bwd)?,
            bridge: Dense::of(&net.bridge)?,
            decoder: FastLstm::of(&net.decoder)?,
            token_head: Dense::of(&net.token_head)?,
            velocity_head: Dense::of(&net.velocity_head)?,
        })
    }

    avx2_dispatch! {
        /// Decodes one line: at each step the network's logits (masks for holds already
        /// added) go to `choose`, which may change them and returns the token to emit; returns
        /// the tokens and each step's velocity.
        ///
        /// On x86-64 CPUs with AVX2 the whole decode is compiled for it (the sums are taken in
        /// the same order, so the result does not depend on the CPU).
        pub fn decode(
            &self,
            drums: &DrumPattern,
            key: Key,
            scale: Scale,
            choose: impl FnMut(usize, &mut [f32; VOCAB]) -> usize,
        ) -> ([usize; STEPS], [f32; STEPS])
            = decode_plain via decode_avx2;
    }

    // Always inlined, so that the AVX2 copy of `decode` compiles all of it for AVX2.
    #[inline(always)]
    fn decode_plain(
        &self,
        drums: &DrumPattern,
        key: Key,
        scale: Scale,
        mut choose: impl FnMut(usize, &mut [f32; VOCAB]) -> usize,
    ) -> ([usize; STEPS], [f32; STEPS]) {
        let mut features = Vec::with_capacity(STEPS * DRUM_FEATURES);
        drum_features(drums, &mut features);
        let conditions = condition_features(key, scale);
        let e = self.encoder_fwd.hidden;
        let d = self.decoder.hidden;
        let (fwd, hf) = self.encoder_fwd.run(&features, DRUM_FEATURES, false);
        let (bwd, hb) = self.encoder_bwd.run(&features, DRUM_FEATURES, true);
        let mut summary = Vec::with_capacity(2 * e + CONDITIONS);
        summary.extend_from_slice(&hf);
        summary.extend_from_slice(&hb);
        summary.extend_from_slice(&conditions);
        let mut init = vec![0.0; 2 * d];
        self.bridge.apply(&summary, &mut init);
        let mut h: Vec<f32> = init[..d].iter().map(|&v| tanh(v)).collect();
        let mut c: Vec<f32> = init[d..].iter().map(|&v| tanh(v)).collect();
        // Decoder input rows: encoder outputs, previous token, drum step, conditions.
        let token_rows = 2 * e;
        let drum_rows = token_rows + VOCAB + 1;
        let condition_rows = drum_rows + DRUM_FEATURES;
        let mut fixed = self.decoder.input.bias.clone();
        self.decoder
            .input
            .accumulate(&conditions, condition_rows, &mut fixed);
        let mut gates = vec![0.0; 4 * d];
        let mut logits = [0.0f32; VOCAB];
        let mut velocity_out = [0.0f32; 1];
        let mut tokens = [0usize; STEPS];
        let mut velocities = [0.0f32; STEPS];
        let mut previous = START;
        for t in 0..STEPS {
            gates.copy_from_slice(&fixed);
            self.decoder
                .input
                .accumulate(&fwd[t * e..(t + 1) * e], 0, &mut gates);
            self.decoder
                .input
                .accumulate(&bwd[t * e..(t + 1) * e], e, &mut gates);
            for (g, w) in gates
                .iter_mut()
                .zip(self.decoder.input.row(token_rows + previous))
            {
                *g += w;
            }
            self.decoder.input.accumulate(
                &features[t * DRUM_FEATURES..(t + 1) * DRUM_FEATURES],
                drum_rows,
                &mut gates,
            );
            self.decoder.step(&mut gates, &mut h, &mut c);
            self.token_head.apply(&h, &mut logits);
            if !allowed_after(previous, HOLD) {
                logits[HOLD] += MASKED;
            }
            let token = choose(t, &mut logits).min(VOCAB - 1);
            self.velocity_head.apply(&h, &mut velocity_out);
            tokens[t] = token;
            velocities[t] = sigmoid(velocity_out[0]);
            previous = token;
        }
        (tokens, velocities)
    }
}

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
/// tokens, sharpened by `temperature`), then, for a note, its pitch (softmax at
/// `temperature` over the `top_k` likeliest pitches, all when 0). At temperature 0 both steps
/// take the likeliest choice. `u` and `v` are uniform draws in [0, 1).
///
/// Sampling the tokens flat would split a note's probability over its pitches, so that a low
/// temperature (or top-k) favours the single rest or hold token over the many notes and
/// leaves out onsets the model expects.
pub fn sample(logits: &[f32; VOCAB], temperature: f32, top_k: usize, u: f32, v: f32) -> usize {
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
    if greedy {
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
        *w = ((logits[i] - top) / temperature).exp();
    }
    pick(&weights[..k], v).map_or(order[0], |i| order[i])
}

/// A loaded translation model, ready for inference.
#[derive(Debug, Clone)]
pub struct BassModel {
    net: BassNet,
    fast: FastNet,
    origin: String,
}

impl BassModel {
    /// Wraps a trained network (moved to the CPU inference device, autodiff dropped).
    pub fn new(net: BassNet, origin: impl Into<String>) -> Result<Self, BassError> {
        let origin = origin.into();
        let net = net.valid().to_device(&Device::flex());
        let fast = FastNet::of(&net).map_err(|reason| BassError::Format {
            origin: origin.clone(),
            reason,
        })?;
        Ok(BassModel { net, fast, origin })
    }

    /// The embedded default model.
    pub fn embedded() -> Result<Self, BassError> {
        let origin = "the embedded bass model";
        let config = architecture(EMBEDDED_META).map_err(|e| BassError::Format {
            origin: origin.into(),
            reason: e.to_string(),
        })?;
        Self::from_bytes(EMBEDDED_WEIGHTS, &config, origin)
    }

    /// A model from burnpack bytes of the architecture `config`.
    pub fn from_bytes(
        bytes: &[u8],
        config: &BassNetConfig,
        origin: &str,
    ) -> Result<Self, BassError> {
        let format = |reason: String| BassError::Format {
            origin: origin.into(),
            reason,
        };
        let record = ModuleRecord::from_bytes(Bytes::from_bytes_vec(bytes.to_vec()))
            .map_err(|e| format(e.to_string()))?;
        let blank = config.init(&Device::flex(), &mut Rng::new(0));
        let net = blank
            .try_load_record(record)
            .map_err(|e| format(e.to_string()))?;
        Self::new(net, origin)
    }

    /// Loads `PATH` (burnpack) with the architecture in `PATH.json` beside it (the default
    /// architecture when there is none).
    pub fn load(path: &Path) -> Result<Self, BassError> {
        let bytes = std::fs::read(path).map_err(|source| BassError::Read {
            path: path.display().to_string(),
            source,
        })?;
        let meta = meta_path(path);
        let config = if meta.exists() {
            let text = std::fs::read_to_string(&meta).map_err(|source| BassError::Read {
                path: meta.display().to_string(),
                source,
            })?;
            architecture(&text).map_err(|e| BassError::Meta {
                path: meta.display().to_string(),
                reason: e.to_string(),
            })?
        } else {
            BassNetConfig::new()
        };
        Self::from_bytes(&bytes, &config, &path.display().to_string())
    }

    /// The model at `path`, or the embedded default.
    pub fn load_or_embedded(path: Option<&Path>) -> Result<Self, BassError> {
        match path {
            Some(p) => Self::load(p),
            None => Self::embedded(),
        }
    }

    /// Writes the weights to `path` and `meta` beside them, each atomically.
    pub fn save(&self, path: &Path, meta: &ModelMeta) -> Result<(), BassError> {
        let write = |p: &Path, bytes: &[u8]| {
            crate::files::write_atomic(p, bytes).map_err(|source| BassError::Write {
                path: p.display().to_string(),
                source,
            })
        };
        let bytes = self
            .net
            .clone()
            .into_record()
            .into_bytes()
            .map_err(|e| BassError::Format {
                origin: self.origin.clone(),
                reason: e.to_string(),
            })?;
        let json = serde_json::to_string_pretty(meta).map_err(|e| BassError::Meta {
            path: meta_path(path).display().to_string(),
            reason: e.to_string(),
        })?;
        write(path, &bytes)?;
        write(&meta_path(path), json.as_bytes())
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

    /// The bassline the model plays with `drums` in `key` and `scale`, sampled at
    /// `temperature` (0: the most likely line) with top-k [`DEFAULT_TOP_K`] and notes kept in
    /// the scale. The same arguments give the same line.
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
    pub fn translate_with(&self, drums: &DrumPattern, options: &TranslateOptions) -> Bassline {
        let mut rng = Rng::new(options.seed);
        let (tokens, velocities) =
            self.fast
                .decode(drums, options.key, options.scale, |_, logits| {
                    if options.constrain {
                        for (t, l) in logits.iter_mut().enumerate().skip(NOTE0) {
                            let in_scale =
                                pitch_of(t).is_some_and(|p| options.scale.contains(i32::from(p)));
                            if !in_scale {
                                *l += MASKED;
                            }
                        }
                    }
                    let (u, v) = (rng.uniform(), rng.uniform());
                    sample(logits, options.temperature, options.top_k, u, v)
                });
        line_of(&tokens, &velocities)
    }
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
