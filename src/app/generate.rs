//! `ubiq generate`: decode one latent point into a pattern, print it as grid rows, and
//! optionally write it as a scene (`.ron`) or a MIDI file (`.mid`).

use std::path::PathBuf;

use anyhow::{Context, bail};

use crate::model::Backend;
use crate::model::rhythm::{Conditions, DecodeOptions, RhythmModel};
use crate::pattern::grid::format_row;
use crate::pattern::{DrumPattern, Voice};
use crate::scene::{DrumGrids, Scene};

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
    if let Some(out) = &args.out {
        match out.extension().and_then(|e| e.to_str()) {
            Some("ron") => {
                let scene = Scene {
                    name: format!(
                        "generated z={},{} kick={} hats={} seed={}",
                        args.z[0], args.z[1], args.kick, args.hats, args.seed
                    ),
                    drums: DrumGrids::from_pattern(&pattern),
                    ..Scene::default()
                };
                scene
                    .save(out)
                    .with_context(|| format!("writing {}", out.display()))?;
            }
            _ => bail!(
                "{}: the output must end in .ron (a scene) or .mid (a MIDI file)",
                out.display()
            ),
        }
        eprintln!("wrote {}", out.display());
    }
    Ok(())
}
