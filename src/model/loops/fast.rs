//! The loop model's embedding on plain floats, for the per-cycle query and the feedback loop's
//! listening: the same equations as [`LoopNet::forward`] (3×3 "same" convolutions, batch norm in
//! inference mode, ReLU, max-pooling, flatten or average head, projection, the chroma branch's
//! circular convolutions, unit length) without
//! a tensor library's per-operation cost. A test holds the two to the same numbers.
//!
//! Each feature plane is kept with a border of zeros one cell wide, so a convolution tap is one
//! long multiply-add over the whole plane; on x86-64 CPUs with AVX2 the inner loops are compiled
//! for it (chosen once per call). Sums are taken in the same order either way, so the result
//! does not depend on the CPU.

use burn::nn::conv::Conv1d;
use burn::nn::{PaddingConfig1d, PaddingConfig2d};

use super::model::LoopNet;
use crate::loops::mel::{CHROMA, CHROMA_SLICES, FRAMES, N_MELS};
use crate::model::plain::{Dense, Norm, PlainError, avx2_dispatch, values};

/// One 3×3 convolution, weights `[out][in][3][3]`.
#[derive(Debug, Clone)]
struct Conv {
    weight: Vec<f32>,
    bias: Vec<f32>,
    inputs: usize,
    outputs: usize,
}

/// A convolution block: conv, optional batch norm, ReLU, max-pool `[bands, frames]`.
#[derive(Debug, Clone)]
struct Block {
    conv: Conv,
    norm: Option<Norm>,
    pool: [usize; 2],
}

/// One circular convolution of the chroma branch over the 12 pitch classes, weights
/// `[out][in][12]`.
#[derive(Debug, Clone)]
struct CircularConv {
    weight: Vec<f32>,
    bias: Vec<f32>,
    inputs: usize,
    outputs: usize,
}

impl CircularConv {
    /// Copies a Burn 1-D convolution that reads the octave wrapped around (kernel 12, stride
    /// and dilation 1, no padding, one group).
    fn of(conv: &Conv1d) -> Result<Self, PlainError> {
        let [outputs, inputs, k] = conv.weight.dims();
        if k != CHROMA
            || conv.stride != 1
            || conv.dilation != 1
            || conv.groups != 1
            || !matches!(conv.padding, PaddingConfig1d::Valid)
        {
            return Err(PlainError::Unsupported(format!(
                "a chroma convolution of kernel {k} (stride {}, dilation {}, {} groups)",
                conv.stride, conv.dilation, conv.groups
            )));
        }
        Ok(CircularConv {
            weight: values(conv.weight.val())?,
            bias: match &conv.bias {
                Some(b) => values(b.val())?,
                None => vec![0.0; outputs],
            },
            inputs,
            outputs,
        })
    }

    /// `out[o][j] = bias[o] + Σ_i Σ_k weight[o][i][k] · x[i][(j + k) mod 12]`, channel-major.
    /// Each input channel is laid out twice in a row, so the wrap needs no remainder and the
    /// 12 outputs of a weight are one run of multiply-adds the compiler vectorises.
    #[inline(always)]
    fn forward(&self, x: &[f32]) -> Vec<f32> {
        let twice: Vec<f32> = x
            .chunks_exact(CHROMA)
            .take(self.inputs)
            .flat_map(|xi| xi.iter().chain(xi).copied())
            .collect();
        let mut out = vec![0.0; self.outputs * CHROMA];
        for (o, row) in out.chunks_exact_mut(CHROMA).enumerate() {
            row.fill(self.bias[o]);
            for (i, xi) in twice.chunks_exact(2 * CHROMA).enumerate() {
                let w = &self.weight[(o * self.inputs + i) * CHROMA..][..CHROMA];
                for (k, wk) in w.iter().enumerate() {
                    for (y, v) in row.iter_mut().zip(&xi[k..k + CHROMA]) {
                        *y += wk * v;
                    }
                }
            }
        }
        out
    }
}

/// The loop model's weights as plain floats.
#[derive(Debug, Clone)]
pub struct FastLoopNet {
    blocks: Vec<Block>,
    flatten: bool,
    project: Dense,
    chroma: Vec<CircularConv>,
}

