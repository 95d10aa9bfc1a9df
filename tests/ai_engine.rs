//! The performance engine with its models and the shipped loop library, offline: the feedback
//! loop pulls the latent point towards the encoding of the rhythm loop it picks, a set with
//! feedback evolves, its log replays bit for bit, and bad commands change nothing.

use std::path::Path;

use ubiq::command::{ModelName, parse};
use ubiq::engine::render::{RenderOptions, midi_of, render_set};
use ubiq::engine::session::Action;
use ubiq::loops::LoopSet;
use ubiq::loops::library::Library;
use ubiq::model::registry::Models;
use ubiq::performance::Performance;
use ubiq::performance::compose::SETTLE_NEIGHBOURS;
use ubiq::scene::Scene;

const RATE: u32 = 22_050;

fn models() -> Models {
    let (models, problems) = Models::embedded();
    assert!(problems.is_empty(), "{problems:?}");
    let library = Library::open(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("loops")
            .as_path(),
    );
    assert!(
        !library.entries(LoopSet::Rhythm).is_empty(),
        "the shipped loop library has rhythm loops"
    );
    models.with_library(Some(library))
}

fn feedback_scene(amount: f32) -> Scene {
    Scene::from_ron(
        &format!(
            "Scene(tempo: 160, ai: (every: 1, feedback: true, feedback_amount: {amount}, x: 2.5, y: -2.5),
                   loops: (music: (on: true), rhythm: (on: true)))"
        ),
        Path::new("feedback.ron"),
    )
    .unwrap()
}

fn opts(bars: u32) -> RenderOptions {
    RenderOptions {
        bars,
        sample_rate: RATE,
        seed: 3,
    }
}

fn distance(a: [f32; 2], b: [f32; 2]) -> f32 {
    ((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2)).sqrt()
}

#[test]
fn feedback_pulls_the_point_towards_the_chosen_rhythm_loop_and_the_set_evolves() {
    let mut models = models();
    let amount = 0.4;
    let scene = feedback_scene(amount);
    let rendered = render_set(&scene, &mut models, &opts(128));
    assert!(rendered.problems.is_empty(), "{:?}", rendered.problems);
    assert!(
        rendered.turns.len() >= 63,
        "64 cycles: a turn at each boundary"
    );
    assert_eq!(rendered.late_plans, 0, "no cycle missed its boundary");
    let mut z = [scene.ai.x, scene.ai.y];
    let map = models
        .latent_map(ModelName::DEFAULT)
        .expect("the groove model's map");
    let mut moved_towards = 0;
    for turn in &rendered.turns {
        let heard = turn
            .heard
            .as_ref()
            .expect("the feedback loop heard every cycle");
        // Each turn moves the point `amount` of the way to the centre of the training windows
        // around the encoding of the loop it chose (staying on the plane, −3..3).
        let target = map.settle(heard.target, SETTLE_NEIGHBOURS);
        assert!(
            distance(target, heard.target) < 1.5,
            "{target:?} near {:?}",
            heard.target
        );
        let before = distance(z, target);
        let after = distance(turn.z, target);
        let expected = [0, 1].map(|i| (z[i] + amount * (target[i] - z[i])).clamp(-3.0, 3.0));
        assert!(
            distance(turn.z, expected) < 1e-4,
            "cycle {}: from {z:?} towards {target:?} went to {:?}",
            turn.cycle,
            turn.z
        );
        if after < before - 1e-4 {
            moved_towards += 1;
        }
        z = turn.z;
    }
    assert!(
        moved_towards > 20,
        "only {moved_towards} turns moved the point"
    );
    let chosen: std::collections::HashSet<&str> = rendered
        .turns
        .iter()
        .filter_map(|t| t.heard.as_ref().map(|h| h.loop_name.as_str()))
        .collect();
    assert!(chosen.len() > 3, "the loop it hears changes: {chosen:?}");
    let patterns: std::collections::HashSet<String> = rendered
        .turns
        .iter()
        .map(|t| format!("{:?}", t.pattern))
        .collect();
    assert!(
        patterns.len() > 10,
        "{} distinct patterns in 64 cycles",
        patterns.len()
    );
    // The rhythm set plays a loop the feedback loop picked (at a phrase's start: it plays
    // through the phrase).
    let cued_rhythm = rendered
        .log
        .entries
        .iter()
        .rev()
        .find_map(|e| match &e.action {
            Action::Loop(LoopSet::Rhythm, Some(cued)) => Some(cued.name.clone()),
            _ => None,
        });
    let cued_rhythm = cued_rhythm.expect("a rhythm loop was cued");
    assert!(
        chosen.contains(cued_rhythm.as_str()),
        "{cued_rhythm} not among {chosen:?}"
    );

    // The log replays to the same samples and the same MIDI.
    let replayed = rendered.log.replay(&mut models);
    assert_eq!(replayed.samples.len(), rendered.samples.len());
    assert!(replayed.samples == rendered.samples, "replay differs");
    let map = ubiq::midi::map::NoteMap::load("gm").unwrap();
    assert_eq!(midi_of(&replayed, &map), midi_of(&rendered, &map));
    // And its text form too.
    let text = rendered.log.to_text();
    let parsed = ubiq::engine::session::SessionLog::parse(&text, Path::new("x.log")).unwrap();
    assert!(parsed.replay(&mut models).samples == rendered.samples);
}

#[test]
fn without_feedback_the_point_stays_and_the_loops_follow_the_drums() {
    let mut models = models();
    let mut scene = feedback_scene(0.5);
    scene.ai.feedback = false;
    scene.ai.walk = 0.0;
    let rendered = render_set(&scene, &mut models, &opts(16));
    assert!(
        rendered
            .turns
            .iter()
            .all(|t| t.z == [2.5, -2.5] && t.heard.is_none())
    );
    assert!(
        rendered
            .log
            .entries
            .iter()
            .any(|e| matches!(&e.action, Action::Loop(LoopSet::Music, Some(_)))),
        "a music loop is cued"
    );
}

