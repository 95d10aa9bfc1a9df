//! `ubiq render`: perform a set offline — the AI composing and picking loops as on stage —
//! and write it to a WAV file, much faster than real time; `ubiq replay`: render a recorded
//! session again, offline, sample for sample.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use clap::Args;

use super::models::ModelArgs;
use crate::audio::dsp::gain_to_db;
use crate::engine::render::{RenderOptions, midi_of, render_set, write_midi, write_wav};
use crate::engine::session::SessionLog;
use crate::midi::map::NoteMap;
use crate::scene::library;
use crate::text::Shown;

/// Options of `ubiq render`.
#[derive(Args, Debug, Clone)]
pub struct RenderArgs {
    /// Scene file or shipped scene name (the default scene when not given).
    pub scene: Option<String>,
    /// Length in bars (one cycle is two bars).
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub bars: u32,
    /// WAV file to write (32-bit float, stereo).
    #[arg(long, short)]
    pub out: PathBuf,
    /// Seed of what the AI composes and of the drum noise: the same scene, length, rate and
    /// seed give a byte-identical file.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Sample rate in Hz.
    #[arg(long, default_value_t = 48_000, value_parser = clap::value_parser!(u32).range(22_050..=192_000))]
    pub sample_rate: u32,
    /// Also write the performance's MIDI (drums and bass, as MIDI out sends them) to this
    /// standard MIDI file.
    #[arg(long, value_name = "FILE.mid")]
    pub midi_out: Option<PathBuf>,
    /// Note map of the MIDI file: gm (default), tr8s, rd8, digitakt, or a .ron file.
    #[arg(long, value_name = "MAP")]
    pub midi_map: Option<String>,
    /// Also write the session log (replayable with `ubiq replay`).
    #[arg(long, value_name = "FILE.log")]
    pub log: Option<PathBuf>,
    /// Play the scene exactly as written: no AI composing, no loops.
    #[arg(long)]
    pub no_ai: bool,
    /// Where the models and the loop library come from.
    #[command(flatten)]
    pub models: ModelArgs,
    /// What the scene may include.
    #[command(flatten)]
    pub access: super::SceneAccess,
}

impl RenderArgs {
    /// The render settings: length, sample rate and seed.
    pub fn options(&self) -> RenderOptions {
        RenderOptions {
            bars: self.bars,
            sample_rate: self.sample_rate,
            seed: self.seed,
        }
    }

    /// Renders and prints a one-line summary.
    pub fn run(self) -> anyhow::Result<ExitCode> {
        render(&self)?;
        Ok(ExitCode::SUCCESS)
    }
}

fn render(args: &RenderArgs) -> anyhow::Result<()> {
    args.access.apply();
    let options = args.options();
    let (scene, _) = library::resolve(args.scene.as_deref())?;
    let map = NoteMap::load(args.midi_map.as_deref().unwrap_or("gm"))?;
    let mut models = args.models.load_unless(args.no_ai);
    let began = Instant::now();
    let rendered = render_set(&scene, &mut models, &options);
    let took = began.elapsed();
    for p in &rendered.problems {
        eprintln!("ubiq: {}", Shown(p));
    }
    let samples = &rendered.samples;
    write_wav(&args.out, samples, options.sample_rate)?;
    if let Some(path) = &args.midi_out {
        let events = midi_of(&rendered, &map);
        write_midi(path, &events, scene.tempo, options.sample_rate)?;
        println!(
            "wrote {}: {} MIDI messages ({})",
            Shown(path.display()),
            events.len(),
            map.name
        );
    }
    if let Some(path) = &args.log {
        crate::files::write_atomic(path, rendered.log.to_text().as_bytes())
            .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?;
        println!(
            "wrote {} (`ubiq replay {0}` renders it again)",
            Shown(path.display())
        );
    }
    let frames = samples.len() / 2;
    let seconds = frames as f64 / f64::from(options.sample_rate);
    let peak = samples.iter().fold(0.0f32, |p, s| p.max(s.abs()));
    let cycles = rendered
        .log
        .entries
        .iter()
        .filter(|e| matches!(e.action, crate::engine::session::Action::Cycle(..)))
        .count();
    println!(
        "wrote {}: {} bars of {:?} at {} BPM · {:.2} s · {} Hz · peak {:.1} dBFS · {cycles} AI turns, {} late · rendered in {:.0} ms ({:.0}× real time)",
        Shown(args.out.display()),
        options.bars,
        scene.name,
        scene.tempo,
        seconds,
        options.sample_rate,
        gain_to_db(peak),
        rendered.late_plans,
        took.as_secs_f64() * 1000.0,
        seconds / took.as_secs_f64().max(1e-9),
    );
    Ok(())
}

/// Options of `ubiq replay`.
#[derive(Args, Debug, Clone)]
pub struct ReplayArgs {
    /// The session log.
    pub log: PathBuf,
    /// WAV file to write.
    #[arg(long, short)]
    pub out: PathBuf,
    /// Also write the session's MIDI (drums and bass) to this standard MIDI file.
    #[arg(long, value_name = "FILE.mid")]
    pub midi_out: Option<PathBuf>,
    /// Where the models and the loop library come from.
    #[command(flatten)]
    pub models: ModelArgs,
}

impl ReplayArgs {
    /// Replays the log into the WAV file (and its MIDI into the MIDI file) with the models.
    pub fn run(self) -> anyhow::Result<ExitCode> {
        replay(&self)?;
        Ok(ExitCode::SUCCESS)
    }
}

fn replay(args: &ReplayArgs) -> anyhow::Result<()> {
    let (log, out) = (&args.log, &args.out);
    let text =
        std::fs::read_to_string(log).with_context(|| format!("cannot read {}", log.display()))?;
    let session = SessionLog::parse(&text, log)?;
    let mut models = args.models.load_telling();
    let began = Instant::now();
    let rendered = session.replay(&mut models);
    for p in &rendered.problems {
        eprintln!("ubiq: {}", Shown(p));
    }
    write_wav(out, &rendered.samples, session.sample_rate)?;
    let secs = rendered.samples.len() as f64 / 2.0 / f64::from(session.sample_rate);
    println!(
        "wrote {}: {secs:.2} s replayed from {} ({} changes) in {:.0} ms",
        Shown(out.display()),
        Shown(log.display()),
        session.entries.len(),
        began.elapsed().as_secs_f64() * 1000.0
    );
    if let Some(path) = &args.midi_out {
        let events = midi_of(&rendered, &NoteMap::load("gm")?);
        write_midi(path, &events, session.scene.tempo, session.sample_rate)?;
        println!(
            "wrote {}: {} MIDI messages",
            Shown(path.display()),
            events.len()
        );
    }
    Ok(())
}