/// Copies a chain of circular convolutions (an error when they do not chain from one input
/// channel).
fn circular_of(convs: &[Conv1d]) -> Result<Vec<CircularConv>, PlainError> {
    let convs = convs
        .iter()
        .map(CircularConv::of)
        .collect::<Result<Vec<_>, PlainError>>()?;
    let mut channels = 1;
    for c in &convs {
        if c.inputs != channels {
            return Err(PlainError::Unsupported(format!(
                "a chroma convolution reads {} channels after {channels}",
                c.inputs
            )));
        }
        channels = c.outputs;
    }
    Ok(convs)
}

/// Runs a chain of circular convolutions over one chroma vector (ReLU between them) and
/// appends the outputs, channel-major, to `out`.
#[inline(always)]
fn circular_forward(convs: &[CircularConv], chroma: &[f32], out: &mut Vec<f32>) {
    let mut c = chroma.to_vec();
    c.resize(CHROMA, 0.0);
    for (i, conv) in convs.iter().enumerate() {
        c = conv.forward(&c);
        if i + 1 < convs.len() {
            c.iter_mut().for_each(|v| *v = v.max(0.0));
        }
    }
    out.extend(c);
}

/// Outputs a convolution sums at once (in registers).
const STRIP: usize = 32;

/// Feature planes `[channels][(h + 2) × (w + 2)]` with a zero border, and [`STRIP`] spare
/// values at the end, so a strip of a convolution may read past its plane.
#[derive(Debug, Default)]
struct Planes {
    data: Vec<f32>,
    channels: usize,
    h: usize,
    w: usize,
}

impl Planes {
    fn pitch(&self) -> usize {
        self.w + 2
    }

    fn plane(&self, c: usize) -> &[f32] {
        let n = (self.h + 2) * self.pitch();
        &self.data[c * n..(c + 1) * n + STRIP]
    }

    /// Makes these `channels` planes of `h × w`. Planes of that shape already are kept as
    /// they are: their borders are still zero, since only interiors are ever written, and
    /// every interior is written before it is read.
    fn shape(&mut self, channels: usize, h: usize, w: usize) {
        if (self.channels, self.h, self.w) != (channels, h, w) || self.data.is_empty() {
            *self = Planes {
                data: vec![0.0; channels * (h + 2) * (w + 2) + STRIP],
                channels,
                h,
                w,
            };
        }
    }
}

/// Buffers one embedding after another reuses, so a call neither allocates nor zeroes
/// them: the padded input plane, each block's output planes and the convolution sums.
#[derive(Debug, Default)]
pub struct EmbedScratch {
    input: Planes,
    outputs: Vec<Planes>,
    acc: Vec<f32>,
    rows: Vec<f32>,
}

impl Block {
    /// Conv, norm, ReLU and pool of `x` into the padded planes `out` (shaped here), summing
    /// in `acc` with `rows` for the pooling.
    #[inline(always)]
    fn forward(&self, x: &Planes, out: &mut Planes, acc: &mut Vec<f32>, rows: &mut Vec<f32>) {
        let (h, w, p) = (x.h, x.w, x.pitch());
        let [pb, pf] = self.pool;
        let (oh, ow) = (h / pb, w / pf);
        out.shape(self.conv.outputs, oh, ow);
        let op = out.pitch();
        let plane_out = (oh + 2) * op;
        // acc[y·p + xx]: output row y, padded column xx (1..=w valid), one plane for each
        // channel of a pair. Only the valid columns are read, each after it was summed.
        let span = h * p;
        let stride = span + STRIP;
        if acc.len() < stride * 2 {
            acc.resize(stride * 2, 0.0);
        }
        rows.resize(w, 0.0);
        for o in (0..self.conv.outputs).step_by(2) {
            // An odd last channel is summed twice and kept once.
            let pair = [o, (o + 1).min(self.conv.outputs - 1)];
            self.convolve_pair(x, pair, acc);
            for (c, acc) in (o..pair[1] + 1).zip(acc.chunks_exact(stride)) {
                let (scale, shift) = self
                    .norm
                    .as_ref()
                    .map_or((1.0, 0.0), |norm| (norm.scale[c], norm.shift[c]));
                let relu = |v: f32| (v * scale + shift).max(0.0);
                // Norm and ReLU as each sum is read, then max-pool: the rows of a window
                // first (whole rows at once), then its columns. Values are ReLU outputs,
                // never NaN. (`max`, not a comparison and a conditional write: the compiler
                // made that a masked store, slow on some CPUs.)
                let dst = &mut out.data[c * plane_out..(c + 1) * plane_out];
                for y in 0..oh {
                    for (m, &v) in rows.iter_mut().zip(&acc[y * pb * p + 1..][..w]) {
                        *m = relu(v);
                    }
                    for dy in 1..pb {
                        for (m, &v) in rows.iter_mut().zip(&acc[(y * pb + dy) * p + 1..][..w]) {
                            *m = m.max(relu(v));
                        }
                    }
                    let line = &mut dst[(y + 1) * op + 1..][..ow];
                    if pf == 2 {
                        // The common window, in pairs the compiler keeps in vectors.
                        for (d, pair) in line.iter_mut().zip(rows.chunks_exact(2)) {
                            *d = pair[0].max(pair[1]);
                        }
                    } else {
                        for (d, cols) in line.iter_mut().zip(rows.chunks_exact(pf)) {
                            *d = cols.iter().fold(0.0, |m: f32, &v| m.max(v));
                        }
                    }
                }
            }
        }
    }

