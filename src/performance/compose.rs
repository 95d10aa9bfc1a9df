//! The AI's side of the performance: the models, and how the latent position, densities and
//! policy turn into new cycles. Used the same way live and in replays, so a replayed set
//! composes exactly what was composed on stage.

use std::collections::VecDeque;

use super::loops::FeedbackTurn;
use super::{Outcome, Performance};
use crate::loops::LoopSet;
use crate::loops::library::Candidate;
use crate::model::bass::infer::TranslateOptions;
use crate::model::registry::Models;
use crate::model::rhythm::{Conditions, DecodeOptions};
use crate::model::rng::Rng;
use crate::scene::DrumGrids;

/// Edge of the latent plane the performer can reach.
pub const LATENT_LIMIT: f32 = 3.0;
/// Positions kept for the pad's trail.
pub const TRAIL: usize = 24;
/// Salt of the composition seeds (generation n of a set seeded `s` uses
/// `SALT ^ n ^ spread(s)`).
const SALT: u64 = 0x7562_6971;
/// The seed a set composes with unless told otherwise (the command line's `--seed` default).
pub const DEFAULT_SEED: u64 = 1;
/// The walk's circle (the model's
/// [`data_radius`](crate::model::rhythm::RhythmModel::data_radius)) at most: the pad's
/// corners are left to the performer.
const WALK_RADIUS: f32 = 0.9 * LATENT_LIMIT;
/// The walk's circle for a model without a map: the prior's 75 % circle, √(2 ln 4).
const PRIOR_RADIUS: f32 = 1.665;
/// Training windows whose centre a feedback target moves to: the loop's encoding is where
/// its pattern sits, the centre of its nearest training windows is a groove the model knows.
pub const SETTLE_NEIGHBOURS: usize = 16;
/// Rhythm loops the feedback loop remembers pulling towards: it does not pull towards one of
/// them again, so it moves on instead of settling on one loop.
pub const RECENT_TARGETS: usize = 4;

/// Spreads a set's seed over all 64 bits, so neighbouring seeds compose unrelated cycles.
/// The default seed spreads to 0: a set seeded 1 composes as sets did before the seed reached
/// the AI, so their session logs replay the same.
fn spread(seed: u64) -> u64 {
    (seed ^ DEFAULT_SEED).wrapping_mul(0x9E37_79B9_7F4A_7C15)
}

/// Runtime state of the composer that is not part of the scene.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Composer {
    /// New cycles written so far (with the set's seed, the seed of the next one).
    pub generation: u64,
    /// The set's seed (`--seed`): the same scene, changes and seed compose the same cycles,
    /// another seed other ones.
    pub seed: u64,
    /// Recent latent positions, oldest first.
    pub trail: VecDeque<(f32, f32)>,
    /// Each loop set's candidates from the last ranking, best first.
    pub candidates: [Vec<Candidate>; LoopSet::COUNT],
    /// What the feedback loop heard last.
    pub feedback: Option<FeedbackTurn>,
    /// Where the set list is.
    pub section: Option<super::sections::SectionPos>,
    /// The waypoint of the scene's latent path the point goes to next.
    pub path_step: usize,
    /// The rhythm loops the feedback loop pulled towards last, oldest first.
    pub recent_targets: VecDeque<String>,
    /// The loop each set plays through the phrase (the AI's choice; a performer's pick
    /// goes first).
    pub loop_choice: [Option<String>; LoopSet::COUNT],
    /// The cycle the AI writes for next (the one after the cycle that plays).
    pub next_cycle: u64,
    /// For each set, the cycle from which the loop it plays has fit worse than
    /// [`KEEP_SHARE`](super::loops::KEEP_SHARE) of its loops, cycle after cycle.
    pub misfit_since: [Option<u64>; LoopSet::COUNT],
    /// The degrees (semitones above the tonic) the bass played in the last
    /// [`BASS_MEMORY`](super::loops::BASS_MEMORY) cycles the loops were ranked for, with
    /// each cycle's number, oldest first.
    pub recent_bass: VecDeque<(u64, [f32; 12])>,
}

fn clamp_latent(v: f32) -> f32 {
    v.clamp(-LATENT_LIMIT, LATENT_LIMIT)
}

/// Appends `item`, dropping the oldest beyond `cap`.
pub(super) fn push_bounded<T>(queue: &mut VecDeque<T>, item: T, cap: usize) {
    queue.push_back(item);
    while queue.len() > cap {
        queue.pop_front();
    }
}

