//! Measuring a rhythm model: reconstruction against two baselines, conditioning control and
//! diversity.
//!
//! JSON keys of [`EvalReport`] (stable; `ubiq eval rhythm --json` prints one such object):
//!
//! - `windows`: number of evaluated windows; `train_windows`: windows the baselines learn from.
//! - `model`, `baseline_mean`, `baseline_nearest`: each a [`Reconstruction`] with `precision`,
//!   `recall`, `f1` (hits at threshold 0.5), `velocity_mae`, `offset_mae` (on true hits) and
//!   `kl` (mean KL per window; `null` for the baselines).
//! - `conditioning`: `kick_spearman`, `hats_spearman` (requested level vs generated count over a
//!   9 × 9 latent grid on −2..2 × 7 levels on −1.5..1.5, the other condition held at 0) and
//!   `points` (567).
//! - `diversity`: `samples` (1,000), `distinct_share` (share of distinct hit grids) and
//!   `kick_downbeat_share` (share with a kick on step 0); each sample draws z and both
//!   conditions from the unit Gaussian and has its own variation seed (`seed + i`).

use std::collections::HashSet;

use serde::Serialize;

use super::infer::{Conditions, DecodeOptions, Decoded, RhythmModel};
use super::model::{CELLS, LATENT, counts};
use crate::model::rng::Rng;
use crate::pattern::{DrumPattern, STEPS, Voice};

/// Hit, velocity and offset errors of one predictor.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Reconstruction {
    /// Hit precision.
    pub precision: f64,
    /// Hit recall.
    pub recall: f64,
    /// Hit F1.
    pub f1: f64,
    /// Mean absolute velocity error on true hits.
    pub velocity_mae: f64,
    /// Mean absolute offset error (in steps) on true hits.
    pub offset_mae: f64,
    /// Mean KL divergence per window (the VAE only).
    pub kl: Option<f64>,
}

/// Conditioning control.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Conditioning {
    /// Spearman correlation of requested kick level and generated kick count.
    pub kick_spearman: f64,
    /// Spearman correlation of requested hats level and generated hi-hat count.
    pub hats_spearman: f64,
    /// Decoded points per condition.
    pub points: usize,
}

/// Diversity of samples.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Diversity {
    /// Number of samples.
    pub samples: usize,
    /// Share of distinct hit grids.
    pub distinct_share: f64,
    /// Share with a kick on the first step.
    pub kick_downbeat_share: f64,
}

/// Everything `ubiq eval rhythm` measures.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EvalReport {
    /// Evaluated windows.
    pub windows: usize,
    /// Windows the baselines were built from.
    pub train_windows: usize,
    /// The VAE's reconstruction (latent means, true conditions).
    pub model: Reconstruction,
    /// The training set's mean pattern, thresholded at 0.5.
    pub baseline_mean: Reconstruction,
    /// The training pattern nearest in (kick count, hats count).
    pub baseline_nearest: Reconstruction,
    /// Conditioning control.
    pub conditioning: Conditioning,
    /// Diversity.
    pub diversity: Diversity,
}

#[derive(Default)]
struct Tally {
    tp: u64,
    fp: u64,
    fn_: u64,
    true_hits: u64,
    velocity_err: f64,
    offset_err: f64,
}

impl Tally {
    /// Adds one window: predicted hit flags / velocities / offsets per cell against `truth`.
    fn add(&mut self, truth: &DrumPattern, hit: impl Fn(usize) -> bool, vel: &[f32], off: &[f32]) {
        for voice in Voice::ALL {
            for (step, cell) in truth.row(voice).iter().enumerate() {
                let i = voice.index() * STEPS + step;
                match (cell.hit, hit(i)) {
                    (true, true) => self.tp += 1,
                    (false, true) => self.fp += 1,
                    (true, false) => self.fn_ += 1,
                    (false, false) => {}
                }
                if cell.hit {
                    self.true_hits += 1;
                    self.velocity_err += f64::from((vel[i] - cell.velocity).abs());
                    self.offset_err += f64::from((off[i] - cell.offset).abs());
                }
            }
        }
    }

    fn finish(&self, kl: Option<f64>) -> Reconstruction {
        let ratio = |a: u64, b: u64| if b == 0 { 0.0 } else { a as f64 / b as f64 };
        let precision = ratio(self.tp, self.tp + self.fp);
        let recall = ratio(self.tp, self.tp + self.fn_);
        let f1 = if precision + recall > 0.0 {
            2.0 * precision * recall / (precision + recall)
        } else {
            0.0
        };
        let n = self.true_hits.max(1) as f64;
        Reconstruction {
            precision,
            recall,
            f1,
            velocity_mae: self.velocity_err / n,
            offset_mae: self.offset_err / n,
            kl,
        }
    }
}

