//! `ubiq loops …`: the loop library — add, list, embed, build the default sets.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use burn::tensor::Device;
use clap::{Args, Subcommand};

use crate::dataset::{LoadOptions, Split};
use crate::loops::audio::Mono;
use crate::loops::library::{Library, LoopEntry, pattern_hits, prepare_file};
use crate::loops::stems::{MidiSong, StemGroup, StemRenderer};
use crate::loops::{LoopSet, audio};
use crate::model::loops::data::midi_files;
use crate::model::loops::infer::LoopModel;
use crate::pattern::{Bassline, DrumPattern};
use crate::performance::query::render_cycle;
use crate::text::Shown;

/// `ubiq loops …`.
#[derive(Subcommand, Debug)]
pub enum LoopsCommand {
    /// Adds audio files (wav, flac, ogg) to a set: tempo from the name or the length, trimmed or
    /// padded to whole bars, loudness-normalised, embedded. Bad files are reported and skipped.
    Add(AddArgs),
    /// Lists every set's loops.
    List(ListArgs),
    /// Recomputes the cached embeddings of every loop, and the keys of the pitched ones.
    Embed(EmbedArgs),
    /// Renders the default library (used by scripts/build-loops.sh).
    Build(BuildArgs),
}

impl LoopsCommand {
    /// Runs the subcommand; `add` fails (exit code 1) when it refused a file.
    pub fn run(self) -> anyhow::Result<ExitCode> {
        match self {
            LoopsCommand::Add(args) => return Ok(super::exit_code(add(&args)? == 0)),
            LoopsCommand::List(args) => list(&args.library),
            LoopsCommand::Embed(args) => embed(&args)?,
            LoopsCommand::Build(args) => build(&args)?,
        }
        Ok(ExitCode::SUCCESS)
    }
}

/// Options of `ubiq loops add`.
#[derive(Args, Debug)]
pub struct AddArgs {
    /// The files.
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// The set: music, ambient, voice or rhythm.
    #[arg(long)]
    pub set: String,
    /// Library folder.
    #[arg(long, default_value = "loops")]
    pub library: PathBuf,
    /// Loop model (default: the embedded one).
    #[arg(long)]
    pub model: Option<PathBuf>,
}

/// Options of `ubiq loops list`.
#[derive(Args, Debug)]
pub struct ListArgs {
    /// Library folder.
    #[arg(long, default_value = "loops")]
    pub library: PathBuf,
}

/// Options of `ubiq loops embed`.
#[derive(Args, Debug)]
pub struct EmbedArgs {
    /// Library folder.
    #[arg(long, default_value = "loops")]
    pub library: PathBuf,
    /// Loop model (default: the embedded one).
    #[arg(long)]
    pub model: Option<PathBuf>,
}

/// Options of `ubiq loops build`: where the default library's sets come from.
#[derive(Args, Debug)]
pub struct BuildArgs {
    /// Multi-track MIDI songs (files or folders) for the music set.
    #[arg(long, required = true, num_args = 1..)]
    pub midi: Vec<PathBuf>,
    /// General MIDI SoundFont (.sf2).
    #[arg(long)]
    pub soundfont: PathBuf,
    /// Groove MIDI Dataset folder for the rhythm set.
    #[arg(long)]
    pub groove: Option<PathBuf>,
    /// Rhythm loops to render.
    #[arg(long, default_value_t = 2000)]
    pub rhythm_count: usize,
    /// Sonic Pi sample folder for the ambient and voice sets.
    #[arg(long)]
    pub samples: Option<PathBuf>,
    /// Library folder.
    #[arg(long, default_value = "loops")]
    pub library: PathBuf,
}

