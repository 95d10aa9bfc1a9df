//! The clean-up and glue of the mix: a DC blocker for every track and the master, a
//! high-pass for the tracks that leave the low end to the kick and the bass, a glue
//! compressor, and the oversampled peak detector of the true-peak limiter
//! ([`super::fx::Limiter`]).
//!
//! These are hand-written rather than taken from a crate: they run per sample on the audio
//! thread, where nothing may allocate or lock, and renders must come out the same bits on
//! every machine.

use std::f32::consts::PI;

use super::dsp::{OnePole, Svf, smooth_coef};
use crate::fastmath::{exp, log10};

/// Corner of the DC blockers in Hz (below anything musical).
const DC_HZ: f32 = 5.0;

/// Removes DC from one signal: a one-pole high-pass at [`DC_HZ`].
#[derive(Debug, Clone, Copy, Default)]
pub struct DcBlocker {
    low: OnePole,
}

impl DcBlocker {
    /// A DC blocker at `sample_rate`.
    pub fn new(sample_rate: f32) -> Self {
        let mut low = OnePole::default();
        low.set_hz(DC_HZ, sample_rate);
        DcBlocker { low }
    }

    /// Filters one sample.
    #[inline]
    pub fn tick(&mut self, x: f32) -> f32 {
        self.low.highpass(x)
    }
}

/// A track's clean-up before its fader: DC blocker, then (for tracks that are not the drums
/// or the bass) a 12 dB/octave high-pass that leaves the low end to the kick and the bass.
#[derive(Debug, Clone, Copy)]
pub struct TrackFilter {
    dc: DcBlocker,
    high_pass: Option<Svf>,
}

impl TrackFilter {
    /// A filter at `sample_rate`, high-passing at `high_pass_hz` when given.
    pub fn new(sample_rate: f32, high_pass_hz: Option<f32>) -> Self {
        TrackFilter {
            dc: DcBlocker::new(sample_rate),
            high_pass: high_pass_hz.map(|hz| {
                let mut svf = Svf::default();
                svf.set(hz, std::f32::consts::FRAC_1_SQRT_2, sample_rate);
                svf
            }),
        }
    }

    /// Whether the filter has come to rest (its state below −240 dBFS); it is then set
    /// exactly to rest, so that silence in gives silence out with no work (see
    /// [`super::mixer::Mixer::process`]).
    pub fn settle(&mut self) -> bool {
        const REST: f32 = 1.0e-12;
        let quiet = self.dc.low.state().abs() < REST
            && self
                .high_pass
                .as_ref()
                .is_none_or(|svf| svf.state().iter().all(|s| s.abs() < REST));
        if quiet {
            self.dc.low.reset();
            if let Some(svf) = &mut self.high_pass {
                svf.reset();
            }
        }
        quiet
    }

    /// Filters one sample.
    #[inline]
    pub fn tick(&mut self, x: f32) -> f32 {
        let x = self.dc.tick(x);
        match &mut self.high_pass {
            Some(svf) => svf.tick(x).high,
            None => x,
        }
    }
}

/// Width of the [`Glue`] compressor's soft knee around its threshold, in dB.
const KNEE_DB: f32 = 6.0;
/// Time the [`Glue`] compressor takes to a deeper gain reduction: slow enough to let a
/// kick's attack through.
const ATTACK_S: f32 = 0.01;
/// Time it takes to let go: fast enough to follow the beats.
const RELEASE_S: f32 = 0.15;
/// Averaging time of the [`Glue`] compressor's level detector: it follows the mix's body,
/// not each peak of a kick (those are the limiter's).
const DETECTOR_S: f32 = 0.02;
/// Frames between two updates of the [`Glue`] compressor's gain (its gain glides between
/// them): the level it reads moves over 20 ms, so 8 frames lose nothing and save the
/// logarithm and exponential of every frame.
const GLUE_CONTROL: u32 = 8;