/// Per-cell features of a pattern: hit flags, velocities, offsets.
fn cells(p: &DrumPattern) -> (Vec<bool>, Vec<f32>, Vec<f32>) {
    let mut hit = vec![false; CELLS];
    let mut vel = vec![0.0; CELLS];
    let mut off = vec![0.0; CELLS];
    for voice in Voice::ALL {
        for (step, c) in p.row(voice).iter().enumerate() {
            let i = voice.index() * STEPS + step;
            hit[i] = c.hit;
            vel[i] = c.velocity;
            off[i] = c.offset;
        }
    }
    (hit, vel, off)
}

/// The VAE's reconstruction of `windows`: encode to the latent mean, decode under the window's
/// own conditions, hits at probability > 0.5.
pub fn reconstruction(model: &RhythmModel, windows: &[DrumPattern]) -> Reconstruction {
    let mut tally = Tally::default();
    let mut kl_sum = 0.0;
    for chunk in windows.chunks(1024) {
        let (mu, log_var) = model.encode_batch(chunk);
        let points: Vec<([f32; LATENT], Conditions)> = chunk
            .iter()
            .zip(&mu)
            .map(|(p, z)| (*z, model.conditions_of(p)))
            .collect();
        let decoded: Vec<Decoded> = model.decode_raw(&points);
        for ((p, d), (m, lv)) in chunk.iter().zip(&decoded).zip(mu.iter().zip(&log_var)) {
            tally.add(p, |i| d.probability[i] > 0.5, &d.velocity, &d.offset);
            for k in 0..LATENT {
                kl_sum += -0.5 * f64::from(1.0 + lv[k] - m[k] * m[k] - lv[k].exp());
            }
        }
    }
    tally.finish(Some(kl_sum / windows.len().max(1) as f64))
}

/// Baseline: the training set's mean pattern (hit where more than half the windows hit; mean
/// velocity and offset of the hits in each cell).
pub fn baseline_mean(train: &[DrumPattern], windows: &[DrumPattern]) -> Reconstruction {
    let mut hits = vec![0u64; CELLS];
    let mut vel = vec![0.0f64; CELLS];
    let mut off = vec![0.0f64; CELLS];
    for p in train {
        let (h, v, o) = cells(p);
        for i in 0..CELLS {
            if h[i] {
                hits[i] += 1;
                vel[i] += f64::from(v[i]);
                off[i] += f64::from(o[i]);
            }
        }
    }
    let n = train.len().max(1) as f64;
    let mean_hit: Vec<bool> = hits.iter().map(|&h| h as f64 / n > 0.5).collect();
    let mean_vel: Vec<f32> = (0..CELLS)
        .map(|i| (vel[i] / hits[i].max(1) as f64) as f32)
        .collect();
    let mean_off: Vec<f32> = (0..CELLS)
        .map(|i| (off[i] / hits[i].max(1) as f64) as f32)
        .collect();
    let mut tally = Tally::default();
    for p in windows {
        tally.add(p, |i| mean_hit[i], &mean_vel, &mean_off);
    }
    tally.finish(None)
}

/// Baseline: for each window, the first training window with the nearest (kick count, hats
/// count).
pub fn baseline_nearest(train: &[DrumPattern], windows: &[DrumPattern]) -> Reconstruction {
    let keyed: Vec<(i64, i64)> = train
        .iter()
        .map(|p| {
            let (k, h) = counts(p);
            (k as i64, h as i64)
        })
        .collect();
    let mut tally = Tally::default();
    for p in windows {
        let (k, h) = counts(p);
        let (k, h) = (k as i64, h as i64);
        let nearest = keyed
            .iter()
            .enumerate()
            .min_by_key(|(_, (tk, th))| (tk - k).pow(2) + (th - h).pow(2))
            .map(|(i, _)| i);
        let Some(j) = nearest else { continue };
        let (hit, vel, off) = cells(&train[j]);
        tally.add(p, |i| hit[i], &vel, &off);
    }
    tally.finish(None)
}

/// Evenly spaced values from `lo` to `hi`.
fn levels(n: usize, lo: f32, hi: f32) -> Vec<f32> {
    (0..n)
        .map(|i| lo + (hi - lo) * i as f32 / (n - 1) as f32)
        .collect()
}

