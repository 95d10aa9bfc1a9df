//! The Siamese CNN: three 3×3 convolution blocks (conv, ReLU, 2×2 max-pool) over the 64×64
//! log-mel input, global average pooling and a linear projection to a unit-length embedding.

use burn::config::Config;
use burn::module::Module;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::pool::{MaxPool2d, MaxPool2dConfig};
use burn::nn::{BatchNorm, Linear, LinearConfig, PaddingConfig2d};
use burn::tensor::activation::relu;
use burn::tensor::{Device, Tensor};

use crate::loops::mel::{FRAMES, N_MELS};

/// Architecture of the loop model.
#[derive(Config, Debug)]
pub struct LoopNetConfig {
    /// Channels of the three convolution blocks.
    #[config(default = "[16, 32, 48]")]
    pub channels: [usize; 3],
    /// Size of the embedding.
    #[config(default = 32)]
    pub embedding: usize,
}

/// The loop model.
#[derive(Module, Debug)]
pub struct LoopNet {
    conv1: Conv2d,
    conv2: Conv2d,
    conv3: Conv2d,
    pool: MaxPool2d,
    project: Linear,
}

impl LoopNetConfig {
    /// A freshly initialised model on `device` (seed the device first for a reproducible one).
    pub fn init(&self, device: &Device) -> LoopNet {
        let conv = |i: usize, o: usize| {
            Conv2dConfig::new([i, o], [3, 3])
                .with_padding(PaddingConfig2d::Same)
                .init(device)
        };
        let [a, b, c] = self.channels;
        LoopNet {
            conv1: conv(1, a),
            conv2: conv(a, b),
            conv3: conv(b, c),
            pool: MaxPool2dConfig::new([2, 2]).with_strides([2, 2]).init(),
            project: LinearConfig::new(c, self.embedding).init(device),
        }
    }
}

impl LoopNet {
    /// The convolution blocks in order: convolution, batch norm (none here) and max-pool
    /// `[bands, frames]` (kernel = stride).
    pub fn blocks(&self) -> Vec<(&Conv2d, Option<&BatchNorm>, [usize; 2])> {
        [&self.conv1, &self.conv2, &self.conv3]
            .into_iter()
            .map(|c| (c, None, [2, 2]))
            .collect()
    }

    /// Whether the projection reads the whole feature map (else each channel's mean).
    pub fn flattens(&self) -> bool {
        false
    }

    /// The projection to the embedding.
    pub fn projection(&self) -> &Linear {
        &self.project
    }

    /// Embeds spectrograms.
    ///
    /// # Shapes
    /// - `input`: `[batch, N_MELS × FRAMES]` (band-major standardised log-mel, see
    ///   [`crate::loops::mel::MelAnalyser::model_input`])
    /// - output: `[batch, embedding]`, each row of unit length
    pub fn forward(&self, input: Tensor<2>) -> Tensor<2> {
        let [batch, _] = input.dims();
        let x = input.reshape([batch, 1, N_MELS, FRAMES]);
        let x = self.pool.forward(relu(self.conv1.forward(x)));
        let x = self.pool.forward(relu(self.conv2.forward(x)));
        let x = self.pool.forward(relu(self.conv3.forward(x)));
        let [b, c, h, w] = x.dims();
        let x = x.reshape([b, c, h * w]).mean_dim(2).reshape([b, c]);
        let e = self.project.forward(x);
        let norm = e.clone().square().sum_dim(1).sqrt().clamp_min(1.0e-6);
        e / norm
    }
}

/// Squared Euclidean distance between matching rows: `[batch, dim]` × 2 → `[batch]`.
pub fn distance(a: Tensor<2>, b: Tensor<2>) -> Tensor<1> {
    let [batch, _] = a.dims();
    (a - b).square().sum_dim(1).reshape([batch])
}
