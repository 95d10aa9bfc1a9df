//! The hand-made baseline of the loop-compatibility model: chroma (which pitch classes sound)
//! and onset envelope (when things start), compared by cosine similarity.

use super::mel::{CHROMA, FRAMES, MelAnalyser, N_MELS, SLICED_CHROMA, unit_length};

/// Length of the baseline's features: the chroma, then the onset envelope.
pub const BASELINE_LEN: usize = CHROMA + FRAMES;
/// Length of a feature vector: the baseline's, then the model's sliced chroma.
pub const FEATURE_LEN: usize = BASELINE_LEN + SLICED_CHROMA;

/// Features of a tempo-normalised loop at 16 kHz: the unit-length chroma of
/// [`MelAnalyser::log_mel_chroma`], then the unit-length mean-removed onset envelope (positive
/// log-mel flux per frame), then the sliced chroma the model reads
/// ([`MelAnalyser::log_mel_chromas`]).
pub fn features(analyser: &mut MelAnalyser, samples: &[f32]) -> Vec<f32> {
    let (mel, sliced, chroma) = analyser.log_mel_chromas(samples);
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
    unit_length(&mut onset);
    let mut out = chroma.to_vec();
    out.extend(onset);
    out.extend(sliced);
    out
}

/// Compatibility of two feature vectors: the mean of the chroma and the onset cosines
/// (higher fits better).
pub fn similarity(a: &[f32], b: &[f32]) -> f32 {
    let dot = |r: std::ops::Range<usize>| -> f32 { r.map(|i| a[i] * b[i]).sum() };
    0.5 * (dot(0..CHROMA) + dot(CHROMA..BASELINE_LEN))
}
