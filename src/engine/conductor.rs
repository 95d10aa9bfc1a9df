//! The conductor: the one lifecycle every performance goes through, on stage or offline.
//!
//! A command (or a scene, a section, the AI's turn at a cycle boundary) changes the
//! [`Performance`]; the [`Outcome`] says what that means for the sound; the conductor sends
//! the audio thread its messages, cues the loops that changed, loads records for the deck and
//! starts sections. What differs between the two ways of running — the live engine's worker
//! threads, channels and snapshots, or the offline frame loop with its loop cache — is a
//! [`Stage`]; the lifecycle itself is written once, here, so that what a render or a replay
//! plays is what the stage played.

use std::path::{Path, PathBuf};

use super::listen::Listener;
use super::loops::{Cue, LoopFeed, LoopJob};
use super::session::Action;
use crate::audio::deck::DeckBuffer;
use crate::audio::kit::SampleKit;
use crate::audio::link::Boxed;
use crate::audio::loop_player::{LoopBuffer, LoopCue};
use crate::audio::{AudioMsg, Status};
use crate::command::{Command, ModelName, SessionCommand};
use crate::kit::KitError;
use crate::loops::{LoopError, LoopSet};
use crate::model::registry::Models;
use crate::performance::DeckRequest;
use crate::performance::loops::FeedbackTurn;
use crate::performance::sections::SectionView;
use crate::performance::{ApplyError, Outcome, Performance, Playing};
use crate::scene::{Scene, SceneError};

/// What happened, for the stage to tell the performer (live) or to count (offline).
#[derive(Debug)]
pub enum Report {
    /// A command was applied.
    Applied(Command),
    /// A command was refused; nothing changed.
    Refused(Command, ApplyError),
    /// A scene took over (it sounds from the next cycle).
    SceneTookOver(String),
    /// A section of the set list started.
    SectionStarted(SectionView),
    /// A section's scene could not be loaded; the section goes on without it.
    SectionFailed(SceneError),
    /// A loop set's loop could not be prepared.
    LoopFailed(LoopSet, String),
    /// A loop set wants a loop but there is no library.
    NoLibrary(LoopSet),
    /// A record went on the deck (its name).
    DeckLoaded(String),
    /// A record could not be loaded; the deck keeps what it had.
    DeckFailed(LoopError),
    /// A drum kit was handed over (its name; `synth` for the synthesized voices); it plays
    /// from the next cycle boundary.
    KitLoaded(String),
    /// A drum kit could not be loaded; the one that plays stays.
    KitFailed(KitError),
    /// A scene names a rhythm model the bank does not hold; the bank's first plays.
    UnknownModel {
        /// The scene's name.
        scene: String,
        /// The model it names.
        name: ModelName,
        /// The names the bank holds, first the one that plays.
        have: String,
    },
}

/// How a performance reaches the sound: what the live engine and an offline run do
/// differently. Everything else is the [`Conductor`]'s.
pub trait Stage {
    /// The models the performance composes with.
    fn models(&mut self) -> &mut Models;
    /// The audio graph's sample rate.
    fn sample_rate(&self) -> u32;
    /// Sends the messages of one change to the audio thread; `action` is what the session
    /// log records for it.
    fn send(&mut self, msgs: &[AudioMsg], action: Action);
    /// A new cycle has been sent (after its messages): what it carries.
    fn queued(&mut self, _playing: Playing) {}
    /// Hands a prepared loop buffer or record to the audio thread, logged as `action`; false
    /// when it could not be handed over.
    fn hand_over(&mut self, item: Boxed, action: Action) -> bool;
    /// Prepares a loop buffer: the result when it is ready at once, `None` when it arrives
    /// later (through [`Conductor::loop_ready`]).
    fn prepare_loop(&mut self, job: LoopJob) -> Option<Result<Box<LoopBuffer>, LoopError>>;
    /// Decodes a record for the deck: the result when it is ready at once, `None` when it
    /// arrives later (through [`Conductor::record_ready`]).
    fn prepare_record(&mut self, path: &Path) -> Option<Result<Box<DeckBuffer>, LoopError>>;
    /// Reads the drum kit in folder `dir` (for the kit a scene names, `wanted`) at the
    /// graph's rate: the result when it is ready at once, `None` when it arrives later
    /// (through [`Conductor::kit_ready`]).
    fn prepare_kit(
        &mut self,
        wanted: Option<PathBuf>,
        dir: &Path,
    ) -> Option<Result<Box<SampleKit>, KitError>>;
    /// Carries out a command about the session around the music (recording, MIDI, quitting);
    /// false when the performance ends.
    fn session(&mut self, cmd: SessionCommand, perf: &Performance) -> bool;
    /// Tells what happened.
    fn report(&mut self, report: Report);
    /// The AI had its turn at the start of `cycle` (before its outcome is carried out).
    fn turned(&mut self, _cycle: u64, _perf: &Performance, _heard: Option<&FeedbackTurn>) {}
    /// True when the performance follows a session log (a replay) instead of deciding: loop
    /// cues, records and sections then come from the log.
    fn follows_log(&self) -> bool {
        false
    }
}