    /// Sums the convolution of the two output channels `pair` into the two planes of `acc`
    /// (each `h·p + STRIP` long), a strip of [`STRIP`] outputs at a time in registers: output
    /// j (1 ≤ j < h·p − 1) reads `src[j + ky·p + kx − 1]`. The two channels share every load
    /// of the input (their sums fill eight AVX2 registers); each output is summed in the same
    /// order as alone.
    #[inline(always)]
    fn convolve_pair(&self, x: &Planes, pair: [usize; 2], acc: &mut [f32]) {
        let p = x.pitch();
        let span = x.h * p;
        let stride = span + STRIP;
        let n = self.conv.inputs * 9;
        let (w0, w1) = (
            &self.conv.weight[pair[0] * n..][..n],
            &self.conv.weight[pair[1] * n..][..n],
        );
        let bias = [self.conv.bias[pair[0]], self.conv.bias[pair[1]]];
        let (acc0, acc1) = acc.split_at_mut(stride);
        let mut j = 1;
        while j < span - 1 {
            let sums = [&mut acc0[j..j + STRIP], &mut acc1[j..j + STRIP]];
            strip(x, j, [w0, w1], bias, sums);
            j += STRIP;
        }
    }
}

/// Sums the strip of [`STRIP`] outputs from `j` into `sums` (each [`STRIP`] long): from the
/// channel's `bias`, input by input and tap by tap, each tap one fused multiply-add
/// (`w · v + sum`, rounded once), for the two channels of kernels `w` (`inputs × 3 × 3` each). On x86-64 with AVX2 and FMA it runs as
/// hand-written vector code: from a plain `mul_add` loop the compiler spills the 64 sums to
/// the stack, which made it slower than unfused arithmetic. A fused multiply-add rounds the
/// same wherever it runs, so both copies give the same bits.
#[inline(always)]
fn strip(x: &Planes, j: usize, w: [&[f32]; 2], bias: [f32; 2], sums: [&mut [f32]; 2]) {
    #[cfg(target_arch = "x86_64")]
    if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
        // SAFETY: the CPU has AVX2 and FMA (checked just above).
        unsafe { strip_fma(x, j, w, bias, sums) };
        return;
    }
    strip_plain(x, j, w, bias, sums);
}

/// [`strip`] as plain Rust (`mul_add`: a fused multiply-add where the target has one, else
/// the C library's exact `fmaf`).
#[inline(always)]
fn strip_plain(x: &Planes, j: usize, w: [&[f32]; 2], bias: [f32; 2], sums: [&mut [f32]; 2]) {
    let p = x.pitch();
    let [s0, s1] = sums;
    let (s0, s1) = (&mut s0[..STRIP], &mut s1[..STRIP]);
    s0.fill(bias[0]);
    s1.fill(bias[1]);
    for i in 0..x.channels {
        // The three input rows under the strip, and the channel pair's 3×3 kernels: every
        // tap below is a fixed offset into them.
        let window = &x.plane(i)[j - 1..j + 2 * p + 1 + STRIP];
        let (k0, k1) = (&w[0][i * 9..i * 9 + 9], &w[1][i * 9..i * 9 + 9]);
        for ky in 0..3 {
            for kx in 0..3 {
                let v = &window[ky * p + kx..][..STRIP];
                let (a, b) = (k0[ky * 3 + kx], k1[ky * 3 + kx]);
                for ((s0, s1), v) in s0.iter_mut().zip(s1.iter_mut()).zip(v) {
                    *s0 = a.mul_add(*v, *s0);
                    *s1 = b.mul_add(*v, *s1);
                }
            }
        }
    }
}