/// Corner of the high-pass in front of the [`Glue`] compressor's detector (a bus
/// compressor's side-chain filter): a sub bass, which the ear and the loudness meter hardly
/// count, does not turn the whole mix down.
const SIDECHAIN_HZ: f32 = 100.0;

/// A stereo-linked, feed-forward bus compressor with a soft knee ([`KNEE_DB`]): it reads
/// the mix's RMS level above [`SIDECHAIN_HZ`] (the louder channel's power, averaged over
/// [`DETECTOR_S`]), and its gain reduction is smoothed in decibels (attack and release
/// apart).
#[derive(Debug, Clone, Copy)]
pub struct Glue {
    threshold_db: f32,
    ratio: f32,
    sidechain: [OnePole; 2],
    detector: f32,
    /// Mean square level now.
    power: f32,
    /// Smoothing of the gain reduction per update ([`GLUE_CONTROL`] frames).
    attack: f32,
    release: f32,
    /// Gain change in dB (zero or below) at the last update.
    reduction_db: f32,
    /// Linear gain now, and its step per frame towards the last update's.
    gain: f32,
    step: f32,
    /// Frames to the next update.
    countdown: u32,
}

impl Glue {
    /// A compressor at `sample_rate`, starting at `threshold_db` (RMS dBFS, both channels
    /// linked) with `ratio` (input dB above the threshold per output dB; 1 leaves the
    /// signal alone).
    pub fn new(threshold_db: f32, ratio: f32, sample_rate: f32) -> Self {
        let mut sidechain = OnePole::default();
        sidechain.set_hz(SIDECHAIN_HZ, sample_rate);
        let mut glue = Glue {
            threshold_db: 0.0,
            ratio: 1.0,
            sidechain: [sidechain; 2],
            detector: smooth_coef(DETECTOR_S, sample_rate),
            power: 0.0,
            attack: smooth_coef(ATTACK_S, sample_rate / GLUE_CONTROL as f32),
            release: smooth_coef(RELEASE_S, sample_rate / GLUE_CONTROL as f32),
            reduction_db: 0.0,
            gain: 1.0,
            step: 0.0,
            countdown: 0,
        };
        glue.set(threshold_db, ratio);
        glue
    }

    /// New threshold and ratio; the gain reduction moves on from where it is.
    pub fn set(&mut self, threshold_db: f32, ratio: f32) {
        self.threshold_db = threshold_db.clamp(-60.0, 0.0);
        self.ratio = ratio.clamp(1.0, 20.0);
    }

    /// The static curve: the gain change in dB (zero or below) for an input level in dB.
    pub fn curve(&self, level_db: f32) -> f32 {
        let over = level_db - self.threshold_db;
        let slope = 1.0 / self.ratio - 1.0;
        if 2.0 * over <= -KNEE_DB {
            0.0
        } else if 2.0 * over < KNEE_DB {
            slope * (over + KNEE_DB / 2.0).powi(2) / (2.0 * KNEE_DB)
        } else {
            slope * over
        }
    }

    /// The gain change now, in dB.
    pub fn reduction_db(&self) -> f32 {
        self.reduction_db
    }

    /// Moves the gain reduction towards the curve's value for the level now, and sets the
    /// gain gliding to it over the next [`GLUE_CONTROL`] frames.
    fn update(&mut self) {
        // Below −120 dBFS nothing is compressed; this also keeps log10 on normal numbers.
        let target = if self.power > 1.0e-12 {
            self.curve(10.0 * log10(self.power))
        } else {
            0.0
        };
        let coef = if target < self.reduction_db {
            self.attack
        } else {
            self.release
        };
        self.reduction_db += coef * (target - self.reduction_db);
        // 10^(dB / 20), in plain arithmetic (the same bits on every CPU).
        let next = exp(self.reduction_db * (std::f32::consts::LN_10 / 20.0));
        self.step = (next - self.gain) / GLUE_CONTROL as f32;
        self.countdown = GLUE_CONTROL;
    }

