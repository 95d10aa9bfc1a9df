//! The performance: the authoritative musical state and everything that changes it. A
//! command, a scene, a section or the AI's turn changes the state and returns an [`Outcome`]
//! (what must be sent where); the engine's conductor carries the outcome out. Nothing here
//! touches a thread, a device or a file other than a scene.
//!
//! - this module: the state, the commands and what each changes;
//! - [`compose`]: the AI's turn (composing with the models, the feedback pull, the drift);
//! - [`loops`]: ranking the loop sets, listening for the feedback loop, `loop …` commands;
//! - [`sections`]: the set list;
//! - [`query`]: a cycle's drums and bass rendered through ubiq's own synth for the loop model.

pub mod compose;
pub mod loops;
pub mod query;
pub mod sections;

use std::path::Path;

use thiserror::Error;

use crate::audio::AudioMsg;
use crate::audio::deck::DeckControl;
use crate::audio::params::{Params, Track};
use crate::audio::plan::{CyclePlan, MAX_BPM, MIN_BPM};
use crate::command::{Command, DeckAction, Density, FeedbackAction, Part};
use crate::model::rng::Rng;
use crate::pattern::{Bassline, DrumPattern};
use crate::scene::{Ai, NoteLine, Scene, SceneError};
use compose::{Composer, LATENT_LIMIT};
use loops::FeedbackTurn;

/// The drums and bass of one cycle as the audio thread was given them.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Playing {
    /// The drum pattern.
    pub pattern: DrumPattern,
    /// The bassline (pitches relative to `tonic`).
    pub bassline: Bassline,
    /// MIDI note the bassline is relative to.
    pub tonic: u8,
}

/// Why a command could not be applied (the state is unchanged).
#[derive(Debug, Error)]
pub enum ApplyError {
    /// A scene file could not be loaded.
    #[error("{0}")]
    Scene(#[from] SceneError),
    /// A command about the session (recording, MIDI, quitting): only the performer runs it,
    /// through the stage (see [`crate::command::SessionCommand`]), never a scene or set list.
    #[error("`{0}` acts on the session, not the music: only the performer can run it")]
    Session(Box<Command>),
    /// A command that reads or writes a file (`load`, `save`, `deck load`, `kit load`) in a
    /// scene's set list: a scene is data, so only the performer runs those.
    #[error("`{0}` reads or writes a file: a set list cannot, only the performer can run it")]
    FileFromSetList(Box<Command>),
    /// A loop command the performance cannot carry out.
    #[error(transparent)]
    Loop(#[from] loops::LoopCommandError),
    /// A loop command without the loop model and library.
    #[error("no loop library loaded")]
    NoLoops,
    /// `model rhythm NAME` for a model the bank does not hold.
    #[error("no rhythm model {name} (the bank holds: {have})")]
    NoModel {
        /// The name asked for.
        name: crate::command::ModelName,
        /// The names the bank holds.
        have: String,
    },
    /// A deck command with no record on the deck.
    #[error("no record on the deck (`deck load FILE` first)")]
    NoRecord,
    /// A file could not be written.
    #[error("cannot write {path}: {source}")]
    Write {
        /// The file.
        path: String,
        /// What went wrong.
        source: std::io::Error,
    },
}

/// What the deck must do that the audio thread cannot be told in one message.
#[derive(Debug, Clone, PartialEq)]
pub enum DeckRequest {
    /// Decode this file (off the audio thread) and put it on the deck; the scene's deck takes
    /// the file only once it loaded.
    Load(std::path::PathBuf),
    /// Take the record off.
    Eject,
    /// Play, stop, cue, nudge or pitch.
    Control(DeckControl),
}

/// What a command changed, so the engine knows what to send where.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Outcome {
    /// Sound / mix / effect settings changed: send them now.
    pub params: bool,
    /// Patterns, tempo or swing changed: compile and queue the next cycle.
    pub cycle: bool,
    /// This is the AI's turn at the start of a cycle, so the next cycle has a deadline (its
    /// boundary, a cycle away); other changes replan the next cycle as soon as they can.
    pub turn: bool,
    /// Settings change with the next cycle rather than at once (a loaded scene).
    pub params_at_cycle: bool,
    /// The AI's point, densities or options changed: compose the next cycle now.
    pub compose: bool,
    /// The loops the sets want may have changed: cue what differs.
    pub loops: bool,
    /// Something for the deck.
    pub deck: Option<DeckRequest>,
    /// The scene's drum kit changed: load it (it plays from the next cycle boundary).
    pub kit: bool,
    /// This section of the set list starts: carry out its scene and commands.
    pub section: Option<usize>,
    /// Start (true) or stop (false) the transport.
    pub transport: Option<bool>,
}

/// The authoritative state of the performance.
#[derive(Debug, Clone, PartialEq)]
pub struct Performance {
    scene: Scene,
    solo: Option<Track>,
    composer: Composer,
}

impl Performance {
    /// Starts from a scene, composing with the default seed.
    pub fn new(scene: Scene) -> Self {
        Self::seeded(scene, compose::DEFAULT_SEED)
    }

