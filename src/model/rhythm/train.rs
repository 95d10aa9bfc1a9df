//! Training the rhythm VAE: loss, seeded mini-batch epochs with β warm-up and validation, run
//! by the shared epoch loop ([`train_loop`]: early stopping, the best epoch kept).

use std::time::{Duration, Instant};

use burn::config::Config;
use burn::module::Module;
use burn::optim::{AdamConfig, GradientsParams, ModuleOptimizer};
use burn::tensor::activation::{log_sigmoid, sigmoid};
use burn::tensor::{Device, Tensor, TensorData};

use super::model::{
    CELLS, CHANNELS, CONDITIONS, ConditionStats, LATENT, RhythmVae, RhythmVaeConfig,
    RhythmVaeOutput, pattern_features,
};
use crate::model::ModelError;
use crate::model::rng::Rng;
use crate::model::train_loop::{self, Schedule, Trainer};
use crate::pattern::{DrumPattern, STEPS, Voice};

/// Everything that decides a training run (saved beside the weights).
#[derive(Config, Debug)]
pub struct TrainingConfig {
    /// The architecture.
    pub model: RhythmVaeConfig,
    /// Maximum number of epochs.
    #[config(default = 60)]
    pub epochs: usize,
    /// Windows per mini-batch.
    #[config(default = 128)]
    pub batch_size: usize,
    /// Adam learning rate.
    #[config(default = 2e-3)]
    pub learning_rate: f64,
    /// Final weight of the KL term.
    #[config(default = 0.25)]
    pub beta: f64,
    /// Epochs over which β rises linearly from 0 to `beta`.
    #[config(default = 10)]
    pub warmup_epochs: usize,
    /// Weight of the velocity and offset errors against the hit cross-entropy.
    #[config(default = 20.0)]
    pub regression_weight: f64,
    /// Weight of the density term: at latent points drawn from the prior (anywhere on the
    /// pad, not only where training windows encode), the kick and hi-hat hits the decoder
    /// plays must follow the batch's conditions. Without it the decoder falls back to a sparse
    /// skeleton wherever it is unsure, and many points play the same pattern. 0 turns it off.
    #[config(default = 10.0)]
    pub density_weight: f64,
    /// Slope of the density term's soft count: each cell counts `sigmoid(slope × logit)`, so
    /// 1 counts expected hits and larger slopes count the hits the 0.5 threshold keeps.
    #[config(default = 8.0)]
    pub density_slope: f64,
    /// Stop after this many epochs without a better validation loss (once β is warm).
    #[config(default = 8)]
    pub patience: usize,
    /// Seed of weights, shuffling and latent noise.
    #[config(default = 1)]
    pub seed: u64,
}

/// The loss of one batch, split into its terms (each a mean per window).
#[derive(Debug, Clone)]
pub struct LossTerms {
    /// Total: hits + regression_weight × (velocity + offset) + β × KL + density_weight ×
    /// density.
    pub total: Tensor<1>,
    /// Hit binary cross-entropy, summed over cells.
    pub hits: Tensor<1>,
    /// Velocity squared error on true hits, summed over cells.
    pub velocity: Tensor<1>,
    /// Offset squared error on true hits, summed over cells.
    pub offset: Tensor<1>,
    /// KL divergence from the unit Gaussian.
    pub kl: Tensor<1>,
    /// Squared error, in standard deviations, between the requested kick and hi-hat densities
    /// and the decoder's soft counts at prior latent points (zero when not asked for).
    pub density: Tensor<1>,
}

/// The weights of the loss terms.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LossWeights {
    /// Weight of the KL term.
    pub beta: f64,
    /// Weight of the velocity and offset errors.
    pub regression: f64,
    /// Weight of the density term.
    pub density: f64,
    /// Slope of the density term's soft count.
    pub density_slope: f64,
}

impl LossWeights {
    /// The weights of `config` with β at `beta` (it warms up during training).
    pub fn of(config: &TrainingConfig, beta: f64) -> Self {
        LossWeights {
            beta,
            regression: config.regression_weight,
            density: config.density_weight,
            density_slope: config.density_slope,
        }
    }
}

