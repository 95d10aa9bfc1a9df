//! Evaluation on held-out songs: triplet accuracy and ROC-AUC of the model and of two
//! baselines on the same triplets — random scores and the chroma + onset feature similarity —
//! for both anchor kinds (drums+bass rendered with the SoundFont, and the same pattern and
//! bassline rendered by ubiq, as the engine does on stage).

use serde::Serialize;

use super::data::{AnchorKind, Triplet, TripletData};
use super::train::WindowEmbeddings;
use crate::loops::features::similarity;
use crate::model::rng::Rng;

/// Accuracy and AUC of one scorer.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Scores {
    /// Share of triplets whose positive scores above the negative.
    pub triplet_accuracy: f64,
    /// ROC-AUC of telling positive pairs from negative pairs by score.
    pub roc_auc: f64,
}

/// The scores of every scorer for one anchor kind.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct KindReport {
    /// Which anchors.
    pub anchor: AnchorKind,
    /// The model.
    pub model: Scores,
    /// Random scores.
    pub random: Scores,
    /// Chroma + onset-envelope cosine.
    pub features: Scores,
}

/// The evaluation report.
#[derive(Debug, Clone, Serialize)]
pub struct EvalReport {
    /// Songs evaluated.
    pub songs: usize,
    /// Anchor windows evaluated.
    pub windows: usize,
    /// Triplets evaluated (per anchor kind).
    pub triplets: usize,
    /// SoundFont anchors, then ubiq anchors.
    pub kinds: Vec<KindReport>,
}

/// ROC-AUC from scores of positive and negative pairs (higher = more compatible); ties
/// count half (Mann–Whitney U).
pub fn roc_auc(positive: &[f32], negative: &[f32]) -> f64 {
    if positive.is_empty() || negative.is_empty() {
        return 0.5;
    }
    let mut all: Vec<(f32, bool)> = positive
        .iter()
        .map(|&s| (s, true))
        .chain(negative.iter().map(|&s| (s, false)))
        .collect();
    all.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut rank_sum = 0.0f64;
    let mut i = 0;
    while i < all.len() {
        let mut j = i;
        while j < all.len() && all[j].0 == all[i].0 {
            j += 1;
        }
        let avg = (i + j + 1) as f64 / 2.0;
        rank_sum += avg * all[i..j].iter().filter(|x| x.1).count() as f64;
        i = j;
    }
    let (p, n) = (positive.len() as f64, negative.len() as f64);
    (rank_sum - p * (p + 1.0) / 2.0) / (p * n)
}

/// Accuracy and AUC of `(positive score, negative score)` pairs, one per triplet. Each
/// positive pair is counted once for the AUC however many triplets share it.
fn scores(triplets: &[Triplet], pairs: &[(f32, f32)]) -> Scores {
    let mut pos: Vec<f32> = Vec::new();
    let mut last = None;
    for (t, p) in triplets.iter().zip(pairs) {
        if last != Some(t.anchor) {
            pos.push(p.0);
            last = Some(t.anchor);
        }
    }
    let neg: Vec<f32> = pairs.iter().map(|p| p.1).collect();
    let acc = if pairs.is_empty() {
        0.0
    } else {
        pairs.iter().filter(|(p, n)| p > n).count() as f64 / pairs.len() as f64
    };
    Scores {
        triplet_accuracy: acc,
        roc_auc: roc_auc(&pos, &neg),
    }
}

/// Evaluates the model whose embeddings of `data`'s windows are `emb` (see
/// [`WindowEmbeddings::of`]: computed once, they serve every set of triplets of `data`) and
/// the baselines on `triplets` of `data` (triplets of one anchor kept together, as
/// [`TripletData::triplets`] makes them).
pub fn evaluate(
    emb: &WindowEmbeddings,
    data: &TripletData,
    triplets: &[Triplet],
    seed: u64,
) -> EvalReport {
    let w = &data.windows;
    let kinds = AnchorKind::ALL
        .iter()
        .map(|&kind| {
            let model_pairs: Vec<(f32, f32)> = triplets
                .iter()
                .map(|t| {
                    (
                        -emb.distance(kind, t.anchor, t.anchor),
                        -emb.distance(kind, t.anchor, t.negative),
                    )
                })
                .collect();
            let mut rng = Rng::new(seed);
            let random: Vec<(f32, f32)> = triplets
                .iter()
                .map(|_| (rng.uniform(), rng.uniform()))
                .collect();
            let feats: Vec<(f32, f32)> = triplets
                .iter()
                .map(|t| {
                    let a = w[t.anchor].anchor_features(kind);
                    (
                        similarity(a, w[t.anchor].positive_features()),
                        similarity(a, w[t.negative].positive_features()),
                    )
                })
                .collect();
            KindReport {
                anchor: kind,
                model: scores(triplets, &model_pairs),
                random: scores(triplets, &random),
                features: scores(triplets, &feats),
            }
        })
        .collect();
    let anchors: std::collections::BTreeSet<usize> = triplets.iter().map(|t| t.anchor).collect();
    let songs: std::collections::BTreeSet<usize> = anchors.iter().map(|&a| w[a].song).collect();
    EvalReport {
        songs: songs.len(),
        windows: anchors.len(),
        triplets: triplets.len(),
        kinds,
    }
}
