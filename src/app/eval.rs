//! `ubiq eval rhythm`, `ubiq eval bass` and `ubiq eval loops`: measure a model and its
//! baselines on held-out songs (see [`crate::model::rhythm::eval`],
//! [`crate::model::bass::eval`] and [`crate::model::loops::eval`] for what and the JSON keys);
//! `ubiq eval set`, `ubiq eval keys` and `ubiq eval mix`: measure what rendered sets play and
//! how they sound ([`crate::engine::played`], [`crate::engine::loudness`]).

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, bail};
use burn::tensor::Device;
use clap::{Args, Subcommand};

use super::dataset::{cache_mode, load_corpus, load_rhythm};
use super::loops::open_model;
use super::models::ModelArgs;
use super::progress::songs;
use crate::dataset::{BassPair, CacheMode, Split};
use crate::engine::loudness::{BANDS, MixReport};
use crate::engine::offline::Rendered;
use crate::engine::played::{
    bass_style, drum_windows, loop_bass_correlation, loop_change_count, loop_changes, loop_key_fit,
};
use crate::engine::pulse::{pulse_bpm, rms_dbfs};
use crate::engine::render::{RenderOptions, render_set};
use crate::loops::LoopSet;
use crate::loops::library::Library;
use crate::model::Backend;
use crate::model::bass::BassModel;
use crate::model::bass::eval::{self as bass_eval, EvalPair, Metrics};
use crate::model::bass::style::{LineStats, line_stats};
use crate::model::loops::data::{DataConfig, TripletData, songs_of};
use crate::model::loops::eval as loops_eval;
use crate::model::loops::train::WindowEmbeddings;
use crate::model::registry::Models;
use crate::model::rhythm::RhythmModel;
use crate::model::rhythm::eval::{self as rhythm_eval, Reconstruction};
use crate::model::rhythm::style::{GrooveStats, GrooveTally};
use crate::pattern::DrumPattern;
use crate::pattern::{Key, Scale};
use crate::performance::query::render_query;
use crate::scene::{Scene, library};
use serde::Serialize;

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
    /// Render scenes with the AI and measure what their bass played (tonic share, repeated
    /// notes, notes a bar, range, notes on kicks) and their drums (distinct cycles, change
    /// from cycle to cycle, kick velocity, syncopation), next to human lines and drummers.
    Set(EvalSetArgs),
    /// How the keys heard in a library's music loops agree with the keys of the notes they
    /// were rendered from (loops named `SONG_bBEAT`).
    Keys(EvalKeysArgs),
    /// Render scenes and measure their mix as a listener's meters would: integrated loudness,
    /// true and sample peak, DC offset, the power in frequency bands, and how the short-term
    /// loudness moves from cycle to cycle (and when the AI takes over).
    Mix(EvalMixArgs),
}

impl EvalCommand {
    /// Measures the model and prints the report.
    pub fn run(self) -> anyhow::Result<ExitCode> {
        match self {
            EvalCommand::Rhythm(args) => eval_rhythm(&args)?,
            EvalCommand::Loops(args) => eval_loops(&args)?,
            EvalCommand::Bass(args) => eval_bass(&args)?,
            EvalCommand::Set(args) => eval_set(&args)?,
            EvalCommand::Keys(args) => eval_keys(&args)?,
            EvalCommand::Mix(args) => eval_mix(&args)?,
        }
        Ok(ExitCode::SUCCESS)
    }
}

/// Options of `ubiq eval mix`.
#[derive(Args, Debug)]
pub struct EvalMixArgs {
    /// Scene files or shipped scene names (default: every shipped scene).
    pub scenes: Vec<String>,
    /// Length of each render in bars.
    #[arg(long, default_value_t = 32)]
    pub bars: u32,
    /// Seeds to render each scene with.
    #[arg(long, num_args = 1.., default_values_t = [1u64])]
    pub seeds: Vec<u64>,
    /// Play the scenes as written, without the AI.
    #[arg(long)]
    pub no_ai: bool,
    /// Where the models and the loop library come from.
    #[command(flatten)]
    pub models: ModelArgs,
    /// Print one JSON object.
    #[arg(long)]
    pub json: bool,
}

/// One render's row of `ubiq eval mix`.
#[derive(Debug, Serialize)]
struct MixRow {
    scene: String,
    seed: u64,
    #[serde(flatten)]
    report: MixReport,
    /// The cycle (from 0) whose pattern the AI wrote first, if it played.
    ai_from: Option<usize>,
    /// Short-term loudness change into that cycle, in dB.
    ai_change_db: Option<f64>,
    /// Largest short-term loudness change between two cycles in a row, in dB, from the
    /// second cycle on (the first holds the reverb's and limiter's start).
    largest_change_db: Option<f64>,
}

