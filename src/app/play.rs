//! `ubiq play`: play a scene live. On a terminal: the full-screen interface ([`crate::ui`]).
//! Headless (no terminal, or `--headless`): commands on stdin, one status line per cycle on
//! stdout, errors on stderr; `quit`, the end of input, SIGINT or SIGTERM stops.

use std::io::{BufRead, Write};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::Sender;
use std::time::{Duration, Instant};

use anyhow::Context;

use crate::audio::output::{self, Output, OutputOptions};
use crate::command::{Command, parse, spec};
use crate::engine::live::{self, EngineHandle};
use crate::midi::input::{MidiControl, MidiEvent, MidiIn};
use crate::model::registry::ModelPaths;
use crate::pattern::{Voice, grid};
use crate::performance::Performance;
use crate::scene::library;
use crate::scene::watch::{Change, SceneWatcher};
use crate::snapshot::{Notice, Snapshot};
use crate::ui::keymap::Keymap;
use crate::ui::theme::{Theme, no_color_requested};
use crate::ui::widgets::transport::bar_beat;

/// Options of `ubiq play`.
#[derive(Debug, Clone, Default)]
pub struct PlayOptions {
    /// Scene file or shipped scene name (default scene when absent).
    pub scene: Option<String>,
    /// Audio output.
    pub output: OutputOptions,
    /// Take commands from stdin even on a terminal.
    pub headless: bool,
    /// Headless status as JSON lines.
    pub json: bool,
    /// Record the set from the start (finished on quit).
    pub record: Option<std::path::PathBuf>,
    /// Theme of the full-screen interface: a shipped name, a user theme or a `.ron` file.
    pub theme: Option<String>,
    /// MIDI ports and behaviour.
    pub midi: MidiOptions,
    /// Capture device mixed into the deck (part of its name; `jack` for the JACK server).
    pub deck_in: Option<String>,
    /// Where the models and the loop library come from.
    pub models: ModelPaths,
}

/// MIDI options of `ubiq play`.
#[derive(Debug, Clone, Default)]
pub struct MidiOptions {
    /// Part of the name of the port drums and bass go to.
    pub out: Option<String>,
    /// Part of the name of the port controllers and clock come from.
    pub input: Option<String>,
    /// Note map: a shipped name (gm, tr8s, rd8, digitakt) or a `.ron` file.
    pub map: Option<String>,
    /// Drum channel 1..=16, overriding the map's.
    pub drum_channel: Option<u8>,
    /// Bass channel 1..=16, overriding the map's.
    pub bass_channel: Option<u8>,
    /// Send MIDI clock from the start.
    pub clock: bool,
    /// Follow the tempo of incoming MIDI clock.
    pub follow: bool,
    /// Shift of every outgoing message in milliseconds.
    pub offset_ms: f64,
}

/// MIDI in waiting for the engine: the queue and the controls it acts on.
type MidiInput = (crate::midi::ports::InQueue, Arc<MidiControl>);

/// Opens MIDI when asked: the engine's share, and the input queue with the controls it acts
/// on. A missing MIDI system is one line on stderr; the set plays on without MIDI.
fn open_midi(
    opts: &MidiOptions,
    audio: &crate::audio::AudioHandle,
    audio_on_jack: bool,
) -> anyhow::Result<(Option<live::EngineMidi>, Option<MidiInput>)> {
    use crate::midi::map::{Bindings, NoteMap, default_bindings_path};
    use crate::midi::out::{MidiOut, OutOptions};
    use crate::midi::ports::{PortOptions, Ports};
    if opts.out.is_none() && opts.input.is_none() {
        return Ok((None, None));
    }
    let mut map = NoteMap::load(opts.map.as_deref().unwrap_or("gm"))?;
    if let Some(c) = opts.drum_channel {
        map.drum_channel = c;
    }
    if let Some(c) = opts.bass_channel {
        map.bass_channel = c;
    }
    let path = default_bindings_path();
    let bindings = match &path {
        Some(p) => Bindings::load(p)?,
        None => Bindings::default(),
    };
    let control = Arc::new(MidiControl::new(bindings, path));
    let (ports, queue) = match Ports::open(&PortOptions {
        out: opts.out.clone(),
        input: opts.input.clone(),
        jack_audio: audio_on_jack.then(|| Arc::clone(audio.shared())),
    }) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("ubiq: {e}");
            return Ok((None, None));
        }
    };
    let description = ports.describe();
    eprintln!("ubiq: MIDI {description} · notes {}", map.name);
    let out = MidiOut::start(
        ports,
        Arc::clone(audio.shared()),
        audio.sample_rate(),
        OutOptions {
            map,
            clock: opts.clock,
            offset_ms: opts.offset_ms,
        },
    )?;
    // The first cycle starts when the engine starts: let MIDI learn the timeline first.
    if !out.wait_ready(std::time::Duration::from_millis(500)) {
        eprintln!("ubiq: MIDI out is not in step with the audio yet; the first notes may be late");
    }
    let engine_midi = live::EngineMidi {
        out: Some(out),
        control: Arc::clone(&control),
        ports: description,
    };
    Ok((Some(engine_midi), queue.map(|q| (q, control))))
}

