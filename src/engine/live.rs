//! The live engine thread: applies commands as they come, keeps the audio thread fed and
//! publishes snapshots for the front ends, which never block it and share no lock with it.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;

use super::{Notice, Performance, Playing, Snapshot};
use crate::audio::{AudioHandle, AudioMsg};
use crate::command::Command;
use crate::scene::Scene;

/// How often snapshots are published at most.
const SNAPSHOT_PERIOD: Duration = Duration::from_millis(30);
/// How long the engine waits for input before looking at the clock again.
const POLL: Duration = Duration::from_millis(5);

/// What front ends ask of the engine.
#[derive(Debug)]
#[allow(clippy::large_enum_variant)] // a few hundred bytes through a channel, a few per second
pub enum Request {
    /// Apply a command.
    Command(Command),
    /// Take over a scene (hot reload): patterns and settings change at the next cycle.
    Scene(Box<Scene>),
    /// Pass a message to the performer (e.g. a scene file that failed to load).
    Notice(Notice),
}

/// The front ends' end of a running engine.
pub struct EngineHandle {
    requests: Sender<Request>,
    stop: Arc<AtomicBool>,
    notices: Receiver<Notice>,
    snapshot: Arc<ArcSwap<Snapshot>>,
    thread: Option<JoinHandle<()>>,
}

impl EngineHandle {
    /// Sends a request; false when the engine has stopped.
    pub fn send(&self, request: Request) -> bool {
        self.requests.send(request).is_ok()
    }

    /// Applies a command (shorthand for [`Request::Command`]).
    pub fn command(&self, cmd: Command) -> bool {
        self.send(Request::Command(cmd))
    }

    /// The latest snapshot.
    pub fn snapshot(&self) -> Arc<Snapshot> {
        self.snapshot.load_full()
    }

    /// Notices since the last call (command results, errors).
    pub fn notices(&self) -> Vec<Notice> {
        self.notices.try_iter().collect()
    }

    /// True once the engine has stopped (after `quit`).
    pub fn is_finished(&self) -> bool {
        self.thread.as_ref().is_none_or(JoinHandle::is_finished)
    }

    /// A sender that other input threads (file watcher, MIDI) can use.
    pub fn sender(&self) -> Sender<Request> {
        self.requests.clone()
    }
}

impl Drop for EngineHandle {
    /// Stops the engine thread (other input threads may still hold senders) and waits for it.
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// A cycle sent to the audio thread that has not started yet.
struct Pending {
    playing: Playing,
    /// The audio thread's cycle count when it was sent.
    sent_cycle: u64,
    /// The late-plan count when it was sent (a late plan starts one cycle later).
    late_plans: u64,
}

struct Engine {
    perf: Performance,
    playing: Playing,
    pending: Option<Pending>,
    audio: AudioHandle,
    output: String,
    notices: Sender<Notice>,
    notice: Option<Notice>,
    snapshot: Arc<ArcSwap<Snapshot>>,
}

impl Engine {
    fn notify(&mut self, ok: bool, text: String) {
        let n = Notice { ok, text };
        self.notice = Some(n.clone());
        let _ = self.notices.send(n);
    }

    fn send(&mut self, msg: AudioMsg) {
        if self.audio.send(msg).is_err() {
            self.notify(
                false,
                "the audio thread is not keeping up; a change was dropped".into(),
            );
        }
    }

    fn outcome(&mut self, out: super::Outcome) {
        if out.params {
            let p = self.perf.params();
            self.send(AudioMsg::Params(p));
        }
        if out.cycle {
            let mut plan = self.perf.plan();
            if out.params_at_cycle {
                plan = plan.with_params(self.perf.params());
            }
            self.send(AudioMsg::Cycle(plan));
            let status = self.audio.status();
            self.pending = Some(Pending {
                playing: self.perf.queued(),
                sent_cycle: status.cycle,
                late_plans: status.late_plans,
            });
        }
    }