/// `z` pulled in to at most `radius` from the origin.
fn within_radius(z: [f32; 2], radius: f32) -> [f32; 2] {
    let r = z[0].hypot(z[1]);
    if r <= radius || r == 0.0 {
        z
    } else {
        [z[0] * radius / r, z[1] * radius / r]
    }
}

impl Performance {
    /// Writes a new cycle at the current latent point: the drums from the rhythm model, then
    /// the bassline the bass model plays with them, then ranks the loops against them. A
    /// locked part (`lock`, or one the performer typed) stays as it is and the AI writes the
    /// rest around it; nothing is written while held or with both parts locked. Returns true
    /// when the music changed.
    pub fn compose(&mut self, models: &mut Models) -> bool {
        let ai = self.scene.ai;
        let bass_free = !ai.lock_bass && models.bass.is_some();
        if ai.hold || (ai.lock_drums && !bass_free) {
            return false;
        }
        let Some(rhythm) = models.rhythm.playing(ai.model) else {
            return false;
        };
        let seed = SALT ^ self.composer.generation ^ spread(self.composer.seed);
        self.composer.generation += 1;
        let pattern = if ai.lock_drums {
            self.scene.drums.pattern()
        } else {
            let mut rng = Rng::new(seed);
            let z = [
                clamp_latent(ai.x + ai.noise * rng.normal()),
                clamp_latent(ai.y + ai.noise * rng.normal()),
            ];
            let pattern = rhythm.decode(
                z,
                Conditions {
                    kick: ai.kick,
                    hats: ai.hats,
                },
                &DecodeOptions {
                    threshold: ai.threshold,
                    timing: ai.timing,
                    seed,
                },
            );
            // The kit shapes what plays; the bass model hears the drums as the rhythm model
            // wrote them, with the dynamics of the data both learned from.
            let mut played = pattern;
            let accents = self.scene.sound.drums.accents;
            accents.shape(&mut played, &rhythm.strong_velocities());
            push_bounded(&mut self.composer.trail, (z[0], z[1]), TRAIL);
            self.scene.drums = DrumGrids::from_pattern(&played);
            pattern
        };
        if !ai.lock_bass
            && let Some(bass) = &models.bass
        {
            let b = &self.scene.bass;
            let line = bass.translate_with(
                &pattern,
                &TranslateOptions {
                    key: b.key,
                    scale: b.scale,
                    temperature: ai.temperature,
                    pitch_temperature: ai.pitch_temperature,
                    seed,
                    ..TranslateOptions::default()
                },
            );
            self.scene.bass.set_bassline(&line);
        }
        self.rank_loops(models);
        true
    }

    /// What the AI does when cycle `cycle` starts: take what the feedback loop heard (pulling
    /// the point towards it), drift, and write the next cycle when the policy asks for one.
    pub fn tick(
        &mut self,
        cycle: u64,
        models: &mut Models,
        heard: Option<&FeedbackTurn>,
    ) -> Outcome {
        let section = self.advance_sections();
        self.composer.next_cycle = cycle + 1;
        if self.phrase_starts() {
            // Loops change on a phrase's first bar even when no new cycle is written.
            self.choose_loops(&Default::default(), |_, _| false);
        }
        let ai = self.scene.ai;
        let Some(rhythm) = models.rhythm.playing(ai.model).filter(|_| !ai.hold) else {
            return Outcome {
                section,
                ..Outcome::default()
            };
        };
        let map = rhythm.latent_map().cloned();
        let radius = rhythm
            .data_radius()
            .unwrap_or(PRIOR_RADIUS)
            .min(WALK_RADIUS);
        let mut due = ai.every > 0 && cycle % u64::from(ai.every) == 0;
        if due && !self.scene.path.is_empty() {
            let n = self.scene.path.len();
            let next = self.composer.path_step % n;
            self.composer.path_step = (next + 1) % n;
            let (x, y) = self.scene.path[next];
            self.scene.ai.x = clamp_latent(x);
            self.scene.ai.y = clamp_latent(y);
        }
        let ai = self.scene.ai;
        if ai.feedback
            && let Some(turn) = heard
        {
            // What it heard is reported every cycle; it pulls the point when a new cycle is
            // due (every cycle with `every 0`).
            self.composer.feedback = Some(turn.clone());
            if ai.every == 0 || due {
                let target = match &map {
                    Some(m) => m.settle(turn.target, SETTLE_NEIGHBOURS),
                    None => within_radius(turn.target, radius),
                };
                let a = &mut self.scene.ai;
                let k = ai.feedback_amount;
                a.x = clamp_latent(a.x + k * (target[0] - a.x));
                a.y = clamp_latent(a.y + k * (target[1] - a.y));
                let recent = &mut self.composer.recent_targets;
                push_bounded(recent, turn.loop_name.clone(), RECENT_TARGETS);
                due = true;
            }
        }
        if ai.walk > 0.0 {
            // A step in a seeded direction; one that would leave the region where the
            // model's data lives goes the other way instead.
            let mut rng = Rng::new(SALT ^ cycle.rotate_left(17) ^ spread(self.composer.seed));
            let angle = rng.uniform() * std::f32::consts::TAU;
            let a = &mut self.scene.ai;
            let step = [ai.walk * angle.cos(), ai.walk * angle.sin()];
            let ahead = (a.x + step[0]).hypot(a.y + step[1]);
            let sign = if ahead > radius && ahead > a.x.hypot(a.y) {
                -1.0
            } else {
                1.0
            };
            a.x = clamp_latent(a.x + sign * step[0]);
            a.y = clamp_latent(a.y + sign * step[1]);
            due = true;
        }
        let composed = due && self.compose(models);
        Outcome {
            cycle: composed,
            turn: true,
            loops: composed,
            section,
            ..Outcome::default()
        }
    }