/// The one-line status.
pub fn status_line(snap: &Snapshot, elapsed: Duration) -> String {
    let st = &snap.status;
    let (bar, beat, six) = bar_beat(st.step);
    let secs = elapsed.as_secs();
    let load = if st.dsp_load > 0.0 {
        format!(" · load {:>3.0}%", st.dsp_load * 100.0)
    } else {
        String::new()
    };
    let mut health = String::new();
    if st.xruns > 0 {
        health.push_str(&format!(" · {} xruns", st.xruns));
    }
    if st.late_plans > 0 {
        health.push_str(&format!(" · {} late", st.late_plans));
    }
    format!(
        "{} {} · {:.1} BPM · {bar}.{beat}.{six} · cycle {} · {:02}:{:02} · {}{load}{health}",
        if st.playing { "▶" } else { "■" },
        snap.scene,
        st.tempo_bpm,
        st.cycle + 1,
        secs / 60,
        secs % 60,
        snap.output,
    )
}

/// Plays until the performer quits.
pub fn run(opts: PlayOptions) -> anyhow::Result<()> {
    // Past a file size limit, writes (a recording, the autosave) fail and are reported; the
    // set plays on instead of being killed by the signal.
    // SAFETY: ignoring a signal changes no memory of this program.
    unsafe { libc::signal(libc::SIGXFSZ, libc::SIG_IGN) };
    let (scene, path) = library::resolve(opts.scene.as_deref())?;
    let screen = !opts.headless && crate::ui::can_run();
    let config = crate::files::config_dir();
    let theme = Theme::load(
        opts.theme.as_deref(),
        config.as_deref(),
        no_color_requested(),
    )?;
    let (mut audio, output) = output::open(&opts.output).context("cannot open audio")?;
    match &output {
        Output::Silent { reason, .. } => eprintln!(
            "ubiq: {reason} — playing silently in time; `ubiq render` writes the set to a WAV file"
        ),
        Output::Device { description, .. } => eprintln!("ubiq: playing through {description}"),
    }
    let _deck_in = match &opts.deck_in {
        Some(name) => match crate::audio::input::open(name, audio.sample_rate()) {
            Ok((input, ring)) => {
                eprintln!("ubiq: the deck listens to {}", input.description);
                // A fresh queue has room for it.
                let _ = audio.send_boxed(crate::audio::link::Boxed::DeckInput(ring));
                Some(input)
            }
            Err(e) => {
                eprintln!("ubiq: no deck input ({e}) — the deck plays files only");
                None
            }
        },
        None => None,
    };
    let autosave = autosave_path();
    let midi_map = crate::midi::map::NoteMap::load(opts.midi.map.as_deref().unwrap_or("gm")).ok();
    let options = live::EngineOptions {
        output: output.to_string(),
        seed: opts.output.seed,
        autosave: autosave.clone(),
        models: opts.models.clone(),
        midi_map,
    };
    let (engine_midi, midi_in) =
        open_midi(&opts.midi, &audio, output.to_string().starts_with("JACK"))?;
    let (models, problems) = opts.models.load();
    for p in problems {
        eprintln!("ubiq: {p}");
    }
    let library_root = models.library.as_ref().map(|l| l.root().to_path_buf());
    let engine = live::spawn(Performance::new(scene), audio, options, engine_midi, models)?;
    let _midi_in = match midi_in {
        Some((queue, control)) => {
            let engine = engine.sender();
            Some(MidiIn::start(
                queue,
                control,
                opts.midi.follow,
                move |event| {
                    let request = match event {
                        MidiEvent::Command(c) => live::Request::Command(c),
                        MidiEvent::Notice { ok, text } => {
                            live::Request::Notice(Notice { ok, text })
                        }
                    };
                    engine.send(request).is_ok()
                },
            )?)
        }
        None => None,
    };
    if let Some(file) = &opts.record {
        engine.command(Command::RecordStart(file.clone()));
    }
    let _watcher = match &path {
        Some(p) => Some(watch_scene(p, engine.sender())?),
        None => None,
    };
    let _library_watcher = library_root.and_then(|root| {
        let sender = engine.sender();
        crate::loops::watch::LibraryWatcher::start(&root, move |lib| {
            let _ = sender.send(live::Request::Library(Box::new(lib)));
        })
        .map_err(|e| {
            eprintln!(
                "ubiq: cannot watch the loop library {}: {e}",
                root.display()
            )
        })
        .ok()
    });
    let quit = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(signal, Arc::clone(&quit))?;
    }
    let result = if screen {
        let (keymap, message) = Keymap::load(config.map(|d| d.join("keymap.ron")).as_deref());
        let app = crate::ui::App::new(keymap, theme, message);
        crate::ui::run(&engine, &quit, app).context("terminal")
    } else {
        headless(&engine, &quit, opts.json)
    };
    drop(engine);
    drop(output);
    if let Some(p) = autosave.filter(|p| p.exists()) {
        println!(
            "ubiq: the set is saved in {} (`ubiq play {0}` picks it up)",
            p.display()
        );
    }
    result
}

