//! MIDI in: follows an incoming clock (tempo, start / stop) and turns bound controls into
//! commands, with a learn mode. Everything it does is reported as a [`MidiEvent`] to a
//! callback the caller wires to the engine, so commands from MIDI take the same way as typed
//! ones.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use thiserror::Error;

use super::clock::{self, ClockFollower, Follow};
use super::map::{Bindings, MapError, Source};
use super::ports::InQueue;
use crate::command::{Command, Target, parse};

/// Smallest change of the followed tempo that is passed on, in BPM.
const TEMPO_STEP: f64 = 0.05;
/// How often the input thread looks for messages.
const POLL: Duration = Duration::from_millis(1);

/// What MIDI input reports: a command to apply, or a line for the performer.
#[derive(Debug, Clone, PartialEq)]
pub enum MidiEvent {
    /// A command from a bound control or the followed clock.
    Command(Command),
    /// A message for the performer (a control learnt, a binding that does not parse).
    Notice {
        /// False for errors.
        ok: bool,
        /// One line.
        text: String,
    },
}

/// Why the bindings could not be changed.
#[derive(Debug, Error)]
pub enum ControlError {
    /// A thread panicked while it held the bindings.
    #[error("poisoned lock: another task failed inside")]
    Poisoned,
    /// The bindings file could not be written.
    #[error(transparent)]
    Save(#[from] MapError),
}

/// State shared by the engine (learn / forget commands, status) and the input thread.
#[derive(Debug, Default)]
pub struct MidiControl {
    learn: Mutex<Option<Target>>,
    bindings: Mutex<Bindings>,
    path: Option<PathBuf>,
    follow: Mutex<Follow>,
}

impl MidiControl {
    /// Controls with the bindings in `path` (none when the file does not exist).
    pub fn new(bindings: Bindings, path: Option<PathBuf>) -> Self {
        MidiControl {
            bindings: Mutex::new(bindings),
            path,
            ..MidiControl::default()
        }
    }

    /// Arms learn mode: the next control moved is bound to `target`.
    pub fn learn(&self, target: Target) {
        if let Ok(mut l) = self.learn.lock() {
            *l = Some(target);
        }
    }

    /// Removes the bindings of a command and saves; returns how many went.
    pub fn forget(&self, command: &str) -> Result<usize, ControlError> {
        let mut b = self.bindings.lock().map_err(|_| ControlError::Poisoned)?;
        let n = b.unbind(command);
        if n > 0 {
            self.save(&b)?;
        }
        Ok(n)
    }

    fn save(&self, b: &Bindings) -> Result<(), MapError> {
        match &self.path {
            Some(p) => b.save(p),
            None => Ok(()),
        }
    }

    /// The incoming clock, as last heard.
    pub fn follow(&self) -> Follow {
        self.follow.lock().map(|f| *f).unwrap_or_default()
    }

    /// What learn mode waits to bind, if anything.
    pub fn learning(&self) -> Option<String> {
        self.learn
            .lock()
            .ok()
            .and_then(|l| l.as_ref().map(|t| t.command.clone()))
    }

