//! File helpers: atomic writes, so a crash never leaves half a scene, recording or model;
//! bounded reads, so a file from someone else (a shared scene, theme, keymap, note map or loop
//! index) is read only when it is a regular file of a sensible size; and where ubiq's
//! configuration lives.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

/// ubiq's configuration folder: `$XDG_CONFIG_HOME/ubiq` or `~/.config/ubiq`.
pub fn config_dir() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))?;
    Some(base.join("ubiq"))
}

/// The folder `name` in the current folder, else the one shipped beside the program (`name`
/// next to `bin/ubiq`, or the repository's when run from `target/release`): the first that
/// `wanted` accepts.
pub fn here_or_beside_program(name: &str, wanted: impl Fn(&Path) -> bool) -> Option<PathBuf> {
    let here = PathBuf::from(name);
    if wanted(&here) {
        return Some(here);
    }
    let exe = std::env::current_exe().ok()?;
    exe.ancestors()
        .skip(1)
        .take(4)
        .map(|d| d.join(name))
        .find(|p| wanted(p))
}

/// Writes `bytes` to `path` through a temporary file in the same folder, synced, then
/// renamed over the target: readers see the old file or the new one, never a torn one.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    readable(tmp.as_file())?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// Gives a new file the usual permissions (rw-r--r--) instead of a temporary file's
/// private ones.
pub fn readable(file: &File) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(std::fs::Permissions::from_mode(0o644))?;
    }
    #[cfg(not(unix))]
    let _ = file;
    Ok(())
}

/// True while `path` names the open `file` (it was not deleted, moved away or replaced).
pub fn still_at(file: &File, path: &Path) -> bool {
    let there = std::fs::metadata(path);
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        match (there, file.metadata()) {
            (Ok(there), Ok(ours)) => there.dev() == ours.dev() && there.ino() == ours.ino(),
            _ => false,
        }
    }
    #[cfg(not(unix))]
    {
        let _ = file;
        there.is_ok()
    }
}

/// Takes an advisory lock on `file` without waiting (`exclusive`: for writing, else shared
/// for reading): false when another open file holds a lock that excludes it. The lock goes
/// with the file, and with the process when it dies, however it dies.
pub fn try_lock(file: &File, exclusive: bool) -> std::io::Result<bool> {
    #[cfg(unix)]
    {
        use std::os::fd::AsRawFd;
        let kind = if exclusive {
            libc::LOCK_EX
        } else {
            libc::LOCK_SH
        };
        // SAFETY: flock on a descriptor this `File` owns; it touches no memory.
        if unsafe { libc::flock(file.as_raw_fd(), kind | libc::LOCK_NB) } == 0 {
            return Ok(true);
        }
        let e = std::io::Error::last_os_error();
        if e.raw_os_error() == Some(libc::EWOULDBLOCK) {
            Ok(false)
        } else {
            Err(e)
        }
    }
    #[cfg(not(unix))]
    {
        let _ = (file, exclusive);
        Ok(true)
    }
}

/// Largest scene file (a set, or a scene a section includes) that is read: 4 MiB.
pub const SCENE_LIMIT: u64 = 4 << 20;

/// Largest loop index (`loops/<set>/index.ron`) that is read: 8 MiB, some thousands of loops
/// with their embeddings.
pub const INDEX_LIMIT: u64 = 8 << 20;

/// Largest theme, keymap, MIDI note map or controller bindings file that is read: 1 MiB.
pub const SMALL_LIMIT: u64 = 1 << 20;

/// Why a text file was not read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// It could not be opened or read.
    #[error("cannot read: {0}")]
    Io(#[from] std::io::Error),
    /// It is a folder, a FIFO, a device or a socket.
    #[error("not a regular file")]
    NotRegular,
    /// It is bigger than the limit.
    #[error("{size} bytes is over the {limit} limit")]
    TooBig {
        /// Its size in bytes (at least; a file that grew is cut at the limit plus one).
        size: u64,
        /// The limit, in words (`4 MiB`).
        limit: String,
    },
    /// It is not UTF-8 text.
    #[error("not UTF-8 text")]
    NotUtf8 {
        /// Bytes before the first that is not UTF-8 (the file's text up to there is good).
        valid_up_to: usize,
    },
}

