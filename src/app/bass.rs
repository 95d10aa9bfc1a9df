//! `ubiq train bass`, `ubiq eval bass` and `ubiq translate`: the rhythm → bassline model from
//! the command line.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, bail};

use crate::dataset::{BassPair, CacheMode, Corpus, LoadOptions, Split};
use crate::midifile::{BassPart, PatternFile, read_pattern, write_pattern};
use crate::model::bass::eval::{EvalPair, EvalReport, Metrics, evaluate};
use crate::model::bass::infer::{META_KIND, ModelMeta};
use crate::model::bass::train::{EpochReport, Example, TrainingConfig, train};
use crate::model::bass::{BassModel, BassNetConfig, TranslateOptions};
use crate::pattern::{Bassline, DrumPattern, Key, Scale};
use crate::scene::library;

/// Options of `ubiq train bass`.
#[derive(Debug, Clone)]
pub struct TrainBassArgs {
    /// MIDI folders with multi-track songs (drums and a bass).
    pub midi: Vec<PathBuf>,
    /// Maximum epochs.
    pub epochs: usize,
    /// Weights file to write (`.bpk`; metadata `.json` beside it).
    pub out: PathBuf,
    /// Seed.
    pub seed: u64,
    /// Where the extracted corpus is cached.
    pub cache: CacheMode,
}

/// Options of `ubiq eval bass`.
#[derive(Debug, Clone)]
pub struct EvalBassArgs {
    /// MIDI folders.
    pub midi: Vec<PathBuf>,
    /// Model file instead of the embedded default.
    pub model: Option<PathBuf>,
    /// Print one JSON object instead of a table.
    pub json: bool,
    /// Sampling temperature.
    pub temperature: f32,
    /// Top-k of the sampling.
    pub top_k: usize,
    /// Seed of the sampling.
    pub seed: u64,
    /// The split measured (test; validation for choosing settings).
    pub split: Split,
    /// Where the extracted corpus is cached.
    pub cache: CacheMode,
}

/// Options of `ubiq translate`.
#[derive(Debug, Clone)]
pub struct TranslateArgs {
    /// Scene file, shipped scene name or `.mid` file whose drums are translated.
    pub input: Option<String>,
    /// Key (the scene's when not given; A for a MIDI file).
    pub key: Option<Key>,
    /// Scale (the scene's when not given; minor for a MIDI file).
    pub scale: Option<Scale>,
    /// Sampling: temperature, top-k, scale constraint, seed (key and scale are filled in).
    pub sampling: TranslateOptions,
    /// Output file: `.mid` (drums and bass) or `.ron` (the scene with the new line).
    pub out: Option<PathBuf>,
    /// Bass model file instead of the embedded default.
    pub model: Option<PathBuf>,
}

fn load_corpus(midi: &[PathBuf], cache: CacheMode) -> anyhow::Result<Corpus> {
    let options = LoadOptions {
        cache,
        ..LoadOptions::default()
    };
    Ok(Corpus::load(midi, &options)?)
}

fn example(p: &BassPair) -> Example {
    Example {
        drums: p.drums,
        bass: p.bass,
        key: p.key,
        scale: p.scale,
    }
}

fn eval_pair(p: &BassPair) -> EvalPair {
    EvalPair {
        drums: p.drums,
        bass: p.bass,
        key: p.key,
        scale: p.scale,
    }
}

fn format_duration(d: Duration) -> String {
    let s = d.as_secs();
    if s >= 60 {
        format!("{}m{:02}s", s / 60, s % 60)
    } else {
        format!("{:.1}s", d.as_secs_f64())
    }
}

fn progress_line(r: &EpochReport) -> String {
    const WIDTH: usize = 20;
    let filled = WIDTH * r.epoch / r.epochs.max(1);
    let per_epoch = r.elapsed.as_secs_f64() / r.epoch as f64;
    let eta = Duration::from_secs_f64(per_epoch * (r.epochs - r.epoch) as f64);
    format!(
        "epoch {:>3}/{} [{}{}] loss {:.3} · val {:.3}{} · val acc {:.1}% · {} · ETA ≤{}",
        r.epoch,
        r.epochs,
        "#".repeat(filled),
        ".".repeat(WIDTH - filled),
        r.train_loss,
        r.valid_loss,
        if r.improved { " *" } else { "  " },
        100.0 * r.valid_accuracy,
        format_duration(r.elapsed),
        format_duration(eta),
    )
}