/// A performance being played on a stage.
pub struct Conductor<S> {
    /// The musical state.
    pub(super) perf: Performance,
    /// What each loop set has been cued.
    pub(super) feed: LoopFeed,
    /// What the output played, for the feedback loop.
    pub(super) listener: Option<Listener>,
    /// Output frame at which the current cycle began.
    pub(super) cycle_start: f64,
    /// The record on the deck.
    pub(super) on_deck: Option<PathBuf>,
    /// The kit the scene names that is being prepared or plays (none: the synthesized
    /// voices); a kit prepared for another name is not handed over.
    pub(super) kit: Option<PathBuf>,
    /// The kit the scene named that was last handed over.
    pub(super) kit_playing: Option<PathBuf>,
    /// How the performance reaches the sound.
    pub(super) stage: S,
}

impl<S: Stage> Conductor<S> {
    /// A performance on `stage`, listening to the output through `listener`.
    pub fn new(perf: Performance, listener: Option<Listener>, stage: S) -> Self {
        Conductor {
            perf,
            feed: LoopFeed::default(),
            listener,
            cycle_start: 0.0,
            on_deck: None,
            kit: None,
            kit_playing: None,
            stage,
        }
    }

    /// Starts the performance: the scene's settings and first cycle, its loops, its record
    /// and the first section of its set list.
    pub fn start(&mut self) {
        self.check_model();
        let first = self.perf.start_messages();
        self.stage.send(&first, Action::Start);
        self.perf.rank_loops(self.stage.models());
        let deck = self.perf.scene().deck.file.clone().map(DeckRequest::Load);
        self.realize(&Outcome {
            loops: true,
            deck,
            kit: self.perf.scene().kit.is_some(),
            ..Outcome::default()
        });
        let sections = self.perf.start_sections();
        self.realize(&sections);
    }

    /// A performer's command: session commands go to the stage, the others change the
    /// performance. False when the performance ends.
    pub fn command(&mut self, cmd: Command) -> bool {
        if let Some(session) = cmd.session() {
            return self.stage.session(session, &self.perf);
        }
        self.change(cmd);
        true
    }

    /// A change to the music, from the performer, the set list or the deck. A set list is
    /// data, not the performer: a session command there (recording, MIDI) is refused.
    fn change(&mut self, cmd: Command) {
        match self.perf.apply_with(&cmd, self.stage.models()) {
            Ok(out) => {
                // A scene loaded by name is logged as the scene itself, so a replay never
                // reads the file.
                let action = match &cmd {
                    Command::Load(_) => Action::Scene(Box::new(self.perf.scene().clone())),
                    _ => Action::Command(cmd.clone()),
                };
                self.outcome(out, action);
                self.stage.report(Report::Applied(cmd));
            }
            Err(e) => self.stage.report(Report::Refused(cmd, e)),
        }
    }

    /// A scene takes over (a reload): patterns and settings change at the next cycle.
    pub fn take_scene(&mut self, scene: Scene) {
        let name = scene.name.clone();
        let action = Action::Scene(Box::new(scene.clone()));
        let out = self.perf.replace_scene(scene);
        self.outcome(out, action);
        self.stage.report(Report::SceneTookOver(name));
        self.check_model();
    }

    /// Reports a rhythm model the scene names that the bank does not hold (the bank's first
    /// plays instead).
    fn check_model(&mut self) {
        let scene = self.perf.scene();
        let (name, title) = (scene.ai.model, scene.name.clone());
        let bank = &self.stage.models().rhythm;
        if !bank.is_empty() && bank.get(name).is_none() {
            let have = bank.listing();
            self.stage.report(Report::UnknownModel {
                scene: title,
                name,
                have,
            });
        }
    }

