//! The live engine thread: applies commands as they come, keeps the audio thread fed and
//! publishes snapshots for the front ends, which never block it and share no lock with it.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;

use super::conductor::{Conductor, Report, Stage};
use super::listen::Listener;
use super::loops::{Cue, LoopJob};
use super::recover::OpenTakes;
use super::session::Action;
use super::stall::StallWatch;
use super::take::{SessionRecord, Take, Takes};
use super::worker::{Done, Job, Worker};
use crate::audio::deck::DeckBuffer;
use crate::audio::kit::SampleKit;
use crate::audio::link::Boxed;
use crate::audio::loop_player::LoopBuffer;
use crate::audio::output::OutputChange;
use crate::audio::record::{Recorder, Recording};
use crate::audio::{AudioHandle, AudioMsg};
use crate::command::{Command, MidiAction, SessionCommand, Target};
use crate::kit::KitError;
use crate::loops::{LoopError, LoopSet};
use crate::midi::input::MidiControl;
use crate::midi::map::NoteMap;
use crate::midi::out::MidiOut;
use crate::model::registry::{ModelPaths, Models};
use crate::performance::{Outcome, Performance, Playing};
use crate::scene::Scene;
use crate::snapshot::{Notice, Snapshot};

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
    /// The audio device went away (the silent clock keeps time) or came back: the displays
    /// show it, and the performer reads it in one line.
    Output(OutputChange),
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

    /// Carries out a `midi …` command.
    fn apply(&self, action: &MidiAction) -> Notice {
        match action {
            MidiAction::Learn(text) => {
                let target = match Target::parse(text) {
                    Ok(t) => t,
                    Err(e) => return Notice::refused(e.to_string()),
                };
                let what = if target.range.is_some() {
                    "move a knob or fader"
                } else {
                    "press a key or pad"
                };
                self.control.learn(target);
                Notice::done(format!("MIDI learn {text}: {what}"))
            }
            MidiAction::Forget(text) => match self.control.forget(text) {
                Err(e) => Notice::refused(e.to_string()),
                Ok(0) => Notice::refused(format!("no MIDI binding runs {text:?}")),
                Ok(n) => Notice::done(format!("forgot {n} MIDI binding(s) of {text:?}")),
            },
            MidiAction::Clock(on) => match &self.out {
                Some(out) => {
                    out.set_clock(*on);
                    Notice::done(format!("MIDI clock {}", if *on { "on" } else { "off" }))
                }
                None => Notice::refused("no MIDI out (start with --midi-out NAME)"),
            },
        }
    }
}

/// A cycle sent to the audio thread that has not started yet.
struct Pending {
    playing: Playing,
    /// The audio thread's cycle count when it was sent.
    sent_cycle: u64,
    /// The deferred-plan count when it was sent (a late plan starts one cycle later).
    late_plans: u64,
}

/// What each loop set plays and was last cued, for displays.
#[derive(Default)]
struct LoopsHeard {
    /// Cue applied by the audio thread, with the cycle during which it arrived.
    applied: [Option<(Cue, u64)>; LoopSet::COUNT],
    /// What plays now.
    playing: [Option<String>; LoopSet::COUNT],
}

/// The live stage: the audio thread fed through its lock-free link, loop buffers and records
/// prepared by a worker thread, MIDI out fed the same plans, takes recorded, the performer
/// told what happened through notices and snapshots.
pub struct LiveStage {
    audio: AudioHandle,
    models: Models,
    output: String,
    silent: bool,
    midi: Option<EngineMidi>,
    session: SessionRecord,
    takes: Takes,
    playing: Playing,
    pending: Option<Pending>,
    heard: LoopsHeard,
    worker: Worker,
    last_cycle: u64,
    ai_ms: f32,
    notices: Sender<Notice>,
    notice: Option<Notice>,
    snapshot: Arc<ArcSwap<Snapshot>>,
    clock: StallWatch,
}

impl LiveStage {
    /// Counts the cycle boundaries lost while the audio stood still (a stop, a stall, a
    /// frozen device clock).
    fn watch_clock(&mut self) {
        let status = self.audio.status();
        let lost = self.clock.look(Instant::now(), &status);
        if lost > 0 {
            self.audio.shared().count_missed(lost);
        }
    }

    fn notify(&mut self, n: Notice) {
        self.notice = Some(n.clone());
        let _ = self.notices.send(n);
    }

