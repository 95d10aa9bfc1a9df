//! Making whole the takes a crash interrupted (`kill -9`, a power cut, a panic): the WAV
//! cut to its whole frames with a header counting them, the log completed in place, the
//! scene and the MIDI written. `ubiq play` does it for every take the list of open takes
//! names when it starts; `ubiq recover` does it on demand.

use std::path::{Path, PathBuf};

use thiserror::Error;

use super::journal;
use super::session::SessionLog;
use crate::midi::map::NoteMap;
use crate::model::registry::Models;

/// The files of a take: `BASE.wav`, `.log`, `.ron`, `.mid`.
pub const TAKE_FILES: [&str; 4] = ["wav", "log", "ron", "mid"];

/// The space kept free beside a take while it is recorded, so its log, scene and MIDI
/// can still be written when the disk fills up.
pub const RESERVE_BYTES: usize = 256 * 1024;

/// The file holding a take's reserved space: hidden, beside the take.
pub fn reserve_path(base: &Path) -> PathBuf {
    let stem = base
        .file_name()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    base.with_file_name(format!(".{stem}.reserve"))
}

/// The takes being recorded, one small file each in a folder of the user's data (the
/// take's base path inside), so the next start finds what a crash interrupted.
#[derive(Debug, Clone)]
pub struct OpenTakes {
    dir: PathBuf,
}

impl OpenTakes {
    /// The list kept in `dir`.
    pub fn new(dir: PathBuf) -> Self {
        OpenTakes { dir }
    }

    /// Notes a take being recorded at `base`; returns the entry to [`OpenTakes::close`].
    pub fn open(&self, base: &Path) -> std::io::Result<PathBuf> {
        std::fs::create_dir_all(&self.dir)?;
        let base = std::path::absolute(base)?;
        let mut n = 0u32;
        loop {
            let entry = self.dir.join(format!("{}-{n}", std::process::id()));
            match std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&entry)
            {
                Ok(mut f) => {
                    use std::io::Write;
                    f.write_all(base.as_os_str().as_encoded_bytes())?;
                    return Ok(entry);
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && n < 1000 => n += 1,
                Err(e) => return Err(e),
            }
        }
    }

    /// The take of `entry` ended.
    pub fn close(&self, entry: &Path) {
        let _ = std::fs::remove_file(entry);
    }

    /// The takes noted as being recorded: (entry, take base).
    pub fn list(&self) -> Vec<(PathBuf, PathBuf)> {
        let Ok(dir) = std::fs::read_dir(&self.dir) else {
            return Vec::new();
        };
        let mut takes: Vec<_> = dir
            .flatten()
            .filter_map(|e| {
                let bytes = std::fs::read(e.path()).ok()?;
                let text = String::from_utf8(bytes).ok()?;
                Some((e.path(), PathBuf::from(text)))
            })
            .collect();
        takes.sort();
        takes
    }
}

/// A take made whole.
#[derive(Debug, Clone, PartialEq)]
pub struct Recovered {
    /// The take's base name.
    pub base: PathBuf,
    /// Seconds of audio kept.
    pub seconds: f64,
    /// The MIDI file could not be written: why.
    pub midi_failed: Option<String>,
}

impl std::fmt::Display for Recovered {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let b = self.base.display();
        write!(
            f,
            "recovered the interrupted take {b}.wav ({:.1} s) with {b}.log",
            self.seconds
        )?;
        match &self.midi_failed {
            None => write!(f, " and {b}.mid"),
            Some(e) => write!(f, " (no MIDI: {e})"),
        }?;
        write!(f, "; `ubiq replay {b}.log` renders it again")
    }
}