/// Trains on the train split in all twelve keys, validates on the validation split, keeps the
/// best epoch and writes it with its metadata.
pub fn train_bass(args: TrainBassArgs) -> anyhow::Result<()> {
    let corpus = load_corpus(&args.midi, args.cache)?;
    let train_set: Vec<Example> = corpus
        .transposed_pairs(Split::Train)
        .map(|p| example(&p))
        .collect();
    let valid_set: Vec<Example> = corpus.pairs(Split::Validation).map(example).collect();
    eprintln!(
        "training on {} drum+bass pairs (train split, 12 keys), validating on {} (seed {})",
        train_set.len(),
        valid_set.len(),
        args.seed
    );
    let config = TrainingConfig::new(BassNetConfig::new())
        .with_epochs(args.epochs)
        .with_seed(args.seed);
    let trained = train(
        &config,
        &train_set,
        &valid_set,
        &burn::tensor::Device::flex(),
        |r| eprintln!("\r{}", progress_line(r)),
        |done, total| {
            if done % 50 == 0 || done == total {
                eprint!("\r  batch {done}/{total}");
                let _ = std::io::stderr().flush();
            }
        },
    )?;
    let model = BassModel::new(trained.net, args.out.display().to_string())?;
    let best_valid_accuracy = trained
        .history
        .iter()
        .find(|r| r.epoch == trained.best_epoch)
        .map_or(f64::NAN, |r| r.valid_accuracy);
    let meta = ModelMeta {
        kind: META_KIND.into(),
        training: config,
        train_examples: train_set.len(),
        valid_examples: valid_set.len(),
        best_epoch: trained.best_epoch,
        best_valid_loss: trained.best_valid_loss,
        best_valid_accuracy,
        train_seconds: trained.elapsed.as_secs_f64(),
    };
    if let Some(dir) = args.out.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    model.save(&args.out, &meta)?;
    println!(
        "wrote {} (+ .json): {} epochs in {}, best epoch {} with validation loss {:.3} \
         (token accuracy {:.1}%), {} training pairs",
        args.out.display(),
        trained.epochs_run,
        format_duration(trained.elapsed),
        trained.best_epoch,
        trained.best_valid_loss,
        100.0 * best_valid_accuracy,
        train_set.len()
    );
    Ok(())
}

fn row(name: &str, m: &Metrics) -> String {
    format!(
        "{name:<22} {:>6.1}% {:>6.1}% {:>6.1}% {:>6.1}% {:>6.1}% {:>6.1}% {:>6.1}%",
        100.0 * m.token_accuracy,
        100.0 * m.onset_precision,
        100.0 * m.onset_recall,
        100.0 * m.onset_f1,
        100.0 * m.pitch_class_accuracy,
        100.0 * m.in_scale_rate,
        100.0 * m.empty_share,
    )
}

/// Prints the report as a table.
pub fn print_table(origin: &str, r: &EvalReport) {
    println!(
        "{origin} on {} {} pairs (baselines from {} training pairs; temperature {}, top-k {})",
        r.pairs, r.split, r.train_pairs, r.temperature, r.top_k
    );
    println!(
        "{:<22} {:>7} {:>7} {:>7} {:>7} {:>7} {:>7} {:>7}",
        "", "token", "onset P", "onset R", "F1", "pc acc", "in key", "empty"
    );
    println!("{}", row("model (in scale)", &r.model));
    println!("{}", row("model (unconstrained)", &r.model_unconstrained));
    println!("{}", row("model (greedy)", &r.model_greedy));
    println!("{}", row("root on every kick", &r.root_on_kicks));
    println!("{}", row("root on every 8th", &r.root_on_eighths));
    println!("{}", row("nearest training drums", &r.nearest));
}

/// Measures the model and the baselines on one split of the folders (the held-out test
/// songs by default; every pair when the folders have none in that split); baselines learn
/// from the train split.
pub fn eval_bass(args: EvalBassArgs) -> anyhow::Result<()> {
    let model = BassModel::load_or_embedded(args.model.as_deref())?;
    let corpus = load_corpus(&args.midi, args.cache)?;
    let mut pairs: Vec<EvalPair> = corpus.pairs(args.split).map(eval_pair).collect();
    if pairs.is_empty() {
        pairs = corpus.all_pairs().iter().map(eval_pair).collect();
    }
    if pairs.is_empty() {
        bail!("no drum+bass pairs in {:?}", args.midi);
    }
    let train: Vec<EvalPair> = corpus.pairs(Split::Train).map(eval_pair).collect();
    let mut report = evaluate(
        &model,
        &train,
        &pairs,
        args.temperature,
        args.top_k,
        args.seed,
    );
    report.split = args.split.name().to_string();
    if args.json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        print_table(model.origin(), &report);
    }
    Ok(())
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

/// Translates the drums of a scene or MIDI file into a bassline, prints it and optionally
/// writes it.
pub fn translate(args: TranslateArgs) -> anyhow::Result<()> {
    let model = BassModel::load_or_embedded(args.model.as_deref())?;
    let (drums, key, scale, bpm, scene) = read_input(args.input.as_deref())?;
    let options = TranslateOptions {
        key: args.key.unwrap_or(key),
        scale: args.scale.unwrap_or(scale),
        ..args.sampling
    };
    let bass = BassOutput::translate(&model, &drums, &options);
    println!("{}", bass.text());
    match args.out {
        Some(out) => write_parts(&out, &drums, Some(&bass), bpm, scene.unwrap_or_default()),
        None => Ok(()),
    }
}