    /// Applies a command and, when it moved the AI, composes the next cycle right away.
    pub fn apply_with(
        &mut self,
        cmd: &crate::command::Command,
        models: &mut Models,
    ) -> Result<Outcome, super::ApplyError> {
        if let crate::command::Command::Loop(set, action) = cmd {
            return self
                .apply_loop(*set, action, models)
                .map_err(super::ApplyError::Loop);
        }
        if let crate::command::Command::RhythmModel(name) = cmd
            && models.rhythm.get(*name).is_none()
        {
            return Err(super::ApplyError::NoModel {
                name: *name,
                have: models.rhythm.listing(),
            });
        }
        let mut out = self.apply(cmd)?;
        if out.compose && self.compose(models) {
            out.cycle = true;
            out.loops = true;
        }
        if out.cycle && !out.loops && self.scene.loops.any_on() {
            out.loops = self.rank_loops(models);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::command::{ModelName, parse};
    use crate::pattern::Voice;
    use crate::scene::library::default_scene;

    /// The default scene with the AI's defaults (the bank's first model, the groove model)
    /// writing every 4 cycles, without the walk and noise the shipped scene has.
    fn scene() -> crate::scene::Scene {
        let mut s = default_scene();
        s.ai = crate::scene::Ai {
            every: 4,
            ..crate::scene::Ai::default()
        };
        s
    }

    fn models() -> Models {
        let (m, problems) = Models::embedded();
        assert!(problems.is_empty(), "{problems:?}");
        m
    }

    #[test]
    fn moving_composes_and_kick_density_adds_kicks() {
        let mut models = models();
        let mut p = Performance::new(scene());
        let out = p
            .apply_with(&parse("z 0.5 -0.5").unwrap(), &mut models)
            .unwrap();
        assert!(out.cycle);
        let mut counts = Vec::new();
        for level in ["-1.5", "0", "1.5"] {
            p.apply_with(&parse(&format!("kick {level}")).unwrap(), &mut models)
                .unwrap();
            counts.push(p.scene().drums.pattern().count(Voice::Kick));
        }
        assert!(counts[0] < counts[2], "kick counts {counts:?}");
    }

    #[test]
    fn the_bass_follows_the_new_drums_in_the_scale() {
        let mut models = models();
        let mut p = Performance::new(scene());
        p.apply_with(&parse("scale minor_pentatonic").unwrap(), &mut models)
            .unwrap();
        p.apply_with(&parse("z -1 1").unwrap(), &mut models)
            .unwrap();
        let line = p.scene().bass.bassline();
        assert!(line.note_count() > 0);
        assert!(
            line.pitches()
                .all(|x| crate::pattern::Scale::MinorPentatonic.contains(i32::from(x)))
        );
        p.apply_with(&parse("lock bass").unwrap(), &mut models)
            .unwrap();
        p.apply_with(&parse("z 1.5 -1").unwrap(), &mut models)
            .unwrap();
        assert_eq!(p.scene().bass.bassline(), line);
    }

    #[test]
    fn hold_and_lock_keep_the_pattern() {
        let mut models = models();
        let mut p = Performance::new(scene());
        let before = p.scene().drums;
        p.apply_with(&parse("lock drums").unwrap(), &mut models)
            .unwrap();
        let out = p.apply_with(&parse("regen").unwrap(), &mut models).unwrap();
        assert!(out.cycle, "the bass is still the AI's to write");
        assert_eq!(p.scene().drums, before);
        p.apply_with(&parse("lock bass").unwrap(), &mut models)
            .unwrap();
        let out = p.apply_with(&parse("regen").unwrap(), &mut models).unwrap();
        assert!(!out.cycle, "both parts locked: nothing to write");
        p.apply_with(&parse("unlock all").unwrap(), &mut models)
            .unwrap();
        p.apply_with(&parse("hold on").unwrap(), &mut models)
            .unwrap();
        assert!(
            !p.apply_with(&parse("regen").unwrap(), &mut models)
                .unwrap()
                .cycle
        );
        assert!(!p.tick(4, &mut models, None).cycle);
    }

    #[test]
    fn a_typed_grid_and_bass_hold_through_ai_cycles_until_unlocked() {
        let mut models = models();
        let mut p = Performance::new(scene());
        p.apply_with(&parse("every 1").unwrap(), &mut models)
            .unwrap();
        p.apply_with(&parse("grid kick X...x...X...x...").unwrap(), &mut models)
            .unwrap();
        assert!(p.scene().ai.lock_drums && !p.scene().ai.lock_bass);
        let drums = p.scene().drums;
        for c in 1..5 {
            assert!(p.tick(c, &mut models, None).cycle, "the bass is composed");
            assert_eq!(p.scene().drums, drums, "typed drums kept at cycle {c}");
        }
        p.apply_with(
            &parse("bass A1 . A1 . C2 - . G1 . . . E1 . . . .").unwrap(),
            &mut models,
        )
        .unwrap();
        assert!(p.scene().ai.lock_bass);
        let line = p.scene().bass.bassline();
        for c in 5..8 {
            p.tick(c, &mut models, None);
            assert_eq!(p.scene().drums, drums);
            assert_eq!(
                p.scene().bass.bassline(),
                line,
                "typed bass kept at cycle {c}"
            );
        }
        p.apply_with(&parse("unlock drums").unwrap(), &mut models)
            .unwrap();
        assert!(p.tick(8, &mut models, None).cycle);
        assert_ne!(p.scene().drums, drums, "the AI composes the drums again");
        assert_eq!(p.scene().bass.bassline(), line);
        p.apply_with(&parse("unlock bass").unwrap(), &mut models)
            .unwrap();
        p.tick(9, &mut models, None);
        assert_ne!(p.scene().bass.bassline(), line, "and the bass");
    }

    #[test]
    fn the_feedback_turn_is_reported_every_cycle_and_pulls_when_due() {
        let mut models = models();
        // The default scene writes every 4 cycles.
        let mut p = Performance::new(scene());
        assert_eq!(p.scene().ai.every, 4);
        p.apply_with(&parse("feedback on").unwrap(), &mut models)
            .unwrap();
        let turn = FeedbackTurn {
            loop_name: "gmd_1705".into(),
            score: 0.88,
            target: [1.0, -1.0],
        };
        p.tick(1, &mut models, Some(&turn));
        assert_eq!(
            p.feedback(),
            Some(&turn),
            "heard on a cycle that writes nothing"
        );
        assert_eq!((p.scene().ai.x, p.scene().ai.y), (0.0, 0.0), "no pull yet");
        assert!(p.tick(4, &mut models, Some(&turn)).cycle);
        // Half way to the centre of the training windows around the loop's encoding.
        let map = models.latent_map(ModelName::DEFAULT).unwrap();
        let target = map.settle(turn.target, SETTLE_NEIGHBOURS);
        assert!((target[0] - 1.0).hypot(target[1] + 1.0) < 0.5, "{target:?}");
        assert_eq!(
            (p.scene().ai.x, p.scene().ai.y),
            (0.5 * target[0], 0.5 * target[1])
        );
    }

    #[test]
    fn a_walk_moves_and_composes_every_cycle_deterministically() {
        let mut models = models();
        let mut a = Performance::new(scene());
        a.apply(&parse("walk 0.3").unwrap()).unwrap();
        let mut b = a.clone();
        for c in 1..6 {
            assert!(a.tick(c, &mut models, None).cycle);
            b.tick(c, &mut models, None);
        }
        assert_eq!(a, b);
        assert_eq!(a.composer.trail.len(), 5);
        assert_ne!((a.scene().ai.x, a.scene().ai.y), (0.0, 0.0));
    }

    #[test]
    fn the_sets_seed_reaches_what_the_ai_writes() {
        let mut models = models();
        let cycles = |seed: u64, models: &mut Models| {
            let mut p = Performance::seeded(scene(), seed);
            p.apply(&parse("noise 0.5").unwrap()).unwrap();
            (1..=3)
                .map(|c| {
                    p.tick(4 * c, models, None);
                    (p.scene().drums.pattern(), p.scene().bass.bassline())
                })
                .collect::<Vec<_>>()
        };
        let one = cycles(1, &mut models);
        assert_eq!(one, cycles(1, &mut models), "a seed composes the same set");
        assert_ne!(one, cycles(2, &mut models), "another seed composes another");
        let mut unseeded = Performance::new(scene());
        let mut seeded = Performance::seeded(scene(), DEFAULT_SEED);
        unseeded
            .apply_with(&parse("z 1 -1").unwrap(), &mut models)
            .unwrap();
        seeded
            .apply_with(&parse("z 1 -1").unwrap(), &mut models)
            .unwrap();
        assert_eq!(
            unseeded, seeded,
            "a performance composes with the default seed"
        );
    }

    #[test]
    fn the_pitch_temperature_frees_the_notes_and_zero_is_a_pedal() {
        let mut models = models();
        let pitches = |t: &str, models: &mut Models| {
            let mut p = Performance::new(scene());
            p.apply(&parse(&format!("pitch-temperature {t}")).unwrap())
                .unwrap();
            let mut seen = std::collections::BTreeSet::new();
            for c in 1..=8 {
                p.tick(4 * c, models, None);
                seen.extend(
                    p.scene()
                        .bass
                        .bassline()
                        .steps
                        .iter()
                        .filter_map(|s| match s {
                            crate::pattern::BassStep::Note { pitch, .. } => Some(*pitch),
                            _ => None,
                        }),
                );
            }
            seen.len()
        };
        let (cold, warm) = (pitches("0", &mut models), pitches("1", &mut models));
        assert!(warm > cold, "{warm} pitches at 1, {cold} at 0");
    }

    #[test]
    fn the_model_switches_by_name_and_an_unknown_name_is_refused() {
        let mut models = models();
        let mut p = Performance::new(scene());
        p.apply_with(&parse("model rhythm groove").unwrap(), &mut models)
            .unwrap();
        p.apply_with(&parse("z 0.5 0.5").unwrap(), &mut models)
            .unwrap();
        let groove = p.scene().drums.pattern();
        let out = p
            .apply_with(&parse("model rhythm dance").unwrap(), &mut models)
            .unwrap();
        assert!(out.cycle, "the next cycle comes from the dance model");
        assert_eq!(p.scene().ai.model.as_str(), "dance");
        assert_ne!(p.scene().drums.pattern(), groove);
        let err = p
            .apply_with(&parse("model rhythm nope").unwrap(), &mut models)
            .unwrap_err()
            .to_string();
        assert_eq!(err, "no rhythm model nope (the bank holds: groove, dance)");
        assert_eq!(
            p.scene().ai.model.as_str(),
            "dance",
            "a refusal changes nothing"
        );
        let dance = models.latent_map(p.scene().ai.model).unwrap();
        let groove = models.latent_map(ModelName::DEFAULT).unwrap();
        assert_ne!(
            dance, groove,
            "the pad shows the map of the model that plays"
        );
    }

    #[test]
    fn the_kits_accents_set_the_level_and_keep_each_hits_ratio() {
        let mut models = models();
        let mut p = Performance::new(scene());
        p.apply_with(&parse("z -0.5 0.8").unwrap(), &mut models)
            .unwrap();
        let played = p.scene().drums.pattern();
        // The same cycle decoded without the kit.
        let rhythm = models.rhythm.get(ModelName::DEFAULT).unwrap();
        let raw = rhythm.decode(
            [-0.5, 0.8],
            Conditions::default(),
            &DecodeOptions {
                seed: SALT,
                ..DecodeOptions::default()
            },
        );
        let accents = p.scene().sound.drums.accents;
        let strong = rhythm.strong_velocities();
        assert!(played.count(Voice::Kick) > 0);
        for voice in Voice::ALL {
            let (row, raw_row) = (played.row(voice), raw.row(voice));
            let loudest = raw_row
                .iter()
                .filter(|c| c.hit)
                .map(|c| c.velocity)
                .fold(0.0, f32::max);
            let reference = loudest.max(0.5 * strong[voice.index()]);
            for (a, b) in row.iter().zip(raw_row) {
                assert_eq!(a.hit, b.hit);
                if a.hit {
                    // Each hit keeps its ratio to the row's loudest, which plays the accent.
                    let expected = (b.velocity * accents.of(voice) / reference).min(1.0);
                    assert!((a.velocity - expected).abs() < 1e-6, "{voice:?}");
                }
            }
        }
        let top = played
            .row(Voice::Kick)
            .iter()
            .map(|c| c.velocity)
            .fold(0.0, f32::max);
        assert_eq!(top, accents.kick, "the loudest kick plays the kit's accent");
        let kick = |p: &crate::pattern::DrumPattern| -> Vec<f32> {
            p.row(Voice::Kick)
                .iter()
                .filter(|c| c.hit)
                .map(|c| c.velocity)
                .collect()
        };
        let (loud, soft) = (kick(&played), kick(&raw));
        assert!(
            loud.iter().sum::<f32>() > soft.iter().sum::<f32>(),
            "the dance kit drives the kick"
        );
    }

    #[test]
    fn the_walk_and_the_feedback_keep_to_where_the_models_data_lives() {
        let mut models = models();
        let map = models.latent_map(ModelName::DEFAULT).unwrap();
        let radius = map
            .radius(crate::model::rhythm::infer::DATA_SHARE)
            .unwrap()
            .min(WALK_RADIUS);
        assert!((1.0..=WALK_RADIUS).contains(&radius), "{radius}");
        let mut p = Performance::new(scene());
        p.apply(&parse("walk 0.6").unwrap()).unwrap();
        for c in 1..300 {
            p.tick(c, &mut models, None);
            let r = p.scene().ai.x.hypot(p.scene().ai.y);
            assert!(r <= radius + 0.6 + 1e-4, "cycle {c}: |z| {r}");
        }
        let mut p = Performance::new(scene());
        p.apply(&parse("every 1").unwrap()).unwrap();
        p.apply(&parse("feedback amount 1").unwrap()).unwrap();
        let far = FeedbackTurn {
            loop_name: "far".into(),
            score: 0.9,
            target: [3.0, -3.0],
        };
        p.tick(1, &mut models, Some(&far));
        let z = [p.scene().ai.x, p.scene().ai.y];
        let settled = map.settle([3.0, -3.0], SETTLE_NEIGHBOURS);
        assert_eq!(z, settled.map(clamp_latent));
        let windows_near = map
            .points
            .iter()
            .filter(|q| (q.x - z[0]).hypot(q.y - z[1]) < 0.5)
            .count();
        assert!(
            windows_near >= 8,
            "pulled to where training windows are: {z:?}"
        );
    }

    #[test]
    fn another_seed_walks_another_way() {
        let mut models = models();
        let trail = |seed: u64, models: &mut Models| {
            let mut p = Performance::seeded(scene(), seed);
            p.apply(&parse("walk 0.3").unwrap()).unwrap();
            for c in 1..6 {
                p.tick(c, models, None);
            }
            p.composer.trail.clone()
        };
        assert_eq!(trail(1, &mut models), trail(1, &mut models));
        assert_ne!(trail(1, &mut models), trail(2, &mut models));
    }

    #[test]
    fn the_feedback_loop_does_not_pull_towards_a_loop_it_just_pulled_towards() {
        use crate::loops::library::Library;
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("loops");
        let mut models = models().with_library(Some(Library::open(&root)));
        let mut p = Performance::new(scene());
        for line in ["every 1", "loop rhythm on", "feedback on"] {
            p.apply_with(&parse(line).unwrap(), &mut models).unwrap();
        }
        // Two bars at 120 BPM of a kick-like thump on every beat, at 16 kHz.
        let heard: Vec<f32> = (0..64_000)
            .map(|i| {
                let t = (i % 8_000) as f32 / 16_000.0;
                (t * 60.0 * std::f32::consts::TAU).sin() * (-t * 12.0).exp()
            })
            .collect();
        let mut pulled = Vec::new();
        for c in 1..=RECENT_TARGETS as u64 + 1 {
            let (turn, ranked) = p.listen(&mut models, &heard).unwrap();
            p.heard(ranked);
            p.tick(c, &mut models, Some(&turn));
            pulled.push(turn.loop_name);
        }
        let distinct: std::collections::BTreeSet<_> = pulled.iter().collect();
        assert_eq!(
            distinct.len(),
            pulled.len(),
            "the same sound, other loops: {pulled:?}"
        );
    }
}
