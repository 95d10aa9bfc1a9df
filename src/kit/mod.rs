//! Drum kits from folders of samples: `kit.ron` ([`spec`]) or a Hydrogen `drumkit.xml`
//! ([`hydrogen`]) beside the samples, decoded and converted to the graph's rate here, off the
//! audio thread, into a [`SampleKit`] the drum machine plays.
//!
//! A kit folder may come from anyone, so it is data: only files inside the folder are read
//! (links resolved), each a regular file of bounded size, with bounded counts and lengths.

pub mod hydrogen;
pub mod spec;

use std::collections::HashMap;
use std::fmt;
use std::path::{Component, Path, PathBuf};

use crate::audio::dsp::db_to_gain;
use crate::audio::kit::{KitVoice, Layer, Sample, SampleKit};
use crate::files::read_bounded;
use crate::loops::audio;
use crate::pattern::Voice;
use spec::KitSpec;

/// The kit file of ubiq's own format.
pub const KIT_FILE: &str = "kit.ron";
/// The kit file of a Hydrogen kit.
pub const HYDROGEN_FILE: &str = "drumkit.xml";
/// The name that stands for the synthesized voices.
pub const SYNTH: &str = "synth";
/// Largest kit file, in bytes.
pub const KIT_FILE_LIMIT: u64 = 1 << 20;
/// Largest sample file, in bytes.
pub const SAMPLE_LIMIT: u64 = 32 << 20;
/// Most sample files a kit may use.
pub const MAX_SAMPLES: usize = 256;
/// Most seconds of audio a kit may hold, all samples together.
pub const MAX_KIT_SECONDS: f32 = 600.0;

/// A kit that cannot be played: one line naming the file (with line and column where the
/// kit file itself is wrong).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub struct KitError {
    /// The file or folder.
    pub path: PathBuf,
    /// 1-based line (0: the file as a whole).
    pub line: usize,
    /// 1-based column.
    pub col: usize,
    /// What is wrong.
    pub message: String,
}

impl KitError {
    /// An error at `line`:`col` of `path` (line 0: the file as a whole).
    pub fn at(path: &Path, line: usize, col: usize, message: impl Into<String>) -> Self {
        KitError {
            path: path.to_path_buf(),
            line,
            col,
            message: message.into(),
        }
    }
}

impl fmt::Display for KitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = crate::text::escape(&self.path.display().to_string()).into_owned();
        if self.line == 0 {
            write!(f, "{path}: {}", self.message)
        } else {
            write!(f, "{path}:{}:{}: {}", self.line, self.col, self.message)
        }
    }
}

/// The kits folder: `kits/` in the current folder, else the one shipped beside the program
/// (`…/kits` next to `bin/ubiq`, or the repository's when run from `target/release`).
pub fn default_kits() -> Option<PathBuf> {
    crate::files::here_or_beside_program("kits", Path::is_dir)
}

/// Where a kit a performer or a scene names is: a folder, or the name of a kit in the kits
/// folder; the folder's full path (a session log replays from anywhere). `None` for
/// [`SYNTH`].
pub fn resolve(name: &Path) -> Result<Option<PathBuf>, KitError> {
    if name == Path::new(SYNTH) {
        return Ok(None);
    }
    let full = |dir: &Path| {
        dir.canonicalize()
            .map(Some)
            .map_err(|e| KitError::at(dir, 0, 0, format!("cannot read: {e}")))
    };
    if name.is_dir() {
        return full(name);
    }
    let plain = name.components().count() == 1
        && matches!(name.components().next(), Some(Component::Normal(_)));
    if plain && let Some(found) = default_kits().map(|k| k.join(name)).filter(|p| p.is_dir()) {
        return full(&found);
    }
    Err(KitError::at(
        name,
        0,
        0,
        "no such kit folder, and no kit of that name in kits/",
    ))
}

/// Reads the kit in folder `dir` and prepares its samples at `sample_rate`.
pub fn load(dir: &Path, sample_rate: u32) -> Result<SampleKit, KitError> {
    let spec = read_spec(dir)?;
    build(dir, &spec, sample_rate)
}