/// Windows prepared as flat feature rows, ready to batch.
#[derive(Debug, Clone)]
pub struct Prepared {
    features: Vec<f32>,
    conditions: Vec<f32>,
    len: usize,
}

impl Prepared {
    /// Features and z-scored conditions of `patterns` under `stats`.
    pub fn new(patterns: &[DrumPattern], stats: &ConditionStats) -> Self {
        let mut features = Vec::with_capacity(patterns.len() * CHANNELS * CELLS);
        let mut conditions = Vec::with_capacity(patterns.len() * CONDITIONS);
        for p in patterns {
            pattern_features(p, &mut features);
            conditions.extend_from_slice(&stats.conditions(p));
        }
        Prepared {
            features,
            conditions,
            len: patterns.len(),
        }
    }

    /// Number of windows.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether there are no windows.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The windows at `indices` as `(input [b, CHANNELS, CELLS], conditions [b, CONDITIONS])`.
    pub fn batch(&self, indices: &[usize], device: &Device) -> (Tensor<3>, Tensor<2>) {
        let row = CHANNELS * CELLS;
        let mut x = Vec::with_capacity(indices.len() * row);
        let mut c = Vec::with_capacity(indices.len() * CONDITIONS);
        for &i in indices {
            x.extend_from_slice(&self.features[i * row..(i + 1) * row]);
            c.extend_from_slice(&self.conditions[i * CONDITIONS..(i + 1) * CONDITIONS]);
        }
        let b = indices.len();
        (
            Tensor::from_data(TensorData::new(x, [b, CHANNELS, CELLS]), device),
            Tensor::from_data(TensorData::new(c, [b, CONDITIONS]), device),
        )
    }
}

impl RhythmVae {
    /// The training loss of a batch: runs [`RhythmVae::forward`] and scores it. With
    /// `prior_noise` (latent points drawn from the prior), also scores the density term: those
    /// points decoded under the batch's conditions.
    ///
    /// # Shapes
    /// - `input`: `[batch, CHANNELS, CELLS]`, `conditions`: `[batch, CONDITIONS]`,
    ///   `noise` and `prior_noise`: `[batch, LATENT]`
    pub fn loss(
        &self,
        input: Tensor<3>,
        conditions: Tensor<2>,
        noise: Tensor<2>,
        prior_noise: Option<Tensor<2>>,
        weights: &LossWeights,
    ) -> LossTerms {
        let [batch, _, _] = input.dims();
        let density = match prior_noise {
            Some(z) => self.density_error(z, conditions.clone(), weights.density_slope),
            None => Tensor::zeros([1], &input.device()),
        };
        let out = self.forward(input.clone(), conditions, noise);
        score(out, input, batch, density, weights)
    }

    /// Mean squared error, in standard deviations of the training counts, between the
    /// requested densities and the soft counts decoded at `z`: each cell counts
    /// `sigmoid(slope × logit)` (its hit probability when `slope` is 1).
    ///
    /// # Shapes
    /// - `z`: `[batch, LATENT]`, `conditions`: `[batch, CONDITIONS]`
    pub fn density_error(&self, z: Tensor<2>, conditions: Tensor<2>, slope: f64) -> Tensor<1> {
        let [batch, _] = z.dims();
        let stats = self.stats();
        let (logits, _, _) = self.decode(z, conditions.clone());
        let p = sigmoid(logits.mul_scalar(slope));
        let kick = p
            .clone()
            .narrow(1, Voice::Kick.index() * STEPS, STEPS)
            .sum_dim(1)
            .sub_scalar(f64::from(stats.kick_mean))
            .div_scalar(f64::from(stats.kick_std));
        // Closed and open hats are adjacent rows, counted together as the condition does.
        let hats = p
            .narrow(1, Voice::ClosedHat.index() * STEPS, 2 * STEPS)
            .sum_dim(1)
            .sub_scalar(f64::from(stats.hats_mean))
            .div_scalar(f64::from(stats.hats_std));
        (Tensor::cat(vec![kick, hats], 1) - conditions)
            .square()
            .sum()
            .div_scalar(batch as f64)
    }
}

