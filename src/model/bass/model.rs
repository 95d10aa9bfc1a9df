//! The translation network: module, configuration, features, tokens and the one teacher-forced
//! `forward` that training uses and that [`super::infer`] mirrors step by step.
//!
//! After M4L.Rhythm2Bassline: a bidirectional LSTM encoder reads the 32 drum steps (the nine
//! voices' hits and velocities, position in the bar); an LSTM decoder starts from the encoder's
//! final state and emits one token per step (rest / hold / a note relative to the key's tonic),
//! fed the previous token, the encoder's outputs at its own step, the drum step itself and the
//! key and scale. A second head gives the note's velocity.

use burn::config::Config;
use burn::module::{Module, Param};
use burn::nn::Linear;
use burn::tensor::activation::{sigmoid, tanh};
use burn::tensor::{Device, Tensor, TensorData};

use crate::model::rng::Rng;
use crate::pattern::{BassStep, Bassline, DrumPattern, Key, STEPS, STEPS_PER_BAR, Scale, Voice};

/// Lowest pitch the model writes, in semitones from the tonic of octave 1.
pub const PITCH_MIN: i8 = -12;
/// Highest pitch the model writes (three octaves: `PITCH_MIN..=PITCH_MAX`).
pub const PITCH_MAX: i8 = 23;
/// Number of pitches.
pub const PITCHES: usize = (PITCH_MAX - PITCH_MIN + 1) as usize;
/// Token of a rest.
pub const REST: usize = 0;
/// Token of a hold.
pub const HOLD: usize = 1;
/// First note token (`NOTE0 + pitch − PITCH_MIN`).
pub const NOTE0: usize = 2;
/// Output tokens: rest, hold and the pitches.
pub const VOCAB: usize = NOTE0 + PITCHES;
/// Input-only token that stands before the first step.
pub const START: usize = VOCAB;
/// Drum features per step: nine hits, nine velocities, the step in the bar (one-hot) and the
/// bar.
pub const DRUM_FEATURES: usize = 2 * Voice::COUNT + STEPS_PER_BAR + 1;
/// Condition features: the key's pitch class (one-hot) and the scale's twelve memberships.
pub const CONDITIONS: usize = 24;
/// Decoder input besides the encoder's outputs: previous token, drum step, conditions.
pub const DECODER_EXTRA: usize = VOCAB + 1 + DRUM_FEATURES + CONDITIONS;
/// Logit added to tokens that may not be chosen.
pub const MASKED: f32 = -1.0e4;

/// The token of a bass step. Pitches outside the model's range are folded by octaves into it.
pub fn token_of(step: BassStep) -> usize {
    match step {
        BassStep::Rest => REST,
        BassStep::Hold => HOLD,
        BassStep::Note { pitch, .. } => NOTE0 + (fold_pitch(pitch) - PITCH_MIN) as usize,
    }
}

/// A pitch moved by whole octaves into `PITCH_MIN..=PITCH_MAX`.
pub fn fold_pitch(pitch: i8) -> i8 {
    let mut p = i32::from(pitch);
    while p < i32::from(PITCH_MIN) {
        p += 12;
    }
    while p > i32::from(PITCH_MAX) {
        p -= 12;
    }
    p as i8
}

/// The pitch of a note token, `None` for rest, hold and start.
pub fn pitch_of(token: usize) -> Option<i8> {
    (NOTE0..VOCAB)
        .contains(&token)
        .then(|| (token - NOTE0) as i8 + PITCH_MIN)
}

/// Whether `token` may follow `previous` (a hold needs a sounding note before it).
pub fn allowed_after(previous: usize, token: usize) -> bool {
    token != HOLD || (previous != REST && previous != START)
}

