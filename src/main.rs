//! The `ubiq` command line: argument parsing only; the work happens in `ubiq::app`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use ubiq::app;
use ubiq::audio::output::{AudioChoice, OutputOptions};
use ubiq::dataset::CacheMode;
use ubiq::engine::render::RenderOptions;
use ubiq::model::Backend;

/// ubiq — a terminal instrument where small neural networks compose drums and bass while
/// you steer.
///
/// With no subcommand, ubiq plays: the default scene starts at once on your audio device
/// (or silently in time when there is none).
#[derive(Parser, Debug)]
#[command(
    name = "ubiq",
    version,
    about,
    long_about,
    args_conflicts_with_subcommands = true,
    disable_help_subcommand = true
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    play: PlayArgs,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Play live (the default): the full-screen interface (`?` shows the keys), or with
    /// --headless commands on stdin.
    Play(PlayArgs),
    /// Render a scene to a WAV file, much faster than real time.
    Render(RenderCli),
    /// List the audio devices and MIDI ports ubiq can use.
    Devices,
    /// Render a recorded session (NAME.log from `record` or `render --log`) again, identical
    /// to the recording.
    Replay {
        /// The session log.
        log: PathBuf,
        /// WAV file to write.
        #[arg(long, short)]
        out: PathBuf,
        /// Also write the session's MIDI (drums and bass) to this standard MIDI file.
        #[arg(long, value_name = "FILE.mid")]
        midi_out: Option<PathBuf>,
        #[command(flatten)]
        models: ModelArgs,
    },
    /// Train a model on your own material.
    #[command(subcommand)]
    Train(TrainCli),
    /// Measure a model.
    #[command(subcommand)]
    Eval(EvalCli),
    /// Decode one point of the rhythm VAE's latent plane into a pattern.
    Generate(GenerateCli),
    /// Check scene files without playing them (for editors and CI); exit code 1 on errors.
    Check {
        /// Scene files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Help on the command language: `ubiq help commands`, `ubiq help set`.
    Help {
        /// `commands` (every command you can type while playing) or `set` (every sound
        /// parameter); anything else shows the command-line help.
        topic: Option<String>,
    },
    /// Training data from MIDI folders.
    #[command(subcommand)]
    Dataset(DatasetCommand),
    /// Write the bassline the bass model plays with a scene's (or MIDI file's) drums.
    Translate(TranslateCli),
    /// The loop library: add, list, embed, build the default sets.
    #[command(subcommand)]
    Loops(LoopsCommand),
    /// A long accelerated offline performance with random valid and invalid commands and
    /// scene reloads: no panic, no missed boundary, flat memory (exit code 1 otherwise).
    Soak {
        /// Cycles to perform (a cycle is two bars).
        #[arg(long, default_value_t = 10_000)]
        cycles: u64,
        /// Inputs per cycle, on average.
        #[arg(long, default_value_t = 3.0)]
        per_cycle: f32,
        /// Sample rate in Hz.
        #[arg(long, default_value_t = 22_050)]
        sample_rate: u32,
        /// Seed of the performer's choices.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Print one JSON object.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        models: ModelArgs,
    },
    /// Time the AI's work per cycle and its parts (medians and p99, both Burn backends).
    Bench {
        /// Print one JSON object.
        #[arg(long)]
        json: bool,
        /// Scale of the call counts (1: about a second per figure; 0.1 for a quick look).
        #[arg(long, default_value_t = 1.0)]
        scale: f64,
        /// Loop library to rank (default: loops/ here, else the one shipped beside ubiq).
        #[arg(long, value_name = "DIR")]
        loops: Option<PathBuf>,
        /// Time only the cases whose names contain one of these (e.g. `ai.cycle`, `loops.`).
        #[arg(value_name = "CASE")]
        only: Vec<String>,
    },
}

