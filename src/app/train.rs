//! `ubiq train rhythm`, `ubiq train bass` and `ubiq train loops`: train a model on your own
//! material, with progress, early stopping and an atomic write.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::Context;
use burn::tensor::Device;
use clap::{Args, Subcommand};

use super::dataset::{SplitWindows, cache_mode, load_corpus, load_rhythm};
use super::progress::{cpu_seconds, epoch_bar, eta, format_duration, songs};
use crate::dataset::{BassPair, CacheMode, Split};
use crate::model::Backend;
use crate::model::bass::infer as bass_infer;
use crate::model::bass::train::{self as bass_train, Example};
use crate::model::bass::{BassModel, BassNetConfig};
use crate::model::loops::data::{TripletData, songs_of};
use crate::model::loops::infer::{self as loops_infer, LoopModel};
use crate::model::loops::model::LoopNetConfig;
use crate::model::loops::train as loops_train;
use crate::model::rhythm::infer as rhythm_infer;
use crate::model::rhythm::latent_map::LatentMap;
use crate::model::rhythm::train as rhythm_train;
use crate::model::rhythm::{RhythmModel, RhythmVaeConfig};
use crate::pattern::DrumPattern;
use crate::performance::query::render_query;

/// Training windows sampled into the latent map written beside the model.
pub const MAP_POINTS: usize = 2000;

/// `ubiq train …`.
#[derive(Subcommand, Debug)]
pub enum TrainCommand {
    /// Train the rhythm VAE on drum MIDI folders.
    Rhythm(TrainRhythmArgs),
    /// Trains the loop-compatibility model (Siamese CNN, triplet loss) on stems rendered from
    /// multi-track MIDI songs.
    Loops(TrainLoopsArgs),
    /// Train the rhythm → bassline model on multi-track MIDI songs (drums + bass).
    Bass(TrainBassArgs),
}

impl TrainCommand {
    /// Trains the model and writes it.
    pub fn run(self) -> anyhow::Result<ExitCode> {
        crate::model::train_loop::keep_freed_memory();
        match self {
            TrainCommand::Rhythm(args) => train_rhythm(&args)?,
            TrainCommand::Loops(args) => train_loops(&args)?,
            TrainCommand::Bass(args) => train_bass(&args)?,
        }
        Ok(ExitCode::SUCCESS)
    }
}

/// Options of `ubiq train rhythm`.
#[derive(Args, Debug)]
pub struct TrainRhythmArgs {
    /// MIDI folders (a Groove MIDI Dataset folder with info.csv uses its splits).
    #[arg(long, required = true, num_args = 1..)]
    pub midi: Vec<PathBuf>,
    /// Maximum epochs (early stopping may end sooner).
    #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..=10_000))]
    pub epochs: u64,
    /// Weights file to write; NAME.json and NAME.map.ron go beside it.
    #[arg(long, default_value = "models/rhythm.bpk")]
    pub out: PathBuf,
    /// Seed: the same data, settings and seed give the same model.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Burn backend.
    #[arg(long, value_enum, default_value_t = Backend::Flex)]
    pub backend: Backend,
    /// Final weight of the KL term (after warm-up).
    #[arg(long, default_value_t = 0.25)]
    pub beta: f64,
    /// When no song falls in the validation split (few files), validate on the last tenth of
    /// the training windows instead.
    #[arg(long)]
    pub valid_from_train: bool,
    /// More drum MIDI folders whose training windows join the training set once an epoch
    /// (the Groove MIDI Dataset beside a smaller style corpus, say); validation, early
    /// stopping and the latent map keep to the --midi folders.
    #[arg(long, num_args = 1..)]
    pub extra_midi: Vec<PathBuf>,
    /// Times each training window of the --midi folders is seen an epoch (against once for
    /// those of --extra-midi).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=100))]
    pub repeat: u32,
}

