//! `ubiq eval rhythm`, `ubiq eval bass` and `ubiq eval loops`: measure a model and its
//! baselines on held-out songs (see [`crate::model::rhythm::eval`],
//! [`crate::model::bass::eval`] and [`crate::model::loops::eval`] for what and the JSON keys).

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, bail};
use burn::tensor::Device;
use clap::{Args, Subcommand};

use super::dataset::{cache_mode, load_corpus, load_rhythm};
use super::loops::open_model;
use super::progress::songs;
use crate::dataset::{BassPair, CacheMode, Split};
use crate::model::Backend;
use crate::model::bass::BassModel;
use crate::model::bass::eval::{self as bass_eval, EvalPair, Metrics};
use crate::model::loops::data::{DataConfig, TripletData};
use crate::model::loops::eval as loops_eval;
use crate::model::rhythm::RhythmModel;
use crate::model::rhythm::eval::{self as rhythm_eval, Reconstruction};
use crate::performance::query::render_query;

/// `ubiq eval …`.
#[derive(Subcommand, Debug)]
pub enum EvalCommand {
    /// Reconstruction, baselines, conditioning control and diversity of the rhythm VAE.
    Rhythm(EvalRhythmArgs),
    /// Triplet accuracy and ROC-AUC of the loop model and two baselines on test songs.
    Loops(EvalLoopsArgs),
    /// Token accuracy, note onsets, pitch classes, scale and empty lines of the bass model
    /// and three baselines on the held-out songs.
    Bass(EvalBassArgs),
}

impl EvalCommand {
    /// Measures the model and prints the report.
    pub fn run(self) -> anyhow::Result<ExitCode> {
        match self {
            EvalCommand::Rhythm(args) => eval_rhythm(&args)?,
            EvalCommand::Loops(args) => eval_loops(&args)?,
            EvalCommand::Bass(args) => eval_bass(&args)?,
        }
        Ok(ExitCode::SUCCESS)
    }
}

/// Options of `ubiq eval rhythm`.
#[derive(Args, Debug)]
pub struct EvalRhythmArgs {
    /// MIDI folders to measure on (the test split of a Groove MIDI Dataset folder).
    #[arg(long, required = true, num_args = 1..)]
    pub midi: Vec<PathBuf>,
    /// Model file (the embedded default when not given).
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// Print one JSON object.
    #[arg(long)]
    pub json: bool,
    /// Seed of the sampled measures.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

/// Options of `ubiq eval loops`.
#[derive(Args, Debug)]
pub struct EvalLoopsArgs {
    /// Multi-track MIDI songs (files or folders).
    #[arg(long, required = true, num_args = 1..)]
    pub midi: Vec<PathBuf>,
    /// General MIDI SoundFont (.sf2).
    #[arg(long)]
    pub soundfont: PathBuf,
    /// Model (default: the embedded one).
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// Prints JSON.
    #[arg(long)]
    pub json: bool,
    /// Seed of the negatives and the random baseline.
    #[arg(long, default_value_t = 11)]
    pub seed: u64,
    /// Songs to measure on: test (held out), validation (used to choose settings) or train.
    #[arg(long, default_value = "test")]
    pub split: String,
}

/// Options of `ubiq eval bass`.
#[derive(Args, Debug)]
pub struct EvalBassArgs {
    /// MIDI folders (their test split is measured).
    #[arg(long, required = true, num_args = 1..)]
    pub midi: Vec<PathBuf>,
    /// Model file (the embedded default when not given).
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// Print one JSON object.
    #[arg(long)]
    pub json: bool,
    /// Sampling temperature of the model rows.
    #[arg(long, default_value_t = crate::model::bass::infer::DEFAULT_TEMPERATURE)]
    pub temperature: f32,
    /// Top-k of the model rows' pitch sampling (0: all pitches).
    #[arg(long, default_value_t = crate::model::bass::infer::DEFAULT_TOP_K)]
    pub top_k: usize,
    /// Seed of the sampling.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Split to measure: test (held-out songs) or validation (for choosing settings).
    #[arg(long, default_value = "test", value_parser = parse_split)]
    pub split: Split,
    /// Always extract the MIDI files; neither read nor write the dataset cache.
    #[arg(long)]
    pub no_cache: bool,
}

fn parse_split(text: &str) -> anyhow::Result<Split> {
    Split::from_name(text)
        .ok_or_else(|| anyhow::anyhow!("{text:?} is not a split (train, validation, test)"))
}

fn rhythm_row(name: &str, r: &Reconstruction) -> String {
    format!(
        "{name:<18} P {:.3}  R {:.3}  F1 {:.3}  vel MAE {:.3}  offset MAE {:.3}{}",
        r.precision,
        r.recall,
        r.f1,
        r.velocity_mae,
        r.offset_mae,
        r.kl.map(|k| format!("  KL {k:.3}")).unwrap_or_default()
    )
}

/// Prints the rhythm report as a table.
fn print_rhythm_table(origin: &str, report: &rhythm_eval::EvalReport) {
    println!(
        "{origin} on {} windows (baselines from {} training windows)",
        report.windows, report.train_windows
    );
    println!("{}", rhythm_row("vae", &report.model));
    println!("{}", rhythm_row("baseline mean", &report.baseline_mean));
    println!(
        "{}",
        rhythm_row("baseline nearest", &report.baseline_nearest)
    );
    println!(
        "conditioning       Spearman kick {:.3}  hats {:.3}  ({} points each)",
        report.conditioning.kick_spearman,
        report.conditioning.hats_spearman,
        report.conditioning.points
    );
    println!(
        "diversity          {:.1}% distinct of {}  ·  kick on downbeat {:.1}%",
        100.0 * report.diversity.distinct_share,
        report.diversity.samples,
        100.0 * report.diversity.kick_downbeat_share
    );
}

/// Evaluates the rhythm VAE on the test split of the folders; the baselines learn from the
/// training split.
fn eval_rhythm(args: &EvalRhythmArgs) -> anyhow::Result<()> {
    let model = RhythmModel::load_or_embedded(args.model.as_deref(), Backend::Flex.device())?;
    let corpus = load_rhythm(&args.midi)?;
    let windows = &corpus.split(Split::Test).patterns;
    let train = corpus.split(Split::Train);
    let report = rhythm_eval::evaluate(&model, &train.patterns, windows, args.seed);
    if args.json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        print_rhythm_table(model.origin(), &report);
    }
    Ok(())
}

