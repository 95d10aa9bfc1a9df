//! Recording while playing live (headless, silent clock) and replaying the session log
//! offline give the same file, byte for byte; SIGTERM still closes the recording.

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Duration;

fn ubiq() -> Command {
    Command::new(env!("CARGO_BIN_EXE_ubiq"))
}

#[test]
fn a_live_recording_replays_identically() {
    let dir = tempfile::tempdir().unwrap();
    let scene = dir.path().join("set.ron");
    std::fs::write(
        &scene,
        "Scene(tempo: 180, drums: (kick: \"x...x...x...x...\"))",
    )
    .unwrap();
    let take = dir.path().join("take.wav");
    let mut child = ubiq()
        .args(["play", "--headless", "--audio", "none", "--record"])
        .arg(&take)
        .arg(&scene)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let pause = |ms| std::thread::sleep(Duration::from_millis(ms));
    pause(800);
    writeln!(stdin, "bass A1 . C2 . . . G1 . A1 . . . E1 . . .").unwrap();
    pause(700);
    writeln!(stdin, "set bass.cutoff_hz 1500").unwrap();
    writeln!(stdin, "send bass delay 0.6").unwrap();
    pause(600);
    // A hot reload in the middle of the take.
    std::fs::write(
        &scene,
        "Scene(tempo: 150, drums: (snare: \"....X.......X...\"))",
    )
    .unwrap();
    pause(1_500);
    writeln!(stdin, "filter -0.5").unwrap();
    pause(700);
    writeln!(stdin, "quit").unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let log = dir.path().join("take.log");
    let text = std::fs::read_to_string(&log).unwrap();
    for expected in [
        "@start",
        "bass A1",
        "set bass.cutoff_hz 1500",
        "@scene",
        "filter -0.5",
    ] {
        assert!(text.contains(expected), "{expected:?} missing from\n{text}");
    }
    assert!(dir.path().join("take.ron").exists());
    let replay = dir.path().join("replay.wav");
    let st = ubiq()
        .arg("replay")
        .arg(&log)
        .arg("--out")
        .arg(&replay)
        .status()
        .unwrap();
    assert!(st.success());
    let live = std::fs::read(&take).unwrap();
    let again = std::fs::read(&replay).unwrap();
    assert!(
        live.len() > 48_000 * 8 * 3,
        "recording too short: {} bytes",
        live.len()
    );
    assert!(live == again, "the replay differs from the live recording");
}

