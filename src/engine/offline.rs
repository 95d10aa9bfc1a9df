//! The performance offline: the same graph, the same AI turns at the same cycle boundaries and
//! the same loop and deck hand-overs as on stage, driven as fast as the CPU allows.
//!
//! [`Offline::perform`] plays a scene the way the live engine would (composing, listening,
//! cueing loops) and writes down everything that reached the audio thread, with its frame, as a
//! [`SessionLog`]; [`SessionLog::replay`] plays such a log back. Both render the same samples,
//! bit for bit, so `ubiq render --log` and `ubiq replay` agree.

use std::path::{Path, PathBuf};

use super::conductor::{Conductor, Report, Stage};
use super::listen::Listener;
use super::loops::{LoopCache, LoopJob, load_record};
use super::session::{Action, Entry, GraphSetup, SessionLog};
use crate::audio::deck::DeckBuffer;
use crate::audio::kit::SampleKit;
use crate::audio::link::Boxed;
use crate::audio::loop_player::LoopBuffer;
use crate::audio::plan::EventKind;
use crate::audio::{AudioCore, AudioHandle, AudioMsg, link};
use crate::command::SessionCommand;
use crate::kit::KitError;
use crate::loops::LoopError;
use crate::model::registry::Models;
use crate::pattern::STEPS;
use crate::performance::Performance;
use crate::performance::loops::FeedbackTurn;
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

/// Largest record file the offline stage reads, in bytes (a quarter of an hour of 32-bit
/// stereo at 384 kHz is 2.8 GB; at 96 kHz, 0.7 GB).
pub const RECORD_MAX_BYTES: u64 = 2 << 30;

/// Refuses a record path that is not a regular file of at most [`RECORD_MAX_BYTES`].
fn record_file(path: &Path) -> Result<(), LoopError> {
    let shown = path.display().to_string();
    let meta = std::fs::metadata(path).map_err(|e| LoopError::io(&shown, e))?;
    if !meta.is_file() {
        return Err(LoopError::file(&shown, "not a regular file"));
    }
    if meta.len() > RECORD_MAX_BYTES {
        return Err(LoopError::file(
            shown,
            format!(
                "{} bytes, more than a record's {RECORD_MAX_BYTES}",
                meta.len()
            ),
        ));
    }
    Ok(())
}

/// Problems kept word for word; beyond these only [`Rendered::problem_count`] grows.
const KEPT_PROBLEMS: usize = 100;

/// Whether the run decides (composes, cues loops) or follows a log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Perform,
    Replay,
}

/// The offline stage: the audio graph driven block by block on this thread, loop buffers
/// prepared at once from a cache, everything that reached the audio thread logged with its
/// frame.
pub struct OfflineStage<'m> {
    audio: AudioHandle,
    core: AudioCore,
    models: &'m mut Models,
    cache: LoopCache,
    mode: Mode,
    frame: u64,
    rendered: Rendered,
    keep: Keep,
}

impl OfflineStage<'_> {
    fn problem(&mut self, text: String) {
        self.rendered.problem_count += 1;
        if self.rendered.problems.len() < KEPT_PROBLEMS {
            self.rendered.problems.push(text);
        }
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
}

