//! `ubiq eval rhythm`: measure a rhythm model on MIDI windows (see
//! [`crate::model::rhythm::eval`] for what and the JSON keys).

use std::path::PathBuf;

use super::rhythm_data;
use crate::dataset::Split;
use crate::model::Backend;
use crate::model::rhythm::RhythmModel;
use crate::model::rhythm::eval::{EvalReport, Reconstruction, evaluate};

/// Options of `ubiq eval rhythm`.
#[derive(Debug, Clone)]
pub struct EvalRhythmArgs {
    /// MIDI folders.
    pub midi: Vec<PathBuf>,
    /// Model file instead of the embedded default.
    pub model: Option<PathBuf>,
    /// Print one JSON object instead of a table.
    pub json: bool,
    /// Seed of the sampled measures.
    pub seed: u64,
}

fn row(name: &str, r: &Reconstruction) -> String {
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

/// Prints the report as a table.
pub fn print_table(origin: &str, report: &EvalReport) {
    println!(
        "{origin} on {} windows (baselines from {} training windows)",
        report.windows, report.train_windows
    );
    println!("{}", row("vae", &report.model));
    println!("{}", row("baseline mean", &report.baseline_mean));
    println!("{}", row("baseline nearest", &report.baseline_nearest));
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

/// Evaluates on the test split of the folders; the baselines learn from the training split.
pub fn run(args: EvalRhythmArgs) -> anyhow::Result<()> {
    let model = RhythmModel::load_or_embedded(args.model.as_deref(), Backend::Flex.device())?;
    let corpus = rhythm_data::load(&args.midi)?;
    let windows = &corpus.split(Split::Test).patterns;
    let train = corpus.split(Split::Train);
    let report = evaluate(&model, &train.patterns, windows, args.seed);
    if args.json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        print_table(model.origin(), &report);
    }
    Ok(())
}
