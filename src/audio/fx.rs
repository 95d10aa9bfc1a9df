//! Master-section effects: tempo-synced ping-pong delay, feedback-delay-network reverb,
//! the one-knob DJ filter and the look-ahead true-peak limiter.
//!
//! Buffers are sized once for the worst case (slowest tempo, highest sample rate), so
//! nothing allocates while playing.

use super::dsp::{OnePole, Smoothed, Svf, smooth_coef};
use super::master::TruePeak;

/// Longest delay: sixteen sixteenth notes at 40 BPM.
const MAX_DELAY_S: f32 = 6.0;

/// A stereo ping-pong delay whose time follows the tempo.
#[derive(Debug, Clone)]
pub struct Delay {
    buf: [Vec<f32>; 2],
    write: usize,
    time: Smoothed,
    damp: [OnePole; 2],
}

impl Delay {
    /// A delay for `sample_rate`.
    pub fn new(sample_rate: f32) -> Self {
        let len = (MAX_DELAY_S * sample_rate) as usize + 4;
        let mut damp = [OnePole::default(); 2];
        for d in &mut damp {
            d.set_hz(4_500.0, sample_rate);
        }
        Delay {
            buf: [vec![0.0; len], vec![0.0; len]],
            write: 0,
            time: Smoothed::new(sample_rate * 0.375, 0.05, sample_rate),
            damp,
        }
    }

    /// Sets the delay time in samples (glides like tape when it changes).
    pub fn set_time(&mut self, samples: f32) {
        let max = (self.buf[0].len() - 3) as f32;
        self.time.set(samples.clamp(1.0, max));
    }

    /// Processes one stereo frame of send input; returns the wet output.
    #[inline]
    pub fn tick(&mut self, input: [f32; 2], feedback: f32) -> [f32; 2] {
        let len = self.buf[0].len();
        // Whole and fractional parts of the delay, kept apart for sub-sample precision.
        let t = self.time.tick();
        let whole = t as usize;
        let frac = t - whole as f32;
        let mut i0 = self.write + len - whole;
        if i0 >= len {
            i0 -= len;
        }
        let i1 = if i0 == 0 { len - 1 } else { i0 - 1 };
        let mut wet = [0.0; 2];
        for (ch, w) in wet.iter_mut().enumerate() {
            let a = self.buf[ch][i0];
            let b = self.buf[ch][i1];
            *w = a + (b - a) * frac;
        }
        // Ping-pong: each side feeds the other.
        let fb_l = self.damp[0].lowpass(wet[1]) * feedback;
        let fb_r = self.damp[1].lowpass(wet[0]) * feedback;
        self.buf[0][self.write] = (input[0] + input[1]) * 0.5 + fb_l;
        self.buf[1][self.write] = fb_r;
        self.write += 1;
        if self.write == len {
            self.write = 0;
        }
        wet
    }
}

/// Delay-line lengths of the reverb at full size, in milliseconds (mutually prime-ish).
const REVERB_MS: [f32; 8] = [37.1, 41.9, 47.3, 53.9, 59.3, 67.1, 73.7, 79.9];

/// An eight-line feedback delay network with Hadamard mixing and damping.
#[derive(Debug, Clone)]
pub struct Reverb {
    lines: [Vec<f32>; 8],
    pos: [usize; 8],
    len: [usize; 8],
    gain: [f32; 8],
    damp: [OnePole; 8],
    sample_rate: f32,
    size: f32,
    damping: f32,
}

impl Reverb {
    /// A reverb for `sample_rate`.
    pub fn new(sample_rate: f32) -> Self {
        let lines = REVERB_MS.map(|ms| vec![0.0; (ms * 0.001 * sample_rate) as usize + 1]);
        let mut r = Reverb {
            lines,
            pos: [0; 8],
            len: [1; 8],
            gain: [0.0; 8],
            damp: [OnePole::default(); 8],
            sample_rate,
            size: -1.0,
            damping: -1.0,
        };
        r.set(0.5, 0.5);
        r
    }

    /// Sets size (0..1: line lengths and decay time) and damping (0..1).
    pub fn set(&mut self, size: f32, damping: f32) {
        if size == self.size && damping == self.damping {
            return;
        }
        self.size = size;
        self.damping = damping;
        let rt60_s = 0.6 + 4.4 * size * size;
        let scale = 0.45 + 0.55 * size;
        for (i, ms) in REVERB_MS.iter().enumerate() {
            let len =
                ((ms * 0.001 * scale * self.sample_rate) as usize).clamp(1, self.lines[i].len());
            self.len[i] = len;
            self.pos[i] %= len;
            self.gain[i] = 10f32.powf(-3.0 * len as f32 / (rt60_s * self.sample_rate));
            self.damp[i].set_hz(18_000.0 - 16_000.0 * damping, self.sample_rate);
        }
    }