#[test]
fn follow_moves_every_music_loop_into_the_key_and_the_log_replays_it() {
    let mut models = models();
    let scene = Scene::from_ron(
        r#"Scene(tempo: 124, bass: (key: "D", scale: major), ai: (every: 1, walk: 0.2),
                 loops: (music: (on: true, key: follow), phrase: 4))"#,
        Path::new("follow.ron"),
    )
    .unwrap();
    let rendered = render_set(&scene, &mut models, &opts(32));
    let library = models.library.as_ref().unwrap();
    let cues: Vec<_> = rendered
        .log
        .entries
        .iter()
        .filter_map(|e| match &e.action {
            Action::Loop(LoopSet::Music, Some(cued)) => Some(cued.clone()),
            _ => None,
        })
        .collect();
    assert!(cues.len() > 1, "{cues:?}");
    for cued in &cues {
        let entry = library.find(LoopSet::Music, &cued.name).unwrap();
        let key = entry
            .loop_key()
            .expect("follow plays loops with a key first");
        let heard = key.transposed(cued.semitones);
        assert!(
            heard.fits(scene.bass.key, scene.bass.scale),
            "{} in {key} moved {:+} is {heard}",
            cued.name,
            cued.semitones
        );
    }
    assert!(
        cues.iter().any(|c| c.semitones != 0),
        "no loop had to move: {cues:?}"
    );
    // The log holds the moves: its text form replays to the same samples.
    let text = rendered.log.to_text();
    assert!(text.contains("@loop music 124/"), "{text}");
    let parsed = ubiq::engine::session::SessionLog::parse(&text, Path::new("x.log")).unwrap();
    assert!(parsed.replay(&mut models).samples == rendered.samples);
}

#[test]
fn bad_commands_are_refused_and_change_nothing() {
    let mut models = models();
    let mut perf = Performance::new(feedback_scene(0.5));
    perf.rank_loops(&mut models);
    let before = perf.clone();
    for line in [
        "loop music pick 99",
        "loop music pick no-such-loop",
        "deck play",
        "deck nudge 20",
    ] {
        let cmd = parse(line).unwrap();
        let err = perf.apply_with(&cmd, &mut models).unwrap_err();
        assert!(!err.to_string().is_empty(), "{line}");
        assert_eq!(perf, before, "{line} changed the state");
    }
    for line in [
        "feedback amount 2",
        "feedback maybe",
        "deck nudge",
        "deck rate 20",
        "loop drums on",
        "loop music pick",
        "deck stop now",
    ] {
        let e = parse(line).unwrap_err().to_string();
        assert!(!e.is_empty(), "{line}");
    }
    let mut m = Models::none();
    let err = perf
        .apply_with(&parse("loop voice on").unwrap(), &mut m)
        .unwrap_err();
    assert!(err.to_string().contains("no voice loops"), "{err}");
    assert_eq!(perf, before);
}

#[test]
fn loop_commands_pick_and_lock() {
    let mut models = models();
    let mut perf = Performance::new(feedback_scene(0.5));
    perf.rank_loops(&mut models);
    let first = perf.wanted_loop(LoopSet::Music).unwrap().to_string();
    let second = perf.candidates(LoopSet::Music)[1].name.clone();
    perf.apply_with(&parse("loop music next").unwrap(), &mut models)
        .unwrap();
    assert_eq!(perf.wanted_loop(LoopSet::Music), Some(second.as_str()));
    perf.apply_with(&parse("loop music auto").unwrap(), &mut models)
        .unwrap();
    assert_eq!(perf.wanted_loop(LoopSet::Music), Some(first.as_str()));
    perf.apply_with(&parse("loop music pick 3").unwrap(), &mut models)
        .unwrap();
    let third = perf.candidates(LoopSet::Music)[2].name.clone();
    assert_eq!(perf.wanted_loop(LoopSet::Music), Some(third.as_str()));
    perf.apply_with(&parse("unlock music").unwrap(), &mut models)
        .unwrap();
    perf.apply_with(&parse("lock music").unwrap(), &mut models)
        .unwrap();
    perf.apply_with(&parse("z -2 2").unwrap(), &mut models)
        .unwrap();
    assert_eq!(
        perf.wanted_loop(LoopSet::Music),
        Some(first.as_str()),
        "a locked set keeps its loop when the drums change"
    );
    perf.apply_with(&parse("loop music off").unwrap(), &mut models)
        .unwrap();
    assert_eq!(perf.wanted_loop(LoopSet::Music), None);
}

#[test]
fn a_scene_naming_a_model_the_bank_lacks_is_reported_and_the_first_model_plays() {
    let mut models = models();
    let scene = |model: &str| {
        Scene::from_ron(
            &format!("Scene(name: \"mine\", ai: (model: \"{model}\", every: 1))"),
            Path::new("mine.ron"),
        )
        .unwrap()
    };
    let lacking = render_set(&scene("nope"), &mut models, &opts(8));
    assert_eq!(
        lacking.problems,
        ["scene \"mine\": no rhythm model nope (the bank holds: groove, dance)"]
    );
    let groove = render_set(&scene("groove"), &mut models, &opts(8));
    assert!(groove.problems.is_empty(), "{:?}", groove.problems);
    assert_eq!(lacking.samples, groove.samples, "the first model plays");
    let dance = render_set(&scene("dance"), &mut models, &opts(8));
    assert_ne!(
        dance.samples, groove.samples,
        "the dance model plays its own drums"
    );
}