fn eval_mix(args: &EvalMixArgs) -> anyhow::Result<()> {
    let scenes: Vec<String> = if args.scenes.is_empty() {
        library::SHIPPED
            .iter()
            .map(|(n, _)| n.to_string())
            .collect()
    } else {
        args.scenes.clone()
    };
    let mut models = args.models.load_unless(args.no_ai);
    let rows = each_render(&scenes, &args.seeds, args.bars, &mut models, |set, _| {
        let rate = set.options.sample_rate;
        let report = MixReport::measure(&set.rendered.samples, rate, set.scene.cycle_frames(rate))
            .with_context(|| format!("measuring {}", set.name))?;
        // A turn at cycle c queues the pattern cycle c + 1 plays.
        let ai_from = set
            .rendered
            .turns
            .first()
            .filter(|_| !args.no_ai)
            .map(|t| t.cycle as usize + 1);
        Ok(MixRow {
            scene: set.name.to_string(),
            seed: set.options.seed,
            ai_change_db: ai_from.and_then(|c| report.change_into(c)),
            largest_change_db: report.largest_change(1),
            ai_from,
            report,
        })
    })?;
    if args.json {
        println!(
            "{}",
            serde_json::json!({ "bars": args.bars, "bands_hz": BANDS, "renders": rows })
        );
        return Ok(());
    }
    println!(
        "{:<20} {:>7} {:>7} {:>7} {:>7}  {:>6} {:>6} {:>6} {:>6} {:>6}  {:>9} {:>8}",
        format!("mix, {} bars", args.bars),
        "LUFS-I",
        "dBTP",
        "peak",
        "DC",
        "<100",
        "-500",
        "-2k",
        "-8k",
        ">8k",
        "AI in dB",
        "max step"
    );
    for row in &rows {
        let r = &row.report;
        let shares: Vec<String> = r
            .band_shares
            .iter()
            .map(|s| format!("{:>5.1}%", 100.0 * s))
            .collect();
        let db = |v: Option<f64>| v.map_or("–".into(), |v| format!("{v:+.1}"));
        println!(
            "{:<20} {:>7.1} {:>7.1} {:>7.1} {:>7.4}  {}  {:>9} {:>8}",
            format!("{} seed {}", row.scene, row.seed),
            r.integrated_lufs,
            r.true_peak_dbtp,
            r.sample_peak_dbfs,
            r.dc,
            shares.join(" "),
            db(row.ai_change_db).to_string()
                + &row.ai_from.map_or(String::new(), |c| format!(" @{c}")),
            row.largest_change_db
                .map_or("–".into(), |v| format!("{v:.1}")),
        );
    }
    Ok(())
}

/// Options of `ubiq eval keys`.
#[derive(Args, Debug)]
pub struct EvalKeysArgs {
    /// MIDI folders holding the songs the loops were rendered from.
    #[arg(long, required = true, num_args = 1..)]
    pub midi: Vec<PathBuf>,
    /// Loop library folder.
    #[arg(long, default_value = "loops")]
    pub loops: PathBuf,
}

/// Options of `ubiq eval rhythm`.
#[derive(Args, Debug)]
pub struct EvalRhythmArgs {
    /// MIDI folders to measure on (their test split by default).
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
    /// Windows to measure: test (held-out songs), validation (for choosing settings), or all
    /// (every window of the folders: music none of the training data holds; give
    /// --train-midi).
    #[arg(long, default_value = "test", value_parser = parse_songs)]
    pub split: Songs,
    /// The training corpus the baselines learn from (its train split; the nearest-pattern
    /// baseline searches all of it), when it is not the folders measured.
    #[arg(long, num_args = 1..)]
    pub train_midi: Vec<PathBuf>,
}

