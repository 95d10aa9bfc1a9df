//! The bad-input catalogue: every kind of bad input a performer can give — scene, command,
//! MIDI, audio and model files, a missing device, a full disk while recording, an unwritable
//! folder — gets a one-line message naming the file, line or value, the set goes on, and
//! nothing the performer made is lost.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

mod common;
use common::{Session, ubiq_in};

/// The binary, with its autosave, MIDI bindings and configuration kept away from the user's.
fn ubiq() -> Command {
    ubiq_in(&std::env::temp_dir().join("ubiq-bad-input"))
}

fn run(args: &[&str]) -> Output {
    ubiq().args(args).output().expect("ubiq runs")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn truncated_wav(path: &Path) {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 44_100,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(path, spec).unwrap();
    for i in 0..44_100 {
        w.write_sample(((i as f32 * 0.05).sin() * 9_000.0) as i16)
            .unwrap();
    }
    w.finalize().unwrap();
    let bytes = std::fs::read(path).unwrap();
    std::fs::write(path, &bytes[..bytes.len() / 3]).unwrap();
}

#[test]
fn bad_commands_and_files_while_playing_are_refused_and_the_take_survives() {
    let dir = tempfile::tempdir().unwrap();
    let broken_scene = dir.path().join("broken.ron");
    std::fs::write(&broken_scene, "Scene(\n  tempo: 999,\n)").unwrap();
    let broken_wav = dir.path().join("broken.wav");
    truncated_wav(&broken_wav);
    let take = dir.path().join("take.wav");
    let mut s = Session::start(
        ubiq()
            .args([
                "play",
                "--headless",
                "--json",
                "--audio",
                "none",
                "--record",
            ])
            .arg(&take)
            .arg("house"),
    );
    let first = s.next_cycle();
    let catalogue: Vec<(String, String)> = vec![
        (
            "tempo 999".into(),
            "BPM \"999\" is out of range 40…240".into(),
        ),
        ("mute drumz".into(), "did you mean drums".into()),
        ("gain bass".into(), "expected `gain TRACK DB`".into()),
        ("grid kick x..q".into(), "'q'".into()),
        ("bass A1 Q9".into(), "\"Q9\"".into()),
        (
            "frobnicate 3".into(),
            "unknown command \"frobnicate\"".into(),
        ),
        ("loop music pick no-such-loop".into(), "no-such-loop".into()),
        ("deck play".into(), "no record on the deck".into()),
        (
            "feedback amount 7".into(),
            "AMOUNT \"7\" is out of range 0…1".into(),
        ),
        (
            format!("load {}", broken_scene.display()),
            "broken.ron:2:".into(),
        ),
        (
            format!("deck load {}", broken_wav.display()),
            "broken.wav".into(),
        ),
        (
            "deck load /nonexistent/record.flac".into(),
            "/nonexistent/record.flac".into(),
        ),
        (
            "save /proc/ubiq-cannot-write-here.ron".into(),
            "/proc/ubiq-cannot-write-here.ron".into(),
        ),
    ];
    for (line, _) in &catalogue {
        s.say(line);
    }
    std::thread::sleep(Duration::from_millis(500));
    let later = s.next_cycle();
    let _ = s.next_cycle();
    assert!(later > first, "the set goes on");
    let stderr = s.quit();
    for (line, expected) in &catalogue {
        assert!(
            stderr.lines().any(|l| l.contains(expected.as_str())),
            "{line:?} should be refused with {expected:?}:\n{stderr}"
        );
    }
    // Nothing the performer made is lost: the take is whole and replays identically.
    let log = dir.path().join("take.log");
    let again = dir.path().join("again.wav");
    let st = ubiq()
        .arg("replay")
        .arg(&log)
        .arg("--out")
        .arg(&again)
        .status()
        .unwrap();
    assert!(st.success());
    assert!(std::fs::read(&take).unwrap() == std::fs::read(&again).unwrap());
}

#[test]
fn bad_files_on_the_command_line_name_themselves() {
    let dir = tempfile::tempdir().unwrap();
    let p = |name: &str| dir.path().join(name);
    // A MIDI file that is not one.
    std::fs::write(p("song.mid"), b"MThd\x00\x00\x00\x06garbage").unwrap();
    let out = run(&["translate", p("song.mid").to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("song.mid"),
        "{}",
        text(&out.stderr)
    );
    // A scene with a typo.
    std::fs::write(p("set.ron"), "Scene(\n  swing: 50,\n  tempi: 120,\n)").unwrap();
    let out = run(&["check", p("set.ron").to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("set.ron:3:"),
        "{}",
        text(&out.stderr)
    );
    // A truncated audio file for the loop library: refused, the rest goes in.
    truncated_wav(&p("cut_120bpm.wav"));
    let lib = p("library");
    let out = run(&[
        "loops",
        "add",
        p("cut_120bpm.wav").to_str().unwrap(),
        "--set",
        "music",
        "--library",
        lib.to_str().unwrap(),
    ]);
    assert!(
        text(&out.stderr).contains("cut_120bpm.wav"),
        "{}",
        text(&out.stderr)
    );
    // A damaged session log.
    std::fs::write(p("take.log"), "ubiq-session 1\nsample_rate lots\n").unwrap();
    let out = run(&[
        "replay",
        p("take.log").to_str().unwrap(),
        "--out",
        p("x.wav").to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("take.log:2:"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn a_corrupt_model_file_falls_back_to_the_embedded_model_and_plays() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("mine.bpk");
    std::fs::write(&bad, b"not a burnpack at all").unwrap();
    let mut s = Session::start(
        ubiq()
            .args([
                "play",
                "--headless",
                "--json",
                "--audio",
                "none",
                "--rhythm-model",
            ])
            .arg(&bad)
            .arg("--bass-model")
            .arg(&bad),
    );
    s.next_cycle();
    s.say("z 1 1");
    s.next_cycle();
    let stderr = s.quit();
    for what in ["rhythm model", "bass model"] {
        assert!(
            stderr.lines().any(|l| l.contains(what)
                && l.contains("mine.bpk")
                && l.contains("embedded default")),
            "{what}: {stderr}"
        );
    }
}

#[test]
fn missing_devices_are_one_line_each_and_the_set_plays_silently() {
    let s = Session::start(
        ubiq()
            .env("JACK_DEFAULT_SERVER", "ubiq-no-such-server")
            .args([
                "play",
                "--headless",
                "--json",
                "--audio",
                "jack",
                "--midi-out",
                "no-such-synth",
                "--deck-in",
                "no-such-turntable",
            ]),
    );
    let a = s.next_cycle();
    assert!(s.next_cycle() > a);
    let stderr = s.quit();
    assert!(stderr.contains("no JACK output"), "{stderr}");
    assert!(stderr.contains("no deck input"), "{stderr}");
    assert!(!stderr.contains("ALSA lib"), "{stderr}");
}

#[test]
fn a_full_disk_ends_the_recording_keeps_what_was_written_and_the_set_plays_on() {
    let dir = tempfile::tempdir().unwrap();
    let take = dir.path().join("full.wav");
    // A file size limit of 1 MiB stands in for a disk that fills up (about 2.7 s of
    // 48 kHz stereo float).
    let script = format!(
        "ulimit -f 2048 && exec {} play --headless --json --audio none --record {} house",
        env!("CARGO_BIN_EXE_ubiq"),
        take.display()
    );
    let mut cmd = Command::new("sh");
    cmd.args(["-c", &script])
        .env("XDG_DATA_HOME", dir.path().join("data"));
    let s = Session::start(&mut cmd);
    let started = Instant::now();
    let mut cycles = Vec::new();
    while started.elapsed() < Duration::from_secs(9) {
        cycles.push(s.next_cycle());
    }
    assert!(
        cycles.len() >= 2 && cycles.windows(2).all(|w| w[1] > w[0]),
        "{cycles:?}"
    );
    let stderr = s.quit();
    assert!(stderr.contains("recording stopped"), "{stderr}");
    let mut r = hound::WavReader::open(&take).expect("the take is a whole WAV file");
    let seconds = r.duration() as f64 / 48_000.0;
    assert!((1.0..3.0).contains(&seconds), "{seconds} s kept");
    assert!(r.samples::<f32>().all(|x| x.is_ok()));
    assert!(
        dir.path().join("full.log").exists(),
        "the take's log is written"
    );
}

#[test]
fn an_unwritable_folder_is_reported_and_the_set_plays_on() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = Session::start(
        ubiq()
            .env("XDG_DATA_HOME", "/proc/ubiq-no-such-folder")
            .args(["play", "--headless", "--json", "--audio", "none", "house"]),
    );
    s.next_cycle();
    s.say("record start /proc/ubiq-no-such-folder/take");
    s.say("tempo 130");
    let a = s.next_cycle();
    assert!(s.next_cycle() > a);
    let target: PathBuf = dir.path().join("after.ron");
    s.say(&format!("save {}", target.display()));
    std::thread::sleep(Duration::from_millis(300));
    let stderr = s.quit();
    assert!(
        stderr.contains("cannot record: /proc/ubiq-no-such-folder/take.wav"),
        "{stderr}"
    );
    assert!(
        stderr.contains("cannot autosave to /proc/ubiq-no-such-folder"),
        "{stderr}"
    );
    assert_eq!(
        stderr.matches("cannot autosave").count(),
        1,
        "said once: {stderr}"
    );
    // What the performer made is still saved where it can be.
    let saved = std::fs::read_to_string(&target).expect("saved");
    assert!(saved.contains("tempo: 130"), "{saved}");
}

#[test]
fn loops_add_and_embed_leave_a_corrupt_index_as_it_is() {
    let dir = tempfile::tempdir().unwrap();
    let set = dir.path().join("loops").join("music");
    std::fs::create_dir_all(&set).unwrap();
    let corrupt = b"(version: 1, entries: [(name: \"someone's loop\"".to_vec();
    std::fs::write(set.join("index.ron"), &corrupt).unwrap();
    let wav = dir.path().join("new.wav");
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 22_050,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(&wav, spec).unwrap();
    for i in 0..22_050 * 4 {
        w.write_sample(((i as f32 * 0.05).sin() * 8_000.0) as i16)
            .unwrap();
    }
    w.finalize().unwrap();
    let library = dir.path().join("loops");
    let add = ubiq()
        .args(["loops", "add", "--set", "music", "--library"])
        .arg(&library)
        .arg(&wav)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&add.stderr);
    assert!(!add.status.success());
    assert!(
        stderr.contains("music/index.ron") && stderr.contains("fix or remove it first"),
        "{stderr}"
    );
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    let embed = ubiq()
        .args(["loops", "embed", "--library"])
        .arg(&library)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&embed.stderr);
    assert!(stderr.contains("left as it is"), "{stderr}");
    assert_eq!(std::fs::read(set.join("index.ron")).unwrap(), corrupt);
}
