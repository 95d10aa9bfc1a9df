//! Training the translation network: teacher-forced cross-entropy plus velocity error, seeded
//! mini-batch epochs and validation, run by the shared epoch loop ([`train_loop`]: early
//! stopping, the best epoch kept).

use std::time::{Duration, Instant};

use burn::config::Config;
use burn::module::Module;
use burn::optim::{AdamConfig, GradientsParams, ModuleOptimizer};
use burn::tensor::activation::log_softmax;
use burn::tensor::{Device, Tensor, TensorData};

use super::model::{
    BassNet, BassNetConfig, BassNetOutput, CONDITIONS, DECODER_EXTRA, DRUM_FEATURES, START, VOCAB,
    condition_features, decoder_extra, drum_features, step_mask, tokens_of,
};
use crate::model::ModelError;
use crate::model::rng::Rng;
use crate::model::train_loop::{self, Schedule, Trainer};
use crate::pattern::{Bassline, DrumPattern, Key, STEPS, Scale};

/// Everything that decides a training run (saved beside the weights).
#[derive(Config, Debug)]
pub struct TrainingConfig {
    /// The architecture.
    pub model: BassNetConfig,
    /// Maximum number of epochs.
    #[config(default = 12)]
    pub epochs: usize,
    /// Pairs per mini-batch.
    #[config(default = 64)]
    pub batch_size: usize,
    /// Adam learning rate.
    #[config(default = 3e-3)]
    pub learning_rate: f64,
    /// Weight of the velocity squared error (on note steps) against the token cross-entropy.
    #[config(default = 1.0)]
    pub velocity_weight: f64,
    /// Examples per epoch: each epoch takes the next this many of a shuffled pass through the
    /// training set (a new shuffle once all have been seen), so epochs stay short and
    /// validation frequent on the large transposed set.
    #[config(default = 8192)]
    pub epoch_size: usize,
    /// Stop after this many epochs without a better validation loss.
    #[config(default = 3)]
    pub patience: usize,
    /// Seed of weights and shuffling.
    #[config(default = 1)]
    pub seed: u64,
    /// Share of drum hits left out of each training example (drawn anew each time it is
    /// seen), so the network hears the groove, not one drummer's every note.
    #[config(default = 0.0)]
    pub drop_hits: f32,
    /// Also keep, as the rhythm network, the epoch whose likeliest lines start their notes
    /// where the validation songs' do (onset F1, the measure the rules compete on). It peaks
    /// epochs before the loss does, while the pitches still improve: the rhythm pass of
    /// [`super::infer::BassModel::translate_with`] runs it, the pitch pass the epoch of the
    /// lowest loss.
    #[config(default = false)]
    pub rhythm_by_onsets: bool,
}

/// What validation measured after an epoch.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Validation {
    /// Teacher-forced loss.
    pub loss: f64,
    /// Teacher-forced per-step token accuracy.
    pub accuracy: f64,
    /// Onset F1 of the likeliest lines against the songs' (with `rhythm_by_onsets`).
    pub onset_f1: Option<f64>,
}

/// One training example: drums, the bassline as tokens, key and scale.
#[derive(Debug, Clone, PartialEq)]
pub struct Example {
    /// The drums.
    pub drums: DrumPattern,
    /// The bassline, pitches relative to the key's tonic in octave 1.
    pub bass: Bassline,
    /// The key.
    pub key: Key,
    /// The scale.
    pub scale: Scale,
}

/// Examples prepared as flat rows, ready to batch.
#[derive(Debug, Clone)]
pub struct Prepared {
    drums: Vec<f32>,
    conditions: Vec<f32>,
    tokens: Vec<usize>,
    velocities: Vec<f32>,
    len: usize,
}

/// One batch as tensors (see [`BassNet::forward`] for the shapes).
#[derive(Debug, Clone)]
pub struct Batch {
    /// `[b, STEPS, DRUM_FEATURES]`.
    pub drums: Tensor<3>,
    /// `[b, CONDITIONS]`.
    pub conditions: Tensor<2>,
    /// `[b, STEPS, DECODER_EXTRA]`.
    pub decoder_extra: Tensor<3>,
    /// `[b, STEPS, VOCAB]`.
    pub mask: Tensor<3>,
    /// One-hot targets, `[b, STEPS, VOCAB]`.
    pub targets: Tensor<3>,
    /// Target velocities, `[b, STEPS]`.
    pub velocity: Tensor<2>,
    /// 1 on note steps, `[b, STEPS]`.
    pub note_mask: Tensor<2>,
}

