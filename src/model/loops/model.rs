//! The Siamese CNN over the log-mel input (`N_MELS` bands × `FRAMES` frames): blocks of a 3×3
//! convolution, optional batch norm, ReLU and max-pooling (by [`LoopNetConfig::pools`]: bands ×
//! frames per block), then global average pooling ([`Head::Average`]) or the whole feature map
//! ([`Head::Flatten`], which keeps where in the two bars and in which bands things happen), and
//! a linear projection. Beside it, an optional chroma branch reads the loop's 12-bin chroma
//! of each half bar ([`CHROMA_SLICES`] of them, the same weights for each) through circular
//! convolutions over the pitch classes ([`LoopNetConfig::chroma`]): its
//! features move with the music when it is transposed, so the distance between two loops'
//! chroma features depends only on the intervals between their pitch classes, not on the
//! key. The projection and the chroma features, side by side, are scaled to unit length.

use burn::config::Config;
use burn::module::Module;
use burn::nn::conv::{Conv1d, Conv1dConfig, Conv2d, Conv2dConfig};
use burn::nn::pool::{MaxPool2d, MaxPool2dConfig};
use burn::nn::{
    BatchNorm, BatchNormConfig, Dropout, DropoutConfig, Linear, LinearConfig, PaddingConfig2d,
};
use burn::tensor::activation::relu;
use burn::tensor::{Device, Tensor};
use serde::{Deserialize, Serialize};

use crate::loops::mel::{CHROMA, CHROMA_SLICES, FRAMES, N_MELS, SLICED_CHROMA};

/// What the projection to the embedding reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Head {
    /// The mean of each channel over the feature map.
    Average,
    /// The whole feature map (channels × bands × frames after pooling).
    Flatten,
}

/// Architecture of the loop model.
#[derive(Config, Debug)]
pub struct LoopNetConfig {
    /// Channels of the convolution blocks, one block each (at most six).
    #[config(default = "vec![16, 32, 48]")]
    pub channels: Vec<usize>,
    /// Max-pooling of each block, `[bands, frames]` (kernel = stride; 1 keeps that axis);
    /// blocks past the end of the list pool `[2, 2]`.
    #[config(default = "vec![[2, 2], [2, 2], [2, 2]]")]
    pub pools: Vec<[usize; 2]>,
    /// Size of the embedding.
    #[config(default = 32)]
    pub embedding: usize,
    /// Batch normalisation after each convolution (running statistics at inference).
    #[config(default = true)]
    pub batch_norm: bool,
    /// What the projection reads.
    #[config(default = "Head::Flatten")]
    pub head: Head,
    /// Dropout before the projection while training.
    #[config(default = 0.5)]
    pub dropout: f64,
    /// Channels of the chroma branch's circular convolutions (each reads all 12 pitch
    /// classes; ReLU between them), run over each half bar's chroma; the last one's 12 ×
    /// channels outputs of every half bar join the embedding. Empty: no chroma branch.
    #[config(default = "vec![16, 4]")]
    pub chroma: Vec<usize>,
}

/// Circular convolutions over the 12 pitch classes with `channels` outputs each, reading one
/// input channel first.
fn circular_convs(channels: &[usize], device: &Device) -> Vec<Conv1d> {
    std::iter::once(1)
        .chain(channels.iter().map(|&c| c.max(1)))
        .zip(channels)
        .map(|(i, &o)| Conv1dConfig::new(i, o.max(1), CHROMA).init(device))
        .collect()
}

/// Runs `convs` over chroma vectors `[n, 1, CHROMA]`, each convolution reading the octave
/// wrapped around (so each output sees all 12 pitch classes), ReLU between them:
/// `[n, channels, CHROMA]`.
fn circular(convs: &[Conv1d], mut x: Tensor<3>) -> Tensor<3> {
    for (i, conv) in convs.iter().enumerate() {
        let wrapped = Tensor::cat(vec![x.clone(), x.narrow(2, 0, CHROMA - 1)], 2);
        x = conv.forward(wrapped);
        if i + 1 < convs.len() {
            x = relu(x);
        }
    }
    x
}

/// The loop model.
#[derive(Module, Debug)]
pub struct LoopNet {
    convs: Vec<Conv2d>,
    norms: Vec<BatchNorm>,
    pools: Vec<MaxPool2d>,
    dropout: Dropout,
    project: Linear,
    flatten: bool,
    chroma: Vec<Conv1d>,
}

impl LoopNetConfig {
    /// The pooling of every block, `[bands, frames]`.
    pub fn block_pools(&self) -> Vec<[usize; 2]> {
        (0..self.channels.len().min(6))
            .map(|i| {
                let [b, f] = self.pools.get(i).copied().unwrap_or([2, 2]);
                [b.max(1), f.max(1)]
            })
            .collect()
    }