#[derive(Args, Debug)]
struct TrainBassCli {
    /// MIDI folders with songs where drums and a bass play together.
    #[arg(long, required = true, num_args = 1..)]
    midi: Vec<PathBuf>,
    /// Maximum epochs (early stopping may end sooner).
    #[arg(long, default_value_t = 12, value_parser = clap::value_parser!(u64).range(1..=10_000))]
    epochs: u64,
    /// Weights file to write; NAME.json goes beside it.
    #[arg(long, default_value = "models/bass.bpk")]
    out: PathBuf,
    /// Seed: the same data, settings and seed give the same model.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Always extract the MIDI files; neither read nor write the dataset cache.
    #[arg(long)]
    no_cache: bool,
}

#[derive(Args, Debug)]
struct EvalBassCli {
    /// MIDI folders (their test split is measured).
    #[arg(long, required = true, num_args = 1..)]
    midi: Vec<PathBuf>,
    /// Model file (the embedded default when not given).
    #[arg(long)]
    model: Option<PathBuf>,
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
    /// Sampling temperature of the model rows.
    #[arg(long, default_value_t = ubiq::model::bass::infer::DEFAULT_TEMPERATURE)]
    temperature: f32,
    /// Top-k of the model rows' pitch sampling (0: all pitches).
    #[arg(long, default_value_t = ubiq::model::bass::infer::DEFAULT_TOP_K)]
    top_k: usize,
    /// Seed of the sampling.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Split to measure: test (held-out songs) or validation (for choosing settings).
    #[arg(long, default_value = "test", value_parser = parse_split)]
    split: ubiq::dataset::Split,
    /// Always extract the MIDI files; neither read nor write the dataset cache.
    #[arg(long)]
    no_cache: bool,
}

fn parse_split(text: &str) -> Result<ubiq::dataset::Split, String> {
    ubiq::dataset::Split::from_name(text)
        .ok_or_else(|| format!("{text:?} is not a split (train, validation, test)"))
}

#[derive(Args, Debug)]
struct TranslateCli {
    /// Scene file, shipped scene name, or a .mid file (the default scene when not given).
    input: Option<String>,
    /// Key (the scene's by default).
    #[arg(long)]
    key: Option<ubiq::pattern::Key>,
    /// Scale (the scene's by default).
    #[arg(long, value_parser = parse_scale)]
    scale: Option<ubiq::pattern::Scale>,
    /// Sampling temperature; 0 plays the most likely line.
    #[arg(long, default_value_t = ubiq::model::bass::infer::DEFAULT_TEMPERATURE)]
    temperature: f32,
    /// Sample a note's pitch among the k likeliest pitches (0: all).
    #[arg(long, default_value_t = ubiq::model::bass::infer::DEFAULT_TOP_K)]
    top_k: usize,
    /// Let notes leave the scale.
    #[arg(long)]
    unconstrained: bool,
    /// Seed of the sampling.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Also write drums and bass: FILE.mid, or FILE.ron (the scene with the new line).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Bass model file (the embedded default when not given).
    #[arg(long = "bass-model")]
    bass_model: Option<PathBuf>,
}

fn parse_scale(text: &str) -> Result<ubiq::pattern::Scale, String> {
    ubiq::pattern::Scale::ALL
        .into_iter()
        .find(|s| {
            serde_json::to_value(s)
                .ok()
                .and_then(|v| v.as_str().map(|n| n == text))
                .unwrap_or(false)
        })
        .ok_or_else(|| format!("{text:?} is not a scale (minor, major, dorian, …)"))
}

fn cache_mode(no_cache: bool) -> CacheMode {
    if no_cache {
        CacheMode::Off
    } else {
        CacheMode::Default
    }
}

#[derive(Subcommand, Debug)]
enum TrainCli {
    /// Train the rhythm VAE on drum MIDI folders.
    Rhythm(TrainRhythmCli),
    /// Trains the loop-compatibility model (Siamese CNN, triplet loss) on stems rendered from
    /// multi-track MIDI songs.
    Loops {
        /// Multi-track MIDI songs (files or folders).
        #[arg(long, required = true, num_args = 1..)]
        midi: Vec<PathBuf>,
        /// General MIDI SoundFont (.sf2).
        #[arg(long)]
        soundfont: PathBuf,
        /// Where to write the weights (a .json with the metadata goes beside).
        #[arg(long, default_value = "models/loops.bpk")]
        out: PathBuf,
        /// Training configuration (JSON, as written into the model's .json under
        /// "training"); the built-in defaults when not given.
        #[arg(long)]
        config: Option<PathBuf>,
        /// Most epochs (overrides the configuration).
        #[arg(long)]
        epochs: Option<usize>,
        /// Seed (overrides the configuration).
        #[arg(long)]
        seed: Option<u64>,
    },

