//! The performance's side of the loops and the feedback loop: ranking each set's loops against
//! the drums and bass of the next cycle, listening to what plays to pick the rhythm loop that
//! fits it (whose pattern pulls the latent point), and the `loop …` commands.

use thiserror::Error;

use super::{Outcome, Performance};
use crate::command::LoopAction;
use crate::loops::audio;
use crate::loops::library::Candidate;
use crate::loops::mel::LOOP_SAMPLES;
use crate::loops::{LoopError, LoopSet};
use crate::model::registry::Models;

/// What the feedback loop heard at a cycle boundary and where it pulls the latent point.
#[derive(Debug, Clone, PartialEq)]
pub struct FeedbackTurn {
    /// The rhythm loop that fits the sound best.
    pub loop_name: String,
    /// Its fit score, 0..1.
    pub score: f32,
    /// The VAE's encoding of its pattern: where the point is pulled.
    pub target: [f32; 2],
}

/// Why a `loop SET …` command was refused.
#[derive(Debug, Error)]
pub enum LoopCommandError {
    /// The set has no loops.
    #[error("no {} loops (no loop library loaded)", .0.name())]
    NoLoops(LoopSet),
    /// `loop SET next` before the set was ranked.
    #[error("no {} candidates yet", .0.name())]
    NoCandidates(LoopSet),
    /// `loop SET N` past the candidates (how many there are).
    #[error("{} has {} candidate(s); pick 1…{}", .0.name(), .1, (.1).max(&1))]
    NoRank(LoopSet, usize),
    /// `loop SET NAME` without a library.
    #[error("no loop library loaded")]
    NoLibrary,
    /// The library has no such loop.
    #[error(transparent)]
    Library(#[from] LoopError),
}

impl Performance {
    /// The loop set candidates of the last ranking, best first.
    pub fn candidates(&self, set: LoopSet) -> &[Candidate] {
        &self.composer.candidates[set.index()]
    }

    /// The loop each set should play in the next cycle: none when the set is off, else the
    /// performer's pick, else the best-ranked candidate.
    pub fn wanted_loop(&self, set: LoopSet) -> Option<&str> {
        let slot = self.scene.loops.slot(set);
        if !slot.on {
            return None;
        }
        slot.pick
            .as_deref()
            .or_else(|| self.candidates(set).first().map(|c| c.name.as_str()))
    }

    /// Ranks every set's loops against the drums and bass the next cycle plays (rendered
    /// through ubiq's own drum machine and bass synth, embedded by the loop model). With the
    /// feedback loop on, the rhythm set keeps the ranking of what it heard instead. Returns
    /// false when there is no loop model or library.
    pub fn rank_loops(&mut self, models: &mut Models) -> bool {
        let k = self.scene.loops.candidates as usize;
        let Models {
            loops: Some(model),
            library: Some(library),
            ..
        } = models
        else {
            return false;
        };
        let queued = self.queued();
        let query =
            super::query::embed_cycle(model, &queued.pattern, &queued.bassline, queued.tonic);
        for set in LoopSet::ALL {
            if set == LoopSet::Rhythm && self.scene.ai.feedback && self.composer.feedback.is_some()
            {
                continue;
            }
            self.composer.candidates[set.index()] = library.rank(set, &query, k);
        }
        true
    }

