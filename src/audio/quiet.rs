//! Keeps the C audio libraries' chatter ("ALSA lib …", "Cannot connect to server socket …")
//! off the performer's terminal while devices are probed and opened.

use std::fs::OpenOptions;
use std::os::fd::AsRawFd;

/// Runs `f` with the process's stderr pointed at /dev/null, then restores it.
///
/// Only the C libraries write to stderr while probing; ubiq reports problems itself through
/// the returned values. Falls back to running `f` unchanged if stderr cannot be redirected.
pub fn without_stderr<T>(f: impl FnOnce() -> T) -> T {
    let Ok(null) = OpenOptions::new().write(true).open("/dev/null") else {
        return f();
    };
    // SAFETY: dup/dup2 on valid descriptors; the saved descriptor is restored and closed below.
    let saved = unsafe { libc::dup(libc::STDERR_FILENO) };
    if saved < 0 {
        return f();
    }
    // SAFETY: both descriptors are open.
    unsafe { libc::dup2(null.as_raw_fd(), libc::STDERR_FILENO) };
    let out = f();
    // SAFETY: `saved` is the descriptor duplicated above.
    unsafe {
        libc::dup2(saved, libc::STDERR_FILENO);
        libc::close(saved);
    }
    out
}
