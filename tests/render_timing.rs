//! Offline renders measured from the samples: hit timing (swing and micro-timing included),
//! headroom, muting and where a tempo change lands.

use ubiq::audio::mixer::CEILING;
use ubiq::audio::plan::swing_delay;
use ubiq::audio::{AudioMsg, link};
use ubiq::engine::render::{RenderOptions, frames_for_bars, render_scene};
use ubiq::pattern::{Bassline, DrumCell, DrumPattern, Voice};
use ubiq::scene::library::{SHIPPED, shipped};
use ubiq::scene::{DrumGrids, Scene};

const RATE: u32 = 48_000;

fn opts(bars: u32) -> RenderOptions {
    RenderOptions {
        bars,
        sample_rate: RATE,
        seed: 7,
    }
}

/// A dry scene with short, well separated hits on every voice, swing and offsets.
fn timing_scene() -> (Scene, Vec<(usize, DrumCell)>) {
    let mut pattern = DrumPattern::new();
    let mut hits = Vec::new();
    for (i, step) in (0..32).step_by(3).enumerate() {
        let voice = Voice::ALL[i % Voice::COUNT];
        let offset = [0.0, 0.3, -0.3, 0.45, -0.2][i % 5];
        let cell = DrumCell::hit(0.6 + 0.04 * i as f32, offset);
        pattern.set(voice, step, cell);
        hits.push((step, cell));
    }
    let mut scene = Scene {
        tempo: 113.0,
        swing: 61.0,
        drums: DrumGrids::from_pattern(&pattern),
        ..Scene::default()
    };
    for v in Voice::ALL {
        scene.sound.drums.voice_mut(v).decay = 0.1;
    }
    scene.mix.drums.reverb_send = 0.0;
    scene.mix.bass.reverb_send = 0.0;
    (scene, hits)
}

fn mono(samples: &[f32]) -> Vec<f32> {
    samples
        .chunks(2)
        .map(|f| f[0].abs().max(f[1].abs()))
        .collect()
}

#[test]
fn every_hit_starts_within_one_millisecond() {
    let (scene, hits) = timing_scene();
    let audio = mono(&render_scene(&scene, &opts(4)));
    let sps = f64::from(RATE) * 60.0 / f64::from(scene.tempo) / 4.0;
    let one_ms = RATE as usize / 1000;
    let mut checked = 0;
    for cycle in 0..2 {
        for &(step, cell) in &hits {
            let t = cycle as f64 * 32.0
                + step as f64
                + f64::from(swing_delay(step, scene.swing))
                + f64::from(cell.offset);
            if t < 0.0 {
                continue;
            }
            let expected = (t * sps).round() as usize;
            let before = expected.saturating_sub(5 * one_ms)..expected.saturating_sub(one_ms);
            assert!(
                audio[before].iter().all(|&x| x < 1e-3),
                "not silent before the hit at step {step} of cycle {cycle}"
            );
            let from = expected.saturating_sub(one_ms);
            let onset = audio[from..]
                .iter()
                .position(|&x| x > 1e-3)
                .map(|p| p + from)
                .unwrap_or(usize::MAX);
            let error = onset.abs_diff(expected);
            assert!(
                error <= one_ms,
                "hit at step {step} (cycle {cycle}) starts {error} frames from {expected}"
            );
            checked += 1;
        }
    }
    assert!(checked >= 20, "only {checked} hits checked");
}

#[test]
fn shipped_scenes_stay_under_the_ceiling_and_are_not_silent() {
    for (name, _) in SHIPPED {
        let scene = shipped(name).expect("shipped scene parses");
        let audio = render_scene(&scene, &opts(4));
        let peak = audio.iter().fold(0.0f32, |p, x| p.max(x.abs()));
        assert!(peak <= CEILING, "{name} peaks at {peak}");
        assert!(peak > 0.1, "{name} is nearly silent ({peak})");
        assert_eq!(audio.len() / 2, frames_for_bars(&scene, 4, RATE));
    }
}

#[test]
fn a_muted_track_contributes_nothing() {
    let mut scene = shipped("default").expect("default scene");
    scene.mix.bass.mute = true;
    let muted = render_scene(&scene, &opts(2));
    scene.bass.line = None;
    scene.mix.bass.mute = false;
    let without_bass = render_scene(&scene, &opts(2));
    assert_eq!(muted, without_bass);

    scene.mix.drums.mute = true;
    let silent = render_scene(&scene, &opts(2));
    assert!(silent.iter().all(|&x| x == 0.0));
}

