//! File helpers: atomic writes, so a crash never leaves half a scene, recording or model;
//! and where ubiq's configuration lives.

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