/// The kit file of `dir`: `kit.ron`, else `drumkit.xml`.
pub fn read_spec(dir: &Path) -> Result<KitSpec, KitError> {
    let ours = dir.join(KIT_FILE);
    let theirs = dir.join(HYDROGEN_FILE);
    let (path, hydrogen) = if ours.symlink_metadata().is_ok() {
        (ours, false)
    } else if theirs.symlink_metadata().is_ok() {
        (theirs, true)
    } else {
        return Err(KitError::at(
            dir,
            0,
            0,
            format!("no {KIT_FILE} or {HYDROGEN_FILE} in this folder"),
        ));
    };
    let bytes = read_bounded(&path, KIT_FILE_LIMIT)
        .map_err(|e| KitError::at(&path, 0, 0, e.to_string()))?;
    let text =
        std::str::from_utf8(&bytes).map_err(|_| KitError::at(&path, 0, 0, "not UTF-8 text"))?;
    let mut spec = if hydrogen {
        hydrogen::parse(text, &path)?
    } else {
        KitSpec::from_ron(text, &path)?
    };
    if spec.name.is_empty() {
        spec.name = dir
            .canonicalize()
            .ok()
            .and_then(|d| d.file_name().map(|n| n.to_string_lossy().into_owned()))
            .unwrap_or_else(|| "kit".into());
    }
    Ok(spec)
}

/// The file `name` of the kit in `dir` (canonical `folder`): a relative path inside the folder,
/// links resolved.
fn sample_path(dir: &Path, folder: &Path, name: &str) -> Result<PathBuf, KitError> {
    let relative = Path::new(name);
    let plain = relative
        .components()
        .all(|c| matches!(c, Component::Normal(_) | Component::CurDir));
    let shown = dir.join(relative);
    if !plain || name.is_empty() {
        return Err(KitError::at(
            &shown,
            0,
            0,
            "a sample must be a file inside the kit's folder",
        ));
    }
    let real = shown
        .canonicalize()
        .map_err(|e| KitError::at(&shown, 0, 0, format!("cannot read: {e}")))?;
    if !real.starts_with(folder) {
        return Err(KitError::at(
            &shown,
            0,
            0,
            "a sample must be a file inside the kit's folder",
        ));
    }
    Ok(real)
}

/// Decodes one sample file and converts it to `sample_rate`.
fn decode(path: &Path, shown: &Path, sample_rate: u32) -> Result<Vec<f32>, KitError> {
    let err = |m: String| KitError::at(shown, 0, 0, m);
    let bytes = read_bounded(path, SAMPLE_LIMIT).map_err(|e| err(e.to_string()))?;
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();
    let mono = audio::decode_hit(&bytes, &ext).map_err(|e| err(e.to_string()))?;
    Ok(audio::resample(&mono, sample_rate).samples)
}

