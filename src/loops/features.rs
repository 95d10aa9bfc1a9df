//! The hand-made baseline of the loop-compatibility model: chroma (which pitch classes sound)
//! and onset envelope (when things start), compared by cosine similarity.

use super::mel::{FRAMES, MelAnalyser, N_FFT, N_MELS, SAMPLE_RATE};

/// Length of a feature vector: 12 chroma bins + the onset envelope.
pub const FEATURE_LEN: usize = 12 + FRAMES;

/// Features of a tempo-normalised loop at 16 kHz: unit-length chroma, then the unit-length
/// mean-removed onset envelope (positive log-mel flux per frame).
pub fn features(analyser: &mut MelAnalyser, samples: &[f32]) -> Vec<f32> {
    let frames = analyser.power_frames(samples);
    let mut chroma = [0.0f32; 12];
    for power in &frames {
        for (k, p) in power.iter().enumerate().skip(1) {
            let f = k as f32 * SAMPLE_RATE as f32 / N_FFT as f32;
            if !(55.0..=4_000.0).contains(&f) {
                continue;
            }
            let pc = (12.0 * (f / 440.0).log2() + 69.0).round() as i64;
            chroma[pc.rem_euclid(12) as usize] += p.sqrt();
        }
    }
    let mel = analyser.log_mel(samples);
    let mut onset = vec![0.0f32; FRAMES];
    for (t, o) in onset.iter_mut().enumerate().skip(1) {
        *o = (0..N_MELS)
            .map(|m| (mel[m * FRAMES + t] - mel[m * FRAMES + t - 1]).max(0.0))
            .sum();
    }
    let mean = onset.iter().sum::<f32>() / FRAMES as f32;
    for o in &mut onset {
        *o -= mean;
    }
    let mut out = unit(chroma.to_vec());
    out.extend(unit(onset));
    out
}

fn unit(mut v: Vec<f32>) -> Vec<f32> {
    let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if n > 0.0 {
        for x in &mut v {
            *x /= n;
        }
    }
    v
}

/// Compatibility of two feature vectors: the mean of the chroma and the onset cosines
/// (higher fits better).
pub fn similarity(a: &[f32], b: &[f32]) -> f32 {
    let dot = |r: std::ops::Range<usize>| -> f32 { r.map(|i| a[i] * b[i]).sum() };
    0.5 * (dot(0..12) + dot(12..FEATURE_LEN))
}
