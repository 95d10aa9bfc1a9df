//! Sample kits through the real engine: `kit load` switches a live set to a kit of samples
//! at a cycle boundary (heard in the take), a bad kit is refused in one line while the kit
//! that plays stays, and the take replays byte for byte. The shipped kit plays in a render.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

mod common;
use common::Session;

const TONE_HZ: f32 = 1_000.0;

/// Power of `TONE_HZ` in `x` (Goertzel), per sample.
fn tone_power(x: &[f32], rate: f32) -> f32 {
    let w = std::f32::consts::TAU * TONE_HZ / rate;
    let (mut s1, mut s2) = (0.0f32, 0.0f32);
    for &v in x {
        let s = v + 2.0 * w.cos() * s1 - s2;
        s2 = s1;
        s1 = s;
    }
    (s1 * s1 + s2 * s2 - 2.0 * w.cos() * s1 * s2) / (x.len() as f32).powi(2)
}

/// Waits for a status line that says `kit` plays.
fn wait_for_kit(run: &Session, kit: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if let Ok(v) = run.status.recv_timeout(Duration::from_millis(200))
            && v["kit"] == kit
        {
            return;
        }
    }
    panic!("the status never said kit {kit}");
}

#[test]
fn kit_load_switches_a_live_set_at_a_cycle_boundary_and_replays_identically() {
    let dir = tempfile::tempdir().unwrap();
    let kit = dir.path().join("tone");
    std::fs::create_dir(&kit).unwrap();
    common::tone_wav(&kit.join("tone.wav"), TONE_HZ, 0.2, 0.8);
    std::fs::write(
        kit.join("kit.ron"),
        "Kit(voices: {kick: (samples: [\"tone.wav\"])})",
    )
    .unwrap();
    let broken = dir.path().join("broken");
    std::fs::create_dir(&broken).unwrap();
    std::fs::write(
        broken.join("kit.ron"),
        "Kit(voices: {kick: (samples: [\"../tone/tone.wav\"])})",
    )
    .unwrap();
    let scene = dir.path().join("set.ron");
    std::fs::write(
        &scene,
        "Scene(tempo: 180, drums: (kick: \"x...x...x...x...\"))",
    )
    .unwrap();
    let take = dir.path().join("take.wav");
    let mut run = Session::start(
        Command::new(env!("CARGO_BIN_EXE_ubiq"))
            .args([
                "play",
                "--headless",
                "--json",
                "--audio",
                "none",
                "--record",
            ])
            .arg(&take)
            .arg(&scene),
    );
    wait_for_kit(&run, "synth");
    std::thread::sleep(Duration::from_millis(1_500));
    run.say(&format!("kit load {}", kit.display()));
    wait_for_kit(&run, "tone");
    // Past the next boundary (a cycle is 2.67 s at 180 BPM).
    std::thread::sleep(Duration::from_millis(3_500));
    run.say(&format!("kit load {}", broken.display()));
    std::thread::sleep(Duration::from_millis(1_000));
    run.say("quit");
    let out = run.child.wait_with_output().unwrap();
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    let refusal = err
        .lines()
        .find(|l| l.contains("broken"))
        .unwrap_or_else(|| panic!("no refusal for the broken kit in\n{err}"));
    assert!(
        refusal.contains("tone.wav: a sample must be a file inside the kit's folder")
            && refusal.contains("the kit that plays stays"),
        "{refusal}"
    );
    let last = run.status.try_iter().last().expect("status lines");
    assert_eq!(last["kit"], "tone", "the tone kit plays on");

    // In the take, the kick is the synthesized one up to a boundary and the tone from it on.
    let mut reader = hound::WavReader::open(&take).unwrap();
    let rate = reader.spec().sample_rate as f32;
    let left: Vec<f32> = reader
        .samples::<f32>()
        .step_by(2)
        .map(|s| s.unwrap())
        .collect();
    let first = left
        .iter()
        .position(|x| x.abs() > 1e-3)
        .expect("the kick sounds");
    let beat = (rate * 60.0 / 180.0) as usize;
    let toned: Vec<bool> = (0..)
        .map(|k| first + k * beat)
        .take_while(|&at| at + beat <= left.len())
        .map(|at| tone_power(&left[at..at + beat / 2], rate) > 1e-3)
        .collect();
    let switch = toned.iter().position(|&t| t).expect("the tone kit plays");
    assert!(switch > 0, "{toned:?}");
    assert_eq!(switch % 8, 0, "the kit took over mid-cycle: {toned:?}");
    assert!(toned[switch..].iter().all(|&t| t), "{toned:?}");

    let log = dir.path().join("take.log");
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(text.contains(" @kit "), "{text}");
    let replay = dir.path().join("replay.wav");
    let st = Command::new(env!("CARGO_BIN_EXE_ubiq"))
        .arg("replay")
        .arg(&log)
        .arg("--out")
        .arg(&replay)
        .status()
        .unwrap();
    assert!(st.success());
    assert!(
        std::fs::read(&take).unwrap() == std::fs::read(&replay).unwrap(),
        "the replay differs from the live take"
    );
}

#[test]
fn the_shipped_house_scene_plays_the_shipped_sample_kit() {
    let dir = tempfile::tempdir().unwrap();
    let render = |scene: &Path, out: &Path| {
        let o = Command::new(env!("CARGO_BIN_EXE_ubiq"))
            .args(["render", "--no-ai", "--bars", "4", "--out"])
            .arg(out)
            .arg(scene)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        std::fs::read(out).unwrap()
    };
    let house = std::fs::read_to_string("patterns/house.ron").unwrap();
    assert!(house.contains("kit: \"sonic-pi\""), "house names the kit");
    let synth_scene = dir.path().join("house-synth.ron");
    std::fs::write(
        &synth_scene,
        house.replace("kit: \"sonic-pi\"", "kit: \"synth\""),
    )
    .unwrap();
    let kit = render(Path::new("patterns/house.ron"), &dir.path().join("kit.wav"));
    let synth = render(&synth_scene, &dir.path().join("synth.wav"));
    assert!(kit.len() > 100_000);
    assert_ne!(
        kit, synth,
        "the sample kit sounds other than the synthesized one"
    );
}