    /// Gives logged changes the frames at which they took effect.
    fn place(&mut self) {
        let cycle = self.audio.status().cycle;
        for (id, frame) in self.audio.applied() {
            if let Some(Action::Loop(set, cue)) = self.session.applied(id, frame) {
                self.heard.applied[set.index()] = Some((cue.clone(), cycle));
            }
        }
    }

    /// The queued cycle becomes the playing one once its boundary has passed.
    fn promote(&mut self) {
        let status = self.audio.status();
        if let Some(p) = &self.pending {
            let late = status.deferred_plans.saturating_sub(p.late_plans);
            if status.cycle > p.sent_cycle + late {
                self.playing = p.playing;
                self.pending = None;
            }
        }
    }

    fn record_stop(&mut self, perf: &Performance) {
        if !self.takes.recording() {
            self.notify(Notice::refused("not recording"));
            return;
        }
        // Let the audio thread report the frames of the last changes.
        let deadline = Instant::now() + Duration::from_millis(200);
        while self.session.has_unplaced() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
            self.place();
        }
        let n = match self.takes.stop() {
            Ok((take, rec)) => self.finish_take(take, &rec, None, perf),
            Err(n) => n,
        };
        self.notify(n);
    }

    /// A recording the writer had to end (a full disk): keep what reached the disk, say so.
    fn check_recorder(&mut self, perf: &Performance) {
        let n = match self.takes.failed() {
            None => return,
            Some(Ok((take, rec, reason))) => self.finish_take(take, &rec, Some(&reason), perf),
            Some(Err(n)) => n,
        };
        self.notify(n);
    }

    /// Writes a take's files once every change sent so far has its frame.
    fn finish_take(
        &mut self,
        take: Take,
        rec: &Recording,
        failed: Option<&str>,
        perf: &Performance,
    ) -> Notice {
        self.place();
        let rate = self.audio.sample_rate();
        self.takes.finish(
            (take, rec, failed),
            &self.session,
            rate,
            perf.scene(),
            &self.worker,
        )
    }
}

impl Stage for LiveStage {
    fn models(&mut self) -> &mut Models {
        &mut self.models
    }

    fn sample_rate(&self) -> u32 {
        self.audio.sample_rate()
    }

    /// Sends the messages of one change together (and the plans to MIDI out); logs the
    /// change with the frame the audio thread reports for it. A change with no message (a
    /// setting the AI reads at its next turn) sends a mark, so that it is logged in its place
    /// and a replay of the take composes what was composed live.
    fn send(&mut self, msgs: &[AudioMsg], action: Action) {
        let msgs = if msgs.is_empty() {
            &[AudioMsg::Mark]
        } else {
            msgs
        };
        match self.audio.send_all(msgs) {
            Ok(first_id) => {
                if let Some(out) = self.midi.as_ref().and_then(|m| m.out.as_ref()) {
                    for msg in msgs {
                        if let AudioMsg::Cycle(plan) | AudioMsg::Replan(plan) = msg {
                            out.plan(plan);
                        }
                    }
                }
                self.session.sent(first_id, action);
            }
            Err(_) => self.notify(Notice::refused(
                "the audio thread is not keeping up; a change was dropped",
            )),
        }
    }

    fn queued(&mut self, playing: Playing) {
        self.promote();
        let status = self.audio.status();
        self.pending = Some(Pending {
            playing,
            sent_cycle: status.cycle,
            late_plans: status.deferred_plans,
        });
    }

    fn hand_over(&mut self, item: Boxed, action: Action) -> bool {
        match self.audio.send_boxed(item) {
            Ok(first_id) => {
                self.session.sent(first_id, action);
                true
            }
            Err(_) => {
                self.notify(Notice::refused(
                    "the audio thread is not keeping up; a loop or record was dropped",
                ));
                false
            }
        }
    }

    fn prepare_loop(&mut self, job: LoopJob) -> Option<Result<Box<LoopBuffer>, LoopError>> {
        self.worker.submit(Job::Loop(job));
        None
    }

    fn prepare_record(&mut self, path: &Path) -> Option<Result<Box<DeckBuffer>, LoopError>> {
        let rate = self.audio.sample_rate();
        self.worker.submit(Job::Record(path.to_path_buf(), rate));
        None
    }

    fn prepare_kit(
        &mut self,
        wanted: Option<PathBuf>,
        dir: &Path,
    ) -> Option<Result<Box<SampleKit>, KitError>> {
        let rate = self.audio.sample_rate();
        self.worker
            .submit(Job::Kit(wanted, dir.to_path_buf(), rate));
        None
    }