/// Where the state is saved while playing: `$XDG_DATA_HOME/ubiq/autosave.ron` or
/// `~/.local/share/ubiq/autosave.ron`.
pub fn autosave_path() -> Option<std::path::PathBuf> {
    let base = std::env::var_os("XDG_DATA_HOME")
        .map(std::path::PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| {
            std::env::var_os("HOME").map(|h| std::path::PathBuf::from(h).join(".local/share"))
        })?;
    Some(base.join("ubiq").join("autosave.ron"))
}

/// Hot reload: every good save of the scene file takes over at the next cycle; a broken one
/// is reported and the set plays on unchanged.
fn watch_scene(path: &Path, engine: Sender<live::Request>) -> anyhow::Result<SceneWatcher> {
    SceneWatcher::start(path, move |change| {
        let request = match change {
            Change::Scene(Ok(scene)) => live::Request::Scene(scene),
            Change::Include(Ok(file)) => live::Request::Include(file),
            Change::Scene(Err(e)) | Change::Include(Err(e)) => live::Request::Notice(Notice {
                ok: false,
                text: format!("{e} — still playing the last good version"),
            }),
        };
        let _ = engine.send(request);
    })
    .with_context(|| format!("cannot watch {}", path.display()))
}

/// The drum rows of the playing cycle that have hits, as `kick X...x...|X...x... snare …`.
pub fn pattern_summary(snap: &Snapshot) -> String {
    let pattern = &snap.playing.pattern;
    Voice::ALL
        .iter()
        .filter(|v| pattern.count(**v) > 0)
        .map(|v| format!("{} {}", v.name(), grid::format_row(pattern.row(*v))))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The headless status of one cycle as a JSON object (keys documented in the README).
pub fn status_json(snap: &Snapshot, elapsed: Duration) -> serde_json::Value {
    let st = &snap.status;
    let drums: serde_json::Map<String, serde_json::Value> = Voice::ALL
        .iter()
        .filter(|v| snap.pattern.count(**v) > 0)
        .map(|v| {
            (
                v.name().to_string(),
                grid::format_row(snap.pattern.row(*v)).into(),
            )
        })
        .collect();
    serde_json::json!({
        "scene": snap.scene,
        "playing": st.playing,
        "cycle": st.cycle + 1,
        "seconds": elapsed.as_secs_f64(),
        "tempo": st.tempo_bpm,
        "swing": snap.swing,
        "key": snap.key.to_string(),
        "scale": spec::scale_name(snap.scale),
        "drums": drums,
        "bass": snap.playing.bassline.format(snap.playing.tonic),
        "peak_db": 20.0 * st.master_peak.max(1e-6).log10(),
        "dsp_load": st.dsp_load,
        "xruns": st.xruns,
        "late": st.late_plans,
        "output": snap.output,
        "midi": snap.midi,
        "z": [snap.ai.x, snap.ai.y],
        "kick": snap.ai.kick,
        "hats": snap.ai.hats,
        "loops": loops_json(snap),
        "feedback": snap.feedback.as_ref().map(|f| serde_json::json!({
            "loop": f.loop_name,
            "score": f.score,
            "target": f.target,
            "amount": snap.ai.feedback_amount,
        })),
        "deck": serde_json::json!({
            "record": snap.deck.record,
            "playing": snap.deck.playing,
            "position_s": snap.deck.position_s,
            "rate": snap.deck.rate,
        }),
        "ai_ms": snap.ai_ms,
        "section": snap.section.as_ref().map(|v| serde_json::json!({
            "name": v.name,
            "index": v.index,
            "count": v.count,
            "cycles_left": v.cycles_left,
        })),
    })
}

/// The loop sets as JSON: per set whether it plays, the loop it plays, the one it plays next
/// and the ranked candidates with their scores.
fn loops_json(snap: &Snapshot) -> serde_json::Value {
    snap.loops
        .iter()
        .map(|l| {
            let candidates: Vec<serde_json::Value> = l
                .candidates
                .iter()
                .map(|c| serde_json::json!({"name": c.name, "score": c.score}))
                .collect();
            (
                l.set.name().to_string(),
                serde_json::json!({
                    "on": l.on,
                    "playing": l.playing,
                    "next": l.wanted,
                    "picked": l.pick.is_some(),
                    "candidates": candidates,
                }),
            )
        })
        .collect::<serde_json::Map<_, _>>()
        .into()
}

/// The AI's part of the status line: the latent point, the loops that play and what the
/// feedback loop heard.
pub fn ai_summary(snap: &Snapshot) -> String {
    let mut parts = Vec::new();
    if let Some(v) = &snap.section {
        parts.push(format!(
            "{} {}/{} ({} left)",
            v.name,
            v.index + 1,
            v.count,
            v.cycles_left
        ));
    }
    parts.push(format!("z {:.2},{:.2}", snap.ai.x, snap.ai.y));
    for l in snap.loops.iter().filter(|l| l.on) {
        parts.push(format!(
            "{} {}",
            l.set.name(),
            l.playing.as_deref().or(l.wanted.as_deref()).unwrap_or("–")
        ));
    }
    if let Some(f) = &snap.feedback {
        parts.push(format!("heard {}", f.loop_name));
    }
    if let Some(r) = &snap.deck.record {
        let state = if snap.deck.playing { "▶" } else { "■" };
        parts.push(format!("deck {state} {r} {:.0}s", snap.deck.position_s));
    }
    parts.join(" · ")
}

fn headless(engine: &EngineHandle, quit: &Arc<AtomicBool>, json: bool) -> anyhow::Result<()> {
    read_commands(engine.sender(), Arc::clone(quit));
    let started = Instant::now();
    let mut last_cycle = u64::MAX;
    let mut was_playing = false;
    let mut stdout = std::io::stdout();
    while !quit.load(Ordering::Relaxed) && !engine.is_finished() {
        std::thread::sleep(Duration::from_millis(20));
        for n in engine.notices() {
            if !n.ok {
                eprintln!("ubiq: {}", n.text);
            }
        }
        let snap = engine.snapshot();
        let stopped = was_playing && !snap.status.playing;
        was_playing = snap.status.playing;
        if stopped || (snap.status.playing && snap.status.cycle != last_cycle) {
            last_cycle = snap.status.cycle;
            if json {
                writeln!(stdout, "{}", status_json(&snap, started.elapsed()))?;
            } else {
                let line = status_line(&snap, started.elapsed());
                let ai = if snap.composing || snap.library || snap.section.is_some() {
                    format!(" · {}", ai_summary(&snap))
                } else {
                    String::new()
                };
                writeln!(stdout, "{line}{ai} · {}", pattern_summary(&snap))?;
            }
        }
    }
    for n in engine.notices() {
        if !n.ok {
            eprintln!("ubiq: {}", n.text);
        }
    }
    // The last word: where the set stopped, with its health counters.
    let snap = engine.snapshot();
    if json {
        writeln!(stdout, "{}", status_json(&snap, started.elapsed()))?;
    } else {
        writeln!(stdout, "{}", status_line(&snap, started.elapsed()))?;
    }
    Ok(())
}

/// Reads command lines from stdin; bad lines are reported on stderr and change nothing.
/// The end of input stops the performance.
fn read_commands(engine: Sender<live::Request>, quit: Arc<AtomicBool>) {
    std::thread::spawn(move || {
        let stdin = std::io::stdin();
        for line in stdin.lock().lines() {
            let Ok(line) = line else { break };
            if line.trim().is_empty() || line.trim_start().starts_with('#') {
                continue;
            }
            match parse(&line) {
                Ok(Command::Quit) => break,
                Ok(cmd) => {
                    if engine.send(live::Request::Command(cmd)).is_err() {
                        break;
                    }
                }
                Err(e) => eprintln!("ubiq: {e}"),
            }
        }
        quit.store(true, Ordering::Relaxed);
    });
}