impl Stage for OfflineStage<'_> {
    fn models(&mut self) -> &mut Models {
        self.models
    }

    fn sample_rate(&self) -> u32 {
        self.audio.sample_rate()
    }

    /// Sends messages now and logs the action that caused them at this frame.
    fn send(&mut self, msgs: &[AudioMsg], action: Action) {
        // Offline the queue is drained after every block: it never fills.
        let _ = self.audio.send_all(msgs);
        self.log(action);
    }

    fn hand_over(&mut self, item: Boxed, action: Action) -> bool {
        let _ = self.audio.send_boxed(item);
        self.log(action);
        true
    }

    fn prepare_loop(&mut self, job: LoopJob) -> Option<Result<Box<LoopBuffer>, LoopError>> {
        Some(self.cache.get(&job))
    }

    /// A record is read only from a regular file of at most [`RECORD_MAX_BYTES`] (a log or
    /// scene from someone else may name any path: not a device, a pipe or a huge file).
    fn prepare_record(&mut self, path: &Path) -> Option<Result<Box<DeckBuffer>, LoopError>> {
        Some(
            record_file(path)
                .and_then(|()| load_record(path, self.audio.sample_rate()).map(Box::new)),
        )
    }

    fn prepare_kit(
        &mut self,
        _wanted: Option<PathBuf>,
        dir: &Path,
    ) -> Option<Result<Box<SampleKit>, KitError>> {
        Some(crate::kit::load(dir, self.audio.sample_rate()).map(Box::new))
    }

    /// Offline there is nothing to record, no MIDI and no one to quit: MIDI commands are
    /// counted as problems, the others pass.
    fn session(&mut self, cmd: SessionCommand, _perf: &Performance) -> bool {
        if let SessionCommand::Midi(action) = cmd {
            self.problem(format!("midi {action}: MIDI is off offline"));
        }
        true
    }

    fn report(&mut self, report: Report) {
        match report {
            Report::Refused(cmd, e) => self.problem(format!("{cmd}: {e}")),
            Report::SectionFailed(e) => self.problem(e.to_string()),
            Report::LoopFailed(_, e) => self.problem(e),
            Report::DeckFailed(e) => self.problem(e.to_string()),
            Report::KitFailed(e) => self.problem(format!("kit: {e}")),
            Report::UnknownModel { scene, name, have } => self.problem(format!(
                "scene {scene:?}: no rhythm model {name} (the bank holds: {have})"
            )),
            Report::Applied(_)
            | Report::SceneTookOver(_)
            | Report::SectionStarted(_)
            | Report::NoLibrary(_)
            | Report::DeckLoaded(_)
            | Report::KitLoaded(_) => {}
        }
    }

    fn turned(&mut self, cycle: u64, perf: &Performance, heard: Option<&FeedbackTurn>) {
        if self.keep.log {
            let ai = perf.scene().ai;
            self.rendered.turns.push(Turn {
                cycle,
                z: [ai.x, ai.y],
                heard: heard.cloned(),
                pattern: perf.queued().pattern,
            });
        }
    }

    fn follows_log(&self) -> bool {
        self.mode == Mode::Replay
    }
}

/// The offline driver: a [`Conductor`] on the [`OfflineStage`].
pub struct Offline<'m> {
    conductor: Conductor<OfflineStage<'m>>,
    sample_rate: u32,
    last_cycle: u64,
    script: Vec<(u64, Input)>,
}

impl<'m> Offline<'m> {
    fn new(scene: Scene, models: &'m mut Models, graph: GraphSetup, mode: Mode) -> Self {
        let GraphSetup {
            sample_rate,
            seed,
            start_lead,
        } = graph;
        let (mut audio, core) = link(sample_rate, seed);
        let core = core.with_start_lead(start_lead);
        let listener = audio
            .take_listen()
            .map(|tap| Listener::new(tap, sample_rate));
        let log = SessionLog {
            sample_rate,
            seed,
            scene: scene.clone(),
            record_from: 0,
            end: 0,
            start_lead,
            entries: Vec::new(),
        };
        let stage = OfflineStage {
            audio,
            core,
            models,
            cache: LoopCache::default(),
            mode,
            frame: 0,
            rendered: Rendered {
                log,
                ..Rendered::default()
            },
            keep: Keep {
                // A replay's log is the one it follows.
                log: mode == Mode::Perform,
                audio: true,
            },
        };
        Offline {
            conductor: Conductor::new(Performance::seeded(scene, seed), listener, stage),
            sample_rate,
            last_cycle: 0,
            script: Vec::new(),
        }
    }

