//! What a listener measures of the mix, through the `ebur128` crate (EBU R 128):
//! - [`LiveMeter`]: the transport's meter on stage, short-term loudness and true peak of the
//!   output as the listening tap delivers it;
//! - [`MixReport`]: for `ubiq eval mix`, a rendered set's integrated loudness, short-term
//!   loudness at the end of every cycle, sample and true peak, DC offset, and how the power
//!   shares out over frequency bands.

use realfft::RealFftPlanner;
use serde::Serialize;

use crate::snapshot::Loudness;

/// Frequency bands the power is shared over, in Hz (the last runs to Nyquist).
pub const BANDS: [(f32, f32); 5] = [
    (0.0, 100.0),
    (100.0, 500.0),
    (500.0, 2_000.0),
    (2_000.0, 8_000.0),
    (8_000.0, f32::INFINITY),
];

/// FFT length of the band analysis (85 ms at 48 kHz: 12 Hz bins, fine enough for 100 Hz).
const BAND_FFT: usize = 4_096;

/// Loudness below this is silence (EBU R 128's absolute gate).
const SILENT_LUFS: f64 = -70.0;

/// Why a mix could not be measured.
#[derive(Debug, thiserror::Error)]
pub enum LoudnessError {
    /// The meter refused the stream (a sample rate it does not take, say).
    #[error("loudness meter: {0}")]
    Meter(#[from] ebur128::Error),
}

/// Frames of the true-peak hold, in seconds (the short-term window).
const HOLD_S: u32 = 3;

/// The stage's loudness meter. It reads the listening tap, the mono mid `(L + R) / 2` of the
/// master, as dual mono (EBU R 128's weighting of a signal in both channels): for the
/// centred parts of a mix that is the stereo loudness; wide reverb reads a little low.
pub struct LiveMeter {
    meter: ebur128::EbuR128,
    hold: [f32; 2],
    held_frames: u32,
    hold_frames: u32,
}

impl std::fmt::Debug for LiveMeter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LiveMeter").finish_non_exhaustive()
    }
}

impl LiveMeter {
    /// A meter of a mono stream at `rate`.
    pub fn new(rate: u32) -> Result<LiveMeter, LoudnessError> {
        use ebur128::{Channel, EbuR128, Mode};
        let mut meter = EbuR128::new(1, rate, Mode::S | Mode::TRUE_PEAK)?;
        meter.set_channel(0, Channel::DualMono)?;
        Ok(LiveMeter {
            meter,
            hold: [0.0; 2],
            held_frames: 0,
            hold_frames: HOLD_S * rate,
        })
    }

    /// Takes in the next samples of the stream.
    pub fn feed(&mut self, samples: &[f32]) {
        if samples.is_empty() || self.meter.add_frames_f32(samples).is_err() {
            return;
        }
        // Two half-holds: the peak shown covers the last 1.5–3 s.
        let peak = self.meter.prev_true_peak(0).unwrap_or(0.0) as f32;
        self.hold[1] = self.hold[1].max(peak);
        self.held_frames += samples.len() as u32;
        if self.held_frames >= self.hold_frames / 2 {
            self.hold = [self.hold[1], 0.0];
            self.held_frames = 0;
        }
    }

    /// The reading now.
    pub fn reading(&self) -> Loudness {
        let short = self.meter.loudness_shortterm().unwrap_or(f64::NEG_INFINITY);
        let peak = self.hold[0].max(self.hold[1]);
        Loudness {
            short_term_lufs: (short > SILENT_LUFS).then_some(short as f32),
            true_peak_dbtp: (peak > 1.0e-5).then(|| 20.0 * peak.log10()),
        }
    }
}

/// The measures of one rendered mix.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MixReport {
    /// Integrated loudness in LUFS (gated, EBU R 128); `-inf` for silence.
    pub integrated_lufs: f64,
    /// The highest true peak of the two channels (4× oversampled), in dBTP.
    pub true_peak_dbtp: f64,
    /// The highest sample of the two channels, in dBFS.
    pub sample_peak_dbfs: f64,
    /// The larger of the two channels' mean value (DC offset), as a magnitude.
    pub dc: f64,
    /// Share of the power in each of [`BANDS`] (mid channel, Hann-windowed frames), summing
    /// to 1 for sound.
    pub band_shares: [f64; BANDS.len()],
    /// Short-term loudness (the last 3 s) at the end of each whole cycle, in LUFS; `None`
    /// where that stretch is silent.
    pub cycle_lufs: Vec<Option<f64>>,
}

