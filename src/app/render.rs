//! `ubiq render`: write a set to a WAV file, much faster than real time.

use std::path::PathBuf;
use std::time::Instant;

use crate::audio::dsp::gain_to_db;
use crate::render::{RenderOptions, render_scene, write_wav};
use crate::scene::library;

/// Options of `ubiq render`.
#[derive(Debug, Clone)]
pub struct RenderArgs {
    /// Scene file or shipped scene name.
    pub scene: Option<String>,
    /// Output file.
    pub out: PathBuf,
    /// Render settings.
    pub options: RenderOptions,
}

/// Renders and prints a one-line summary.
pub fn run(args: RenderArgs) -> anyhow::Result<()> {
    let (scene, _) = library::resolve(args.scene.as_deref())?;
    let began = Instant::now();
    let samples = render_scene(&scene, &args.options);
    let took = began.elapsed();
    write_wav(&args.out, &samples, args.options.sample_rate)?;
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
