//! The signals that end a set the way `quit` does: SIGINT (Ctrl-C), SIGTERM and SIGHUP (the
//! terminal or the SSH connection dropped) set one flag that both front ends watch, so the
//! take is finished (WAV, log, scene, MIDI) before ubiq exits. A SIGHUP that is already
//! ignored when ubiq starts (`nohup ubiq play …`) stays ignored: the set plays on.
//!
//! SIGPIPE needs nothing here: Rust ignores it, so a write to a closed pipe returns an error
//! (EPIPE), which the front ends take as "write nothing more there".

use std::io;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};

/// Registers SIGINT, SIGTERM and SIGHUP on a new flag and returns it.
pub fn stop_flag() -> io::Result<Arc<AtomicBool>> {
    let stop = Arc::new(AtomicBool::new(false));
    for signal in [SIGINT, SIGTERM, SIGHUP] {
        if signal == SIGHUP && ignored(SIGHUP) {
            continue;
        }
        signal_hook::flag::register(signal, Arc::clone(&stop))?;
    }
    Ok(stop)
}

/// Whether `signal` was ignored by whoever started ubiq.
fn ignored(signal: libc::c_int) -> bool {
    // SAFETY: an all-zero sigaction is a valid value to be overwritten; passing no new action
    // only reads the current one.
    unsafe {
        let mut current: libc::sigaction = std::mem::zeroed();
        libc::sigaction(signal, std::ptr::null(), &mut current) == 0
            && current.sa_sigaction == libc::SIG_IGN
    }
}
