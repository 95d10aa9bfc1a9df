//! `ubiq play`: play a scene live. Opens the audio device, the engine, MIDI and the scene
//! and library watchers, then hands the set to a front end: on a terminal the full-screen
//! interface ([`crate::ui`]), otherwise (no terminal, or `--headless`) the headless one
//! ([`crate::headless`]).

use std::io;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::mpsc::Sender;

use anyhow::Context;
use clap::Args;

use super::models::ModelArgs;
use crate::audio::output::{self, AudioChoice, Output, OutputOptions};
use crate::command::Command;
use crate::engine::live;
use crate::headless::Lines;
use crate::midi::input::{MidiControl, MidiEvent, MidiIn};
use crate::performance::Performance;
use crate::scene::library;
use crate::scene::watch::{Change, SceneWatcher};
use crate::snapshot::Notice;
use crate::ui::keymap::Keymap;
use crate::ui::theme::{Theme, ThemeError, no_color_requested};

/// Options of `ubiq play` (and of `ubiq` with no subcommand).
#[derive(Args, Debug, Clone)]
pub struct PlayArgs {
    /// Scene file (patterns/*.ron) or the name of a shipped scene: default, house, breakbeat,
    /// halftime, techno.
    pub scene: Option<String>,
    /// Audio system: auto tries JACK, then the system default, then plays silently.
    #[arg(long, value_enum, default_value_t = AudioChoice::Auto)]
    pub audio: AudioChoice,
    /// Output device: any part of its name, as `ubiq devices` prints it.
    #[arg(long)]
    pub device: Option<String>,
    /// Frames per audio buffer: smaller is tighter, larger is safer (JACK uses its own).
    #[arg(long, default_value_t = 256, value_parser = clap::value_parser!(u32).range(16..=8192))]
    pub buffer: u32,
    /// Sample rate in Hz (the device's default when not given).
    #[arg(long, value_parser = clap::value_parser!(u32).range(22_050..=192_000))]
    pub sample_rate: Option<u32>,
    /// Seed of what the AI composes and of the noise in the drum sounds (written in the
    /// session log, so a replay composes the same).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// No full-screen display: read commands from stdin, print one status line per cycle
    /// (for SSH rehearsal and scripts). Without a terminal this is the default.
    #[arg(long)]
    pub headless: bool,
    /// Record the whole set: FILE.wav, FILE.log (replayable) and FILE.ron, finished on quit.
    #[arg(long, value_name = "FILE.wav")]
    pub record: Option<PathBuf>,
    /// Headless status as JSON lines (one object per cycle).
    #[arg(long, requires = "headless")]
    pub json: bool,
    /// Colour theme of the full-screen interface: dark, light, mono, a theme in
    /// ~/.config/ubiq/themes/, or a .ron file. NO_COLOR is respected.
    #[arg(long, value_name = "NAME")]
    pub theme: Option<String>,
    /// MIDI ports and behaviour.
    #[command(flatten)]
    pub midi: MidiOptions,
    /// Mix a live input into the deck: the capture device whose name contains NAME (a
    /// turntable or line in; under JACK, ubiq's input ports).
    #[arg(long, value_name = "NAME")]
    pub deck_in: Option<String>,
    /// Where the models and the loop library come from.
    #[command(flatten)]
    pub models: ModelArgs,
    /// What the scene may include.
    #[command(flatten)]
    pub access: super::SceneAccess,
}

impl PlayArgs {
    /// Plays until the performer quits.
    pub fn run(self) -> anyhow::Result<ExitCode> {
        play(self).map(|()| ExitCode::SUCCESS)
    }

    /// How to open the audio output.
    pub fn output(&self) -> OutputOptions {
        OutputOptions {
            choice: self.audio,
            device: self.device.clone(),
            buffer_frames: self.buffer,
            sample_rate: self.sample_rate,
            seed: self.seed,
        }
    }
}

