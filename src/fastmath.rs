//! Float functions in plain arithmetic, so that loops of them vectorise: `exp`, `log10`, the
//! logistic function and `tanh`, each within a few millionths of the standard library's (the
//! tests hold them to it). The mel spectrogram and the models' per-cycle paths use them.

/// `e^x` in plain arithmetic (so loops of it vectorise), within about 2e-7 relative of
/// `f32::exp` for `x` in −87..88 (clamped there): `x = k·ln 2 + r`, `e^r` by its Taylor series
/// to the 6th power, `2^k` written into the exponent bits.
#[inline(always)]
pub fn exp(x: f32) -> f32 {
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
pub fn log10(x: f32) -> f32 {
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
pub fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + exp(-x))
}

/// The hyperbolic tangent, as `2·σ(2x) − 1` (absolute error under 1e-6).
#[inline(always)]
pub fn tanh(x: f32) -> f32 {
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
