//! The log-mel spectrogram the loop model reads: a tempo-normalised two-bar loop (120 BPM,
//! 4 s) at 16 kHz becomes 128 mel bands × 32 frames (one frame a sixteenth note).

use std::sync::Arc;

use realfft::num_complex::Complex;
use realfft::{RealFftPlanner, RealToComplex};

use crate::fastmath::log10;

/// Sample rate of model input.
pub const SAMPLE_RATE: u32 = 16_000;
/// Seconds of a tempo-normalised two-bar loop (two bars of 4/4 at 120 BPM).
pub const LOOP_SECONDS: f32 = 4.0;
/// Samples of model input.
pub const LOOP_SAMPLES: usize = 64_000;
/// FFT size (128 ms, 7.8 Hz bins: fine enough for the narrow low bands).
pub const N_FFT: usize = 2_048;
/// Hop between frames (125 ms: a sixteenth note at 120 BPM).
pub const HOP: usize = 2_000;
/// Mel bands (about a semitone apart from 300 Hz up).
pub const N_MELS: usize = 128;
/// Frames.
pub const FRAMES: usize = 32;
/// Lowest band edge in Hz.
pub const F_MIN: f32 = 30.0;
/// Highest band edge in Hz.
pub const F_MAX: f32 = 8_000.0;
/// Power floor before the logarithm.
pub const FLOOR: f32 = 1.0e-10;
/// Pitch classes of the chroma.
pub const CHROMA: usize = 12;
/// Lowest and highest frequency counted in the chroma, in Hz.
pub const CHROMA_RANGE: std::ops::RangeInclusive<f32> = 55.0..=4_000.0;
/// Stretches of the loop the model's chroma is measured over, one after the other: half a
/// bar each, so that it says which pitch classes sound together (a bass note under a chord)
/// and not only which sound somewhere in the two bars.
pub const CHROMA_SLICES: usize = 4;
/// Values of the model's chroma: [`CHROMA`] per slice, slice-major.
pub const SLICED_CHROMA: usize = CHROMA_SLICES * CHROMA;
/// Length of a model input row: the standardised log-mel spectrogram (band-major), then the
/// chroma of each slice ([`SLICED_CHROMA`] values, unit length as a whole).
pub const INPUT_LEN: usize = N_MELS * FRAMES + SLICED_CHROMA;

/// Hz to mel (HTK formula).
pub fn hz_to_mel(hz: f32) -> f32 {
    2595.0 * (1.0 + hz / 700.0).log10()
}

/// Mel to Hz (HTK formula).
pub fn mel_to_hz(mel: f32) -> f32 {
    700.0 * (10f32.powf(mel / 2595.0) - 1.0)
}

/// Triangular mel filters over the `N_FFT / 2 + 1` bins: `N_MELS` rows of weights.
pub fn filterbank() -> Vec<Vec<f32>> {
    let bins = N_FFT / 2 + 1;
    let lo = hz_to_mel(F_MIN);
    let hi = hz_to_mel(F_MAX);
    let edges: Vec<f32> = (0..N_MELS + 2)
        .map(|i| mel_to_hz(lo + (hi - lo) * i as f32 / (N_MELS + 1) as f32))
        .collect();
    (0..N_MELS)
        .map(|m| {
            let (a, b, c) = (edges[m], edges[m + 1], edges[m + 2]);
            (0..bins)
                .map(|k| {
                    let f = k as f32 * SAMPLE_RATE as f32 / N_FFT as f32;
                    if f <= a || f >= c {
                        0.0
                    } else if f <= b {
                        (f - a) / (b - a)
                    } else {
                        (c - f) / (c - b)
                    }
                })
                .collect()
        })
        .collect()
}

/// The pitch class of FFT bin `k`, when the chroma counts it (see [`CHROMA_RANGE`]).
fn pitch_class(k: usize) -> Option<u8> {
    let f = k as f32 * SAMPLE_RATE as f32 / N_FFT as f32;
    (k > 0 && CHROMA_RANGE.contains(&f)).then(|| {
        let pc = (12.0 * (f / 440.0).log2() + 69.0).round() as i64;
        pc.rem_euclid(CHROMA as i64) as u8
    })
}

/// How many FFT bins the chroma gathers into each pitch class (a flat spectrum gives each
/// pitch class this much).
pub fn chroma_bins() -> [usize; CHROMA] {
    let mut counts = [0; CHROMA];
    for pc in (0..N_FFT / 2 + 1).filter_map(pitch_class) {
        counts[usize::from(pc)] += 1;
    }
    counts
}

/// Periodic Hann window of `N_FFT` samples.
pub fn hann() -> Vec<f32> {
    (0..N_FFT)
        .map(|i| 0.5 - 0.5 * (std::f32::consts::TAU * i as f32 / N_FFT as f32).cos())
        .collect()
}

