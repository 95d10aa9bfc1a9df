//! The translation network on plain floats ([`FastNet`]): the same equations as
//! [`BassNet::forward`] one step at a time, without a tensor library's per-operation cost, so
//! that autoregressive sampling over 32 steps is cheap enough for every cycle. A test
//! (`tests/bass_model.rs`) holds the two to the same numbers.

use super::model::{
    BassNet, CONDITIONS, DRUM_FEATURES, FusedLstm, HOLD, MASKED, START, VOCAB, allowed_after,
    condition_features, drum_features,
};
use crate::fastmath::{sigmoid, tanh};
use crate::model::plain::{Dense, PlainError, avx2_dispatch};
use crate::pattern::{DrumPattern, Key, STEPS, Scale};

#[derive(Debug, Clone)]
struct FastLstm {
    input: Dense,
    recurrent: Dense,
    hidden: usize,
}

impl FastLstm {
    fn of(lstm: &FusedLstm) -> Result<Self, PlainError> {
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
    pub fn of(net: &BassNet) -> Result<Self, PlainError> {
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
