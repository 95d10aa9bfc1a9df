//! The performance offline: the same graph, the same AI turns at the same cycle boundaries and
//! the same loop and deck hand-overs as on stage, driven as fast as the CPU allows.
//!
//! [`Offline::perform`] plays a scene the way the live engine would (composing, listening,
//! cueing loops) and writes down everything that reached the audio thread, with its frame, as a
//! [`SessionLog`]; [`SessionLog::replay`] plays such a log back. Both render the same samples,
//! bit for bit, so `ubiq render --log` and `ubiq replay` agree.

use std::path::PathBuf;

use super::compose::Models;
use super::listen::Listener;
use super::loops::{Cue, FeedbackTurn, LoopCache, LoopFeed, LoopJob, load_record};
use super::performance::DeckRequest;
use super::session::{Action, Entry, SessionLog};
use super::{Outcome, Performance};
use crate::audio::link::Boxed;
use crate::audio::plan::EventKind;
use crate::audio::{AudioCore, AudioHandle, AudioMsg, link};
use crate::command::Command;
use crate::loops::LoopSet;
use crate::loops::player::LoopCue;
use crate::scene::Scene;

/// Frames per render call (the size a device callback would ask for).
pub const BLOCK_FRAMES: usize = 512;

/// What an offline run produced.
#[derive(Debug, Clone, Default)]
pub struct Rendered {
    /// Interleaved stereo samples, frame 0 on the first downbeat (the limiter's look-ahead is
    /// compensated), or from the log's `record_from` for replays.
    pub samples: Vec<f32>,
    /// Every event the sequencer played: frame on the sequencer's timeline, event, samples
    /// per step.
    pub events: Vec<(i64, EventKind, f64)>,
    /// The sequencer frame of the first sample.
    pub origin: i64,
    /// What reached the audio thread, with its frame (replayable).
    pub log: SessionLog,
    /// Things that went wrong on the way (a loop file that would not load, say), one line each.
    pub problems: Vec<String>,
    /// Cycles that reached the audio thread too late for their boundary.
    pub late_plans: u64,
    /// The AI's turns when performing: the latent point after each and the pattern queued.
    pub turns: Vec<Turn>,
}

/// One AI turn of an offline performance.
#[derive(Debug, Clone, PartialEq)]
pub struct Turn {
    /// The cycle that began.
    pub cycle: u64,
    /// The latent point after the turn.
    pub z: [f32; 2],
    /// What the feedback loop heard, when it was on.
    pub heard: Option<FeedbackTurn>,
    /// The drum pattern queued for the next cycle.
    pub pattern: crate::pattern::DrumPattern,
}

/// Whether the run decides (composes, cues loops) or follows a log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Perform,
    Replay,
}

/// The offline driver.
pub struct Offline<'m> {
    audio: AudioHandle,
    core: AudioCore,
    perf: Performance,
    models: &'m mut Models,
    listener: Option<Listener>,
    feed: LoopFeed,
    cache: LoopCache,
    on_deck: Option<PathBuf>,
    mode: Mode,
    sample_rate: u32,
    frame: u64,
    last_cycle: u64,
    cycle_start: f64,
    rendered: Rendered,
}

impl<'m> Offline<'m> {
    fn new(scene: Scene, models: &'m mut Models, sample_rate: u32, seed: u64, mode: Mode) -> Self {
        let (mut audio, core) = link(sample_rate, seed);
        let listener = audio
            .take_listen()
            .map(|tap| Listener::new(tap, sample_rate));
        let log = SessionLog {
            sample_rate,
            seed,
            scene: scene.clone(),
            record_from: 0,
            end: 0,
            entries: Vec::new(),
        };
        Offline {
            audio,
            core,
            perf: Performance::new(scene),
            models,
            listener,
            feed: LoopFeed::default(),
            cache: LoopCache::default(),
            on_deck: None,
            mode,
            sample_rate,
            frame: 0,
            last_cycle: 0,
            cycle_start: 0.0,
            rendered: Rendered {
                log,
                ..Rendered::default()
            },
        }
    }