    /// Compresses one stereo frame.
    #[inline]
    pub fn tick(&mut self, x: [f32; 2]) -> [f32; 2] {
        let [l, r] = [
            self.sidechain[0].highpass(x[0]),
            self.sidechain[1].highpass(x[1]),
        ];
        let square = (l * l).max(r * r);
        self.power += self.detector * (square - self.power);
        if self.countdown == 0 {
            self.update();
        }
        self.countdown -= 1;
        self.gain += self.step;
        let gain = self.gain;
        [x[0] * gain, x[1] * gain]
    }
}

/// Taps of each phase of the [`TruePeak`] interpolator (ITU-R BS.1770's 48-tap filter has
/// 12 a phase).
const TAPS: usize = 12;
/// Oversampling of the [`TruePeak`] detector (ITU-R BS.1770's 4×).
const OVERSAMPLE: usize = 4;

/// An oversampled peak detector: the largest magnitude of a stereo signal between its
/// samples, from a 4× polyphase interpolator (Kaiser-windowed sinc, 12 taps a phase), as
/// ITU-R BS.1770 measures true peak. The peak it returns is that of the stretch from the
/// sample [`TruePeak::DELAY`] frames ago to the next one.
#[derive(Debug, Clone, Copy)]
pub struct TruePeak {
    /// Per tap over the last [`TAPS`] samples (oldest first), its weight in each phase
    /// between two samples (1/4, 2/4, 3/4 of the way, and a zero lane): the three phases'
    /// sums run side by side in one vector.
    taps: [[f32; OVERSAMPLE]; TAPS],
    /// The largest sum of a phase's tap magnitudes: no point between the samples of a
    /// window exceeds its largest sample by more than this factor.
    overshoot: f32,
    /// The last [`TAPS`] frames, twice over (a sliding window without wrap-around).
    history: [[f32; 2 * TAPS]; 2],
    at: usize,
    /// The largest magnitude of both channels in this run of [`TAPS`] frames and in the one
    /// before: together they cover every window.
    loudest: [f32; 2],
}

impl Default for TruePeak {
    fn default() -> Self {
        Self::new()
    }
}

impl TruePeak {
    /// The detector; it does not depend on the sample rate.
    pub fn new() -> Self {
        let mut phases = [[0.0; TAPS]; OVERSAMPLE - 1];
        // Kaiser shape: a steep band edge for the 12 taps.
        for (p, taps) in phases.iter_mut().enumerate() {
            let frac = (p + 1) as f32 / OVERSAMPLE as f32;
            // The point lies between taps TAPS/2 − 1 and TAPS/2.
            for (k, tap) in taps.iter_mut().enumerate() {
                let t = k as f32 - (TAPS / 2 - 1) as f32 - frac;
                let sinc = if t.abs() < 1e-6 {
                    1.0
                } else {
                    (PI * t).sin() / (PI * t)
                };
                *tap = sinc * kaiser(t / (TAPS as f32 / 2.0), 5.0);
            }
            let sum: f32 = taps.iter().sum();
            taps.iter_mut().for_each(|t| *t /= sum);
        }
        let mut taps = [[0.0; OVERSAMPLE]; TAPS];
        for (p, phase) in phases.iter().enumerate() {
            for (k, tap) in phase.iter().enumerate() {
                taps[k][p] = *tap;
            }
        }
        let overshoot = phases
            .iter()
            .map(|p| p.iter().map(|t| t.abs()).sum::<f32>())
            .fold(1.0, f32::max);
        TruePeak {
            taps,
            overshoot,
            history: [[0.0; 2 * TAPS]; 2],
            at: 0,
            loudest: [0.0; 2],
        }
    }

    /// Takes one frame and returns the true peak of the stretch from the frame
    /// [`TruePeak::DELAY`] frames back to the next (that sample and the three points after
    /// it).
    #[inline]
    pub fn tick(&mut self, x: [f32; 2]) -> f32 {
        self.tick_above(x, 0.0)
    }