    fn session(&mut self, cmd: SessionCommand, perf: &Performance) -> bool {
        match cmd {
            SessionCommand::Quit => return false,
            SessionCommand::RecordStart(name) => {
                let rate = self.audio.sample_rate();
                let n = self.takes.start(&name, &self.session, (rate, perf.scene()));
                self.notify(n);
            }
            SessionCommand::RecordStop => self.record_stop(perf),
            SessionCommand::Midi(action) => {
                let n = match &self.midi {
                    Some(m) => m.apply(&action),
                    None => Notice::refused("MIDI is off (start with --midi-out / --midi-in)"),
                };
                self.notify(n);
            }
        }
        true
    }

    fn report(&mut self, report: Report) {
        let n = match report {
            Report::Applied(cmd) => Notice::done(cmd.to_string()),
            Report::Refused(_, e) => Notice::refused(e.to_string()),
            Report::SceneTookOver(name) => {
                Notice::done(format!("scene {name:?} takes over at the next cycle"))
            }
            Report::SectionStarted(view) => Notice::done(format!(
                "section {}/{}: {}",
                view.index + 1,
                view.count,
                view.name
            )),
            Report::SectionFailed(e) => {
                Notice::refused(format!("{e} — the section goes on without it"))
            }
            Report::LoopFailed(set, e) => Notice::refused(format!("{} loop: {e}", set.name())),
            Report::NoLibrary(set) => {
                Notice::refused(format!("{} loop: no loop library loaded", set.name()))
            }
            Report::DeckLoaded(name) => Notice::done(format!("deck: {name}")),
            Report::DeckFailed(e) => {
                Notice::refused(format!("deck: {e}; the deck keeps what it had"))
            }
            Report::KitLoaded(name) => Notice::done(format!(
                "kit {}: plays from the next cycle",
                crate::text::escape(&name)
            )),
            Report::KitFailed(e) => Notice::refused(format!("kit: {e}; the kit that plays stays")),
            Report::UnknownModel { scene, name, have } => Notice::refused(format!(
                "scene {scene:?}: no rhythm model {name} (the bank holds: {have}); {} plays",
                have.split(',').next().unwrap_or_default()
            )),
        };
        self.notify(n);
    }
}

/// The live engine: a [`Conductor`] on the [`LiveStage`].
type Engine = Conductor<LiveStage>;

impl Engine {
    /// Hands what the worker prepared to the audio thread.
    fn collect(&mut self) {
        for done in self.stage.worker.finished() {
            match done {
                Done::Loop(set, cue, result) => self.loop_ready(set, cue, result),
                Done::Record(path, result) => self.record_ready(path, result),
                Done::Kit(wanted, dir, result) => self.kit_ready(wanted, dir, result),
            }
        }
    }

    /// Returns false when the performer quit.
    fn handle(&mut self, request: Request) -> bool {
        match request {
            Request::Command(cmd) => return self.command(cmd),
            Request::Scene(scene) => self.take_scene(*scene),
            Request::Notice(n) => self.stage.notify(n),
            Request::Output(change) => {
                self.stage.output = change.output();
                self.stage.notify(match change {
                    OutputChange::Lost { .. } => Notice::refused(change.message()),
                    OutputChange::Back { .. } => Notice::done(change.message()),
                });
            }
            Request::Library(mut library) => {
                // A set whose index no longer reads keeps the loops it had: the performer
                // hears what played before, and the other sets' changes still arrive.
                if let Some(last) = &self.stage.models.library {
                    library.keep_refused_from(last);
                }
                let counts: Vec<String> = LoopSet::ALL
                    .iter()
                    .map(|s| format!("{} {}", s.name(), library.entries(*s).len()))
                    .collect();
                let notice = library_notice(&library, &counts);
                self.stage.models.library = Some(*library);
                self.perf.rank_loops(&mut self.stage.models);
                self.realize(&Outcome {
                    loops: true,
                    ..Outcome::default()
                });
                self.stage.notify(notice);
            }
            Request::Include(path) => {
                let current = self.perf.section_view().and_then(|v| {
                    let s = self.perf.scene().sections.get(v.index)?;
                    (s.scene.as_deref() == Some(path.as_path())).then_some(v.index)
                });
                match current {
                    Some(index) => self.realize(&Outcome {
                        section: Some(index),
                        ..Outcome::default()
                    }),
                    None => self.stage.notify(Notice::done(format!(
                        "{} saved; it plays when its section starts",
                        path.display()
                    ))),
                }
            }
        }
        true
    }