/// [`strip`] in AVX2 registers: the 64 sums stay in eight registers for the whole strip.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn strip_fma(x: &Planes, j: usize, w: [&[f32]; 2], bias: [f32; 2], sums: [&mut [f32]; 2]) {
    use std::arch::x86_64::_mm256_storeu_ps;
    use std::arch::x86_64::{__m256, _mm256_fmadd_ps, _mm256_loadu_ps, _mm256_set1_ps};
    const LANES: usize = 8;
    const REGS: usize = STRIP / LANES;
    let p = x.pitch();
    let (mut s0, mut s1): ([__m256; REGS], [__m256; REGS]) = (
        [_mm256_set1_ps(bias[0]); REGS],
        [_mm256_set1_ps(bias[1]); REGS],
    );
    for i in 0..x.channels {
        let window = &x.plane(i)[j - 1..j + 2 * p + 1 + STRIP];
        let (k0, k1) = (&w[0][i * 9..i * 9 + 9], &w[1][i * 9..i * 9 + 9]);
        for ky in 0..3 {
            for kx in 0..3 {
                let v = &window[ky * p + kx..][..STRIP];
                let (a, b) = (
                    _mm256_set1_ps(k0[ky * 3 + kx]),
                    _mm256_set1_ps(k1[ky * 3 + kx]),
                );
                for r in 0..REGS {
                    // SAFETY: `v` holds STRIP values, so lanes r·8..r·8 + 8 are in it.
                    let v = unsafe { _mm256_loadu_ps(v[r * LANES..].as_ptr()) };
                    s0[r] = _mm256_fmadd_ps(a, v, s0[r]);
                    s1[r] = _mm256_fmadd_ps(b, v, s1[r]);
                }
            }
        }
    }
    for (sums, regs) in sums.into_iter().zip([s0, s1]) {
        let sums = &mut sums[..STRIP];
        for (r, reg) in regs.into_iter().enumerate() {
            // SAFETY: each store writes 8 of the strip's 32 values.
            unsafe { _mm256_storeu_ps(sums[r * LANES..].as_mut_ptr(), reg) };
        }
    }
}

/// A max-pool this path computes: kernel = stride, no padding, no dilation, floor mode.
fn pool_of(pool: &burn::nn::pool::MaxPool2d) -> Result<[usize; 2], PlainError> {
    let plain = pool.stride == pool.kernel_size
        && pool.dilation == [1, 1]
        && !pool.ceil_mode
        && matches!(pool.padding, PaddingConfig2d::Valid)
        && !pool.kernel_size.contains(&0);
    if !plain {
        return Err(PlainError::Unsupported(format!(
            "a {:?} max-pool of another kind",
            pool.kernel_size
        )));
    }
    Ok(pool.kernel_size)
}

fn conv_of(conv: &burn::nn::conv::Conv2d) -> Result<Conv, PlainError> {
    let [outputs, inputs, kh, kw] = conv.weight.dims();
    if [kh, kw] != [3, 3]
        || conv.groups != 1
        || conv.stride != [1, 1]
        || conv.dilation != [1, 1]
        || !matches!(conv.padding, PaddingConfig2d::Same)
    {
        return Err(PlainError::Unsupported(format!(
            "a {kh}×{kw} convolution (stride {:?}, dilation {:?}, {} groups)",
            conv.stride, conv.dilation, conv.groups
        )));
    }
    let weight = values(conv.weight.val())?;
    let bias = match &conv.bias {
        Some(b) => values(b.val())?,
        None => vec![0.0; outputs],
    };
    Ok(Conv {
        weight,
        bias,
        inputs,
        outputs,
    })
}

impl FastLoopNet {
    /// Copies the weights of a Burn network (an error when one is not a finite number or a
    /// layer is of a kind this path does not compute).
    pub fn of(net: &LoopNet) -> Result<Self, PlainError> {
        let blocks = net
            .blocks()
            .into_iter()
            .map(|(conv, norm, pool)| {
                Ok(Block {
                    conv: conv_of(conv)?,
                    norm: norm.map(Norm::of).transpose()?,
                    pool: pool_of(pool)?,
                })
            })
            .collect::<Result<Vec<Block>, PlainError>>()?;
        // The shapes must chain: one input plane, each block reading the one before, the
        // projection reading the head's features.
        let (mut channels, mut h, mut w) = (1, N_MELS, FRAMES);
        for b in &blocks {
            if b.conv.inputs != channels {
                return Err(PlainError::Unsupported(format!(
                    "a block reads {} channels after {channels}",
                    b.conv.inputs
                )));
            }
            channels = b.conv.outputs;
            (h, w) = (h / b.pool[0], w / b.pool[1]);
        }
        let flatten = net.flattens();
        let project = Dense::of(net.projection())?;
        let features = if flatten { channels * h * w } else { channels };
        if project.weight.len() != features * project.d_out {
            return Err(PlainError::Unsupported(format!(
                "the projection does not read the {features} features of the head"
            )));
        }
        Ok(FastLoopNet {
            blocks,
            flatten,
            project,
            chroma: circular_of(net.chroma_convs())?,
        })
    }