impl ReadError {
    /// True when the file is not there.
    pub fn is_not_found(&self) -> bool {
        matches!(self, ReadError::Io(e) if e.kind() == std::io::ErrorKind::NotFound)
    }
}

/// Reads the regular file at `path` (links followed), refusing anything else and anything
/// over `limit` bytes: a FIFO, a device (`/dev/zero`) or a huge file is never read whole.
pub fn read_bounded(path: &Path, limit: u64) -> Result<Vec<u8>, ReadError> {
    use std::io::Read;
    let mut open = std::fs::OpenOptions::new();
    open.read(true);
    #[cfg(unix)]
    {
        // A FIFO opened for reading waits for a writer unless opened non-blocking; on a
        // regular file the flag changes nothing.
        use std::os::unix::fs::OpenOptionsExt;
        open.custom_flags(libc::O_NONBLOCK);
    }
    let file = open.open(path)?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(ReadError::NotRegular);
    }
    let too_big = |size| ReadError::TooBig {
        size,
        limit: in_words(limit),
    };
    if meta.len() > limit {
        return Err(too_big(meta.len()));
    }
    let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
    file.take(limit + 1).read_to_end(&mut bytes)?;
    let read = bytes.len() as u64;
    if read > limit {
        return Err(too_big(read));
    }
    Ok(bytes)
}

/// Reads the regular UTF-8 text file at `path`, at most `limit` bytes (see [`read_bounded`]).
pub fn read_text_bounded(path: &Path, limit: u64) -> Result<String, ReadError> {
    String::from_utf8(read_bounded(path, limit)?).map_err(|e| ReadError::NotUtf8 {
        valid_up_to: e.utf8_error().valid_up_to(),
    })
}

/// A byte count in words: `4 MiB`, `512 KiB`, `100 bytes`.
fn in_words(bytes: u64) -> String {
    if bytes >= 1 << 20 && bytes % (1 << 20) == 0 {
        format!("{} MiB", bytes >> 20)
    } else if bytes >= 1 << 10 && bytes % (1 << 10) == 0 {
        format!("{} KiB", bytes >> 10)
    } else {
        format!("{bytes} bytes")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_small_text_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.ron");
        std::fs::write(&path, "Scene()").unwrap();
        assert_eq!(read_text_bounded(&path, 100).unwrap(), "Scene()");
    }

    #[test]
    fn refuses_a_file_over_the_limit() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big.ron");
        std::fs::write(&path, vec![b' '; 2048]).unwrap();
        let e = read_text_bounded(&path, 1024).unwrap_err();
        assert_eq!(e.to_string(), "2048 bytes is over the 1 KiB limit");
        assert_eq!(read_text_bounded(&path, 2048).unwrap().len(), 2048);
    }

    #[test]
    fn refuses_folders_and_devices() {
        let dir = tempfile::tempdir().unwrap();
        let e = read_text_bounded(dir.path(), 1024).unwrap_err();
        assert_eq!(e.to_string(), "not a regular file");
        #[cfg(unix)]
        {
            let started = std::time::Instant::now();
            let e = read_text_bounded(Path::new("/dev/zero"), SCENE_LIMIT).unwrap_err();
            assert!(matches!(e, ReadError::NotRegular), "{e}");
            assert!(started.elapsed().as_secs() < 1);
        }
    }

    #[cfg(unix)]
    #[test]
    fn refuses_a_fifo_without_waiting_for_a_writer() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("fifo.ron");
        let c = std::ffi::CString::new(path.to_str().unwrap()).unwrap();
        // SAFETY: mkfifo on a valid, NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
        let e = read_text_bounded(&path, 1024).unwrap_err();
        assert!(matches!(e, ReadError::NotRegular), "{e}");
    }

    #[test]
    fn refuses_text_that_is_not_utf8_and_says_where_it_stops() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("latin1.ron");
        std::fs::write(&path, b"ab\xe9").unwrap();
        let e = read_text_bounded(&path, 1024).unwrap_err();
        assert!(matches!(e, ReadError::NotUtf8 { valid_up_to: 2 }), "{e}");
        assert_eq!(e.to_string(), "not UTF-8 text");
        assert!(
            read_text_bounded(&dir.path().join("none"), 10)
                .unwrap_err()
                .is_not_found()
        );
    }
}
