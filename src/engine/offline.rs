//! The performance offline: the same graph, the same AI turns at the same cycle boundaries and
//! the same loop and deck hand-overs as on stage, driven as fast as the CPU allows.
//!
//! [`Offline::perform`] plays a scene the way the live engine would (composing, listening,
//! cueing loops) and writes down everything that reached the audio thread, with its frame, as a
//! [`SessionLog`]; [`SessionLog::replay`] plays such a log back. Both render the same samples,
//! bit for bit, so `ubiq render --log` and `ubiq replay` agree.

use std::path::PathBuf;

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
use crate::model::registry::Models;
use crate::pattern::STEPS;
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
    /// Things that went wrong on the way (a loop file that would not load, a refused
    /// command), one line each (the first hundred).
    pub problems: Vec<String>,
    /// How many things went wrong in all.
    pub problem_count: usize,
    /// Performer's inputs taken (commands applied and scenes that took over).
    pub inputs_taken: usize,
    /// Cycles that reached the audio thread too late for their boundary.
    pub late_plans: u64,
    /// Frames rendered.
    pub frames: u64,
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

/// What a performer does during an offline run: a line of the command language (which may
/// be refused) or a new version of the scene file (which may not read).
#[derive(Debug, Clone, PartialEq)]
pub enum Input {
    /// A command line, as typed.
    Line(String),
    /// Scene file text, as saved.
    Scene(String),
}

/// What an offline run keeps (a long soak keeps nothing, so its memory stays flat).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Keep {
    /// The samples and the events played.
    pub audio: bool,
    /// The session log and the AI's turns.
    pub log: bool,
}

