//! `ubiq generate`: decode one latent point into a pattern, print it as grid rows (and, with
//! `--bass`, the bassline the bass model plays with it), and optionally write it as a scene
//! (`.ron`) or a MIDI file (`.mid`).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{anyhow, bail};
use clap::Args;

use super::translate::{BassOutput, parse_scale, write_parts};
use crate::model::Backend;
use crate::model::bass::infer::{DEFAULT_TEMPERATURE, DEFAULT_TOP_K};
use crate::model::bass::{BassModel, TranslateOptions};
use crate::model::rhythm::{Conditions, DecodeOptions, RhythmModel};
use crate::pattern::grid::format_row;
use crate::pattern::{DrumPattern, Key, Scale, Voice};
use crate::scene::{BassPart, Scene};

/// Options of `ubiq generate`.
#[derive(Args, Debug)]
pub struct GenerateArgs {
    /// Latent point X,Y (about −3..3 each).
    #[arg(long, value_parser = parse_point, allow_hyphen_values = true, default_value = "0,0")]
    pub z: [f32; 2],
    /// Kick density in standard deviations of the training set (0 typical).
    #[arg(long, default_value_t = 0.0, allow_hyphen_values = true)]
    pub kick: f32,
    /// Hi-hat density in standard deviations of the training set (0 typical).
    #[arg(long, default_value_t = 0.0, allow_hyphen_values = true)]
    pub hats: f32,
    /// Off-beat kick ratio in standard deviations of the training set (models saved by
    /// M4L.RhythmVAE that have this third condition).
    #[arg(long, default_value_t = 0.0, allow_hyphen_values = true)]
    pub offbeat: f32,
    /// Print the decoder's raw outputs as JSON (onset probability, velocity and time shift per
    /// class and tick) instead of the pattern.
    #[arg(long, conflicts_with_all = ["out", "bass"])]
    pub json: bool,
    /// Onset threshold 0..1.
    #[arg(long, default_value_t = 0.5)]
    pub threshold: f32,
    /// Micro-timing amount, 0 (quantised) ..1.
    #[arg(long, default_value_t = 1.0)]
    pub timing: f32,
    /// Seed of the variation near the threshold.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Also write the pattern: FILE.ron (a scene) or FILE.mid (with the bassline under --bass).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Rhythm model file (the embedded default when not given), or a folder saved by
    /// M4L.RhythmVAE (with `--json`).
    #[arg(long = "rhythm-model")]
    pub rhythm_model: Option<PathBuf>,
    /// Also write a bassline for the drums with the bass model (printed and exported).
    #[arg(long)]
    pub bass: bool,
    /// Key of the bassline (A by default).
    #[arg(long, requires = "bass")]
    pub key: Option<Key>,
    /// Scale of the bassline (minor by default).
    #[arg(long, value_parser = parse_scale, requires = "bass")]
    pub scale: Option<Scale>,
    /// Sampling temperature of the bassline; 0 plays the most likely line.
    #[arg(long, default_value_t = DEFAULT_TEMPERATURE)]
    pub temperature: f32,
    /// Sample the bassline's pitches among the k likeliest (0: all).
    #[arg(long, default_value_t = DEFAULT_TOP_K)]
    pub top_k: usize,
    /// Bass model file (the embedded default when not given).
    #[arg(long = "bass-model", requires = "bass")]
    pub bass_model: Option<PathBuf>,
}

impl GenerateArgs {
    /// The bassline's sampling under `--bass`: key and scale (the default scene's unless
    /// given), temperature, top-k and seed.
    pub fn bass_sampling(&self) -> Option<TranslateOptions> {
        let scene = BassPart::default();
        self.bass.then(|| TranslateOptions {
            key: self.key.unwrap_or(scene.key),
            scale: self.scale.unwrap_or(scene.scale),
            temperature: self.temperature,
            top_k: self.top_k,
            seed: self.seed,
            ..Default::default()
        })
    }

    /// Decodes, prints and writes.
    pub fn run(self) -> anyhow::Result<ExitCode> {
        generate(&self)?;
        Ok(ExitCode::SUCCESS)
    }
}

/// Parses `X,Y` into a latent point.
pub fn parse_point(text: &str) -> anyhow::Result<[f32; 2]> {
    let mut parts = text.split(',').map(str::trim);
    let mut next = || -> anyhow::Result<f32> {
        let v = parts
            .next()
            .ok_or_else(|| anyhow!("expected X,Y, got {text:?}"))?
            .parse::<f32>()
            .map_err(|e| anyhow!("{text:?}: {e}"))?;
        if v.is_finite() {
            Ok(v)
        } else {
            bail!("{text:?}: not a finite number")
        }
    };
    let point = [next()?, next()?];
    if parts.next().is_some() {
        bail!("expected X,Y, got {text:?}");
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

/// The raw outputs of a model saved by M4L.RhythmVAE, as one JSON object.
fn generate_device(dir: &std::path::Path, args: &GenerateArgs) -> anyhow::Result<()> {
    let model = crate::model::rhythmvae::DeviceModel::load(dir)?;
    let raw = model.decode_raw(args.z, [args.kick, args.hats, args.offbeat]);
    let heads = |v: &[f32]| -> serde_json::Value {
        crate::model::rhythmvae::CLASSES
            .iter()
            .zip(v.chunks_exact(raw.ticks))
            .map(|(c, row)| (c.to_string(), serde_json::json!(row)))
            .collect::<serde_json::Map<_, _>>()
            .into()
    };
    let json = serde_json::json!({
        "z": args.z,
        "conditions": {"kick": args.kick, "hats": args.hats, "offbeat": args.offbeat},
        "ticks": raw.ticks,
        "classes": crate::model::rhythmvae::CLASSES,
        "condition_count": model.conditions,
        "onsets": heads(&raw.onsets),
        "velocities": heads(&raw.velocities),
        "shifts": heads(&raw.shifts),
    });
    println!("{json}");
    Ok(())
}

fn generate(args: &GenerateArgs) -> anyhow::Result<()> {
    if let Some(dir) = args
        .rhythm_model
        .as_deref()
        .filter(|d| crate::model::rhythmvae::DeviceModel::is_device_folder(d))
    {
        if args.json {
            return generate_device(dir, args);
        }
        let model = crate::model::rhythmvae::DeviceModel::load(dir)?;
        let raw = model.decode_raw(args.z, [args.kick, args.hats, args.offbeat]);
        return print_and_write(args, &raw.to_pattern(args.threshold, args.timing));
    }
    if args.json {
        bail!(
            "--json prints the raw outputs of a model saved by M4L.RhythmVAE (--rhythm-model DIR)"
        );
    }
    let model =
        RhythmModel::load_or_embedded(args.rhythm_model.as_deref(), Backend::Flex.device())?;
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
    print_and_write(args, &pattern)
}

/// Prints the pattern (and, under `--bass`, its bassline) and writes them under `--out`.
fn print_and_write(args: &GenerateArgs, pattern: &DrumPattern) -> anyhow::Result<()> {
    let pattern = *pattern;
    for line in grid_lines(&pattern) {
        println!("{line}");
    }
    let bass = match args.bass_sampling() {
        Some(sampling) => {
            let model = BassModel::load_or_embedded(args.bass_model.as_deref())?;
            let bass = BassOutput::translate(&model, &pattern, &sampling);
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