/// `ubiq loops add`: adds files to a set; a bad file is reported and skipped. Returns how many
/// were refused.
fn add(args: &AddArgs) -> anyhow::Result<usize> {
    let (root, set, paths, model) = (&args.library, &args.set, &args.paths, args.model.as_deref());
    let set = LoopSet::from_name(set)?;
    let mut lib = Library::open(root);
    if let Some((_, why)) = lib.refused().into_iter().find(|(s, _)| *s == set) {
        anyhow::bail!("{why}; fix or remove it first (adding would write over it)");
    }
    let mut embedder = open_model(model)?;
    let mut refused = 0;
    for path in paths {
        match prepare_file(path) {
            Ok(prepared) => {
                let name = path
                    .file_stem()
                    .map(|s| s.to_string_lossy().into_owned())
                    .unwrap_or_default();
                let embedding =
                    embedder.embed_loop(&prepared.audio, prepared.tempo_bpm, prepared.bars);
                let entry = LoopEntry {
                    embedding,
                    ..LoopEntry::new(
                        &name,
                        prepared.tempo_bpm,
                        prepared.bars,
                        path.display().to_string(),
                        "as of the source",
                    )
                };
                lib.insert(set, entry, &prepared.audio)?;
                let key = match lib.find(set, &name).ok().and_then(|e| e.loop_key()) {
                    Some(k) => format!(", {k} ({:.2})", k.confidence),
                    None if set.pitched() => ", no key heard".into(),
                    None => String::new(),
                };
                println!(
                    "{}: added to {} ({:.1} BPM, {} bars{key})",
                    Shown(path.display()),
                    set.name(),
                    prepared.tempo_bpm,
                    prepared.bars
                );
            }
            Err(e) => {
                refused += 1;
                eprintln!("{}", Shown(e));
            }
        }
    }
    lib.save(set)?;
    Ok(refused)
}

/// `ubiq loops list`.
fn list(root: &Path) {
    let lib = Library::open(root);
    print!("{}", lib.listing());
    for s in &lib.skipped {
        eprintln!("{}", Shown(s));
    }
}

/// The loop model at `path`, or the embedded one.
pub fn open_model(path: Option<&Path>) -> anyhow::Result<LoopModel> {
    match path {
        Some(p) => Ok(LoopModel::load(p, Device::flex())?),
        None => Ok(LoopModel::embedded(Device::flex())?),
    }
}

/// `ubiq loops embed`: recomputes the cached embeddings of every loop with a model.
fn embed(args: &EmbedArgs) -> anyhow::Result<()> {
    let (root, model) = (&args.library, args.model.as_deref());
    let mut lib = Library::open(root);
    let mut m = open_model(model)?;
    let refused: Vec<LoopSet> = lib.refused().into_iter().map(|(s, _)| s).collect();
    for (_, why) in lib.refused() {
        eprintln!("{}; left as it is", Shown(why));
    }
    for set in LoopSet::ALL.into_iter().filter(|s| !refused.contains(s)) {
        let entries = lib.entries(set).to_vec();
        for (i, e) in entries.iter().enumerate() {
            match lib.load_audio(set, e) {
                Ok(audio) => {
                    let emb = m.embed_loop(&audio, e.tempo_bpm, e.bars);
                    lib.set_embedding(set, i, emb);
                    if set.pitched() {
                        lib.set_harmony(set, i, crate::loops::key::analyse(&audio));
                    }
                }
                Err(err) => eprintln!("{}", Shown(err)),
            }
        }
        if !entries.is_empty() {
            lib.save(set)?;
            println!("{}: {} loops embedded", set.name(), entries.len());
        }
    }
    Ok(())
}

/// Sample rate of the default library's audio.
pub const LIBRARY_RATE: u32 = 22_050;

/// Renders a drum pattern through ubiq's drum machine: two bars at 120 BPM, mono.
pub fn render_pattern(pattern: &DrumPattern, sample_rate: u32) -> Vec<f32> {
    render_cycle(pattern, &Bassline::default(), 33, sample_rate)
}

