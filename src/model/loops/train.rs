//! Triplet-loss training of the loop model with in-batch negatives.
//!
//! A batch holds `batch_size` training windows. All of its inputs — the SoundFont anchors,
//! the ubiq anchors and the positives — go through the network together; every anchor is then
//! paired with its own positive and, as negatives, with the positives of every window of
//! another song in the batch, so one batch gives about `2 × batch_size²` triplets for the
//! price of `3 × batch_size` embeddings. The triplet loss `max(0, d(a, p) − d(a, n) + margin)`
//! is averaged over the triplets that still violate the margin ([`Mining::All`]) or taken at
//! the hardest negative of each anchor ([`Mining::Hard`]).

use std::time::{Duration, Instant};

use burn::config::Config;
use burn::module::Module;
use burn::optim::{AdamConfig, GradientsParams, ModuleOptimizer};
use burn::tensor::activation::relu;
use burn::tensor::{Device, Tensor, TensorData};
use serde::{Deserialize, Serialize};

use super::data::{AnchorKind, DataConfig, LoopInput, TripletData, WindowData};
use super::model::{LoopNet, LoopNetConfig, distance, pairwise_distance};
use crate::dataset::Split;
use crate::loops::mel::{CHROMA, INPUT_LEN};
use crate::model::ModelError;
use crate::model::rng::Rng;
use crate::model::train_loop::{self, Schedule, Trainer};

/// Which in-batch triplets the loss uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mining {
    /// Every triplet, averaged over those with a positive loss.
    All,
    /// The hardest negative of each anchor.
    Hard,
}

/// Everything that decides a training run (saved beside the weights).
#[derive(Config, Debug)]
pub struct TrainingConfig {
    /// The architecture.
    pub model: LoopNetConfig,
    /// The windows and their renders.
    #[config(default = "DataConfig::new()")]
    pub data: DataConfig,
    /// Most epochs (the learning rate's cosine decay spans them).
    #[config(default = 8)]
    pub epochs: usize,
    /// Windows per batch.
    #[config(default = 32)]
    pub batch_size: usize,
    /// Adam learning rate (at the start; cosine decay to a twentieth of it by the last epoch).
    #[config(default = 1.0e-3)]
    pub learning_rate: f64,
    /// Triplet-loss margin (squared distance between unit embeddings, 0..4).
    #[config(default = 0.5)]
    pub margin: f64,
    /// Seed of initialisation, order and validation negatives.
    #[config(default = 7)]
    pub seed: u64,
    /// Stop after this many epochs without a better validation accuracy.
    #[config(default = 2)]
    pub patience: usize,
    /// Which in-batch triplets the loss uses.
    #[config(default = "Mining::All")]
    pub mining: Mining,
    /// Anchor kinds trained on (each window contributes one anchor of every kind).
    #[config(default = "vec![AnchorKind::SoundFont, AnchorKind::Ubiq]")]
    pub anchors: Vec<AnchorKind>,
    /// Negatives per validation anchor.
    #[config(default = 4)]
    pub valid_negatives: usize,
    /// Each window brings one anchor, of a kind drawn (seeded) from `anchors`, instead of one
    /// of every kind: a third less work a batch with both kinds.
    #[config(default = true)]
    pub one_anchor_each: bool,
    /// Training inputs get a random equaliser of up to ± this many decibels (tilt and bell;
    /// see [`Spectrogram::augmented_input`](super::data::Spectrogram::augmented_input)), anchors and positives each their own, so that
    /// the exact colour of a song's instruments is no cue; 0 leaves them as rendered.
    #[config(default = 12.0)]
    pub eq_db: f32,
    /// Training inputs get a random run of up to `mask[0]` bands and one of up to `mask[1]`
    /// frames set to the mean.
    #[config(default = "[32, 8]")]
    pub mask: [usize; 2],
    /// Key negatives: a batch holds each of its windows in two keys, and the melodic stem of
    /// a song in another key than the anchor's counts as a negative (same parts, same sound,
    /// only the harmony clashes), besides the stems of other songs.
    #[config(default = true)]
    pub key_negatives: bool,
    /// Time negatives: a batch holds its windows two by two from the same song, and the
    /// melodic stem of the same song at another time (at least two bars away, in the same
    /// key) counts as a negative when its chroma differs from the anchor window's own stem
    /// (cosine below `time_similarity`): same parts, same sound, same key, another harmony —
    /// in the MMA songs, the same groove over another chord of the progression.
    #[config(default = true)]
    pub time_negatives: bool,
    /// The chroma cosine under which a window of the same song is a time negative.
    #[config(default = 0.85)]
    pub time_similarity: f32,
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
    /// Validation triplet accuracy per anchor kind, in the order of [`AnchorKind::ALL`].
    pub valid_accuracy: [f64; 2],
    /// Time since training began.
    pub elapsed: Duration,
}