/// Mel bands summed side by side (see [`BandGroup`]).
const GROUP: usize = 8;

/// [`GROUP`] adjacent mel filters, summed side by side: a band's sum over its bins is a chain
/// of dependent additions, and taking eight chains in step lets the CPU overlap them, where
/// one band after another waited on each addition. Each band still adds its bins in order
/// from zero, so the energies are the same bits as one band at a time.
struct BandGroup {
    /// Each band's first bin.
    first: [usize; GROUP],
    /// `weights[k][g]`: band g's weight of bin `first[g] + k`; zero past a band's last bin
    /// (power is never negative, so adding `0 × power` leaves a sum as it was).
    weights: Vec<[f32; GROUP]>,
}

impl BandGroup {
    /// Groups the rows of [`filterbank`].
    fn of(filterbank: &[Vec<f32>]) -> Vec<BandGroup> {
        filterbank
            .chunks(GROUP)
            .map(|rows| {
                let spans: Vec<(usize, &[f32])> = rows
                    .iter()
                    .map(|row| {
                        let first = row.iter().position(|w| *w > 0.0).unwrap_or(0);
                        let last = row.iter().rposition(|w| *w > 0.0).unwrap_or(first);
                        (first, &row[first..=last])
                    })
                    .collect();
                let len = spans.iter().map(|(_, w)| w.len()).max().unwrap_or(0);
                let mut group = BandGroup {
                    first: [0; GROUP],
                    weights: vec![[0.0; GROUP]; len],
                };
                for (g, (first, weights)) in spans.into_iter().enumerate() {
                    group.first[g] = first;
                    for (k, w) in weights.iter().enumerate() {
                        group.weights[k][g] = *w;
                    }
                }
                group
            })
            .collect()
    }

    /// Power bins the groups may read: the spectrum's, then zeros up to the longest reach.
    fn reach(groups: &[BandGroup]) -> usize {
        groups
            .iter()
            .flat_map(|g| g.first.iter().map(|f| f + g.weights.len()))
            .max()
            .unwrap_or(0)
            .max(N_FFT / 2 + 1)
    }

    /// The group's band energies of `power` (at least [`BandGroup::reach`] long).
    #[inline]
    fn energies(&self, power: &[f32], out: &mut [f32]) {
        let mut sums = [0.0f32; GROUP];
        for (k, weights) in self.weights.iter().enumerate() {
            for g in 0..GROUP {
                sums[g] += weights[g] * power[self.first[g] + k];
            }
        }
        out.copy_from_slice(&sums[..out.len()]);
    }
}

/// The chroma's bins by pitch class, summed side by side like [`BandGroup`]: adding each
/// bin's magnitude straight into its pitch class made every addition wait on the one before
/// through memory. Each pitch class still adds its bins in ascending order, so the sums are
/// the same bits.
struct ChromaBins {
    /// The bins that have a pitch class: `first..first + magnitudes`.
    first: usize,
    /// `lanes[k][pc]`: where pitch class pc's k-th bin is in the magnitudes (relative to
    /// `first`), or the zero kept past them once pc has no more bins (magnitudes are never
    /// negative and sums start at +0, so adding +0 leaves a sum as it was).
    lanes: Vec<[u16; CHROMA]>,
    /// Each counted bin's magnitude, then one zero.
    magnitudes: Vec<f32>,
}

impl ChromaBins {
    fn new() -> Self {
        let classes: Vec<(usize, u8)> = (0..N_FFT / 2 + 1)
            .filter_map(|k| pitch_class(k).map(|pc| (k, pc)))
            .collect();
        let first = classes.first().map_or(0, |c| c.0);
        let len = classes.last().map_or(0, |c| c.0 + 1 - first);
        let mut by_class: [Vec<u16>; CHROMA] = Default::default();
        for (k, pc) in classes {
            // At most N_FFT / 2 + 1 bins: they fit a u16.
            by_class[usize::from(pc)].push((k - first) as u16);
        }
        let depth = by_class.iter().map(Vec::len).max().unwrap_or(0);
        let lanes = (0..depth)
            .map(|k| std::array::from_fn(|pc| by_class[pc].get(k).copied().unwrap_or(len as u16)))
            .collect();
        ChromaBins {
            first,
            lanes,
            magnitudes: vec![0.0; len + 1],
        }
    }

    /// Adds the magnitudes of `power`'s counted bins to their pitch classes in `chroma`.
    #[inline]
    fn add(&mut self, power: &[f32], chroma: &mut [f32]) {
        let n = self.magnitudes.len() - 1;
        for (m, p) in self.magnitudes[..n].iter_mut().zip(&power[self.first..]) {
            *m = p.sqrt();
        }
        let mut sums = [0.0f32; CHROMA];
        sums.copy_from_slice(&chroma[..CHROMA]);
        for lane in &self.lanes {
            for (s, &k) in sums.iter_mut().zip(lane) {
                *s += self.magnitudes[usize::from(k)];
            }
        }
        chroma[..CHROMA].copy_from_slice(&sums);
    }
}

