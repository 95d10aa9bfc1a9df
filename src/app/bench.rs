//! `ubiq bench`: time the AI's cycle turn and its parts on this machine.

use std::path::PathBuf;

use crate::bench::{BenchOptions, table};
use crate::engine::compose::default_library;
use crate::loops::library::Library;

/// Runs the timings and prints them (a table, or one JSON object with `--json`).
pub fn run(json: bool, scale: f64, loops: Option<PathBuf>) -> anyhow::Result<()> {
    let library = loops
        .or_else(default_library)
        .map(|root| Library::open(&root));
    if library.is_none() {
        eprintln!("ubiq: no loop library found: the feedback and whole-cycle timings are left out");
    }
    let timings = crate::bench::run(&BenchOptions { scale }, library.as_ref())
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