/// Options of `ubiq train loops`.
#[derive(Args, Debug)]
pub struct TrainLoopsArgs {
    /// Multi-track MIDI songs (files or folders).
    #[arg(long, required = true, num_args = 1..)]
    pub midi: Vec<PathBuf>,
    /// General MIDI SoundFonts (.sf2): each song's keys are rendered with them in turn.
    #[arg(long, required = true, num_args = 1..)]
    pub soundfont: Vec<PathBuf>,
    /// Where to write the weights (a .json with the metadata goes beside).
    #[arg(long, default_value = "models/loops.bpk")]
    pub out: PathBuf,
    /// Training configuration (JSON, as written into the model's .json under
    /// "training"); the built-in defaults when not given.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Most epochs (overrides the configuration).
    #[arg(long)]
    pub epochs: Option<usize>,
    /// Seed (overrides the configuration).
    #[arg(long)]
    pub seed: Option<u64>,
}

/// Options of `ubiq train bass`.
#[derive(Args, Debug)]
pub struct TrainBassArgs {
    /// MIDI folders with songs where drums and a bass play together.
    #[arg(long, required = true, num_args = 1..)]
    pub midi: Vec<PathBuf>,
    /// Maximum epochs (early stopping may end sooner).
    #[arg(long, default_value_t = 12, value_parser = clap::value_parser!(u64).range(1..=10_000))]
    pub epochs: u64,
    /// Weights file to write; NAME.json goes beside it.
    #[arg(long, default_value = "models/bass.bpk")]
    pub out: PathBuf,
    /// Seed: the same data, settings and seed give the same model.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Always extract the MIDI files; neither read nor write the dataset cache.
    #[arg(long)]
    pub no_cache: bool,
    /// When no song falls in the validation split (few files), validate on the last tenth of
    /// the training pairs instead.
    #[arg(long)]
    pub valid_from_train: bool,
    /// Keep every song of these corpora (a folder's name: `simutrans`) out of training and
    /// validation, to measure the model on them later (`ubiq eval bass --hold-out`).
    #[arg(long, value_name = "CORPUS", num_args = 1..)]
    pub hold_out: Vec<String>,
    /// Hidden units of each direction of the drum encoder.
    #[arg(long, default_value_t = 48)]
    pub encoder_hidden: usize,
    /// Hidden units of the bass decoder.
    #[arg(long, default_value_t = 96)]
    pub decoder_hidden: usize,
    /// Adam's learning rate.
    #[arg(long, default_value_t = 3e-3)]
    pub learning_rate: f64,
    /// Share of drum hits left out of each training example, drawn anew each time it is seen
    /// (0: none).
    #[arg(long, default_value_t = 0.0)]
    pub drop_hits: f32,
    /// Also keep the epoch whose likeliest lines have the best validation onset F1, as the
    /// rhythm network (`NAME.rhythm.bpk`): it chooses where notes start, the epoch of the
    /// lowest validation loss chooses their pitches.
    #[arg(long)]
    pub rhythm_by_onsets: bool,
}

/// With `--valid-from-train`, one training item in this many validates instead.
const HOLD_OUT: usize = 10;

/// What trains and what validates: the splits as they are, or (when no song fell in the
/// validation split and `from_train` asks for it) the last tenth of the training items, at
/// least one, held out. Without validation it says what to do, in words about `what`.
fn train_and_valid<T: Clone>(
    train: &[T],
    valid: &[T],
    from_train: bool,
    what: &str,
) -> anyhow::Result<(Vec<T>, Vec<T>)> {
    if !valid.is_empty() {
        return Ok((train.to_vec(), valid.to_vec()));
    }
    if !from_train {
        let instead = if train.len() >= 2 {
            format!(
                ", or pass --valid-from-train to validate on the last tenth of the {} training \
                 {what}",
                train.len()
            )
        } else {
            format!(" (these give {} training {what})", train.len())
        };
        anyhow::bail!(
            "no validation {what}: songs are split by a hash of their file name (8 in 10 \
             train, 1 in 10 validates, 1 in 10 tests) and none of these songs validates; give \
             more songs (10 or more files){instead}"
        );
    }
    if train.len() < 2 {
        anyhow::bail!(
            "--valid-from-train needs at least 2 training {what} (found {}): give more songs",
            train.len()
        );
    }
    let held = (train.len() / HOLD_OUT).max(1);
    let (keep, hold) = train.split_at(train.len() - held);
    eprintln!(
        "no song validates: holding out the last {held} of {} training {what} for validation",
        train.len()
    );
    Ok((keep.to_vec(), hold.to_vec()))
}

