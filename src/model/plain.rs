//! Plain-float copies of Burn layers for the per-cycle inference paths: the same equations as
//! the Burn modules, without a tensor library's per-operation cost (a model's tests hold the
//! two to the same numbers).

use burn::nn::{BatchNorm, Linear};
use burn::tensor::Tensor;

/// Writes `fn NAME(&self, ARGS) -> RET`, which runs `PLAIN` (an `#[inline(always)]` method
/// taking the same arguments) in a copy compiled for AVX2 on x86-64 CPUs that have it (checked
/// at each call), else as compiled for the baseline. Both copies take the same sums in the same
/// order, so the result does not depend on the CPU.
macro_rules! avx2_dispatch {
    (
        $(#[$doc:meta])*
        $vis:vis fn $name:ident(&self $(, $arg:ident: $ty:ty)* $(,)?) -> $ret:ty
            = $plain:ident via $avx2:ident;
    ) => {
        $(#[$doc])*
        $vis fn $name(&self $(, $arg: $ty)*) -> $ret {
            #[cfg(target_arch = "x86_64")]
            if std::is_x86_feature_detected!("avx2") {
                // SAFETY: the CPU has AVX2 (checked just above).
                return unsafe { self.$avx2($($arg),*) };
            }
            self.$plain($($arg),*)
        }

        #[cfg(target_arch = "x86_64")]
        #[target_feature(enable = "avx2")]
        unsafe fn $avx2(&self $(, $arg: $ty)*) -> $ret {
            self.$plain($($arg),*)
        }
    };
}
pub(crate) use avx2_dispatch;

/// Why a Burn layer has no plain-float copy.
#[derive(Debug, thiserror::Error)]
pub enum PlainError {
    /// A weight is not a finite number.
    #[error("its weights are not finite numbers")]
    NotFinite,
    /// A tensor's values could not be read as floats.
    #[error("{0}")]
    Data(String),
    /// A layer is of a kind (or shape) the plain path does not compute; says which.
    #[error("{0}")]
    Unsupported(String),
}

/// A tensor's values, refused when one is not a finite number.
pub(crate) fn values<const D: usize>(t: Tensor<D>) -> Result<Vec<f32>, PlainError> {
    let v = t
        .into_data()
        .try_to_vec::<f32>()
        .map_err(|e| PlainError::Data(format!("{e:?}")))?;
    if v.iter().any(|x| !x.is_finite()) {
        return Err(PlainError::NotFinite);
    }
    Ok(v)
}

/// A dense layer as plain row-major floats: `y = x·W + b`, `W` is `[d_in, d_out]`.
#[derive(Debug, Clone)]
pub(crate) struct Dense {
    /// `W`, row-major `[d_in, d_out]`.
    pub(crate) weight: Vec<f32>,
    /// `b`.
    pub(crate) bias: Vec<f32>,
    /// Outputs.
    pub(crate) d_out: usize,
}

impl Dense {
    /// Copies a Burn linear layer (an error when its weights are not finite).
    pub(crate) fn of(linear: &Linear) -> Result<Self, PlainError> {
        let [_, d_out] = linear.weight.dims();
        let weight = values(linear.weight.val())?;
        let bias = match &linear.bias {
            Some(b) => values(b.val())?,
            None => vec![0.0; d_out],
        };
        Ok(Dense {
            weight,
            bias,
            d_out,
        })
    }

    /// `out += x · W[rows offset..]` for the rows starting at `offset`.
    #[inline(always)]
    pub(crate) fn accumulate(&self, x: &[f32], offset: usize, out: &mut [f32]) {
        for (i, &v) in x.iter().enumerate() {
            if v != 0.0 {
                let row = &self.weight[(offset + i) * self.d_out..(offset + i + 1) * self.d_out];
                for (o, w) in out.iter_mut().zip(row) {
                    *o += v * w;
                }
            }
        }
    }

    /// `out = x · W + b`.
    #[inline(always)]
    pub(crate) fn apply(&self, x: &[f32], out: &mut [f32]) {
        out.copy_from_slice(&self.bias);
        self.accumulate(x, 0, out);
    }

    /// Row `i` of `W`.
    #[inline(always)]
    pub(crate) fn row(&self, i: usize) -> &[f32] {
        &self.weight[i * self.d_out..(i + 1) * self.d_out]
    }
}

/// Batch normalisation in inference mode, folded into one scale and shift per feature:
/// `y = (x − mean) / √(var + ε) · γ + β = x · scale + shift`.
#[derive(Debug, Clone)]
pub(crate) struct Norm {
    /// Per-feature scale.
    pub(crate) scale: Vec<f32>,
    /// Per-feature shift.
    pub(crate) shift: Vec<f32>,
}

impl Norm {
    /// Folds a Burn batch norm's running statistics and affine weights.
    pub(crate) fn of(norm: &BatchNorm) -> Result<Self, PlainError> {
        let gamma = values(norm.gamma.val())?;
        let beta = values(norm.beta.val())?;
        let mean = values(norm.running_mean.value())?;
        let var = values(norm.running_var.value())?;
        let eps = norm.epsilon as f32;
        let scale: Vec<f32> = gamma
            .iter()
            .zip(&var)
            .map(|(g, v)| g / (v + eps).sqrt())
            .collect();
        let shift = beta
            .iter()
            .zip(&mean)
            .zip(&scale)
            .map(|((b, m), s)| b - m * s)
            .collect();
        Ok(Norm { scale, shift })
    }

    /// Normalises one feature vector in place.
    pub(crate) fn apply(&self, x: &mut [f32]) {
        for ((v, s), t) in x.iter_mut().zip(&self.scale).zip(&self.shift) {
            *v = *v * s + t;
        }
    }
}

/// `e^x` in plain arithmetic (so loops of it vectorise), within about 2e-7 relative of
/// `f32::exp` for `x` in −87..88 (clamped there): `x = k·ln 2 + r`, `e^r` by its Taylor series
/// to the 6th power, `2^k` written into the exponent bits.
#[inline(always)]
pub(crate) fn exp(x: f32) -> f32 {
    const LN2_HI: f32 = 0.693_145_75;
    const LN2_LO: f32 = 1.428_606_8e-6;
    // Adding and taking away 1.5 · 2^23 rounds to the nearest integer.
    const ROUND: f32 = 12_582_912.0;
    let x = x.clamp(-87.0, 88.0);
    let k = (x * std::f32::consts::LOG2_E + ROUND) - ROUND;
    let r = (x - k * LN2_HI) - k * LN2_LO;
    let p = 1.0
        + r * (1.0
            + r * (0.5
                + r * (1.0 / 6.0 + r * (1.0 / 24.0 + r * (1.0 / 120.0 + r * (1.0 / 720.0))))));
    f32::from_bits(((k as i32 + 127) as u32) << 23) * p
}

/// `log10(x)` in plain arithmetic (so loops of it vectorise), within 3e-6 absolute of
/// `f32::log10` for positive normal `x`: `x = 2^e · m` with `m` in √½..√2 from the bits, then
/// `ln m = 2·atanh((m − 1)/(m + 1))` by its series to the 9th power.
#[inline(always)]
pub(crate) fn log10(x: f32) -> f32 {
    const SQRT2: f32 = std::f32::consts::SQRT_2;
    let bits = x.to_bits();
    let mut e = ((bits >> 23) & 0xff) as i32 - 127;
    let mut m = f32::from_bits((bits & 0x007f_ffff) | 0x3f80_0000);
    if m > SQRT2 {
        m *= 0.5;
        e += 1;
    }
    let s = (m - 1.0) / (m + 1.0);
    let s2 = s * s;
    let ln_m = 2.0 * s * (1.0 + s2 * (1.0 / 3.0 + s2 * (1.0 / 5.0 + s2 * (1.0 / 7.0 + s2 / 9.0))));
    (e as f32 * std::f32::consts::LN_2 + ln_m) * std::f32::consts::LOG10_E
}

/// The logistic function.
#[inline(always)]
pub(crate) fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + exp(-x))
}