    /// [`TruePeak::tick`] for a caller that only needs peaks above `floor`: where the
    /// samples around the stretch bound its true peak below `floor`, the stretch's sample
    /// peak (also below `floor`) comes back without interpolating. A limiter's detector
    /// passes its ceiling: most of a mix is well under it.
    #[inline]
    pub fn tick_above(&mut self, x: [f32; 2], floor: f32) -> f32 {
        let at = self.at;
        if at == 0 {
            self.loudest = [self.loudest[1], 0.0];
        }
        self.loudest[1] = self.loudest[1].max(x[0].abs()).max(x[1].abs());
        let loudest = self.loudest[0].max(self.loudest[1]);
        let interpolate = loudest * self.overshoot >= floor;
        let mut peak = 0.0f32;
        for (history, x) in self.history.iter_mut().zip(x) {
            history[at] = x;
            history[at + TAPS] = x;
            let window = &history[at + 1..at + 1 + TAPS];
            peak = peak.max(window[TAPS / 2 - 1].abs());
            if !interpolate {
                continue;
            }
            // Two partial sums (even and odd taps), so the additions overlap.
            let mut sums = [[0.0f32; OVERSAMPLE]; 2];
            for (pair, v) in self.taps.chunks_exact(2).zip(window.chunks_exact(2)) {
                for (half, (taps, v)) in sums.iter_mut().zip(pair.iter().zip(v)) {
                    for (sum, tap) in half.iter_mut().zip(taps) {
                        *sum += tap * v;
                    }
                }
            }
            for (even, odd) in sums[0].iter().zip(&sums[1]) {
                peak = peak.max((even + odd).abs());
            }
        }
        self.at = (at + 1) % TAPS;
        peak
    }

    /// Frames between a sample going in and its peak coming out.
    pub const DELAY: usize = TAPS / 2;
}

/// The Kaiser window at `x` in −1..1 (zero outside), shape `beta`.
fn kaiser(x: f32, beta: f32) -> f32 {
    if x.abs() > 1.0 {
        return 0.0;
    }
    bessel_i0(beta * (1.0 - x * x).sqrt()) / bessel_i0(beta)
}

/// The modified Bessel function of the first kind, order 0 (its power series).
fn bessel_i0(x: f32) -> f32 {
    let (mut sum, mut term) = (1.0f32, 1.0f32);
    for k in 1..20 {
        term *= (x / (2.0 * k as f32)).powi(2);
        sum += term;
    }
    sum
}

#[cfg(test)]
mod tests {
    use super::*;

    const RATE: f32 = 48_000.0;

    #[test]
    fn the_dc_blocker_removes_an_offset_and_keeps_a_bass_note() {
        let mut dc = DcBlocker::new(RATE);
        let out: Vec<f32> = (0..RATE as usize * 2)
            .map(|i| dc.tick(0.3 + 0.5 * (2.0 * PI * 41.0 * i as f32 / RATE).sin()))
            .collect();
        let last = &out[RATE as usize..];
        let mean = last.iter().sum::<f32>() / last.len() as f32;
        let peak = last.iter().fold(0.0f32, |m, v| m.max(v.abs()));
        assert!(mean.abs() < 1e-3, "{mean}");
        assert!((peak - 0.5).abs() < 0.01, "{peak}");
    }

    #[test]
    fn the_track_high_pass_cuts_the_low_end_and_keeps_the_mids() {
        let level = |hz: f32| {
            let mut f = TrackFilter::new(RATE, Some(120.0));
            (0..RATE as usize)
                .map(|i| f.tick((2.0 * PI * hz * i as f32 / RATE).sin()))
                .skip(RATE as usize / 2)
                .fold(0.0f32, |m, v| m.max(v.abs()))
        };
        assert!(level(40.0) < 0.15, "{}", level(40.0));
        assert!((level(1_000.0) - 1.0).abs() < 0.02);
        let mut plain = TrackFilter::new(RATE, None);
        let low: Vec<f32> = (0..RATE as usize)
            .map(|i| plain.tick((2.0 * PI * 40.0 * i as f32 / RATE).sin()))
            .collect();
        assert!(low[RATE as usize / 2..].iter().any(|v| v.abs() > 0.95));
    }

