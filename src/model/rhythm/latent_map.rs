//! The latent map: where (a sample of) the training windows sit on the 2-D plane, with their
//! style labels, for the latent pad display.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::infer::RhythmModel;
use crate::model::artifact::{Kind, ModelError};
use crate::model::rng::Rng;
use crate::pattern::DrumPattern;

/// The default model's latent map (RON).
pub const EMBEDDED_MAP: &str = include_str!("../../../models/rhythm.map.ron");
/// The embedded dance model's map.
pub const DANCE_MAP: &str = include_str!("../../../models/rhythm-dance.map.ron");

/// One window on the plane.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct MapPoint {
    /// Latent x (mean of the encoder).
    pub x: f32,
    /// Latent y.
    pub y: f32,
    /// Index into [`LatentMap::styles`].
    pub style: u16,
}

/// Latent positions of training windows with style labels.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct LatentMap {
    /// Style names (the GMD primary style, e.g. `funk`, `rock`; `unknown` when unlabelled).
    pub styles: Vec<String>,
    /// The points.
    pub points: Vec<MapPoint>,
}

impl LatentMap {
    /// Encodes at most `limit` windows (a seeded sample when there are more) with `model`.
    pub fn build(
        model: &RhythmModel,
        windows: &[DrumPattern],
        styles: &[String],
        limit: usize,
        seed: u64,
    ) -> Self {
        let mut chosen: Vec<usize> = (0..windows.len()).collect();
        Rng::new(seed).shuffle(&mut chosen);
        chosen.truncate(limit);
        chosen.sort_unstable();
        let sample: Vec<DrumPattern> = chosen.iter().map(|&i| windows[i]).collect();
        let (mu, _) = model.encode_batch(&sample);
        let mut map = LatentMap::default();
        for (&i, z) in chosen.iter().zip(&mu) {
            let name = styles.get(i).map_or("unknown", String::as_str);
            let style = match map.styles.iter().position(|s| s == name) {
                Some(s) => s,
                None => {
                    map.styles.push(name.to_string());
                    map.styles.len() - 1
                }
            };
            map.points.push(MapPoint {
                x: round3(z[0]),
                y: round3(z[1]),
                style: style as u16,
            });
        }
        map
    }

    /// The map as compact RON text.
    pub fn to_ron(&self) -> Result<String, ModelError> {
        ron::to_string(self).map_err(|e| format_error("latent map", e))
    }

    /// Parses RON text.
    pub fn from_ron(text: &str) -> Result<Self, ModelError> {
        Self::parse(text, "latent map")
    }

    /// The embedded default model's map.
    pub fn embedded() -> Result<Self, ModelError> {
        Self::from_ron(EMBEDDED_MAP)
    }

    /// The embedded dance model's map.
    pub fn dance() -> Result<Self, ModelError> {
        Self::from_ron(DANCE_MAP)
    }

    /// The distance from the origin within which `share` (0..1) of the points lie (none
    /// without points).
    pub fn radius(&self, share: f32) -> Option<f32> {
        let mut r: Vec<f32> = self.points.iter().map(|p| p.x.hypot(p.y)).collect();
        if r.is_empty() {
            return None;
        }
        r.sort_by(f32::total_cmp);
        let at = ((r.len() as f32 * share.clamp(0.0, 1.0)) as usize).min(r.len() - 1);
        Some(r[at])
    }

    /// The mean of the `k` points nearest `z`: the centre of the training windows around it
    /// (`z` itself without points).
    pub fn settle(&self, z: [f32; 2], k: usize) -> [f32; 2] {
        let mut near: Vec<(f32, [f32; 2])> = self
            .points
            .iter()
            .map(|p| ((p.x - z[0]).hypot(p.y - z[1]), [p.x, p.y]))
            .collect();
        let k = k.clamp(1, near.len().max(1));
        if near.is_empty() {
            return z;
        }
        near.select_nth_unstable_by(k - 1, |a, b| a.0.total_cmp(&b.0));
        let sum = near[..k]
            .iter()
            .fold([0.0, 0.0], |s, (_, p)| [s[0] + p[0], s[1] + p[1]]);
        [sum[0] / k as f32, sum[1] / k as f32]
    }

    /// Reads the map file at `path`.
    pub fn load(path: &Path) -> Result<Self, ModelError> {
        let origin = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| ModelError::Read {
            kind: Kind::LatentMap,
            path: origin.clone(),
            source,
        })?;
        Self::parse(&text, &origin)
    }

    fn parse(text: &str, origin: &str) -> Result<Self, ModelError> {
        ron::from_str(text).map_err(|e| format_error(origin, e))
    }
}

/// The latent map path beside a weights path (`NAME.map.ron` next to `NAME.bpk`).
pub fn map_path(weights: &Path) -> PathBuf {
    weights.with_extension("map.ron")
}

fn format_error(origin: &str, e: impl std::fmt::Display) -> ModelError {
    ModelError::Format {
        kind: Kind::LatentMap,
        origin: origin.into(),
        reason: e.to_string(),
    }
}

fn round3(v: f32) -> f32 {
    (v * 1000.0).round() / 1000.0
}