    /// Train the rhythm → bassline model on multi-track MIDI songs (drums + bass).
    Bass(TrainBassCli),
}

#[derive(Args, Debug)]
struct TrainRhythmCli {
    /// MIDI folders (a Groove MIDI Dataset folder with info.csv uses its splits).
    #[arg(long, required = true, num_args = 1..)]
    midi: Vec<PathBuf>,
    /// Maximum epochs (early stopping may end sooner).
    #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..=10_000))]
    epochs: u64,
    /// Weights file to write; NAME.json and NAME.map.ron go beside it.
    #[arg(long, default_value = "models/rhythm.bpk")]
    out: PathBuf,
    /// Seed: the same data, settings and seed give the same model.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Burn backend.
    #[arg(long, value_enum, default_value_t = Backend::Flex)]
    backend: Backend,
    /// Final weight of the KL term (after warm-up).
    #[arg(long, default_value_t = 0.25)]
    beta: f64,
}

#[derive(Subcommand, Debug)]
enum EvalCli {
    /// Reconstruction, baselines, conditioning control and diversity of the rhythm VAE.
    Rhythm(EvalRhythmCli),
    /// Triplet accuracy and ROC-AUC of the loop model and two baselines on test songs.
    Loops {
        /// Multi-track MIDI songs (files or folders).
        #[arg(long, required = true, num_args = 1..)]
        midi: Vec<PathBuf>,
        /// General MIDI SoundFont (.sf2).
        #[arg(long)]
        soundfont: PathBuf,
        /// Model (default: the embedded one).
        #[arg(long)]
        model: Option<PathBuf>,
        /// Prints JSON.
        #[arg(long)]
        json: bool,
        /// Seed of the negatives and the random baseline.
        #[arg(long, default_value_t = 11)]
        seed: u64,
        /// Songs to measure on: test (held out), validation (used to choose settings) or train.
        #[arg(long, default_value = "test")]
        split: String,
    },

    /// Token accuracy, note onsets, pitch classes, scale and empty lines of the bass model
    /// and three baselines on the held-out songs.
    Bass(EvalBassCli),
}