fn rhythm_progress_line(r: &rhythm_train::EpochReport) -> String {
    format!(
        "{} loss {:.2} · val {:.2}{} · β {:.2} · {} · ETA ≤{}",
        epoch_bar(r.epoch, r.epochs),
        r.train_loss,
        r.valid_loss,
        if r.improved { " *" } else { "  " },
        r.beta,
        format_duration(r.elapsed),
        format_duration(eta(r.elapsed, r.epoch, r.epochs)),
    )
}

/// Trains the rhythm VAE, writes it with its metadata and latent map and prints a summary
/// line.
fn train_rhythm(args: &TrainRhythmArgs) -> anyhow::Result<()> {
    let corpus = load_rhythm(&args.midi)?;
    let split = |s: Split| {
        let w = corpus.split(s);
        w.patterns
            .iter()
            .copied()
            .zip(w.styles.iter().cloned())
            .collect::<Vec<_>>()
    };
    let (train, valid) = train_and_valid(
        &split(Split::Train),
        &split(Split::Validation),
        args.valid_from_train,
        "windows",
    )?;
    let (patterns, styles) = train.into_iter().unzip();
    let train_set = &SplitWindows { patterns, styles };
    let (patterns, styles) = valid.into_iter().unzip();
    let valid_set = &SplitWindows { patterns, styles };
    let extra = if args.extra_midi.is_empty() {
        Vec::new()
    } else {
        load_rhythm(&args.extra_midi)?
            .split(Split::Train)
            .patterns
            .clone()
    };
    let fitted: Vec<DrumPattern> = (0..args.repeat)
        .flat_map(|_| train_set.patterns.iter().copied())
        .chain(extra.iter().copied())
        .collect();
    eprintln!(
        "training on {} windows ({} × {} of --midi, {} of --extra-midi), validating on {} ({} backend, seed {})",
        fitted.len(),
        args.repeat,
        train_set.patterns.len(),
        extra.len(),
        valid_set.patterns.len(),
        args.backend.name(),
        args.seed
    );
    let config = rhythm_train::TrainingConfig::new(RhythmVaeConfig::new())
        .with_epochs(args.epochs as usize)
        .with_seed(args.seed)
        .with_beta(args.beta);
    let device = args.backend.device();
    let trained = rhythm_train::train(&config, &fitted, &valid_set.patterns, &device, |r| {
        eprintln!("{}", rhythm_progress_line(r));
        let _ = std::io::stderr().flush();
    })?;
    let model = RhythmModel::new(trained.model, device, args.out.display().to_string());
    let meta = rhythm_infer::ModelMeta {
        kind: rhythm_infer::META_KIND.into(),
        training: config,
        stats: model.stats(),
        train_windows: fitted.len(),
        valid_windows: valid_set.patterns.len(),
        best_epoch: trained.best_epoch,
        best_valid_loss: trained.best_valid_loss,
        train_seconds: trained.elapsed.as_secs_f64(),
    };
    if let Some(dir) = args.out.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    model.save(&args.out, &meta)?;
    let map = LatentMap::build(
        &model,
        &train_set.patterns,
        &train_set.styles,
        MAP_POINTS,
        args.seed,
    );
    let map_path = args.out.with_extension("map.ron");
    crate::files::write_atomic(&map_path, map.to_ron()?.as_bytes())
        .with_context(|| format!("writing {}", map_path.display()))?;
    println!(
        "wrote {} (+ .json, .map.ron): {} epochs in {}, best epoch {} with validation loss {:.3}, {} training windows",
        args.out.display(),
        trained.epochs_run,
        format_duration(trained.elapsed),
        trained.best_epoch,
        trained.best_valid_loss,
        fitted.len()
    );
    Ok(())
}

