//! The live engine thread: applies commands as they come, keeps the audio thread fed and
//! publishes snapshots for the front ends, which never block it and share no lock with it.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;

use super::listen::Listener;
use super::loops::{Cue, FeedbackTurn, LoopFeed, LoopJob};
use super::session::{Action, Entry, SessionLog};
use super::worker::{Done, Job, Worker};
use super::{DeckRequest, Notice, Performance, Playing, Snapshot};
use crate::audio::link::Boxed;
use crate::audio::record::Recorder;
use crate::audio::{AudioHandle, AudioMsg};
use crate::command::{Command, MidiAction};
use crate::loops::LoopSet;
use crate::loops::player::LoopCue;
use crate::midi::input::MidiControl;
use crate::midi::map::{NoteMap, Target};
use crate::midi::out::MidiOut;
use crate::model::registry::{ModelPaths, Models};
use crate::scene::Scene;

/// How often snapshots are published at most.
const SNAPSHOT_PERIOD: Duration = Duration::from_millis(30);
/// How long the engine waits for input before looking at the clock again.
const POLL: Duration = Duration::from_millis(5);

/// What front ends ask of the engine.
#[derive(Debug)]
pub enum Request {
    /// Apply a command.
    Command(Command),
    /// Take over a scene (hot reload): patterns and settings change at the next cycle.
    Scene(Box<Scene>),
    /// Pass a message to the performer (e.g. a scene file that failed to load).
    Notice(Notice),
    /// A scene file a section includes was saved: the section that plays it takes it over
    /// again at the next cycle.
    Include(PathBuf),
    /// The loop library as read again from disk (a set was added or changed).
    Library(Box<crate::loops::library::Library>),
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

/// The engine's share of MIDI: the out scheduler (fed the same plans as the audio thread)
/// and the controls learn / forget act on.
pub struct EngineMidi {
    /// MIDI out, when a port was asked for.
    pub out: Option<MidiOut>,
    /// Bindings, learn mode and the followed clock.
    pub control: Arc<MidiControl>,
    /// Ports in words (for MIDI in, which has no scheduler to report them).
    pub ports: String,
}

impl EngineMidi {
    /// The status line for displays.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        match &self.out {
            Some(out) => {
                let s = out.status();
                parts.push(s.ports);
                if s.clock {
                    parts.push("clock out".into());
                }
                if s.dropped > 0 {
                    parts.push(format!("{} dropped", s.dropped));
                }
            }
            None => parts.push(self.ports.clone()),
        }
        let f = self.control.follow();
        if let Some(bpm) = f.bpm {
            let state = match (f.running, f.locked) {
                (false, _) => "stopped",
                (true, true) => "locked",
                (true, false) => "locking",
            };
            let after = f
                .locked_after
                .map(|t| format!(" after {t} ticks"))
                .unwrap_or_default();
            parts.push(format!("clock in {bpm:.1} BPM {state}{after}"));
        }
        if let Some(t) = self.control.learning() {
            parts.push(format!("learn {t}: move a control"));
        }
        parts.join(" · ")
    }

    fn apply(&self, action: &MidiAction) -> Result<String, String> {
        match action {
            MidiAction::Learn(text) => {
                let target = Target::parse(text).map_err(|e| e.to_string())?;
                let what = if target.range.is_some() {
                    "move a knob or fader"
                } else {
                    "press a key or pad"
                };
                self.control.learn(target);
                Ok(format!("MIDI learn {text}: {what}"))
            }
            MidiAction::Forget(text) => match self.control.forget(text)? {
                0 => Err(format!("no MIDI binding runs {text:?}")),
                n => Ok(format!("forgot {n} MIDI binding(s) of {text:?}")),
            },
            MidiAction::Clock(on) => match &self.out {
                Some(out) => {
                    out.set_clock(*on);
                    Ok(format!("MIDI clock {}", if *on { "on" } else { "off" }))
                }
                None => Err("no MIDI out (start with --midi-out NAME)".into()),
            },
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

/// A change sent to the audio thread whose frame is not known yet.
struct Unplaced {
    first_id: u64,
    action: Action,
}

/// The session so far (for recordings and replay).
struct Session {
    seed: u64,
    scene: Scene,
    entries: Vec<Entry>,
    unplaced: Vec<Unplaced>,
}

/// A recording in progress.
struct Take {
    base: PathBuf,
}

/// What each loop set plays and was last cued, for displays.
#[derive(Default)]
struct LoopsHeard {
    /// Cue applied by the audio thread, with the cycle during which it arrived.
    applied: [Option<(Cue, u64)>; LoopSet::COUNT],
    /// What plays now.
    playing: [Option<String>; LoopSet::COUNT],
}

struct Engine {
    perf: Performance,
    session: Session,
    recorder: Option<Recorder>,
    take: Option<Take>,
    autosave: Option<PathBuf>,
    saved_scene: Option<Scene>,
    playing: Playing,
    pending: Option<Pending>,
    audio: AudioHandle,
    output: String,
    midi: Option<EngineMidi>,
    models: Models,
    model_paths: ModelPaths,
    midi_map: Option<NoteMap>,
    listener: Option<Listener>,
    feed: LoopFeed,
    heard: LoopsHeard,
    on_deck: Option<PathBuf>,
    worker: Worker,
    last_cycle: u64,
    cycle_start: f64,
    ai_ms: f32,
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

    /// Sends the messages of one change together; logs the change with the frame the audio
    /// thread reports for it.
    fn send(&mut self, msgs: &[AudioMsg], action: Option<Action>) {
        if msgs.is_empty() {
            return;
        }
        match self.audio.send_all(msgs) {
            Ok(first_id) => {
                if let Some(out) = self.midi.as_ref().and_then(|m| m.out.as_ref()) {
                    for msg in msgs {
                        if let AudioMsg::Cycle(plan) | AudioMsg::Replan(plan) = msg {
                            out.plan(plan);
                        }
                    }
                }
                if let Some(action) = action {
                    self.session.unplaced.push(Unplaced { first_id, action });
                }
            }
            Err(_) => self.notify(
                false,
                "the audio thread is not keeping up; a change was dropped".into(),
            ),
        }
    }

    /// Sends a loop buffer or a record; logs it with the frame the audio thread takes it at.
    fn send_boxed(&mut self, item: Boxed, action: Action) -> bool {
        match self.audio.send_boxed(item) {
            Ok(first_id) => {
                self.session.unplaced.push(Unplaced { first_id, action });
                true
            }
            Err(_) => {
                self.notify(
                    false,
                    "the audio thread is not keeping up; a loop or record was dropped".into(),
                );
                false
            }
        }
    }

    /// Gives logged changes the frames at which they took effect.
    fn place(&mut self) {
        let cycle = self.audio.status().cycle;
        for (id, frame) in self.audio.applied() {
            if let Some(i) = self.session.unplaced.iter().position(|u| u.first_id == id) {
                let u = self.session.unplaced.remove(i);
                if let Action::Loop(set, cue) = &u.action {
                    self.heard.applied[set.index()] = Some((cue.clone(), cycle));
                }
                self.session.entries.push(Entry {
                    frame,
                    action: u.action,
                });
            }
        }
    }

    /// The queued cycle becomes the playing one once its boundary has passed.
    fn promote(&mut self) {
        let status = self.audio.status();
        if let Some(p) = &self.pending {
            let late = status.late_plans.saturating_sub(p.late_plans);
            if status.cycle > p.sent_cycle + late {
                self.playing = p.playing;
                self.pending = None;
            }
        }
    }

    fn outcome(&mut self, out: super::Outcome, action: Option<Action>) {
        let msgs = self.perf.messages(&out);
        self.send(&msgs, action);
        if out.cycle {
            self.promote();
            let status = self.audio.status();
            self.pending = Some(Pending {
                playing: self.perf.queued(),
                sent_cycle: status.cycle,
                late_plans: status.late_plans,
            });
        }
        self.realize(&out);
    }

    /// Carries out what an outcome asks of the loop sets (cue what changed: a worker prepares
    /// the buffers) and of the deck (a worker decodes the record).
    fn realize(&mut self, out: &super::Outcome) {
        if out.loops || out.cycle {
            for (set, cue) in self.feed.changes(&self.perf) {
                self.feed.cued(set, cue.clone());
                let Some((name, tempo)) = cue else {
                    self.send_boxed(Boxed::Loop(set, LoopCue::Stop), Action::Loop(set, None));
                    continue;
                };
                let job = self
                    .models
                    .library
                    .as_ref()
                    .ok_or_else(|| "no loop library loaded".to_string())
                    .and_then(|lib| {
                        LoopJob::new(lib, set, &name, tempo, self.audio.sample_rate())
                            .map_err(|e| e.to_string())
                    });
                match job {
                    Ok(job) => self.worker.submit(Job::Loop(job)),
                    Err(e) => self.notify(false, format!("{} loop: {e}", set.name())),
                }
            }
        }
        match &out.deck {
            Some(DeckRequest::Load(path)) => self
                .worker
                .submit(Job::Record(path.clone(), self.audio.sample_rate())),
            Some(DeckRequest::Eject) => {
                if self.send_boxed(Boxed::Deck(None), Action::Deck(None)) {
                    self.on_deck = None;
                }
            }
            Some(DeckRequest::Control(_)) | None => {}
        }
        if let Some(index) = out.section {
            self.start_section(index);
        }
    }

    /// A section of the set list starts: its scene takes over, its commands apply.
    fn start_section(&mut self, index: usize) {
        let (scene, commands) = self.perf.section_start(index);
        match scene {
            Ok(Some(scene)) => {
                let action = Action::Scene(Box::new(scene.clone()));
                let out = self.perf.replace_scene(scene);
                self.outcome(out, Some(action));
            }
            Ok(None) => {}
            Err(e) => self.notify(false, format!("{e} — the section goes on without it")),
        }
        for cmd in commands {
            self.command(cmd);
        }
        if let Some(view) = self.perf.section_view() {
            self.notify(
                true,
                format!("section {}/{}: {}", view.index + 1, view.count, view.name),
            );
        }
    }

    /// Hands what the worker prepared to the audio thread.
    fn collect(&mut self) {
        for done in self.worker.finished() {
            match done {
                Done::Loop(set, cue, result) => {
                    if self.feed.current(set) != &cue {
                        continue; // the set wants something else by now
                    }
                    match result {
                        Ok(buffer) => {
                            self.send_boxed(
                                Boxed::Loop(set, LoopCue::Play(buffer)),
                                Action::Loop(set, cue),
                            );
                        }
                        Err(e) => self.notify(false, format!("{} loop: {e}", set.name())),
                    }
                }
                Done::Record(path, Ok(record)) => {
                    let name = record.name.clone();
                    if self.send_boxed(Boxed::Deck(Some(record)), Action::Deck(Some(path.clone())))
                    {
                        self.on_deck = Some(path.clone());
                        self.perf.deck_loaded(path);
                        for cmd in self.perf.deck_commands() {
                            self.command(cmd);
                        }
                        self.notify(true, format!("deck: {name}"));
                    }
                }
                Done::Record(_, Err(e)) => {
                    self.perf.deck_failed(self.on_deck.clone());
                    self.notify(false, format!("deck: {e}; the deck keeps what it had"));
                }
            }
        }
    }

    /// Applies a performer's command.
    fn command(&mut self, cmd: Command) -> bool {
        match self.perf.apply_with(&cmd, &mut self.models) {
            Ok(out) => {
                if out.quit {
                    return false;
                }
                let text = cmd.to_string();
                self.outcome(out, Some(Action::Command(cmd)));
                self.notify(true, text);
            }
            Err(e) => self.notify(false, e.to_string()),
        }
        true
    }

    /// Returns false when the performer quit.
    fn handle(&mut self, request: Request) -> bool {
        match request {
            Request::Command(Command::RecordStart(name)) => self.record_start(&name),
            Request::Command(Command::RecordStop) => self.record_stop(),
            Request::Command(Command::Midi(action)) => {
                let result = match &self.midi {
                    Some(m) => m.apply(&action),
                    None => Err("MIDI is off (start with --midi-out / --midi-in)".into()),
                };
                match result {
                    Ok(text) => self.notify(true, text),
                    Err(text) => self.notify(false, text),
                }
            }
            Request::Command(cmd) => return self.command(cmd),
            Request::Scene(scene) => {
                let name = scene.name.clone();
                let action = Action::Scene(scene.clone());
                let out = self.perf.replace_scene(*scene);
                self.outcome(out, Some(action));
                self.notify(true, format!("scene {name:?} takes over at the next cycle"));
            }
            Request::Notice(n) => self.notify(n.ok, n.text),
            Request::Library(library) => {
                let counts: Vec<String> = LoopSet::ALL
                    .iter()
                    .map(|s| format!("{} {}", s.name(), library.entries(*s).len()))
                    .collect();
                let skipped = library.skipped.len();
                self.models.library = Some(*library);
                self.perf.rank_loops(&mut self.models);
                self.realize(&super::Outcome {
                    loops: true,
                    ..super::Outcome::default()
                });
                let skipped = if skipped > 0 {
                    format!(" ({skipped} skipped)")
                } else {
                    String::new()
                };
                self.notify(
                    true,
                    format!("loop library: {}{skipped}", counts.join(", ")),
                );
            }
            Request::Include(path) => {
                let current = self.perf.section_view().and_then(|v| {
                    let s = self.perf.scene().sections.get(v.index)?;
                    (s.scene.as_deref() == Some(path.as_path())).then_some(v.index)
                });
                match current {
                    Some(index) => self.start_section(index),
                    None => self.notify(
                        true,
                        format!("{} saved; it plays when its section starts", path.display()),
                    ),
                }
            }
        }
        true
    }

    fn record_start(&mut self, name: &Path) {
        if self.take.is_some() {
            self.notify(false, "already recording; `record stop` first".into());
            return;
        }
        let Some(recorder) = &self.recorder else {
            self.notify(false, "recording is not available".into());
            return;
        };
        let base = name.with_extension("");
        match recorder.start(&base.with_extension("wav")) {
            Ok(()) => {
                self.notify(true, format!("recording to {}.wav", base.display()));
                self.take = Some(Take { base });
            }
            Err(e) => self.notify(false, format!("cannot record: {e}")),
        }
    }

    fn record_stop(&mut self) {
        let Some(take) = self.take.take() else {
            self.notify(false, "not recording".into());
            return;
        };
        // Let the audio thread report the frames of the last changes.
        let deadline = Instant::now() + Duration::from_millis(200);
        while !self.session.unplaced.is_empty() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
            self.place();
        }
        let stopped = match &self.recorder {
            Some(recorder) => recorder.stop(),
            None => Err("recording is not available".into()),
        };
        match stopped {
            Ok(rec) => self.finish_take(&take, &rec, None),
            Err(e) => self.notify(false, format!("recording failed: {e}")),
        }
    }

    /// A recording the writer had to end (a full disk): keep what reached the disk, say so.
    fn check_recorder(&mut self) {
        let Some(failure) = self.recorder.as_ref().and_then(Recorder::failure) else {
            return;
        };
        let Some(take) = self.take.take() else {
            return;
        };
        match failure.kept {
            Some(rec) => self.finish_take(&take, &rec, Some(&failure.reason)),
            None => self.notify(
                false,
                format!("recording stopped: {}; the set plays on", failure.reason),
            ),
        }
    }

    /// Writes a take's log, scene and MIDI beside its WAV file and tells the performer.
    fn finish_take(
        &mut self,
        take: &Take,
        rec: &crate::audio::record::Recording,
        failed: Option<&str>,
    ) {
        self.place();
        let log = SessionLog {
            sample_rate: self.audio.sample_rate(),
            seed: self.session.seed,
            scene: self.session.scene.clone(),
            record_from: rec.start_frame,
            end: rec.start_frame + rec.frames,
            entries: self.session.entries.clone(),
        };
        let log_path = take.base.with_extension("log");
        let scene_path = take.base.with_extension("ron");
        let written = crate::files::write_atomic(&log_path, log.to_text().as_bytes())
            .and_then(|()| self.perf.scene().save(&scene_path));
        let secs = rec.frames as f64 / f64::from(self.audio.sample_rate());
        match (written, failed) {
            (Ok(()), None) => {
                let lost = if rec.dropped > 0 {
                    format!(" ({} frames lost: disk too slow)", rec.dropped)
                } else {
                    String::new()
                };
                self.notify(
                    rec.dropped == 0,
                    format!(
                        "recorded {} ({secs:.1} s){lost}; `ubiq replay {}` renders it again",
                        rec.path.display(),
                        log_path.display()
                    ),
                );
                self.write_take_midi(log, take.base.with_extension("mid"));
            }
            (Ok(()), Some(reason)) => {
                self.notify(
                    false,
                    format!(
                        "recording stopped ({reason}): {} keeps the first {secs:.1} s, {} replays it; the set plays on",
                        rec.path.display(),
                        log_path.display()
                    ),
                );
                self.write_take_midi(log, take.base.with_extension("mid"));
            }
            (Err(e), _) => self.notify(
                false,
                format!(
                    "{} keeps {secs:.1} s, but {} could not be written: {e}",
                    rec.path.display(),
                    log_path.display()
                ),
            ),
        }
    }

    /// Writes the MIDI of a take on the worker: the log replayed offline (the same sequencer
    /// and note map as MIDI out), atomically.
    fn write_take_midi(&self, log: SessionLog, path: PathBuf) {
        let Some(map) = self.midi_map.clone() else {
            return;
        };
        let paths = self.model_paths.clone();
        let notices = self.notices.clone();
        self.worker.submit(Job::Run(Box::new(move || {
            let (mut models, _) = paths.load();
            let rendered = log.replay(&mut models);
            let events = crate::render::midi_of(&rendered, &map);
            let written =
                crate::render::write_midi(&path, &events, log.scene.tempo, log.sample_rate);
            let notice = match written {
                Ok(()) => Notice {
                    ok: true,
                    text: format!("wrote {} ({} MIDI messages)", path.display(), events.len()),
                },
                Err(e) => Notice {
                    ok: false,
                    text: e.to_string(),
                },
            };
            let _ = notices.send(notice);
        })));
    }

    /// Saves the state if it changed since the last save (atomically).
    fn autosave(&mut self) {
        let Some(path) = &self.autosave else { return };
        if self.saved_scene.as_ref() == Some(self.perf.scene()) {
            return;
        }
        let written = path
            .parent()
            .map_or(Ok(()), std::fs::create_dir_all)
            .and_then(|()| self.perf.scene().save(path));
        match written {
            Ok(()) => self.saved_scene = Some(self.perf.scene().clone()),
            Err(e) => {
                let text = format!("cannot autosave to {}: {e}", path.display());
                self.autosave = None;
                self.notify(false, text);
            }
        }
    }

    /// At each new cycle the AI has its turn: it listens to the cycle that just ended (with
    /// the feedback loop on) and writes the cycle after this one, a whole cycle ahead of its
    /// boundary.
    fn on_cycle(&mut self) {
        let status = self.audio.status();
        if !status.playing || status.cycle == self.last_cycle {
            return;
        }
        let began = Instant::now();
        self.last_cycle = status.cycle;
        let previous = std::mem::replace(&mut self.cycle_start, status.cycle_start);
        for set in LoopSet::ALL {
            if let Some((cue, at)) = &self.heard.applied[set.index()]
                && *at < status.cycle
            {
                self.heard.playing[set.index()] = cue.as_ref().map(|(n, _)| n.clone());
            }
        }
        let heard = if self.perf.scene().ai.feedback {
            self.hear(previous, status.cycle_start)
        } else {
            None
        };
        let out = self
            .perf
            .tick(status.cycle, &mut self.models, heard.as_ref());
        self.outcome(out, Some(Action::Cycle(status.cycle, heard)));
        self.ai_ms = began.elapsed().as_secs_f32() * 1000.0;
    }

    /// Listens to the cycle that just ended (frames `from..to` of the output).
    fn hear(&mut self, from: f64, to: f64) -> Option<FeedbackTurn> {
        let listener = self.listener.as_mut()?;
        listener.drain();
        let heard = listener.span(from.max(0.0) as u64, to as u64)?;
        let (turn, ranked) = self.perf.listen(&mut self.models, &heard)?;
        self.perf.heard(ranked);
        Some(turn)
    }

    fn publish(&mut self) {
        self.place();
        self.promote();
        let status = self.audio.status();
        let mut snap = self
            .perf
            .snapshot(status, self.playing, &self.output, self.notice.clone());
        snap.composing = self.models.rhythm.is_some();
        snap.latent_map = self.models.latent_map();
        snap.library = self.models.library.is_some();
        snap.ai_ms = self.ai_ms;
        for view in &mut snap.loops {
            view.playing = self.heard.playing[view.set.index()].clone();
        }
        if let Some(m) = &self.midi {
            snap.midi = m.describe();
        }
        self.snapshot.store(Arc::new(snap));
    }

    fn run(mut self, requests: Receiver<Request>, stop: &AtomicBool) {
        let first = self.perf.start_messages();
        self.send(&first, Some(Action::Start));
        self.perf.rank_loops(&mut self.models);
        let deck = self.perf.scene().deck.file.clone().map(DeckRequest::Load);
        self.realize(&super::Outcome {
            loops: true,
            deck,
            ..super::Outcome::default()
        });
        let sections = self.perf.start_sections();
        self.realize(&sections);
        let mut published = Instant::now();
        let mut saved = Instant::now();
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
            if let Some(l) = &mut self.listener {
                l.drain();
            }
            self.on_cycle();
            self.collect();
            self.check_recorder();
            self.audio.reclaim();
            if published.elapsed() >= SNAPSHOT_PERIOD {
                self.publish();
                published = Instant::now();
            }
            if saved.elapsed() >= AUTOSAVE_PERIOD {
                self.autosave();
                saved = Instant::now();
            }
        }
        if self.take.is_some() {
            self.record_stop();
        }
        self.autosave();
        self.publish();
    }
}

