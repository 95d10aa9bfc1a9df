//! `ubiq loops …`, `ubiq train loops` and `ubiq eval loops`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use burn::tensor::Device;

use crate::dataset::{CacheMode, LoadOptions, Split};
use crate::loops::audio::Mono;
use crate::loops::library::{Library, LoopEntry, pattern_hits, prepare_file};
use crate::loops::stems::{MidiSong, StemGroup, StemRenderer};
use crate::loops::{LoopSet, audio};
use crate::model::loops::data::{DataConfig, TripletData, midi_files};
use crate::model::loops::eval::evaluate;
use crate::model::loops::infer::{LoopModel, ModelMeta};
use crate::model::loops::model::LoopNetConfig;
use crate::model::loops::train::{TrainingConfig, train};
use crate::pattern::{Bassline, DrumPattern};
use crate::performance::query::{render_cycle, render_query};

/// `ubiq loops add`: adds files to a set; a bad file is reported and skipped. Returns how many
/// were refused.
pub fn add(
    root: &Path,
    set: &str,
    paths: &[PathBuf],
    model: Option<&Path>,
) -> anyhow::Result<usize> {
    let set = LoopSet::from_name(set)?;
    let mut lib = Library::open(root);
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
                    name: name.clone(),
                    file: format!("{name}.wav"),
                    tempo_bpm: prepared.tempo_bpm,
                    bars: prepared.bars,
                    key: None,
                    source: path.display().to_string(),
                    licence: "as of the source".into(),
                    pattern: None,
                    embedding,
                };
                lib.insert(set, entry, &prepared.audio)?;
                println!(
                    "{}: added to {} ({:.1} BPM, {} bars)",
                    path.display(),
                    set.name(),
                    prepared.tempo_bpm,
                    prepared.bars
                );
            }
            Err(e) => {
                refused += 1;
                eprintln!("{e}");
            }
        }
    }
    lib.save(set)?;
    Ok(refused)
}

/// `ubiq loops list`.
pub fn list(root: &Path) {
    let lib = Library::open(root);
    print!("{}", lib.listing());
    for s in &lib.skipped {
        eprintln!("{s}");
    }
}

fn open_model(path: Option<&Path>) -> anyhow::Result<LoopModel> {
    match path {
        Some(p) => Ok(LoopModel::load(p, Device::flex())?),
        None => Ok(LoopModel::embedded(Device::flex())?),
    }
}

/// `ubiq loops embed`: recomputes the cached embeddings of every loop with a model.
pub fn embed(root: &Path, model: Option<&Path>) -> anyhow::Result<()> {
    let mut lib = Library::open(root);
    let mut m = open_model(model)?;
    for set in LoopSet::ALL {
        let entries = lib.entries(set).to_vec();
        for (i, e) in entries.iter().enumerate() {
            match lib.load_audio(set, e) {
                Ok(audio) => {
                    let emb = m.embed_loop(&audio, e.tempo_bpm, e.bars);
                    lib.set_embedding(set, i, emb);
                }
                Err(err) => eprintln!("{err}"),
            }
        }
        if !entries.is_empty() {
            lib.save(set)?;
            println!("{}: {} loops embedded", set.name(), entries.len());
        }
    }
    Ok(())
}

/// Sources of `ubiq loops build`.
#[derive(Debug, Clone)]
pub struct BuildArgs {
    /// The library folder.
    pub root: PathBuf,
    /// Multi-track MIDI songs for the `music` set.
    pub midi: Vec<PathBuf>,
    /// SoundFont for them.
    pub soundfont: PathBuf,
    /// Groove MIDI Dataset folder for the `rhythm` set.
    pub groove: Option<PathBuf>,
    /// How many rhythm loops.
    pub rhythm_count: usize,
    /// Sonic Pi sample folder for `ambient` and `voice`.
    pub samples: Option<PathBuf>,
}

/// Sample rate of the default library's audio.
pub const LIBRARY_RATE: u32 = 22_050;

/// Renders a drum pattern through ubiq's drum machine: two bars at 120 BPM, mono.
pub fn render_pattern(pattern: &DrumPattern, sample_rate: u32) -> Vec<f32> {
    render_cycle(pattern, &Bassline::default(), 33, sample_rate)
}

