//! The binary as a musician runs it: render, play without a sound card, devices, errors.

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Duration;

fn ubiq() -> Command {
    Command::new(env!("CARGO_BIN_EXE_ubiq"))
}

fn read_wav(path: &std::path::Path) -> (hound::WavSpec, Vec<f32>) {
    let mut r = hound::WavReader::open(path).expect("a readable WAV");
    let spec = r.spec();
    let samples = r.samples::<f32>().map(|s| s.expect("sample")).collect();
    (spec, samples)
}

#[test]
fn render_writes_exact_bars_below_the_ceiling_identically() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.wav");
    let b = dir.path().join("b.wav");
    for out in [&a, &b] {
        let st = ubiq()
            .args(["render", "patterns/default.ron", "--bars", "8", "--out"])
            .arg(out)
            .status()
            .unwrap();
        assert!(st.success());
    }
    assert_eq!(std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
    let (spec, samples) = read_wav(&a);
    assert_eq!((spec.channels, spec.sample_rate), (2, 48_000));
    // 8 bars of 4 beats at 122 BPM.
    let expected = 8.0 * 4.0 * 60.0 / 122.0 * 48_000.0;
    let frames = (samples.len() / 2) as f64;
    assert!(
        (frames - expected).abs() <= 1.0,
        "{frames} frames, expected {expected}"
    );
    let peak = samples.iter().fold(0.0f32, |p, s| p.max(s.abs()));
    assert!(20.0 * peak.log10() <= -0.1, "peak {peak}");
    let rms = (samples.iter().map(|s| s * s).sum::<f32>() / samples.len() as f32).sqrt();
    assert!(rms > 0.02, "nearly silent: rms {rms}");
}

#[test]
fn render_other_rate_and_seed() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("h.wav");
    let st = ubiq()
        .args([
            "render",
            "house",
            "--bars",
            "2",
            "--sample-rate",
            "44100",
            "--seed",
            "9",
            "--out",
        ])
        .arg(&out)
        .output()
        .unwrap();
    assert!(st.status.success());
    assert!(String::from_utf8_lossy(&st.stdout).contains("real time"));
    let (spec, samples) = read_wav(&out);
    assert_eq!(spec.sample_rate, 44_100);
    let expected = 2.0 * 4.0 * 60.0 / 124.0 * 44_100.0;
    assert!(((samples.len() / 2) as f64 - expected).abs() <= 1.0);
}

#[test]
fn broken_scene_is_reported_with_its_position() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.ron");
    std::fs::write(
        &bad,
        "Scene(\n    tempo: 120,\n    drums: (kick: \"x..z\"),\n)\n",
    )
    .unwrap();
    let out = ubiq()
        .args(["render", "--out", "/dev/null"])
        .arg(&bad)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bad.ron:3:"), "{err}");
    assert!(err.contains("'z'"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
}

#[test]
fn play_without_a_device_says_so_once_and_keeps_time() {
    let dir = tempfile::tempdir().unwrap();
    let scene = dir.path().join("fast.ron");
    std::fs::write(
        &scene,
        "Scene(tempo: 240, drums: (kick: \"x...x...x...x...\"))",
    )
    .unwrap();
    let mut child = ubiq()
        .args(["play", "--audio", "none"])
        .arg(&scene)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // At 240 BPM a cycle (two bars) lasts two seconds: the third starts about four seconds
    // after the set does. The status lines are read as they come, so the time the program
    // takes to start (models, the loop library) does not count.
    let stdout = child.stdout.take().unwrap();
    let (lines, heard) = std::sync::mpsc::channel();
    let reader = std::thread::spawn(move || {
        use std::io::BufRead;
        for line in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            let _ = lines.send(line);
        }
    });
    let mut status = String::new();
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let mut first = None;
    while !status.contains("cycle 3 ") {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        match heard.recv_timeout(left) {
            Ok(line) => status += &(line + "\n"),
            Err(_) => break,
        }
        first.get_or_insert_with(std::time::Instant::now);
    }
    // Played in real time, not faster, not much slower: from the first status line to the
    // third cycle, about four seconds.
    let took = first.map(|t| t.elapsed()).unwrap_or_default();
    assert!(
        took > Duration::from_secs(3) && took < Duration::from_secs(8),
        "{took:?}"
    );
    child.stdin.take().unwrap().write_all(b"q\n").unwrap();
    let out = child.wait_with_output().unwrap();
    reader.join().unwrap();
    status.extend(heard.try_iter().map(|l| l + "\n"));
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("silently"), "{err}");
    for cycle in ["cycle 1 ", "cycle 2 ", "cycle 3 "] {
        assert!(status.contains(cycle), "{cycle:?} missing in {status}");
    }
    // The set's clock, not the wall clock: cycle 3 begins four seconds in.
    let third = status
        .lines()
        .find(|l| l.contains("cycle 3 "))
        .unwrap_or_default();
    assert!(
        third.contains("· 00:04 ·") || third.contains("· 00:03 ·"),
        "{third}"
    );
    assert!(status.contains("240.0 BPM"), "{status}");
}

#[test]
fn play_on_this_machine_is_quiet_about_audio_libraries() {
    let out = ubiq()
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        !err.contains("ALSA lib") && !err.contains("Cannot connect"),
        "{err}"
    );
}