impl EpochReport {
    /// The mean of the validation accuracies of both anchor kinds (what selects the epoch).
    pub fn valid_score(&self) -> f64 {
        0.5 * (self.valid_accuracy[0] + self.valid_accuracy[1])
    }
}

/// The result of [`train`].
#[derive(Debug)]
pub struct Trained {
    /// The best validation epoch's model, without autodiff.
    pub model: LoopNet,
    /// That epoch.
    pub best_epoch: usize,
    /// Its validation accuracy per anchor kind, in the order of [`AnchorKind::ALL`].
    pub best_valid_accuracy: [f64; 2],
    /// Every epoch.
    pub history: Vec<EpochReport>,
    /// Wall-clock time.
    pub elapsed: Duration,
}

/// Stacks model input rows (`INPUT_LEN` values each) into `[n, INPUT_LEN]`.
pub fn stack<'a>(rows: impl Iterator<Item = &'a [f32]>, device: &Device) -> Tensor<2> {
    let mut flat = Vec::new();
    let mut n = 0;
    for r in rows {
        flat.extend_from_slice(r);
        n += 1;
    }
    Tensor::from_data(TensorData::new(flat, [n, INPUT_LEN]), device)
}

/// Stacks the model inputs of loops (spectrogram and chroma) into `[n, INPUT_LEN]`.
pub fn stack_loops<'a>(rows: impl Iterator<Item = LoopInput<'a>>, device: &Device) -> Tensor<2> {
    let mut flat = Vec::new();
    let mut n = 0;
    for r in rows {
        flat.extend(r.spectrogram.input());
        flat.extend_from_slice(r.chroma);
        n += 1;
    }
    Tensor::from_data(TensorData::new(flat, [n, INPUT_LEN]), device)
}

impl LoopNet {
    /// Mean triplet loss `max(0, d(a, p) − d(a, n) + margin)` of a batch.
    ///
    /// # Shapes
    /// - `anchor`, `positive`, `negative`: `[batch, INPUT_LEN]`; output: `[1]`
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

    /// Triplet loss over in-batch negatives: row `i` of `anchors` belongs with row `i` of
    /// `positives`, and `negative[i][j]` says whether positive `j` may serve as a negative of
    /// anchor `i` (another song).
    ///
    /// # Shapes
    /// - `anchors`: `[k × batch, INPUT_LEN]` (`k` anchor kinds, kind-major)
    /// - `positives`: `[batch, INPUT_LEN]`
    /// - `negative`: `[batch, batch]` of 0/1; output: `[1]`
    pub fn batch_triplet_loss(
        &self,
        anchors: Tensor<2>,
        positives: Tensor<2>,
        negative: Tensor<2>,
        margin: f64,
        mining: Mining,
    ) -> Tensor<1> {
        let [b, _] = positives.dims();
        let [rows, _] = anchors.dims();
        let e = self.forward(Tensor::cat(vec![positives, anchors], 0));
        let p = e.clone().narrow(0, 0, b);
        let device = e.device();
        let eye = Tensor::<2>::eye(b, &device);
        let mut losses = Vec::new();
        for k in 0..rows / b {
            let a = e.clone().narrow(0, b * (k + 1), b);
            // Row i: distances from anchor i to every positive, its own on the diagonal.
            let d = pairwise_distance(a, p.clone());
            let pos = (d.clone() * eye.clone()).sum_dim(1);
            losses.push(match mining {
                Mining::All => {
                    let l = relu((pos - d).add_scalar(margin)) * negative.clone();
                    let active = l.clone().greater_elem(1.0e-6).float().sum().clamp_min(1.0);
                    l.sum() / active.detach()
                }
                Mining::Hard => {
                    let masked = d + (negative.clone().neg().add_scalar(1.0)) * 8.0;
                    let hardest = masked.min_dim(1);
                    relu((pos - hardest).add_scalar(margin)).mean()
                }
            });
        }
        let n = losses.len().max(1) as f64;
        Tensor::cat(losses, 0).sum() / n
    }
}

