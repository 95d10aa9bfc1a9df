//! The rhythm VAE: module, configuration and the one `forward` that training and inference
//! share.
//!
//! After M4L.RhythmVAE: a two-bar pattern (32 steps × 9 voices × hit / velocity / offset) is
//! encoded by dense layers into a 2-D Gaussian latent; the decoder reads a latent point plus two
//! conditions (kick and hi-hat density as z-scores of the training set's counts) and writes hit
//! probabilities, velocities and micro-timing offsets.

use burn::config::Config;
use burn::module::{Module, Param};
use burn::nn::{BatchNorm, BatchNormConfig, Linear};
use burn::tensor::activation::{leaky_relu, sigmoid, tanh};
use burn::tensor::{Device, Tensor, TensorData};

use crate::model::rng::Rng;
use crate::pattern::{DrumPattern, STEPS, Voice};

/// Cells of one channel: 32 steps × 9 voices.
pub const CELLS: usize = STEPS * Voice::COUNT;
/// Input channels per cell: hit, velocity, offset.
pub const CHANNELS: usize = 3;
/// Size of the latent space.
pub const LATENT: usize = 2;
/// Number of conditions: kick density, hats density.
pub const CONDITIONS: usize = 2;
/// Slope of the leaky ReLUs.
pub(super) const LEAK: f64 = 0.2;

/// Architecture of the rhythm VAE.
#[derive(Config, Debug)]
pub struct RhythmVaeConfig {
    /// Width of the per-channel dense layer of the encoder.
    #[config(default = 64)]
    pub channel_width: usize,
    /// Widths of the encoder's joint layers (after the channels and conditions are joined).
    #[config(default = "[64, 32]")]
    pub encoder_widths: [usize; 2],
    /// Widths of the decoder's hidden layers.
    #[config(default = "[32, 64, 256]")]
    pub decoder_widths: [usize; 3],
}

/// The rhythm VAE module.
#[derive(Module, Debug)]
pub struct RhythmVae {
    pub(super) channel: Vec<Linear>,
    pub(super) channel_norm: Vec<BatchNorm>,
    pub(super) enc_a: Linear,
    pub(super) enc_b: Linear,
    pub(super) mu: Linear,
    pub(super) log_var: Linear,
    pub(super) dec_a: Linear,
    pub(super) dec_b: Linear,
    pub(super) dec_c: Linear,
    pub(super) hit_head: Linear,
    pub(super) velocity_head: Linear,
    pub(super) offset_head: Linear,
    /// Condition statistics (kick mean, kick std, hats mean, hats std), stored with the weights
    /// and never trained.
    stats: Param<Tensor<1>>,
}

/// What [`RhythmVae::forward`] returns.
#[derive(Debug, Clone)]
pub struct RhythmVaeOutput {
    /// Hit logits, `[batch, CELLS]` (sigmoid gives the probability).
    pub hit_logits: Tensor<2>,
    /// Velocities 0..1, `[batch, CELLS]`.
    pub velocity: Tensor<2>,
    /// Offsets −0.5..0.5 step, `[batch, CELLS]`.
    pub offset: Tensor<2>,
    /// Latent means, `[batch, LATENT]`.
    pub mu: Tensor<2>,
    /// Latent log variances, `[batch, LATENT]`.
    pub log_var: Tensor<2>,
}

/// Kick and hi-hat counts of the training set, for turning counts into z-scores.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ConditionStats {
    /// Mean kick hits per window.
    pub kick_mean: f32,
    /// Standard deviation of kick hits per window.
    pub kick_std: f32,
    /// Mean hi-hat (closed + open) hits per window.
    pub hats_mean: f32,
    /// Standard deviation of hi-hat hits per window.
    pub hats_std: f32,
}

impl Default for ConditionStats {
    fn default() -> Self {
        ConditionStats {
            kick_mean: 0.0,
            kick_std: 1.0,
            hats_mean: 0.0,
            hats_std: 1.0,
        }
    }
}

