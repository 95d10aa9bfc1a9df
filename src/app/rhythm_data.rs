//! Drum windows for the rhythm commands, read from MIDI folders and grouped by split.
//!
//! A folder with a Groove MIDI Dataset `info.csv` is read file by file with its split and style
//! (4/4 files only); any other folder contributes every `.mid` file under it, split by a hash
//! of the file name (80 / 10 / 10). Each file gives two-bar windows at a one-bar hop; a note
//! lands on the nearest sixteenth with its distance as the micro-timing offset, the loudest
//! note wins a cell, and windows without any hit are dropped.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use midly::{MidiMessage, Smf, Timing, TrackEventKind};

use crate::pattern::{DrumCell, DrumPattern, STEPS_PER_BAR, Voice};

/// Which part of a corpus.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Split {
    /// Windows to learn from.
    Train,
    /// Windows for early stopping.
    Valid,
    /// Held-out windows for evaluation.
    Test,
}

/// The windows of one split with their style labels (parallel vectors).
#[derive(Debug, Clone, Default)]
pub struct SplitWindows {
    /// The two-bar patterns.
    pub patterns: Vec<DrumPattern>,
    /// A style label per pattern (the GMD primary style, or `unknown`).
    pub styles: Vec<String>,
}

/// All windows of a set of MIDI folders.
#[derive(Debug, Clone, Default)]
pub struct RhythmCorpus {
    train: SplitWindows,
    valid: SplitWindows,
    test: SplitWindows,
}

impl RhythmCorpus {
    /// The windows of one split.
    pub fn split(&self, split: Split) -> &SplitWindows {
        match split {
            Split::Train => &self.train,
            Split::Valid => &self.valid,
            Split::Test => &self.test,
        }
    }

    /// The windows `ubiq eval` measures: the test split.
    pub fn eval_windows(&self) -> Vec<DrumPattern> {
        self.test.patterns.clone()
    }
}

/// The drum class of a General MIDI / Roland TD-11 note (Magenta GrooVAE's mapping).
pub fn drum_voice(note: u8) -> Option<Voice> {
    Some(match note {
        35 | 36 => Voice::Kick,
        37 | 38 | 39 | 40 => Voice::Snare,
        22 | 42 | 44 => Voice::ClosedHat,
        26 | 46 => Voice::OpenHat,
        41 | 43 | 58 => Voice::LowTom,
        45 | 47 => Voice::MidTom,
        48 | 50 => Voice::HighTom,
        49 | 52 | 55 | 57 => Voice::Crash,
        51 | 53 | 59 => Voice::Ride,
        _ => return None,
    })
}

/// Two-bar windows (one-bar hop) of a drum MIDI file in 4/4.
pub fn windows_of(bytes: &[u8]) -> anyhow::Result<Vec<DrumPattern>> {
    let smf = Smf::parse(bytes).context("not a MIDI file")?;
    let ppq = match smf.header.timing {
        Timing::Metrical(t) if t.as_int() > 0 => u64::from(t.as_int()),
        _ => bail!("MIDI file without metrical timing"),
    };
    let step_ticks = ppq as f64 / 4.0;
    let mut hits: Vec<(i64, f32, Voice, f32)> = Vec::new();
    for track in &smf.tracks {
        let mut tick = 0u64;
        for event in track {
            tick += u64::from(event.delta.as_int());
            if let TrackEventKind::Midi {
                message: MidiMessage::NoteOn { key, vel },
                ..
            } = event.kind
                && vel.as_int() > 0
                && let Some(voice) = drum_voice(key.as_int())
            {
                let pos = tick as f64 / step_ticks;
                let step = pos.round();
                let offset = ((pos - step) as f32).clamp(-0.5, 0.5);
                hits.push((step as i64, f32::from(vel.as_int()) / 127.0, voice, offset));
            }
        }
    }
    let Some(last) = hits.iter().map(|h| h.0).max() else {
        return Ok(Vec::new());
    };
    let bars = (last as usize) / STEPS_PER_BAR + 1;
    let mut cells: Vec<Vec<DrumCell>> =
        vec![vec![DrumCell::default(); STEPS_PER_BAR * Voice::COUNT]; bars];
    for (step, velocity, voice, offset) in hits {
        let (bar, s) = (step as usize / STEPS_PER_BAR, step as usize % STEPS_PER_BAR);
        let cell = &mut cells[bar][voice.index() * STEPS_PER_BAR + s];
        if !cell.hit || velocity > cell.velocity {
            *cell = DrumCell::hit(velocity, offset);
        }
    }
    let mut out = Vec::new();
    // A window is BARS_PER_CYCLE = 2 bars.
    for start in 0..bars.saturating_sub(1) {
        let mut p = DrumPattern::new();
        for half in 0..2 {
            for voice in Voice::ALL {
                for s in 0..STEPS_PER_BAR {
                    p.set(
                        voice,
                        half * STEPS_PER_BAR + s,
                        cells[start + half][voice.index() * STEPS_PER_BAR + s],
                    );
                }
            }
        }
        if Voice::ALL.iter().any(|v| p.count(*v) > 0) {
            out.push(p);
        }
    }
    Ok(out)
}

