//! Measuring basslines against the ones the songs play: per-step token accuracy, note onsets
//! (precision, recall, F1: a bass note starts on the same step), pitch classes on matched
//! onsets, the share of notes in the scale and of empty lines; for the model and for three
//! baselines (root on every kick, root on every 8th note, the line of the nearest training
//! drum pattern).

use serde::Serialize;

use super::infer::{BassModel, TranslateOptions};
use super::model::tokens_of;
use super::style::{LineStats, line_stats};
use crate::pattern::{BassStep, Bassline, DrumPattern, Key, STEPS, Scale, Voice};

/// Velocity of the root baselines' notes (a plain, unaccented note).
const BASELINE_VELOCITY: f32 = 0.75;

/// One drum+bass pair to measure on.
#[derive(Debug, Clone, PartialEq)]
pub struct EvalPair {
    /// The drums.
    pub drums: DrumPattern,
    /// The bassline the song plays.
    pub bass: Bassline,
    /// The key.
    pub key: Key,
    /// The scale.
    pub scale: Scale,
}

/// The measures of a set of generated lines against the true ones.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct Metrics {
    /// Share of steps whose token (rest, hold, note with its pitch) is the true one.
    pub token_accuracy: f64,
    /// Share of generated note onsets where the song's bass starts a note too.
    pub onset_precision: f64,
    /// Share of the song's note onsets the generated line also starts.
    pub onset_recall: f64,
    /// Harmonic mean of onset precision and recall.
    pub onset_f1: f64,
    /// Share of matched onsets with the true pitch class.
    pub pitch_class_accuracy: f64,
    /// Share of generated notes in the pair's scale.
    pub in_scale_rate: f64,
    /// Share of generated lines without a note.
    pub empty_share: f64,
}

/// Tallies behind [`Metrics`].
#[derive(Debug, Clone, Copy, Default)]
struct Tally {
    steps: usize,
    tokens_right: usize,
    predicted_onsets: usize,
    true_onsets: usize,
    matched: usize,
    pitch_class_right: usize,
    in_scale: usize,
    lines: usize,
    empty: usize,
}

impl Tally {
    fn add(&mut self, truth: &Bassline, predicted: &Bassline, scale: Scale) {
        let (t, _) = tokens_of(truth);
        let (p, _) = tokens_of(predicted);
        self.steps += STEPS;
        self.tokens_right += t.iter().zip(&p).filter(|(a, b)| a == b).count();
        self.lines += 1;
        if predicted.note_count() == 0 {
            self.empty += 1;
        }
        for (a, b) in truth.steps.iter().zip(&predicted.steps) {
            let true_pitch = note_pitch(a);
            let predicted_pitch = note_pitch(b);
            if let Some(pp) = predicted_pitch {
                self.predicted_onsets += 1;
                if scale.contains(i32::from(pp)) {
                    self.in_scale += 1;
                }
            }
            if true_pitch.is_some() {
                self.true_onsets += 1;
            }
            if let (Some(tp), Some(pp)) = (true_pitch, predicted_pitch) {
                self.matched += 1;
                if i32::from(tp).rem_euclid(12) == i32::from(pp).rem_euclid(12) {
                    self.pitch_class_right += 1;
                }
            }
        }
    }

    fn metrics(&self) -> Metrics {
        let ratio = |a: usize, b: usize| if b == 0 { 0.0 } else { a as f64 / b as f64 };
        let precision = ratio(self.matched, self.predicted_onsets);
        let recall = ratio(self.matched, self.true_onsets);
        Metrics {
            token_accuracy: ratio(self.tokens_right, self.steps),
            onset_precision: precision,
            onset_recall: recall,
            onset_f1: if precision + recall > 0.0 {
                2.0 * precision * recall / (precision + recall)
            } else {
                0.0
            },
            pitch_class_accuracy: ratio(self.pitch_class_right, self.matched),
            in_scale_rate: ratio(self.in_scale, self.predicted_onsets),
            empty_share: ratio(self.empty, self.lines),
        }
    }
}