    /// Plays `scene` for `frames` frames the way the live engine would, with no performer:
    /// the AI composes at the cycle boundaries its policy asks for, listens when the feedback
    /// loop is on, and the loop sets and the deck are fed as on stage.
    pub fn perform(
        scene: &Scene,
        models: &'m mut Models,
        frames: u64,
        sample_rate: u32,
        seed: u64,
    ) -> Rendered {
        let mut o = Offline::new(scene.clone(), models, sample_rate, seed, Mode::Perform);
        let start = o.perf.start_messages();
        o.send(start, Action::Start);
        let first = Outcome {
            loops: true,
            deck: scene.deck.file.clone().map(DeckRequest::Load),
            ..Outcome::default()
        };
        o.perf.rank_loops(o.models);
        o.realize(&first);
        let sections = o.perf.start_sections();
        o.realize(&sections);
        // The log counts output frames; the limiter's look-ahead delays the output, so the
        // set's first downbeat leaves the graph `latency` frames in.
        let latency = o.core.latency() as u64;
        o.run_to(frames + latency, latency);
        o.rendered.log.record_from = latency;
        o.rendered.log.end = frames + latency;
        o.finish()
    }

    /// Applies a command as the performer would have typed it at the current frame.
    fn command(&mut self, cmd: Command) {
        match self.perf.apply_with(&cmd, self.models) {
            Ok(out) => {
                let msgs = self.perf.messages(&out);
                self.send(msgs, Action::Command(cmd));
                self.realize(&out);
            }
            Err(e) => self.rendered.problems.push(format!("{cmd}: {e}")),
        }
    }

    /// Sends messages now and logs the action that caused them at this frame.
    fn send(&mut self, msgs: Vec<AudioMsg>, action: Action) {
        // Offline the queue is drained after every block: it never fills.
        let _ = self.audio.send_all(&msgs);
        self.log(action);
    }

    fn log(&mut self, action: Action) {
        self.rendered.log.entries.push(Entry {
            frame: self.frame,
            action,
        });
    }