/// `ubiq loops build`: regenerates the default library's WAV files and indexes (the script
/// then compresses them).
pub fn build(args: &BuildArgs) -> anyhow::Result<()> {
    let mut lib = Library::open(&args.root);
    let renderer = StemRenderer::new(&args.soundfont, LIBRARY_RATE)?;
    let files = midi_files(&args.midi);
    for (n, file) in files.iter().enumerate() {
        let song = match MidiSong::load(file) {
            Ok(s) => s,
            Err(e) => {
                eprintln!("{e}");
                continue;
            }
        };
        let Some(&beat) = song.windows().get(1).or(song.windows().first()) else {
            continue;
        };
        let samples = renderer.render(&song, beat, &[StemGroup::Melodic])?;
        if audio::peak(&samples) < 1.0e-3 {
            continue;
        }
        let mut samples = samples;
        audio::normalise(&mut samples);
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
        lib.insert(
            LoopSet::Music,
            LoopEntry {
                name: name.clone(),
                file: format!("{name}.wav"),
                tempo_bpm: 120.0,
                bars: 2,
                key: None,
                source: corpus.0.into(),
                licence: corpus.1.into(),
                pattern: None,
                embedding: Vec::new(),
            },
            &Mono {
                samples,
                sample_rate: LIBRARY_RATE,
            },
        )?;
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
                    name: name.clone(),
                    file: format!("{name}.wav"),
                    tempo_bpm: 120.0,
                    bars: 2,
                    key: None,
                    source: format!(
                        "Groove MIDI Dataset pattern ({} bar {}), ubiq drum machine",
                        w.source.song, w.bar
                    ),
                    licence: "CC-BY-4.0 (pattern)".into(),
                    pattern: Some(pattern_hits(&w.pattern)),
                    embedding: Vec::new(),
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
            LoopEntry {
                name: stem.into(),
                file: format!("{stem}.wav"),
                tempo_bpm: 120.0,
                bars: 2,
                key: None,
                source: "Sonic Pi sample set".into(),
                licence: "CC0-1.0".into(),
                pattern: None,
                embedding: Vec::new(),
            },
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

fn progress(label: &str) -> impl FnMut(usize, usize) {
    let label = label.to_string();
    move |done, total| {
        eprint!("\r{label}: {done}/{total} songs");
        if done == total {
            eprintln!();
        }
        let _ = std::io::stderr().flush();
    }
}

/// Processor time of this process so far (all threads), where the platform tells.
pub fn cpu_seconds() -> Option<f64> {
    #[cfg(unix)]
    {
        let mut ts = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: `ts` is a valid, writable timespec; the process CPU clock always exists.
        let rc = unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut ts) };
        (rc == 0).then_some(ts.tv_sec as f64 + ts.tv_nsec as f64 * 1.0e-9)
    }
    #[cfg(not(unix))]
    {
        None
    }
}

/// The training configuration of `ubiq train loops`: the file's (JSON, the "training" object
/// of a model's metadata) or the defaults, with `epochs` and `seed` overriding.
pub fn training_config(
    path: Option<&Path>,
    epochs: Option<usize>,
    seed: Option<u64>,
) -> anyhow::Result<TrainingConfig> {
    let mut config = match path {
        Some(p) => {
            let text =
                std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?;
            serde_json::from_str(&text).with_context(|| format!("{}", p.display()))?
        }
        None => default_training(),
    };
    if let Some(e) = epochs {
        config.epochs = e;
    }
    if let Some(s) = seed {
        config.seed = s;
    }
    Ok(config)
}