    avx2_dispatch! {
        /// Embeds one model input (standardised log-mel spectrogram, band-major
        /// `N_MELS × FRAMES`, then the sliced chroma; see [`crate::loops::mel::INPUT_LEN`]): a
        /// unit-length vector. `scratch` holds buffers from one call to the next.
        pub fn embed_with(&self, input: &[f32], scratch: &mut EmbedScratch) -> Vec<f32> = embed_plain via embed_avx2;
    }

    /// [`FastLoopNet::embed_with`] with buffers of its own.
    pub fn embed(&self, input: &[f32]) -> Vec<f32> {
        self.embed_with(input, &mut EmbedScratch::default())
    }

    // Always inlined, so that the AVX2 copy of `embed_with` compiles all of it for AVX2.
    #[inline(always)]
    fn embed_plain(&self, input: &[f32], scratch: &mut EmbedScratch) -> Vec<f32> {
        let (h, w) = (N_MELS, FRAMES);
        let EmbedScratch {
            input: first,
            outputs,
            acc,
            rows,
        } = scratch;
        first.shape(1, h, w);
        for y in 0..h {
            let at = (y + 1) * (w + 2) + 1;
            let line = &mut first.data[at..at + w];
            match input.get(y * w..(y + 1) * w) {
                Some(row) => line.copy_from_slice(row),
                None => line.fill(0.0),
            }
        }
        outputs.resize_with(self.blocks.len(), Planes::default);
        for (i, block) in self.blocks.iter().enumerate() {
            let (done, rest) = outputs.split_at_mut(i);
            let x = done.last().unwrap_or(first);
            block.forward(x, &mut rest[0], acc, rows);
        }
        let x = outputs.last().unwrap_or(first);
        let p = x.pitch();
        let mut features = Vec::with_capacity(x.channels * x.h * x.w);
        for c in 0..x.channels {
            let plane = x.plane(c);
            let rows = (1..=x.h).map(|y| &plane[y * p + 1..y * p + 1 + x.w]);
            if self.flatten {
                rows.for_each(|r| features.extend_from_slice(r));
            } else {
                let sum: f32 = rows.map(|r| r.iter().sum::<f32>()).sum();
                features.push(sum / (x.h * x.w).max(1) as f32);
            }
        }
        let mut e = vec![0.0; self.project.d_out];
        self.project.apply(&features, &mut e);
        if !self.chroma.is_empty() {
            let chroma = input.get(N_MELS * FRAMES..).unwrap_or_default();
            for slice in 0..CHROMA_SLICES {
                let at = chroma.get(slice * CHROMA..).unwrap_or_default();
                circular_forward(&self.chroma, &at[..at.len().min(CHROMA)], &mut e);
            }
        }
        let norm = e.iter().map(|v| v * v).sum::<f32>().sqrt().max(1.0e-6);
        e.iter_mut().for_each(|v| *v /= norm);
        e
    }
}

#[cfg(test)]
mod tests {
    use burn::tensor::{Device, Tensor, TensorData};

    use super::*;
    use crate::loops::mel::INPUT_LEN;
    use crate::model::loops::infer::LoopModel;
    use crate::model::loops::model::LoopNetConfig;
    use crate::model::rng::Rng;