/// Embeddings of windows: per anchor kind and of the positives, row `i` for window `i` of
/// the list given.
#[derive(Debug, Clone)]
pub struct WindowEmbeddings {
    /// Embedding size.
    pub dim: usize,
    /// SoundFont anchors, ubiq anchors (order of [`AnchorKind::ALL`]), flat rows.
    pub anchors: [Vec<f32>; 2],
    /// Positives, flat rows.
    pub positives: Vec<f32>,
}

/// Embeds `rows` in chunks of 64 under `model` (no autodiff), flat rows.
fn embed_rows(model: &LoopNet, rows: &[LoopInput], device: &Device) -> Vec<f32> {
    let mut out = Vec::new();
    for chunk in rows.chunks(64) {
        let e = model.forward(stack_loops(chunk.iter().copied(), device));
        out.extend(e.into_data().try_to_vec::<f32>().unwrap_or_default());
    }
    out
}

impl WindowEmbeddings {
    /// Embeds every window of `data` (anchors of both kinds and positives).
    pub fn of(model: &LoopNet, data: &TripletData, device: &Device) -> WindowEmbeddings {
        let w = &data.windows;
        let positives: Vec<LoopInput> = w.iter().map(WindowData::positive_input).collect();
        let positives = embed_rows(model, &positives, device);
        let anchors = AnchorKind::ALL.map(|k| {
            let specs: Vec<LoopInput> = w.iter().map(|x| x.anchor_input(k)).collect();
            embed_rows(model, &specs, device)
        });
        let dim = if w.is_empty() {
            0
        } else {
            positives.len() / w.len()
        };
        WindowEmbeddings {
            dim,
            anchors,
            positives,
        }
    }

    /// Squared distance between the anchor of `kind` of window `a` and the positive of `p`.
    pub fn distance(&self, kind: AnchorKind, a: usize, p: usize) -> f32 {
        let d = self.dim;
        let anchors = match kind {
            AnchorKind::SoundFont => &self.anchors[0],
            AnchorKind::Ubiq => &self.anchors[1],
        };
        anchors[a * d..(a + 1) * d]
            .iter()
            .zip(&self.positives[p * d..(p + 1) * d])
            .map(|(x, y)| (x - y) * (x - y))
            .sum()
    }
}

/// Share of `triplets` whose positive is nearer than the negative for anchors of `kind`.
pub fn accuracy(
    emb: &WindowEmbeddings,
    triplets: &[super::data::Triplet],
    kind: AnchorKind,
) -> f64 {
    if triplets.is_empty() {
        return 0.0;
    }
    triplets
        .iter()
        .filter(|t| {
            emb.distance(kind, t.anchor, t.anchor) < emb.distance(kind, t.anchor, t.negative)
        })
        .count() as f64
        / triplets.len() as f64
}

/// A subset of `data` (the windows of `split`), so validation embeds only what it needs.
fn subset(data: &TripletData, split: Split) -> TripletData {
    TripletData {
        songs: data.songs.clone(),
        windows: data
            .windows
            .iter()
            .filter(|w| w.split == split && w.shift == 0)
            .cloned()
            .collect(),
        skipped: Vec::new(),
    }
}

