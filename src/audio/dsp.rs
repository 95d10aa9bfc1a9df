//! Small DSP building blocks used by the voices and effects.
//!
//! Everything here is allocation-free after construction and deterministic: noise comes
//! from a seeded generator, never from the system.

use std::f32::consts::{PI, TAU};

/// Converts decibels to a linear gain.
pub fn db_to_gain(db: f32) -> f32 {
    10f32.powf(db / 20.0)
}

/// Converts a linear gain to decibels (−∞ for silence).
pub fn gain_to_db(gain: f32) -> f32 {
    20.0 * gain.log10()
}

/// Per-sample multiplier that makes an exponential decay fall by 60 dB in `time_s`.
pub fn decay_coef(time_s: f32, sample_rate: f32) -> f32 {
    (-6.907_755 / (time_s.max(1e-4) * sample_rate)).exp()
}

/// One-pole smoothing coefficient for a time constant of `time_s`.
pub fn smooth_coef(time_s: f32, sample_rate: f32) -> f32 {
    1.0 - (-1.0 / (time_s.max(1e-5) * sample_rate)).exp()
}

/// A sine of a phase given in cycles (any value), accurate to about 0.1 %.
#[inline]
pub fn sin_cycles(phase: f32) -> f32 {
    // Bhaskara-style parabola with one refinement pass. The fraction is taken by truncation
    // (`floor` is a library call on baseline x86-64), exact below 2^23; from there on every
    // representable phase is whole, so its fraction is 0 (and a NaN gives silence).
    let x = if phase.abs() < 8_388_608.0 {
        let t = phase as i32 as f32;
        phase - if t > phase { t - 1.0 } else { t }
    } else {
        0.0
    };
    let x = if x > 0.5 { x - 1.0 } else { x }; // −0.5..0.5
    let y = 8.0 * x - 16.0 * x * x.abs();
    0.225 * (y * y.abs() - y) + y
}

/// Soft saturation that is linear near zero and approaches ±1.
#[inline]
pub fn soft_clip(x: f32) -> f32 {
    let x = x.clamp(-3.0, 3.0);
    x * (27.0 + x * x) / (27.0 + 9.0 * x * x)
}

/// Band-limiting correction for a naive saw or square edge (PolyBLEP).
#[inline]
pub fn poly_blep(t: f32, dt: f32) -> f32 {
    if t < dt {
        let t = t / dt;
        t + t - t * t - 1.0
    } else if t > 1.0 - dt {
        let t = (t - 1.0) / dt;
        t * t + t + t + 1.0
    } else {
        0.0
    }
}

/// Flushes denormal floats to zero on this thread while alive (restored when dropped).
///
/// Decaying tails (reverb, delay, filter states) otherwise crawl through denormal numbers,
/// which cost x86 CPUs up to a hundred times more per operation.
pub struct NoDenormals {
    #[cfg(target_arch = "x86_64")]
    saved: u32,
}

impl NoDenormals {
    /// Sets flush-to-zero and denormals-are-zero.
    #[cfg(target_arch = "x86_64")]
    pub fn new() -> Self {
        let mut saved: u32 = 0;
        // SAFETY: reads and writes only the SSE control register of this thread.
        unsafe {
            std::arch::asm!("stmxcsr [{}]", in(reg) &mut saved, options(nostack));
            let flushed = saved | 0x8040;
            std::arch::asm!("ldmxcsr [{}]", in(reg) &flushed, options(nostack));
        }
        NoDenormals { saved }
    }

    /// No-op where the control register is not handled.
    #[cfg(not(target_arch = "x86_64"))]
    pub fn new() -> Self {
        NoDenormals {}
    }
}

impl Default for NoDenormals {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for NoDenormals {
    fn drop(&mut self) {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: restores the value read in `new`.
        unsafe {
            std::arch::asm!("ldmxcsr [{}]", in(reg) &self.saved, options(nostack));
        }
    }
}

/// A seeded xorshift noise source.
#[derive(Debug, Clone, Copy)]
pub struct Noise {
    state: u32,
}

impl Noise {
    /// A generator for `seed` (any value; zero is remapped).
    pub fn new(seed: u64) -> Self {
        let mixed = (seed ^ (seed >> 32)).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 32;
        Noise {
            state: (mixed as u32) | 1,
        }
    }