    /// Starts from a scene, composing with `seed` (the set's `--seed`, written in its log).
    pub fn seeded(scene: Scene, seed: u64) -> Self {
        Performance {
            scene,
            solo: None,
            composer: Composer {
                seed,
                ..Composer::default()
            },
        }
    }

    /// The scene as it stands (what `save` writes).
    pub fn scene(&self) -> &Scene {
        &self.scene
    }

    /// The soloed track, if any.
    pub fn solo(&self) -> Option<Track> {
        self.solo
    }

    /// Settings for the audio thread, with solo applied to the mutes.
    pub fn params(&self) -> Params {
        let mut p = self.scene.params();
        if let Some(solo) = self.solo {
            for t in Track::ALL {
                if t != solo {
                    p.mix.track_mut(t).mute = true;
                }
            }
        }
        p
    }

    /// The drums and bass the next compiled cycle carries.
    pub fn queued(&self) -> Playing {
        Playing {
            pattern: self.scene.drums.pattern(),
            bassline: self.scene.bass.bassline(),
            tonic: self.scene.bass.tonic_midi(),
        }
    }

    /// Recent latent points, oldest first (the pad's trail).
    pub fn trail(&self) -> impl Iterator<Item = (f32, f32)> + '_ {
        self.composer.trail.iter().copied()
    }

    /// What the feedback loop heard last, while it is on.
    pub fn feedback(&self) -> Option<&FeedbackTurn> {
        self.composer
            .feedback
            .as_ref()
            .filter(|_| self.scene.ai.feedback)
    }

    /// The next cycle, compiled for the audio thread.
    pub fn plan(&self) -> CyclePlan {
        self.scene.plan()
    }

    /// The messages that carry an outcome to the audio thread.
    pub fn messages(&self, out: &Outcome) -> Vec<AudioMsg> {
        let mut msgs = Vec::new();
        if out.params {
            msgs.push(AudioMsg::Params(self.params()));
        }
        if out.cycle {
            let mut plan = self.plan();
            if out.params_at_cycle {
                plan = plan.with_params(self.params());
            }
            msgs.push(if out.turn {
                AudioMsg::Cycle(plan)
            } else {
                AudioMsg::Replan(plan)
            });
        }
        if let Some(DeckRequest::Control(c)) = &out.deck {
            msgs.push(AudioMsg::Deck(*c));
        }
        if let Some(on) = out.transport {
            msgs.push(AudioMsg::Transport(on));
        }
        msgs
    }

    /// The commands that put a freshly loaded record in the state the scene asks for (its
    /// pitch, and playing if the deck was): a record dropped on a spinning deck plays at once.
    pub fn deck_commands(&self) -> Vec<Command> {
        let mut cmds = vec![Command::Deck(DeckAction::Rate(self.scene.deck.rate))];
        if self.scene.deck.playing {
            cmds.push(Command::Deck(DeckAction::Play));
        }
        cmds
    }

    /// The deck took `file` (after a `deck load` or a scene that names it).
    pub fn deck_loaded(&mut self, file: std::path::PathBuf) {
        self.scene.deck.file = Some(file);
    }

    /// A kit could not be loaded: the one that plays (none: the synthesized voices) stays.
    pub fn kit_failed(&mut self, had: Option<std::path::PathBuf>) {
        self.scene.kit = had;
    }

    /// A record could not be loaded: the deck keeps what it had.
    pub fn deck_failed(&mut self, had: Option<std::path::PathBuf>) {
        self.scene.deck.file = had;
    }

    /// The messages that start a performance: settings, then the first cycle.
    pub fn start_messages(&self) -> Vec<AudioMsg> {
        self.messages(&Outcome {
            params: true,
            cycle: true,
            turn: true,
            params_at_cycle: true,
            ..Outcome::default()
        })
    }