#[test]
fn sigterm_finishes_the_recording() {
    let dir = tempfile::tempdir().unwrap();
    let take = dir.path().join("t.wav");
    let child = ubiq()
        .args(["play", "house", "--headless", "--audio", "none", "--record"])
        .arg(&take)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Wait until the take holds well over a second of audio (the models load and the
    // transport starts after its lead first, and a loaded machine is slow to get there).
    let bytes_per_frame = 2 * 4;
    let wanted = 100 + 60_000 * bytes_per_frame;
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while std::fs::metadata(&take).map_or(0, |m| m.len()) < wanted {
        assert!(
            std::time::Instant::now() < deadline,
            "the take never grew past {wanted} bytes"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    // SAFETY: signalling our own child process.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let mut r = hound::WavReader::open(&take).expect("a finished WAV");
    let frames = r.duration();
    assert!(frames > 48_000, "only {frames} frames");
    assert!(r.samples::<f32>().all(|s| s.is_ok()));
    assert!(dir.path().join("t.log").exists());
}

#[test]
fn a_live_take_with_the_ai_loops_feedback_and_deck_replays_identically() {
    let dir = tempfile::tempdir().unwrap();
    let record = dir.path().join("record.wav");
    let spec = hound::WavSpec {
        channels: 2,
        sample_rate: 44_100,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(&record, spec).unwrap();
    for i in 0..44_100 * 20 {
        let x = ((i as f32 * 0.031).sin() * 8_000.0) as i16;
        w.write_sample(x).unwrap();
        w.write_sample(x).unwrap();
    }
    w.finalize().unwrap();
    let scene = dir.path().join("ai-set.ron");
    std::fs::write(
        &scene,
        "Scene(tempo: 180, ai: (every: 1, feedback: true, feedback_amount: 0.6),
               drums: (kick: \"x...x...x...x...\", closed_hat: \"..x...x...x...x.\"),
               loops: (music: (on: true), rhythm: (on: true)))",
    )
    .unwrap();
    let take = dir.path().join("ai.wav");
    let mut child = ubiq()
        .args(["play", "--headless", "--audio", "none", "--record"])
        .arg(&take)
        .arg(&scene)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let pause = |ms| std::thread::sleep(Duration::from_millis(ms));
    pause(1_500);
    writeln!(stdin, "deck load {}", record.display()).unwrap();
    pause(600);
    writeln!(stdin, "deck play").unwrap();
    writeln!(stdin, "loop music next").unwrap();
    pause(2_500);
    writeln!(stdin, "deck rate -4").unwrap();
    writeln!(stdin, "z 1 -1").unwrap();
    pause(3_000);
    writeln!(stdin, "quit").unwrap();
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let log = dir.path().join("ai.log");
    let text = std::fs::read_to_string(&log).unwrap();
    for expected in [
        "@loop music",
        "@loop rhythm",
        " fb ",
        "@deck ",
        "deck play",
        "deck rate -4",
    ] {
        assert!(
            text.contains(expected),
            "{expected:?} missing from\n{text}\n{stderr}"
        );
    }
    let replay = dir.path().join("again.wav");
    let midi = dir.path().join("again.mid");
    let st = ubiq()
        .arg("replay")
        .arg(&log)
        .arg("--out")
        .arg(&replay)
        .arg("--midi-out")
        .arg(&midi)
        .status()
        .unwrap();
    assert!(st.success());
    let live = std::fs::read(&take).unwrap();
    assert!(
        live.len() > 48_000 * 8 * 5,
        "recording too short: {} bytes",
        live.len()
    );
    assert!(
        live == std::fs::read(&replay).unwrap(),
        "the replay differs from the live take"
    );
    // The take's MIDI file holds what played: the same as the replay's.
    let take_midi = std::fs::read(dir.path().join("ai.mid")).expect("the take's MIDI file");
    assert!(take_midi == std::fs::read(&midi).unwrap());
    let smf = midly::Smf::parse(&take_midi).unwrap();
    let notes = smf
        .tracks
        .iter()
        .flatten()
        .filter(|e| {
            matches!(
                e.kind,
                midly::TrackEventKind::Midi {
                    message: midly::MidiMessage::NoteOn { .. },
                    ..
                }
            )
        })
        .count();
    assert!(notes > 20, "{notes} notes");
}

#[test]
fn settings_the_ai_reads_later_are_in_the_take_and_its_replay() {
    // `walk` and `scale` send the audio thread nothing when typed: the AI reads them at its
    // next turns. They must still reach the take's log in their place, or the replay composes
    // something else than the stage did.
    let dir = tempfile::tempdir().unwrap();
    let scene = dir.path().join("walk-set.ron");
    std::fs::write(&scene, "Scene(tempo: 180, ai: (every: 1))").unwrap();
    let take = dir.path().join("walk.wav");
    let mut child = ubiq()
        .args(["play", "--headless", "--audio", "none", "--loops"])
        .arg(dir.path().join("no-library"))
        .arg("--record")
        .arg(&take)
        .arg(&scene)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let pause = |ms| std::thread::sleep(Duration::from_millis(ms));
    pause(1_200);
    writeln!(stdin, "walk 0.8").unwrap();
    writeln!(stdin, "scale minor_pentatonic").unwrap();
    pause(9_000);
    writeln!(stdin, "quit").unwrap();
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let log = dir.path().join("walk.log");
    let text = std::fs::read_to_string(&log).unwrap();
    for expected in ["walk 0.8", "scale minor_pentatonic"] {
        assert!(
            text.contains(expected),
            "{expected:?} missing from\n{text}\n{stderr}"
        );
    }
    let replay = dir.path().join("again.wav");
    let st = ubiq()
        .arg("replay")
        .arg(&log)
        .arg("--out")
        .arg(&replay)
        .arg("--loops")
        .arg(dir.path().join("no-library"))
        .status()
        .unwrap();
    assert!(st.success());
    assert!(
        std::fs::read(&take).unwrap() == std::fs::read(&replay).unwrap(),
        "the replay differs from the live take:\n{text}"
    );
}
