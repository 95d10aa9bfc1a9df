//! `ubiq translate`: the bassline the bass model plays with a scene's (or MIDI file's) drums;
//! and the bassline output `ubiq generate --bass` shares.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::Args;

use crate::midifile::{BassPart, PatternFile, read_pattern, write_pattern};
use crate::model::bass::infer::{DEFAULT_TEMPERATURE, DEFAULT_TOP_K};
use crate::model::bass::{BassModel, TranslateOptions};
use crate::pattern::{Bassline, DrumPattern, Key, Scale};
use crate::scene::library;

/// Options of `ubiq translate`.
#[derive(Args, Debug)]
pub struct TranslateArgs {
    /// Scene file, shipped scene name, or a .mid file (the default scene when not given).
    pub input: Option<String>,
    /// Key (the scene's by default).
    #[arg(long)]
    pub key: Option<Key>,
    /// Scale (the scene's by default).
    #[arg(long, value_parser = parse_scale)]
    pub scale: Option<Scale>,
    /// Sampling temperature; 0 plays the most likely line.
    #[arg(long, default_value_t = DEFAULT_TEMPERATURE)]
    pub temperature: f32,
    /// Sample a note's pitch among the k likeliest pitches (0: all).
    #[arg(long, default_value_t = DEFAULT_TOP_K)]
    pub top_k: usize,
    /// Let notes leave the scale.
    #[arg(long)]
    pub unconstrained: bool,
    /// Seed of the sampling.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Also write drums and bass: FILE.mid, or FILE.ron (the scene with the new line).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Bass model file (the embedded default when not given).
    #[arg(long = "bass-model")]
    pub bass_model: Option<PathBuf>,
}

impl TranslateArgs {
    /// The sampling in `key` and `scale` (the given ones win).
    pub fn sampling(&self, key: Key, scale: Scale) -> TranslateOptions {
        TranslateOptions {
            key: self.key.unwrap_or(key),
            scale: self.scale.unwrap_or(scale),
            temperature: self.temperature,
            top_k: self.top_k,
            constrain: !self.unconstrained,
            seed: self.seed,
            ..TranslateOptions::default()
        }
    }

    /// Translates the drums of a scene or MIDI file into a bassline, prints it and optionally
    /// writes it.
    pub fn run(self) -> anyhow::Result<ExitCode> {
        let model = BassModel::load_or_embedded(self.bass_model.as_deref())?;
        let (drums, key, scale, bpm, scene) = read_input(self.input.as_deref())?;
        let bass = BassOutput::translate(&model, &drums, &self.sampling(key, scale));
        println!("{}", bass.text());
        if let Some(out) = &self.out {
            write_parts(out, &drums, Some(&bass), bpm, scene.unwrap_or_default())?;
        }
        Ok(ExitCode::SUCCESS)
    }
}

/// Parses a scale by its name in the scene files (`minor`, `major`, `dorian`, …).
pub fn parse_scale(text: &str) -> anyhow::Result<Scale> {
    Scale::ALL
        .into_iter()
        .find(|s| {
            serde_json::to_value(s)
                .ok()
                .and_then(|v| v.as_str().map(|n| n == text))
                .unwrap_or(false)
        })
        .ok_or_else(|| anyhow::anyhow!("{text:?} is not a scale (minor, major, dorian, …)"))
}

/// Drums, key, scale, tempo and (for a scene) the scene of the input.
fn read_input(
    input: Option<&str>,
) -> anyhow::Result<(DrumPattern, Key, Scale, f32, Option<crate::scene::Scene>)> {
    if let Some(path) = input.filter(|p| {
        Path::new(p)
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("mid") || e.eq_ignore_ascii_case("midi"))
    }) {
        let bytes = std::fs::read(path).with_context(|| format!("reading {path}"))?;
        let file = read_pattern(&bytes).with_context(|| format!("reading {path}"))?;
        return Ok((file.drums, Key::new(9), Scale::Minor, file.bpm, None));
    }
    let (scene, _) = library::resolve(input)?;
    Ok((
        scene.drums.pattern(),
        scene.bass.key,
        scene.bass.scale,
        scene.tempo,
        Some(scene),
    ))
}

/// A bassline with the key and scale it was written in, as `ubiq translate` and
/// `ubiq generate --bass` print and write it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BassOutput {
    /// The line, pitches relative to the key's tonic in octave 1.
    pub line: Bassline,
    /// The key.
    pub key: Key,
    /// The scale.
    pub scale: Scale,
}

impl BassOutput {
    /// Translates `drums` with `model` under `options` (key and scale included).
    pub fn translate(model: &BassModel, drums: &DrumPattern, options: &TranslateOptions) -> Self {
        BassOutput {
            line: model.translate_with(drums, options),
            key: options.key,
            scale: options.scale,
        }
    }

    /// MIDI note of the tonic the line's pitches are relative to.
    pub fn tonic(&self) -> u8 {
        self.key.root_midi(1)
    }

    /// The line in the scene bassline syntax (absolute note names).
    pub fn text(&self) -> String {
        self.line.format(self.tonic())
    }
}

/// Writes drums, and a bassline when given, to `out`: `.mid` (drums and bass at `bpm`) or
/// `.ron` (`scene` with these drums and, with a bassline, its key, scale and line).
pub fn write_parts(
    out: &Path,
    drums: &DrumPattern,
    bass: Option<&BassOutput>,
    bpm: f32,
    mut scene: crate::scene::Scene,
) -> anyhow::Result<()> {
    match out.extension().and_then(|e| e.to_str()) {
        Some("mid") | Some("midi") => {
            let file = PatternFile {
                drums: *drums,
                bass: bass.map(|b| BassPart {
                    line: b.line,
                    tonic: b.tonic(),
                }),
                bpm,
            };
            write_pattern(out, &file)?;
        }
        Some("ron") => {
            scene.drums = crate::scene::DrumGrids::from_pattern(drums);
            if let Some(b) = bass {
                scene.bass.key = b.key;
                scene.bass.scale = b.scale;
                let octave_shift = 12 * (i32::from(scene.bass.octave) - 1);
                scene
                    .bass
                    .set_bassline(&b.line.transposed((-octave_shift).clamp(-127, 127) as i8));
            }
            scene
                .save(out)
                .with_context(|| format!("writing {}", out.display()))?;
        }
        _ => bail!(
            "{}: the output must end in .mid (a MIDI file) or .ron (a scene)",
            out.display()
        ),
    }
    eprintln!("wrote {}", out.display());
    Ok(())
}