impl ConditionStats {
    /// Statistics of a set of patterns (standard deviations of at least 1 hit).
    pub fn of(patterns: &[DrumPattern]) -> Self {
        let n = patterns.len().max(1) as f64;
        let (mut k, mut k2, mut h, mut h2) = (0.0f64, 0.0f64, 0.0f64, 0.0f64);
        for p in patterns {
            let (kick, hats) = counts(p);
            k += kick as f64;
            k2 += (kick * kick) as f64;
            h += hats as f64;
            h2 += (hats * hats) as f64;
        }
        let (km, hm) = (k / n, h / n);
        ConditionStats {
            kick_mean: km as f32,
            kick_std: (k2 / n - km * km).max(1.0).sqrt() as f32,
            hats_mean: hm as f32,
            hats_std: (h2 / n - hm * hm).max(1.0).sqrt() as f32,
        }
    }

    /// The z-scored conditions of a pattern.
    pub fn conditions(&self, pattern: &DrumPattern) -> [f32; CONDITIONS] {
        let (kick, hats) = counts(pattern);
        [
            (kick as f32 - self.kick_mean) / self.kick_std,
            (hats as f32 - self.hats_mean) / self.hats_std,
        ]
    }

    fn to_array(self) -> [f32; 4] {
        [self.kick_mean, self.kick_std, self.hats_mean, self.hats_std]
    }
}

/// Kick hits and hi-hat hits (closed + open) of a pattern.
pub fn counts(pattern: &DrumPattern) -> (usize, usize) {
    (
        pattern.count(Voice::Kick),
        pattern.count(Voice::ClosedHat) + pattern.count(Voice::OpenHat),
    )
}

/// Writes a pattern into `out` as `[hit; CELLS] ++ [velocity; CELLS] ++ [offset; CELLS]`,
/// voice-major (cell index = voice × 32 + step). Velocity and offset are zero where there is
/// no hit.
pub fn pattern_features(pattern: &DrumPattern, out: &mut Vec<f32>) {
    let start = out.len();
    out.resize(start + CHANNELS * CELLS, 0.0);
    for voice in Voice::ALL {
        for (step, cell) in pattern.row(voice).iter().enumerate() {
            if cell.hit {
                let i = start + voice.index() * STEPS + step;
                out[i] = 1.0;
                out[i + CELLS] = cell.velocity;
                out[i + 2 * CELLS] = cell.offset;
            }
        }
    }
}

/// Patterns as an input tensor `[batch, CHANNELS, CELLS]`.
pub fn patterns_tensor(patterns: &[&DrumPattern], device: &Device) -> Tensor<3> {
    let mut data = Vec::with_capacity(patterns.len() * CHANNELS * CELLS);
    for p in patterns {
        pattern_features(p, &mut data);
    }
    Tensor::from_data(
        TensorData::new(data, [patterns.len(), CHANNELS, CELLS]),
        device,
    )
}

/// Rows of `width` floats as a tensor `[rows, width]`.
pub fn rows_tensor(values: Vec<f32>, width: usize, device: &Device) -> Tensor<2> {
    let rows = values.len() / width;
    Tensor::from_data(TensorData::new(values, [rows, width]), device)
}

fn seeded_linear(d_in: usize, d_out: usize, device: &Device, rng: &mut Rng) -> Linear {
    let k = (1.0 / d_in as f32).sqrt();
    let mut draw =
        |n: usize| -> Vec<f32> { (0..n).map(|_| (rng.uniform() * 2.0 - 1.0) * k).collect() };
    let weight = Tensor::from_data(TensorData::new(draw(d_in * d_out), [d_in, d_out]), device);
    let bias = Tensor::from_data(TensorData::new(draw(d_out), [d_out]), device);
    Linear {
        weight: Param::from_tensor(weight),
        bias: Some(Param::from_tensor(bias)),
    }
}

impl RhythmVaeConfig {
    /// Builds a freshly initialised model on `device`, holding `stats`.
    ///
    /// Weights are drawn from `rng` (uniform ±1/√fan-in, as Burn's default linear init), so the
    /// same seed gives the same model whatever else uses the backend's global generator.
    pub fn init(&self, stats: ConditionStats, device: &Device, rng: &mut Rng) -> RhythmVae {
        let mut lin = |i: usize, o: usize| seeded_linear(i, o, device, rng);
        let [e1, e2] = self.encoder_widths;
        let [d1, d2, d3] = self.decoder_widths;
        let w = self.channel_width;
        RhythmVae {
            channel: (0..CHANNELS).map(|_| lin(CELLS, w)).collect(),
            channel_norm: (0..CHANNELS)
                .map(|_| BatchNormConfig::new(w).init(device))
                .collect(),
            enc_a: lin(CHANNELS * w + CONDITIONS, e1),
            enc_b: lin(e1, e2),
            mu: lin(e2, LATENT),
            log_var: lin(e2, LATENT),
            dec_a: lin(LATENT + CONDITIONS, d1),
            dec_b: lin(d1 + CONDITIONS, d2),
            dec_c: lin(d2 + CONDITIONS, d3),
            hit_head: lin(d3, CELLS),
            velocity_head: lin(d3, CELLS),
            offset_head: lin(d3, CELLS),
            stats: Param::from_tensor(Tensor::from_data(
                TensorData::new(stats.to_array().to_vec(), [4]),
                device,
            ))
            .set_require_grad(false),
        }
    }
}