/// The tokens of a bassline, with its note velocities (zero off notes).
pub fn tokens_of(line: &Bassline) -> ([usize; STEPS], [f32; STEPS]) {
    let mut tokens = [REST; STEPS];
    let mut velocities = [0.0; STEPS];
    let mut previous = START;
    for (i, step) in line.steps.iter().enumerate() {
        let mut token = token_of(*step);
        if !allowed_after(previous, token) {
            token = REST;
        }
        if let BassStep::Note { velocity, .. } = step {
            velocities[i] = velocity.clamp(0.0, 1.0);
        }
        tokens[i] = token;
        previous = token;
    }
    (tokens, velocities)
}

/// Writes the drum features of every step into `out`, step-major (`[STEPS, DRUM_FEATURES]`).
pub fn drum_features(pattern: &DrumPattern, out: &mut Vec<f32>) {
    for step in 0..STEPS {
        let start = out.len();
        out.resize(start + DRUM_FEATURES, 0.0);
        let row = &mut out[start..];
        for voice in Voice::ALL {
            let cell = pattern.get(voice, step);
            if cell.hit {
                row[voice.index()] = 1.0;
                row[Voice::COUNT + voice.index()] = cell.velocity;
            }
        }
        row[2 * Voice::COUNT + step % STEPS_PER_BAR] = 1.0;
        row[DRUM_FEATURES - 1] = (step / STEPS_PER_BAR) as f32;
    }
}

/// The condition features of a key and scale.
pub fn condition_features(key: Key, scale: Scale) -> [f32; CONDITIONS] {
    let mut c = [0.0; CONDITIONS];
    c[usize::from(key.pitch_class())] = 1.0;
    for (i, slot) in c[12..].iter_mut().enumerate() {
        if scale.contains(i as i32) {
            *slot = 1.0;
        }
    }
    c
}

/// Architecture of the translation network.
#[derive(Config, Debug)]
pub struct BassNetConfig {
    /// Hidden size of each direction of the encoder.
    #[config(default = 48)]
    pub encoder_hidden: usize,
    /// Hidden size of the decoder.
    #[config(default = 96)]
    pub decoder_hidden: usize,
}

/// An LSTM layer with its four gates fused into one input and one recurrent matrix (gate order
/// input, forget, cell, output), so the input projection of a whole sequence is one matmul.
#[derive(Module, Debug)]
pub struct FusedLstm {
    /// Input → gates, `[d_input, 4·hidden]`, with the bias.
    pub input: Linear,
    /// Hidden state → gates, `[hidden, 4·hidden]`, no bias.
    pub recurrent: Linear,
}

/// The translation network.
#[derive(Module, Debug)]
pub struct BassNet {
    /// Encoder, forwards in time.
    pub encoder_fwd: FusedLstm,
    /// Encoder, backwards in time.
    pub encoder_bwd: FusedLstm,
    /// Encoder final states (both directions) → decoder initial hidden and cell state.
    pub bridge: Linear,
    /// Decoder.
    pub decoder: FusedLstm,
    /// Decoder output → token logits.
    pub token_head: Linear,
    /// Decoder output → velocity (before the sigmoid).
    pub velocity_head: Linear,
}

/// What [`BassNet::forward`] returns.
#[derive(Debug, Clone)]
pub struct BassNetOutput {
    /// Token logits, `[batch, STEPS, VOCAB]`, with the masks already added.
    pub logits: Tensor<3>,
    /// Velocities 0..1, `[batch, STEPS]`.
    pub velocity: Tensor<2>,
}

/// A linear layer drawn from `rng` (uniform ±1/√fan-in, Burn's default), row layout.
pub fn seeded_linear(
    d_in: usize,
    d_out: usize,
    bias: bool,
    device: &Device,
    rng: &mut Rng,
) -> Linear {
    let k = (1.0 / d_in as f32).sqrt();
    let mut draw =
        |n: usize| -> Vec<f32> { (0..n).map(|_| (rng.uniform() * 2.0 - 1.0) * k).collect() };
    let weight = Tensor::from_data(TensorData::new(draw(d_in * d_out), [d_in, d_out]), device);
    let bias = bias.then(|| {
        Param::from_tensor(Tensor::from_data(
            TensorData::new(draw(d_out), [d_out]),
            device,
        ))
    });
    Linear {
        weight: Param::from_tensor(weight),
        bias,
    }
}