    /// Handles one incoming channel message; returns what it reports.
    fn control(&self, bytes: &[u8]) -> Vec<MidiEvent> {
        let (Some(&status), Some(&a)) = (bytes.first(), bytes.get(1)) else {
            return Vec::new();
        };
        let value = bytes.get(2).copied().unwrap_or(0);
        let channel = (status & 0x0F) + 1;
        let source = match status & 0xF0 {
            0xB0 => Source::Cc { channel, number: a },
            0x90 if value > 0 => Source::Note { channel, note: a },
            _ => return Vec::new(),
        };
        let learning = self.learn.lock().ok().and_then(|mut l| l.take());
        if let Some(target) = learning {
            let Ok(mut b) = self.bindings.lock() else {
                return Vec::new();
            };
            b.bind(source, &target);
            let saved = self.save(&b);
            let text = match saved {
                Ok(()) => format!("MIDI: {source} → {}", target.command),
                Err(e) => format!("MIDI: {source} → {} (not saved: {e})", target.command),
            };
            let mut out = vec![MidiEvent::Notice { ok: true, text }];
            // The movement that was learnt takes effect too.
            if let Some(Ok(cmd)) = b.command_for(source, value).map(|c| parse(&c)) {
                out.push(MidiEvent::Command(cmd));
            }
            return out;
        }
        let command = self
            .bindings
            .lock()
            .ok()
            .and_then(|b| b.command_for(source, value));
        match command.map(|c| parse(&c)) {
            Some(Ok(cmd)) => vec![MidiEvent::Command(cmd)],
            Some(Err(e)) => vec![MidiEvent::Notice {
                ok: false,
                text: format!("MIDI binding: {e}"),
            }],
            None => Vec::new(),
        }
    }
}

/// The MIDI input thread.
pub struct MidiIn {
    stop: Arc<std::sync::atomic::AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl MidiIn {
    /// Starts reading `queue`; `follow_clock` turns incoming clock into tempo commands.
    /// Every event goes to `report`, on the input thread; the thread ends when `report`
    /// returns false (its receiver has gone).
    pub fn start<F>(
        mut queue: InQueue,
        control: Arc<MidiControl>,
        follow_clock: bool,
        mut report: F,
    ) -> std::io::Result<MidiIn>
    where
        F: FnMut(MidiEvent) -> bool + Send + 'static,
    {
        use std::sync::atomic::{AtomicBool, Ordering};
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let thread = std::thread::Builder::new()
            .name("ubiq-midi-in".into())
            .spawn(move || {
                let mut follower = ClockFollower::new();
                let mut sent_bpm: Option<f64> = None;
                while !flag.load(Ordering::Relaxed) {
                    while let Some(msg) = queue.pop() {
                        let bytes = msg.message();
                        let events = match bytes[0] {
                            clock::CLOCK | clock::START | clock::CONTINUE | clock::STOP => {
                                let f = follower.feed(bytes[0], msg.at_us);
                                if let Ok(mut s) = control.follow.lock() {
                                    *s = f;
                                }
                                let mut events = tempo_event(follow_clock, f, &mut sent_bpm);
                                if follow_clock {
                                    events.extend(transport_event(bytes[0]));
                                }
                                events
                            }
                            0x80..=0xEF => control.control(bytes),
                            _ => Vec::new(),
                        };
                        for event in events {
                            if !report(event) {
                                return;
                            }
                        }
                    }
                    std::thread::sleep(POLL);
                }
            })?;
        Ok(MidiIn {
            stop,
            thread: Some(thread),
        })
    }
}

/// A tempo command when the followed clock is locked and moved by at least [`TEMPO_STEP`].
fn tempo_event(follow: bool, f: Follow, sent: &mut Option<f64>) -> Vec<MidiEvent> {
    let (true, true, Some(bpm)) = (follow, f.locked, f.bpm) else {
        return Vec::new();
    };
    let bpm = (bpm * 100.0).round() / 100.0;
    if sent.is_some_and(|s| (s - bpm).abs() < TEMPO_STEP) {
        return Vec::new();
    }
    *sent = Some(bpm);
    vec![MidiEvent::Command(Command::Tempo(
        bpm.clamp(40.0, 240.0) as f32
    ))]
}

/// The transport command of a start, continue or stop from a followed clock.
fn transport_event(status: u8) -> Option<MidiEvent> {
    match status {
        clock::START | clock::CONTINUE => Some(MidiEvent::Command(Command::Transport(true))),
        clock::STOP => Some(MidiEvent::Command(Command::Transport(false))),
        _ => None,
    }
}

impl Drop for MidiIn {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn learn_binds_the_next_control_and_saves() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("midi.ron");
        let c = MidiControl::new(Bindings::default(), Some(path.clone()));
        c.learn(Target::parse("filter").unwrap());
        assert_eq!(c.learning().as_deref(), Some("filter"));
        let r = c.control(&[0xB0, 74, 0]);
        assert!(matches!(
            &r[..],
            [MidiEvent::Notice { text, .. }, MidiEvent::Command(Command::Filter(x))]
                if text.contains("CC 74") && *x == -1.0
        ));
        assert_eq!(c.learning(), None);
        let r = c.control(&[0xB0, 74, 127]);
        assert!(matches!(&r[..], [MidiEvent::Command(Command::Filter(x))] if *x == 1.0));
        assert_eq!(Bindings::load(&path).unwrap().bindings.len(), 1);
        assert!(matches!(c.forget("filter"), Ok(1)));
        assert!(c.control(&[0xB0, 74, 127]).is_empty());
    }

    #[test]
    fn a_locked_clock_becomes_one_tempo_command() {
        let mut sent = None;
        let f = Follow {
            running: true,
            bpm: Some(120.004),
            locked: true,
            ticks: 30,
            locked_after: Some(13),
        };
        let r = tempo_event(true, f, &mut sent);
        assert!(matches!(&r[..], [MidiEvent::Command(Command::Tempo(t))] if *t == 120.0));
        assert!(tempo_event(true, f, &mut sent).is_empty());
        assert!(tempo_event(false, f, &mut None).is_empty());
    }

    #[test]
    fn start_and_stop_drive_the_transport() {
        let start = |b| match transport_event(b) {
            Some(MidiEvent::Command(Command::Transport(on))) => Some(on),
            _ => None,
        };
        assert_eq!(start(clock::START), Some(true));
        assert_eq!(start(clock::CONTINUE), Some(true));
        assert_eq!(start(clock::STOP), Some(false));
        assert_eq!(start(clock::CLOCK), None);
    }
}