#[derive(Args, Debug)]
struct EvalRhythmCli {
    /// MIDI folders to measure on (the test split of a Groove MIDI Dataset folder).
    #[arg(long, required = true, num_args = 1..)]
    midi: Vec<PathBuf>,
    /// Model file (the embedded default when not given).
    #[arg(long)]
    model: Option<PathBuf>,
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
    /// Seed of the sampled measures.
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

#[derive(Args, Debug)]
struct GenerateCli {
    /// Latent point X,Y (about −3..3 each).
    #[arg(long, value_parser = app::generate::parse_point, allow_hyphen_values = true, default_value = "0,0")]
    z: [f32; 2],
    /// Kick density in standard deviations of the training set (0 typical).
    #[arg(long, default_value_t = 0.0, allow_hyphen_values = true)]
    kick: f32,
    /// Hi-hat density in standard deviations of the training set (0 typical).
    #[arg(long, default_value_t = 0.0, allow_hyphen_values = true)]
    hats: f32,
    /// Onset threshold 0..1.
    #[arg(long, default_value_t = 0.5)]
    threshold: f32,
    /// Micro-timing amount, 0 (quantised) ..1.
    #[arg(long, default_value_t = 1.0)]
    timing: f32,
    /// Seed of the variation near the threshold.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Also write the pattern: FILE.ron (a scene) or FILE.mid (with the bassline under --bass).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Rhythm model file (the embedded default when not given).
    #[arg(long = "rhythm-model")]
    rhythm_model: Option<PathBuf>,
    /// Also write a bassline for the drums with the bass model (printed and exported).
    #[arg(long)]
    bass: bool,
    /// Key of the bassline (A by default).
    #[arg(long, requires = "bass")]
    key: Option<ubiq::pattern::Key>,
    /// Scale of the bassline (minor by default).
    #[arg(long, value_parser = parse_scale, requires = "bass")]
    scale: Option<ubiq::pattern::Scale>,
    /// Sampling temperature of the bassline; 0 plays the most likely line.
    #[arg(long, default_value_t = ubiq::model::bass::infer::DEFAULT_TEMPERATURE)]
    temperature: f32,
    /// Sample the bassline's pitches among the k likeliest (0: all).
    #[arg(long, default_value_t = ubiq::model::bass::infer::DEFAULT_TOP_K)]
    top_k: usize,
    /// Bass model file (the embedded default when not given).
    #[arg(long = "bass-model", requires = "bass")]
    bass_model: Option<PathBuf>,
}

/// `ubiq loops …`.
#[derive(Subcommand, Debug)]
enum LoopsCommand {
    /// Adds audio files (wav, flac, ogg) to a set: tempo from the name or the length, trimmed or
    /// padded to whole bars, loudness-normalised, embedded. Bad files are reported and skipped.
    Add {
        /// The files.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// The set: music, ambient, voice or rhythm.
        #[arg(long)]
        set: String,
        /// Library folder.
        #[arg(long, default_value = "loops")]
        library: PathBuf,
        /// Loop model (default: the embedded one).
        #[arg(long)]
        model: Option<PathBuf>,
    },
    /// Lists every set's loops.
    List {
        /// Library folder.
        #[arg(long, default_value = "loops")]
        library: PathBuf,
    },
    /// Recomputes the cached embeddings of every loop.
    Embed {
        /// Library folder.
        #[arg(long, default_value = "loops")]
        library: PathBuf,
        /// Loop model (default: the embedded one).
        #[arg(long)]
        model: Option<PathBuf>,
    },
    /// Renders the default library (used by scripts/build-loops.sh).
    Build {
        /// Multi-track MIDI songs (files or folders) for the music set.
        #[arg(long, required = true, num_args = 1..)]
        midi: Vec<PathBuf>,
        /// General MIDI SoundFont (.sf2).
        #[arg(long)]
        soundfont: PathBuf,
        /// Groove MIDI Dataset folder for the rhythm set.
        #[arg(long)]
        groove: Option<PathBuf>,
        /// Rhythm loops to render.
        #[arg(long, default_value_t = 2000)]
        rhythm_count: usize,
        /// Sonic Pi sample folder for the ambient and voice sets.
        #[arg(long)]
        samples: Option<PathBuf>,
        /// Library folder.
        #[arg(long, default_value = "loops")]
        library: PathBuf,
    },
}

#[derive(Subcommand, Debug)]
enum DatasetCommand {
    /// Files read and skipped, drum windows, drum+bass pairs and hit rates, per split.
    Stats(StatsCli),
}

#[derive(Args, Debug)]
struct StatsCli {
    /// MIDI folders (searched recursively) or files.
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// Print JSON (stable keys) instead of text.
    #[arg(long)]
    json: bool,
    /// Cache folder (default: $XDG_CACHE_HOME/ubiq or ~/.cache/ubiq).
    #[arg(long, conflicts_with = "no_cache")]
    cache: Option<PathBuf>,
    /// Always extract; neither read nor write the cache.
    #[arg(long)]
    no_cache: bool,
}

/// Where the models and the loop library come from.
#[derive(Args, Debug, Default, Clone)]
struct ModelArgs {
    /// Rhythm VAE weights (the embedded default when not given).
    #[arg(long, value_name = "FILE.bpk")]
    rhythm_model: Option<PathBuf>,
    /// Bass model weights (the embedded default when not given).
    #[arg(long, value_name = "FILE.bpk")]
    bass_model: Option<PathBuf>,
    /// Loop model weights (the embedded default when not given).
    #[arg(long, value_name = "FILE.bpk")]
    loop_model: Option<PathBuf>,
    /// Loop library folder (default: loops/ here, else the one shipped beside ubiq).
    #[arg(long, value_name = "DIR")]
    loops: Option<PathBuf>,
}

impl ModelArgs {
    fn paths(self) -> ubiq::model::registry::ModelPaths {
        ubiq::model::registry::ModelPaths {
            rhythm: self.rhythm_model,
            bass: self.bass_model,
            loops: self.loop_model,
            library: self.loops,
        }
    }
}

#[derive(Args, Debug, Default)]
struct PlayArgs {
    /// Scene file (patterns/*.ron) or the name of a shipped scene: default, house, breakbeat,
    /// halftime, techno.
    scene: Option<String>,
    /// Audio system: auto tries JACK, then the system default, then plays silently.
    #[arg(long, value_enum, default_value_t = AudioChoice::Auto)]
    audio: AudioChoice,
    /// Output device: any part of its name, as `ubiq devices` prints it.
    #[arg(long)]
    device: Option<String>,
    /// Frames per audio buffer: smaller is tighter, larger is safer (JACK uses its own).
    #[arg(long, default_value_t = 256, value_parser = clap::value_parser!(u32).range(16..=8192))]
    buffer: u32,
    /// Sample rate in Hz (the device's default when not given).
    #[arg(long, value_parser = clap::value_parser!(u32).range(22_050..=192_000))]
    sample_rate: Option<u32>,
    /// Seed for the noise in the drum sounds.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// No full-screen display: read commands from stdin, print one status line per cycle
    /// (for SSH rehearsal and scripts). Without a terminal this is the default.
    #[arg(long)]
    headless: bool,
    /// Record the whole set: FILE.wav, FILE.log (replayable) and FILE.ron, finished on quit.
    #[arg(long, value_name = "FILE.wav")]
    record: Option<PathBuf>,
    /// Headless status as JSON lines (one object per cycle).
    #[arg(long, requires = "headless")]
    json: bool,
    /// Colour theme of the full-screen interface: dark, light, mono, a theme in
    /// ~/.config/ubiq/themes/, or a .ron file. NO_COLOR is respected.
    #[arg(long, value_name = "NAME")]
    theme: Option<String>,
    /// Send drums and bass as MIDI notes to the port whose name contains NAME (JACK when a
    /// server runs, else ALSA; `ubiq devices` lists ports). Reconnects when it comes back.
    #[arg(long, value_name = "NAME")]
    midi_out: Option<String>,
    /// Listen to the port whose name contains NAME: controller bindings (`midi learn`) and,
    /// with --midi-follow, clock.
    #[arg(long, value_name = "NAME")]
    midi_in: Option<String>,
    /// Note map for MIDI out: gm (default), tr8s, rd8, digitakt, or a .ron file.
    #[arg(long, value_name = "MAP")]
    midi_map: Option<String>,
    /// MIDI channel of the drums (1-16), instead of the map's.
    #[arg(long, value_parser = clap::value_parser!(u8).range(1..=16))]
    midi_drum_channel: Option<u8>,
    /// MIDI channel of the bass (1-16), instead of the map's.
    #[arg(long, value_parser = clap::value_parser!(u8).range(1..=16))]
    midi_bass_channel: Option<u8>,
    /// Send MIDI clock (24 ppqn, start / stop / song position) with the notes.
    #[arg(long, requires = "midi_out")]
    midi_clock: bool,
    /// Follow the tempo of the MIDI clock coming in on --midi-in.
    #[arg(long, requires = "midi_in")]
    midi_follow: bool,
    /// Shift every outgoing MIDI message by this many milliseconds (negative: earlier, for
    /// gear that sounds late).
    #[arg(
        long,
        default_value_t = 0.0,
        allow_negative_numbers = true,
        value_name = "MS"
    )]
    midi_offset: f64,
    /// Mix a live input into the deck: the capture device whose name contains NAME (a
    /// turntable or line in; under JACK, ubiq's input ports).
    #[arg(long, value_name = "NAME")]
    deck_in: Option<String>,
    #[command(flatten)]
    models: ModelArgs,
}