impl MixReport {
    /// Measures interleaved stereo `samples` at `rate`, with cycles of `cycle_frames` frames
    /// from frame 0.
    pub fn measure(
        samples: &[f32],
        rate: u32,
        cycle_frames: f64,
    ) -> Result<MixReport, LoudnessError> {
        use ebur128::{EbuR128, Mode};
        let mut meter = EbuR128::new(2, rate, Mode::I | Mode::S | Mode::TRUE_PEAK)?;
        let frames = samples.len() / 2;
        let mut cycle_lufs = Vec::new();
        let mut at = 0usize;
        let mut cycle = 1u32;
        loop {
            let end = (cycle_frames * f64::from(cycle)).round() as usize;
            if cycle_frames < 1.0 || end > frames {
                break;
            }
            meter.add_frames_f32(&samples[at * 2..end * 2])?;
            let short = meter.loudness_shortterm()?;
            cycle_lufs.push((short > SILENT_LUFS).then_some(short));
            at = end;
            cycle += 1;
        }
        meter.add_frames_f32(&samples[at * 2..frames * 2])?;
        let true_peak = meter.true_peak(0)?.max(meter.true_peak(1)?);
        let (mut peak, mut sums) = (0.0f32, [0.0f64; 2]);
        for frame in samples.chunks_exact(2) {
            for (c, &s) in frame.iter().enumerate() {
                peak = peak.max(s.abs());
                sums[c] += f64::from(s);
            }
        }
        let dc = sums
            .iter()
            .map(|s| (s / frames.max(1) as f64).abs())
            .fold(0.0, f64::max);
        Ok(MixReport {
            integrated_lufs: meter.loudness_global()?,
            true_peak_dbtp: db(true_peak),
            sample_peak_dbfs: db(f64::from(peak)),
            dc,
            band_shares: band_shares(samples, rate),
            cycle_lufs,
        })
    }

    /// The short-term loudness change from the end of cycle `cycle - 1` to the end of
    /// `cycle` (cycles counted from 0), in dB; `None` where either is silent or unmeasured.
    pub fn change_into(&self, cycle: usize) -> Option<f64> {
        let before = (*self.cycle_lufs.get(cycle.checked_sub(1)?)?)?;
        let after = (*self.cycle_lufs.get(cycle)?)?;
        Some(after - before)
    }

    /// The largest short-term loudness change between two cycles in a row, in dB (as a
    /// magnitude), from cycle `from` on.
    pub fn largest_change(&self, from: usize) -> Option<f64> {
        (from.max(1)..self.cycle_lufs.len())
            .filter_map(|c| self.change_into(c))
            .map(f64::abs)
            .reduce(f64::max)
    }
}

/// Decibels of an amplitude.
fn db(amplitude: f64) -> f64 {
    20.0 * amplitude.log10()
}

/// The share of the mid channel's power in each of [`BANDS`], over Hann-windowed frames of
/// [`BAND_FFT`] with half overlap; zeros for silence.
pub fn band_shares(samples: &[f32], rate: u32) -> [f64; BANDS.len()] {
    let mid: Vec<f32> = samples
        .chunks_exact(2)
        .map(|f| 0.5 * (f[0] + f[1]))
        .collect();
    let fft = RealFftPlanner::<f32>::new().plan_fft_forward(BAND_FFT);
    let (mut frame, mut spectrum) = (fft.make_input_vec(), fft.make_output_vec());
    let window: Vec<f32> = (0..BAND_FFT)
        .map(|i| {
            let phase = std::f32::consts::TAU * i as f32 / BAND_FFT as f32;
            0.5 - 0.5 * phase.cos()
        })
        .collect();
    let band_of: Vec<usize> = (0..spectrum.len())
        .map(|k| {
            let hz = k as f32 * rate as f32 / BAND_FFT as f32;
            BANDS
                .iter()
                .position(|(lo, hi)| hz >= *lo && hz < *hi)
                .unwrap_or(BANDS.len() - 1)
        })
        .collect();
    let mut power = [0.0f64; BANDS.len()];
    for start in (0..mid.len().saturating_sub(BAND_FFT - 1)).step_by(BAND_FFT / 2) {
        for ((x, s), w) in frame.iter_mut().zip(&mid[start..]).zip(&window) {
            *x = s * w;
        }
        // Lengths come from the plan itself, so the transform cannot fail.
        let _ = fft.process(&mut frame, &mut spectrum);
        for (c, band) in spectrum.iter().zip(&band_of) {
            power[*band] += f64::from(c.norm_sqr());
        }
    }
    let total: f64 = power.iter().sum();
    if total > 0.0 {
        power.iter_mut().for_each(|p| *p /= total);
    }
    power
}