    /// Carries out what an outcome asks of the loop sets and the deck (when performing; a
    /// replay takes those from the log).
    fn realize(&mut self, out: &Outcome) {
        if self.mode == Mode::Replay {
            return;
        }
        if out.loops || out.cycle {
            for (set, cue) in self.feed.changes(&self.perf) {
                self.cue_loop(set, cue);
            }
        }
        match &out.deck {
            Some(DeckRequest::Load(path)) => self.load_deck(Some(path.clone())),
            Some(DeckRequest::Eject) => self.load_deck(None),
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
                let msgs = self.perf.messages(&out);
                self.send(msgs, action);
                self.realize(&out);
            }
            Ok(None) => {}
            Err(e) => self.rendered.problems.push(e.to_string()),
        }
        for cmd in commands {
            self.command(cmd);
        }
    }

    fn cue_loop(&mut self, set: LoopSet, cue: Cue) {
        self.feed.cued(set, cue.clone());
        let item = match &cue {
            None => LoopCue::Stop,
            Some((name, tempo)) => {
                let Some(library) = self.models.library.as_ref() else {
                    return;
                };
                let buffer = LoopJob::new(library, set, name, *tempo, self.sample_rate)
                    .and_then(|job| self.cache.get(&job));
                match buffer {
                    Ok(buffer) => LoopCue::Play(buffer),
                    Err(e) => {
                        self.rendered.problems.push(e.to_string());
                        return;
                    }
                }
            }
        };
        let _ = self.audio.send_boxed(Boxed::Loop(set, item));
        self.log(Action::Loop(set, cue));
    }

    fn load_deck(&mut self, path: Option<PathBuf>) {
        let record = match &path {
            None => None,
            Some(p) => match load_record(p, self.sample_rate) {
                Ok(r) => Some(Box::new(r)),
                Err(e) => {
                    self.rendered.problems.push(e.to_string());
                    self.perf.deck_failed(self.on_deck.clone());
                    return;
                }
            },
        };
        let _ = self.audio.send_boxed(Boxed::Deck(record));
        self.log(Action::Deck(path.clone()));
        self.on_deck = path.clone();
        if let Some(p) = path {
            self.perf.deck_loaded(p);
            if self.mode == Mode::Perform {
                for cmd in self.perf.deck_commands() {
                    self.command(cmd);
                }
            }
        }
    }

    /// The AI's turn at the start of a cycle, as on stage.
    fn turn(&mut self) {
        let status = self.audio.status();
        let previous = self.cycle_start;
        self.cycle_start = status.cycle_start;
        let heard = if self.perf.scene().ai.feedback {
            self.hear(previous, status.cycle_start)
        } else {
            None
        };
        let out = self.perf.tick(status.cycle, self.models, heard.as_ref());
        let ai = self.perf.scene().ai;
        self.rendered.turns.push(Turn {
            cycle: status.cycle,
            z: [ai.x, ai.y],
            heard: heard.clone(),
            pattern: self.perf.queued().pattern,
        });
        let msgs = self.perf.messages(&out);
        self.send(msgs, Action::Cycle(status.cycle, heard));
        self.realize(&out);
    }

    /// Listens to the cycle that just ended (frames `from..to`).
    fn hear(&mut self, from: f64, to: f64) -> Option<FeedbackTurn> {
        let listener = self.listener.as_mut()?;
        listener.drain();
        let heard = listener.span(from.max(0.0) as u64, to as u64)?;
        let (turn, ranked) = self.perf.listen(self.models, &heard)?;
        self.perf.heard(ranked);
        Some(turn)
    }

    /// Renders up to frame `end`; output before `keep_from` is dropped.
    fn run_to(&mut self, end: u64, keep_from: u64) {
        let mut block = vec![0.0f32; 2 * BLOCK_FRAMES];
        while self.frame < end {
            let n = (end - self.frame).min(BLOCK_FRAMES as u64) as usize;
            self.render_block(&mut block[..2 * n], keep_from);
            if self.mode == Mode::Perform {
                let cycle = self.audio.status().cycle;
                if cycle != self.last_cycle {
                    self.last_cycle = cycle;
                    self.turn();
                }
            }
        }
    }

    fn render_block(&mut self, block: &mut [f32], keep_from: u64) {
        let n = (block.len() / 2) as u64;
        let events = &mut self.rendered.events;
        self.core.process_with(block, |frame, kind, sps| {
            if kind != EventKind::CycleStart {
                events.push((frame, kind, sps));
            }
        });
        let from = keep_from.saturating_sub(self.frame).min(n) as usize;
        self.rendered.samples.extend_from_slice(&block[2 * from..]);
        self.frame += n;
        if let Some(l) = &mut self.listener {
            l.drain();
        }
        self.audio.reclaim();
    }

    fn finish(mut self) -> Rendered {
        self.rendered.late_plans = self.audio.status().late_plans;
        self.rendered
    }
}

impl SessionLog {
    /// Renders the recorded part offline: the same graph, the same changes at the same
    /// frames, so the samples equal the live recording's (or the offline render's).
    pub fn replay(&self, models: &mut Models) -> Rendered {
        let mut o = Offline::new(
            self.scene.clone(),
            models,
            self.sample_rate,
            self.seed,
            Mode::Replay,
        );
        // A log without `@start` began at frame 0 (as early offline renders did).
        if !self.entries.iter().any(|e| e.action == Action::Start) {
            let start = o.perf.start_messages();
            let _ = o.audio.send_all(&start);
        }
        for e in &self.entries {
            if e.frame >= self.end {
                break;
            }
            o.run_to(e.frame, self.record_from);
            o.replay_action(&e.action);
        }
        o.run_to(self.end, self.record_from);
        let latency = o.core.latency() as i64;
        let mut rendered = o.finish();
        rendered.origin = self.record_from as i64 - latency;
        rendered.log = self.clone();
        rendered
    }
}

impl Offline<'_> {
    fn replay_action(&mut self, action: &Action) {
        let msgs = match action {
            Action::Command(c) => match self.perf.apply_with(c, self.models) {
                Ok(o) => self.perf.messages(&o),
                Err(_) => Vec::new(),
            },
            Action::Cycle(k, heard) => {
                let o = self.perf.tick(*k, self.models, heard.as_ref());
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
            Action::Deck(path) => {
                self.load_deck(path.clone());
                Vec::new()
            }
        };
        let _ = self.audio.send_all(&msgs);
    }
}