/// Why a take could not be made whole, in one line naming the file.
#[derive(Debug, Error)]
pub enum RecoverError {
    /// Another ubiq records it right now.
    #[error("{}: still being recorded by another ubiq", .0.display())]
    Recording(PathBuf),
    /// The take ended normally: nothing to do.
    #[error("{}: the take is whole already", .0.display())]
    Whole(PathBuf),
    /// A file could not be read or written.
    #[error("{}: {source}", .path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        source: std::io::Error,
    },
    /// The log does not read.
    #[error(transparent)]
    Log(#[from] super::session::SessionError),
    /// The WAV is not one ubiq was recording.
    #[error(transparent)]
    Wav(#[from] crate::wav::RepairError),
    /// The take stopped before its first sample was placed.
    #[error("{}: the take was interrupted before its first sample; nothing to recover", .0.display())]
    Empty(PathBuf),
}

/// The base name of a take named by any of its files (`take.wav`, `take.log`) or by its
/// base.
pub fn base_of(path: &Path) -> PathBuf {
    match path.extension().and_then(|e| e.to_str()) {
        Some(ext) if TAKE_FILES.contains(&ext) => path.with_extension(""),
        _ => path.to_path_buf(),
    }
}

/// Makes the take at `base` whole: WAV, log, scene and MIDI (replayed with `models`,
/// notes mapped by `map`).
pub fn recover(base: &Path, models: &mut Models, map: &NoteMap) -> Result<Recovered, RecoverError> {
    let log_path = base.with_extension("log");
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| RecoverError::Io { path, source }
    };
    let file = std::fs::File::open(&log_path).map_err(io(&log_path))?;
    if !crate::files::try_lock(&file, false).map_err(io(&log_path))? {
        return Err(RecoverError::Recording(log_path));
    }
    let bytes = std::fs::read(&log_path).map_err(io(&log_path))?;
    let text = String::from_utf8(bytes).map_err(|_| RecoverError::Io {
        path: log_path.clone(),
        source: std::io::Error::new(std::io::ErrorKind::InvalidData, "not UTF-8 text"),
    })?;
    let whole = &text[..text.rfind('\n').map_or(0, |i| i + 1)];
    let open = SessionLog::parse_open(whole, &log_path)?;
    if open.end.is_some() {
        return Err(RecoverError::Whole(log_path));
    }
    let wav_path = base.with_extension("wav");
    let (rate, frames) = crate::wav::repair(&wav_path)?;
    let Some(record_from) = open.record_from else {
        return Err(RecoverError::Empty(wav_path));
    };
    let end = record_from + frames;
    journal::close_interrupted(&log_path, &text, end).map_err(io(&log_path))?;
    let _ = std::fs::remove_file(reserve_path(base));
    let log = SessionLog { end, ..open.log };
    let scene_path = base.with_extension("ron");
    if !scene_path.exists() {
        log.scene.save(&scene_path).map_err(io(&scene_path))?;
    }
    let rendered = log.replay(models);
    let events = super::render::midi_of(&rendered, map);
    let midi_failed = super::render::write_midi(
        &base.with_extension("mid"),
        &events,
        log.scene.tempo,
        log.sample_rate,
    )
    .err()
    .map(|e| e.to_string());
    Ok(Recovered {
        base: base.to_path_buf(),
        seconds: frames as f64 / f64::from(rate.max(1)),
        midi_failed,
    })
    // `file` (and its lock) lives until here: no other ubiq recovers the take meanwhile.
}

/// Makes whole every take `open` lists that no ubiq is recording any more: one line each,
/// for the performer.
pub fn recover_open(open: &OpenTakes, models: &mut Models, map: &NoteMap) -> Vec<String> {
    let mut lines = Vec::new();
    for (entry, base) in open.list() {
        match recover(&base, models, map) {
            Err(RecoverError::Recording(_)) => continue,
            Ok(r) => lines.push(r.to_string()),
            // A take that ended after all, or whose files were since moved away.
            Err(RecoverError::Whole(_)) => {}
            Err(RecoverError::Io { source, .. })
                if source.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => lines.push(format!("cannot recover an interrupted take: {e}")),
        }
        open.close(&entry);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_take_is_named_by_any_of_its_files() {
        for p in ["set/take.wav", "set/take.log", "set/take.mid", "set/take"] {
            assert_eq!(base_of(Path::new(p)), PathBuf::from("set/take"));
        }
        assert_eq!(
            reserve_path(Path::new("set/take")),
            PathBuf::from("set/.take.reserve")
        );
    }

    #[test]
    fn open_takes_are_listed_until_closed() {
        let dir = tempfile::tempdir().unwrap();
        let open = OpenTakes::new(dir.path().join("open"));
        let a = open.open(&dir.path().join("a")).unwrap();
        let b = open.open(&dir.path().join("b")).unwrap();
        let bases: Vec<_> = open.list().into_iter().map(|(_, b)| b).collect();
        assert_eq!(bases, vec![dir.path().join("a"), dir.path().join("b")]);
        open.close(&a);
        open.close(&b);
        assert!(open.list().is_empty());
    }
}
