//! `ubiq bench`: time the AI's cycle turn and its parts on this machine; `ubiq soak`: a long
//! accelerated performance with a careless performer.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use super::models::ModelArgs;
use crate::bench::{BenchOptions, table};
use crate::loops::library::Library;
use crate::model::registry::default_library;
use crate::text::Shown;

/// Options of `ubiq bench`.
#[derive(Args, Debug)]
pub struct BenchArgs {
    /// Print one JSON object.
    #[arg(long)]
    pub json: bool,
    /// Scale of the call counts (1: about a second per figure; 0.1 for a quick look).
    #[arg(long, default_value_t = 1.0)]
    pub scale: f64,
    /// Loop library to rank (default: loops/ here, else the one shipped beside ubiq).
    #[arg(long, value_name = "DIR")]
    pub loops: Option<PathBuf>,
    /// Also time the decoder of this model saved by M4L.RhythmVAE (`rhythmvae.decode`).
    #[arg(long, value_name = "DIR")]
    pub rhythmvae: Option<PathBuf>,
    /// Time only the cases whose names contain one of these (e.g. `ai.cycle`, `loops.`).
    #[arg(value_name = "CASE")]
    pub only: Vec<String>,
}

impl BenchArgs {
    /// Runs the timings (those whose names contain one of `only`, all when it is empty) and
    /// prints them (a table, or one JSON object with `--json`).
    pub fn run(self) -> anyhow::Result<ExitCode> {
        bench(self)?;
        Ok(ExitCode::SUCCESS)
    }
}

fn bench(args: BenchArgs) -> anyhow::Result<()> {
    let BenchArgs {
        json,
        scale,
        loops,
        rhythmvae,
        only,
    } = args;
    let library = loops
        .or_else(default_library)
        .map(|root| Library::open(&root));
    if library.is_none() {
        eprintln!("ubiq: no loop library found: the feedback and whole-cycle timings are left out");
    }
    let timings = crate::bench::run(
        &BenchOptions {
            scale,
            only,
            rhythmvae,
        },
        library.as_ref(),
    )?;
    if json {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        println!(
            "{}",
            serde_json::json!({ "cores": cores, "timings": timings })
        );
    } else {
        print!("{}", table(&timings));
    }
    Ok(())
}

/// Memory the soak may gain between its first tenth and its end.
pub const SOAK_RSS_SLACK_KIB: u64 = 16 * 1024;

/// Options of `ubiq soak`.
#[derive(Args, Debug)]
pub struct SoakArgs {
    /// Cycles to perform (a cycle is two bars).
    #[arg(long, default_value_t = 10_000)]
    pub cycles: u64,
    /// Inputs per cycle, on average.
    #[arg(long, default_value_t = 3.0)]
    pub per_cycle: f32,
    /// Sample rate in Hz.
    #[arg(long, default_value_t = 22_050)]
    pub sample_rate: u32,
    /// Seed of the performer's choices.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Print one JSON object.
    #[arg(long)]
    pub json: bool,
    /// Where the models and the loop library come from.
    #[command(flatten)]
    pub models: ModelArgs,
}

impl SoakArgs {
    /// Runs the soak and prints its report; it fails (exit code 1) unless it passed: no
    /// missed boundary, memory within [`SOAK_RSS_SLACK_KIB`] of where it was after the first
    /// tenth.
    pub fn run(self) -> anyhow::Result<ExitCode> {
        Ok(super::exit_code(soak(&self)?))
    }
}

fn soak(args: &SoakArgs) -> anyhow::Result<bool> {
    let (mut models, problems) = args.models.paths().load();
    for p in problems {
        eprintln!("ubiq: {}", Shown(p));
    }
    let dir = tempfile::tempdir()?;
    let mut files = Vec::new();
    for (name, text) in [
        (
            "good.ron",
            "Scene(tempo: 131, ai: (every: 1), loops: (music: (on: true)))",
        ),
        ("broken.ron", "Scene(tempo: 131, drums: (kick: \"x..?\"))"),
    ] {
        let path = dir.path().join(name);
        std::fs::write(&path, text)?;
        files.push(path.display().to_string());
    }
    files.push(dir.path().join("missing.ron").display().to_string());
    let report = crate::soak::run(
        &mut models,
        args.cycles,
        args.per_cycle,
        args.sample_rate,
        args.seed,
        &files,
    );
    let passed =
        report.late_plans == 0 && report.rss_end_kib <= report.rss_start_kib + SOAK_RSS_SLACK_KIB;
    if args.json {
        println!(
            "{}",
            serde_json::json!({ "report": report, "passed": passed })
        );
    } else {
        println!(
            "soak: {} cycles ({:.0} min of music) in {:.0} s · {} inputs: {} taken, {} refused · {} late · RSS {} → {} KiB · {}",
            report.cycles,
            report.music_seconds / 60.0,
            report.seconds,
            report.inputs,
            report.taken,
            report.refused,
            report.late_plans,
            report.rss_start_kib,
            report.rss_end_kib,
            if passed { "passed" } else { "FAILED" }
        );
        for r in &report.sample_refusals {
            println!("  refused: {r}");
        }
    }
    Ok(passed)
}