    /// Replaces the whole scene (a reload); settings follow at the next cycle, loops are cued
    /// again and the deck takes the scene's record.
    pub fn replace_scene(&mut self, scene: Scene) -> Outcome {
        let deck = if scene.deck.file == self.scene.deck.file {
            (scene.deck != self.scene.deck).then_some(DeckRequest::Control(if scene.deck.playing {
                DeckControl::Play
            } else {
                DeckControl::Stop
            }))
        } else {
            Some(match &scene.deck.file {
                Some(f) => DeckRequest::Load(f.clone()),
                None => DeckRequest::Eject,
            })
        };
        let kit = scene.kit != self.scene.kit;
        self.scene = scene;
        self.solo = None;
        // A set list goes on where it is when the file is saved again (it starts when a scene
        // brings one).
        let section = match (&mut self.composer.section, self.scene.sections.len()) {
            (_, 0) => {
                self.composer.section = None;
                None
            }
            (Some(pos), n) => {
                pos.index = pos.index.min(n - 1);
                None
            }
            (None, _) => self.start_sections().section,
        };
        Outcome {
            cycle: true,
            params_at_cycle: true,
            loops: true,
            deck,
            kit,
            section,
            ..Outcome::default()
        }
    }

    /// Applies one command. On error nothing changed.
    pub fn apply(&mut self, cmd: &Command) -> Result<Outcome, ApplyError> {
        if cmd.session().is_some() {
            return Err(ApplyError::Session(Box::new(cmd.clone())));
        }
        let params = Outcome {
            params: true,
            ..Outcome::default()
        };
        let cycle = Outcome {
            cycle: true,
            ..Outcome::default()
        };
        let compose = Outcome {
            compose: true,
            ..Outcome::default()
        };
        let s = &mut self.scene;
        Ok(match cmd {
            Command::Tempo(bpm) => {
                s.tempo = *bpm;
                cycle
            }
            Command::Nudge(delta) => {
                s.tempo = (s.tempo + delta).clamp(MIN_BPM, MAX_BPM);
                cycle
            }
            Command::Swing(pct) => {
                s.swing = *pct;
                cycle
            }
            Command::Mute(t) => {
                s.mix.track_mut(*t).mute = true;
                params
            }
            Command::Unmute(t) => {
                s.mix.track_mut(*t).mute = false;
                params
            }
            Command::Toggle(t) => {
                let m = s.mix.track_mut(*t);
                m.mute = !m.mute;
                params
            }
            Command::Solo(t) => {
                self.solo = Some(*t);
                params
            }
            Command::Unsolo => {
                self.solo = None;
                params
            }
            Command::Gain(t, db) => {
                s.mix.track_mut(*t).gain_db = *db;
                params
            }
            Command::Pan(t, pan) => {
                s.mix.track_mut(*t).pan = *pan;
                params
            }
            Command::Send(t, bus, amount) => {
                let m = s.mix.track_mut(*t);
                match bus {
                    crate::command::SendBus::Delay => m.delay_send = *amount,
                    crate::command::SendBus::Reverb => m.reverb_send = *amount,
                }
                params
            }
            Command::Filter(k) => {
                s.mix.filter = *k;
                params
            }
            Command::Master(db) => {
                s.mix.master_db = *db;
                params
            }
            Command::Set(param, value) => {
                let mut p = s.params();
                param.set(&mut p, *value);
                s.sound.drums = p.drums;
                s.sound.bass = p.bass;
                s.effects = p.effects;
                params
            }
            Command::Key(key) => {
                let line = s.bass.bassline();
                s.bass.key = *key;
                if s.bass.line.is_some() {
                    s.bass.set_bassline(&line);
                }
                cycle
            }
            Command::Scale(scale) => {
                s.bass.scale = *scale;
                Outcome::default()
            }
            // What the performer types holds until `unlock`: the AI composes around it.
            Command::Grid(voice, cells) => {
                s.drums.set_row(*voice, Some(**cells));
                s.ai.lock_drums = true;
                cycle
            }
            Command::Bass(line) => {
                s.bass.line = Some(NoteLine::from_absolute(**line));
                s.ai.lock_bass = true;
                cycle
            }
            Command::Load(path) => {
                let scene = Scene::load(path)?;
                self.replace_scene(scene)
            }
            Command::Save(path) => {
                save(&self.scene, path)?;
                Outcome::default()
            }
            // Refused above (`Command::session`).
            Command::Midi(_) | Command::RecordStart(_) | Command::RecordStop | Command::Quit => {
                return Err(ApplyError::Session(Box::new(cmd.clone())));
            }
            Command::Z(x, y) => {
                s.ai.x = *x;
                s.ai.y = *y;
                compose
            }
            Command::Move(dx, dy) => {
                s.ai.x = (s.ai.x + dx).clamp(-LATENT_LIMIT, LATENT_LIMIT);
                s.ai.y = (s.ai.y + dy).clamp(-LATENT_LIMIT, LATENT_LIMIT);
                compose
            }
            Command::Density(d, level) => {
                *density(&mut s.ai, *d) = *level;
                compose
            }
            Command::Push(d, by) => {
                let v = density(&mut s.ai, *d);
                *v = (*v + by).clamp(-LATENT_LIMIT, LATENT_LIMIT);
                compose
            }
            Command::Regen => compose,
            Command::Jump => {
                let mut rng = Rng::new(0x6a75_6d70 ^ self.composer.generation);
                s.ai.x = (rng.normal() * 1.2).clamp(-LATENT_LIMIT, LATENT_LIMIT);
                s.ai.y = (rng.normal() * 1.2).clamp(-LATENT_LIMIT, LATENT_LIMIT);
                compose
            }
            Command::Every(n) => {
                s.ai.every = *n;
                Outcome::default()
            }
            Command::Walk(v) => {
                s.ai.walk = *v;
                Outcome::default()
            }
            Command::Noise(v) => {
                s.ai.noise = *v;
                Outcome::default()
            }
            Command::Threshold(v) => {
                s.ai.threshold = *v;
                compose
            }
            Command::Timing(v) => {
                s.ai.timing = *v;
                compose
            }
            Command::Temperature(v) => {
                s.ai.temperature = *v;
                compose
            }
            Command::PitchTemperature(v) => {
                s.ai.pitch_temperature = *v;
                compose
            }
            Command::RhythmModel(name) => {
                s.ai.model = *name;
                compose
            }
            Command::Phrase(bars) => {
                s.loops.phrase = *bars;
                Outcome::default()
            }
            Command::Lock(part) | Command::Unlock(part) => {
                let locked = matches!(cmd, Command::Lock(_));
                match part {
                    Part::Drums => s.ai.lock_drums = locked,
                    Part::Bass => s.ai.lock_bass = locked,
                    Part::Loops(set) => return Ok(self.lock_loop(*set, locked)),
                }
                Outcome::default()
            }
            Command::UnlockAll => {
                s.ai.lock_drums = false;
                s.ai.lock_bass = false;
                for set in crate::loops::LoopSet::ALL {
                    self.lock_loop(set, false);
                }
                Outcome {
                    loops: true,
                    ..Outcome::default()
                }
            }
            Command::Loop(..) => return Err(ApplyError::NoLoops),
            Command::Feedback(action) => {
                match action {
                    FeedbackAction::On => s.ai.feedback = true,
                    FeedbackAction::Off => s.ai.feedback = false,
                    FeedbackAction::Toggle => s.ai.feedback = !s.ai.feedback,
                    FeedbackAction::Amount(v) => {
                        s.ai.feedback = true;
                        s.ai.feedback_amount = *v;
                    }
                }
                Outcome::default()
            }
            Command::Kit(kit) => {
                s.kit = kit.clone();
                Outcome {
                    kit: true,
                    ..Outcome::default()
                }
            }
            Command::Deck(action) => {
                let control = |c| Outcome {
                    deck: Some(DeckRequest::Control(c)),
                    ..Outcome::default()
                };
                let needs_record = !matches!(action, DeckAction::Load(_) | DeckAction::Rate(_));
                if needs_record && s.deck.file.is_none() {
                    return Err(ApplyError::NoRecord);
                }
                match action {
                    DeckAction::Load(path) => Outcome {
                        deck: Some(DeckRequest::Load(path.clone())),
                        ..Outcome::default()
                    },
                    DeckAction::Eject => {
                        s.deck.file = None;
                        s.deck.playing = false;
                        Outcome {
                            deck: Some(DeckRequest::Eject),
                            ..Outcome::default()
                        }
                    }
                    DeckAction::Play => {
                        s.deck.playing = true;
                        control(DeckControl::Play)
                    }
                    DeckAction::Stop => {
                        s.deck.playing = false;
                        control(DeckControl::Stop)
                    }
                    DeckAction::Toggle => {
                        s.deck.playing = !s.deck.playing;
                        control(if s.deck.playing {
                            DeckControl::Play
                        } else {
                            DeckControl::Stop
                        })
                    }
                    DeckAction::Cue => {
                        s.deck.playing = false;
                        control(DeckControl::Cue)
                    }
                    DeckAction::Nudge(ms) => control(DeckControl::Nudge(*ms)),
                    DeckAction::Rate(p) => {
                        s.deck.rate = *p;
                        control(DeckControl::Rate(*p))
                    }
                }
            }
            Command::Hold(on) => {
                s.ai.hold = *on;
                Outcome::default()
            }
            Command::Transport(on) => Outcome {
                transport: Some(*on),
                ..Outcome::default()
            },
        })
    }
}