    /// At each new cycle the AI has its turn: it listens to the cycle that just ended (with
    /// the feedback loop on) and writes the cycle after this one, a whole cycle ahead of its
    /// boundary.
    fn on_cycle(&mut self) {
        let status = self.stage.audio.status();
        if !status.playing || status.cycle == self.stage.last_cycle {
            return;
        }
        let began = Instant::now();
        self.stage.last_cycle = status.cycle;
        let heard = &mut self.stage.heard;
        for set in LoopSet::ALL {
            if let Some((cue, at)) = &heard.applied[set.index()]
                && *at < status.cycle
            {
                heard.playing[set.index()] = cue.as_ref().map(|c| c.name.clone());
            }
        }
        self.turn(&status);
        // From here on the audio thread counts a boundary it reaches before this as late.
        self.stage.audio.shared().turned(status.cycle);
        self.stage.ai_ms = began.elapsed().as_secs_f32() * 1000.0;
    }

    fn publish(&mut self) {
        let stage = &mut self.stage;
        stage.place();
        stage.promote();
        let status = stage.audio.status();
        let mut snap = Snapshot::of(
            &self.perf,
            status,
            stage.playing,
            &stage.output,
            stage.notice.clone(),
        );
        snap.silent = stage.silent;
        let model = self.perf.scene().ai.model;
        snap.composing = stage.models.rhythm.playing(model).is_some();
        snap.latent_map = stage.models.latent_map(model);
        snap.library = stage.models.library.is_some();
        snap.ai_ms = stage.ai_ms;
        snap.loudness = self.listener.as_ref().and_then(Listener::loudness);
        for view in &mut snap.loops {
            view.playing = stage.heard.playing[view.set.index()].clone();
        }
        if let Some(m) = &stage.midi {
            snap.midi = m.describe();
        }
        stage.snapshot.store(Arc::new(snap));
    }

    fn autosave(&mut self) {
        if let Some(n) = self.stage.takes.autosave(self.perf.scene()) {
            self.stage.notify(n);
        }
    }