impl Prepared {
    /// Features and tokens of `examples`.
    pub fn new(examples: &[Example]) -> Self {
        let mut p = Prepared {
            drums: Vec::with_capacity(examples.len() * STEPS * DRUM_FEATURES),
            conditions: Vec::with_capacity(examples.len() * CONDITIONS),
            tokens: Vec::with_capacity(examples.len() * STEPS),
            velocities: Vec::with_capacity(examples.len() * STEPS),
            len: examples.len(),
        };
        for e in examples {
            drum_features(&e.drums, &mut p.drums);
            p.conditions
                .extend_from_slice(&condition_features(e.key, e.scale));
            let (tokens, velocities) = tokens_of(&e.bass);
            p.tokens.extend_from_slice(&tokens);
            p.velocities.extend_from_slice(&velocities);
        }
        p
    }

    /// Number of examples.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The examples at `indices` as tensors on `device`.
    pub fn batch(&self, indices: &[usize], device: &Device) -> Batch {
        self.batch_dropping(indices, device, None)
    }

    /// [`Prepared::batch`], each drum hit left out with probability `drop.1` (draws from
    /// `drop.0`) when `drop` is given.
    pub fn batch_dropping(
        &self,
        indices: &[usize],
        device: &Device,
        mut drop: Option<(&mut Rng, f32)>,
    ) -> Batch {
        let b = indices.len();
        let mut drums = Vec::with_capacity(b * STEPS * DRUM_FEATURES);
        let mut conditions = Vec::with_capacity(b * CONDITIONS);
        let mut extra = Vec::with_capacity(b * STEPS * DECODER_EXTRA);
        let mut mask = Vec::with_capacity(b * STEPS * VOCAB);
        let mut targets = vec![0.0f32; b * STEPS * VOCAB];
        let mut velocity = Vec::with_capacity(b * STEPS);
        let mut note_mask = Vec::with_capacity(b * STEPS);
        let mut dropped = Vec::new();
        for (row, &i) in indices.iter().enumerate() {
            let mut d = &self.drums[i * STEPS * DRUM_FEATURES..(i + 1) * STEPS * DRUM_FEATURES];
            if let Some((rng, share)) = drop.as_mut() {
                dropped.clear();
                dropped.extend_from_slice(d);
                drop_hits(&mut dropped, rng, *share);
                d = &dropped;
            }
            let c = &self.conditions[i * CONDITIONS..(i + 1) * CONDITIONS];
            drums.extend_from_slice(d);
            conditions.extend_from_slice(c);
            let mut previous = START;
            for t in 0..STEPS {
                let token = self.tokens[i * STEPS + t];
                decoder_extra(
                    previous,
                    &d[t * DRUM_FEATURES..(t + 1) * DRUM_FEATURES],
                    c,
                    &mut extra,
                );
                step_mask(previous, &mut mask);
                targets[(row * STEPS + t) * VOCAB + token] = 1.0;
                velocity.push(self.velocities[i * STEPS + t]);
                note_mask.push(if super::model::pitch_of(token).is_some() {
                    1.0
                } else {
                    0.0
                });
                previous = token;
            }
        }
        let t3 =
            |v: Vec<f32>, w: usize| Tensor::from_data(TensorData::new(v, [b, STEPS, w]), device);
        Batch {
            drums: t3(drums, DRUM_FEATURES),
            conditions: Tensor::from_data(TensorData::new(conditions, [b, CONDITIONS]), device),
            decoder_extra: t3(extra, DECODER_EXTRA),
            mask: t3(mask, VOCAB),
            targets: t3(targets, VOCAB),
            velocity: Tensor::from_data(TensorData::new(velocity, [b, STEPS]), device),
            note_mask: Tensor::from_data(TensorData::new(note_mask, [b, STEPS]), device),
        }
    }
}

/// Leaves each drum hit of `features` (`[STEPS, DRUM_FEATURES]`, see
/// [`super::model::drum_features`]) out with probability `share`: its onset and velocity
/// become 0.
fn drop_hits(features: &mut [f32], rng: &mut Rng, share: f32) {
    use crate::pattern::Voice;
    for step in features.chunks_mut(DRUM_FEATURES) {
        for v in 0..Voice::COUNT {
            if step[v] > 0.0 && rng.uniform() < share {
                step[v] = 0.0;
                step[Voice::COUNT + v] = 0.0;
            }
        }
    }
}