/// `ubiq loops build`: regenerates the default library's WAV files and indexes (the script
/// then compresses them).
fn build(args: &BuildArgs) -> anyhow::Result<()> {
    let mut lib = Library::open(&args.library);
    let renderer = StemRenderer::new(&args.soundfont, LIBRARY_RATE)?;
    let files = midi_files(&args.midi);
    for (n, file) in files.iter().enumerate() {
        let song = match MidiSong::load(file) {
            Ok(s) => s,
            Err(e) => {
                eprintln!("{}", Shown(e));
                continue;
            }
        };
        // The song's second window (past an intro), else the first, else the next ones: the
        // first that sounds and has a key (a music loop that sounds no key, such as a
        // chromatic cluster, can never be placed in a set's key).
        let windows = song.windows();
        let order = windows
            .iter()
            .skip(1)
            .take(1)
            .chain(windows.first())
            .chain(windows.iter().skip(2));
        let mut chosen = None;
        for &beat in order {
            let mut samples = renderer.render(&song, beat, &[StemGroup::Melodic])?;
            if audio::peak(&samples) < 1.0e-3 {
                continue;
            }
            audio::normalise(&mut samples);
            let mono = Mono {
                samples,
                sample_rate: LIBRARY_RATE,
            };
            let harmony = crate::loops::key::analyse(&mono);
            if harmony.0.is_some() {
                chosen = Some((beat, mono, harmony));
                break;
            }
        }
        let Some((beat, mono, harmony)) = chosen else {
            continue;
        };
        let corpus = if file.display().to_string().contains("simutrans") {
            (
                "Simutrans music (MIDI), rendered with FluidR3 GM",
                "Artistic-1.0 (song), MIT (SoundFont)",
            )
        } else {
            (
                "Freedoom music (MIDI), rendered with FluidR3 GM",
                "BSD-3-Clause (song), MIT (SoundFont)",
            )
        };
        let name = format!("{}_b{beat}", song.name);
        let mut entry = LoopEntry::new(&name, 120.0, 2, corpus.0, corpus.1);
        // Heard once, above: `insert` keeps a key it is given.
        entry.set_harmony(harmony);
        lib.insert(LoopSet::Music, entry, &mono)?;
        eprint!("\rmusic: {}/{}", n + 1, files.len());
    }
    eprintln!();
    lib.save(LoopSet::Music)?;
    if let Some(groove) = &args.groove {
        let corpus =
            crate::dataset::Corpus::load(std::slice::from_ref(groove), &LoadOptions::default())?;
        let windows: Vec<_> = corpus.drum_windows(Split::Train).collect();
        let count = args.rhythm_count.min(windows.len());
        for i in 0..count {
            let w = windows[i * windows.len() / count.max(1)];
            let mut samples = render_pattern(&w.pattern, LIBRARY_RATE);
            audio::normalise(&mut samples);
            let name = format!("gmd_{:04}", i);
            lib.insert(
                LoopSet::Rhythm,
                LoopEntry {
                    pattern: Some(pattern_hits(&w.pattern)),
                    ..LoopEntry::new(
                        &name,
                        120.0,
                        2,
                        format!(
                            "Groove MIDI Dataset pattern ({} bar {}), ubiq drum machine",
                            w.source.song, w.bar
                        ),
                        "CC-BY-4.0 (pattern)",
                    )
                },
                &Mono {
                    samples,
                    sample_rate: LIBRARY_RATE,
                },
            )?;
            if i % 50 == 0 {
                eprint!("\rrhythm: {}/{count}", i + 1);
            }
        }
        eprintln!();
        lib.save(LoopSet::Rhythm)?;
    }
    if let Some(samples) = &args.samples {
        add_samples(&mut lib, samples)?;
    }
    Ok(())
}

/// Sonic Pi samples (CC0) used for `ambient` and `voice`: (file stem, set).
pub const SONIC_PI: [(&str, LoopSet); 11] = [
    ("ambi_glass_hum", LoopSet::Ambient),
    ("ambi_glass_rub", LoopSet::Ambient),
    ("ambi_piano", LoopSet::Ambient),
    ("ambi_dark_woosh", LoopSet::Ambient),
    ("ambi_drone", LoopSet::Ambient),
    ("ambi_haunted_hum", LoopSet::Ambient),
    ("ambi_lunar_land", LoopSet::Ambient),
    ("ambi_sauna", LoopSet::Ambient),
    ("ambi_swoosh", LoopSet::Ambient),
    ("ambi_soft_buzz", LoopSet::Ambient),
    ("ambi_choir", LoopSet::Voice),
];

fn add_samples(lib: &mut Library, dir: &Path) -> anyhow::Result<()> {
    for (stem, set) in SONIC_PI {
        let Some(path) = ["flac", "wav", "ogg"]
            .iter()
            .map(|e| dir.join(format!("{stem}.{e}")))
            .find(|p| p.is_file())
        else {
            eprintln!("{}: {stem} not found; skipped", dir.display());
            continue;
        };
        let mono = audio::decode_file(&path)?;
        let mono = audio::resample(&mono, LIBRARY_RATE);
        // Textures have no tempo: each becomes a two-bar loop at 120 BPM (cut or repeated).
        let frames = audio::bar_frames(2, 120.0, LIBRARY_RATE);
        let mut samples: Vec<f32> = mono.samples.iter().copied().cycle().take(frames).collect();
        let fade = (LIBRARY_RATE / 50) as usize;
        for i in 0..fade {
            let g = i as f32 / fade as f32;
            samples[i] *= g;
            samples[frames - 1 - i] *= g;
        }
        audio::normalise(&mut samples);
        lib.insert(
            set,
            LoopEntry::new(stem, 120.0, 2, "Sonic Pi sample set", "CC0-1.0"),
            &Mono {
                samples,
                sample_rate: LIBRARY_RATE,
            },
        )?;
    }
    lib.save(LoopSet::Ambient)?;
    lib.save(LoopSet::Voice)?;
    Ok(())
}