/// Options of `ubiq eval loops`.
#[derive(Args, Debug)]
pub struct EvalLoopsArgs {
    /// Multi-track MIDI songs (files or folders).
    #[arg(long, required = true, num_args = 1..)]
    pub midi: Vec<PathBuf>,
    /// General MIDI SoundFonts (.sf2): the songs are measured with each in turn.
    #[arg(long, required = true, num_args = 1..)]
    pub soundfont: Vec<PathBuf>,
    /// Model (default: the embedded one).
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// Prints JSON.
    #[arg(long)]
    pub json: bool,
    /// Seed of the negatives and the random baseline.
    #[arg(long, default_value_t = 11)]
    pub seed: u64,
    /// Songs to measure on: test (held out), validation (used to choose settings), train, or
    /// all (every song: for a source held out of training).
    #[arg(long, default_value = "test", value_parser = parse_songs)]
    pub split: Songs,
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
    /// Rhythm temperature of the model rows (rest, hold or a new note at each step).
    #[arg(long, default_value_t = crate::model::bass::infer::DEFAULT_TEMPERATURE)]
    pub temperature: f32,
    /// Pitch temperature of the model rows.
    #[arg(long, default_value_t = crate::model::bass::infer::DEFAULT_PITCH_TEMPERATURE)]
    pub pitch_temperature: f32,
    /// Top-k of the model rows' pitch sampling (0: all pitches).
    #[arg(long, default_value_t = crate::model::bass::infer::DEFAULT_TOP_K)]
    pub top_k: usize,
    /// Seed of the sampling.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Songs to measure: test (held-out songs), validation (for choosing settings), or all
    /// (every song of the folders: music none of the training data holds; give
    /// --train-midi).
    #[arg(long, default_value = "test", value_parser = parse_songs)]
    pub split: Songs,
    /// The training corpus the baselines learn from (its train split), when it is not the
    /// folders measured.
    #[arg(long, num_args = 1..)]
    pub train_midi: Vec<PathBuf>,
    /// Measure every song of one corpus (a folder's name: `simutrans`, `mma`), the
    /// baselines learning from the others: how the model does on a source kept out of its
    /// training (`ubiq train bass --hold-out` keeps it out).
    #[arg(long, value_name = "CORPUS")]
    pub hold_out: Option<String>,
    /// Always extract the MIDI files; neither read nor write the dataset cache.
    #[arg(long)]
    pub no_cache: bool,
}

/// Options of `ubiq eval set`.
#[derive(Args, Debug)]
pub struct EvalSetArgs {
    /// Scene files or shipped scene names.
    #[arg(required = true)]
    pub scenes: Vec<String>,
    /// Length of each render in bars.
    #[arg(long, default_value_t = 64)]
    pub bars: u32,
    /// Seeds to render each scene with.
    #[arg(long, num_args = 1.., default_values_t = [1u64, 2])]
    pub seeds: Vec<u64>,
    /// Multi-track MIDI songs whose bass lines are the human reference (every song).
    #[arg(long, num_args = 1..)]
    pub midi: Vec<PathBuf>,
    /// Drum MIDI folders whose two-bar windows, one after another in each song, are the
    /// drummers' reference (every song; the Groove MIDI Dataset, say).
    #[arg(long, num_args = 1..)]
    pub drum_midi: Vec<PathBuf>,
    /// Play the scenes as written, without the AI (the reference the AI is compared with).
    #[arg(long)]
    pub no_ai: bool,
    /// Where the models and the loop library come from.
    #[command(flatten)]
    pub models: ModelArgs,
    /// Print one JSON object.
    #[arg(long)]
    pub json: bool,
}

/// Which songs `ubiq eval bass` measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Songs {
    /// One split.
    Split(Split),
    /// Every song.
    All,
}

fn parse_songs(text: &str) -> anyhow::Result<Songs> {
    if text == "all" {
        return Ok(Songs::All);
    }
    Split::from_name(text)
        .map(Songs::Split)
        .ok_or_else(|| anyhow::anyhow!("{text:?} is not a split (train, validation, test) or all"))
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
    let windows: Vec<DrumPattern> = match args.split {
        Songs::Split(split) => corpus.split(split).patterns.clone(),
        Songs::All => Split::ALL
            .iter()
            .flat_map(|&s| corpus.split(s).patterns.iter().copied())
            .collect(),
    };
    let training = if args.train_midi.is_empty() {
        if args.split == Songs::All {
            bail!(
                "--split all measures every window: give --train-midi (the training corpus) \
                 for the baselines to learn from"
            );
        }
        None
    } else {
        Some(load_rhythm(&args.train_midi)?)
    };
    let train = training.as_ref().unwrap_or(&corpus).split(Split::Train);
    let report = rhythm_eval::evaluate(&model, &train.patterns, &windows, args.seed);
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
        "{origin} on {} {} pairs (baselines from {} training pairs; temperature {}, pitch temperature {}, top-k {})",
        r.pairs, r.split, r.train_pairs, r.temperature, r.pitch_temperature, r.top_k
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
    println!();
    println!(
        "{:<22} {:>7} {:>7} {:>7} {:>7} {:>7} {:>7}",
        "how the lines move", "tonic", "repeat", "n/bar", "range", "pc dist", "on kick"
    );
    let st = &r.style;
    for (name, s) in [
        ("the songs' lines", &st.human),
        ("model (in scale)", &st.model),
        ("model (greedy)", &st.model_greedy),
        ("root on every kick", &st.root_on_kicks),
        ("root on every 8th", &st.root_on_eighths),
        ("nearest training drums", &st.nearest),
    ] {
        println!("{}", style_row(name, s, &st.human));
    }
}