#[test]
fn devices_and_help() {
    let out = ubiq().arg("devices").output().unwrap();
    assert!(out.status.success());
    assert!(!String::from_utf8_lossy(&out.stdout).is_empty());
    let help = ubiq().arg("--help").output().unwrap();
    let text = String::from_utf8_lossy(&help.stdout);
    for word in ["play", "render", "devices"] {
        assert!(text.contains(word), "{text}");
    }
}

#[test]
fn an_unknown_theme_is_refused_before_playing() {
    let out = ubiq()
        .args(["--theme", "neon", "--headless", "--audio", "none"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("unknown theme \"neon\"") && err.contains("dark, light, mono"),
        "{err}"
    );
    let out = ubiq()
        .args(["--theme", "light", "--headless", "--audio", "none"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
}

/// Runs `ubiq generate ARGS`, expecting success; returns stdout.
fn generate(args: &[&str], out: &std::path::Path) -> String {
    let run = ubiq()
        .arg("generate")
        .args(args)
        .arg("--out")
        .arg(out)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "generate {args:?}: {stderr}");
    assert!(stderr.contains("wrote"), "{stderr}");
    String::from_utf8(run.stdout).unwrap()
}

#[test]
fn generate_writes_midi_and_scenes_with_the_bassline() {
    use ubiq::midifile::{
        BassPart, PatternFile, quantise_bassline, quantise_pattern, read_pattern,
    };
    use ubiq::model::bass::{BassModel, TranslateOptions};
    use ubiq::model::rhythm::{Conditions, DecodeOptions, RhythmModel};
    use ubiq::pattern::{Key, Scale};

    let dir = tempfile::tempdir().unwrap();
    let drums = RhythmModel::embedded().unwrap().decode(
        [0.5, -1.0],
        Conditions {
            kick: 0.5,
            hats: -0.25,
        },
        &DecodeOptions {
            seed: 3,
            ..DecodeOptions::default()
        },
    );
    let point = [
        "--z", "0.5,-1", "--kick", "0.5", "--hats", "-0.25", "--seed", "3",
    ];

    let mid = dir.path().join("drums.mid");
    let printed = generate(&point, &mid);
    assert_eq!(
        printed.lines().collect::<Vec<_>>(),
        ubiq::app::generate::grid_lines(&drums)
    );
    let file = read_pattern(&std::fs::read(&mid).unwrap()).unwrap();
    assert_eq!(
        file,
        PatternFile {
            drums: quantise_pattern(&drums),
            bass: None,
            bpm: 120.0,
        }
    );

    let options = TranslateOptions {
        key: Key::new(4),
        scale: Scale::Dorian,
        seed: 3,
        ..TranslateOptions::default()
    };
    let line = BassModel::embedded()
        .unwrap()
        .translate_with(&drums, &options);
    assert!(line.note_count() > 0);
    let bass = [&point[..], &["--bass", "--key", "E", "--scale", "dorian"]].concat();
    let mid = dir.path().join("both.mid");
    let printed = generate(&bass, &mid);
    let tonic = Key::new(4).root_midi(1);
    assert!(
        printed.contains(&format!("bass:      \"{}\"", line.format(tonic))),
        "{printed}"
    );
    let file = read_pattern(&std::fs::read(&mid).unwrap()).unwrap();
    assert_eq!(file.drums, quantise_pattern(&drums));
    assert_eq!(
        file.bass,
        Some(BassPart {
            line: quantise_bassline(&line, tonic),
            tonic,
        })
    );

    let ron = dir.path().join("both.ron");
    generate(&bass, &ron);
    let scene = ubiq::scene::Scene::load(&ron).unwrap();
    let hits = |p: &ubiq::pattern::DrumPattern| -> Vec<bool> {
        ubiq::pattern::Voice::ALL
            .iter()
            .flat_map(|v| p.row(*v).iter().map(|c| c.hit))
            .collect()
    };
    assert_eq!(hits(&scene.drums.pattern()), hits(&drums));
    assert_eq!(
        (scene.bass.key, scene.bass.scale),
        (Key::new(4), Scale::Dorian)
    );
    assert_eq!(scene.bass.bassline().format(0), line.format(0));

    let bad = ubiq()
        .args(["generate", "--out"])
        .arg(dir.path().join("x.wav"))
        .output()
        .unwrap();
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains(".mid"));
}

#[test]
fn eval_set_measures_the_bass_a_render_played() {
    // A written line, no AI: the statistics are those of the line.
    let dir = tempfile::tempdir().unwrap();
    let scene = dir.path().join("walk.ron");
    std::fs::write(
        &scene,
        "Scene(tempo: 120, drums: (kick: \"x...x...x...x...\"),
               bass: (key: \"C\", scale: major, line: \"C1 . E1 . G1 . G1 . C2 . . . . . . .\"))",
    )
    .unwrap();
    let out = ubiq()
        .args(["eval", "set", "--bars", "8", "--seeds", "1", "--json"])
        .arg(&scene)
        .arg("--no-ai")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let bass = &v["renders"][0]["bass"];
    // Per bar: C1 E1 G1 G1 C2 — two of five on the tonic, one repeat of four, a range of 12.
    assert_eq!(bass["notes_per_bar"].as_f64(), Some(5.0), "{bass}");
    assert!(
        (bass["tonic_share"].as_f64().unwrap() - 0.4).abs() < 1e-9,
        "{bass}"
    );
    assert!(
        (bass["repeated_ratio"].as_f64().unwrap() - 2.0 / 9.0).abs() < 0.05,
        "{bass}"
    );
    assert_eq!(bass["range"].as_f64(), Some(12.0), "{bass}");
}