#[test]
fn tempo_change_lands_on_the_next_cycle_boundary() {
    let mut pattern = DrumPattern::new();
    for step in [0, 8, 16, 24] {
        pattern.set(Voice::Kick, step, DrumCell::hit(1.0, 0.0));
    }
    let mut scene = Scene {
        tempo: 120.0,
        drums: DrumGrids::from_pattern(&pattern),
        ..Scene::default()
    };
    scene.sound.drums.kick.decay = 0.1;
    let (mut handle, mut core) = link(RATE, 1);
    handle.send(AudioMsg::Params(scene.params())).unwrap();
    handle.send(AudioMsg::Cycle(scene.plan())).unwrap();
    let latency = core.latency();
    let mut audio = vec![0.0f32; 2 * 100_000];
    core.process(&mut audio);
    // Mid-cycle, ask for 90 BPM: the rest of this cycle stays at 120.
    scene.tempo = 90.0;
    handle.send(AudioMsg::Cycle(scene.plan())).unwrap();
    let mut rest = vec![0.0f32; 2 * 400_000];
    core.process(&mut rest);
    audio.extend_from_slice(&rest);
    let audio = mono(&audio);
    // A kick starts where the level first passes −40 dBFS after 2,000 quieter frames (the
    // master's DC blocker leaves a slow tail under that after each short kick).
    let onsets: Vec<usize> = (1..audio.len())
        .filter(|&i| {
            audio[i].abs() > 1e-2
                && audio[i.saturating_sub(2_000)..i]
                    .iter()
                    .all(|&x| x.abs() <= 1e-2)
        })
        .map(|i| i - latency)
        .collect();
    // 120 BPM: a step is 6,000 frames, a cycle 192,000. At 90 BPM a step is 8,000 frames.
    let expected = [
        0, 48_000, 96_000, 144_000, 192_000, 256_000, 320_000, 384_000, 448_000,
    ];
    assert_eq!(onsets.len(), expected.len(), "{onsets:?}");
    for (got, want) in onsets.iter().zip(expected) {
        assert!(got.abs_diff(want) <= 48, "onset {got}, expected {want}");
    }
}

#[test]
fn renders_are_reproducible_and_seeded() {
    let scene = shipped("breakbeat").expect("breakbeat");
    let a = render_scene(&scene, &opts(2));
    let b = render_scene(&scene, &opts(2));
    assert_eq!(a, b);
    let c = render_scene(&scene, &RenderOptions { seed: 8, ..opts(2) });
    assert_ne!(a, c);
}

#[test]
fn bassline_in_a_scene_sounds() {
    let mut scene = shipped("house").expect("house");
    scene.mix.drums.mute = true;
    scene.bass.set_bassline(&Bassline::default());
    let silent = render_scene(&scene, &opts(2));
    assert!(silent.iter().all(|&x| x.abs() < 1e-6));
    let scene = {
        let mut s = shipped("house").expect("house");
        s.mix.drums.mute = true;
        s
    };
    let bass = render_scene(&scene, &opts(2));
    assert!(bass.iter().any(|&x| x.abs() > 0.05));
}

#[test]
fn output_does_not_depend_on_buffer_sizes() {
    let mut scene = shipped("breakbeat").expect("breakbeat");
    scene.mix.bass.delay_send = 0.5;
    let render = |sizes: &[usize]| {
        let (mut handle, mut core) = link(RATE, 3);
        handle.send(AudioMsg::Params(scene.params())).unwrap();
        handle.send(AudioMsg::Cycle(scene.plan())).unwrap();
        let mut out = Vec::new();
        let mut i = 0;
        let mut tempo_sent = false;
        while out.len() < 2 * 500_000 {
            let frames = sizes[i % sizes.len()];
            i += 1;
            if !tempo_sent && out.len() > 2 * 100_000 {
                // The same change, queued in time for the same boundary.
                let mut faster = scene.clone();
                faster.tempo = 150.0;
                handle.send(AudioMsg::Cycle(faster.plan())).unwrap();
                tempo_sent = true;
            }
            let mut buf = vec![0.0f32; frames * 2];
            core.process(&mut buf);
            out.extend_from_slice(&buf);
        }
        out.truncate(2 * 500_000);
        out
    };
    let a = render(&[256]);
    let b = render(&[64, 1_000, 33, 517]);
    let first = a.iter().zip(&b).position(|(x, y)| x != y);
    assert!(
        first.is_none(),
        "renders differ with the host buffer size from sample {first:?}"
    );
}
