//! `ubiq replay`: render a recorded session again, offline, sample for sample.

use std::path::Path;
use std::time::Instant;

use anyhow::Context;

use crate::engine::render::{midi_of, write_midi, write_wav};
use crate::engine::session::SessionLog;
use crate::midi::map::NoteMap;
use crate::model::registry::ModelPaths;

/// Replays `log` into `out` (and its MIDI into `midi_out`) with the models of `models`.
pub fn run(
    log: &Path,
    out: &Path,
    midi_out: Option<&Path>,
    models: &ModelPaths,
) -> anyhow::Result<()> {
    let text =
        std::fs::read_to_string(log).with_context(|| format!("cannot read {}", log.display()))?;
    let session = SessionLog::parse(&text, log)?;
    let (mut models, problems) = models.load();
    for p in problems {
        eprintln!("ubiq: {p}");
    }
    let began = Instant::now();
    let rendered = session.replay(&mut models);
    for p in &rendered.problems {
        eprintln!("ubiq: {p}");
    }
    write_wav(out, &rendered.samples, session.sample_rate)?;
    let secs = rendered.samples.len() as f64 / 2.0 / f64::from(session.sample_rate);
    println!(
        "wrote {}: {secs:.2} s replayed from {} ({} changes) in {:.0} ms",
        out.display(),
        log.display(),
        session.entries.len(),
        began.elapsed().as_secs_f64() * 1000.0
    );
    if let Some(path) = midi_out {
        let events = midi_of(&rendered, &NoteMap::load("gm")?);
        write_midi(path, &events, session.scene.tempo, session.sample_rate)?;
        println!("wrote {}: {} MIDI messages", path.display(), events.len());
    }
    Ok(())
}
