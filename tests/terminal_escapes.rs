//! Nothing raw reaches a terminal: names, paths, file text and command arguments that hold
//! terminal escapes are printed escaped (`\u{1b}`), on stdout and stderr, by the headless
//! status, its refusals, `ubiq check` and the last error; a huge argument is quoted cut.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

mod common;
use common::ubiq_in;

/// A window title change, a bell, a C1 CSI and a screen clear.
const EVIL: &str = "\u{1b}]2;pwned\u{7}\u{9b}31m\u{1b}[2J";

/// The binary, with its autosave, MIDI bindings and configuration kept away from the user's.
fn ubiq() -> Command {
    ubiq_in(&std::env::temp_dir().join("ubiq-terminal-escapes"))
}

/// Bytes a terminal would act on: C0 controls other than the line ending, DEL, and C1 controls
/// (as UTF-8).
fn raw_controls(bytes: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(bytes)
        .chars()
        .filter(|c| c.is_control() && *c != '\n')
        .map(|c| c.escape_unicode().to_string())
        .collect()
}

fn assert_clean(what: &str, bytes: &[u8]) {
    let raw = raw_controls(bytes);
    assert!(
        raw.is_empty(),
        "{what} holds raw {raw:?}: {}",
        String::from_utf8_lossy(bytes)
    );
}

fn scene_text(name: &str) -> String {
    format!(
        "Scene(\n    name: \"{name}\",\n    tempo: 240,\n    drums: (\n        kick: \"x...x...x...x...\",\n    ),\n)\n"
    )
}

/// Plays `scene` headless until its first cycle, types `commands`, then quits; what it
/// printed.
fn play_headless(scene: &Path, json: bool, commands: &[&str]) -> Output {
    let mut cmd = ubiq();
    cmd.args(["play", "--headless", "--audio", "none"]);
    if json {
        cmd.arg("--json");
    }
    let mut child = cmd
        .arg(scene)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("ubiq starts");
    let stdout = child.stdout.take().expect("stdout");
    // Read stderr as it comes: a refusal that echoed a megabyte must not block ubiq.
    let mut stderr = child.stderr.take().expect("stderr");
    let errors = std::thread::spawn(move || {
        let mut all = Vec::new();
        let _ = stderr.read_to_end(&mut all);
        all
    });
    let (first, cycled) = mpsc::channel();
    let reader = std::thread::spawn(move || {
        let mut reader = BufReader::new(stdout);
        let mut all = Vec::new();
        let mut line = Vec::new();
        while reader.read_until(b'\n', &mut line).is_ok_and(|n| n > 0) {
            all.extend_from_slice(&line);
            line.clear();
            let _ = first.send(());
        }
        let mut rest = Vec::new();
        let _ = reader.read_to_end(&mut rest);
        all.extend(rest);
        all
    });
    cycled
        .recv_timeout(Duration::from_secs(15))
        .expect("a status line");
    let mut stdin = child.stdin.take().expect("stdin");
    for c in commands {
        stdin.write_all(c.as_bytes()).expect("ubiq reads stdin");
        stdin.write_all(b"\n").expect("ubiq reads stdin");
    }
    // The refusals are said before the set stops.
    std::thread::sleep(Duration::from_millis(500));
    writeln!(stdin, "quit").expect("ubiq reads stdin");
    drop(stdin);
    let mut out = child.wait_with_output().expect("ubiq exits");
    out.stdout = reader.join().expect("stdout read");
    out.stderr = errors.join().expect("stderr read");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

#[test]
fn a_scene_named_with_escapes_plays_headless_and_prints_none_raw() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join(format!("set{EVIL}.ron"));
    std::fs::write(&file, scene_text(EVIL)).unwrap();
    let missing = format!("load \"no{EVIL}such.ron\"");
    let out = play_headless(&file, false, &[&missing, &format!("tempo {EVIL}")]);
    assert_clean("stdout", &out.stdout);
    assert_clean("stderr", &out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stdout.contains("\\u{1b}]2;pwned\\u{7}\\u{9b}31m"),
        "the name is shown escaped: {stdout}"
    );
    // No command takes a control character: both lines are refused naming it, escaped.
    assert_eq!(
        stderr
            .matches("control character \\u{1b} in a command")
            .count(),
        2,
        "{stderr}"
    );
}

#[test]
fn json_status_stays_valid_json_with_the_name_intact() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("set.ron");
    std::fs::write(&file, scene_text(EVIL)).unwrap();
    let out = play_headless(&file, true, &[]);
    assert_clean("stdout", &out.stdout);
    assert_clean("stderr", &out.stderr);
    let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    assert!(!lines.is_empty());
    for v in lines {
        assert_eq!(v["scene"], EVIL, "the JSON carries the name as it is");
    }
}

#[test]
fn file_names_with_escapes_are_shown_escaped_in_errors() {
    let dir = tempfile::tempdir().unwrap();
    let broken = dir.path().join(format!("broken{EVIL}.ron"));
    std::fs::write(&broken, "Scene(\n  tempo: 999,\n)").unwrap();
    let good = dir.path().join(format!("good{EVIL}.ron"));
    std::fs::write(&good, scene_text(EVIL)).unwrap();

    // `ubiq check`: the good file's line on stdout, the broken one's error on stderr.
    let out = ubiq()
        .arg("check")
        .arg(&good)
        .arg(&broken)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert_clean("check stdout", &out.stdout);
    assert_clean("check stderr", &out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stdout.contains("good\\u{1b}]2;pwned"), "{stdout}");
    assert!(stderr.contains("broken\\u{1b}]2;pwned"), "{stderr}");
    assert!(stderr.contains(":2:"), "the line is still named: {stderr}");

    // The binary's last error: a scene that cannot be played.
    let out = ubiq()
        .args(["play", "--headless", "--audio", "none"])
        .arg(&broken)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert_clean("play stderr", &out.stderr);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.starts_with("ubiq: "), "{stderr}");
    assert!(stderr.contains("broken\\u{1b}]2;pwned"), "{stderr}");
}

#[test]
fn a_megabyte_command_is_refused_in_a_short_line() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("set.ron");
    std::fs::write(&file, scene_text("long")).unwrap();
    let huge = "A".repeat(1 << 20);
    let commands = [
        format!("tempo {huge}"),
        huge.clone(),
        format!("key {huge}"),
        format!("bass {huge}"),
        format!("load {huge}"),
    ];
    let commands: Vec<&str> = commands.iter().map(String::as_str).collect();
    let out = play_headless(&file, true, &commands);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.len() < 4_000,
        "{} bytes: {stderr:.2000}",
        stderr.len()
    );
    let refusals: Vec<&str> = stderr.lines().filter(|l| l.contains("AAAA")).collect();
    assert_eq!(refusals.len(), 5, "one refusal per command: {stderr}");
    for line in refusals {
        assert!(line.len() < 300, "{} bytes: {line}", line.len());
        assert!(line.contains("AAAA…"), "the value is cut: {line}");
    }
    assert!(
        stderr.contains("too long (at most 4096): \"tempo AAAA"),
        "{stderr}"
    );
    assert!(
        stderr.contains("too long (at most 4096): \"AAAA"),
        "{stderr}"
    );
    assert!(
        stderr.contains("too long (at most 4096): \"load AAAA"),
        "{stderr}"
    );
}
