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