fn example(p: &BassPair) -> Example {
    Example {
        drums: p.drums,
        bass: p.bass,
        key: p.key,
        scale: p.scale,
    }
}

fn bass_progress_line(r: &bass_train::EpochReport) -> String {
    format!(
        "{} loss {:.3} · val {:.3}{} · val acc {:.1}%{} · {} · ETA ≤{}",
        epoch_bar(r.epoch, r.epochs),
        r.train_loss,
        r.valid_loss,
        if r.improved { " *" } else { "  " },
        100.0 * r.valid_accuracy,
        r.valid_onset_f1
            .map(|f1| format!(
                " · val onset F1 {:.1}%{}",
                100.0 * f1,
                if r.rhythm_improved { " *" } else { "" }
            ))
            .unwrap_or_default(),
        format_duration(r.elapsed),
        format_duration(eta(r.elapsed, r.epoch, r.epochs)),
    )
}

/// Trains on the train split in all twelve keys, validates on the validation split, keeps the
/// best epoch and writes it with its metadata.
fn train_bass(args: &TrainBassArgs) -> anyhow::Result<()> {
    let corpus = load_corpus(&args.midi, cache_mode(args.no_cache))?;
    let kept = |split: Split| -> Vec<BassPair> {
        corpus
            .pairs(split)
            .filter(|p| !args.hold_out.iter().any(|h| h == p.source.corpus()))
            .cloned()
            .collect()
    };
    let (train_set, valid_set) = train_and_valid(
        &kept(Split::Train),
        &kept(Split::Validation),
        args.valid_from_train,
        "drum+bass pairs",
    )?;
    // The training pairs in all twelve keys.
    let train_set: Vec<Example> = train_set
        .iter()
        .flat_map(BassPair::in_all_keys)
        .map(|p| example(&p))
        .collect();
    let valid_set: Vec<Example> = valid_set.iter().map(example).collect();
    eprintln!(
        "training on {} drum+bass pairs (train split, 12 keys), validating on {} (seed {})",
        train_set.len(),
        valid_set.len(),
        args.seed
    );
    let net = BassNetConfig::new()
        .with_encoder_hidden(args.encoder_hidden)
        .with_decoder_hidden(args.decoder_hidden);
    let config = bass_train::TrainingConfig::new(net)
        .with_learning_rate(args.learning_rate)
        .with_drop_hits(args.drop_hits)
        .with_rhythm_by_onsets(args.rhythm_by_onsets)
        .with_epochs(args.epochs as usize)
        .with_seed(args.seed);
    let trained = bass_train::train(
        &config,
        &train_set,
        &valid_set,
        &Device::flex(),
        |r| eprintln!("\r{}", bass_progress_line(r)),
        |done, total| {
            if done % 50 == 0 || done == total {
                eprint!("\r  batch {done}/{total}");
                let _ = std::io::stderr().flush();
            }
        },
    )?;
    let mut model = BassModel::new(trained.net, args.out.display().to_string())?;
    if let Some(rhythm) = &trained.rhythm {
        model = model.with_rhythm(rhythm.net.clone())?;
    }
    let best_valid_accuracy = trained
        .history
        .iter()
        .find(|r| r.epoch == trained.best_epoch)
        .map_or(f64::NAN, |r| r.valid_accuracy);
    let meta = bass_infer::ModelMeta {
        kind: bass_infer::META_KIND.into(),
        training: config,
        train_examples: train_set.len(),
        valid_examples: valid_set.len(),
        best_epoch: trained.best_epoch,
        best_valid_loss: trained.best_valid_loss,
        best_valid_accuracy,
        train_seconds: trained.elapsed.as_secs_f64(),
        rhythm_epoch: trained.rhythm.as_ref().map(|r| r.epoch),
        rhythm_valid_onset_f1: trained.rhythm.as_ref().map(|r| r.onset_f1),
    };
    if let Some(dir) = args.out.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    model.save(&args.out, &meta)?;
    println!(
        "wrote {} (+ .json): {} epochs in {}, best epoch {} with validation loss {:.3} \
         (token accuracy {:.1}%){}, {} training pairs",
        args.out.display(),
        trained.epochs_run,
        format_duration(trained.elapsed),
        trained.best_epoch,
        trained.best_valid_loss,
        100.0 * best_valid_accuracy,
        trained
            .rhythm
            .as_ref()
            .map(|r| format!(
                "; rhythm (.rhythm.bpk) from epoch {} with onset F1 {:.1}%",
                r.epoch,
                100.0 * r.onset_f1
            ))
            .unwrap_or_default(),
        train_set.len()
    );
    Ok(())
}