    /// Next white-noise sample in −1..1.
    #[inline]
    pub fn sample(&mut self) -> f32 {
        let mut x = self.state;
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        self.state = x;
        (x as i32) as f32 * (1.0 / 2_147_483_648.0)
    }
}

/// A one-pole low-pass filter.
#[derive(Debug, Clone, Copy, Default)]
pub struct OnePole {
    a: f32,
    z: f32,
}

impl OnePole {
    /// Sets the cutoff.
    pub fn set_hz(&mut self, hz: f32, sample_rate: f32) {
        self.a = 1.0 - (-TAU * hz / sample_rate).exp();
    }

    /// Filters one sample (low-pass output).
    #[inline]
    pub fn lowpass(&mut self, x: f32) -> f32 {
        self.z += self.a * (x - self.z);
        self.z
    }

    /// Filters one sample (high-pass output: input minus low-pass).
    #[inline]
    pub fn highpass(&mut self, x: f32) -> f32 {
        x - self.lowpass(x)
    }

    /// The filter's state (the low-pass output so far).
    pub fn state(&self) -> f32 {
        self.z
    }

    /// Clears the state.
    pub fn reset(&mut self) {
        self.z = 0.0;
    }
}

/// Outputs of one [`Svf`] tick.
#[derive(Debug, Clone, Copy)]
pub struct SvfOut {
    /// Low-pass.
    pub low: f32,
    /// Band-pass.
    pub band: f32,
    /// High-pass.
    pub high: f32,
}

/// Topology-preserving state-variable filter (Zavalishin), stable under modulation.
#[derive(Debug, Clone, Copy, Default)]
pub struct Svf {
    g: f32,
    k: f32,
    a1: f32,
    ic1: f32,
    ic2: f32,
}

impl Svf {
    /// Sets cutoff and resonance (`q` ≥ 0.5; higher rings more).
    #[inline]
    pub fn set(&mut self, cutoff_hz: f32, q: f32, sample_rate: f32) {
        let fc = cutoff_hz.clamp(10.0, sample_rate * 0.45);
        self.g = (PI * fc / sample_rate).tan();
        self.k = 1.0 / q.max(0.5);
        self.a1 = 1.0 / (1.0 + self.g * (self.g + self.k));
    }

    /// Filters one sample.
    #[inline]
    pub fn tick(&mut self, x: f32) -> SvfOut {
        let v3 = x - self.ic2;
        let v1 = self.a1 * (self.ic1 + self.g * v3);
        let v2 = self.ic2 + self.g * v1;
        self.ic1 = 2.0 * v1 - self.ic1;
        self.ic2 = 2.0 * v2 - self.ic2;
        SvfOut {
            low: v2,
            band: v1,
            high: x - self.k * v1 - v2,
        }
    }

    /// Clears the state.
    pub fn reset(&mut self) {
        self.ic1 = 0.0;
        self.ic2 = 0.0;
    }

    /// The filter's two integrator states.
    pub fn state(&self) -> [f32; 2] {
        [self.ic1, self.ic2]
    }
}

/// The low-pass output of [`Svf`] in state-space form: the same filter, but each sample is
/// three independent dot products of (state 1, state 2, input), so one sample's dependency
/// chain is a multiply and two adds instead of the six steps of the TPT form. The bass synth
/// runs two of these in series for every sample it plays and every query it renders.
#[derive(Debug, Clone, Copy, Default)]
pub struct SvfLowPass {
    /// Rows: next state 1, next state 2, low-pass output; columns: state 1, state 2, input.
    m: [[f32; 3]; 3],
    s1: f32,
    s2: f32,
}

impl SvfLowPass {
    /// Sets cutoff and resonance exactly as [`Svf::set`] does.
    #[inline]
    pub fn set(&mut self, cutoff_hz: f32, q: f32, sample_rate: f32) {
        let mut svf = Svf::default();
        svf.set(cutoff_hz, q, sample_rate);
        let (g, a) = (svf.g, svf.a1);
        let ag = a * g;
        let agg = ag * g;
        self.m = [
            [2.0 * a - 1.0, -2.0 * ag, 2.0 * ag],
            [2.0 * ag, 1.0 - 2.0 * agg, 2.0 * agg],
            [ag, 1.0 - agg, agg],
        ];
    }