fn score(
    out: RhythmVaeOutput,
    input: Tensor<3>,
    batch: usize,
    density: Tensor<1>,
    weights: &LossWeights,
) -> LossTerms {
    let n = batch as f64;
    let hit = input.clone().narrow(1, 0, 1).reshape([batch, CELLS]);
    let vel = input.clone().narrow(1, 1, 1).reshape([batch, CELLS]);
    let off = input.narrow(1, 2, 1).reshape([batch, CELLS]);
    let logits = out.hit_logits;
    let bce = (hit.clone() * log_sigmoid(logits.clone())
        + (hit.clone().neg().add_scalar(1.0)) * log_sigmoid(logits.neg()))
    .neg()
    .sum()
    .div_scalar(n);
    let velocity = ((out.velocity - vel).square() * hit.clone())
        .sum()
        .div_scalar(n);
    let offset = ((out.offset - off).square() * hit).sum().div_scalar(n);
    let kl = (out.log_var.clone().add_scalar(1.0) - out.mu.square() - out.log_var.exp())
        .sum()
        .mul_scalar(-0.5)
        .div_scalar(n);
    let total = bce.clone()
        + (velocity.clone() + offset.clone()).mul_scalar(weights.regression)
        + kl.clone().mul_scalar(weights.beta)
        + density.clone().mul_scalar(weights.density);
    LossTerms {
        total,
        hits: bce,
        velocity,
        offset,
        kl,
        density,
    }
}

/// What one epoch measured.
#[derive(Debug, Clone, PartialEq)]
pub struct EpochReport {
    /// 1-based epoch number.
    pub epoch: usize,
    /// Maximum number of epochs.
    pub epochs: usize,
    /// Mean training loss (at this epoch's β).
    pub train_loss: f64,
    /// Validation loss (latent means, β at its final value).
    pub valid_loss: f64,
    /// β used this epoch.
    pub beta: f64,
    /// Time since training began.
    pub elapsed: Duration,
    /// Whether this epoch gave the best validation loss so far.
    pub improved: bool,
}

/// The result of [`train`].
#[derive(Debug)]
pub struct Trained {
    /// The model of the best validation epoch, without autodiff, on the inference device.
    pub model: RhythmVae,
    /// That epoch (1-based).
    pub best_epoch: usize,
    /// Its validation loss.
    pub best_valid_loss: f64,
    /// Epochs actually run (early stopping may end before the maximum).
    pub epochs_run: usize,
    /// Every epoch's report.
    pub history: Vec<EpochReport>,
    /// Wall-clock training time.
    pub elapsed: Duration,
}

/// Trains a rhythm VAE on `train`, validating on `valid`, on `device` (an inference device:
/// training runs on its autodiff form). `on_epoch` sees each epoch's report as it ends.
///
/// The same config, data and device give the same model.
pub fn train(
    config: &TrainingConfig,
    train: &[DrumPattern],
    valid: &[DrumPattern],
    device: &Device,
    mut on_epoch: impl FnMut(&EpochReport),
) -> Result<Trained, ModelError> {
    if train.is_empty() {
        return Err(ModelError::NoData("training windows"));
    }
    if valid.is_empty() {
        return Err(ModelError::NoData("validation windows"));
    }
    if config.batch_size == 0 || config.epochs == 0 {
        return Err(ModelError::Config(
            "batch size and epochs must be at least 1".into(),
        ));
    }
    let began = Instant::now();
    let stats = ConditionStats::of(train);
    let train_set = Prepared::new(train, &stats);
    let valid_set = Prepared::new(valid, &stats);
    let ad = device.clone().autodiff();
    let mut rng = Rng::new(config.seed);
    let model = config.model.init(stats, &ad, &mut rng);
    let mut trainer = VaeTrainer {
        config,
        order: (0..train_set.len()).collect(),
        train_set,
        valid_set,
        device,
        ad,
        rng,
        optim: AdamConfig::new().init(),
        beta: 0.0,
    };
    let schedule = Schedule {
        epochs: config.epochs,
        patience: config.patience,
        first_counted: config.warmup_epochs,
    };
    let out = train_loop::run(
        &mut trainer,
        model,
        &schedule,
        began,
        |t, end| EpochReport {
            epoch: end.epoch,
            epochs: end.epochs,
            train_loss: end.train_loss,
            valid_loss: end.valid,
            beta: t.beta,
            elapsed: end.elapsed,
            improved: end.improved,
        },
        |report, _| on_epoch(report),
    )?;
    Ok(Trained {
        model: out.model,
        best_epoch: out.best_epoch,
        best_valid_loss: out.best_valid,
        epochs_run: out.history.len(),
        history: out.history,
        elapsed: out.elapsed,
    })
}