/// The training configuration of `ubiq train loops`: the file's (JSON, the "training" object
/// of a model's metadata) or the defaults, with `epochs` and `seed` overriding.
pub fn training_config(
    path: Option<&Path>,
    epochs: Option<usize>,
    seed: Option<u64>,
) -> anyhow::Result<loops_train::TrainingConfig> {
    let mut config = match path {
        Some(p) => {
            let text =
                std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?;
            serde_json::from_str(&text).with_context(|| format!("{}", p.display()))?
        }
        None => default_training(),
    };
    if let Some(e) = epochs {
        config.epochs = e;
    }
    if let Some(s) = seed {
        config.seed = s;
    }
    Ok(config)
}

/// Renders the stems, trains the loop model (keeping the best epoch on disk as it goes) and
/// prints a summary line.
fn train_loops(args: &TrainLoopsArgs) -> anyhow::Result<()> {
    let config = training_config(args.config.as_deref(), args.epochs, args.seed)?;
    let out = args.out.as_path();
    let began = Instant::now();
    let used: Vec<_> = songs_of(&args.midi, &config.data)?
        .into_iter()
        .filter(|s| s.split != Split::Test)
        .collect();
    let data = TripletData::build(
        &used,
        &args.soundfont,
        &render_query,
        &config.data,
        true,
        &CacheMode::Default,
        songs("rendering stems"),
    )?;
    let ntrain = data.indices(Split::Train).len();
    let nvalid = data.indices(Split::Validation).len();
    let song_counts = (
        data.song_count(Split::Train),
        data.song_count(Split::Validation),
    );
    println!(
        "{} + {} songs, {ntrain} training renders ({} keys a window) and {nvalid} validation windows ({:.0} s)",
        song_counts.0,
        song_counts.1,
        config.data.train_keys,
        began.elapsed().as_secs_f64()
    );
    let device = Device::flex();
    let corpora: std::collections::BTreeSet<&str> =
        (0..data.songs.len()).map(|i| data.corpus(i)).collect();
    let fonts: Vec<String> = args
        .soundfont
        .iter()
        .map(|f| {
            f.file_name().map_or_else(
                || f.display().to_string(),
                |n| n.to_string_lossy().into_owned(),
            )
        })
        .collect();
    let data_line = format!(
        "{} + {} songs of {}; {ntrain} training renders / {nvalid} validation windows (split by song, grouped corpora by group); SoundFonts {}",
        song_counts.0,
        song_counts.1,
        corpora.into_iter().collect::<Vec<_>>().join(", "),
        fonts.join(", ")
    );
    let meta = |best_epoch: usize, accuracy: [f64; 2], training: Duration| loops_infer::ModelMeta {
        kind: "ubiq-loop-cnn".into(),
        training: config.clone(),
        data: data_line.clone(),
        best_epoch,
        valid_accuracy: accuracy[0],
        valid_accuracy_ubiq: accuracy[1],
        training_seconds: training.as_secs_f64(),
        cpu_seconds: cpu_seconds(),
    };
    let origin = out.display().to_string();
    let trained = loops_train::train(
        &config,
        &data,
        &device,
        |r, best| {
            eprintln!(
                "\repoch {:>2}/{}  loss {:.4}  valid accuracy {:.3} (soundfont) {:.3} (ubiq)  {:.0} s{}",
                r.epoch,
                r.epochs,
                r.train_loss,
                r.valid_accuracy[0],
                r.valid_accuracy[1],
                r.elapsed.as_secs_f64(),
                if best.is_some() {
                    "  (best so far, saved)"
                } else {
                    ""
                }
            );
            // The best epoch so far is kept on disk, so a stopped run still leaves a model.
            if let Some(net) = best {
                let model = LoopModel::new(net.clone(), device.clone(), &origin);
                if let Err(e) = model.save(out, &meta(r.epoch, r.valid_accuracy, r.elapsed)) {
                    eprintln!("cannot save {}: {e}", out.display());
                }
            }
        },
        |done, total| eprint!("\r  batch {done}/{total}"),
    )?;
    let model = LoopModel::new(trained.model, device.clone(), &origin);
    let meta = meta(
        trained.best_epoch,
        trained.best_valid_accuracy,
        trained.elapsed,
    );
    model.save(out, &meta)?;
    println!(
        "saved {} (best epoch {}, validation triplet accuracy {:.3} soundfont / {:.3} ubiq anchors; training {:.0} s, whole run {:.0} s wall{})",
        out.display(),
        trained.best_epoch,
        trained.best_valid_accuracy[0],
        trained.best_valid_accuracy[1],
        trained.elapsed.as_secs_f64(),
        began.elapsed().as_secs_f64(),
        meta.cpu_seconds
            .map(|c| format!(", {c:.0} s CPU"))
            .unwrap_or_default()
    );
    Ok(())
}