    #[test]
    fn the_glue_curve_is_gentle_and_continuous() {
        let glue = Glue::new(-12.0, 2.0, RATE);
        assert_eq!(glue.curve(-30.0), 0.0);
        // Well above the knee, 2:1: 10 dB over gives 5 dB down.
        assert!((glue.curve(-2.0) + 5.0).abs() < 1e-4);
        // Continuous through the knee's edges.
        for edge in [-15.0f32, -9.0] {
            assert!((glue.curve(edge - 1e-3) - glue.curve(edge + 1e-3)).abs() < 1e-2);
        }
    }

    #[test]
    fn the_glue_compresses_a_loud_stretch_and_lets_go() {
        let mut glue = Glue::new(-12.0, 2.0, RATE);
        let tone = |i: usize, a: f32| a * (2.0 * PI * 1_000.0 * i as f32 / RATE).sin();
        for i in 0..RATE as usize / 2 {
            glue.tick([tone(i, 0.9), -tone(i, 0.9)]);
        }
        // A sine's RMS level is 3 dB under its peak.
        let deep = glue.reduction_db();
        let rms_db = 20.0 * (0.9f32 / 2f32.sqrt()).log10();
        assert!((deep - glue.curve(rms_db)).abs() < 0.2, "{deep}");
        // A sub bass as loud hardly moves it.
        let mut sub = Glue::new(-12.0, 2.0, RATE);
        for i in 0..RATE as usize / 2 {
            let x = 0.9 * (2.0 * PI * 40.0 * i as f32 / RATE).sin();
            sub.tick([x, x]);
        }
        assert!(
            sub.reduction_db() > deep / 2.0,
            "{} vs {deep}",
            sub.reduction_db()
        );
        for i in 0..RATE as usize {
            glue.tick([tone(i, 0.01), tone(i, 0.01)]);
        }
        assert!(glue.reduction_db() > -0.05);
        // Ratio 1 leaves the signal alone.
        let mut off = Glue::new(-40.0, 1.0, RATE);
        for i in 0..1_000 {
            let x = [tone(i, 0.9), tone(i, -0.5)];
            assert_eq!(off.tick(x), x);
        }
    }

    #[test]
    fn true_peak_finds_the_peak_between_samples() {
        // A sine at a quarter of the sample rate, sampled 45° off its crests: every sample
        // reads 0.707 of the amplitude, the true peak is the amplitude.
        let mut tp = TruePeak::new();
        let mut peak = 0.0f32;
        for i in 0..256 {
            let x = (PI / 2.0 * i as f32 + PI / 4.0).sin();
            let p = tp.tick([x, 0.0]);
            if i > 16 {
                peak = peak.max(p);
            }
        }
        assert!(peak > 0.95 && peak < 1.05, "{peak}");
        // With a floor, peaks above it come out the same; the rest stay under it.
        let (mut full, mut above) = (TruePeak::new(), TruePeak::new());
        for i in 0..512 {
            let swell = (i as f32 / 512.0) * (PI / 2.0 * i as f32 + PI / 4.0).sin();
            let (p, q) = (full.tick([swell, 0.1]), above.tick_above([swell, 0.1], 0.6));
            if p >= 0.6 {
                assert_eq!(p, q, "frame {i}");
            } else {
                assert!(q < 0.6, "frame {i}: {q}");
            }
        }
        // And a plain sample peak passes unchanged, `DELAY` frames later.
        let mut tp = TruePeak::new();
        let out: Vec<f32> = (0..16)
            .map(|i| tp.tick(if i == 3 { [0.0, -0.5] } else { [0.0; 2] }))
            .collect();
        let loudest = (0..16).max_by(|&a, &b| out[a].total_cmp(&out[b])).unwrap();
        assert_eq!(loudest, 3 + TruePeak::DELAY);
        assert!((out[loudest] - 0.5).abs() < 1e-6);
    }
}
