//! Faults around a live set, against the real binary: a closed stdout or stderr, bytes on
//! stdin that are not text. Each one leaves the take finished and, where the
//! set goes on, the set playing.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

mod common;
use common::Session;

/// The binary, with its autosave and configuration kept in `dir`.
fn ubiq(dir: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_ubiq"));
    c.env("XDG_DATA_HOME", dir.join("data"))
        .env("XDG_CONFIG_HOME", dir.join("config"));
    c
}

/// A short, fast scene in `dir` (one cycle is a second).
fn scene(dir: &Path) -> std::path::PathBuf {
    let path = dir.join("set.ron");
    std::fs::write(
        &path,
        "Scene(tempo: 240, drums: (kick: \"x...x...x...x...\", closed_hat: \"..x...x...x...x.\"))",
    )
    .unwrap();
    path
}

/// `ubiq play --headless --audio none --record take.wav` of the scene in `dir`.
fn headless_take(dir: &Path) -> Command {
    let mut c = ubiq(dir);
    c.args(["play", "--headless", "--audio", "none", "--record"])
        .arg(dir.join("take.wav"))
        .arg(scene(dir));
    c
}

/// Waits at most a minute for `child` to exit; kills it and fails if it does not.
fn wait_exit(child: &mut Child, what: &str) -> std::process::ExitStatus {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("ubiq did not exit after {what}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The take in `dir` is finished: a readable WAV of at least `seconds`, the log, the scene and
/// the MIDI file; the log replays to the same WAV.
fn assert_finished_take(dir: &Path, seconds: f64) {
    let take = dir.join("take.wav");
    let r = hound::WavReader::open(&take).expect("a finished WAV");
    let length = r.duration() as f64 / r.spec().sample_rate as f64;
    assert!(length >= seconds, "only {length:.1} s recorded");
    for ext in ["log", "ron", "mid"] {
        assert!(
            dir.join("take").with_extension(ext).exists(),
            "no take.{ext}"
        );
    }
    let again = dir.join("again.wav");
    let replay = ubiq(dir)
        .arg("replay")
        .arg(dir.join("take.log"))
        .arg("--out")
        .arg(&again)
        .output()
        .unwrap();
    assert!(
        replay.status.success(),
        "{}",
        String::from_utf8_lossy(&replay.stderr)
    );
    assert!(
        std::fs::read(&take).unwrap() == std::fs::read(&again).unwrap(),
        "the replay differs from the take"
    );
}

#[test]
fn a_closed_stdout_leaves_the_set_playing_and_the_take_whole() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = headless_take(dir.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    assert!(first.contains("cycle 1"), "{first}");
    // The reader went away (`| head -n 1`). Three more cycles play into the closed pipe.
    std::thread::sleep(Duration::from_secs(3));
    let mut stdin = child.stdin.take().unwrap();
    let _ = writeln!(stdin, "tempo 200");
    let _ = writeln!(stdin, "quit");
    let status = wait_exit(&mut child, "quit");
    let mut stderr = String::new();
    let _ = std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut stderr);
    assert!(status.success(), "{status}: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(!stderr.contains("Broken pipe"), "{stderr}");
    assert_finished_take(dir.path(), 2.5);
}

#[test]
fn a_closed_stderr_still_takes_commands() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = headless_take(dir.path())
        .arg("--json")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stderr.take());
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut stdin = child.stdin.take().unwrap();
    // Refusals go to the closed stderr; the next command still applies.
    writeln!(stdin, "tempo 999").unwrap();
    writeln!(stdin, "nonsense").unwrap();
    writeln!(stdin, "tempo 200").unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let line = lines.next().expect("the set goes on").unwrap();
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        if v["tempo"].as_f64() == Some(200.0) {
            break;
        }
        assert!(Instant::now() < deadline, "tempo 200 never applied");
    }
    writeln!(stdin, "quit").unwrap();
    let status = wait_exit(&mut child, "quit");
    assert!(status.success(), "{status}");
    assert_finished_take(dir.path(), 1.0);
}

#[test]
fn a_stdin_line_that_is_not_utf8_is_refused_and_the_next_applies() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = Session::start(headless_take(dir.path()).arg("--json"));
    s.next_cycle();
    let stdin = s.child.stdin.as_mut().unwrap();
    stdin
        .write_all(b"# warming up\nkey \xff\ntempo 200\n")
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let v = s
            .status
            .recv_timeout(Duration::from_secs(30))
            .expect("the set goes on");
        if v["tempo"].as_f64() == Some(200.0) {
            break;
        }
        assert!(Instant::now() < deadline, "tempo 200 never applied");
    }
    let stderr = s.quit();
    let refusals: Vec<&str> = stderr.lines().filter(|l| l.contains("UTF-8")).collect();
    assert_eq!(refusals, ["ubiq: stdin line 2: not UTF-8 text"], "{stderr}");
    assert_finished_take(dir.path(), 1.0);
}