/// How the engine runs.
#[derive(Debug, Clone, Default)]
pub struct EngineOptions {
    /// The audio output in words (for displays).
    pub output: String,
    /// Seed of the audio graph (written into session logs).
    pub seed: u64,
    /// Where the state is saved after changes and on quit, so a crash loses nothing.
    pub autosave: Option<PathBuf>,
    /// Where the models came from (a recording's MIDI file is written from a replay with the
    /// same models).
    pub models: ModelPaths,
    /// Note map of recordings' MIDI files (General MIDI when none).
    pub midi_map: Option<NoteMap>,
}

/// How long after a change the state is saved at the latest.
const AUTOSAVE_PERIOD: Duration = Duration::from_secs(2);

/// Starts the engine thread on a performance and an audio link.
pub fn spawn(
    perf: Performance,
    mut audio: AudioHandle,
    options: EngineOptions,
    midi: Option<EngineMidi>,
    models: Models,
) -> std::io::Result<EngineHandle> {
    let EngineOptions {
        output,
        seed,
        autosave,
        models: model_paths,
        midi_map,
    } = options;
    let sample_rate = audio.sample_rate();
    let recorder = match audio.take_tap() {
        Some(tap) => Some(Recorder::spawn(tap, sample_rate)?),
        None => None,
    };
    let listener = audio
        .take_listen()
        .map(|tap| Listener::new(tap, sample_rate));
    let (req_tx, req_rx) = mpsc::channel();
    let (note_tx, note_rx) = mpsc::channel();
    let first = perf.snapshot(audio.status(), perf.queued(), &output, None);
    let engine = Engine {
        session: Session {
            seed,
            scene: perf.scene().clone(),
            entries: Vec::new(),
            unplaced: Vec::new(),
        },
        recorder,
        take: None,
        autosave,
        saved_scene: None,
        playing: perf.queued(),
        pending: None,
        perf,
        audio,
        output,
        midi,
        models,
        model_paths,
        midi_map: midi_map.or_else(|| NoteMap::shipped("gm")),
        listener,
        feed: LoopFeed::default(),
        heard: LoopsHeard::default(),
        on_deck: None,
        worker: Worker::spawn()?,
        last_cycle: 0,
        cycle_start: 0.0,
        ai_ms: 0.0,
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
        let options = EngineOptions {
            output: "test".into(),
            ..EngineOptions::default()
        };
        let engine = spawn(perf, audio, options, None, Models::none()).unwrap();
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

    #[test]
    fn an_accelerated_set_with_feedback_and_loops_misses_no_boundary() {
        let (models, problems) = Models::embedded();
        assert!(problems.is_empty(), "{problems:?}");
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("loops");
        let models = models.with_library(Some(crate::loops::library::Library::open(&root)));
        let scene = Scene::from_ron(
            "Scene(tempo: 180, ai: (every: 1, feedback: true), loops: (music: (on: true), rhythm: (on: true)))",
            std::path::Path::new("fast.ron"),
        )
        .unwrap();
        let (audio, mut core) = crate::audio::link(48_000, 1);
        let engine = spawn(
            Performance::new(scene),
            audio,
            EngineOptions::default(),
            None,
            models,
        )
        .unwrap();
        // Eight times faster than real time: a cycle of 2.7 s passes in a third of a second.
        let mut block = vec![0.0; 2 * 512];
        let started = Instant::now();
        let mut frames = 0u64;
        while engine.snapshot().status.cycle < 12 {
            assert!(started.elapsed() < Duration::from_secs(60), "too slow");
            core.process(&mut block);
            frames += 512;
            let due = Duration::from_secs_f64(frames as f64 / 48_000.0 / 8.0);
            if let Some(wait) = due.checked_sub(started.elapsed()) {
                std::thread::sleep(wait);
            }
        }
        let snap = engine.snapshot();
        assert_eq!(snap.status.late_plans, 0, "a cycle missed its boundary");
        assert!(snap.feedback.is_some(), "the feedback loop listened");
        let music = &snap.loops[0];
        assert!(music.playing.is_some(), "a music loop plays: {music:?}");
        assert!(snap.ai_ms > 0.0);
    }
}