    /// Processes one stereo frame of send input; returns the wet output.
    #[inline]
    pub fn tick(&mut self, input: [f32; 2]) -> [f32; 2] {
        let mut y = [0.0f32; 8];
        for (i, v) in y.iter_mut().enumerate() {
            *v = self.lines[i][self.pos[i]];
        }
        // Fast Walsh–Hadamard transform, normalised: a lossless mixing matrix.
        let mut h = 1;
        while h < 8 {
            for i in (0..8).step_by(h * 2) {
                for j in i..i + h {
                    let (a, b) = (y[j], y[j + h]);
                    y[j] = a + b;
                    y[j + h] = a - b;
                }
            }
            h *= 2;
        }
        let norm = 0.353_553_4; // 1/sqrt(8)
        let inp = (input[0] + input[1]) * 0.5;
        let mut out = [0.0; 2];
        for i in 0..8 {
            let fb = self.damp[i].lowpass(y[i] * norm) * self.gain[i];
            let sign = if i % 2 == 0 { 1.0 } else { -1.0 };
            self.lines[i][self.pos[i]] = fb + inp * sign;
            self.pos[i] += 1;
            if self.pos[i] >= self.len[i] {
                self.pos[i] = 0;
            }
            out[i % 2] += fb;
        }
        [out[0] * 0.5, out[1] * 0.5]
    }
}

/// The one-knob DJ filter: left of centre a low-pass sweep, right a high-pass sweep.
#[derive(Debug, Clone)]
pub struct DjFilter {
    knob: Smoothed,
    filters: [Svf; 2],
    sample_rate: f32,
    countdown: u32,
}

impl DjFilter {
    /// An open filter for `sample_rate`.
    pub fn new(sample_rate: f32) -> Self {
        DjFilter {
            knob: Smoothed::new(0.0, 0.03, sample_rate),
            filters: [Svf::default(); 2],
            sample_rate,
            countdown: 0,
        }
    }

    /// Sets the knob, −1..1.
    pub fn set(&mut self, knob: f32) {
        self.knob.set(knob.clamp(-1.0, 1.0));
    }

    /// Filters one stereo frame.
    #[inline]
    pub fn tick(&mut self, x: [f32; 2]) -> [f32; 2] {
        let k = self.knob.tick();
        if k.abs() < 1e-3 {
            return x;
        }
        if self.countdown == 0 {
            let hz = if k < 0.0 {
                20_000.0 * (80.0f32 / 20_000.0).powf(-k)
            } else {
                20.0 * (6_000.0f32 / 20.0).powf(k)
            };
            for f in &mut self.filters {
                f.set(hz, 0.9, self.sample_rate);
            }
            self.countdown = 16;
        }
        self.countdown -= 1;
        let mut y = [0.0; 2];
        for ch in 0..2 {
            let o = self.filters[ch].tick(x[ch]);
            let wet = if k < 0.0 { o.low } else { o.high };
            // Blend in over the first few percent of travel so the knob has no dead jump.
            let amount = (k.abs() * 20.0).min(1.0);
            y[ch] = x[ch] + (wet - x[ch]) * amount;
        }
        y
    }
}

/// Longest look-ahead the limiter supports, in frames.
const LIMITER_MAX_LOOKAHEAD: usize = 512;

/// A look-ahead limiter with a hard ceiling: it turns down ahead of the signal's true peaks
/// (its level between samples, 4× oversampled, see [`TruePeak`]), so that they stay at the
/// ceiling, and no output sample ever exceeds it.
#[derive(Debug, Clone)]
pub struct Limiter {
    ceiling: f32,
    true_peak: TruePeak,
    lookahead: usize,
    delay: Vec<[f32; 2]>,
    need: Vec<f32>,
    deque: Vec<usize>,
    head: usize,
    tail: usize,
    index: usize,
    gain: f32,
    attack: f32,
    release: f32,
}

impl Limiter {
    /// A limiter with 1.5 ms look-ahead and the given ceiling (linear).
    pub fn new(sample_rate: f32, ceiling: f32) -> Self {
        // The look-ahead covers the peak detector's own delay.
        let lookahead =
            ((0.0015 * sample_rate) as usize).clamp(2 * TruePeak::DELAY, LIMITER_MAX_LOOKAHEAD - 2);
        Limiter {
            ceiling,
            true_peak: TruePeak::new(),
            lookahead,
            delay: vec![[0.0; 2]; LIMITER_MAX_LOOKAHEAD],
            need: vec![1.0; LIMITER_MAX_LOOKAHEAD],
            deque: vec![0; LIMITER_MAX_LOOKAHEAD],
            head: 0,
            tail: 0,
            index: 0,
            gain: 1.0,
            // Settled (to 0.03 %) within the look-ahead, less the peak detector's delay.
            attack: smooth_coef(0.0015 / 8.0, sample_rate),
            release: smooth_coef(0.12, sample_rate),
        }
    }

