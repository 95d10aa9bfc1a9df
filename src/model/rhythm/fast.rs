//! The rhythm VAE's per-cycle paths on plain floats: [`RhythmVae::decode`] and
//! [`RhythmVae::encode`] (batch norm in inference mode) one point at a time, without a tensor
//! library's per-operation cost. A test holds them to the Burn module's numbers.

use super::infer::Decoded;
use super::model::{CELLS, CHANNELS, CONDITIONS, LATENT, LEAK, RhythmVae};
use crate::fastmath::{sigmoid, tanh};
use crate::model::plain::{Dense, Norm, PlainError, avx2_dispatch};

/// The rhythm VAE's weights as plain floats.
#[derive(Debug, Clone)]
pub struct FastVae {
    channel: Vec<(Dense, Norm)>,
    enc_a: Dense,
    enc_b: Dense,
    mu: Dense,
    log_var: Dense,
    dec_a: Dense,
    dec_b: Dense,
    dec_c: Dense,
    hit_head: Dense,
    velocity_head: Dense,
    offset_head: Dense,
}

#[inline(always)]
fn leaky(x: &mut [f32]) {
    let leak = LEAK as f32;
    for v in x {
        if *v < 0.0 {
            *v *= leak;
        }
    }
}

/// `dense(x ++ conditions)`, leaky-ReLU'd.
#[inline(always)]
fn layer(dense: &Dense, x: &[f32], conditions: &[f32; CONDITIONS]) -> Vec<f32> {
    let mut out = dense.bias.clone();
    dense.accumulate(x, 0, &mut out);
    dense.accumulate(conditions, x.len(), &mut out);
    leaky(&mut out);
    out
}

impl FastVae {
    /// Copies the weights of a Burn module (an error when one is not a finite number).
    pub fn of(vae: &RhythmVae) -> Result<Self, PlainError> {
        Ok(FastVae {
            channel: vae
                .channel
                .iter()
                .zip(&vae.channel_norm)
                .map(|(d, n)| Ok((Dense::of(d)?, Norm::of(n)?)))
                .collect::<Result<_, PlainError>>()?,
            enc_a: Dense::of(&vae.enc_a)?,
            enc_b: Dense::of(&vae.enc_b)?,
            mu: Dense::of(&vae.mu)?,
            log_var: Dense::of(&vae.log_var)?,
            dec_a: Dense::of(&vae.dec_a)?,
            dec_b: Dense::of(&vae.dec_b)?,
            dec_c: Dense::of(&vae.dec_c)?,
            hit_head: Dense::of(&vae.hit_head)?,
            velocity_head: Dense::of(&vae.velocity_head)?,
            offset_head: Dense::of(&vae.offset_head)?,
        })
    }

    avx2_dispatch! {
        /// Decodes one latent point under `conditions`: hit probabilities, velocities,
        /// offsets. On x86-64 CPUs with AVX2 it is compiled for it (the sums are taken in the
        /// same order, so the result does not depend on the CPU).
        pub fn decode(&self, z: &[f32; LATENT], conditions: &[f32; CONDITIONS]) -> Decoded
            = decode_plain via decode_avx2;
    }

    // Always inlined, so that the AVX2 copy of `decode` compiles all of it for AVX2.
    #[inline(always)]
    fn decode_plain(&self, z: &[f32; LATENT], conditions: &[f32; CONDITIONS]) -> Decoded {
        let h = layer(&self.dec_a, z, conditions);
        let h = layer(&self.dec_b, &h, conditions);
        let h = layer(&self.dec_c, &h, conditions);
        let mut probability = vec![0.0; CELLS];
        let mut velocity = vec![0.0; CELLS];
        let mut offset = vec![0.0; CELLS];
        self.hit_head.apply(&h, &mut probability);
        self.velocity_head.apply(&h, &mut velocity);
        self.offset_head.apply(&h, &mut offset);
        probability.iter_mut().for_each(|v| *v = sigmoid(*v));
        velocity.iter_mut().for_each(|v| *v = sigmoid(*v));
        offset.iter_mut().for_each(|v| *v = tanh(*v) * 0.5);
        Decoded {
            probability,
            velocity,
            offset,
        }
    }

    /// Encodes one pattern's features (see [`super::model::pattern_features`]) under its
    /// conditions: the latent mean and log variance.
    pub fn encode(
        &self,
        features: &[f32],
        conditions: &[f32; CONDITIONS],
    ) -> ([f32; LATENT], [f32; LATENT]) {
        let mut joined = Vec::new();
        for (c, (dense, norm)) in self.channel.iter().enumerate() {
            let mut h = vec![0.0; dense.d_out];
            dense.apply(&features[c * CELLS..(c + 1) * CELLS], &mut h);
            norm.apply(&mut h);
            leaky(&mut h);
            joined.extend_from_slice(&h);
        }
        debug_assert_eq!(self.channel.len(), CHANNELS);
        joined.extend_from_slice(conditions);
        let mut a = vec![0.0; self.enc_a.d_out];
        self.enc_a.apply(&joined, &mut a);
        leaky(&mut a);
        let mut b = vec![0.0; self.enc_b.d_out];
        self.enc_b.apply(&a, &mut b);
        leaky(&mut b);
        let (mut mu, mut log_var) = ([0.0; LATENT], [0.0; LATENT]);
        self.mu.apply(&b, &mut mu);
        self.log_var.apply(&b, &mut log_var);
        (mu, log_var)
    }
}

#[cfg(test)]
mod tests {
    use burn::tensor::Tensor;

    use super::*;
    use crate::model::rhythm::RhythmModel;
    use crate::model::rhythm::model::{pattern_features, patterns_tensor, rows_tensor};

    fn values<const D: usize>(t: Tensor<D>) -> Vec<f32> {
        t.into_data().try_into_vec().unwrap_or_default()
    }

    fn close(a: &[f32], b: &[f32]) {
        assert_eq!(a.len(), b.len());
        for (x, y) in a.iter().zip(b) {
            assert!((x - y).abs() < 1e-4, "{x} vs {y}");
        }
    }

    #[test]
    fn decode_and_encode_match_the_burn_module() {
        let model = RhythmModel::embedded().expect("embedded model");
        let fast = FastVae::of(model.vae()).expect("finite weights");
        let device = model.device().clone();
        let mut patterns = Vec::new();
        for (i, z) in [[0.0, 0.0], [1.5, -0.7], [-2.0, 2.0], [0.3, 0.9]]
            .into_iter()
            .enumerate()
        {
            let c = [i as f32 - 1.5, 1.0 - i as f32];
            let got = fast.decode(&z, &c);
            let (logits, velocity, offset) = model.vae().decode(
                rows_tensor(z.to_vec(), LATENT, &device),
                rows_tensor(c.to_vec(), CONDITIONS, &device),
            );
            close(
                &got.probability,
                &values(burn::tensor::activation::sigmoid(logits)),
            );
            close(&got.velocity, &values(velocity));
            close(&got.offset, &values(offset));
            patterns.push(model.decode(
                z,
                super::super::Conditions {
                    kick: c[0],
                    hats: c[1],
                },
                &super::super::DecodeOptions::default(),
            ));
        }
        for p in &patterns {
            let c = model.stats().conditions(p);
            let mut features = Vec::new();
            pattern_features(p, &mut features);
            let (mu, log_var) = fast.encode(&features, &c);
            let (want_mu, want_lv) = model.vae().encode(
                patterns_tensor(&[p], &device),
                rows_tensor(c.to_vec(), CONDITIONS, &device),
            );
            close(&mu, &values(want_mu));
            close(&log_var, &values(want_lv));
        }
    }
}
