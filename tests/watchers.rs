//! The hot reloads of a running headless set, end to end: a scene save that is not UTF-8 and
//! a loop set whose index is corrupt (at start and while playing) are refused in one line
//! that names the file, and the set plays on.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::Command;
use std::sync::mpsc;
use std::time::{Duration, Instant};

mod common;
use common::Session;

const INDEX: &str = "(version: 1, entries: [(name: \"a\", file: \"a.wav\", tempo_bpm: 120.0, \
                     bars: 2, source: \"test\", licence: \"CC0\", embedding: [0.5, 0.5])])";

/// A headless session of `scene` with the library `loops`, and its stderr lines as they come.
fn start(scene: &Path, loops: &Path, data: &Path) -> (Session, mpsc::Receiver<String>) {
    let mut run = Session::start(
        Command::new(env!("CARGO_BIN_EXE_ubiq"))
            .args(["play", "--headless", "--json", "--audio", "none", "--loops"])
            .arg(loops)
            .arg(scene)
            .env("XDG_DATA_HOME", data),
    );
    let stderr = run.child.stderr.take().expect("stderr");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    (run, rx)
}

/// Waits (generously) for a stderr line that holds every one of `words`.
fn wait_for_line(lines: &mpsc::Receiver<String>, words: &[&str]) -> String {
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut seen = Vec::new();
    while let Some(left) = deadline.checked_duration_since(Instant::now()) {
        match lines.recv_timeout(left) {
            Ok(line) if words.iter().all(|w| line.contains(w)) => return line,
            Ok(line) => seen.push(line),
            Err(_) => break,
        }
    }
    panic!("no line with {words:?} on stderr; saw {seen:?}");
}

/// Says `quit` and checks the set ended cleanly.
fn quit(mut run: Session) {
    run.say("quit");
    let status = run.child.wait().expect("ubiq exits");
    assert!(status.success());
}

#[test]
fn a_scene_save_that_is_not_utf8_is_refused_by_name_and_the_set_plays_on() {
    let dir = tempfile::tempdir().unwrap();
    let loops = dir.path().join("loops");
    std::fs::create_dir_all(loops.join("voice")).unwrap();
    std::fs::write(loops.join("voice").join("a.wav"), b"").unwrap();
    std::fs::write(loops.join("voice").join("index.ron"), INDEX).unwrap();
    let file = dir.path().join("set.ron");
    std::fs::write(&file, "Scene(tempo: 240)\n").unwrap();
    let (run, lines) = start(&file, &loops, dir.path());
    run.next_cycle();
    std::fs::write(&file, b"Scene(tempo: 2\xff0)\n").unwrap();
    let line = wait_for_line(&lines, &["set.ron:1:15: not UTF-8 text", "still playing"]);
    assert!(line.contains(&file.display().to_string()), "{line}");
    let before = run.next_cycle();
    assert!(run.next_cycle() > before, "the set plays on");
    quit(run);
}

#[test]
fn a_corrupt_index_is_named_at_start_and_refused_while_playing() {
    let dir = tempfile::tempdir().unwrap();
    let loops = dir.path().join("loops");
    for set in ["music", "voice"] {
        std::fs::create_dir_all(loops.join(set)).unwrap();
        std::fs::write(loops.join(set).join("a.wav"), b"").unwrap();
        std::fs::write(loops.join(set).join("index.ron"), INDEX).unwrap();
    }
    let ambient = loops.join("ambient");
    std::fs::create_dir_all(&ambient).unwrap();
    std::fs::write(ambient.join("index.ron"), b"(version: 1, \xff\xfe").unwrap();
    let file = dir.path().join("set.ron");
    std::fs::write(&file, "Scene(tempo: 240)\n").unwrap();
    let (run, lines) = start(&file, &loops, dir.path());
    wait_for_line(
        &lines,
        &["ambient/index.ron: not UTF-8 text; set not loaded"],
    );
    run.next_cycle();

    std::fs::write(
        loops.join("music").join("index.ron"),
        "(version: 1, entries: [(",
    )
    .unwrap();
    let line = wait_for_line(
        &lines,
        &[
            "music/index.ron",
            "music and ambient keep their last good loops",
        ],
    );
    assert!(line.contains("music 1"), "{line}");
    let before = run.next_cycle();
    assert!(run.next_cycle() > before, "the set plays on");
    quit(run);
}