/// Default training configuration.
pub fn default_training() -> loops_train::TrainingConfig {
    loops_train::TrainingConfig::new(LoopNetConfig::new())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_loop_training_defaults_are_the_shipped_models_settings() {
        // So the command in models/loops.manifest.md, with no --config, trains it again.
        let meta: loops_infer::ModelMeta =
            serde_json::from_str(include_str!("../../models/loops.json")).unwrap();
        let text = |c: &loops_train::TrainingConfig| serde_json::to_string(c).unwrap();
        assert_eq!(text(&meta.training), text(&default_training()));
    }

    #[test]
    fn without_a_validation_song_training_says_what_to_do() {
        let train: Vec<u32> = (0..25).collect();
        let err = train_and_valid(&train, &[], false, "windows")
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("no validation windows: ")
                && err.contains("10 or more files")
                && err.contains("--valid-from-train")
                && err.contains("the 25 training windows"),
            "{err}"
        );
        let (keep, hold) = train_and_valid(&train, &[], true, "windows").unwrap();
        assert_eq!((keep.len(), hold), (23, vec![23, 24]));
        let (keep, hold) = train_and_valid(&train, &[99], true, "windows").unwrap();
        assert_eq!(
            (keep.len(), hold),
            (25, vec![99]),
            "a validation split is kept"
        );
        let err = train_and_valid(&[1], &[], true, "drum+bass pairs").unwrap_err();
        assert!(err.to_string().contains("at least 2"), "{err}");
        let err = train_and_valid(&[1], &[], false, "windows").unwrap_err();
        assert!(
            err.to_string()
                .ends_with("give more songs (10 or more files) (these give 1 training windows)"),
            "{err}"
        );
    }
}