fn style_row(name: &str, s: &LineStats, human: &LineStats) -> String {
    format!(
        "{name:<22} {:>6.1}% {:>6.1}% {:>7.2} {:>7.1} {:>7.3} {:>6.1}%",
        100.0 * s.tonic_share,
        100.0 * s.repeated_ratio,
        s.notes_per_bar,
        s.range,
        s.pitch_class_distance(human),
        100.0 * s.on_kick_share,
    )
}

/// Measures the model and the baselines on one split of the folders (the held-out test
/// songs by default), every song of them, or every song of one corpus held out; the
/// baselines learn from the train split of the training corpus.
fn eval_bass(args: &EvalBassArgs) -> anyhow::Result<()> {
    let model = BassModel::load_or_embedded(args.model.as_deref())?;
    let corpus = load_corpus(&args.midi, cache_mode(args.no_cache))?;
    let kept_out = |p: &&BassPair| Some(p.source.corpus()) == args.hold_out.as_deref();
    let (pairs, label): (Vec<EvalPair>, String) = match (&args.hold_out, args.split) {
        (Some(name), _) => {
            let pairs: Vec<EvalPair> = corpus
                .all_pairs()
                .iter()
                .filter(kept_out)
                .map(eval_pair)
                .collect();
            if pairs.is_empty() {
                let mut names: Vec<&str> = corpus
                    .all_pairs()
                    .iter()
                    .map(|p| p.source.corpus())
                    .collect();
                names.dedup();
                bail!(
                    "no songs of {name:?} in the folders given (corpora: {})",
                    names.join(", ")
                );
            }
            (pairs, format!("held-out {name}"))
        }
        (None, Songs::All) => {
            if args.train_midi.is_empty() {
                bail!(
                    "--split all measures every song: give --train-midi (the training corpus) \
                     for the baselines to learn from"
                );
            }
            let pairs = corpus.all_pairs().iter().map(eval_pair).collect();
            (pairs, "all".to_string())
        }
        (None, Songs::Split(split)) => (
            corpus.pairs(split).map(eval_pair).collect(),
            split.name().to_string(),
        ),
    };
    if pairs.is_empty() {
        bail!("no drum+bass pairs in {:?} ({label})", args.midi);
    }
    let train: Vec<EvalPair> = if args.train_midi.is_empty() {
        corpus
            .pairs(Split::Train)
            .filter(|p| !kept_out(p))
            .map(eval_pair)
            .collect()
    } else {
        load_corpus(&args.train_midi, cache_mode(args.no_cache))?
            .pairs(Split::Train)
            .filter(|p| !kept_out(p))
            .map(eval_pair)
            .collect()
    };
    let mut report = bass_eval::evaluate(
        &model,
        &train,
        &pairs,
        (args.temperature, args.pitch_temperature),
        args.top_k,
        args.seed,
    );
    report.split = label;
    if args.json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        print_bass_table(model.origin(), &report);
    }
    Ok(())
}

/// One render measured by `ubiq eval set`.
#[derive(Debug, Serialize)]
struct SetRow {
    scene: String,
    seed: u64,
    bass: LineStats,
    drums: GrooveStats,
    /// Root-mean-square distance of the latent point from its mean over the set's AI turns
    /// (0: it stood still).
    latent_spread: f64,
    /// The tempo a beat tracker hears in the audio (BPM).
    pulse_bpm: Option<f32>,
    /// The scene's tempo.
    tempo: f32,
    /// RMS level of the audio, dBFS.
    rms_dbfs: f64,
    /// Bars of the render per change of the music loop to another, none when it never
    /// changed.
    music_bars_per_change: Option<f64>,
    /// Share of cycles whose music loop sounds in the set's key or its relative (of those
    /// playing a loop with a known key).
    music_key_fit: Option<f64>,
    /// The same share for a loop picked at random: the library's music loops with a key
    /// that fit the scene's key.
    random_key_fit: Option<f64>,
    /// Mean correlation of the music loop's chroma with the bass's pitch classes, per cycle,
    /// and the same for a random loop of the library.
    music_bass_correlation: Option<(f64, f64)>,
}

