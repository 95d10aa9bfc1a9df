//! MIDI in: follows an incoming clock (tempo, start / stop) and turns bound controls into
//! commands, with a learn mode. Everything it does reaches the engine as a [`Request`], the
//! same way typed commands do.

use std::path::PathBuf;
use std::sync::mpsc::Sender;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use super::clock::{self, ClockFollower, Follow};
use super::map::{Bindings, Source, Target};
use super::ports::InQueue;
use crate::command::{Command, parse};
use crate::engine::Notice;
use crate::engine::live::Request;

/// Smallest change of the followed tempo that is passed on, in BPM.
const TEMPO_STEP: f64 = 0.05;
/// How often the input thread looks for messages.
const POLL: Duration = Duration::from_millis(1);

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
    pub fn forget(&self, command: &str) -> Result<usize, String> {
        let mut b = self.bindings.lock().map_err(|e| e.to_string())?;
        let n = b.unbind(command);
        if n > 0 {
            self.save(&b)?;
        }
        Ok(n)
    }

    fn save(&self, b: &Bindings) -> Result<(), String> {
        match &self.path {
            Some(p) => b.save(p).map_err(|e| e.to_string()),
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

    /// Handles one incoming channel message; returns requests for the engine.
    fn control(&self, bytes: &[u8]) -> Vec<Request> {
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
            let mut out = vec![Request::Notice(Notice { ok: true, text })];
            // The movement that was learnt takes effect too.
            if let Some(Ok(cmd)) = b.command_for(source, value).map(|c| parse(&c)) {
                out.push(Request::Command(cmd));
            }
            return out;
        }
        let command = self
            .bindings
            .lock()
            .ok()
            .and_then(|b| b.command_for(source, value));
        match command.map(|c| parse(&c)) {
            Some(Ok(cmd)) => vec![Request::Command(cmd)],
            Some(Err(e)) => vec![Request::Notice(Notice {
                ok: false,
                text: format!("MIDI binding: {e}"),
            })],
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
    pub fn start(
        mut queue: InQueue,
        control: Arc<MidiControl>,
        engine: Sender<Request>,
        follow_clock: bool,
    ) -> std::io::Result<MidiIn> {
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
                        let requests = match bytes[0] {
                            clock::CLOCK | clock::START | clock::CONTINUE | clock::STOP => {
                                let f = follower.feed(bytes[0], msg.at_us);
                                if let Ok(mut s) = control.follow.lock() {
                                    *s = f;
                                }
                                let mut requests = tempo_request(follow_clock, f, &mut sent_bpm);
                                if follow_clock {
                                    requests.extend(transport_request(bytes[0]));
                                }
                                requests
                            }
                            0x80..=0xEF => control.control(bytes),
                            _ => Vec::new(),
                        };
                        for r in requests {
                            if engine.send(r).is_err() {
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
fn tempo_request(follow: bool, f: Follow, sent: &mut Option<f64>) -> Vec<Request> {
    let (true, true, Some(bpm)) = (follow, f.locked, f.bpm) else {
        return Vec::new();
    };
    let bpm = (bpm * 100.0).round() / 100.0;
    if sent.is_some_and(|s| (s - bpm).abs() < TEMPO_STEP) {
        return Vec::new();
    }
    *sent = Some(bpm);
    vec![Request::Command(Command::Tempo(
        bpm.clamp(40.0, 240.0) as f32
    ))]
}

/// The transport command of a start, continue or stop from a followed clock.
fn transport_request(status: u8) -> Option<Request> {
    match status {
        clock::START | clock::CONTINUE => Some(Request::Command(Command::Transport(true))),
        clock::STOP => Some(Request::Command(Command::Transport(false))),
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
            [Request::Notice(n), Request::Command(Command::Filter(x))]
                if n.text.contains("CC 74") && *x == -1.0
        ));
        assert_eq!(c.learning(), None);
        let r = c.control(&[0xB0, 74, 127]);
        assert!(matches!(&r[..], [Request::Command(Command::Filter(x))] if *x == 1.0));
        assert_eq!(Bindings::load(&path).unwrap().bindings.len(), 1);
        assert_eq!(c.forget("filter"), Ok(1));
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
        let r = tempo_request(true, f, &mut sent);
        assert!(matches!(&r[..], [Request::Command(Command::Tempo(t))] if *t == 120.0));
        assert!(tempo_request(true, f, &mut sent).is_empty());
        assert!(tempo_request(false, f, &mut None).is_empty());
    }

    #[test]
    fn start_and_stop_drive_the_transport() {
        let start = |b| match transport_request(b) {
            Some(Request::Command(Command::Transport(on))) => Some(on),
            _ => None,
        };
        assert_eq!(start(clock::START), Some(true));
        assert_eq!(start(clock::CONTINUE), Some(true));
        assert_eq!(start(clock::STOP), Some(false));
        assert_eq!(start(clock::CLOCK), None);
    }
}