#[derive(Args, Debug)]
struct RenderCli {
    /// Scene file or shipped scene name (the default scene when not given).
    scene: Option<String>,
    /// Length in bars (one cycle is two bars).
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    bars: u32,
    /// WAV file to write (32-bit float, stereo).
    #[arg(long, short)]
    out: PathBuf,
    /// Seed: the same scene, length, rate and seed give a byte-identical file.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Sample rate in Hz.
    #[arg(long, default_value_t = 48_000, value_parser = clap::value_parser!(u32).range(22_050..=192_000))]
    sample_rate: u32,
    /// Also write the performance's MIDI (drums and bass, as MIDI out sends them) to this
    /// standard MIDI file.
    #[arg(long, value_name = "FILE.mid")]
    midi_out: Option<PathBuf>,
    /// Note map of the MIDI file: gm (default), tr8s, rd8, digitakt, or a .ron file.
    #[arg(long, value_name = "MAP")]
    midi_map: Option<String>,
    /// Also write the session log (replayable with `ubiq replay`).
    #[arg(long, value_name = "FILE.log")]
    log: Option<PathBuf>,
    /// Play the scene exactly as written: no AI composing, no loops.
    #[arg(long)]
    no_ai: bool,
    #[command(flatten)]
    models: ModelArgs,
}