/// Trains on the `Train` windows of `data`, choosing the epoch by the mean validation accuracy
/// of both anchor kinds. `on_epoch` sees each epoch's report as it ends, with the model when
/// the epoch is the best so far (to keep it should the run be stopped); `on_batch(done,
/// total)` each batch.
pub fn train(
    config: &TrainingConfig,
    data: &TripletData,
    device: &Device,
    on_epoch: impl FnMut(&EpochReport, Option<&LoopNet>),
    on_batch: impl FnMut(usize, usize),
) -> Result<Trained, ModelError> {
    let began = Instant::now();
    let valid_data = subset(data, Split::Validation);
    let valid = valid_data.triplets(
        Split::Validation,
        config.valid_negatives,
        config.seed ^ 0xA11D,
    );
    let train_idx = data.indices(Split::Train);
    if data.song_count(Split::Train) < 2 {
        return Err(ModelError::NoData(
            "training triplets (need songs with drums, bass and melodic parts)",
        ));
    }
    if valid.is_empty() {
        return Err(ModelError::NoData(
            "validation triplets (need songs with drums, bass and melodic parts)",
        ));
    }
    let kinds: Vec<AnchorKind> = if config.anchors.is_empty() {
        vec![AnchorKind::SoundFont]
    } else {
        config.anchors.clone()
    };
    let ad = device.clone().autodiff();
    ad.seed(config.seed);
    let model = config.model.init(&ad);
    let batch = config.batch_size.max(2);
    let epochs = config.epochs.max(1);
    let w = &data.windows;
    // Windows with their renders in every key (the untransposed one first).
    let mut groups: Vec<Vec<usize>> = Vec::new();
    for &i in &train_idx {
        match groups.last_mut() {
            Some(g) if w[g[0]].song == w[i].song && w[g[0]].beat == w[i].beat => g.push(i),
            _ => groups.push(vec![i]),
        }
    }
    let per_epoch = if config.key_negatives {
        2 * groups.len()
    } else {
        train_idx.len()
    };
    let mut trainer = TripletTrainer {
        config,
        data,
        valid_data,
        valid,
        device,
        ad,
        optim: AdamConfig::new().init(),
        kinds,
        groups,
        train_idx,
        batch,
        total_steps: (epochs * per_epoch.div_ceil(batch)).max(1),
        step: 0,
        on_batch,
    };
    let schedule = Schedule {
        epochs,
        patience: config.patience,
        first_counted: 0,
    };
    let out = train_loop::run(
        &mut trainer,
        model,
        &schedule,
        began,
        |_, end| EpochReport {
            epoch: end.epoch,
            epochs: end.epochs,
            train_loss: end.train_loss,
            valid_accuracy: end.valid,
            elapsed: end.elapsed,
        },
        on_epoch,
    )?;
    Ok(Trained {
        model: out.model,
        best_epoch: out.best_epoch,
        best_valid_accuracy: out.best_valid,
        history: out.history,
        elapsed: out.elapsed,
    })
}

/// Whether the positive of window `n` is a negative of the anchor of window `a`: another
/// song's; the same song's in another key (with key negatives); the same song's in the same
/// key at least two bars away with another harmony (with time negatives).
fn is_negative(config: &TrainingConfig, a: &WindowData, n: &WindowData) -> bool {
    if a.song != n.song {
        return true;
    }
    if a.shift != n.shift {
        return config.key_negatives;
    }
    config.time_negatives && a.beat.abs_diff(n.beat) >= 8 && {
        let (x, y) = (a.positive_features(), n.positive_features());
        let cosine: f32 = x[..CHROMA]
            .iter()
            .zip(&y[..CHROMA])
            .map(|(x, y)| x * y)
            .sum();
        cosine < config.time_similarity
    }
}

/// The training windows (with their renders in every key) in pieces of two windows of the
/// same song (the last of a song with an odd count alone), in a random order: every batch
/// then holds pairs of windows of one song, so time negatives occur.
fn pieces_by_song<'g>(
    groups: &'g [Vec<usize>],
    windows: &[WindowData],
    rng: &mut Rng,
) -> Vec<Vec<&'g Vec<usize>>> {
    let mut by_song: std::collections::BTreeMap<usize, Vec<&Vec<usize>>> = Default::default();
    for g in groups {
        by_song.entry(windows[g[0]].song).or_default().push(g);
    }
    let mut pieces = Vec::with_capacity(groups.len().div_ceil(2));
    for (_, mut song) in by_song {
        rng.shuffle(&mut song);
        pieces.extend(song.chunks(2).map(<[_]>::to_vec));
    }
    rng.shuffle(&mut pieces);
    pieces
}