/// The hyperbolic tangent, as `2·σ(2x) − 1` (absolute error under 1e-6).
#[inline(always)]
pub(crate) fn tanh(x: f32) -> f32 {
    2.0 * sigmoid(2.0 * x) - 1.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log10_matches_the_standard_library() {
        let mut worst = 0.0f32;
        let mut x = 1.0e-10f32;
        while x < 1.0e12 {
            worst = worst.max((log10(x) - x.log10()).abs());
            x *= 1.001_3;
        }
        assert!(worst < 3e-6, "{worst}");
        assert_eq!(log10(1.0), 0.0);
    }

    #[test]
    fn exp_sigmoid_and_tanh_match_the_standard_library() {
        let mut worst = [0.0f32; 3];
        for i in -40_000..=40_000 {
            let x = i as f32 / 1_000.0;
            let e = (exp(x) - x.exp()).abs() / x.exp();
            let s = (sigmoid(x) - 1.0 / (1.0 + (-x).exp())).abs();
            let t = (tanh(x) - x.tanh()).abs();
            worst = [worst[0].max(e), worst[1].max(s), worst[2].max(t)];
        }
        assert!(
            worst[0] < 5e-7 && worst[1] < 5e-7 && worst[2] < 1e-6,
            "{worst:?}"
        );
        // Out of range it clamps: tiny but not zero, huge but finite.
        assert!((exp(-200.0) / (-87.0f32).exp() - 1.0).abs() < 1e-6);
        assert!(exp(200.0).is_finite() && exp(200.0) > 1e38);
    }
}
