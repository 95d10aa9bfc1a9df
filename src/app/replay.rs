//! `ubiq replay`: render a recorded session again, offline, sample for sample.

use std::path::Path;
use std::time::Instant;

use anyhow::Context;

use crate::engine::session::SessionLog;
use crate::render::write_wav;

/// Replays `log` into `out`.
pub fn run(log: &Path, out: &Path) -> anyhow::Result<()> {
    let text =
        std::fs::read_to_string(log).with_context(|| format!("cannot read {}", log.display()))?;
    let session = SessionLog::parse(&text, log)?;
    let began = Instant::now();
    let samples = session.replay();
    write_wav(out, &samples, session.sample_rate)?;
    let secs = samples.len() as f64 / 2.0 / f64::from(session.sample_rate);
    println!(
        "wrote {}: {secs:.2} s replayed from {} ({} changes) in {:.0} ms",
        out.display(),
        log.display(),
        session.entries.len(),
        began.elapsed().as_secs_f64() * 1000.0
    );
    Ok(())
}