/// The loss of one batch (means per step).
#[derive(Debug, Clone)]
pub struct LossTerms {
    /// Tokens + velocity_weight × velocity.
    pub total: Tensor<1>,
    /// Token cross-entropy per step.
    pub tokens: Tensor<1>,
    /// Velocity squared error per note step.
    pub velocity: Tensor<1>,
}

impl BassNet {
    /// The teacher-forced loss of a batch: runs [`BassNet::forward`] and scores it.
    pub fn loss(&self, batch: Batch, velocity_weight: f64) -> LossTerms {
        let out = self.forward(
            batch.drums,
            batch.conditions,
            batch.decoder_extra,
            batch.mask,
        );
        score(
            out,
            batch.targets,
            batch.velocity,
            batch.note_mask,
            velocity_weight,
        )
    }
}

/// Scores a network output against one-hot `targets` `[b, STEPS, VOCAB]`, velocities and the
/// note mask (each `[b, STEPS]`).
pub fn score(
    out: BassNetOutput,
    targets: Tensor<3>,
    velocity: Tensor<2>,
    note_mask: Tensor<2>,
    velocity_weight: f64,
) -> LossTerms {
    let [b, steps, _] = targets.dims();
    let tokens = (log_softmax(out.logits, 2) * targets)
        .sum()
        .neg()
        .div_scalar((b * steps) as f64);
    let notes = note_mask.clone().sum().add_scalar(1.0);
    let velocity = ((out.velocity - velocity).square() * note_mask).sum() / notes;
    let total = tokens.clone() + velocity.clone().mul_scalar(velocity_weight);
    LossTerms {
        total,
        tokens,
        velocity,
    }
}

/// What one epoch measured.
#[derive(Debug, Clone, PartialEq)]
pub struct EpochReport {
    /// 1-based epoch number.
    pub epoch: usize,
    /// Maximum number of epochs.
    pub epochs: usize,
    /// Mean training loss.
    pub train_loss: f64,
    /// Validation loss.
    pub valid_loss: f64,
    /// Validation per-step token accuracy under teacher forcing.
    pub valid_accuracy: f64,
    /// Validation onset F1 of the likeliest lines (with `rhythm_by_onsets`).
    pub valid_onset_f1: Option<f64>,
    /// Whether this epoch gave the best onset F1 so far (and is kept as the rhythm network).
    pub rhythm_improved: bool,
    /// Time since training began.
    pub elapsed: Duration,
    /// Whether this epoch gave the best validation loss so far.
    pub improved: bool,
}

/// The epoch kept as the rhythm network (see [`TrainingConfig::rhythm_by_onsets`]).
#[derive(Debug, Clone)]
pub struct RhythmEpoch {
    /// Its network, without autodiff.
    pub net: BassNet,
    /// The epoch (1-based).
    pub epoch: usize,
    /// Its validation onset F1.
    pub onset_f1: f64,
}

/// The result of [`train`].
#[derive(Debug)]
pub struct Trained {
    /// The network of the best validation epoch, without autodiff, on the inference device.
    pub net: BassNet,
    /// That epoch (1-based).
    pub best_epoch: usize,
    /// Its validation loss.
    pub best_valid_loss: f64,
    /// With `rhythm_by_onsets`: the network of the epoch with the best validation onset F1,
    /// that epoch and its F1.
    pub rhythm: Option<RhythmEpoch>,
    /// Epochs actually run.
    pub epochs_run: usize,
    /// Every epoch's report.
    pub history: Vec<EpochReport>,
    /// Wall-clock training time.
    pub elapsed: Duration,
}

