//! Triplet-loss training of the loop model.

use std::time::{Duration, Instant};

use burn::config::Config;
use burn::module::Module;
use burn::optim::{AdamConfig, GradientsParams};
use burn::tensor::activation::relu;
use burn::tensor::{Device, Tensor, TensorData};

use super::LoopModelError;
use super::data::{Triplet, TripletData};
use super::model::{LoopNet, LoopNetConfig, distance};
use crate::dataset::Split;
use crate::loops::mel::{FRAMES, N_MELS};
use crate::model::rng::Rng;

/// Everything that decides a training run (saved beside the weights).
#[derive(Config, Debug)]
pub struct TrainingConfig {
    /// The architecture.
    pub model: LoopNetConfig,
    /// Most epochs.
    #[config(default = 24)]
    pub epochs: usize,
    /// Triplets per batch.
    #[config(default = 32)]
    pub batch_size: usize,
    /// Adam learning rate.
    #[config(default = 1.0e-3)]
    pub learning_rate: f64,
    /// Triplet-loss margin (squared distance between unit embeddings, 0..4).
    #[config(default = 0.5)]
    pub margin: f64,
    /// Seed of initialisation, order and negatives.
    #[config(default = 7)]
    pub seed: u64,
    /// Stop after this many epochs without a better validation accuracy.
    #[config(default = 6)]
    pub patience: usize,
}

/// What one epoch measured.
#[derive(Debug, Clone, PartialEq)]
pub struct EpochReport {
    /// 1-based epoch.
    pub epoch: usize,
    /// Maximum epochs.
    pub epochs: usize,
    /// Mean training triplet loss.
    pub train_loss: f64,
    /// Validation triplet accuracy.
    pub valid_accuracy: f64,
    /// Time since training began.
    pub elapsed: Duration,
}

/// The result of [`train`].
#[derive(Debug)]
pub struct Trained {
    /// The best validation epoch's model, without autodiff.
    pub model: LoopNet,
    /// That epoch.
    pub best_epoch: usize,
    /// Its validation accuracy.
    pub best_valid_accuracy: f64,
    /// Every epoch.
    pub history: Vec<EpochReport>,
    /// Wall-clock time.
    pub elapsed: Duration,
}

/// Stacks rows of `[N_MELS × FRAMES]` inputs into `[n, N_MELS × FRAMES]`.
pub fn stack<'a>(rows: impl Iterator<Item = &'a [f32]>, device: &Device) -> Tensor<2> {
    let mut flat = Vec::new();
    let mut n = 0;
    for r in rows {
        flat.extend_from_slice(r);
        n += 1;
    }
    Tensor::from_data(TensorData::new(flat, [n, N_MELS * FRAMES]), device)
}

impl LoopNet {
    /// Mean triplet loss `max(0, d(a, p) − d(a, n) + margin)` of a batch.
    ///
    /// # Shapes
    /// - `anchor`, `positive`, `negative`: `[batch, N_MELS × FRAMES]`; output: `[1]`
    pub fn triplet_loss(
        &self,
        anchor: Tensor<2>,
        positive: Tensor<2>,
        negative: Tensor<2>,
        margin: f64,
    ) -> Tensor<1> {
        let [b, _] = anchor.dims();
        let all = Tensor::cat(vec![anchor, positive, negative], 0);
        let e = self.forward(all);
        let a = e.clone().narrow(0, 0, b);
        let p = e.clone().narrow(0, b, b);
        let n = e.narrow(0, 2 * b, b);
        relu((distance(a.clone(), p) - distance(a, n)).add_scalar(margin)).mean()
    }
}

