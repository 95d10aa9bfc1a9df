//! `ubiq train rhythm`: train a rhythm VAE on MIDI folders, with progress, early stopping and an
//! atomic write.

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;

use super::rhythm_data;
use crate::dataset::Split;
use crate::model::Backend;
use crate::model::rhythm::infer::{META_KIND, ModelMeta};
use crate::model::rhythm::latent_map::LatentMap;
use crate::model::rhythm::train::{EpochReport, TrainingConfig, train};
use crate::model::rhythm::{RhythmModel, RhythmVaeConfig};

/// Training windows sampled into the latent map written beside the model.
pub const MAP_POINTS: usize = 2000;

/// Options of `ubiq train rhythm`.
#[derive(Debug, Clone)]
pub struct TrainRhythmArgs {
    /// MIDI folders (a GMD folder with `info.csv` uses its splits, others split by song).
    pub midi: Vec<PathBuf>,
    /// Maximum epochs.
    pub epochs: usize,
    /// Weights file to write (`.bpk`; metadata `.json` and latent map `.map.ron` beside it).
    pub out: PathBuf,
    /// Seed.
    pub seed: u64,
    /// Backend.
    pub backend: Backend,
    /// Final KL weight.
    pub beta: f64,
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
        "epoch {:>3}/{} [{}{}] loss {:.2} · val {:.2}{} · β {:.2} · {} · ETA ≤{}",
        r.epoch,
        r.epochs,
        "#".repeat(filled),
        ".".repeat(WIDTH - filled),
        r.train_loss,
        r.valid_loss,
        if r.improved { " *" } else { "  " },
        r.beta,
        format_duration(r.elapsed),
        format_duration(eta),
    )
}

/// Runs the training and prints a summary line.
pub fn run(args: TrainRhythmArgs) -> anyhow::Result<()> {
    let corpus = rhythm_data::load(&args.midi)?;
    let train_set = corpus.split(Split::Train);
    let valid_set = corpus.split(Split::Validation);
    eprintln!(
        "training on {} windows, validating on {} ({} backend, seed {})",
        train_set.patterns.len(),
        valid_set.patterns.len(),
        args.backend.name(),
        args.seed
    );
    let config = TrainingConfig::new(RhythmVaeConfig::new())
        .with_epochs(args.epochs)
        .with_seed(args.seed)
        .with_beta(args.beta);
    let device = args.backend.device();
    let trained = train(
        &config,
        &train_set.patterns,
        &valid_set.patterns,
        &device,
        |r| {
            eprintln!("{}", progress_line(r));
            let _ = std::io::stderr().flush();
        },
    )?;
    let model = RhythmModel::new(trained.model, device, args.out.display().to_string());
    let meta = ModelMeta {
        kind: META_KIND.into(),
        training: config,
        stats: model.stats(),
        train_windows: train_set.patterns.len(),
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
        train_set.patterns.len()
    );
    Ok(())
}
