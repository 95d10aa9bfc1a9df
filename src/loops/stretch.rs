//! Pitch-keeping time-stretch of loops by WSOLA (waveform-similarity overlap-add).
//!
//! Hann-windowed grains of about 46 ms are laid down every half grain in the output; each
//! grain is read from the input near its nominal position (output time × speed), shifted by
//! up to ±12 ms to the offset whose waveform best continues the previous grain
//! (cross-correlation). The loop is treated as cyclic, so the stretched loop joins seamlessly.
//! Pitch stays; only the duration changes. It runs on a worker thread whenever the tempo or the
//! loop changes, never on the audio thread.

/// Grain length in seconds.
pub const GRAIN_S: f32 = 0.046;
/// Largest shift of a grain from its nominal position, in seconds.
pub const TOLERANCE_S: f32 = 0.012;

/// Stretches the cyclic loop `input` (at `sample_rate`) to exactly `frames` samples, keeping
/// its pitch.
pub fn wsola(input: &[f32], frames: usize, sample_rate: u32) -> Vec<f32> {
    let n = input.len();
    if n == 0 || frames == 0 {
        return vec![0.0; frames];
    }
    if n == frames {
        return input.to_vec();
    }
    let grain = ((sample_rate as f32 * GRAIN_S) as usize / 2 * 2).clamp(16, n.max(16));
    let hop = grain / 2;
    let tolerance = (sample_rate as f32 * TOLERANCE_S) as isize;
    let speed = n as f64 / frames as f64;
    let window: Vec<f32> = (0..grain)
        .map(|i| 0.5 - 0.5 * (std::f32::consts::TAU * i as f32 / grain as f32).cos())
        .collect();
    let at = |i: isize| input[i.rem_euclid(n as isize) as usize];
    let mut out = vec![0.0f32; frames + grain];
    let mut weight = vec![0.0f32; frames + grain];
    let mut previous: isize = 0;
    let mut k = 0usize;
    while k * hop < frames {
        let nominal = (k as f64 * hop as f64 * speed).round() as isize;
        let start = if k == 0 {
            0
        } else {
            // The natural continuation of the previous grain, to be matched.
            let target = previous + hop as isize;
            let mut best = (f32::NEG_INFINITY, nominal);
            let mut delta = -tolerance;
            while delta <= tolerance {
                let cand = nominal + delta;
                let mut corr = 0.0f32;
                let mut j = 0;
                while j < hop {
                    corr += at(cand + j as isize) * at(target + j as isize);
                    j += 2;
                }
                if corr > best.0 {
                    best = (corr, cand);
                }
                delta += 2;
            }
            best.1
        };
        let base = k * hop;
        for (j, w) in window.iter().enumerate() {
            out[base + j] += w * at(start + j as isize);
            weight[base + j] += w;
        }
        previous = start;
        k += 1;
    }
    // Fold the tail past the end back onto the start: the loop is cyclic.
    for i in frames..frames + grain {
        out[i - frames] += out[i];
        weight[i - frames] += weight[i];
    }
    out.truncate(frames);
    for (o, w) in out.iter_mut().zip(&weight) {
        if *w > 1.0e-3 {
            *o /= w;
        }
    }
    out
}
