//! `ubiq render`: perform a set offline — the AI composing and picking loops as on stage —
//! and write it to a WAV file, much faster than real time.

use std::path::PathBuf;
use std::time::Instant;

use crate::audio::dsp::gain_to_db;
use crate::engine::render::{RenderOptions, midi_of, render_set, write_midi, write_wav};
use crate::midi::map::NoteMap;
use crate::model::registry::{ModelPaths, Models};
use crate::scene::library;

/// Options of `ubiq render`.
#[derive(Debug, Clone)]
pub struct RenderArgs {
    /// Scene file or shipped scene name.
    pub scene: Option<String>,
    /// Output file.
    pub out: PathBuf,
    /// MIDI file to write as well.
    pub midi_out: Option<PathBuf>,
    /// Note map of the MIDI file (General MIDI when absent).
    pub midi_map: Option<String>,
    /// Session log to write as well (for `ubiq replay`).
    pub log: Option<PathBuf>,
    /// The models and loop library (none: the scene plays exactly as written).
    pub models: Option<ModelPaths>,
    /// Render settings.
    pub options: RenderOptions,
}

/// Renders and prints a one-line summary.
pub fn run(args: RenderArgs) -> anyhow::Result<()> {
    let (scene, _) = library::resolve(args.scene.as_deref())?;
    let map = NoteMap::load(args.midi_map.as_deref().unwrap_or("gm"))?;
    let mut models = match &args.models {
        Some(paths) => {
            let (models, problems) = paths.load();
            for p in problems {
                eprintln!("ubiq: {p}");
            }
            models
        }
        None => Models::none(),
    };
    let began = Instant::now();
    let rendered = render_set(&scene, &mut models, &args.options);
    let took = began.elapsed();
    for p in &rendered.problems {
        eprintln!("ubiq: {p}");
    }
    let samples = &rendered.samples;
    write_wav(&args.out, samples, args.options.sample_rate)?;
    if let Some(path) = &args.midi_out {
        let events = midi_of(&rendered, &map);
        write_midi(path, &events, scene.tempo, args.options.sample_rate)?;
        println!(
            "wrote {}: {} MIDI messages ({})",
            path.display(),
            events.len(),
            map.name
        );
    }
    if let Some(path) = &args.log {
        crate::files::write_atomic(path, rendered.log.to_text().as_bytes())
            .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?;
        println!(
            "wrote {} (`ubiq replay {0}` renders it again)",
            path.display()
        );
    }
    let frames = samples.len() / 2;
    let seconds = frames as f64 / f64::from(args.options.sample_rate);
    let peak = samples.iter().fold(0.0f32, |p, s| p.max(s.abs()));
    let cycles = rendered
        .log
        .entries
        .iter()
        .filter(|e| matches!(e.action, crate::engine::session::Action::Cycle(..)))
        .count();
    println!(
        "wrote {}: {} bars of {:?} at {} BPM · {:.2} s · {} Hz · peak {:.1} dBFS · {cycles} AI turns, {} late · rendered in {:.0} ms ({:.0}× real time)",
        args.out.display(),
        args.options.bars,
        scene.name,
        scene.tempo,
        seconds,
        args.options.sample_rate,
        gain_to_db(peak),
        rendered.late_plans,
        took.as_secs_f64() * 1000.0,
        seconds / took.as_secs_f64().max(1e-9),
    );
    Ok(())
}