/// Conditioning control: Spearman correlation between requested and generated counts.
pub fn conditioning(model: &RhythmModel, seed: u64) -> Conditioning {
    let grid = levels(9, -2.0, 2.0);
    let requested = levels(7, -1.5, 1.5);
    let options = DecodeOptions {
        seed,
        ..DecodeOptions::default()
    };
    let measure = |kick: bool| {
        let mut points = Vec::new();
        for &level in &requested {
            for &x in &grid {
                for &y in &grid {
                    let c = if kick {
                        Conditions {
                            kick: level,
                            hats: 0.0,
                        }
                    } else {
                        Conditions {
                            kick: 0.0,
                            hats: level,
                        }
                    };
                    points.push(([x, y], c));
                }
            }
        }
        let generated: Vec<f64> = model
            .decode_batch(&points, &options)
            .iter()
            .map(|p| {
                let (k, h) = counts(p);
                if kick { k as f64 } else { h as f64 }
            })
            .collect();
        let asked: Vec<f64> = points
            .iter()
            .map(|(_, c)| f64::from(if kick { c.kick } else { c.hats }))
            .collect();
        (spearman(&asked, &generated), points.len())
    };
    let (kick_spearman, points) = measure(true);
    let (hats_spearman, _) = measure(false);
    Conditioning {
        kick_spearman,
        hats_spearman,
        points,
    }
}

/// Diversity of `samples` patterns decoded at random latent points and conditions.
pub fn diversity(model: &RhythmModel, samples: usize, seed: u64) -> Diversity {
    let mut rng = Rng::new(seed);
    let points: Vec<([f32; LATENT], Conditions)> = (0..samples)
        .map(|_| {
            (
                [rng.normal(), rng.normal()],
                Conditions {
                    kick: rng.normal(),
                    hats: rng.normal(),
                },
            )
        })
        .collect();
    let patterns: Vec<DrumPattern> = model
        .decode_raw(&points)
        .iter()
        .enumerate()
        .map(|(i, d)| {
            d.to_pattern(&DecodeOptions {
                seed: seed.wrapping_add(i as u64),
                ..DecodeOptions::default()
            })
        })
        .collect();
    let distinct: HashSet<Vec<bool>> = patterns.iter().map(|p| cells(p).0).collect();
    let downbeat = patterns
        .iter()
        .filter(|p| p.get(Voice::Kick, 0).hit)
        .count();
    let n = samples.max(1) as f64;
    Diversity {
        samples,
        distinct_share: distinct.len() as f64 / n,
        kick_downbeat_share: downbeat as f64 / n,
    }
}

/// The full evaluation of `model` on `windows`, with baselines built from `train`.
pub fn evaluate(
    model: &RhythmModel,
    train: &[DrumPattern],
    windows: &[DrumPattern],
    seed: u64,
) -> EvalReport {
    EvalReport {
        windows: windows.len(),
        train_windows: train.len(),
        model: reconstruction(model, windows),
        baseline_mean: baseline_mean(train, windows),
        baseline_nearest: baseline_nearest(train, windows),
        conditioning: conditioning(model, seed),
        diversity: diversity(model, 1000, seed),
    }
}

/// Average ranks (ties share the mean of their positions), 1-based.
fn ranks(values: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|&a, &b| values[a].total_cmp(&values[b]));
    let mut out = vec![0.0; values.len()];
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        while j + 1 < order.len() && values[order[j + 1]] == values[order[i]] {
            j += 1;
        }
        let rank = (i + j) as f64 / 2.0 + 1.0;
        for &k in &order[i..=j] {
            out[k] = rank;
        }
        i = j + 1;
    }
    out
}

/// Spearman rank correlation (Pearson on average ranks); 0 when either side is constant.
pub fn spearman(a: &[f64], b: &[f64]) -> f64 {
    let (ra, rb) = (ranks(a), ranks(b));
    let n = ra.len().max(1) as f64;
    let (ma, mb) = (ra.iter().sum::<f64>() / n, rb.iter().sum::<f64>() / n);
    let (mut cov, mut va, mut vb) = (0.0, 0.0, 0.0);
    for (x, y) in ra.iter().zip(&rb) {
        cov += (x - ma) * (y - mb);
        va += (x - ma) * (x - ma);
        vb += (y - mb) * (y - mb);
    }
    if va == 0.0 || vb == 0.0 {
        0.0
    } else {
        cov / (va * vb).sqrt()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spearman_handles_ties_and_direction() {
        let a = [1.0, 2.0, 3.0, 4.0];
        assert!((spearman(&a, &[10.0, 20.0, 30.0, 40.0]) - 1.0).abs() < 1e-12);
        assert!((spearman(&a, &[4.0, 3.0, 2.0, 1.0]) + 1.0).abs() < 1e-12);
        assert_eq!(ranks(&[5.0, 1.0, 5.0]), vec![2.5, 1.0, 2.5]);
        assert_eq!(spearman(&a, &[1.0, 1.0, 1.0, 1.0]), 0.0);
    }
}