impl FusedLstm {
    /// A fresh layer; the forget gate's bias starts at 1 so early training remembers.
    pub fn init(d_input: usize, hidden: usize, device: &Device, rng: &mut Rng) -> Self {
        let mut input = seeded_linear(d_input, 4 * hidden, true, device, rng);
        let mut bias = vec![0.0f32; 4 * hidden];
        bias[hidden..2 * hidden].fill(1.0);
        input.bias = Some(Param::from_tensor(Tensor::from_data(
            TensorData::new(bias, [4 * hidden]),
            device,
        )));
        FusedLstm {
            input,
            recurrent: seeded_linear(hidden, 4 * hidden, false, device, rng),
        }
    }

    /// Hidden size.
    pub fn hidden(&self) -> usize {
        self.recurrent.weight.dims()[0]
    }

    /// Runs the layer over a sequence (backwards in time when `reverse`); outputs stay in
    /// time order.
    ///
    /// # Shapes
    /// - `input`: `[batch, steps, d_input]`; `state`: `(hidden, cell)`, each `[batch, hidden]`
    /// - returns the hidden states `[batch, steps, hidden]` and the final `(hidden, cell)`
    pub fn forward(
        &self,
        input: Tensor<3>,
        state: (Tensor<2>, Tensor<2>),
        reverse: bool,
    ) -> (Tensor<3>, (Tensor<2>, Tensor<2>)) {
        let [batch, steps, _] = input.dims();
        let h4 = 4 * self.hidden();
        let projected = self.input.forward(input);
        let (mut h, mut c) = state;
        let mut outputs: Vec<Tensor<2>> = Vec::with_capacity(steps);
        let order: Vec<usize> = if reverse {
            (0..steps).rev().collect()
        } else {
            (0..steps).collect()
        };
        for t in order {
            let x = projected.clone().narrow(1, t, 1).reshape([batch, h4]);
            let (h2, c2) = self.step(x, h, c);
            h = h2;
            c = c2;
            outputs.push(h.clone());
        }
        if reverse {
            outputs.reverse();
        }
        (Tensor::stack(outputs, 1), (h, c))
    }

    /// One step from already projected inputs.
    ///
    /// # Shapes
    /// - `projected`: `[batch, 4·hidden]`; `h`, `c`: `[batch, hidden]`
    pub fn step(&self, projected: Tensor<2>, h: Tensor<2>, c: Tensor<2>) -> (Tensor<2>, Tensor<2>) {
        let n = self.hidden();
        let gates = projected + self.recurrent.forward(h);
        let i = sigmoid(gates.clone().narrow(1, 0, n));
        let f = sigmoid(gates.clone().narrow(1, n, n));
        let g = tanh(gates.clone().narrow(1, 2 * n, n));
        let o = sigmoid(gates.narrow(1, 3 * n, n));
        let c = f * c + i * g;
        let h = o * tanh(c.clone());
        (h, c)
    }
}

impl BassNetConfig {
    /// A freshly initialised network on `device`, weights drawn from `rng` (the same seed
    /// gives the same network).
    pub fn init(&self, device: &Device, rng: &mut Rng) -> BassNet {
        let e = self.encoder_hidden;
        let d = self.decoder_hidden;
        BassNet {
            encoder_fwd: FusedLstm::init(DRUM_FEATURES, e, device, rng),
            encoder_bwd: FusedLstm::init(DRUM_FEATURES, e, device, rng),
            bridge: seeded_linear(2 * e + CONDITIONS, 2 * d, true, device, rng),
            decoder: FusedLstm::init(2 * e + DECODER_EXTRA, d, device, rng),
            token_head: seeded_linear(d, VOCAB, true, device, rng),
            velocity_head: seeded_linear(d, 1, true, device, rng),
        }
    }
}