    /// The AI's turn as cycle `status.cycle` begins: it listens to the cycle that just ended
    /// (with the feedback loop on) and writes the cycle after this one.
    pub fn turn(&mut self, status: &Status) {
        let previous = std::mem::replace(&mut self.cycle_start, status.cycle_start);
        let heard = if self.perf.scene().ai.feedback {
            self.hear(previous, status.cycle_start)
        } else {
            None
        };
        let out = self
            .perf
            .tick(status.cycle, self.stage.models(), heard.as_ref());
        self.stage.turned(status.cycle, &self.perf, heard.as_ref());
        self.outcome(out, Action::Cycle(status.cycle, heard));
    }

    /// Listens to the cycle that just ended (frames `from..to` of the output).
    fn hear(&mut self, from: f64, to: f64) -> Option<FeedbackTurn> {
        let listener = self.listener.as_mut()?;
        listener.drain();
        let heard = listener.span(from.max(0.0) as u64, to as u64)?;
        let (turn, ranked) = self.perf.listen(self.stage.models(), &heard)?;
        self.perf.heard(ranked);
        Some(turn)
    }

    /// Sends what an outcome asks of the audio thread and carries out the rest.
    pub fn outcome(&mut self, out: Outcome, action: Action) {
        let msgs = self.perf.messages(&out);
        self.stage.send(&msgs, action);
        if out.cycle {
            self.stage.queued(self.perf.queued());
        }
        self.realize(&out);
    }

