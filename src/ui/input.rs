//! The terminal's events, read on a thread of their own, and whether the terminal is gone.
//!
//! A terminal that hangs up (the SSH connection or the terminal window dropped) reads as
//! "ready, nothing there" forever, and crossterm's reader spins on that without returning.
//! The screen therefore never waits on crossterm itself: it takes events from a channel, and
//! the reading thread checks for the hang-up before each read, says [`Input::Gone`] and ends.
//! On the way out, [`leave_hung_up_terminal`] sends what is still written to /dev/null.

use std::os::fd::AsRawFd;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver};
use std::time::Duration;

use ratatui::crossterm::event::{self, Event};

/// What the terminal sends the screen.
pub enum Input {
    /// A key, a mouse event or a resize.
    Event(Event),
    /// The terminal hung up or its events can no longer be read.
    Gone,
}

/// Starts the thread that reads the terminal's events until `done` is set, the terminal is
/// gone or the receiver is dropped. `wait` is how long it sleeps on a quiet terminal.
pub fn spawn(done: Arc<AtomicBool>, wait: Duration) -> Receiver<Input> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        while !done.load(Ordering::Relaxed) {
            if wait_for_stdin(wait) == Tty::Gone {
                let _ = tx.send(Input::Gone);
                return;
            }
            // Keys that arrived, and resizes (crossterm hears those as signals).
            loop {
                let read = match event::poll(Duration::ZERO) {
                    Ok(true) => event::read().map(Some),
                    Ok(false) => Ok(None),
                    Err(e) => Err(e),
                };
                match read {
                    Ok(Some(e)) => {
                        if tx.send(Input::Event(e)).is_err() {
                            return;
                        }
                    }
                    Ok(None) => break,
                    Err(_) => {
                        let _ = tx.send(Input::Gone);
                        return;
                    }
                }
            }
        }
    });
    rx
}

/// What a terminal's file descriptor says.
#[derive(PartialEq, Eq)]
enum Tty {
    /// Open: input waiting, or nothing within the wait.
    Open,
    /// Hung up, or not open any more.
    Gone,
}

/// Waits at most `wait` for input on stdin (the terminal crossterm reads).
fn wait_for_stdin(wait: Duration) -> Tty {
    poll(libc::STDIN_FILENO, wait)
}

/// Whether the terminal on stdin or stdout has hung up (or is closed).
pub fn hung_up() -> bool {
    [libc::STDIN_FILENO, libc::STDOUT_FILENO]
        .into_iter()
        .any(|fd| poll(fd, Duration::ZERO) == Tty::Gone)
}

/// Points stdout and stderr, each where it is a terminal that hung up, at /dev/null: what is
/// still written there on the way out (the screen's teardown, a last line) then goes nowhere
/// instead of failing, which Rust's printing and ratatui's teardown turn into a panic.
pub fn leave_hung_up_terminal() {
    let Ok(null) = std::fs::OpenOptions::new().write(true).open("/dev/null") else {
        return;
    };
    for fd in [libc::STDOUT_FILENO, libc::STDERR_FILENO] {
        if poll(fd, Duration::ZERO) == Tty::Gone {
            // SAFETY: both descriptors are open; dup2 replaces `fd` atomically.
            unsafe { libc::dup2(null.as_raw_fd(), fd) };
        }
    }
}

/// Polls `fd` for input for at most `wait`.
fn poll(fd: libc::c_int, wait: Duration) -> Tty {
    let mut pfd = libc::pollfd {
        fd,
        events: libc::POLLIN,
        revents: 0,
    };
    let ms = libc::c_int::try_from(wait.as_millis()).unwrap_or(libc::c_int::MAX);
    // SAFETY: one valid pollfd, counted as one.
    let n = unsafe { libc::poll(&mut pfd, 1, ms) };
    if n > 0 && pfd.revents & (libc::POLLHUP | libc::POLLERR | libc::POLLNVAL) != 0 {
        Tty::Gone
    } else {
        Tty::Open
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A pseudo-terminal whose master side is closed reads as gone; one still open does not.
    #[test]
    fn a_hung_up_terminal_reads_as_gone() {
        // SAFETY: plain libc calls on descriptors this test opens and closes.
        unsafe {
            let master = libc::posix_openpt(libc::O_RDWR | libc::O_NOCTTY);
            assert!(master >= 0);
            assert_eq!(libc::grantpt(master), 0);
            assert_eq!(libc::unlockpt(master), 0);
            let name = libc::ptsname(master);
            assert!(!name.is_null());
            let slave = libc::open(name, libc::O_RDWR | libc::O_NOCTTY);
            assert!(slave >= 0);
            assert!(poll(slave, Duration::from_millis(10)) == Tty::Open);
            libc::close(master);
            assert!(poll(slave, Duration::from_millis(10)) == Tty::Gone);
            libc::close(slave);
        }
    }
}