fn push(split: &mut SplitWindows, windows: Vec<DrumPattern>, style: &str) {
    split
        .styles
        .extend(std::iter::repeat_n(style.to_string(), windows.len()));
    split.patterns.extend(windows);
}

fn midi_files(dir: &Path, out: &mut Vec<PathBuf>) -> anyhow::Result<()> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            midi_files(&path, out)?;
        } else if path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| e.eq_ignore_ascii_case("mid") || e.eq_ignore_ascii_case("midi"))
        {
            out.push(path);
        }
    }
    Ok(())
}

fn load_gmd(dir: &Path, info: &str, corpus: &mut RhythmCorpus) -> anyhow::Result<()> {
    let mut lines = info.lines();
    let header: Vec<&str> = lines.next().unwrap_or_default().split(',').collect();
    let col = |name: &str| {
        header
            .iter()
            .position(|h| *h == name)
            .with_context(|| format!("{}: info.csv has no {name} column", dir.display()))
    };
    let (style, sig, file, split) = (
        col("style")?,
        col("time_signature")?,
        col("midi_filename")?,
        col("split")?,
    );
    for line in lines {
        let fields: Vec<&str> = line.split(',').collect();
        let field = |i: usize| fields.get(i).copied().unwrap_or_default();
        if field(sig) != "4-4" {
            continue;
        }
        let target = match field(split) {
            "train" => &mut corpus.train,
            "validation" => &mut corpus.valid,
            "test" => &mut corpus.test,
            _ => continue,
        };
        let path = dir.join(field(file));
        let bytes = std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
        let windows = windows_of(&bytes).with_context(|| path.display().to_string())?;
        let primary = field(style).split('/').next().unwrap_or("unknown");
        push(target, windows, primary);
    }
    Ok(())
}

/// Reads every MIDI file under `dirs` into two-bar drum windows.
pub fn load(dirs: &[PathBuf]) -> anyhow::Result<RhythmCorpus> {
    let mut corpus = RhythmCorpus::default();
    for dir in dirs {
        let info = dir.join("info.csv");
        if info.is_file() {
            let text = std::fs::read_to_string(&info)
                .with_context(|| format!("reading {}", info.display()))?;
            load_gmd(dir, &text, &mut corpus)?;
            continue;
        }
        let mut files = Vec::new();
        midi_files(dir, &mut files)?;
        for path in files {
            let bytes =
                std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
            let Ok(windows) = windows_of(&bytes) else {
                continue;
            };
            let hash = path
                .to_string_lossy()
                .bytes()
                .fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
                    (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
                });
            let target = match hash % 10 {
                8 => &mut corpus.valid,
                9 => &mut corpus.test,
                _ => &mut corpus.train,
            };
            push(target, windows, "unknown");
        }
    }
    if corpus.train.patterns.is_empty() {
        bail!("no drum windows found in the given MIDI folders");
    }
    Ok(corpus)
}