    /// Listens to one cycle of what played (mono, any rate; it is tempo-normalised to the loop
    /// model's two bars at 120 BPM): the rhythm loop that fits it best, leaving out those the
    /// feedback loop pulled towards in its last [`RECENT_TARGETS`](super::compose::RECENT_TARGETS)
    /// pulls, with the encoding of its pattern by the rhythm model that plays; and the
    /// ranking, that loop first. None without a loop model, a library with rhythm loops or a
    /// rhythm model.
    pub fn listen(
        &self,
        models: &mut Models,
        heard: &[f32],
    ) -> Option<(FeedbackTurn, Vec<Candidate>)> {
        let Models {
            rhythm,
            loops: Some(model),
            library: Some(library),
            ..
        } = models
        else {
            return None;
        };
        let rhythm = rhythm.playing(self.scene.ai.model)?;
        if heard.is_empty() {
            return None;
        }
        let normalised = audio::resample_to(heard, LOOP_SAMPLES, false);
        let query = model.embed_normalised(&normalised);
        let ranked = library.rank(
            LoopSet::Rhythm,
            &query,
            self.scene.loops.candidates as usize,
        );
        let recent = &self.composer.recent_targets;
        let (at, pattern) = ranked
            .iter()
            .enumerate()
            .filter(|(_, c)| !recent.contains(&c.name))
            .find_map(|(i, c)| {
                let entry = library.find(LoopSet::Rhythm, &c.name).ok()?;
                Some((i, entry.drum_pattern()?))
            })?;
        // The loop it pulls towards leads the ranking, so the rhythm set plays it.
        let mut ranked = ranked;
        let chosen = ranked.remove(at);
        let (z, _) = rhythm.encode(&pattern);
        let turn = FeedbackTurn {
            loop_name: chosen.name.clone(),
            score: chosen.score,
            target: z,
        };
        ranked.insert(0, chosen);
        Some((turn, ranked))
    }

    /// Takes the ranking of what the feedback loop heard as the rhythm set's candidates.
    pub fn heard(&mut self, ranked: Vec<Candidate>) {
        self.composer.candidates[LoopSet::Rhythm.index()] = ranked;
    }

    /// Applies a `loop SET …` command. On error nothing changed.
    pub fn apply_loop(
        &mut self,
        set: LoopSet,
        action: &LoopAction,
        models: &mut Models,
    ) -> Result<Outcome, LoopCommandError> {
        let loops = Outcome {
            loops: true,
            ..Outcome::default()
        };
        let has_library = models
            .library
            .as_ref()
            .is_some_and(|l| !l.entries(set).is_empty());
        if !has_library && !matches!(action, LoopAction::Off) {
            return Err(LoopCommandError::NoLoops(set));
        }
        match action {
            LoopAction::On => {
                self.scene.loops.slot_mut(set).on = true;
                if self.candidates(set).is_empty() {
                    self.rank_loops(models);
                }
            }
            LoopAction::Off => self.scene.loops.slot_mut(set).on = false,
            LoopAction::Auto => self.scene.loops.slot_mut(set).pick = None,
            LoopAction::Next => {
                let list = self.candidates(set);
                if list.is_empty() {
                    return Err(LoopCommandError::NoCandidates(set));
                }
                let now = self.wanted_loop(set);
                let at = list.iter().position(|c| Some(c.name.as_str()) == now);
                let next = list[at.map_or(0, |i| (i + 1) % list.len())].name.clone();
                let slot = self.scene.loops.slot_mut(set);
                slot.on = true;
                slot.pick = Some(next);
            }
            LoopAction::Rank(n) => {
                let list = self.candidates(set);
                let Some(c) = list.get(*n as usize - 1) else {
                    return Err(LoopCommandError::NoRank(set, list.len()));
                };
                let name = c.name.clone();
                let slot = self.scene.loops.slot_mut(set);
                slot.on = true;
                slot.pick = Some(name);
            }
            LoopAction::Name(name) => {
                let library = models.library.as_ref().ok_or(LoopCommandError::NoLibrary)?;
                library.find(set, name)?;
                let slot = self.scene.loops.slot_mut(set);
                slot.on = true;
                slot.pick = Some(name.clone());
            }
        }
        Ok(loops)
    }

    /// Fixes the loop a set plays now (`lock SET`), or lets the AI pick again (`unlock SET`).
    pub fn lock_loop(&mut self, set: LoopSet, locked: bool) -> Outcome {
        let now = self.wanted_loop(set).map(str::to_string);
        self.scene.loops.slot_mut(set).pick = if locked { now } else { None };
        Outcome {
            loops: true,
            ..Outcome::default()
        }
    }
}