fn density(ai: &mut Ai, d: Density) -> &mut f32 {
    match d {
        Density::Kick => &mut ai.kick,
        Density::Hats => &mut ai.hats,
    }
}

fn save(scene: &Scene, path: &Path) -> Result<(), ApplyError> {
    scene.save(path).map_err(|source| ApplyError::Write {
        path: path.display().to_string(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::command::parse;
    use crate::pattern::Voice;
    use crate::scene::library::default_scene;

    fn apply(p: &mut Performance, line: &str) -> Outcome {
        p.apply(&parse(line).unwrap()).unwrap()
    }

    #[test]
    fn commands_change_the_right_things() {
        let mut p = Performance::new(default_scene());
        assert!(apply(&mut p, "tempo 100").cycle);
        assert_eq!(p.scene().tempo, 100.0);
        assert!(apply(&mut p, "gain bass -9").params);
        assert_eq!(p.params().mix.bass.gain_db, -9.0);
        apply(&mut p, "solo bass");
        assert!(p.params().mix.drums.mute && !p.params().mix.bass.mute);
        apply(&mut p, "unsolo");
        assert!(!p.params().mix.drums.mute);
        apply(&mut p, "grid kick x...............");
        assert_eq!(p.scene().drums.pattern().count(Voice::Kick), 2);
        apply(&mut p, "set bass.cutoff_hz 1200");
        assert_eq!(p.params().bass.cutoff_hz, 1200.0);
    }

    #[test]
    fn nudge_and_toggle_are_relative() {
        let mut p = Performance::new(default_scene());
        apply(&mut p, "tempo 120");
        assert!(apply(&mut p, "nudge 1.5").cycle);
        assert_eq!(p.scene().tempo, 121.5);
        apply(&mut p, "nudge -3");
        assert_eq!(p.scene().tempo, 118.5);
        apply(&mut p, "tempo 239");
        apply(&mut p, "nudge 5");
        assert_eq!(p.scene().tempo, MAX_BPM);
        apply(&mut p, "tempo 41");
        apply(&mut p, "nudge -5");
        assert_eq!(p.scene().tempo, MIN_BPM);
        assert!(apply(&mut p, "toggle bass").params);
        assert!(p.params().mix.bass.mute);
        apply(&mut p, "toggle bass");
        assert!(!p.params().mix.bass.mute);
    }

    #[test]
    fn key_change_moves_the_bassline() {
        let mut p = Performance::new(default_scene());
        let before = p.scene().bass.bassline();
        apply(&mut p, "key C");
        assert_eq!(p.scene().bass.bassline(), before);
        assert_eq!(p.scene().bass.tonic_midi(), 24);
    }

    #[test]
    fn a_bad_load_changes_nothing() {
        let mut p = Performance::new(default_scene());
        let before = p.clone();
        let err = p
            .apply(&parse("load /nonexistent/x.ron").unwrap())
            .unwrap_err();
        assert!(err.to_string().contains("/nonexistent/x.ron"), "{err}");
        assert_eq!(p, before);
    }

    #[test]
    fn save_then_load_restores_the_state() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("set.ron");
        let mut p = Performance::new(default_scene());
        apply(&mut p, "tempo 131");
        apply(&mut p, "grid snare ....X.......X..o");
        apply(&mut p, &format!("save {}", file.display()));
        let mut q = Performance::new(default_scene());
        let out = apply(&mut q, &format!("load {}", file.display()));
        assert!(out.cycle && out.params_at_cycle);
        assert_eq!(q.scene(), p.scene());
    }
}