/// Prepares the samples `spec` names in `dir` at `sample_rate`.
pub fn build(dir: &Path, spec: &KitSpec, sample_rate: u32) -> Result<SampleKit, KitError> {
    let folder = dir
        .canonicalize()
        .map_err(|e| KitError::at(dir, 0, 0, format!("cannot read: {e}")))?;
    let mut samples: Vec<Sample> = Vec::new();
    let mut index: HashMap<(PathBuf, u32), usize> = HashMap::new();
    let mut frames = 0usize;
    let most_frames = (MAX_KIT_SECONDS * sample_rate as f32) as usize;
    let mut voices: [KitVoice; Voice::COUNT] = Default::default();
    for (voice, v) in &spec.voices {
        let mut layers = Vec::new();
        for layer in v.all_layers() {
            let mut picks = Vec::new();
            for name in &layer.samples {
                let real = sample_path(dir, &folder, name)?;
                let gain_bits = layer.gain_db.to_bits();
                if let Some(&i) = index.get(&(real.clone(), gain_bits)) {
                    picks.push(i);
                    continue;
                }
                if samples.len() == MAX_SAMPLES {
                    return Err(KitError::at(
                        dir,
                        0,
                        0,
                        format!("more than {MAX_SAMPLES} samples"),
                    ));
                }
                let shown = dir.join(name);
                let mut data = decode(&real, &shown, sample_rate)?;
                frames += data.len();
                if frames > most_frames {
                    return Err(KitError::at(
                        dir,
                        0,
                        0,
                        format!("more than {MAX_KIT_SECONDS} s of samples"),
                    ));
                }
                // The layer's gain is applied here once, not at every hit.
                let gain = db_to_gain(layer.gain_db);
                if gain != 1.0 {
                    data.iter_mut().for_each(|x| *x *= gain);
                }
                index.insert((real, gain_bits), samples.len());
                picks.push(samples.len());
                samples.push(Sample {
                    name: name.clone(),
                    frames: data,
                });
            }
            layers.push(Layer::new(layer.from, 1.0, picks));
        }
        voices[voice.index()] = KitVoice {
            layers,
            tune: v.tune,
            decay: v.decay,
            level_db: v.level_db,
            choke: v.choke,
        };
    }
    Ok(SampleKit {
        name: spec.name.clone(),
        sample_rate,
        samples,
        voices,
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Writes a mono float WAV (44.1 kHz) of `frames` of a sine at `hz` and `level`.
    pub(crate) fn write_tone(path: &Path, hz: f32, level: f32, frames: usize) {
        let samples: Vec<f32> = (0..frames)
            .map(|i| level * (std::f32::consts::TAU * hz * i as f32 / 44_100.0).sin())
            .collect();
        std::fs::write(path, crate::wav::encode_f32(&samples, 1, 44_100)).unwrap();
    }

    #[test]
    fn a_kit_folder_loads_at_the_graph_rate_sharing_repeated_files() {
        let dir = tempfile::tempdir().unwrap();
        write_tone(&dir.path().join("k.wav"), 60.0, 0.9, 22_050);
        write_tone(&dir.path().join("h.wav"), 5_000.0, 0.5, 2_000);
        std::fs::write(
            dir.path().join(KIT_FILE),
            r#"Kit(voices: {
                kick: (samples: ["k.wav"]),
                low_tom: (samples: ["./k.wav"], tune: -5),
                closed_hat: (layers: [(samples: ["h.wav"]), (from: 0.5, samples: ["h.wav"], gain_db: 6)], choke: 1),
            })"#,
        )
        .unwrap();
        let kit = load(dir.path(), 48_000).unwrap();
        assert_eq!(kit.samples.len(), 3, "k.wav once, h.wav at two gains");
        assert_eq!(kit.samples[0].frames.len(), 24_000);
        assert_eq!(kit.voices[Voice::LowTom.index()].tune, -5.0);
        assert_eq!(kit.voices[Voice::Snare.index()].layers.len(), 0);
        assert_eq!(kit.name, dir.path().file_name().unwrap().to_string_lossy());
    }

    #[test]
    fn a_hydrogen_folder_loads_like_a_kit_file() {
        let dir = tempfile::tempdir().unwrap();
        for f in [
            "kick_soft.wav",
            "kick_hard.wav",
            "sn1.wav",
            "sn2.wav",
            "hh.wav",
            "oh.wav",
        ] {
            write_tone(&dir.path().join(f), 200.0, 0.5, 4_410);
        }
        std::fs::write(dir.path().join(HYDROGEN_FILE), hydrogen::tests::KIT).unwrap();
        let kit = load(dir.path(), 44_100).unwrap();
        assert_eq!(kit.name, "Test Kit");
        assert_eq!(kit.samples.len(), 6);
        assert_eq!(kit.voices[Voice::Snare.index()].layers[0].samples, [2, 3]);
    }

    #[cfg(unix)]
    #[test]
    fn a_kit_reads_nothing_outside_its_folder_and_refuses_bad_samples_in_one_line() {
        let outer = tempfile::tempdir().unwrap();
        let dir = outer.path().join("kit");
        std::fs::create_dir(&dir).unwrap();
        write_tone(&outer.path().join("secret.wav"), 100.0, 0.5, 4_410);
        std::os::unix::fs::symlink(outer.path().join("secret.wav"), dir.join("link.wav")).unwrap();
        std::os::unix::fs::symlink("/dev/zero", dir.join("zero.wav")).unwrap();
        std::fs::write(dir.join("junk.wav"), b"RIFF not really").unwrap();
        for (sample, why) in [
            ("../secret.wav", "inside the kit's folder"),
            ("/etc/passwd", "inside the kit's folder"),
            ("link.wav", "inside the kit's folder"),
            ("zero.wav", "inside the kit's folder"),
            ("junk.wav", "junk.wav: not a readable WAV"),
            ("gone.wav", "gone.wav: cannot read"),
        ] {
            std::fs::write(
                dir.join(KIT_FILE),
                format!("Kit(voices: {{kick: (samples: [{sample:?}])}})"),
            )
            .unwrap();
            let e = load(&dir, 48_000).unwrap_err().to_string();
            assert!(e.contains(why), "{sample}: {e}");
            assert!(!e.contains('\n'), "{e}");
        }
        let e = load(outer.path(), 48_000).unwrap_err().to_string();
        assert!(
            e.ends_with("no kit.ron or drumkit.xml in this folder"),
            "{e}"
        );
        assert_eq!(resolve(Path::new(SYNTH)), Ok(None));
        assert!(resolve(Path::new("no-such-kit-anywhere")).is_err());
    }
}