    /// Plain-float and Burn embeddings of random inputs under `net`.
    fn assert_matches(net: &LoopNet) {
        let fast = FastLoopNet::of(net).expect("plain copy");
        let mut rng = Rng::new(3);
        for _ in 0..3 {
            let input: Vec<f32> = (0..INPUT_LEN).map(|_| rng.normal()).collect();
            let got = fast.embed(&input);
            let want: Vec<f32> = net
                .forward(Tensor::from_data(
                    TensorData::new(input.clone(), [1, INPUT_LEN]),
                    &Device::flex(),
                ))
                .into_data()
                .try_to_vec()
                .unwrap_or_default();
            assert_eq!(got.len(), want.len());
            for (a, b) in got.iter().zip(&want) {
                assert!((a - b).abs() < 1e-4, "{a} vs {b}");
            }
            assert_eq!(
                fast.embed(&input),
                fast.embed_plain(&input, &mut EmbedScratch::default())
            );
        }
    }

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn the_vector_strip_gives_the_plain_strips_bits() {
        if !(std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma")) {
            eprintln!("skipped: this CPU has no AVX2 and FMA");
            return;
        }
        let (channels, h, w) = (3, 6, 20);
        let spread = |k: usize| ((k * 7919 % 2003) as f32 - 1001.0) * 1.0e-3;
        let x = Planes {
            data: (0..channels * (h + 2) * (w + 2) + STRIP)
                .map(spread)
                .collect(),
            channels,
            h,
            w,
        };
        let kernels: Vec<f32> = (0..2 * channels * 9).map(|k| spread(k * 31 + 5)).collect();
        let kernels = [&kernels[..channels * 9], &kernels[channels * 9..]];
        for j in [1, 1 + STRIP, 1 + 2 * STRIP] {
            let bias = [0.25, -0.5];
            let (mut plain, mut vector) = ([[0.0; STRIP]; 2], [[9.0; STRIP]; 2]);
            let [p0, p1] = &mut plain;
            strip_plain(&x, j, kernels, bias, [p0, p1]);
            let [v0, v1] = &mut vector;
            // SAFETY: the CPU has AVX2 and FMA (checked above).
            unsafe { strip_fma(&x, j, kernels, bias, [v0, v1]) };
            let bits = |s: &[[f32; STRIP]; 2]| s.map(|c| c.map(f32::to_bits));
            assert_eq!(bits(&plain), bits(&vector), "strip at {j}");
        }
    }

    #[test]
    fn reused_buffers_give_the_bits_of_fresh_ones() {
        let model = LoopModel::embedded(Device::flex()).expect("embedded model");
        let fast = FastLoopNet::of(model.net()).expect("plain copy");
        let mut rng = Rng::new(11);
        let mut scratch = EmbedScratch::default();
        for len in [INPUT_LEN, INPUT_LEN, N_MELS * FRAMES / 2, INPUT_LEN] {
            let input: Vec<f32> = (0..len).map(|_| rng.normal()).collect();
            assert_eq!(fast.embed_with(&input, &mut scratch), fast.embed(&input));
        }
    }

    #[test]
    fn the_embedding_matches_the_burn_network() {
        let model = LoopModel::embedded(Device::flex()).expect("embedded model");
        assert_matches(model.net());
    }

    #[test]
    fn a_transposed_input_gives_the_embedding_the_pitch_layout_moves() {
        let model = LoopModel::embedded(Device::flex()).expect("embedded model");
        let fast = FastLoopNet::of(model.net()).expect("plain copy");
        let layout = model.pitch_layout().expect("a chroma branch");
        let mut rng = Rng::new(8);
        let mut input: Vec<f32> = (0..INPUT_LEN).map(|_| rng.normal()).collect();
        let cells = N_MELS * FRAMES;
        // Four half bars with different pitch classes, so a layout that moved the wrong runs
        // (or the whole chroma as one) would not match.
        for (slice, chroma) in input[cells..].chunks_exact_mut(CHROMA).enumerate() {
            chroma.fill(0.05);
            chroma[(3 * slice) % CHROMA] = 1.0;
            chroma[(3 * slice + 7) % CHROMA] = 0.6;
        }
        for semitones in [-5i8, 3] {
            let mut moved = input.clone();
            for chroma in moved[cells..].chunks_exact_mut(CHROMA) {
                chroma.rotate_right(crate::loops::key::rotation(semitones));
            }
            let mut want = Vec::new();
            layout.transpose(&fast.embed(&input), semitones, &mut want);
            let got = fast.embed(&moved);
            for (a, b) in got.iter().zip(&want) {
                assert!((a - b).abs() < 1e-5, "{semitones}: {a} vs {b}");
            }
        }
    }

    #[test]
    fn the_chroma_branch_matches_the_burn_network() {
        let device = Device::flex();
        device.seed(5);
        let net = LoopNetConfig::new()
            .with_channels(vec![4, 4])
            .with_chroma(vec![3, 2, 2])
            .init(&device);
        assert_matches(&net);
        let plain = LoopNetConfig::new()
            .with_channels(vec![4])
            .with_chroma(Vec::new())
            .init(&device);
        assert_matches(&plain);
    }
}