/// The chroma (at their own pitch, C first) of every loop of a set that decodes.
fn loop_chromas(library: &Library, set: LoopSet) -> HashMap<String, [f64; 12]> {
    library
        .entries(set)
        .iter()
        .filter_map(|e| {
            let audio = library.load_audio(set, e).ok()?;
            Some((
                e.name.clone(),
                crate::loops::key::chroma(&audio).map(f64::from),
            ))
        })
        .collect()
}

/// The share of a set's loops with a known key that sound in `key` / `scale`.
fn library_key_fit(library: &Library, set: LoopSet, key: Key, scale: Scale) -> Option<f64> {
    let keys: Vec<_> = library
        .entries(set)
        .iter()
        .filter_map(|e| e.loop_key())
        .collect();
    let fitting = keys.iter().filter(|k| k.fits(key, scale)).count();
    (!keys.is_empty()).then(|| fitting as f64 / keys.len() as f64)
}

/// Root-mean-square distance of points from their mean.
fn spread(points: &[[f32; 2]]) -> f64 {
    let n = points.len().max(1) as f64;
    let mean = points.iter().fold([0.0f64; 2], |m, p| {
        [m[0] + f64::from(p[0]) / n, m[1] + f64::from(p[1]) / n]
    });
    let squares: f64 = points
        .iter()
        .map(|p| (f64::from(p[0]) - mean[0]).powi(2) + (f64::from(p[1]) - mean[1]).powi(2))
        .sum();
    (squares / n).sqrt()
}

/// The drummers' reference of `ubiq eval set`: the two-bar windows of every song on even
/// bars (bars 0–1, 2–3, …), as runs of consecutive windows (a run ends where a window is
/// missing, such as a duplicate left out of the corpus).
fn drum_reference(dirs: &[PathBuf]) -> anyhow::Result<GrooveStats> {
    let corpus = load_corpus(dirs, cache_mode(false))?;
    let mut windows: Vec<_> = corpus
        .all_drum_windows()
        .iter()
        .filter(|w| w.bar % 2 == 0)
        .collect();
    windows.sort_by(|a, b| (&a.source.song, a.bar).cmp(&(&b.source.song, b.bar)));
    let mut tally = GrooveTally::default();
    let mut run = Vec::new();
    for (i, w) in windows.iter().enumerate() {
        let follows = i > 0 && {
            let before = windows[i - 1];
            before.source.song == w.source.song && before.bar + 2 == w.bar
        };
        if !follows && !run.is_empty() {
            tally.add_run(&run);
            run.clear();
        }
        run.push(w.pattern);
    }
    tally.add_run(&run);
    Ok(tally.stats())
}

/// Renders every scene with every seed (the AI composing, as on stage) and measures the bass
/// it played; the human reference, when given, is every line of the folders.
/// One render `ubiq eval set` or `ubiq eval mix` measures.
struct SetRender<'a> {
    /// The scene as it was named.
    name: &'a str,
    scene: &'a Scene,
    options: RenderOptions,
    rendered: Rendered,
}

/// Renders every scene (a file or a shipped name) with every seed, `bars` bars at 48 kHz,
/// and makes each render a row with `row` (which also sees the models it played with).
fn each_render<R>(
    scenes: &[String],
    seeds: &[u64],
    bars: u32,
    models: &mut Models,
    mut row: impl FnMut(SetRender, &Models) -> anyhow::Result<R>,
) -> anyhow::Result<Vec<R>> {
    let mut rows = Vec::new();
    for name in scenes {
        let (scene, _) = library::resolve(Some(name))?;
        for &seed in seeds {
            let options = RenderOptions {
                bars,
                sample_rate: 48_000,
                seed,
            };
            let rendered = render_set(&scene, models, &options);
            let set = SetRender {
                name,
                scene: &scene,
                options,
                rendered,
            };
            rows.push(row(set, models)?);
        }
    }
    Ok(rows)
}