/// MIDI options of `ubiq play` (`--midi-…`).
#[derive(Args, Debug, Clone, Default)]
pub struct MidiOptions {
    /// Send drums and bass as MIDI notes to the port whose name contains NAME (JACK when a
    /// server runs, else ALSA; `ubiq devices` lists ports). Reconnects when it comes back.
    #[arg(id = "midi_out", long = "midi-out", value_name = "NAME")]
    pub out: Option<String>,
    /// Listen to the port whose name contains NAME: controller bindings (`midi learn`) and,
    /// with --midi-follow, clock.
    #[arg(id = "midi_in", long = "midi-in", value_name = "NAME")]
    pub input: Option<String>,
    /// Note map for MIDI out: gm (default), tr8s, rd8, digitakt, or a .ron file.
    #[arg(id = "midi_map", long = "midi-map", value_name = "MAP")]
    pub map: Option<String>,
    /// MIDI channel of the drums (1-16), instead of the map's.
    #[arg(
        id = "midi_drum_channel",
        long = "midi-drum-channel",
        value_name = "MIDI_DRUM_CHANNEL",
        value_parser = clap::value_parser!(u8).range(1..=16)
    )]
    pub drum_channel: Option<u8>,
    /// MIDI channel of the bass (1-16), instead of the map's.
    #[arg(
        id = "midi_bass_channel",
        long = "midi-bass-channel",
        value_name = "MIDI_BASS_CHANNEL",
        value_parser = clap::value_parser!(u8).range(1..=16)
    )]
    pub bass_channel: Option<u8>,
    /// Send MIDI clock (24 ppqn, start / stop / song position) with the notes.
    #[arg(id = "midi_clock", long = "midi-clock", requires = "midi_out")]
    pub clock: bool,
    /// Follow the tempo of the MIDI clock coming in on --midi-in.
    #[arg(id = "midi_follow", long = "midi-follow", requires = "midi_in")]
    pub follow: bool,
    /// Shift every outgoing MIDI message by this many milliseconds (negative: earlier, for
    /// gear that sounds late).
    #[arg(
        id = "midi_offset",
        long = "midi-offset",
        default_value_t = 0.0,
        allow_negative_numbers = true,
        value_name = "MS"
    )]
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
            tell(e);
            return Ok((None, None));
        }
    };
    let description = ports.describe();
    tell(format_args!("MIDI {description} · notes {}", map.name));
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
        tell("MIDI out is not in step with the audio yet; the first notes may be late");
    }
    let engine_midi = live::EngineMidi {
        out: Some(out),
        control: Arc::clone(&control),
        ports: description,
    };
    Ok((Some(engine_midi), queue.map(|q| (q, control))))
}