    fn stage(&mut self) -> &mut OfflineStage<'m> {
        &mut self.conductor.stage
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
        let graph = GraphSetup {
            sample_rate,
            seed,
            start_lead: 0,
        };
        let mut o = Offline::new(scene.clone(), models, graph, Mode::Perform);
        o.stage().keep = keep;
        o.conductor.start();
        // The log counts output frames; the limiter's look-ahead delays the output, so the
        // set's first downbeat leaves the graph `latency` frames in.
        let latency = o.stage().core.latency() as u64;
        o.run_scripted(frames + latency, latency, &mut script);
        let log = &mut o.stage().rendered.log;
        log.record_from = latency;
        log.end = frames + latency;
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
        while self.frame() < end {
            let next_input = self.script.first().map_or(end, |(f, _)| *f);
            let turns_before = self.last_cycle;
            let to = (self.frame() + BLOCK_FRAMES as u64)
                .min(next_input.max(self.frame() + 1))
                .min(end);
            self.run_to(to, keep_from);
            let status = self.conductor.stage.audio.status();
            let cycle_frames = STEPS as f64 * f64::from(self.sample_rate) * 15.0
                / f64::from(status.tempo_bpm.max(1.0));
            // The performer has a turn at every boundary, and once a cycle's time while the
            // transport is stopped (so a stop can be followed by a start).
            let stopped_long =
                !status.playing && (self.frame() - asked_at) as f64 >= cycle_frames && asks > 0;
            if self.last_cycle != turns_before || stopped_long {
                asked_at = self.frame();
                asks += 1;
                let Some(asked) = script(asks) else {
                    return;
                };
                let from = if status.playing {
                    status.cycle_start
                } else {
                    self.frame() as f64
                };
                let now = self.frame();
                let mut inputs: Vec<(u64, Input)> = asked
                    .into_iter()
                    .map(|(at, input)| {
                        let f = from + at.clamp(0.0, 1.0) * cycle_frames;
                        (f.max(now as f64) as u64, input)
                    })
                    .collect();
                self.script.append(&mut inputs);
                self.script.sort_by_key(|(f, _)| *f);
            }
            while self.script.first().is_some_and(|(f, _)| *f <= self.frame()) {
                let (_, input) = self.script.remove(0);
                self.take(input);
            }
        }
    }

    fn frame(&self) -> u64 {
        self.conductor.stage.frame
    }

    /// A performer's input, as the live engine takes it.
    fn take(&mut self, input: Input) {
        let before = self.conductor.stage.rendered.problem_count;
        let taken = match input {
            Input::Line(line) => match crate::command::parse(&line) {
                Ok(cmd) => {
                    let session = cmd.session().is_some();
                    self.conductor.command(cmd);
                    !session
                }
                Err(e) => {
                    self.stage().problem(e.to_string());
                    false
                }
            },
            Input::Scene(text) => {
                match Scene::from_ron_checked(&text, std::path::Path::new("soak.ron")) {
                    Ok(scene) => {
                        self.conductor.take_scene(scene);
                        true
                    }
                    Err(e) => {
                        self.stage().problem(e.to_string());
                        false
                    }
                }
            }
        };
        let stage = self.stage();
        if taken && stage.rendered.problem_count == before {
            stage.rendered.inputs_taken += 1;
        }
    }

    /// Renders up to frame `end`; output before `keep_from` is dropped.
    fn run_to(&mut self, end: u64, keep_from: u64) {
        let mut block = vec![0.0f32; 2 * BLOCK_FRAMES];
        while self.frame() < end {
            let n = (end - self.frame()).min(BLOCK_FRAMES as u64) as usize;
            self.render_block(&mut block[..2 * n], keep_from);
            if self.stage().mode == Mode::Perform {
                let status = self.conductor.stage.audio.status();
                if status.cycle != self.last_cycle {
                    self.last_cycle = status.cycle;
                    self.conductor.turn(&status);
                }
            }
        }
    }

    fn render_block(&mut self, block: &mut [f32], keep_from: u64) {
        let n = (block.len() / 2) as u64;
        let stage = &mut self.conductor.stage;
        let events = &mut stage.rendered.events;
        let keep = stage.keep.audio;
        stage.core.process_with(block, |frame, kind, sps| {
            if keep && kind != EventKind::CycleStart {
                events.push((frame, kind, sps));
            }
        });
        if keep {
            let from = keep_from.saturating_sub(stage.frame).min(n) as usize;
            stage.rendered.samples.extend_from_slice(&block[2 * from..]);
        }
        stage.frame += n;
        if let Some(l) = &mut self.conductor.listener {
            l.drain();
        }
        self.conductor.stage.audio.reclaim();
    }

    fn finish(self) -> Rendered {
        let mut stage = self.conductor.stage;
        stage.rendered.late_plans = stage.audio.status().late_plans;
        stage.rendered.frames = stage.frame;
        stage.rendered
    }
}