/// The loop model's side of [`train_loop::run`]: in-batch triplets under a cosine learning
/// rate, validated by triplet accuracy per anchor kind.
struct TripletTrainer<'a, B> {
    config: &'a TrainingConfig,
    data: &'a TripletData,
    /// The validation windows.
    valid_data: TripletData,
    /// The validation triplets.
    valid: Vec<super::data::Triplet>,
    /// The inference device (validation runs there).
    device: &'a Device,
    /// Its autodiff form (training runs there).
    ad: Device,
    optim: ModuleOptimizer,
    /// Anchor kinds trained on.
    kinds: Vec<AnchorKind>,
    /// Training windows with their renders in every key (the untransposed one first).
    groups: Vec<Vec<usize>>,
    /// The training windows.
    train_idx: Vec<usize>,
    /// Windows per batch.
    batch: usize,
    /// Steps of the whole run (the learning rate's cosine spans them).
    total_steps: usize,
    /// Steps taken.
    step: usize,
    /// Sees the batches done and the total of the epoch.
    on_batch: B,
}

impl<B: FnMut(usize, usize)> Trainer for TripletTrainer<'_, B> {
    type Training = LoopNet;
    type Model = LoopNet;
    /// Triplet accuracy per anchor kind, in the order of [`AnchorKind::ALL`].
    type Valid = [f64; 2];

    fn train_epoch(&mut self, mut model: LoopNet, epoch: usize) -> (LoopNet, f64) {
        let config = self.config;
        let (ad, kinds, batch) = (&self.ad, &self.kinds, self.batch);
        let w = &self.data.windows;
        let mut rng = Rng::new(config.seed ^ ((epoch as u64) << 8));
        let order: Vec<usize> = if config.key_negatives {
            let units = if config.time_negatives {
                pieces_by_song(&self.groups, w, &mut rng)
            } else {
                rng.shuffle(&mut self.groups);
                self.groups.iter().map(|g| vec![g]).collect()
            };
            units
                .into_iter()
                .flatten()
                .flat_map(|g| {
                    let first = rng.below(g.len());
                    let second = (first + 1 + rng.below(g.len().max(2) - 1)) % g.len();
                    [g[first], g[second]]
                })
                .collect()
        } else {
            let mut order = self.train_idx.clone();
            rng.shuffle(&mut order);
            order
        };
        let total = order.len().div_ceil(batch);
        let (mut sum, mut batches) = (0.0, 0usize);
        for (i, chunk) in order.chunks(batch).enumerate() {
            if chunk.len() < 2 {
                continue;
            }
            let progress = self.step as f64 / self.total_steps as f64;
            let lr = config.learning_rate
                * (0.05 + 0.95 * 0.5 * (1.0 + (std::f64::consts::PI * progress).cos()));
            self.step += 1;
            let b = chunk.len();
            let anchor_specs: Vec<LoopInput> = if config.one_anchor_each {
                chunk
                    .iter()
                    .map(|&j| w[j].anchor_input(kinds[rng.below(kinds.len())]))
                    .collect()
            } else {
                kinds
                    .iter()
                    .flat_map(|&k| chunk.iter().map(move |&j| w[j].anchor_input(k)))
                    .collect()
            };
            let positive_specs: Vec<LoopInput> =
                chunk.iter().map(|&j| w[j].positive_input()).collect();
            let mut augment = |specs: &[LoopInput]| {
                let rows: Vec<Vec<f32>> = specs
                    .iter()
                    .map(|s| {
                        let mut row =
                            s.spectrogram
                                .augmented_input(&mut rng, config.eq_db, config.mask);
                        row.extend_from_slice(s.chroma);
                        row
                    })
                    .collect();
                stack(rows.iter().map(Vec::as_slice), ad)
            };
            let positives = augment(&positive_specs);
            let anchors = augment(&anchor_specs);
            let mask: Vec<f32> = chunk
                .iter()
                .flat_map(|&a| {
                    chunk
                        .iter()
                        .map(move |&n| f32::from(u8::from(is_negative(config, &w[a], &w[n]))))
                })
                .collect();
            let negative = Tensor::from_data(TensorData::new(mask, [b, b]), ad);
            let loss = model.batch_triplet_loss(
                anchors,
                positives,
                negative,
                config.margin,
                config.mining,
            );
            sum += f64::from(loss.clone().into_scalar::<f32>());
            batches += 1;
            let grads = GradientsParams::from_grads(loss.backward(), &model);
            model = self.optim.step(lr, model, grads);
            (self.on_batch)(i + 1, total);
        }
        (model, sum / batches.max(1) as f64)
    }

    fn validate(&mut self, model: &LoopNet) -> (LoopNet, [f64; 2]) {
        let valid_model = model.valid();
        let emb = WindowEmbeddings::of(&valid_model, &self.valid_data, self.device);
        let accuracy = AnchorKind::ALL.map(|k| accuracy(&emb, &self.valid, k));
        (valid_model, accuracy)
    }

    /// The mean of both anchor kinds' accuracies selects the epoch.
    fn better(new: &[f64; 2], best: &[f64; 2]) -> bool {
        0.5 * (new[0] + new[1]) > 0.5 * (best[0] + best[1])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::loops::features::FEATURE_LEN;
    use crate::loops::mel::{FRAMES, N_MELS};

    /// A window of song `song` at `beat`, moved `shift`, whose melodic stem sounds pitch
    /// class `pc`.
    fn window(song: usize, beat: u32, shift: i8, pc: usize) -> WindowData {
        let silent = crate::model::loops::data::Spectrogram(vec![0; N_MELS * FRAMES]);
        let mut positive = vec![0.0; FEATURE_LEN];
        positive[pc] = 1.0;
        WindowData {
            song,
            split: Split::Train,
            beat,
            shift,
            anchor: silent.clone(),
            ubiq_anchor: silent.clone(),
            positive: silent,
            features: [vec![0.0; FEATURE_LEN], vec![0.0; FEATURE_LEN], positive],
        }
    }

    #[test]
    fn negatives_are_other_songs_other_keys_and_the_same_song_at_another_harmony() {
        let config = TrainingConfig::new(LoopNetConfig::new());
        let a = window(0, 0, 0, 0);
        assert!(
            is_negative(&config, &a, &window(1, 0, 0, 0)),
            "another song"
        );
        assert!(is_negative(&config, &a, &window(0, 0, 3, 3)), "another key");
        assert!(
            is_negative(&config, &a, &window(0, 16, 0, 7)),
            "two bars on, another chord"
        );
        assert!(
            !is_negative(&config, &a, &window(0, 16, 0, 0)),
            "two bars on, the same chord: it fits as well"
        );
        assert!(
            !is_negative(&config, &a, &window(0, 4, 0, 7)),
            "one bar on: the windows overlap"
        );
        assert!(!is_negative(&config, &a, &a), "its own positive");
        let without = TrainingConfig {
            time_negatives: false,
            ..TrainingConfig::new(LoopNetConfig::new())
        };
        assert!(!is_negative(&without, &a, &window(0, 16, 0, 7)));
    }

    #[test]
    fn batches_hold_windows_two_by_two_from_one_song() {
        let windows: Vec<WindowData> = (0..3)
            .flat_map(|song| (0..5).map(move |k| window(song, 4 * k, 0, 0)))
            .collect();
        let groups: Vec<Vec<usize>> = (0..windows.len()).map(|i| vec![i]).collect();
        let pieces = pieces_by_song(&groups, &windows, &mut Rng::new(1));
        // Five windows a song: two pairs and one alone, for each of three songs.
        assert_eq!(pieces.len(), 9);
        let mut seen: Vec<usize> = pieces.iter().flatten().map(|g| g[0]).collect();
        seen.sort_unstable();
        assert_eq!(seen, (0..15).collect::<Vec<_>>(), "every window once");
        for piece in &pieces {
            assert!(
                piece
                    .iter()
                    .all(|g| windows[g[0]].song == windows[piece[0][0]].song)
            );
        }
        assert_eq!(pieces.iter().filter(|p| p.len() == 2).count(), 6);
    }
}