    fn run(mut self, requests: Receiver<Request>, stop: &AtomicBool) {
        self.start();
        self.stage.audio.shared().turned(self.stage.last_cycle);
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
            self.stage.watch_clock();
            self.on_cycle();
            self.collect();
            self.stage.place();
            if let Some(n) = self.stage.takes.keep(&self.stage.session) {
                self.stage.notify(n);
            }
            self.stage.check_recorder(&self.perf);
            self.stage.audio.reclaim();
            if published.elapsed() >= SNAPSHOT_PERIOD {
                self.publish();
                published = Instant::now();
            }
            if saved.elapsed() >= AUTOSAVE_PERIOD {
                self.autosave();
                saved = Instant::now();
            }
        }
        if self.stage.takes.recording() {
            self.stage.record_stop(&self.perf);
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
    /// No device plays (the silent clock): the front ends report no xruns.
    pub silent: bool,
    /// Seed of the audio graph (written into session logs).
    pub seed: u64,
    /// Where the state is saved after changes and on quit, so a crash loses nothing.
    pub autosave: Option<PathBuf>,
    /// Where the models came from (a recording's MIDI file is written from a replay with the
    /// same models).
    pub models: ModelPaths,
    /// Note map of recordings' MIDI files (General MIDI when none).
    pub midi_map: Option<NoteMap>,
    /// Where the takes being recorded are noted, so the next start recovers what a crash
    /// interrupted.
    pub open_takes: Option<OpenTakes>,
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
        silent,
        seed,
        autosave,
        models: model_paths,
        midi_map,
        open_takes,
    } = options;
    let sample_rate = audio.sample_rate();
    let recorder = match audio.take_tap() {
        Some(tap) => Some(Recorder::spawn(tap, sample_rate)?),
        None => None,
    };
    let listener = audio
        .take_listen()
        .map(|tap| Listener::new(tap, sample_rate).metered(sample_rate));
    let (req_tx, req_rx) = mpsc::channel();
    let (note_tx, note_rx) = mpsc::channel();
    let mut first = Snapshot::of(&perf, audio.status(), perf.queued(), &output, None);
    first.silent = silent;
    let stage = LiveStage {
        session: SessionRecord::new(seed, audio.start_lead(), perf.scene().clone()),
        takes: Takes::new(
            recorder,
            (autosave, open_takes),
            (midi_map.or_else(|| NoteMap::shipped("gm")), model_paths),
            note_tx.clone(),
        ),
        playing: perf.queued(),
        pending: None,
        audio,
        output,
        silent,
        midi,
        models,
        heard: LoopsHeard::default(),
        worker: Worker::spawn()?,
        last_cycle: 0,
        ai_ms: 0.0,
        notices: note_tx,
        notice: None,
        snapshot: Arc::new(ArcSwap::from_pointee(first)),
        clock: StallWatch::new(Instant::now()),
    };
    let snapshot = Arc::clone(&stage.snapshot);
    let engine = Engine::new(perf, listener, stage);
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

/// What the performer reads when the library was read again: the loops per set, or, when a
/// set's index was refused, why, and that the set keeps its last good loops.
fn library_notice(library: &crate::loops::library::Library, counts: &[String]) -> Notice {
    let refused = library.refused();
    if refused.is_empty() {
        let skipped = match library.skipped.len() {
            0 => String::new(),
            n => format!(" ({n} skipped)"),
        };
        return Notice::done(format!("loop library: {}{skipped}", counts.join(", ")));
    }
    let reasons: Vec<&str> = refused.iter().map(|(_, why)| *why).collect();
    let sets: Vec<&str> = refused.iter().map(|(s, _)| s.name()).collect();
    let keep = if sets.len() == 1 {
        "keeps its"
    } else {
        "keep their"
    };
    Notice::refused(format!(
        "loop library: {} — refused; {} {keep} last good loops ({})",
        reasons.join("; "),
        sets.join(" and "),
        counts.join(", ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::command::parse;
    use crate::scene::library::default_scene;

    fn wait_until(what: &str, mut ok: impl FnMut() -> bool) {
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
            silent: true,
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
    fn a_set_list_cannot_start_a_recording() {
        // A scene is data, perhaps someone else's: its set list changes the music, but the
        // session (recording, MIDI, quitting) is the performer's alone.
        let dir = tempfile::tempdir().unwrap();
        let take = dir.path().join("from-the-scene");
        let text = format!(
            "Scene(sections: [(bars: 2, commands: [\"record start {}\", \"tempo 130\"])])",
            take.display()
        );
        let scene = Scene::from_ron(&text, Path::new("set.ron")).unwrap();
        let (audio, mut core) = crate::audio::link(48_000, 1);
        let engine = spawn(
            Performance::new(scene),
            audio,
            EngineOptions::default(),
            None,
            Models::none(),
        )
        .unwrap();
        let mut block = vec![0.0; 2 * 480];
        let mut notices = Vec::new();
        wait_until("the section starts", || {
            core.process(&mut block);
            notices.extend(engine.notices());
            notices.iter().any(|n| n.text.starts_with("section 1/1"))
        });
        assert!(
            notices
                .iter()
                .any(|n| !n.ok && n.text.contains("only the performer can run it")),
            "{notices:?}"
        );
        assert!(notices.iter().any(|n| n.ok && n.text == "tempo 130"));
        assert!(!take.with_extension("wav").exists(), "the scene recorded");
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

    #[test]
    fn a_library_read_again_with_a_corrupt_set_keeps_that_sets_loops_and_says_why() {
        use crate::loops::library::fixtures::write_sets;
        use crate::loops::library::{INDEX_FILE, Library};
        let dir = tempfile::tempdir().unwrap();
        write_sets(dir.path(), &[LoopSet::Music, LoopSet::Voice]);
        let models = Models::none().with_library(Some(Library::open(dir.path())));
        let (audio, _core) = crate::audio::link(48_000, 1);
        let engine = spawn(
            Performance::new(default_scene()),
            audio,
            EngineOptions::default(),
            None,
            models,
        )
        .unwrap();
        let index = dir.path().join("music").join(INDEX_FILE);
        std::fs::write(&index, "(version: 1, entries: [(").unwrap();
        std::fs::remove_file(dir.path().join("voice").join(INDEX_FILE)).unwrap();
        let again = Library::open(dir.path());
        assert!(
            engine
                .sender()
                .send(Request::Library(Box::new(again)))
                .is_ok()
        );
        wait_until("the reload is reported", || {
            engine.snapshot().notice.as_ref().is_some_and(|n| !n.ok)
        });
        let notice = engine.snapshot().notice.clone().unwrap();
        assert!(
            notice.text.contains(&index.display().to_string()),
            "{notice:?}"
        );
        assert!(
            notice.text.contains("music keeps its last good loops"),
            "{notice:?}"
        );
        assert!(
            notice.text.contains("music 1, ambient 0, voice 0"),
            "{notice:?}"
        );
    }
}