impl BassNet {
    /// Encoder hidden size (each direction).
    pub fn encoder_hidden(&self) -> usize {
        self.encoder_fwd.hidden()
    }

    /// Decoder hidden size.
    pub fn decoder_hidden(&self) -> usize {
        self.decoder.hidden()
    }

    /// Encodes the drums: per-step outputs of both directions and the decoder's initial
    /// state.
    ///
    /// # Shapes
    /// - `drums`: `[batch, STEPS, DRUM_FEATURES]`, `conditions`: `[batch, CONDITIONS]`
    /// - returns `[batch, STEPS, 2·encoder_hidden]` and `(h, c)`, each
    ///   `[batch, decoder_hidden]`
    pub fn encode(
        &self,
        drums: Tensor<3>,
        conditions: Tensor<2>,
    ) -> (Tensor<3>, (Tensor<2>, Tensor<2>)) {
        let [batch, _, _] = drums.dims();
        let device = drums.device();
        let e = self.encoder_hidden();
        let d = self.decoder_hidden();
        let zero = || Tensor::<2>::zeros([batch, e], &device);
        let (fwd, (hf, _)) = self
            .encoder_fwd
            .forward(drums.clone(), (zero(), zero()), false);
        let (bwd, (hb, _)) = self.encoder_bwd.forward(drums, (zero(), zero()), true);
        let summary = Tensor::cat(vec![hf, hb, conditions], 1);
        let init = tanh(self.bridge.forward(summary));
        let h = init.clone().narrow(1, 0, d);
        let c = init.narrow(1, d, d);
        (Tensor::cat(vec![fwd, bwd], 2), (h, c))
    }

    /// The teacher-forced network: the decoder reads the true previous tokens.
    ///
    /// # Shapes
    /// - `drums`: `[batch, STEPS, DRUM_FEATURES]` (see [`drum_features`])
    /// - `conditions`: `[batch, CONDITIONS]` (see [`condition_features`])
    /// - `decoder_extra`: `[batch, STEPS, DECODER_EXTRA]`: one-hot previous token, the drum
    ///   step, the conditions (see [`decoder_extra`])
    /// - `mask`: `[batch, STEPS, VOCAB]`, 0 where a token is allowed, [`MASKED`] where not
    pub fn forward(
        &self,
        drums: Tensor<3>,
        conditions: Tensor<2>,
        decoder_extra: Tensor<3>,
        mask: Tensor<3>,
    ) -> BassNetOutput {
        let [batch, steps, _] = drums.dims();
        let (encoded, state) = self.encode(drums, conditions);
        let input = Tensor::cat(vec![encoded, decoder_extra], 2);
        let (hidden, _) = self.decoder.forward(input, state, false);
        let flat = hidden.reshape([batch * steps, self.decoder_hidden()]);
        let logits = self
            .token_head
            .forward(flat.clone())
            .reshape([batch, steps, VOCAB])
            + mask;
        let velocity = sigmoid(self.velocity_head.forward(flat)).reshape([batch, steps]);
        BassNetOutput { logits, velocity }
    }
}

/// Writes one step's decoder input besides the encoder outputs: one-hot `previous` token,
/// the drum features of the step and the conditions.
pub fn decoder_extra(previous: usize, drum_step: &[f32], conditions: &[f32], out: &mut Vec<f32>) {
    let start = out.len();
    out.resize(start + VOCAB + 1, 0.0);
    out[start + previous] = 1.0;
    out.extend_from_slice(drum_step);
    out.extend_from_slice(conditions);
}

/// The additive mask of one step: [`MASKED`] on tokens that may not follow `previous`.
pub fn step_mask(previous: usize, out: &mut Vec<f32>) {
    out.extend((0..VOCAB).map(|t| {
        if allowed_after(previous, t) {
            0.0
        } else {
            MASKED
        }
    }));
}