fn eval_set(args: &EvalSetArgs) -> anyhow::Result<()> {
    let human = if args.midi.is_empty() {
        None
    } else {
        let corpus = load_corpus(&args.midi, cache_mode(false))?;
        Some(line_stats(
            corpus.all_pairs().iter().map(|p| (&p.drums, &p.bass)),
        ))
    };
    let drummers = if args.drum_midi.is_empty() {
        None
    } else {
        Some(drum_reference(&args.drum_midi)?)
    };
    let mut models = args.models.load_unless(args.no_ai);
    let chromas = models
        .library
        .as_ref()
        .map(|lib| loop_chromas(lib, LoopSet::Music))
        .unwrap_or_default();
    let cycles = u64::from(args.bars / 2);
    let rows = each_render(
        &args.scenes,
        &args.seeds,
        args.bars,
        &mut models,
        |set, models| {
            let SetRender {
                name,
                scene,
                options,
                rendered,
            } = set;
            let mut windows = drum_windows(&rendered, scene.swing);
            windows.truncate(cycles as usize);
            let mut drums = GrooveTally::default();
            drums.add_run(&windows);
            let library = models.library.as_ref();
            let changes = loop_change_count(&loop_changes(&rendered, LoopSet::Music, cycles));
            Ok(SetRow {
                scene: name.to_string(),
                seed: options.seed,
                bass: bass_style(&rendered, scene.bass.key),
                drums: drums.stats(),
                latent_spread: spread(&rendered.turns.iter().map(|t| t.z).collect::<Vec<_>>()),
                pulse_bpm: pulse_bpm(&rendered.samples, options.sample_rate),
                tempo: scene.tempo,
                rms_dbfs: rms_dbfs(&rendered.samples),
                music_bars_per_change: (changes > 0).then(|| f64::from(args.bars) / changes as f64),
                music_key_fit: library.and_then(|lib| {
                    let start = (scene.bass.key, scene.bass.scale);
                    loop_key_fit(&rendered, LoopSet::Music, lib, start, cycles)
                }),
                random_key_fit: library.and_then(|lib| {
                    library_key_fit(lib, LoopSet::Music, scene.bass.key, scene.bass.scale)
                }),
                music_bass_correlation: loop_bass_correlation(
                    &rendered,
                    LoopSet::Music,
                    &chromas,
                    cycles,
                ),
            })
        },
    )?;
    if args.json {
        println!(
            "{}",
            serde_json::json!({
                "bars": args.bars,
                "renders": rows,
                "human": human,
                "drummers": drummers,
            })
        );
        return Ok(());
    }
    println!(
        "{:<22} {:>7} {:>7} {:>7} {:>7} {:>7} {:>7}",
        format!("bass, {} bars", args.bars),
        "tonic",
        "repeat",
        "n/bar",
        "range",
        "pc dist",
        "on kick"
    );
    let reference = human.unwrap_or_default();
    for row in &rows {
        let name = format!("{} seed {}", row.scene, row.seed);
        println!("{}", style_row(&name, &row.bass, &reference));
    }
    if let Some(h) = &human {
        println!("{}", style_row("human lines (--midi)", h, h));
    }
    println!(
        "\n{:<22} {:>8} {:>7} {:>7} {:>7} {:>7} {:>7} {:>6} {:>7} {:>7} {:>7}",
        format!("drums, {} bars", args.bars),
        "distinct",
        "change",
        "kick fig",
        "kick v",
        "kick sd",
        "syncop",
        "toms",
        "cymbals",
        "offset",
        "z sprd"
    );
    for row in &rows {
        let name = format!("{} seed {}", row.scene, row.seed);
        println!(
            "{} {:>7.2}",
            groove_row(&name, &row.drums),
            row.latent_spread
        );
    }
    if let Some(d) = &drummers {
        println!("{}", groove_row("drummers (--drum-midi)", d));
    }
    println!(
        "\n{:<22} {:>7} {:>7} {:>8} {:>10} {:>8} {:>8} {:>9} {:>8}",
        "what a listener hears",
        "tempo",
        "pulse",
        "RMS dBFS",
        "bars/loop",
        "in key",
        "random",
        "loop~bass",
        "random"
    );
    for row in &rows {
        let pulse = row.pulse_bpm.map_or("–".into(), |b| format!("{b:.0}"));
        let per_change = row
            .music_bars_per_change
            .map_or("–".into(), |b| format!("{b:.1}"));
        let share = |v: Option<f64>| v.map_or("–".into(), |v| format!("{:.0}%", 100.0 * v));
        let (picked, random) = row
            .music_bass_correlation
            .map_or(("–".into(), "–".into()), |(p, r)| {
                (format!("{p:.2}"), format!("{r:.2}"))
            });
        println!(
            "{:<22} {:>7.0} {:>7} {:>8.1} {:>10} {:>8} {:>8} {:>9} {:>8}",
            format!("{} seed {}", row.scene, row.seed),
            row.tempo,
            pulse,
            row.rms_dbfs,
            per_change,
            share(row.music_key_fit),
            share(row.random_key_fit),
            picked,
            random
        );
    }
    Ok(())
}