    /// A freshly initialised model on `device` (seed the device first for a reproducible one).
    pub fn init(&self, device: &Device) -> LoopNet {
        let channels: Vec<usize> = self.channels.iter().take(6).map(|&c| c.max(1)).collect();
        let inputs = std::iter::once(1).chain(channels.iter().copied());
        let convs = inputs
            .zip(&channels)
            .map(|(i, &o)| {
                Conv2dConfig::new([i, o], [3, 3])
                    .with_padding(PaddingConfig2d::Same)
                    .init(device)
            })
            .collect();
        let norms = if self.batch_norm {
            channels
                .iter()
                .map(|&c| BatchNormConfig::new(c).init(device))
                .collect()
        } else {
            Vec::new()
        };
        let pools = self.block_pools();
        let (bands, frames) = pools
            .iter()
            .fold((N_MELS, FRAMES), |(b, f), p| (b / p[0], f / p[1]));
        let last = channels.last().copied().unwrap_or(1);
        let features = match self.head {
            Head::Average => last,
            Head::Flatten => last * bands * frames,
        };
        LoopNet {
            convs,
            norms,
            pools: pools
                .iter()
                .map(|&p| MaxPool2dConfig::new(p).with_strides(p).init())
                .collect(),
            dropout: DropoutConfig::new(self.dropout).init(),
            project: LinearConfig::new(features, self.embedding).init(device),
            flatten: self.head == Head::Flatten,
            chroma: circular_convs(&self.chroma, device),
        }
    }
}

impl LoopNet {
    /// The convolution blocks in order: convolution, batch norm (when the model has it) and
    /// max-pool.
    pub fn blocks(&self) -> Vec<(&Conv2d, Option<&BatchNorm>, &MaxPool2d)> {
        self.convs
            .iter()
            .zip(&self.pools)
            .enumerate()
            .map(|(i, (c, p))| (c, self.norms.get(i), p))
            .collect()
    }

    /// Whether the projection reads the whole feature map (else each channel's mean).
    pub fn flattens(&self) -> bool {
        self.flatten
    }

    /// The projection to the embedding.
    pub fn projection(&self) -> &Linear {
        &self.project
    }

    /// The chroma branch's circular convolutions, in order (empty without the branch).
    pub fn chroma_convs(&self) -> &[Conv1d] {
        &self.chroma
    }

    /// Embeds a batch of model inputs (see [`crate::loops::mel::INPUT_LEN`]).
    ///
    /// # Shapes
    /// - input: `[batch, INPUT_LEN]` (standardised log-mel, band-major, then the sliced
    ///   chroma)
    /// - output: `[batch, embedding + slices × last chroma channels × 12]` (the chroma
    ///   features slice-major), each row of unit length
    pub fn forward(&self, input: Tensor<2>) -> Tensor<2> {
        let [batch, _] = input.dims();
        let cells = N_MELS * FRAMES;
        let chroma = input.clone().narrow(1, cells, SLICED_CHROMA).reshape([
            batch * CHROMA_SLICES,
            1,
            CHROMA,
        ]);
        let mut x = input
            .narrow(1, 0, cells)
            .reshape([batch, 1, N_MELS, FRAMES]);
        for (i, (conv, pool)) in self.convs.iter().zip(&self.pools).enumerate() {
            x = conv.forward(x);
            if let Some(norm) = self.norms.get(i) {
                x = norm.forward(x);
            }
            x = pool.forward(relu(x));
        }
        let [b, c, h, w] = x.dims();
        let x = if self.flatten {
            x.reshape([b, c * h * w])
        } else {
            x.reshape([b, c, h * w]).mean_dim(2).reshape([b, c])
        };
        let mut e = self.project.forward(self.dropout.forward(x));
        if !self.chroma.is_empty() {
            let c = circular(&self.chroma, chroma);
            let [_, channels, _] = c.dims();
            e = Tensor::cat(vec![e, c.reshape([batch, SLICED_CHROMA * channels])], 1);
        }
        let norm = e.clone().square().sum_dim(1).sqrt().clamp_min(1.0e-6);
        e / norm
    }
}

/// Squared Euclidean distance between matching rows: `[batch, dim]` × 2 → `[batch]`.
pub fn distance(a: Tensor<2>, b: Tensor<2>) -> Tensor<1> {
    let [batch, _] = a.dims();
    (a - b).square().sum_dim(1).reshape([batch])
}

/// Squared Euclidean distances between every row of `a` and every row of unit-length `b`,
/// both of unit length: `[n, dim]` × `[m, dim]` → `[n, m]` (`2 − 2 a·b`).
pub fn pairwise_distance(a: Tensor<2>, b: Tensor<2>) -> Tensor<2> {
    (a.matmul(b.transpose()) * -2.0).add_scalar(2.0)
}
