//! The performance's side of the loops and the feedback loop: ranking each set's loops against
//! the drums and bass of the next cycle, listening to what plays to pick the rhythm loop that
//! fits it (whose pattern pulls the latent point), and the `loop …` commands.

use thiserror::Error;

use super::{Outcome, Performance, Playing};
use crate::command::{KeyMode, LoopAction};
use crate::loops::audio;
use crate::loops::library::{Candidate, KeyRule, Library, LoopEntry, PitchLayout, standing};
use crate::loops::mel::LOOP_SAMPLES;
use crate::loops::{LoopError, LoopSet};
use crate::model::registry::Models;
use crate::pattern::{BassStep, Bassline};

/// The loop a set plays changes within a phrase when more than this share of the set's
/// loops fit better, two cycles in a row: its fit fell clearly below the best candidate's.
/// (The loop model's fit scores move a lot from one cycle to the next, so a share of the
/// library, held for two cycles, says "clearly" better than a margin of score.)
pub const KEEP_SHARE: f32 = 0.5;

/// Cycles of bass the harmony term of the loop ranking weighs: the last four written (a
/// phrase of eight bars), so that a loop held through a phrase fits the bass of the phrase.
pub const BASS_MEMORY: usize = 4;

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
    /// performer's pick, else the AI's choice for the phrase (see
    /// [`Performance::choose_loops`]), else the best-ranked candidate.
    pub fn wanted_loop(&self, set: LoopSet) -> Option<&str> {
        let slot = self.scene.loops.slot(set);
        if !slot.on {
            return None;
        }
        slot.pick
            .as_deref()
            .or(self.composer.loop_choice[set.index()].as_deref())
            .or_else(|| self.candidates(set).first().map(|c| c.name.as_str()))
    }

    /// Cycles (two bars each) of a phrase.
    pub fn phrase_cycles(&self) -> u64 {
        u64::from(self.scene.loops.phrase / 2).max(1)
    }

    /// Whether the cycle the AI writes for next starts a phrase.
    pub fn phrase_starts(&self) -> bool {
        self.composer.next_cycle % self.phrase_cycles() == 0
    }

    /// Bars from the cycle the AI writes for next to the start of the phrase after it: how
    /// long the loops chosen now play at least.
    pub fn phrase_bars_left(&self) -> u32 {
        let n = self.phrase_cycles();
        let left = n - self.composer.next_cycle % n;
        (2 * left) as u32
    }

    /// Chooses the loop each set plays from the next cycle. On a phrase's first bar, or when
    /// a set plays nothing yet, that is its best candidate. Within a phrase the loop it plays
    /// goes on, unless more than [`KEEP_SHARE`] of the set's loops rank ahead of it two
    /// cycles in a row (in `orders`, each set's whole ranking of this cycle; a set not ranked
    /// now, or a loop not in its ranking, goes on), or it no longer sounds in the set's key
    /// and the best candidate does (`out_of_key`). A loop kept that is not among the
    /// candidates is shown after them.
    pub fn choose_loops(
        &mut self,
        orders: &[Vec<Candidate>; LoopSet::COUNT],
        out_of_key: impl Fn(LoopSet, &str) -> bool,
    ) {
        let starts = self.phrase_starts();
        for set in LoopSet::ALL {
            let i = set.index();
            let Some(best) = self.composer.candidates[i].first().cloned() else {
                continue;
            };
            let next = self.composer.next_cycle;
            let misfit = &mut self.composer.misfit_since[i];
            let keep = self.composer.loop_choice[i].clone().filter(|held| {
                if starts || !self.scene.loops.slot(set).on {
                    return false;
                }
                if out_of_key(set, held) && !out_of_key(set, &best.name) {
                    // The set's key changed under it (a scene, `key`, `scale`).
                    return false;
                }
                match standing(&orders[i], held) {
                    Some(share) if share > KEEP_SHARE => match *misfit {
                        Some(since) => since == next,
                        None => {
                            *misfit = Some(next);
                            true
                        }
                    },
                    Some(_) => {
                        *misfit = None;
                        true
                    }
                    None => true,
                }
            });
            if keep.is_none() {
                *misfit = None;
            }
            match keep {
                Some(held) => {
                    let list = &mut self.composer.candidates[i];
                    if !list.iter().any(|c| c.name == held) {
                        let ranked = orders[i].iter().find(|c| c.name == held).cloned();
                        list.push(ranked.unwrap_or(Candidate {
                            score: 0.0,
                            distance: f32::NAN,
                            name: held,
                            semitones: 0,
                        }));
                    }
                }
                None => self.composer.loop_choice[i] = Some(best.name),
            }
        }
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
        let heard = self.scene.ai.feedback && self.composer.feedback.is_some();
        let layout = model.pitch_layout();
        let bass = self.remember_bass(&queued);
        let rules = LoopSet::ALL.map(|set| self.key_rule(set, layout));
        // Each set's whole ranking, once: its candidates and the standing of the loop it
        // plays. The rhythm set heard with the feedback loop keeps the ranking of what played.
        let mut orders: [Vec<Candidate>; LoopSet::COUNT] = Default::default();
        for set in LoopSet::ALL {
            if set == LoopSet::Rhythm && heard {
                continue;
            }
            let order =
                library.rank_keyed(set, &query, usize::MAX, rules[set.index()], Some(&bass));
            self.composer.candidates[set.index()] = order.iter().take(k).cloned().collect();
            orders[set.index()] = order;
        }
        let library = &*library;
        self.choose_loops(&orders, |set, name| {
            let loop_key = library.find(set, name).ok().and_then(LoopEntry::loop_key);
            match rules[set.index()] {
                KeyRule::Free => false,
                KeyRule::Match(key, scale) => loop_key.is_none_or(|lk| !lk.fits(key, scale)),
                // Every loop with a key is moved into the set's.
                KeyRule::Follow(..) => loop_key.is_none(),
            }
        });
        true
    }

    /// Notes the pitch classes the bass of `cycle` (the one the AI writes for next) plays,
    /// and returns those of the last [`BASS_MEMORY`] cycles together: the harmony a loop
    /// held through a phrase meets, rather than one cycle's notes.
    /// Degrees are remembered from the tonic, so a key change moves the memory along.
    fn remember_bass(&mut self, cycle: &Playing) -> [f32; 12] {
        let degrees = bass_degrees(&cycle.bassline);
        let next = self.composer.next_cycle;
        let recent = &mut self.composer.recent_bass;
        match recent.back_mut() {
            Some((c, last)) if *c == next => *last = degrees,
            _ => super::compose::push_bounded(recent, (next, degrees), BASS_MEMORY),
        }
        let tonic = usize::from(cycle.tonic % 12);
        let mut pcs = [0.0; 12];
        for (_, degrees) in recent.iter() {
            for (degree, count) in degrees.iter().enumerate() {
                pcs[(tonic + degree) % 12] += count;
            }
        }
        pcs
    }

    /// How `set`'s key orders its loops: its `loop SET key` mode in the scene's key and
    /// scale (an unpitched set, or a model whose embeddings do not move with pitch under
    /// `follow`, by fit alone).
    fn key_rule(&self, set: LoopSet, layout: Option<PitchLayout>) -> KeyRule {
        let (key, scale) = (self.scene.bass.key, self.scene.bass.scale);
        if !set.pitched() {
            return KeyRule::Free;
        }
        match (self.scene.loops.slot(set).key, layout) {
            (KeyMode::Free, _) => KeyRule::Free,
            (KeyMode::Match, _) | (KeyMode::Follow, None) => KeyRule::Match(key, scale),
            (KeyMode::Follow, Some(layout)) => KeyRule::Follow(key, scale, layout),
        }
    }

    /// The semitones loop `name` of `set` is moved by when it plays: under `loop SET key
    /// follow`, what brings its key into the scene's (see
    /// [`LoopKey::follow_shift`](crate::loops::key::LoopKey::follow_shift)); else,
    /// or for a loop without a key, 0. `library` tells the loop's key.
    pub fn loop_shift(&self, set: LoopSet, name: &str, library: Option<&Library>) -> i8 {
        if !set.pitched() || self.scene.loops.slot(set).key != KeyMode::Follow {
            return 0;
        }
        library
            .and_then(|l| l.find(set, name).ok())
            .and_then(LoopEntry::loop_key)
            .map(|lk| lk.follow_shift(self.scene.bass.key, self.scene.bass.scale))
            .unwrap_or(0)
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
                // A set turned on plays its best candidate, then phrases from there.
                self.composer.loop_choice[set.index()] = None;
                if self.candidates(set).is_empty() {
                    self.rank_loops(models);
                }
            }
            LoopAction::Off => self.scene.loops.slot_mut(set).on = false,
            LoopAction::Key(mode) => {
                self.scene.loops.slot_mut(set).key = *mode;
                self.rank_loops(models);
            }
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