/// A planned log-mel analyser (reusable, one per thread).
pub struct MelAnalyser {
    fft: Arc<dyn RealToComplex<f32>>,
    window: Vec<f32>,
    /// The mel filters, [`GROUP`] bands at a time.
    bands: Vec<BandGroup>,
    /// The bins the chroma counts, by pitch class (see [`CHROMA_RANGE`]).
    chroma: ChromaBins,
    frame: Vec<f32>,
    spectrum: Vec<Complex<f32>>,
    scratch: Vec<Complex<f32>>,
}

impl std::fmt::Debug for MelAnalyser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MelAnalyser").finish_non_exhaustive()
    }
}

impl Default for MelAnalyser {
    fn default() -> Self {
        Self::new()
    }
}

impl MelAnalyser {
    /// Plans the FFT and builds the filters.
    pub fn new() -> Self {
        let fft = RealFftPlanner::<f32>::new().plan_fft_forward(N_FFT);
        let bands = BandGroup::of(&filterbank());
        MelAnalyser {
            chroma: ChromaBins::new(),
            spectrum: fft.make_output_vec(),
            scratch: fft.make_scratch_vec(),
            frame: fft.make_input_vec(),
            fft,
            window: hann(),
            bands,
        }
    }

    /// The power spectrum of frame `t` of `samples` into `power` (`N_FFT / 2 + 1` bins).
    fn power_frame(&mut self, samples: &[f32], t: usize, power: &mut [f32]) {
        let start = (t * HOP).min(samples.len());
        let there = &samples[start..samples.len().min(start + N_FFT)];
        let (head, tail) = self.frame.split_at_mut(there.len());
        for ((x, s), w) in head.iter_mut().zip(there).zip(&self.window) {
            *x = s * w;
        }
        tail.fill(0.0);
        // Lengths come from the plan itself, so the transform cannot fail.
        let _ =
            self.fft
                .process_with_scratch(&mut self.frame, &mut self.spectrum, &mut self.scratch);
        for (p, c) in power.iter_mut().zip(&self.spectrum) {
            *p = c.norm_sqr();
        }
    }

    /// Log-mel power in dB, band-major: `[N_MELS × FRAMES]` (`band × FRAMES + frame`).
    pub fn log_mel(&mut self, samples: &[f32]) -> Vec<f32> {
        self.analyse(samples, None)
    }

    /// [`MelAnalyser::log_mel`] and the chroma of `samples` from the same transforms: per
    /// pitch class, the summed magnitude of the bins in [`CHROMA_RANGE`] nearest to it,
    /// scaled to unit length (zeros for silence).
    pub fn log_mel_chroma(&mut self, samples: &[f32]) -> (Vec<f32>, [f32; CHROMA]) {
        let (mel, _, chroma) = self.log_mel_chromas(samples);
        (mel, chroma)
    }

    /// [`MelAnalyser::log_mel_chroma`] with the chroma of each of the [`CHROMA_SLICES`]
    /// slices beside it (slice-major, unit length as a whole): mel, sliced, summed.
    pub fn log_mel_chromas(
        &mut self,
        samples: &[f32],
    ) -> (Vec<f32>, [f32; SLICED_CHROMA], [f32; CHROMA]) {
        let mut sliced = [0.0; SLICED_CHROMA];
        let mel = self.analyse(samples, Some(&mut sliced));
        let mut chroma = [0.0; CHROMA];
        for slice in sliced.chunks_exact(CHROMA) {
            chroma.iter_mut().zip(slice).for_each(|(c, s)| *c += s);
        }
        unit_length(&mut sliced);
        unit_length(&mut chroma);
        (mel, sliced, chroma)
    }

    fn analyse(
        &mut self,
        samples: &[f32],
        mut chroma: Option<&mut [f32; SLICED_CHROMA]>,
    ) -> Vec<f32> {
        // The spectrum's bins, then zeros the last band groups may read.
        let mut power = vec![0.0f32; BandGroup::reach(&self.bands)];
        let mut energy = [0.0f32; N_MELS];
        let mut out = vec![0.0f32; N_MELS * FRAMES];
        for t in 0..FRAMES {
            self.power_frame(samples, t, &mut power[..N_FFT / 2 + 1]);
            if let Some(chroma) = chroma.as_deref_mut() {
                let slice = &mut chroma[t * CHROMA_SLICES / FRAMES * CHROMA..][..CHROMA];
                self.chroma.add(&power, slice);
            }
            for (out, group) in energy.chunks_mut(GROUP).zip(&self.bands) {
                group.energies(&power, out);
            }
            for e in &mut energy {
                *e = 10.0 * log10(*e + FLOOR);
            }
            for (m, e) in energy.iter().enumerate() {
                out[m * FRAMES + t] = *e;
            }
        }
        out
    }