    /// Look-ahead delay in frames (the limiter's latency).
    pub fn latency(&self) -> usize {
        self.lookahead
    }

    /// Limits one stereo frame (output is `latency()` frames late).
    #[inline]
    pub fn tick(&mut self, x: [f32; 2]) -> [f32; 2] {
        let n = LIMITER_MAX_LOOKAHEAD;
        let i = self.index;
        // The true peak around the sample `TruePeak::DELAY` frames back: its need is kept at
        // `i`, still inside the look-ahead window of that sample and the next.
        let peak = self.true_peak.tick_above(x, self.ceiling);
        let need = if peak > self.ceiling {
            self.ceiling / peak
        } else {
            1.0
        };
        self.delay[i % n] = x;
        self.need[i % n] = need;
        // Sliding-window minimum of the needed gain over the look-ahead (monotonic deque).
        while self.tail != self.head {
            let last = self.deque[(self.tail + n - 1) % n];
            if self.need[last % n] >= need {
                self.tail = (self.tail + n - 1) % n;
            } else {
                break;
            }
        }
        self.deque[self.tail] = i;
        self.tail = (self.tail + 1) % n;
        while self.deque[self.head] + self.lookahead < i {
            self.head = (self.head + 1) % n;
        }
        let target = self.need[self.deque[self.head] % n];
        let coef = if target < self.gain {
            self.attack
        } else {
            self.release
        };
        self.gain += coef * (target - self.gain);
        let out = self.delay[(i + n - self.lookahead) % n];
        self.index = i.wrapping_add(1);
        let c = self.ceiling;
        [
            (out[0] * self.gain).clamp(-c, c),
            (out[1] * self.gain).clamp(-c, c),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limiter_never_exceeds_ceiling() {
        let mut lim = Limiter::new(48_000.0, 0.9);
        let mut peak = 0.0f32;
        for i in 0..48_000 {
            let x = (i as f32 * 0.05).sin() * if i % 5_000 < 100 { 4.0 } else { 0.5 };
            let y = lim.tick([x, -x]);
            peak = peak.max(y[0].abs()).max(y[1].abs());
        }
        assert!(peak <= 0.9);
    }

    #[test]
    fn limiter_is_transparent_below_ceiling() {
        let mut lim = Limiter::new(48_000.0, 0.9);
        let lat = lim.latency();
        let xs: Vec<f32> = (0..2_000).map(|i| (i as f32 * 0.01).sin() * 0.5).collect();
        let ys: Vec<f32> = xs.iter().map(|&x| lim.tick([x, x])[0]).collect();
        for i in lat..2_000 {
            assert!((ys[i] - xs[i - lat]).abs() < 1e-6);
        }
    }

    #[test]
    fn limiter_holds_the_true_peak_between_samples() {
        // A full-scale sine at a quarter of the rate, sampled 45° off its crests: the samples
        // read 0.707, under the ceiling, but the wave between them reaches 1.0.
        let mut lim = Limiter::new(48_000.0, 0.9);
        let mut peak = 0.0f32;
        for i in 0..4_800 {
            let x = (std::f32::consts::FRAC_PI_2 * i as f32 + std::f32::consts::FRAC_PI_4).sin();
            let y = lim.tick([x, x]);
            if i > 2_400 {
                peak = peak.max(y[0].abs());
            }
        }
        // The true peak of the output is then about the ceiling: samples at 0.707 of it.
        assert!(peak < 0.9 * 0.71 && peak > 0.9 * 0.65, "{peak}");
    }

    #[test]
    fn reverb_decays() {
        let mut r = Reverb::new(48_000.0);
        r.set(0.3, 0.5);
        let first = r.tick([1.0, 1.0]);
        assert_eq!(first, [0.0, 0.0]);
        let mut tail = 0.0;
        for i in 0..96_000 {
            let y = r.tick([0.0, 0.0]);
            if i > 90_000 {
                tail += y[0].abs();
            }
        }
        assert!(tail < 1e-3);
    }

    #[test]
    fn delay_repeats_after_its_time() {
        let mut d = Delay::new(48_000.0);
        d.time = Smoothed::new(1_000.0, 0.05, 48_000.0);
        let mut out = Vec::new();
        for i in 0..1_200 {
            let x = if i == 0 { 1.0 } else { 0.0 };
            out.push(d.tick([x, x], 0.0)[0]);
        }
        let (argmax, _) =
            out.iter().enumerate().fold(
                (0, 0.0f32),
                |acc, (i, &v)| if v > acc.1 { (i, v) } else { acc },
            );
        assert_eq!(argmax, 1_000);
    }
}