/// `ubiq train loops`.
pub fn train_loops(
    midi: &[PathBuf],
    soundfont: &Path,
    out: &Path,
    config: TrainingConfig,
) -> anyhow::Result<()> {
    let began = Instant::now();
    let data = TripletData::build(
        midi,
        soundfont,
        &render_query,
        &config.data,
        &[Split::Train, Split::Validation],
        &CacheMode::Default,
        progress("rendering stems"),
    )?;
    let ntrain = data.indices(Split::Train).len();
    let nvalid = data.indices(Split::Validation).len();
    let songs = (
        data.song_count(Split::Train),
        data.song_count(Split::Validation),
    );
    println!(
        "{} + {} songs, {ntrain} training renders ({} keys a window) and {nvalid} validation windows ({:.0} s)",
        songs.0,
        songs.1,
        config.data.train_keys,
        began.elapsed().as_secs_f64()
    );
    let device = Device::flex();
    let data_line = format!(
        "{} + {} songs; {ntrain} training renders / {nvalid} validation windows (song-level FNV-1a split)",
        songs.0, songs.1
    );
    let meta = |best_epoch: usize, accuracy: [f64; 2], training: Duration| ModelMeta {
        kind: "ubiq-loop-cnn".into(),
        training: config.clone(),
        data: data_line.clone(),
        best_epoch,
        valid_accuracy: accuracy[0],
        valid_accuracy_ubiq: accuracy[1],
        training_seconds: training.as_secs_f64(),
        cpu_seconds: cpu_seconds(),
    };
    let origin = out.display().to_string();
    let trained = train(
        &config,
        &data,
        &device,
        |r, best| {
            eprintln!(
                "\repoch {:>2}/{}  loss {:.4}  valid accuracy {:.3} (soundfont) {:.3} (ubiq)  {:.0} s{}",
                r.epoch,
                r.epochs,
                r.train_loss,
                r.valid_accuracy[0],
                r.valid_accuracy[1],
                r.elapsed.as_secs_f64(),
                if best.is_some() {
                    "  (best so far, saved)"
                } else {
                    ""
                }
            );
            // The best epoch so far is kept on disk, so a stopped run still leaves a model.
            if let Some(net) = best {
                let model = LoopModel::new(net.clone(), device.clone(), &origin);
                if let Err(e) = model.save(out, &meta(r.epoch, r.valid_accuracy, r.elapsed)) {
                    eprintln!("cannot save {}: {e}", out.display());
                }
            }
        },
        |done, total| eprint!("\r  batch {done}/{total}"),
    )?;
    let model = LoopModel::new(trained.model, device.clone(), &origin);
    let meta = meta(
        trained.best_epoch,
        trained.best_valid_accuracy,
        trained.elapsed,
    );
    model.save(out, &meta)?;
    println!(
        "saved {} (best epoch {}, validation triplet accuracy {:.3} soundfont / {:.3} ubiq anchors; training {:.0} s, whole run {:.0} s wall{})",
        out.display(),
        trained.best_epoch,
        trained.best_valid_accuracy[0],
        trained.best_valid_accuracy[1],
        trained.elapsed.as_secs_f64(),
        began.elapsed().as_secs_f64(),
        meta.cpu_seconds
            .map(|c| format!(", {c:.0} s CPU"))
            .unwrap_or_default()
    );
    Ok(())
}

/// Negatives per anchor window in `ubiq eval loops`.
pub const EVAL_NEGATIVES: usize = 4;

/// `ubiq eval loops`: the model and the baselines on every window of the `split` songs
/// (`test`, `validation`, or `train` to see how closely the model fits its training songs),
/// [`EVAL_NEGATIVES`] negatives an anchor, untransposed renders only.
pub fn eval_loops(
    midi: &[PathBuf],
    soundfont: &Path,
    model: Option<&Path>,
    json: bool,
    seed: u64,
    split: &str,
) -> anyhow::Result<()> {
    let split = match split {
        "test" => Split::Test,
        "validation" => Split::Validation,
        "train" => Split::Train,
        other => bail!("unknown split {other:?} (expected test, validation or train)"),
    };
    let m = open_model(model)?;
    let data_config = m.data_config().cloned().unwrap_or_else(DataConfig::new);
    let data = TripletData::build(
        midi,
        soundfont,
        &render_query,
        &data_config,
        &[split],
        &CacheMode::Default,
        progress("rendering stems"),
    )?;
    let triplets = data.triplets(split, EVAL_NEGATIVES, seed);
    if triplets.is_empty() {
        bail!("no {} triplets under the given folders", split.name());
    }
    let started = Instant::now();
    let report = evaluate(m.net(), &data, &triplets, &Device::flex(), seed);
    if json {
        println!("{}", serde_json::to_string_pretty(&report).context("json")?);
    } else {
        println!(
            "{}: {} {} songs, {} windows, {} triplets ({:.1} s)",
            m.origin,
            report.songs,
            split.name(),
            report.windows,
            report.triplets,
            started.elapsed().as_secs_f64()
        );
        for k in &report.kinds {
            println!("  {} anchors:", k.anchor.name());
            for (name, s) in [
                ("model", k.model),
                ("features", k.features),
                ("random", k.random),
            ] {
                println!(
                    "    {name:<9} triplet accuracy {:.3}  ROC-AUC {:.3}",
                    s.triplet_accuracy, s.roc_auc
                );
            }
        }
    }
    Ok(())
}

/// Default training configuration.
pub fn default_training() -> TrainingConfig {
    TrainingConfig::new(LoopNetConfig::new())
}
