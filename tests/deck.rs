//! The deck: a record mixed in over the set, driven by scene files and commands — playing,
//! stopping, pitch — offline and through session logs; a bad record is refused and the set
//! plays on.

use std::path::Path;

use ubiq::command::parse;
use ubiq::engine::render::{RenderOptions, render_set};
use ubiq::engine::session::{Action, Entry, SessionLog};
use ubiq::model::registry::Models;
use ubiq::scene::Scene;

mod common;

const RATE: u32 = 22_050;

fn left(samples: &[f32]) -> Vec<f32> {
    samples.chunks_exact(2).map(|f| f[0]).collect()
}

fn rms(x: &[f32]) -> f32 {
    (x.iter().map(|v| v * v).sum::<f32>() / x.len().max(1) as f32).sqrt()
}

/// Zero crossings per second of a stretch of signal (twice its frequency for a sine).
fn frequency(x: &[f32]) -> f32 {
    let crossings = x
        .windows(2)
        .filter(|w| (w[0] < 0.0) != (w[1] < 0.0))
        .count();
    crossings as f32 / 2.0 / (x.len() as f32 / RATE as f32)
}

fn scene(dir: &Path, deck: &str) -> Scene {
    let text = format!(
        "Scene(tempo: 120, deck: {deck}, mix: (master_db: 0, deck: (gain_db: 0, reverb_send: 0)),
               effects: (return_db: -60))"
    );
    Scene::from_ron(&text, &dir.join("set.ron")).unwrap()
}

#[test]
fn a_scene_puts_a_record_on_and_it_plays_from_the_start() {
    let dir = tempfile::tempdir().unwrap();
    common::tone_wav(&dir.path().join("tone.wav"), 440.0, 6.0, 0.5);
    let s = scene(dir.path(), "(file: \"tone.wav\", playing: true)");
    assert_eq!(
        s.deck.file.as_deref(),
        Some(dir.path().join("tone.wav").as_path())
    );
    let opts = RenderOptions {
        bars: 2,
        sample_rate: RATE,
        seed: 1,
    };
    let r = render_set(&s, &mut Models::none(), &opts);
    assert!(r.problems.is_empty(), "{:?}", r.problems);
    let l = left(&r.samples);
    let f = frequency(&l[RATE as usize..2 * RATE as usize]);
    assert!((f - 440.0).abs() < 5.0, "{f} Hz");
    assert!(rms(&l[..RATE as usize]) > 0.2);
    // The log replays the record too.
    assert!(r.log.replay(&mut Models::none()).samples == r.samples);
}

#[test]
fn commands_play_stop_and_pitch_the_record_and_a_replay_follows_them() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("tone.wav");
    common::tone_wav(&file, 400.0, 8.0, 0.5);
    let s = scene(dir.path(), "()");
    let second = u64::from(RATE);
    let at = |frame: u64, line: &str| Entry {
        frame,
        action: Action::Command(parse(line).unwrap()),
    };
    let log = SessionLog {
        sample_rate: RATE,
        seed: 1,
        scene: s,
        record_from: 0,
        end: 6 * second,
        start_lead: 0,
        entries: vec![
            Entry {
                frame: 0,
                action: Action::Start,
            },
            Entry {
                frame: 1024,
                action: Action::Deck(Some(file.clone())),
            },
            at(second, "deck play"),
            at(3 * second, "deck rate 8"),
            at(5 * second, "deck stop"),
        ],
    };
    let r = log.replay(&mut Models::none());
    let l = left(&r.samples);
    let part = |from: f32, to: f32| &l[(from * RATE as f32) as usize..(to * RATE as f32) as usize];
    assert!(rms(part(0.1, 0.9)) < 1e-4, "silent before play");
    let f = frequency(part(1.5, 2.8));
    assert!((f - 400.0).abs() < 4.0, "{f} Hz at normal speed");
    let f = frequency(part(3.2, 4.8));
    assert!((f - 432.0).abs() < 4.0, "{f} Hz at +8 %");
    assert!(rms(part(5.1, 5.9)) < 1e-3, "silent after stop");
    assert!(log.replay(&mut Models::none()).samples == r.samples);
}

#[test]
fn a_bad_record_is_refused_and_the_set_plays_on() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("broken.wav"),
        b"RIFF\x10\x00\x00\x00WAVEjunk",
    )
    .unwrap();
    let mut s = scene(dir.path(), "(file: \"broken.wav\", playing: true)");
    s.drums = Scene::from_ron(
        "Scene(drums: (kick: \"x...x...x...x...\"))",
        Path::new("k.ron"),
    )
    .unwrap()
    .drums;
    let r = render_set(
        &s,
        &mut Models::none(),
        &RenderOptions {
            bars: 2,
            sample_rate: RATE,
            seed: 1,
        },
    );
    assert_eq!(r.problems.len(), 1, "{:?}", r.problems);
    assert!(r.problems[0].contains("broken.wav"), "{}", r.problems[0]);
    assert!(rms(&left(&r.samples)) > 0.01, "the drums still play");
}