/// Problems kept word for word; beyond these only [`Rendered::problem_count`] grows.
const KEPT_PROBLEMS: usize = 100;

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
    keep: Keep,
    script: Vec<(u64, Input)>,
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
            keep: Keep {
                audio: true,
                log: true,
            },
            script: Vec::new(),
        }
    }

    fn problem(&mut self, text: String) {
        self.rendered.problem_count += 1;
        if self.rendered.problems.len() < KEPT_PROBLEMS {
            self.rendered.problems.push(text);
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
        let keep = Keep {
            audio: true,
            log: true,
        };
        Offline::perform_scripted(scene, models, frames, (sample_rate, seed), keep, |_| {
            Some(Vec::new())
        })
    }

    /// [`Offline::perform`] with a performer: at each cycle boundary (and once a cycle's time
    /// while the transport is stopped) `script(n)`, `n` counting from 1, says what to do
    /// during the cycle, each input at a fraction 0..1 of it, or (`None`) that the performance
    /// ends there. `keep` says what the result holds. Refused inputs are counted
    /// and the set goes on, as on stage.
    pub fn perform_scripted(
        scene: &Scene,
        models: &'m mut Models,
        frames: u64,
        (sample_rate, seed): (u32, u64),
        keep: Keep,
        mut script: impl FnMut(u64) -> Option<Vec<(f64, Input)>>,
    ) -> Rendered {
        let mut o = Offline::new(scene.clone(), models, sample_rate, seed, Mode::Perform);
        o.keep = keep;
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
        o.run_scripted(frames + latency, latency, &mut script);
        o.rendered.log.record_from = latency;
        o.rendered.log.end = frames + latency;
        o.finish()
    }

    /// Renders to `end` in lockstep with the AI's turns, taking the script's inputs at their
    /// frames.
    fn run_scripted(
        &mut self,
        end: u64,
        keep_from: u64,
        script: &mut impl FnMut(u64) -> Option<Vec<(f64, Input)>>,
    ) {
        let mut asked_at = 0u64;
        let mut asks = 0u64;
        while self.frame < end {
            let next_input = self.script.first().map_or(end, |(f, _)| *f);
            let turns_before = self.last_cycle;
            let to = (self.frame + BLOCK_FRAMES as u64)
                .min(next_input.max(self.frame + 1))
                .min(end);
            self.run_to(to, keep_from);
            let status = self.audio.status();
            let cycle_frames = STEPS as f64 * f64::from(self.sample_rate) * 15.0
                / f64::from(status.tempo_bpm.max(1.0));
            // The performer has a turn at every boundary, and once a cycle's time while the
            // transport is stopped (so a stop can be followed by a start).
            let stopped_long =
                !status.playing && (self.frame - asked_at) as f64 >= cycle_frames && asks > 0;
            if self.last_cycle != turns_before || stopped_long {
                asked_at = self.frame;
                asks += 1;
                let Some(asked) = script(asks) else {
                    return;
                };
                let from = if status.playing {
                    status.cycle_start
                } else {
                    self.frame as f64
                };
                let mut inputs: Vec<(u64, Input)> = asked
                    .into_iter()
                    .map(|(at, input)| {
                        let f = from + at.clamp(0.0, 1.0) * cycle_frames;
                        (f.max(self.frame as f64) as u64, input)
                    })
                    .collect();
                self.script.append(&mut inputs);
                self.script.sort_by_key(|(f, _)| *f);
            }
            while self.script.first().is_some_and(|(f, _)| *f <= self.frame) {
                let (_, input) = self.script.remove(0);
                self.take(input);
            }
        }
    }

    /// A performer's input, as the live engine takes it.
    fn take(&mut self, input: Input) {
        match input {
            Input::Line(line) => match crate::command::parse(&line) {
                Ok(Command::Quit | Command::RecordStart(_) | Command::RecordStop) => {}
                Ok(Command::Midi(_)) => self.problem(format!("{line}: MIDI is off offline")),
                Ok(cmd) => {
                    let before = self.rendered.problem_count;
                    self.command(cmd);
                    if self.rendered.problem_count == before {
                        self.rendered.inputs_taken += 1;
                    }
                }
                Err(e) => self.problem(e.to_string()),
            },
            Input::Scene(text) => {
                match Scene::from_ron_checked(&text, std::path::Path::new("soak.ron")) {
                    Ok(scene) => {
                        let action = Action::Scene(Box::new(scene.clone()));
                        let out = self.perf.replace_scene(scene);
                        let msgs = self.perf.messages(&out);
                        self.send(msgs, action);
                        self.realize(&out);
                        self.rendered.inputs_taken += 1;
                    }
                    Err(e) => self.problem(e.to_string()),
                }
            }
        }
    }

    /// Applies a command as the performer would have typed it at the current frame.
    fn command(&mut self, cmd: Command) {
        match self.perf.apply_with(&cmd, self.models) {
            Ok(out) => {
                let msgs = self.perf.messages(&out);
                self.send(msgs, Action::Command(cmd));
                self.realize(&out);
            }
            Err(e) => self.problem(format!("{cmd}: {e}")),
        }
    }

    /// Sends messages now and logs the action that caused them at this frame.
    fn send(&mut self, msgs: Vec<AudioMsg>, action: Action) {
        // Offline the queue is drained after every block: it never fills.
        let _ = self.audio.send_all(&msgs);
        self.log(action);
    }

    fn log(&mut self, action: Action) {
        if !self.keep.log {
            return;
        }
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
            Err(e) => self.problem(e.to_string()),
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
                        self.problem(e.to_string());
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
                    self.problem(e.to_string());
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
        if self.keep.log {
            self.rendered.turns.push(Turn {
                cycle: status.cycle,
                z: [ai.x, ai.y],
                heard: heard.clone(),
                pattern: self.perf.queued().pattern,
            });
        }
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
        let keep = self.keep.audio;
        self.core.process_with(block, |frame, kind, sps| {
            if keep && kind != EventKind::CycleStart {
                events.push((frame, kind, sps));
            }
        });
        if keep {
            let from = keep_from.saturating_sub(self.frame).min(n) as usize;
            self.rendered.samples.extend_from_slice(&block[2 * from..]);
        }
        self.frame += n;
        if let Some(l) = &mut self.listener {
            l.drain();
        }
        self.audio.reclaim();
    }

    fn finish(mut self) -> Rendered {
        self.rendered.late_plans = self.audio.status().late_plans;
        self.rendered.frames = self.frame;
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