/// The rhythm VAE's side of [`train_loop::run`]: seeded mini-batches with latent and prior
/// noise, β rising over the warm-up epochs.
struct VaeTrainer<'a> {
    config: &'a TrainingConfig,
    train_set: Prepared,
    valid_set: Prepared,
    /// The inference device (validation runs there).
    device: &'a Device,
    /// Its autodiff form (training runs there).
    ad: Device,
    /// Shuffles the order and draws the noise, epoch after epoch.
    rng: Rng,
    optim: ModuleOptimizer,
    /// The training order, reshuffled every epoch.
    order: Vec<usize>,
    /// β of the epoch last trained.
    beta: f64,
}

impl Trainer for VaeTrainer<'_> {
    type Training = RhythmVae;
    type Model = RhythmVae;
    type Valid = f64;

    fn train_epoch(&mut self, mut model: RhythmVae, epoch: usize) -> (RhythmVae, f64) {
        let config = self.config;
        let ad = &self.ad;
        let rng = &mut self.rng;
        self.beta = config.beta * (epoch as f64 / config.warmup_epochs.max(1) as f64).min(1.0);
        rng.shuffle(&mut self.order);
        let mut sum = 0.0;
        let mut batches = 0usize;
        for chunk in self.order.chunks(config.batch_size) {
            // Batch norm needs at least two windows to estimate batch statistics.
            if chunk.len() < 2 {
                continue;
            }
            let (x, c) = self.train_set.batch(chunk, ad);
            let noise: Vec<f32> = (0..chunk.len() * LATENT).map(|_| rng.normal()).collect();
            let noise = Tensor::from_data(TensorData::new(noise, [chunk.len(), LATENT]), ad);
            let prior = (config.density_weight > 0.0).then(|| {
                let z: Vec<f32> = (0..chunk.len() * LATENT).map(|_| rng.normal()).collect();
                Tensor::from_data(TensorData::new(z, [chunk.len(), LATENT]), ad)
            });
            let terms = model.loss(x, c, noise, prior, &LossWeights::of(config, self.beta));
            sum += f64::from(terms.total.clone().into_scalar::<f32>());
            batches += 1;
            let grads = GradientsParams::from_grads(terms.total.backward(), &model);
            model = self.optim.step(config.learning_rate, model, grads);
        }
        (model, sum / batches.max(1) as f64)
    }

    fn validate(&mut self, model: &RhythmVae) -> (RhythmVae, f64) {
        let valid = model.valid();
        let loss = validation_loss(&valid, &self.valid_set, self.device, self.config);
        (valid, loss)
    }

    fn better(new: &f64, best: &f64) -> bool {
        new < best
    }
}

/// Mean validation loss per window: latent means (no sampling), β at its final value, no
/// density term (early stopping follows the VAE's own objective).
pub fn validation_loss(
    model: &RhythmVae,
    set: &Prepared,
    device: &Device,
    config: &TrainingConfig,
) -> f64 {
    let indices: Vec<usize> = (0..set.len()).collect();
    let mut sum = 0.0;
    for chunk in indices.chunks(1024) {
        let (x, c) = set.batch(chunk, device);
        let noise = Tensor::zeros([chunk.len(), LATENT], device);
        let weights = LossWeights {
            density: 0.0,
            ..LossWeights::of(config, config.beta)
        };
        let terms = model.loss(x, c, noise, None, &weights);
        sum += f64::from(terms.total.into_scalar::<f32>()) * chunk.len() as f64;
    }
    sum / set.len().max(1) as f64
}