    /// Returns false when the performer quit.
    fn handle(&mut self, request: Request) -> bool {
        match request {
            Request::Command(cmd) => match self.perf.apply(&cmd) {
                Ok(out) => {
                    self.outcome(out);
                    if out.quit {
                        return false;
                    }
                    self.notify(true, cmd.to_string());
                }
                Err(e) => self.notify(false, e.to_string()),
            },
            Request::Scene(scene) => {
                let name = scene.name.clone();
                let out = self.perf.replace_scene(*scene);
                self.outcome(out);
                self.notify(true, format!("scene {name:?} takes over at the next cycle"));
            }
            Request::Notice(n) => self.notify(n.ok, n.text),
        }
        true
    }

    fn publish(&mut self) {
        let status = self.audio.status();
        if let Some(p) = &self.pending {
            let late = status.late_plans.saturating_sub(p.late_plans);
            if status.cycle > p.sent_cycle + late {
                self.playing = p.playing;
                self.pending = None;
            }
        }
        let snap = self
            .perf
            .snapshot(status, self.playing, &self.output, self.notice.clone());
        self.snapshot.store(Arc::new(snap));
    }

    fn run(mut self, requests: Receiver<Request>, stop: &AtomicBool) {
        let first = self.perf.plan().with_params(self.perf.params());
        self.send(AudioMsg::Params(self.perf.params()));
        self.send(AudioMsg::Cycle(first));
        let mut published = Instant::now();
        while !stop.load(Ordering::Relaxed) {
            match requests.recv_timeout(POLL) {
                Ok(req) => {
                    if !self.handle(req) {
                        break;
                    }
                    self.publish();
                    published = Instant::now();
                }
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => break,
            }
            if published.elapsed() >= SNAPSHOT_PERIOD {
                self.publish();
                published = Instant::now();
            }
        }
        self.publish();
    }
}

/// Starts the engine thread on a performance and an audio link.
pub fn spawn(
    perf: Performance,
    audio: AudioHandle,
    output: String,
) -> std::io::Result<EngineHandle> {
    let (req_tx, req_rx) = mpsc::channel();
    let (note_tx, note_rx) = mpsc::channel();
    let first = perf.snapshot(audio.status(), perf.queued(), &output, None);
    let engine = Engine {
        playing: perf.queued(),
        pending: None,
        perf,
        audio,
        output,
        notices: note_tx,
        notice: None,
        snapshot: Arc::new(ArcSwap::from_pointee(first)),
    };
    let snapshot = Arc::clone(&engine.snapshot);
    let stop = Arc::new(AtomicBool::new(false));
    let stop_flag = Arc::clone(&stop);
    let thread = std::thread::Builder::new()
        .name("ubiq-engine".into())
        .spawn(move || engine.run(req_rx, &stop_flag))?;
    Ok(EngineHandle {
        requests: req_tx,
        stop,
        notices: note_rx,
        snapshot,
        thread: Some(thread),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::command::parse;
    use crate::scene::library::default_scene;

    fn wait_until(what: &str, ok: impl Fn() -> bool) {
        let start = Instant::now();
        while !ok() {
            assert!(start.elapsed() < Duration::from_secs(5), "{what}");
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    #[test]
    fn the_queued_cycle_becomes_the_playing_one_at_the_boundary() {
        let (audio, mut core) = crate::audio::link(48_000, 1);
        let perf = Performance::new(default_scene());
        let first = perf.queued();
        let engine = spawn(perf, audio, "test".into()).unwrap();
        let mut block = vec![0.0; 2 * 480];
        core.process(&mut block);
        assert!(engine.command(parse("grid kick X...............").unwrap()));
        wait_until("the change is queued", || {
            engine.snapshot().pattern != first.pattern
        });
        let snap = engine.snapshot();
        assert_eq!(snap.playing, first, "the current cycle plays on unchanged");
        // One cycle of the default scene is a little under 4 s.
        for _ in 0..500 {
            core.process(&mut block);
        }
        wait_until("the queued cycle plays", || {
            let s = engine.snapshot();
            s.status.cycle >= 1 && s.playing.pattern == snap.pattern
        });
    }
}