    /// Filters one sample.
    #[inline]
    pub fn tick(&mut self, x: f32) -> f32 {
        let (s1, s2, m) = (self.s1, self.s2, &self.m);
        self.s1 = m[0][0] * s1 + (m[0][1] * s2 + m[0][2] * x);
        self.s2 = m[1][0] * s1 + (m[1][1] * s2 + m[1][2] * x);
        m[2][0] * s1 + (m[2][1] * s2 + m[2][2] * x)
    }
}

/// A parameter that glides towards its target (zipper-free control changes).
#[derive(Debug, Clone, Copy)]
pub struct Smoothed {
    value: f32,
    target: f32,
    coef: f32,
}

impl Smoothed {
    /// Starts at `value` with a glide time constant of `time_s`.
    pub fn new(value: f32, time_s: f32, sample_rate: f32) -> Self {
        Smoothed {
            value,
            target: value,
            coef: smooth_coef(time_s, sample_rate),
        }
    }

    /// Sets where to glide to.
    pub fn set(&mut self, target: f32) {
        self.target = target;
    }

    /// Advances one sample and returns the value.
    #[inline]
    pub fn tick(&mut self) -> f32 {
        let diff = self.target - self.value;
        if diff.abs() < 1e-7 {
            self.value = self.target;
        } else {
            self.value += self.coef * diff;
        }
        self.value
    }

    /// The current value without advancing.
    pub fn value(&self) -> f32 {
        self.value
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_space_low_pass_is_the_svf_low_pass() {
        let (mut svf, mut ss) = (Svf::default(), SvfLowPass::default());
        let mut noise = Noise::new(5);
        let mut worst = 0.0f32;
        for i in 0..48_000 {
            if i % 16 == 0 {
                let sweep = (i as f32 / 48_000.0 * TAU * 3.0).sin();
                let (cutoff, q) = (2f32.powf(8.0 + 5.0 * sweep), 0.5 + 9.0 * sweep.abs());
                svf.set(cutoff, q, 48_000.0);
                ss.set(cutoff, q, 48_000.0);
            }
            let x = noise.sample();
            worst = worst.max((svf.tick(x).low - ss.tick(x)).abs());
        }
        assert!(worst < 1e-4, "{worst}");
        let mut dc = SvfLowPass::default();
        dc.set(200.0, 0.7, 16_000.0);
        let settled = (0..16_000).fold(0.0, |_, _| dc.tick(0.5));
        assert!((settled - 0.5).abs() < 1e-5, "{settled}");
    }

    #[test]
    fn sin_cycles_takes_the_fraction_of_any_phase() {
        let reference = |phase: f32| {
            let x = phase - phase.floor();
            let x = if x > 0.5 { x - 1.0 } else { x };
            let y = 8.0 * x - 16.0 * x * x.abs();
            0.225 * (y * y.abs() - y) + y
        };
        for i in -100_000..100_000 {
            let phase = i as f32 * 0.013_7;
            assert_eq!(
                sin_cycles(phase).to_bits(),
                reference(phase).to_bits(),
                "{phase}"
            );
        }
        for phase in [-3.0, -0.5, 0.0, 0.25, 1.0e7, 3.0e9, -3.0e9] {
            assert_eq!(
                sin_cycles(phase).to_bits(),
                reference(phase).to_bits(),
                "{phase}"
            );
        }
        assert_eq!(sin_cycles(f32::NAN), 0.0);
    }

    #[test]
    fn sine_is_close() {
        for i in 0..1000 {
            let p = i as f32 / 1000.0 * 3.0 - 1.0;
            assert!((sin_cycles(p) - (p * TAU).sin()).abs() < 0.002, "{p}");
        }
    }

    #[test]
    fn noise_is_seeded_and_bounded() {
        let mut a = Noise::new(7);
        let mut b = Noise::new(7);
        let mut c = Noise::new(8);
        let xs: Vec<f32> = (0..1000).map(|_| a.sample()).collect();
        assert!(xs.iter().all(|x| (-1.0..=1.0).contains(x)));
        assert_eq!(xs, (0..1000).map(|_| b.sample()).collect::<Vec<_>>());
        assert_ne!(xs[0], c.sample());
    }

    #[test]
    fn svf_lowpass_passes_dc() {
        let mut f = Svf::default();
        f.set(1000.0, 0.707, 48_000.0);
        let mut y = 0.0;
        for _ in 0..10_000 {
            y = f.tick(1.0).low;
        }
        assert!((y - 1.0).abs() < 1e-3);
    }
}