fn groove_row(name: &str, s: &GrooveStats) -> String {
    format!(
        "{name:<22} {:>7.1}% {:>7.2} {:>6.1}% {:>7.0} {:>7.2} {:>7.2} {:>6.2} {:>7.2} {:>7.3}",
        100.0 * s.distinct_share,
        s.mean_change,
        100.0 * s.kick_row_mode_share,
        s.kick_velocity_median,
        s.kick_count_sd,
        s.syncopation,
        s.toms,
        s.cymbals,
        s.mean_offset,
    )
}

/// Negatives per anchor window in `ubiq eval loops`.
pub const EVAL_NEGATIVES: usize = 4;

/// `ubiq eval loops`: the model and the baselines on every window of the `split` songs
/// (`test`, `validation`, or `train` to see how closely the model fits its training songs),
/// [`EVAL_NEGATIVES`] negatives an anchor, untransposed renders only.
fn eval_loops(args: &EvalLoopsArgs) -> anyhow::Result<()> {
    let seed = args.seed;
    let m = open_model(args.model.as_deref())?;
    let data_config = m.data_config().cloned().unwrap_or_else(DataConfig::new);
    // Evaluation measures every song given, whatever `group_songs` chose for training.
    let every_song = DataConfig {
        group_songs: 0,
        ..data_config.clone()
    };
    let measured: Vec<_> = songs_of(&args.midi, &every_song)?
        .into_iter()
        .filter(|s| args.split == Songs::All || args.split == Songs::Split(s.split))
        .collect();
    let split_name = match args.split {
        Songs::All => "all",
        Songs::Split(s) => s.name(),
    };
    let mut reports = Vec::new();
    for soundfont in &args.soundfont {
        let data = TripletData::build(
            &measured,
            std::slice::from_ref(soundfont),
            &render_query,
            &data_config,
            false,
            &CacheMode::Default,
            songs("rendering stems"),
        )?;
        // Embedded once for every scope below.
        let emb = WindowEmbeddings::of(m.net(), &data, &Device::flex());
        // Every song together, then each corpus on its own when there are several.
        let corpora: BTreeSet<&str> = (0..data.songs.len()).map(|i| data.corpus(i)).collect();
        let every = corpora.iter().copied().collect::<Vec<_>>().join(" + ");
        let each = if corpora.len() > 1 {
            corpora
        } else {
            BTreeSet::new()
        };
        let scopes = std::iter::once(None).chain(each.into_iter().map(Some));
        for corpus in scopes.collect::<Vec<_>>() {
            let triplets = data.triplets_where(
                |w| corpus.is_none_or(|c| data.corpus(w.song) == c),
                EVAL_NEGATIVES,
                seed,
            );
            if triplets.is_empty() {
                continue;
            }
            let started = Instant::now();
            let report = loops_eval::evaluate(&emb, &data, &triplets, seed);
            let label = corpus.unwrap_or(&every);
            if !args.json {
                print_loops_report(&m.origin, soundfont, label, split_name, &report, started);
            }
            reports.push(LoopsEvalRow {
                soundfont: soundfont.display().to_string(),
                corpus: label.to_string(),
                split: split_name,
                report,
            });
        }
    }
    if reports.is_empty() {
        bail!("no {split_name} triplets under the given folders");
    }
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&reports).context("json")?
        );
    }
    Ok(())
}

/// One scope of `ubiq eval loops --json`: a SoundFont and a corpus (`A + B`: every song of
/// corpora A and B).
#[derive(Debug, serde::Serialize)]
struct LoopsEvalRow {
    soundfont: String,
    corpus: String,
    split: &'static str,
    report: loops_eval::EvalReport,
}

