//! `ubiq generate`: decode one latent point into a pattern, print it as grid rows (and, with
//! `--bass`, the bassline the bass model plays with it), and optionally write it as a scene
//! (`.ron`) or a MIDI file (`.mid`).

use std::path::PathBuf;

use super::bass::{BassOutput, write_parts};
use crate::model::Backend;
use crate::model::bass::{BassModel, TranslateOptions};
use crate::model::rhythm::{Conditions, DecodeOptions, RhythmModel};
use crate::pattern::grid::format_row;
use crate::pattern::{DrumPattern, Voice};
use crate::scene::Scene;

/// What `ubiq generate --bass` asks of the bass model.
#[derive(Debug, Clone)]
pub struct GenerateBass {
    /// Sampling: key, scale, temperature, top-k, scale constraint and seed.
    pub sampling: TranslateOptions,
    /// Bass model file instead of the embedded default.
    pub model: Option<PathBuf>,
}

/// Options of `ubiq generate`.
#[derive(Debug, Clone)]
pub struct GenerateArgs {
    /// Latent point.
    pub z: [f32; 2],
    /// Kick density z-score.
    pub kick: f32,
    /// Hi-hat density z-score.
    pub hats: f32,
    /// Onset threshold.
    pub threshold: f32,
    /// Micro-timing amount.
    pub timing: f32,
    /// Seed.
    pub seed: u64,
    /// Output file (`.ron` scene or `.mid`).
    pub out: Option<PathBuf>,
    /// Model file instead of the embedded default.
    pub model: Option<PathBuf>,
    /// Also write the bassline for the drums.
    pub bass: Option<GenerateBass>,
}

/// Parses `X,Y` into a latent point.
pub fn parse_point(text: &str) -> Result<[f32; 2], String> {
    let mut parts = text.split(',').map(str::trim);
    let mut next = || -> Result<f32, String> {
        parts
            .next()
            .ok_or_else(|| format!("expected X,Y, got {text:?}"))?
            .parse::<f32>()
            .map_err(|e| format!("{text:?}: {e}"))
            .and_then(|v| {
                if v.is_finite() {
                    Ok(v)
                } else {
                    Err(format!("{text:?}: not a finite number"))
                }
            })
    };
    let point = [next()?, next()?];
    if parts.next().is_some() {
        return Err(format!("expected X,Y, got {text:?}"));
    }
    Ok(point)
}

/// The pattern as grid lines in the scene syntax (`kick: "x...|...."`), silent voices left out.
pub fn grid_lines(pattern: &DrumPattern) -> Vec<String> {
    Voice::ALL
        .into_iter()
        .filter(|v| pattern.count(*v) > 0)
        .map(|v| {
            format!(
                "{:<10} \"{}\"",
                format!("{}:", v.name()),
                format_row(pattern.row(v))
            )
        })
        .collect()
}

/// Decodes, prints and writes.
pub fn run(args: GenerateArgs) -> anyhow::Result<()> {
    let model = RhythmModel::load_or_embedded(args.model.as_deref(), Backend::Flex.device())?;
    let pattern = model.decode(
        args.z,
        Conditions {
            kick: args.kick,
            hats: args.hats,
        },
        &DecodeOptions {
            threshold: args.threshold,
            timing: args.timing,
            seed: args.seed,
        },
    );
    for line in grid_lines(&pattern) {
        println!("{line}");
    }
    let bass = match &args.bass {
        Some(b) => {
            let model = BassModel::load_or_embedded(b.model.as_deref())?;
            let bass = BassOutput::translate(&model, &pattern, &b.sampling);
            println!("{:<10} \"{}\"", "bass:", bass.text());
            Some(bass)
        }
        None => None,
    };
    let Some(out) = &args.out else {
        return Ok(());
    };
    let scene = Scene {
        name: format!(
            "generated z={},{} kick={} hats={} seed={}",
            args.z[0], args.z[1], args.kick, args.hats, args.seed
        ),
        ..Scene::default()
    };
    write_parts(out, &pattern, bass.as_ref(), scene.tempo, scene)
}