    /// Model input, `INPUT_LEN` values: the log-mel spectrogram standardised to zero mean and
    /// unit variance (the loop's loudness does not matter), then the sliced chroma.
    pub fn model_input(&mut self, samples: &[f32]) -> Vec<f32> {
        let (mel, chroma, _) = self.log_mel_chromas(samples);
        let mut input = standardise(mel);
        input.extend_from_slice(&chroma);
        input
    }
}

/// Scales `v` to unit length (a zero vector stays zero).
pub fn unit_length(v: &mut [f32]) {
    let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if n > 0.0 {
        v.iter_mut().for_each(|x| *x /= n);
    }
}

/// Zero mean, unit variance (a constant input becomes zeros).
pub fn standardise(mut x: Vec<f32>) -> Vec<f32> {
    let n = x.len().max(1) as f32;
    let mean = x.iter().sum::<f32>() / n;
    let var = x.iter().map(|v| (v - mean) * (v - mean)).sum::<f32>() / n;
    let scale = 1.0 / (var.sqrt() + 1.0e-3);
    for v in &mut x {
        *v = (*v - mean) * scale;
    }
    x
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The strongest pitch class of a run of 12.
    fn top(chroma: &[f32]) -> usize {
        (0..CHROMA)
            .max_by(|&a, &b| chroma[a].total_cmp(&chroma[b]))
            .unwrap_or(0)
    }

    #[test]
    fn band_groups_sum_the_same_bits_as_one_band_at_a_time() {
        let bank = filterbank();
        let groups = BandGroup::of(&bank);
        // A spread of powers over many magnitudes, so rounding shows if the order changed.
        let mut power: Vec<f32> = (0..N_FFT / 2 + 1)
            .map(|k| ((k * 7919) % 1013) as f32 * 10f32.powi((k % 9) as i32 - 4))
            .collect();
        power.resize(BandGroup::reach(&groups), 0.0);
        let mut grouped = vec![0.0f32; N_MELS];
        for (out, group) in grouped.chunks_mut(GROUP).zip(&groups) {
            group.energies(&power, out);
        }
        for (band, row) in bank.iter().enumerate() {
            let alone: f32 = row.iter().zip(&power).map(|(w, p)| w * p).sum();
            assert_eq!(grouped[band].to_bits(), alone.to_bits(), "band {band}");
        }
    }

    #[test]
    fn chroma_lanes_sum_the_same_bits_as_one_bin_at_a_time() {
        let power: Vec<f32> = (0..N_FFT / 2 + 1)
            .map(|k| ((k * 7919) % 1013) as f32 * 10f32.powi((k % 9) as i32 - 4))
            .collect();
        let start: [f32; CHROMA] = std::array::from_fn(|pc| pc as f32 * 0.37);
        let mut alone = start;
        for (k, p) in power.iter().enumerate() {
            if let Some(pc) = pitch_class(k) {
                alone[usize::from(pc)] += p.sqrt();
            }
        }
        let mut lanes = start;
        ChromaBins::new().add(&power, &mut lanes);
        assert_eq!(lanes.map(f32::to_bits), alone.map(f32::to_bits));
        assert_ne!(lanes, start);
    }

    #[test]
    fn the_sliced_chroma_follows_the_notes_half_bar_by_half_bar() {
        // A (440 Hz) for the first bar, then G (392 Hz): at 120 BPM a half bar is 1 s.
        let rate = SAMPLE_RATE as f32;
        let samples: Vec<f32> = (0..LOOP_SAMPLES)
            .map(|n| {
                let hz = if n < LOOP_SAMPLES / 2 { 440.0 } else { 392.0 };
                (std::f32::consts::TAU * hz * n as f32 / rate).sin()
            })
            .collect();
        let mut analyser = MelAnalyser::new();
        let (_, sliced, summed) = analyser.log_mel_chromas(&samples);
        let tops: Vec<usize> = sliced.chunks_exact(CHROMA).map(top).collect();
        assert_eq!(tops, [9, 9, 7, 7]);
        let length = |v: &[f32]| v.iter().map(|x| x * x).sum::<f32>().sqrt();
        assert!((length(&sliced) - 1.0).abs() < 1e-5);
        assert!(summed[9] > 0.5 && summed[7] > 0.5, "{summed:?}");
        let input = analyser.model_input(&samples);
        assert_eq!(&input[N_MELS * FRAMES..], &sliced[..]);
    }
}