fn eval_pair(p: &BassPair) -> EvalPair {
    EvalPair {
        drums: p.drums,
        bass: p.bass,
        key: p.key,
        scale: p.scale,
    }
}

fn bass_row(name: &str, m: &Metrics) -> String {
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

/// Prints the bass report as a table.
fn print_bass_table(origin: &str, r: &bass_eval::EvalReport) {
    println!(
        "{origin} on {} {} pairs (baselines from {} training pairs; temperature {}, top-k {})",
        r.pairs, r.split, r.train_pairs, r.temperature, r.top_k
    );
    println!(
        "{:<22} {:>7} {:>7} {:>7} {:>7} {:>7} {:>7} {:>7}",
        "", "token", "onset P", "onset R", "F1", "pc acc", "in key", "empty"
    );
    println!("{}", bass_row("model (in scale)", &r.model));
    println!(
        "{}",
        bass_row("model (unconstrained)", &r.model_unconstrained)
    );
    println!("{}", bass_row("model (greedy)", &r.model_greedy));
    println!("{}", bass_row("root on every kick", &r.root_on_kicks));
    println!("{}", bass_row("root on every 8th", &r.root_on_eighths));
    println!("{}", bass_row("nearest training drums", &r.nearest));
}

/// Measures the model and the baselines on one split of the folders (the held-out test
/// songs by default; every pair when the folders have none in that split); baselines learn
/// from the train split.
fn eval_bass(args: &EvalBassArgs) -> anyhow::Result<()> {
    let model = BassModel::load_or_embedded(args.model.as_deref())?;
    let corpus = load_corpus(&args.midi, cache_mode(args.no_cache))?;
    let mut pairs: Vec<EvalPair> = corpus.pairs(args.split).map(eval_pair).collect();
    if pairs.is_empty() {
        pairs = corpus.all_pairs().iter().map(eval_pair).collect();
    }
    if pairs.is_empty() {
        bail!("no drum+bass pairs in {:?}", args.midi);
    }
    let train: Vec<EvalPair> = corpus.pairs(Split::Train).map(eval_pair).collect();
    let mut report = bass_eval::evaluate(
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
        print_bass_table(model.origin(), &report);
    }
    Ok(())
}

/// Negatives per anchor window in `ubiq eval loops`.
pub const EVAL_NEGATIVES: usize = 4;

/// `ubiq eval loops`: the model and the baselines on every window of the `split` songs
/// (`test`, `validation`, or `train` to see how closely the model fits its training songs),
/// [`EVAL_NEGATIVES`] negatives an anchor, untransposed renders only.
fn eval_loops(args: &EvalLoopsArgs) -> anyhow::Result<()> {
    let seed = args.seed;
    let split = match args.split.as_str() {
        "test" => Split::Test,
        "validation" => Split::Validation,
        "train" => Split::Train,
        other => bail!("unknown split {other:?} (expected test, validation or train)"),
    };
    let m = open_model(args.model.as_deref())?;
    let data_config = m.data_config().cloned().unwrap_or_else(DataConfig::new);
    let data = TripletData::build(
        &args.midi,
        &args.soundfont,
        &render_query,
        &data_config,
        &[split],
        &CacheMode::Default,
        songs("rendering stems"),
    )?;
    let triplets = data.triplets(split, EVAL_NEGATIVES, seed);
    if triplets.is_empty() {
        bail!("no {} triplets under the given folders", split.name());
    }
    let started = Instant::now();
    let report = loops_eval::evaluate(m.net(), &data, &triplets, &Device::flex(), seed);
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report).context("json")?);
    } else {
        println!(
            "{}: {} {} songs, {} windows, {} triplets ({:.1} s)",
            m.origin,
            report.songs,
            split.name(),
            report.windows,
            report.triplets,
            started.elapsed().as_secs_f64()
        );
        for k in &report.kinds {
            println!("  {} anchors:", k.anchor.name());
            for (name, s) in [
                ("model", k.model),
                ("features", k.features),
                ("random", k.random),
            ] {
                println!(
                    "    {name:<9} triplet accuracy {:.3}  ROC-AUC {:.3}",
                    s.triplet_accuracy, s.roc_auc
                );
            }
        }
    }
    Ok(())
}