/// Trains a network on `train`, validating on `valid`, on `device` (training runs on its
/// autodiff form). `on_epoch` sees each epoch's report as it ends; `on_batch` sees the
/// number of batches done and the total of the epoch.
///
/// The same config, data and device give the same network.
pub fn train(
    config: &TrainingConfig,
    train: &[Example],
    valid: &[Example],
    device: &Device,
    mut on_epoch: impl FnMut(&EpochReport),
    on_batch: impl FnMut(usize, usize),
) -> Result<Trained, ModelError> {
    if train.is_empty() {
        return Err(ModelError::NoData("training drum+bass pairs"));
    }
    if valid.is_empty() {
        return Err(ModelError::NoData("validation drum+bass pairs"));
    }
    if config.batch_size == 0 || config.epochs == 0 || config.epoch_size == 0 {
        return Err(ModelError::Config(
            "batch size, epoch size and epochs must be at least 1".into(),
        ));
    }
    let began = Instant::now();
    let train_set = Prepared::new(train);
    let valid_set = Prepared::new(valid);
    let ad = device.clone().autodiff();
    let mut rng = Rng::new(config.seed);
    let net = config.model.init(&ad, &mut rng);
    let order: Vec<usize> = (0..train_set.len()).collect();
    let epoch_size = config.epoch_size.min(order.len());
    let mut trainer = NetTrainer {
        config,
        train_set,
        valid_set,
        valid_examples: valid,
        rhythm: None,
        validations: 0,
        device,
        ad,
        rng,
        optim: AdamConfig::new().init(),
        epoch_size,
        batches_per_epoch: epoch_size.div_ceil(config.batch_size),
        cursor: order.len(),
        order,
        on_batch,
    };
    let schedule = Schedule {
        epochs: config.epochs,
        patience: config.patience,
        first_counted: 0,
    };
    let out = train_loop::run(
        &mut trainer,
        net,
        &schedule,
        began,
        |trainer, end| EpochReport {
            epoch: end.epoch,
            epochs: end.epochs,
            train_loss: end.train_loss,
            valid_loss: end.valid.loss,
            valid_accuracy: end.valid.accuracy,
            valid_onset_f1: end.valid.onset_f1,
            rhythm_improved: trainer
                .rhythm
                .as_ref()
                .is_some_and(|r| r.epoch == end.epoch),
            elapsed: end.elapsed,
            improved: end.improved,
        },
        |report, _| on_epoch(report),
    )?;
    Ok(Trained {
        net: out.model,
        best_epoch: out.best_epoch,
        best_valid_loss: out.best_valid.loss,
        rhythm: trainer.rhythm.take(),
        epochs_run: out.history.len(),
        history: out.history,
        elapsed: out.elapsed,
    })
}

/// The translation network's side of [`train_loop::run`]: each epoch takes the next
/// `epoch_size` examples of a long seeded shuffle.
struct NetTrainer<'a, B> {
    config: &'a TrainingConfig,
    train_set: Prepared,
    valid_set: Prepared,
    /// The validation examples (decoded with `rhythm_by_onsets`).
    valid_examples: &'a [Example],
    /// The best rhythm epoch so far.
    rhythm: Option<RhythmEpoch>,
    /// Validations so far (the epoch of the latest).
    validations: usize,
    /// The inference device (validation runs there).
    device: &'a Device,
    /// Its autodiff form (training runs there).
    ad: Device,
    /// Shuffles the order each time it has been used up.
    rng: Rng,
    optim: ModuleOptimizer,
    /// Examples per epoch (at most all of them).
    epoch_size: usize,
    /// Batches per epoch, for progress.
    batches_per_epoch: usize,
    /// The shuffled order of the training examples.
    order: Vec<usize>,
    /// How far through `order` the epochs have come.
    cursor: usize,
    /// Sees the batches done and the total of the epoch.
    on_batch: B,
}

impl<B: FnMut(usize, usize)> Trainer for NetTrainer<'_, B> {
    type Training = BassNet;
    type Model = BassNet;
    type Valid = Validation;

    fn train_epoch(&mut self, mut net: BassNet, _epoch: usize) -> (BassNet, f64) {
        let config = self.config;
        let mut chosen = Vec::with_capacity(self.epoch_size);
        while chosen.len() < self.epoch_size {
            if self.cursor == self.order.len() {
                self.rng.shuffle(&mut self.order);
                self.cursor = 0;
            }
            let take = (self.epoch_size - chosen.len()).min(self.order.len() - self.cursor);
            chosen.extend_from_slice(&self.order[self.cursor..self.cursor + take]);
            self.cursor += take;
        }
        let mut sum = 0.0;
        let mut batches = 0usize;
        for chunk in chosen.chunks(config.batch_size) {
            let drop = (config.drop_hits > 0.0).then_some((&mut self.rng, config.drop_hits));
            let terms = net.loss(
                self.train_set.batch_dropping(chunk, &self.ad, drop),
                config.velocity_weight,
            );
            sum += f64::from(terms.total.clone().into_scalar::<f32>());
            batches += 1;
            let grads = GradientsParams::from_grads(terms.total.backward(), &net);
            net = self.optim.step(config.learning_rate, net, grads);
            (self.on_batch)(batches, self.batches_per_epoch);
        }
        (net, sum / batches.max(1) as f64)
    }

    fn validate(&mut self, net: &BassNet) -> (BassNet, Validation) {
        let valid = net.valid();
        let (loss, accuracy) = validate(&valid, &self.valid_set, self.device, self.config);
        self.validations += 1;
        let onset_f1 = if self.config.rhythm_by_onsets {
            let f1 = likeliest_onset_f1(&valid, self.valid_examples);
            if self.rhythm.as_ref().is_none_or(|r| f1 > r.onset_f1) {
                self.rhythm = Some(RhythmEpoch {
                    net: valid.clone(),
                    epoch: self.validations,
                    onset_f1: f1,
                });
            }
            Some(f1)
        } else {
            None
        };
        let measured = Validation {
            loss,
            accuracy,
            onset_f1,
        };
        (valid, measured)
    }

    fn better(new: &Validation, best: &Validation) -> bool {
        new.loss < best.loss
    }
}