fn print_loops_report(
    origin: &str,
    soundfont: &Path,
    corpus: &str,
    split: &str,
    report: &loops_eval::EvalReport,
    started: Instant,
) {
    println!(
        "{origin} · {} · {}: {} {split} songs, {} windows, {} triplets ({:.1} s)",
        soundfont.file_name().map_or_else(
            || soundfont.display().to_string(),
            |n| n.to_string_lossy().into_owned()
        ),
        corpus,
        report.songs,
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

/// How a heard key stands to a key written in the notes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum KeyRelation {
    /// The same key.
    Same,
    /// Its relative (the same notes, the other mode).
    Relative,
    /// A fifth above it, or that key's relative (one sharp more).
    FifthAbove,
    /// A fifth below it, or that key's relative (one flat more).
    FifthBelow,
    /// Any other key.
    Other,
}

/// How `heard` stands to `key` / `scale`.
fn key_relation(heard: &crate::loops::key::LoopKey, key: Key, scale: Scale) -> KeyRelation {
    if heard.key == key && heard.scale == scale {
        KeyRelation::Same
    } else if heard.fits(key, scale) {
        KeyRelation::Relative
    } else if heard.transposed(-7).fits(key, scale) {
        KeyRelation::FifthAbove
    } else if heard.transposed(7).fits(key, scale) {
        KeyRelation::FifthBelow
    } else {
        KeyRelation::Other
    }
}

/// `ubiq eval keys`: each music loop named `SONG_bBEAT` whose song is among the MIDI files
/// given has its heard key compared with the key of the notes it was rendered from (the
/// song's melodic notes sounding in its two bars from `BEAT`, by duration): the same key, the relative key (same notes), a fifth
/// away (one accidental apart), or another.
fn eval_keys(args: &EvalKeysArgs) -> anyhow::Result<()> {
    use crate::dataset::extract::import_options;
    use crate::midifile::{Limits, key as midi_key, read_song};
    let library = Library::open(&args.loops);
    let songs: HashMap<String, PathBuf> = crate::model::loops::data::midi_files(&args.midi)
        .into_iter()
        .filter_map(|p| Some((p.file_stem()?.to_string_lossy().into_owned(), p)))
        .collect();
    let mut counts = [0usize; 5];
    let mut keyless = 0;
    for entry in library.entries(LoopSet::Music) {
        let Some((stem, beat)) = entry.name.rsplit_once("_b") else {
            continue;
        };
        let (Some(path), Ok(beat)) = (songs.get(stem), beat.parse::<u64>()) else {
            continue;
        };
        let Some(heard) = entry.loop_key() else {
            keyless += 1;
            continue;
        };
        let bytes = std::fs::read(path).with_context(|| path.display().to_string())?;
        let song = read_song(&bytes, &import_options(false, Limits::default()))
            .with_context(|| path.display().to_string())?;
        let start = beat * u64::from(song.ticks_per_beat);
        let end = start + 2 * song.ticks_per_bar();
        // The loop's own notes: the melodic (not bass) notes sounding in its two bars.
        let mut hist = [0.0; 12];
        for n in song.notes.iter().filter(|n| !n.bass) {
            let (from, to) = (n.start.max(start), n.end.min(end));
            if to > from {
                hist[usize::from(n.pitch % 12)] += (to - from) as f64;
            }
        }
        let (key, scale) = midi_key::best_key(&hist);
        counts[key_relation(&heard, key, scale) as usize] += 1;
    }
    let [same, relative, above, below, other] = counts;
    let total: usize = counts.iter().sum();
    if total == 0 {
        bail!(
            "no music loop of {} comes from the songs given",
            args.loops.display()
        );
    }
    let share = |n: usize| 100.0 * n as f64 / total as f64;
    println!(
        "{total} music loops with a key from the songs given ({keyless} without a key): \
         the notes' key {:.0} %, its relative {:.0} %, a fifth above {:.0} %, a fifth below \
         {:.0} %, another {:.0} %",
        share(same),
        share(relative),
        share(above),
        share(below),
        share(other)
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::loops::key::LoopKey;

    #[test]
    fn a_heard_key_is_the_notes_key_its_relative_a_fifth_away_or_another() {
        let heard = |text: &str| LoopKey::parse(text).unwrap();
        let c_major = (Key::new(0), Scale::Major);
        let relation = |text: &str| key_relation(&heard(text), c_major.0, c_major.1);
        assert_eq!(relation("C major"), KeyRelation::Same);
        assert_eq!(relation("A minor"), KeyRelation::Relative);
        assert_eq!(relation("G major"), KeyRelation::FifthAbove);
        assert_eq!(
            relation("E minor"),
            KeyRelation::FifthAbove,
            "G major's relative"
        );
        assert_eq!(relation("F major"), KeyRelation::FifthBelow);
        assert_eq!(
            relation("D minor"),
            KeyRelation::FifthBelow,
            "F major's relative"
        );
        assert_eq!(relation("F# major"), KeyRelation::Other);
        assert_eq!(relation("C minor"), KeyRelation::Other);
    }
}