fn play(opts: PlayArgs) -> anyhow::Result<()> {
    // Past a file size limit, writes (a recording, the autosave) fail and are reported; the
    // set plays on instead of being killed by the signal.
    // SAFETY: ignoring a signal changes no memory of this program.
    unsafe { libc::signal(libc::SIGXFSZ, libc::SIG_IGN) };
    opts.access.apply();
    let (scene, path) = library::resolve(opts.scene.as_deref())?;
    let screen = !opts.headless && crate::ui::can_run();
    let config = crate::files::config_dir();
    // The full-screen display needs its theme; headless says a theme file that cannot be
    // used and plays on (a theme name that does not exist is a typo: refused before playing).
    let theme = match Theme::load(
        opts.theme.as_deref(),
        config.as_deref(),
        no_color_requested(),
    ) {
        Ok(theme) => screen.then_some(theme),
        Err(e) if screen || matches!(e, ThemeError::Unknown { .. }) => return Err(e.into()),
        Err(e) => {
            tell(format_args!("{e} — not used headless, playing on"));
            None
        }
    };
    let (mut audio, mut output) = output::open(&opts.output()).context("cannot open audio")?;
    match &output {
        Output::Silent { reason, .. } => tell(format_args!(
            "{reason} — playing silently in time; `ubiq render` writes the set to a WAV file"
        )),
        Output::Device { description, .. } => tell(format_args!("playing through {description}")),
    }
    let _deck_in = match &opts.deck_in {
        Some(name) => match crate::audio::input::open(name, audio.sample_rate()) {
            Ok((input, ring)) => {
                tell(format_args!("the deck listens to {}", input.description));
                // A fresh queue has room for it.
                let _ = audio.send_boxed(crate::audio::link::Boxed::DeckInput(ring));
                Some(input)
            }
            Err(e) => {
                tell(format_args!(
                    "no deck input ({e}) — the deck plays files only"
                ));
                None
            }
        },
        None => None,
    };
    let autosave = autosave_path();
    let midi_map = crate::midi::map::NoteMap::load(opts.midi.map.as_deref().unwrap_or("gm")).ok();
    let open_takes = super::recover::open_takes();
    let options = live::EngineOptions {
        output: output.to_string(),
        silent: output.is_silent(),
        seed: opts.seed,
        autosave: autosave.clone(),
        models: opts.models.paths(),
        midi_map: midi_map.clone(),
        open_takes: open_takes.clone(),
    };
    let (engine_midi, midi_in) =
        open_midi(&opts.midi, &audio, output.to_string().starts_with("JACK"))?;
    let mut models = opts.models.load_telling();
    let take_map = midi_map
        .clone()
        .or_else(|| crate::midi::map::NoteMap::shipped("gm"));
    let recovered = match (&open_takes, &take_map) {
        (Some(open), Some(map)) => crate::engine::recover::recover_open(open, &mut models, map),
        _ => Vec::new(),
    };
    for line in &recovered {
        tell(line);
    }
    let library_root = models.library.as_ref().map(|l| l.root().to_path_buf());
    let engine = live::spawn(
        Performance::seeded(scene, opts.seed),
        audio,
        options,
        engine_midi,
        models,
    )?;
    if let Some(changes) = output.changes() {
        let engine = engine.sender();
        // The displays show the change and the performer reads it in one line (headless
        // prints only the engine's refusals: the good news is told here).
        std::thread::Builder::new()
            .name("ubiq-output-changes".into())
            .spawn(move || {
                for change in changes {
                    if !screen && matches!(change, output::OutputChange::Back { .. }) {
                        tell(change.message());
                    }
                    let _ = engine.send(live::Request::Output(change));
                }
            })?;
    }
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
    // The full screen hides what was said before it: the last recovered take is its first
    // notice.
    if let Some(line) = recovered.last().filter(|_| screen) {
        let _ = engine
            .sender()
            .send(live::Request::Notice(Notice::done(line.clone())));
    }
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
            tell(format_args!(
                "cannot watch the loop library {}: {e}",
                root.display()
            ))
        })
        .ok()
    });
    let quit = super::signals::stop_flag()?;
    let result = if let Some(theme) = theme {
        let (keymap, message) = Keymap::load(config.map(|d| d.join("keymap.ron")).as_deref());
        let app = crate::ui::App::new(keymap, theme, message);
        crate::ui::run(&engine, &quit, app).context("terminal")
    } else {
        crate::headless::run(&engine, &quit, opts.json);
        Ok(())
    };
    drop(engine);
    drop(output);
    if let Some(p) = autosave.filter(|p| p.exists()) {
        let saved = format!(
            "the set is saved in {} (`ubiq play {0}` picks it up)",
            p.display()
        );
        // The last status line's neighbour, except where stdout is JSON only.
        if opts.json {
            tell(saved);
        } else {
            Lines::new(io::stdout()).line(format_args!("ubiq: {saved}"));
        }
    }
    result
}

/// One line on stderr, `ubiq: ` first; a closed stderr drops it instead of stopping the set.
fn tell(text: impl std::fmt::Display) {
    Lines::new(io::stderr()).line(format_args!("ubiq: {text}"));
}

/// Where the state is saved while playing: `$XDG_DATA_HOME/ubiq/autosave.ron` or
/// `~/.local/share/ubiq/autosave.ron`.
pub fn autosave_path() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_DATA_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")))?;
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