impl SessionLog {
    /// Renders the recorded part offline: the same graph, the same changes at the same
    /// frames, so the samples equal the live recording's (or the offline render's).
    pub fn replay(&self, models: &mut Models) -> Rendered {
        let mut o = Offline::new(self.scene.clone(), models, self.graph(), Mode::Replay);
        // A log without `@start` began at frame 0 (as early offline renders did).
        if !self.entries.iter().any(|e| e.action == Action::Start) {
            let start = o.conductor.perf.start_messages();
            o.stage().send(&start, Action::Start);
        }
        for e in &self.entries {
            if e.frame >= self.end {
                break;
            }
            o.run_to(e.frame, self.record_from);
            o.conductor.replay(&e.action);
        }
        o.run_to(self.end, self.record_from);
        let latency = o.stage().core.latency() as i64;
        let mut rendered = o.finish();
        rendered.origin = self.record_from as i64 - latency;
        rendered.log = self.clone();
        rendered
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_solo_given_by_a_section_that_brings_a_scene_lasts_past_the_first_cycle() {
        let dir = tempfile::tempdir().unwrap();
        let kick = r#"tempo: 120, drums: (kick: "X...X...X...X..."), bass: (line: "A1 . . . A1 . . . A1 . . . A1 . . .")"#;
        std::fs::write(dir.path().join("b.ron"), format!("Scene({kick})")).unwrap();
        let text = format!(
            r#"Scene({kick}, sections: [(name: "a", bars: 2), (name: "b", bars: 6, scene: "b.ron", commands: ["solo music"])])"#
        );
        let scene = Scene::from_ron(&text, &dir.path().join("set.ron")).unwrap();
        let mut models = Models::none();
        // Two bars at 120 BPM and 48 kHz.
        let cycle = 192_000;
        let played = Offline::perform(&scene, &mut models, 4 * cycle, 48_000, 1);
        assert_eq!(played.problem_count, 0, "{:?}", played.problems);
        let peak = |from: u64, to: u64| {
            played.samples[2 * from as usize..2 * to as usize]
                .iter()
                .fold(0.0f32, |m, x| m.max(x.abs()))
        };
        assert!(peak(0, cycle) > 0.1, "the first section plays");
        // The section's solo of a silent track (no loop plays): silence once the tails of the
        // first section have died, for the whole section, not only its first cycle.
        for k in 2..4 {
            let p = peak(k * cycle, (k + 1) * cycle);
            assert!(p < 1e-3, "cycle {k} of the set: peak {p}");
        }
    }

    #[test]
    fn a_set_list_cannot_load_a_kit_or_a_record_but_its_scene_plays_its_own_kit() {
        let dir = tempfile::tempdir().unwrap();
        let kit = dir.path().join("tone");
        std::fs::create_dir(&kit).unwrap();
        let frames: Vec<f32> = (0..4_800).map(|i| (i as f32 * 0.13).sin() * 0.8).collect();
        std::fs::write(
            kit.join("t.wav"),
            crate::wav::encode_f32(&frames, 1, 48_000),
        )
        .unwrap();
        std::fs::write(
            kit.join("kit.ron"),
            r#"Kit(voices: {kick: (samples: ["t.wav"])})"#,
        )
        .unwrap();
        let kick = r#"tempo: 120, drums: (kick: "X...X...X...X...")"#;
        let text = format!(
            r#"Scene({kick}, sections: [(name: "a", bars: 2, commands: ["kit load /tmp", "deck load /etc/passwd"]), (name: "b", bars: 2, scene: "b.ron")])"#
        );
        std::fs::write(
            dir.path().join("b.ron"),
            format!(r#"Scene({kick}, kit: "tone")"#),
        )
        .unwrap();
        let scene = Scene::from_ron(&text, &dir.path().join("set.ron")).unwrap();
        let mut models = Models::none();
        let played = Offline::perform(&scene, &mut models, 2 * 192_000, 48_000, 1);
        assert_eq!(played.problem_count, 2, "{:?}", played.problems);
        for (p, cmd) in played
            .problems
            .iter()
            .zip(["kit load /tmp", "deck load /etc/passwd"])
        {
            assert!(p.contains(cmd) && p.contains("a set list cannot"), "{p}");
        }
        let kits: Vec<_> = played
            .log
            .entries
            .iter()
            .filter_map(|e| match &e.action {
                Action::Kit(k) => Some(k.clone()),
                _ => None,
            })
            .collect();
        assert_eq!(
            kits,
            [Some(kit.canonicalize().unwrap())],
            "section b brings its kit"
        );
    }
}
