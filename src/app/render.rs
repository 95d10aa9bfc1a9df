//! `ubiq render`: write a set to a WAV file, much faster than real time.

use std::path::PathBuf;
use std::time::Instant;

use crate::audio::dsp::gain_to_db;
use crate::midi::map::NoteMap;
use crate::render::{RenderOptions, render_midi, render_scene, write_midi, write_wav};
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
    /// Render settings.
    pub options: RenderOptions,
}

/// Renders and prints a one-line summary.
pub fn run(args: RenderArgs) -> anyhow::Result<()> {
    let (scene, _) = library::resolve(args.scene.as_deref())?;
    let map = NoteMap::load(args.midi_map.as_deref().unwrap_or("gm"))?;
    let began = Instant::now();
    let samples = render_scene(&scene, &args.options);
    let took = began.elapsed();
    write_wav(&args.out, &samples, args.options.sample_rate)?;
    if let Some(path) = &args.midi_out {
        let events = render_midi(&scene, &args.options, &map);
        write_midi(path, &events, scene.tempo, args.options.sample_rate)?;
        println!(
            "wrote {}: {} MIDI messages ({})",
            path.display(),
            events.len(),
            map.name
        );
    }
    let frames = samples.len() / 2;
    let seconds = frames as f64 / f64::from(args.options.sample_rate);
    let peak = samples.iter().fold(0.0f32, |p, s| p.max(s.abs()));
    println!(
        "wrote {}: {} bars of {:?} at {} BPM · {:.2} s · {} Hz · peak {:.1} dBFS · rendered in {:.0} ms ({:.0}× real time)",
        args.out.display(),
        args.options.bars,
        scene.name,
        scene.tempo,
        seconds,
        args.options.sample_rate,
        gain_to_db(peak),
        took.as_secs_f64() * 1000.0,
        seconds / took.as_secs_f64().max(1e-9),
    );
    Ok(())
}
