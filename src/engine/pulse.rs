//! What a listener hears of a rendered set's time and level: the tempo a simple beat tracker
//! finds in the audio (does the pulse come through the mix?) and the set's RMS level. Used by
//! `ubiq eval set` beside what the set played.

use realfft::RealFftPlanner;

use crate::loops::mel::{N_FFT, hann};

/// Analysis frame, in samples: the loop analysis's FFT, with its Hann window.
const FRAME: usize = N_FFT;
/// Hop between frames, in samples.
const HOP: usize = 512;
/// Tempi the tracker considers, in BPM.
const TEMPI: std::ops::RangeInclusive<u32> = 70..=180;
/// Centre of the tracker's tempo preference (BPM) and its width in octaves, as listeners and
/// beat trackers lean towards about 120 BPM.
const PREFERRED: (f32, f32) = (120.0, 0.9);

/// The tempo (BPM, 70–180) of the strongest periodicity in the onsets of interleaved stereo
/// `samples` at `rate`: the autocorrelation of the spectral flux (the rise of log magnitude,
/// summed over frequency, frame to frame), weighted towards 120 BPM. None for audio shorter
/// than a few seconds.
pub fn pulse_bpm(samples: &[f32], rate: u32) -> Option<f32> {
    let mono: Vec<f32> = samples
        .chunks_exact(2)
        .map(|f| 0.5 * (f[0] + f[1]))
        .collect();
    let fps = rate as f32 / HOP as f32;
    let longest_lag = (fps * 60.0 / *TEMPI.start() as f32).ceil() as usize + 1;
    let frames = mono.len().saturating_sub(FRAME) / HOP;
    if frames < 4 * longest_lag {
        return None;
    }
    let mut planner = RealFftPlanner::<f32>::new();
    let fft = planner.plan_fft_forward(FRAME);
    let window = hann();
    let mut input = fft.make_input_vec();
    let mut spectrum = fft.make_output_vec();
    let mut before = vec![0.0f32; spectrum.len()];
    let mut flux = Vec::with_capacity(frames);
    for k in 0..frames {
        let at = k * HOP;
        for ((x, s), w) in input.iter_mut().zip(&mono[at..at + FRAME]).zip(&window) {
            *x = s * w;
        }
        fft.process(&mut input, &mut spectrum).ok()?;
        let mut rise = 0.0;
        for (c, b) in spectrum.iter().zip(before.iter_mut()) {
            let now = c.norm().ln_1p();
            if k > 0 {
                rise += (now - *b).max(0.0);
            }
            *b = now;
        }
        flux.push(rise);
    }
    let mean = flux.iter().sum::<f32>() / flux.len() as f32;
    for v in &mut flux {
        *v -= mean;
    }
    let ac: Vec<f32> = (0..=longest_lag)
        .map(|lag| flux.iter().zip(&flux[lag..]).map(|(a, b)| a * b).sum())
        .collect();
    let at_lag = |lag: f32| {
        let i = lag.floor() as usize;
        let t = lag - i as f32;
        ac[i] * (1.0 - t) + ac[(i + 1).min(ac.len() - 1)] * t
    };
    TEMPI
        .map(|bpm| {
            let bpm = bpm as f32;
            let prior = (-0.5 * ((bpm / PREFERRED.0).log2() / PREFERRED.1).powi(2)).exp();
            (bpm, at_lag(fps * 60.0 / bpm) * prior)
        })
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(bpm, _)| bpm)
}

/// RMS level of interleaved samples in dBFS (−∞ for silence).
pub fn rms_dbfs(samples: &[f32]) -> f64 {
    let n = samples.len().max(1) as f64;
    let power = samples.iter().map(|&s| f64::from(s).powi(2)).sum::<f64>() / n;
    10.0 * power.log10()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A click of decaying noise on every beat at `bpm`, with softer offbeat hats.
    fn clicks(bpm: f32, seconds: f32, rate: u32) -> Vec<f32> {
        let beat = (rate as f32 * 60.0 / bpm) as usize;
        let mut state = 1u32;
        let n = (seconds * rate as f32) as usize;
        let mut out = Vec::with_capacity(2 * n);
        for i in 0..n {
            state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            let noise = (state >> 8) as f32 / (1u32 << 24) as f32 - 0.5;
            let t = (i % beat) as f32 / rate as f32;
            let off = ((i + beat / 2) % beat) as f32 / rate as f32;
            let s = noise * ((-t * 40.0).exp() + 0.3 * (-off * 80.0).exp());
            out.extend([s, s]);
        }
        out
    }

    #[test]
    fn the_tracker_finds_the_beat_of_a_click_track() {
        for bpm in [96.0, 122.0, 140.0] {
            let found = pulse_bpm(&clicks(bpm, 20.0, 48_000), 48_000).unwrap();
            assert!((found - bpm).abs() <= 1.5, "{bpm} BPM heard as {found}");
        }
        assert_eq!(pulse_bpm(&clicks(120.0, 1.0, 48_000), 48_000), None);
    }

    #[test]
    fn a_full_scale_sine_is_three_db_below_full_scale() {
        let sine: Vec<f32> = (0..48_000)
            .map(|i| (i as f32 * 0.05).sin())
            .flat_map(|s| [s, s])
            .collect();
        assert!((rms_dbfs(&sine) + 3.01).abs() < 0.05);
    }
}