fn play(args: PlayArgs) -> anyhow::Result<()> {
    app::play::run(app::play::PlayOptions {
        scene: args.scene,
        output: OutputOptions {
            choice: args.audio,
            device: args.device,
            buffer_frames: args.buffer,
            sample_rate: args.sample_rate,
            seed: args.seed,
        },
        headless: args.headless,
        record: args.record,
        json: args.json,
        theme: args.theme,
        midi: app::play::MidiOptions {
            out: args.midi_out,
            input: args.midi_in,
            map: args.midi_map,
            drum_channel: args.midi_drum_channel,
            bass_channel: args.midi_bass_channel,
            clock: args.midi_clock,
            follow: args.midi_follow,
            offset_ms: args.midi_offset,
        },
        deck_in: args.deck_in,
        models: args.models.paths(),
    })
}

fn check(files: &[PathBuf]) -> ExitCode {
    let mut ok = true;
    for file in files {
        match ubiq::scene::Scene::load(file) {
            Ok(scene) => println!(
                "{}: ok ({:?}, {} BPM)",
                file.display(),
                scene.name,
                scene.tempo
            ),
            Err(e) => {
                ok = false;
                eprintln!("{e}");
            }
        }
    }
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

fn loops(cmd: LoopsCommand) -> ExitCode {
    let result = match cmd {
        LoopsCommand::Add {
            paths,
            set,
            library,
            model,
        } => app::loops::add(&library, &set, &paths, model.as_deref()).map(|refused| refused == 0),
        LoopsCommand::List { library } => {
            app::loops::list(&library);
            Ok(true)
        }
        LoopsCommand::Embed { library, model } => {
            app::loops::embed(&library, model.as_deref()).map(|()| true)
        }
        LoopsCommand::Build {
            midi,
            soundfont,
            groove,
            rhythm_count,
            samples,
            library,
        } => app::loops::build(&app::loops::BuildArgs {
            root: library,
            midi,
            soundfont,
            groove,
            rhythm_count,
            samples,
        })
        .map(|()| true),
    };
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        None => play(cli.play),
        Some(Command::Play(args)) => play(args),
        Some(Command::Render(r)) => app::render::run(app::render::RenderArgs {
            scene: r.scene,
            out: r.out,
            midi_out: r.midi_out,
            midi_map: r.midi_map,
            log: r.log,
            models: (!r.no_ai).then(|| r.models.paths()),
            options: RenderOptions {
                bars: r.bars,
                sample_rate: r.sample_rate,
                seed: r.seed,
            },
        }),
        Some(Command::Train(TrainCli::Rhythm(t))) => app::train::run(app::train::TrainRhythmArgs {
            midi: t.midi,
            epochs: t.epochs as usize,
            out: t.out,
            seed: t.seed,
            backend: t.backend,
            beta: t.beta,
        }),
        Some(Command::Eval(EvalCli::Rhythm(e))) => app::eval::run(app::eval::EvalRhythmArgs {
            midi: e.midi,
            model: e.model,
            json: e.json,
            seed: e.seed,
        }),
        Some(Command::Generate(g)) => app::generate::run(app::generate::GenerateArgs {
            z: g.z,
            kick: g.kick,
            hats: g.hats,
            threshold: g.threshold,
            timing: g.timing,
            seed: g.seed,
            out: g.out,
            model: g.rhythm_model,
            bass: g.bass.then(|| {
                let scene = ubiq::scene::BassPart::default();
                app::generate::GenerateBass {
                    sampling: ubiq::model::bass::TranslateOptions {
                        key: g.key.unwrap_or(scene.key),
                        scale: g.scale.unwrap_or(scene.scale),
                        temperature: g.temperature,
                        top_k: g.top_k,
                        seed: g.seed,
                        ..Default::default()
                    },
                    model: g.bass_model,
                }
            }),
        }),
        Some(Command::Loops(cmd)) => return loops(cmd),
        Some(Command::Train(TrainCli::Loops {
            midi,
            soundfont,
            out,
            config,
            epochs,
            seed,
        })) => app::loops::training_config(config.as_deref(), epochs, seed)
            .and_then(|config| app::loops::train_loops(&midi, &soundfont, &out, config)),
        Some(Command::Eval(EvalCli::Loops {
            midi,
            soundfont,
            model,
            json,
            seed,
            split,
        })) => app::loops::eval_loops(&midi, &soundfont, model.as_deref(), json, seed, &split),
        Some(Command::Dataset(DatasetCommand::Stats(s))) => {
            app::dataset::stats(app::dataset::StatsArgs {
                paths: s.paths,
                json: s.json,
                cache: match (s.no_cache, s.cache) {
                    (true, _) => CacheMode::Off,
                    (false, Some(dir)) => CacheMode::Dir(dir),
                    (false, None) => CacheMode::Default,
                },
            })
        }
        Some(Command::Help { topic }) => {
            match topic.as_deref() {
                Some("commands") => print!("{}", ubiq::command::spec::help()),
                Some("set") => print!("{}", ubiq::command::spec::param_help()),
                _ => {
                    let _ = <Cli as clap::CommandFactory>::command().print_long_help();
                }
            }
            Ok(())
        }
        Some(Command::Train(TrainCli::Bass(t))) => {
            app::bass::train_bass(app::bass::TrainBassArgs {
                midi: t.midi,
                epochs: t.epochs as usize,
                out: t.out,
                seed: t.seed,
                cache: cache_mode(t.no_cache),
            })
        }
        Some(Command::Eval(EvalCli::Bass(e))) => app::bass::eval_bass(app::bass::EvalBassArgs {
            midi: e.midi,
            model: e.model,
            json: e.json,
            temperature: e.temperature,
            top_k: e.top_k,
            seed: e.seed,
            split: e.split,
            cache: cache_mode(e.no_cache),
        }),
        Some(Command::Translate(t)) => app::bass::translate(app::bass::TranslateArgs {
            input: t.input,
            key: t.key,
            scale: t.scale,
            sampling: ubiq::model::bass::TranslateOptions {
                temperature: t.temperature,
                top_k: t.top_k,
                constrain: !t.unconstrained,
                seed: t.seed,
                ..Default::default()
            },
            out: t.out,
            model: t.bass_model,
        }),
        Some(Command::Check { files }) => return check(&files),
        Some(Command::Replay {
            log,
            out,
            midi_out,
            models,
        }) => app::replay::run(&log, &out, midi_out.as_deref(), &models.paths()),
        Some(Command::Bench {
            json,
            scale,
            loops,
            only,
        }) => app::bench::run(json, scale, only, loops),
        Some(Command::Soak {
            cycles,
            per_cycle,
            sample_rate,
            seed,
            json,
            models,
        }) => {
            return match app::bench::soak(
                cycles,
                per_cycle,
                sample_rate,
                seed,
                json,
                &models.paths(),
            ) {
                Ok(true) => ExitCode::SUCCESS,
                Ok(false) => ExitCode::FAILURE,
                Err(e) => {
                    eprintln!("ubiq: {e:#}");
                    ExitCode::FAILURE
                }
            };
        }
        Some(Command::Devices) => {
            for line in app::devices::list() {
                println!("{line}");
            }
            Ok(())
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ubiq: {e:#}");
            ExitCode::FAILURE
        }
    }
}