/// The degrees a bassline plays, in semitones above the tonic (0..12, octaves folded): each
/// note counted once, where it starts.
fn bass_degrees(bassline: &Bassline) -> [f32; 12] {
    let mut degrees = [0.0f32; 12];
    for step in &bassline.steps {
        if let BassStep::Note { pitch, .. } = step {
            degrees[usize::from(pitch.rem_euclid(12) as u8)] += 1.0;
        }
    }
    degrees
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::command::parse;
    use crate::scene::library::default_scene;

    fn candidate(name: &str, score: f32) -> Candidate {
        Candidate::new(name.into(), 4.0 * (1.0 - score))
    }

    /// A performance whose music set ranks `best` first, at cycle `next`.
    fn ranked(p: &mut Performance, best: &str, next: u64) {
        p.composer.next_cycle = next;
        p.composer.candidates[LoopSet::Music.index()] =
            vec![candidate(best, 0.9), candidate("other", 0.8)];
    }

    #[test]
    fn a_loop_plays_through_its_phrase_unless_it_clearly_stops_fitting() {
        let mut p = Performance::new(default_scene());
        assert_eq!(p.scene().loops.phrase, 8, "8 bars by default");
        assert!(p.scene().loops.music.on);
        // The music set's whole ranking of ten loops with `held` at `place` (a tenth each).
        let ranking = |held: &str, place: usize| {
            let mut orders: [Vec<Candidate>; LoopSet::COUNT] = Default::default();
            let mut music: Vec<Candidate> =
                (0..9).map(|i| candidate(&format!("x{i}"), 0.5)).collect();
            music.insert(place, candidate(held, 0.5));
            orders[LoopSet::Music.index()] = music;
            orders
        };
        let (fits, misfits) = (1, 9);
        ranked(&mut p, "a", 0);
        p.choose_loops(&ranking("a", fits), |_, _| false);
        assert_eq!(p.wanted_loop(LoopSet::Music), Some("a"));
        // Within the phrase (cycles 1–3) a better candidate waits while `a` still fits.
        for next in 1..4 {
            ranked(&mut p, "b", next);
            p.choose_loops(&ranking("a", fits), |_, _| false);
            assert_eq!(p.wanted_loop(LoopSet::Music), Some("a"), "cycle {next}");
        }
        // The kept loop is shown among the candidates.
        assert!(p.candidates(LoopSet::Music).iter().any(|c| c.name == "a"));
        // The next phrase starts with the best candidate.
        ranked(&mut p, "b", 4);
        p.choose_loops(&ranking("a", fits), |_, _| false);
        assert_eq!(p.wanted_loop(LoopSet::Music), Some("b"));
        // One cycle of misfit is not enough; two in a row are.
        ranked(&mut p, "c", 5);
        p.choose_loops(&ranking("b", misfits), |_, _| false);
        assert_eq!(p.wanted_loop(LoopSet::Music), Some("b"));
        ranked(&mut p, "c", 5);
        p.choose_loops(&ranking("b", misfits), |_, _| false);
        assert_eq!(
            p.wanted_loop(LoopSet::Music),
            Some("b"),
            "the same cycle again"
        );
        ranked(&mut p, "c", 6);
        p.choose_loops(&ranking("b", misfits), |_, _| false);
        assert_eq!(p.wanted_loop(LoopSet::Music), Some("c"));
        // A loop the set's key left (a scene, `key`) gives way to one in the key at once.
        ranked(&mut p, "d", 7);
        p.choose_loops(&ranking("c", fits), |_, name| name == "c");
        assert_eq!(p.wanted_loop(LoopSet::Music), Some("d"));
        // A performer's pick goes first.
        p.scene.loops.music.pick = Some("mine".into());
        assert_eq!(p.wanted_loop(LoopSet::Music), Some("mine"));
    }

    #[test]
    fn the_phrase_is_4_8_16_or_32_bars_and_counts_down() {
        let mut p = Performance::new(default_scene());
        p.apply(&parse("phrase 16").unwrap()).unwrap();
        assert_eq!(p.phrase_cycles(), 8);
        p.composer.next_cycle = 3;
        assert_eq!(p.phrase_bars_left(), 10);
        assert!(!p.phrase_starts());
        p.composer.next_cycle = 8;
        assert!(p.phrase_starts());
        assert!(parse("phrase 6").is_err());
        for line in ["loop music key free", "loop ambient key match"] {
            assert_eq!(parse(line).unwrap().to_string(), line);
        }
        let scene = |bars: u32| {
            crate::scene::Scene::from_ron(
                &format!("Scene(loops: (phrase: {bars}))"),
                std::path::Path::new("s.ron"),
            )
        };
        assert_eq!(scene(32).unwrap().loops.phrase, 32);
        let err = scene(6).unwrap_err().to_string();
        assert!(
            err.contains("a phrase is 4, 8, 16 or 32 bars, not 6"),
            "{err}"
        );
    }
}
