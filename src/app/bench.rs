//! `ubiq bench`: time the AI's cycle turn and its parts on this machine; `ubiq soak`: a long
//! accelerated performance with a careless performer.

use std::path::PathBuf;

use crate::bench::{BenchOptions, table};
use crate::loops::library::Library;
use crate::model::registry::default_library;

/// Runs the timings (those whose names contain one of `only`, all when it is empty) and prints
/// them (a table, or one JSON object with `--json`).
pub fn run(
    json: bool,
    scale: f64,
    only: Vec<String>,
    loops: Option<PathBuf>,
) -> anyhow::Result<()> {
    let library = loops
        .or_else(default_library)
        .map(|root| Library::open(&root));
    if library.is_none() {
        eprintln!("ubiq: no loop library found: the feedback and whole-cycle timings are left out");
    }
    let timings = crate::bench::run(&BenchOptions { scale, only }, library.as_ref())
        .map_err(|e| anyhow::anyhow!(e))?;
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

/// Runs the soak and prints its report; true when it passed (no missed boundary, memory
/// within [`SOAK_RSS_SLACK_KIB`] of where it was after the first tenth).
pub fn soak(
    cycles: u64,
    per_cycle: f32,
    sample_rate: u32,
    seed: u64,
    json: bool,
    paths: &crate::model::registry::ModelPaths,
) -> anyhow::Result<bool> {
    let (mut models, problems) = paths.load();
    for p in problems {
        eprintln!("ubiq: {p}");
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
    let report = crate::soak::run(&mut models, cycles, per_cycle, sample_rate, seed, &files);
    let passed =
        report.late_plans == 0 && report.rss_end_kib <= report.rss_start_kib + SOAK_RSS_SLACK_KIB;
    if json {
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