#[cfg(test)]
mod tests {
    use super::*;

    const RATE: u32 = 48_000;

    /// `seconds` of a stereo sine at `hz` and `amplitude`, plus `dc`.
    fn sine(hz: f32, amplitude: f32, dc: f32, seconds: f32) -> Vec<f32> {
        let n = (seconds * RATE as f32) as usize;
        (0..n)
            .flat_map(|i| {
                let s = amplitude * (std::f32::consts::TAU * hz * i as f32 / RATE as f32).sin();
                [s + dc, s + dc]
            })
            .collect()
    }

    #[test]
    fn a_full_scale_1k_sine_reads_as_the_standard_says() {
        // EBU Tech 3341: a 0 dBFS 1 kHz sine in both channels of a stereo signal is
        // −3.01 LUFS (each channel alone −3.01 LKFS, the two summed +3.01 dB).
        let report = MixReport::measure(&sine(1_000.0, 1.0, 0.0, 10.0), RATE, 96_000.0).unwrap();
        assert!((report.integrated_lufs - 0.0).abs() < 0.1, "{report:?}");
        assert!(report.sample_peak_dbfs.abs() < 0.01);
        assert!(report.true_peak_dbtp.abs() < 0.1);
        assert!(report.dc < 1e-3);
        // All of it in the 500 Hz – 2 kHz band.
        assert!(report.band_shares[2] > 0.99, "{:?}", report.band_shares);
        assert_eq!(report.cycle_lufs.len(), 5);
        assert!(
            report.largest_change(2).unwrap() < 0.1,
            "{:?}",
            report.cycle_lufs
        );
    }

    #[test]
    fn dc_bands_and_a_level_step_are_seen() {
        let mut samples = sine(60.0, 0.1, 0.02, 8.0);
        samples.extend(sine(60.0, 0.4, 0.02, 8.0));
        let report = MixReport::measure(&samples, RATE, 4.0 * RATE as f64).unwrap();
        assert!((report.dc - 0.02).abs() < 1e-4, "{}", report.dc);
        assert!(report.band_shares[0] > 0.95, "{:?}", report.band_shares);
        // Four cycles of 4 s: the level rises 12 dB from the third (the 3-s window then
        // holds only the louder half).
        let step = report.change_into(2).unwrap();
        assert!((step - 12.0).abs() < 0.5, "{:?}", report.cycle_lufs);
        assert!(report.change_into(3).unwrap().abs() < 0.5);
    }

    #[test]
    fn the_live_meter_reads_a_mono_tone_as_the_same_tone_in_stereo() {
        let stereo = sine(1_000.0, 0.25, 0.0, 4.0);
        let mono: Vec<f32> = stereo.iter().step_by(2).copied().collect();
        let mut meter = LiveMeter::new(RATE).unwrap();
        assert_eq!(meter.reading(), Loudness::default());
        for chunk in mono.chunks(1_000) {
            meter.feed(chunk);
        }
        let reading = meter.reading();
        let expected = MixReport::measure(&stereo, RATE, 0.0)
            .unwrap()
            .integrated_lufs;
        let short = reading.short_term_lufs.unwrap();
        assert!(
            (f64::from(short) - expected).abs() < 0.1,
            "{short} vs {expected}"
        );
        let peak = reading.true_peak_dbtp.unwrap();
        assert!((peak - 20.0 * 0.25f32.log10()).abs() < 0.2, "{peak}");
        // Silence: the peak hold lets go within the 3 s window.
        for _ in 0..8 {
            meter.feed(&vec![0.0; RATE as usize / 2]);
        }
        assert_eq!(meter.reading(), Loudness::default());
    }

    #[test]
    fn silence_has_no_loudness() {
        let report = MixReport::measure(&vec![0.0; RATE as usize * 8], RATE, 96_000.0).unwrap();
        assert!(report.integrated_lufs.is_infinite() || report.integrated_lufs < -70.0);
        assert_eq!(report.cycle_lufs, vec![None, None]);
        assert_eq!(report.band_shares, [0.0; BANDS.len()]);
    }
}