impl RhythmVae {
    /// The condition statistics stored with the model.
    pub fn stats(&self) -> ConditionStats {
        let v: Vec<f32> = self
            .stats
            .val()
            .into_data()
            .try_into_vec()
            .unwrap_or_default();
        match v.as_slice() {
            [km, ks, hm, hs] => ConditionStats {
                kick_mean: *km,
                kick_std: *ks,
                hats_mean: *hm,
                hats_std: *hs,
            },
            _ => ConditionStats::default(),
        }
    }

    /// Encodes patterns into the latent Gaussian.
    ///
    /// # Shapes
    /// - `input`: `[batch, CHANNELS, CELLS]` (see [`patterns_tensor`])
    /// - `conditions`: `[batch, CONDITIONS]`
    /// - returns `(mu, log_var)`, each `[batch, LATENT]`
    pub fn encode(&self, input: Tensor<3>, conditions: Tensor<2>) -> (Tensor<2>, Tensor<2>) {
        let [batch, _, _] = input.dims();
        let mut joined = Vec::with_capacity(CHANNELS + 1);
        for (c, (dense, norm)) in self.channel.iter().zip(&self.channel_norm).enumerate() {
            let x = input.clone().narrow(1, c, 1).reshape([batch, CELLS]);
            joined.push(leaky_relu(norm.forward(dense.forward(x)), LEAK));
        }
        joined.push(conditions);
        let h = Tensor::cat(joined, 1);
        let h = leaky_relu(self.enc_a.forward(h), LEAK);
        let h = leaky_relu(self.enc_b.forward(h), LEAK);
        (self.mu.forward(h.clone()), self.log_var.forward(h))
    }

    /// Decodes latent points under conditions (given to every hidden layer, so density stays
    /// in control wherever the latent point is).
    ///
    /// # Shapes
    /// - `z`: `[batch, LATENT]`, `conditions`: `[batch, CONDITIONS]`
    /// - returns `(hit_logits, velocity, offset)`, each `[batch, CELLS]`
    pub fn decode(&self, z: Tensor<2>, conditions: Tensor<2>) -> (Tensor<2>, Tensor<2>, Tensor<2>) {
        let h = Tensor::cat(vec![z, conditions.clone()], 1);
        let h = leaky_relu(self.dec_a.forward(h), LEAK);
        let h = Tensor::cat(vec![h, conditions.clone()], 1);
        let h = leaky_relu(self.dec_b.forward(h), LEAK);
        let h = Tensor::cat(vec![h, conditions], 1);
        let h = leaky_relu(self.dec_c.forward(h), LEAK);
        (
            self.hit_head.forward(h.clone()),
            sigmoid(self.velocity_head.forward(h.clone())),
            tanh(self.offset_head.forward(h)).mul_scalar(0.5),
        )
    }

    /// The whole VAE: encode, sample `z = mu + exp(log_var / 2) · noise`, decode.
    ///
    /// Training passes standard normal `noise`; inference passes zeros, which decodes the mean.
    ///
    /// # Shapes
    /// - `input`: `[batch, CHANNELS, CELLS]`, `conditions`: `[batch, CONDITIONS]`,
    ///   `noise`: `[batch, LATENT]`
    pub fn forward(
        &self,
        input: Tensor<3>,
        conditions: Tensor<2>,
        noise: Tensor<2>,
    ) -> RhythmVaeOutput {
        let (mu, log_var) = self.encode(input, conditions.clone());
        let z = mu.clone() + log_var.clone().mul_scalar(0.5).exp() * noise;
        let (hit_logits, velocity, offset) = self.decode(z, conditions);
        RhythmVaeOutput {
            hit_logits,
            velocity,
            offset,
            mu,
            log_var,
        }
    }
}