fn note_pitch(step: &BassStep) -> Option<i8> {
    match step {
        BassStep::Note { pitch, .. } => Some(*pitch),
        _ => None,
    }
}

/// Measures each predicted line against its true one (in the true line's scale).
pub fn measure_lines<'a>(
    lines: impl IntoIterator<Item = (&'a Bassline, &'a Bassline, Scale)>,
) -> Metrics {
    let mut tally = Tally::default();
    for (truth, predicted, scale) in lines {
        tally.add(truth, predicted, scale);
    }
    tally.metrics()
}

/// Measures `predicted` lines against the pairs' true ones.
pub fn measure(pairs: &[EvalPair], predicted: &[Bassline]) -> Metrics {
    measure_lines(
        pairs
            .iter()
            .zip(predicted)
            .map(|(pair, line)| (&pair.bass, line, pair.scale)),
    )
}

/// The baselines' shared knowledge of the training data.
#[derive(Debug, Clone)]
pub struct Baselines {
    root: i8,
    nearest: Vec<([u64; 5], Bassline)>,
}

/// The hits of a pattern as 288 bits (voice-major).
fn hit_bits(pattern: &DrumPattern) -> [u64; 5] {
    let mut bits = [0u64; 5];
    for voice in Voice::ALL {
        for (step, cell) in pattern.row(voice).iter().enumerate() {
            if cell.hit {
                let i = voice.index() * STEPS + step;
                bits[i / 64] |= 1 << (i % 64);
            }
        }
    }
    bits
}

impl Baselines {
    /// Learns from the training pairs: the octave the tonic is most often played in, and
    /// every drum pattern with its line.
    pub fn new(train: &[EvalPair]) -> Self {
        let mut octaves = [0usize; 4];
        for pair in train {
            for p in pair.bass.pitches() {
                if p.rem_euclid(12) == 0 && (-12..36).contains(&p) {
                    octaves[((p + 12) / 12) as usize] += 1;
                }
            }
        }
        let best = (0..4)
            .max_by_key(|&i| (octaves[i], usize::MAX - i))
            .unwrap_or(1);
        Baselines {
            root: best as i8 * 12 - 12,
            nearest: train.iter().map(|p| (hit_bits(&p.drums), p.bass)).collect(),
        }
    }

    /// The tonic's pitch the root baselines play (the training set's commonest octave).
    pub fn root_pitch(&self) -> i8 {
        self.root
    }

    fn root(&self) -> BassStep {
        BassStep::Note {
            pitch: self.root,
            velocity: BASELINE_VELOCITY,
        }
    }

    /// The root on every kick.
    pub fn root_on_kicks(&self, drums: &DrumPattern) -> Bassline {
        let mut line = Bassline::default();
        for (step, cell) in drums.row(Voice::Kick).iter().enumerate() {
            if cell.hit {
                line.steps[step] = self.root();
            }
        }
        line
    }

    /// The root on every 8th note, each held for its second 16th.
    pub fn root_on_eighths(&self) -> Bassline {
        let mut line = Bassline::default();
        for (step, slot) in line.steps.iter_mut().enumerate() {
            *slot = if step % 2 == 0 {
                self.root()
            } else {
                BassStep::Hold
            };
        }
        line
    }

    /// The line of the training pattern with the fewest differing hits (the first on ties).
    pub fn nearest(&self, drums: &DrumPattern) -> Bassline {
        let bits = hit_bits(drums);
        self.nearest
            .iter()
            .min_by_key(|(b, _)| {
                b.iter()
                    .zip(&bits)
                    .map(|(x, y)| (x ^ y).count_ones())
                    .sum::<u32>()
            })
            .map(|(_, line)| *line)
            .unwrap_or_default()
    }
}