    /// Carries out what an outcome asks of the loop sets (cue what changed), of the deck
    /// (load a record) and of the set list (start a section). A replay takes those from its
    /// log instead.
    pub fn realize(&mut self, out: &Outcome) {
        if self.stage.follows_log() {
            return;
        }
        if out.loops || out.cycle {
            let library = self.stage.models().library.as_ref();
            for (set, cue) in self.feed.changes(&self.perf, library) {
                self.cue_loop(set, cue);
            }
        }
        match &out.deck {
            Some(DeckRequest::Load(path)) => self.load_record(path),
            Some(DeckRequest::Eject) => self.eject(),
            Some(DeckRequest::Control(_)) | None => {}
        }
        if out.kit {
            self.load_kit();
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
                self.outcome(out, action);
                self.check_model();
            }
            Ok(None) => {}
            Err(e) => self.stage.report(Report::SectionFailed(e)),
        }
        for cmd in commands {
            if cmd.touches_files() {
                let e = ApplyError::FileFromSetList(Box::new(cmd.clone()));
                self.stage.report(Report::Refused(cmd, e));
                continue;
            }
            self.change(cmd);
        }
        if let Some(view) = self.perf.section_view() {
            self.stage.report(Report::SectionStarted(view));
        }
    }

    /// Cues a loop set: silence at once, a loop once its buffer is prepared.
    pub fn cue_loop(&mut self, set: LoopSet, cue: Cue) {
        self.feed.cued(set, cue.clone());
        let Some(cued) = cue else {
            self.stage
                .hand_over(Boxed::Loop(set, LoopCue::Stop), Action::Loop(set, None));
            return;
        };
        let sample_rate = self.stage.sample_rate();
        let Some(library) = self.stage.models().library.as_ref() else {
            self.stage.report(Report::NoLibrary(set));
            return;
        };
        match LoopJob::new(library, set, &cued, sample_rate) {
            Ok(job) => {
                if let Some(result) = self.stage.prepare_loop(job) {
                    self.loop_ready(set, Some(cued), result);
                }
            }
            Err(e) => self.stage.report(Report::LoopFailed(set, e.to_string())),
        }
    }

    /// A loop buffer was prepared for `cue`: it goes to the audio thread unless the set wants
    /// something else by now.
    pub fn loop_ready(
        &mut self,
        set: LoopSet,
        cue: Cue,
        result: Result<Box<LoopBuffer>, LoopError>,
    ) {
        if self.feed.current(set) != &cue {
            return;
        }
        match result {
            Ok(buffer) => {
                self.stage.hand_over(
                    Boxed::Loop(set, LoopCue::Play(buffer)),
                    Action::Loop(set, cue),
                );
            }
            Err(e) => self.stage.report(Report::LoopFailed(set, e.to_string())),
        }
    }

    /// Loads the kit the scene names (the synthesized voices for none or `synth`).
    fn load_kit(&mut self) {
        let wanted = self.perf.scene().kit.clone();
        self.kit = wanted.clone();
        match wanted.as_deref().map(crate::kit::resolve).transpose() {
            Ok(Some(Some(dir))) => self.prepare_kit(wanted, &dir),
            Ok(_) => {
                if self.stage.hand_over(Boxed::Kit(None), Action::Kit(None)) {
                    self.kit_playing = wanted;
                    self.stage
                        .report(Report::KitLoaded(crate::kit::SYNTH.into()));
                }
            }
            Err(e) => self.kit_failed(e),
        }
    }

    /// The kit the scene wants cannot play: the one that plays stays, in the scene too.
    fn kit_failed(&mut self, e: KitError) {
        if !self.stage.follows_log() {
            self.kit = self.kit_playing.clone();
            self.perf.kit_failed(self.kit.clone());
        }
        self.stage.report(Report::KitFailed(e));
    }

    fn prepare_kit(&mut self, wanted: Option<PathBuf>, dir: &Path) {
        if let Some(result) = self.stage.prepare_kit(wanted.clone(), dir) {
            self.kit_ready(wanted, dir.to_path_buf(), result);
        }
    }

    /// The kit in `dir` was read for the scene's `wanted` kit: it goes to the audio thread
    /// unless the scene wants another by now; a kit that failed leaves the one that plays.
    pub fn kit_ready(
        &mut self,
        wanted: Option<PathBuf>,
        dir: PathBuf,
        result: Result<Box<SampleKit>, KitError>,
    ) {
        if !self.stage.follows_log() && self.kit != wanted {
            return;
        }
        match result {
            Ok(kit) => {
                let name = kit.name.clone();
                if self
                    .stage
                    .hand_over(Boxed::Kit(Some(kit)), Action::Kit(Some(dir)))
                {
                    self.kit_playing = wanted;
                    self.stage.report(Report::KitLoaded(name));
                }
            }
            Err(e) => self.kit_failed(e),
        }
    }

    fn load_record(&mut self, path: &Path) {
        if let Some(result) = self.stage.prepare_record(path) {
            self.record_ready(path.to_path_buf(), result);
        }
    }

    /// A record was decoded: it goes on the deck, in the state the scene asks for (a record
    /// dropped on a spinning deck plays at once); a failed one leaves the deck as it was.
    pub fn record_ready(&mut self, path: PathBuf, result: Result<Box<DeckBuffer>, LoopError>) {
        match result {
            Ok(record) => {
                let name = record.name.clone();
                if !self
                    .stage
                    .hand_over(Boxed::Deck(Some(record)), Action::Deck(Some(path.clone())))
                {
                    return;
                }
                self.on_deck = Some(path.clone());
                self.perf.deck_loaded(path);
                if !self.stage.follows_log() {
                    for cmd in self.perf.deck_commands() {
                        self.change(cmd);
                    }
                }
                self.stage.report(Report::DeckLoaded(name));
            }
            Err(e) => {
                self.perf.deck_failed(self.on_deck.clone());
                self.stage.report(Report::DeckFailed(e));
            }
        }
    }

    fn eject(&mut self) {
        if self.stage.hand_over(Boxed::Deck(None), Action::Deck(None)) {
            self.on_deck = None;
        }
    }

    /// Follows one logged change (a replay): the same state changes and messages as when it
    /// was played, with loop buffers and records prepared again.
    pub fn replay(&mut self, action: &Action) {
        let msgs = match action {
            // `save` and `load` are events of the log, never carried out: a log from anyone
            // writes no file and reads no scene file (a load took effect as an `@scene`).
            Action::Command(c) if c.touches_files() => Vec::new(),
            Action::Command(c) => match self.perf.apply_with(c, self.stage.models()) {
                Ok(o) => self.perf.messages(&o),
                Err(_) => Vec::new(),
            },
            Action::Cycle(k, heard) => {
                let o = self.perf.tick(*k, self.stage.models(), heard.as_ref());
                self.perf.messages(&o)
            }
            Action::Scene(s) => {
                let o = self.perf.replace_scene((**s).clone());
                self.perf.messages(&o)
            }
            Action::Start => self.perf.start_messages(),
            Action::Loop(set, cue) => {
                self.cue_loop(*set, cue.clone());
                Vec::new()
            }
            Action::Deck(Some(path)) => {
                self.load_record(path);
                Vec::new()
            }
            Action::Deck(None) => {
                self.eject();
                Vec::new()
            }
            Action::Kit(Some(dir)) => {
                self.prepare_kit(None, dir);
                Vec::new()
            }
            Action::Kit(None) => {
                self.stage.hand_over(Boxed::Kit(None), Action::Kit(None));
                Vec::new()
            }
        };
        self.stage.send(&msgs, action.clone());
    }
}