/// Distances `(d(anchor, positive), d(anchor, negative))` of each triplet under `model`.
pub fn triplet_distances(
    model: &LoopNet,
    data: &TripletData,
    triplets: &[Triplet],
    device: &Device,
) -> Vec<(f32, f32)> {
    let mut out = Vec::with_capacity(triplets.len());
    for chunk in triplets.chunks(64) {
        let w = &data.windows;
        let a = model.forward(stack(
            chunk.iter().map(|t| w[t.anchor].anchor.as_slice()),
            device,
        ));
        let p = model.forward(stack(
            chunk.iter().map(|t| w[t.anchor].positive.as_slice()),
            device,
        ));
        let n = model.forward(stack(
            chunk.iter().map(|t| w[t.negative].positive.as_slice()),
            device,
        ));
        let dp: Vec<f32> = distance(a.clone(), p)
            .into_data()
            .try_to_vec::<f32>()
            .unwrap_or_default();
        let dn: Vec<f32> = distance(a, n)
            .into_data()
            .try_to_vec::<f32>()
            .unwrap_or_default();
        out.extend(dp.into_iter().zip(dn));
    }
    out
}

/// Share of triplets whose positive is nearer than the negative.
pub fn accuracy(distances: &[(f32, f32)]) -> f64 {
    if distances.is_empty() {
        return 0.0;
    }
    distances.iter().filter(|(p, n)| p < n).count() as f64 / distances.len() as f64
}

/// Trains on the `Train` windows of `data`, choosing the epoch by validation accuracy.
/// `on_epoch` sees each epoch's report as it ends; `on_batch(done, total)` each batch.
pub fn train(
    config: &TrainingConfig,
    data: &TripletData,
    device: &Device,
    mut on_epoch: impl FnMut(&EpochReport),
    mut on_batch: impl FnMut(usize, usize),
) -> Result<Trained, LoopModelError> {
    let began = Instant::now();
    let valid = data.triplets(Split::Validation, config.seed ^ 0xA11D);
    if data.triplets(Split::Train, config.seed).is_empty() {
        return Err(LoopModelError::NoData("training"));
    }
    if valid.is_empty() {
        return Err(LoopModelError::NoData("validation"));
    }
    let ad = device.clone().autodiff();
    ad.seed(config.seed);
    let mut model = config.model.init(&ad);
    let mut optim = AdamConfig::new().init();
    let mut best: Option<(f64, usize, LoopNet)> = None;
    let mut history = Vec::new();
    let mut since_best = 0;
    let batch = config.batch_size.max(2);
    for epoch in 1..=config.epochs.max(1) {
        let mut triplets = data.triplets(Split::Train, config.seed.wrapping_add(epoch as u64));
        Rng::new(config.seed ^ epoch as u64).shuffle(&mut triplets);
        let total = triplets.len().div_ceil(batch);
        let (mut sum, mut batches) = (0.0, 0usize);
        for (i, chunk) in triplets.chunks(batch).enumerate() {
            let w = &data.windows;
            let a = stack(chunk.iter().map(|t| w[t.anchor].anchor.as_slice()), &ad);
            let p = stack(chunk.iter().map(|t| w[t.anchor].positive.as_slice()), &ad);
            let n = stack(chunk.iter().map(|t| w[t.negative].positive.as_slice()), &ad);
            let loss = model.triplet_loss(a, p, n, config.margin);
            sum += f64::from(loss.clone().into_scalar::<f32>());
            batches += 1;
            let grads = GradientsParams::from_grads(loss.backward(), &model);
            model = optim.step(config.learning_rate, model, grads);
            on_batch(i + 1, total);
        }
        let valid_accuracy = accuracy(&triplet_distances(&model.valid(), data, &valid, device));
        let improved = best.as_ref().is_none_or(|(b, _, _)| valid_accuracy > *b);
        if improved {
            best = Some((valid_accuracy, epoch, model.valid()));
            since_best = 0;
        } else {
            since_best += 1;
        }
        let report = EpochReport {
            epoch,
            epochs: config.epochs,
            train_loss: sum / batches.max(1) as f64,
            valid_accuracy,
            elapsed: began.elapsed(),
        };
        on_epoch(&report);
        history.push(report);
        if since_best >= config.patience {
            break;
        }
    }
    let (best_valid_accuracy, best_epoch, model) = match best {
        Some(b) => b,
        None => (0.0, history.len(), model.valid()),
    };
    Ok(Trained {
        model,
        best_epoch,
        best_valid_accuracy,
        history,
        elapsed: began.elapsed(),
    })
}