/// Onset F1 of the likeliest line (rhythm and pitch greedy, notes in the scale) for each of
/// `examples` against its own line.
fn likeliest_onset_f1(net: &BassNet, examples: &[Example]) -> f64 {
    use super::eval::measure_lines;
    use super::infer::{BassModel, TranslateOptions};
    let Ok(model) = BassModel::new(net.clone(), "validation") else {
        return 0.0;
    };
    let lines: Vec<Bassline> = examples
        .iter()
        .map(|e| {
            model.translate_with(
                &e.drums,
                &TranslateOptions {
                    key: e.key,
                    scale: e.scale,
                    temperature: 0.0,
                    pitch_temperature: 0.0,
                    ..TranslateOptions::default()
                },
            )
        })
        .collect();
    measure_lines(
        examples
            .iter()
            .zip(&lines)
            .map(|(e, line)| (&e.bass, line, e.scale)),
    )
    .onset_f1
}

/// Mean teacher-forced validation loss and token accuracy per step.
pub fn validate(
    net: &BassNet,
    set: &Prepared,
    device: &Device,
    config: &TrainingConfig,
) -> (f64, f64) {
    let indices: Vec<usize> = (0..set.len()).collect();
    let mut loss = 0.0;
    let mut correct = 0usize;
    for chunk in indices.chunks(512) {
        let batch = set.batch(chunk, device);
        let out = net.forward(
            batch.drums,
            batch.conditions,
            batch.decoder_extra,
            batch.mask,
        );
        let predicted = out.logits.clone().argmax(2);
        let truth = batch.targets.clone().argmax(2);
        correct += predicted
            .equal(truth)
            .int()
            .sum()
            .into_scalar::<i64>()
            .max(0) as usize;
        let terms = score(
            out,
            batch.targets,
            batch.velocity,
            batch.note_mask,
            config.velocity_weight,
        );
        loss += f64::from(terms.total.into_scalar::<f32>()) * chunk.len() as f64;
    }
    let n = set.len().max(1) as f64;
    (loss / n, correct as f64 / (n * STEPS as f64))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pattern::Voice;

    #[test]
    fn dropping_hits_leaves_the_grid_and_takes_hits_at_the_share() {
        let mut pattern = DrumPattern::default();
        for step in 0..STEPS {
            pattern.set(
                Voice::ClosedHat,
                step,
                crate::pattern::DrumCell::hit(0.8, 0.0),
            );
        }
        let mut features = Vec::new();
        drum_features(&pattern, &mut features);
        let kept = |f: &[f32]| {
            f.chunks(DRUM_FEATURES)
                .filter(|s| s[Voice::ClosedHat.index()] > 0.0)
                .count()
        };
        let mut rng = Rng::new(3);
        let mut none = features.clone();
        drop_hits(&mut none, &mut rng, 0.0);
        assert_eq!(none, features);
        let mut all = features.clone();
        drop_hits(&mut all, &mut rng, 1.0);
        assert_eq!(kept(&all), 0);
        let grid = |f: &[f32]| -> Vec<f32> {
            f.chunks(DRUM_FEATURES)
                .flat_map(|s| s[2 * Voice::COUNT..].to_vec())
                .collect()
        };
        assert_eq!(grid(&all), grid(&features), "step positions stay");
        let mut some = features.clone();
        drop_hits(&mut some, &mut rng, 0.5);
        assert!((8..=24).contains(&kept(&some)), "{}", kept(&some));
    }
}