/// Everything `ubiq eval bass` reports.
#[derive(Debug, Clone, Serialize)]
pub struct EvalReport {
    /// Which pairs were measured (a split's name; set by the caller).
    pub split: String,
    /// Pairs measured.
    pub pairs: usize,
    /// Training pairs the baselines learned from.
    pub train_pairs: usize,
    /// Sampling temperature of the model rows.
    pub temperature: f32,
    /// Pitch temperature of the model rows.
    pub pitch_temperature: f32,
    /// Top-k of the model rows.
    pub top_k: usize,
    /// The model, sampled, notes kept in each pair's scale.
    pub model: Metrics,
    /// The model, sampled, unconstrained.
    pub model_unconstrained: Metrics,
    /// The model, most likely token at every step, constrained.
    pub model_greedy: Metrics,
    /// Root on every kick.
    pub root_on_kicks: Metrics,
    /// Root on every 8th note.
    pub root_on_eighths: Metrics,
    /// The nearest training pattern's line.
    pub nearest: Metrics,
    /// The tonic pitch the root baselines play.
    pub root_pitch: i8,
    /// How the lines move: the songs' own and each row's.
    pub style: Styles,
}

/// How the lines of each row move (see [`LineStats`]), next to the songs' own lines.
#[derive(Debug, Clone, Serialize)]
pub struct Styles {
    /// The lines the songs play.
    pub human: LineStats,
    /// The model, sampled, in scale.
    pub model: LineStats,
    /// The model, greedy.
    pub model_greedy: LineStats,
    /// Root on every kick.
    pub root_on_kicks: LineStats,
    /// Root on every 8th note.
    pub root_on_eighths: LineStats,
    /// The nearest training pattern's line.
    pub nearest: LineStats,
}

/// The statistics of `lines` over the pairs' drums.
fn style_of(pairs: &[EvalPair], lines: &[Bassline]) -> LineStats {
    line_stats(pairs.iter().zip(lines).map(|(p, l)| (&p.drums, l)))
}

/// Measures `model` and the baselines on `pairs`, the baselines learning from `train`.
/// The model rows sample their rhythm at `temperature` and their pitches at
/// `pitch_temperature` among the `top_k` likeliest; sampling uses `seed` plus the pair's
/// index. The greedy row takes the likeliest rhythm and pitch.
pub fn evaluate(
    model: &BassModel,
    train: &[EvalPair],
    pairs: &[EvalPair],
    (temperature, pitch_temperature): (f32, f32),
    top_k: usize,
    seed: u64,
) -> EvalReport {
    let baselines = Baselines::new(train);
    let run = |(temperature, pitch_temperature): (f32, f32), constrain: bool| -> Vec<Bassline> {
        pairs
            .iter()
            .enumerate()
            .map(|(i, p)| {
                model.translate_with(
                    &p.drums,
                    &TranslateOptions {
                        key: p.key,
                        scale: p.scale,
                        temperature,
                        pitch_temperature,
                        top_k,
                        constrain,
                        seed: seed.wrapping_add(i as u64),
                    },
                )
            })
            .collect()
    };
    let kicks: Vec<Bassline> = pairs
        .iter()
        .map(|p| baselines.root_on_kicks(&p.drums))
        .collect();
    let eighths: Vec<Bassline> = pairs.iter().map(|_| baselines.root_on_eighths()).collect();
    let nearest: Vec<Bassline> = pairs.iter().map(|p| baselines.nearest(&p.drums)).collect();
    let (sampled, greedy) = (
        run((temperature, pitch_temperature), true),
        run((0.0, 0.0), true),
    );
    let human: Vec<Bassline> = pairs.iter().map(|p| p.bass).collect();
    EvalReport {
        split: String::new(),
        pairs: pairs.len(),
        train_pairs: train.len(),
        temperature,
        pitch_temperature,
        top_k,
        model: measure(pairs, &sampled),
        model_unconstrained: measure(pairs, &run((temperature, pitch_temperature), false)),
        model_greedy: measure(pairs, &greedy),
        root_on_kicks: measure(pairs, &kicks),
        root_on_eighths: measure(pairs, &eighths),
        nearest: measure(pairs, &nearest),
        root_pitch: baselines.root_pitch(),
        style: Styles {
            human: style_of(pairs, &human),
            model: style_of(pairs, &sampled),
            model_greedy: style_of(pairs, &greedy),
            root_on_kicks: style_of(pairs, &kicks),
            root_on_eighths: style_of(pairs, &eighths),
            nearest: style_of(pairs, &nearest),
        },
    }
}
