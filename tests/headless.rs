//! Headless rehearsal end to end: the binary with piped stdin, hot reload of the scene file
//! (in place and by rename), a broken save that leaves the set playing, `ubiq check`, SIGTERM.

use std::io::Write;
use std::process::Command;
use std::time::{Duration, Instant};

mod common;
use common::Session;

fn scene(kick: &str) -> String {
    format!("Scene(\n    tempo: 240,\n    drums: (\n        kick: \"{kick}\",\n    ),\n)\n")
}

fn start(file: &std::path::Path) -> Session {
    Session::start(
        Command::new(env!("CARGO_BIN_EXE_ubiq"))
            .args(["play", "--headless", "--json", "--audio", "none"])
            .arg(file),
    )
}

/// Waits for a status line whose kick row is `kick`; returns its cycle number.
fn wait_for_kick(run: &Session, kick: &str) -> u64 {
    let deadline = Instant::now() + Duration::from_secs(12);
    while Instant::now() < deadline {
        if let Ok(v) = run.status.recv_timeout(Duration::from_millis(200))
            && v["drums"]["kick"] == kick
        {
            return v["cycle"].as_u64().expect("cycle number");
        }
    }
    panic!("no cycle played kick {kick}");
}

#[test]
fn edits_apply_at_the_next_cycle_and_errors_keep_the_set_playing() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("set.ron");
    std::fs::write(&file, scene("x...x...x...x...")).unwrap();
    let mut run = start(&file);
    let first = wait_for_kick(&run, "x...x...x...x...|x...x...x...x...");

    // In place.
    std::fs::write(&file, scene("X.X.X.X.X.X.X.X.")).unwrap();
    let second = wait_for_kick(&run, "X.X.X.X.X.X.X.X.|X.X.X.X.X.X.X.X.");
    assert!(second > first);

    // A broken save: reported, the set plays on unchanged.
    std::fs::write(&file, scene("X.X.?")).unwrap();
    let still = wait_for_kick(&run, "X.X.X.X.X.X.X.X.|X.X.X.X.X.X.X.X.");
    assert!(still >= second);

    // By rename, as vim and VS Code save.
    let tmp = dir.path().join("set.ron.tmp");
    std::fs::write(&tmp, scene("x.......x.......")).unwrap();
    std::fs::rename(&tmp, &file).unwrap();
    let third = wait_for_kick(&run, "x.......x.......|x.......x.......");
    assert!(third > still);

    // A command on stdin, then quit.
    let mut stdin = run.child.stdin.take().unwrap();
    writeln!(stdin, "grid kick x...............").unwrap();
    wait_for_kick(&run, "x...............|x...............");
    writeln!(stdin, "quit").unwrap();
    let out = run.child.wait_with_output().unwrap();
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("set.ron:4:"), "{err}");
    assert!(err.contains("still playing"), "{err}");
}

#[test]
fn bad_commands_are_refused_and_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("set.ron");
    std::fs::write(&file, scene("x...x...x...x...")).unwrap();
    let mut run = start(&file);
    wait_for_kick(&run, "x...x...x...x...|x...x...x...x...");
    let stdin = run.child.stdin.as_mut().unwrap();
    writeln!(stdin, "tempo 999").unwrap();
    writeln!(stdin, "grid kikc x...").unwrap();
    writeln!(stdin, "load /no/such/scene.ron").unwrap();
    std::thread::sleep(Duration::from_millis(2_500));
    drop(run.child.stdin.take());
    let out = run.child.wait_with_output().unwrap();
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("tempo: BPM \"999\" is out of range"), "{err}");
    assert!(err.contains("did you mean kick"), "{err}");
    assert!(err.contains("/no/such/scene.ron"), "{err}");
    for line in run.status.try_iter() {
        assert_eq!(line["tempo"], 240.0);
        assert_eq!(line["drums"]["kick"], "x...x...x...x...|x...x...x...x...");
    }
}

#[test]
fn sigterm_stops_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("set.ron");
    std::fs::write(&file, scene("x...x...x...x...")).unwrap();
    let run = start(&file);
    wait_for_kick(&run, "x...x...x...x...|x...x...x...x...");
    // SAFETY: signalling our own child process.
    unsafe { libc::kill(run.child.id() as i32, libc::SIGTERM) };
    let out = run.child.wait_with_output().unwrap();
    assert!(out.status.success(), "{:?}", out.status);
}

#[test]
fn check_flags_the_same_errors() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.ron");
    let bad = dir.path().join("bad.ron");
    std::fs::write(&good, scene("x...x...x...x...")).unwrap();
    std::fs::write(&bad, scene("x..?")).unwrap();
    let ok = Command::new(env!("CARGO_BIN_EXE_ubiq"))
        .arg("check")
        .arg(&good)
        .output()
        .unwrap();
    assert!(ok.status.success());
    let fail = Command::new(env!("CARGO_BIN_EXE_ubiq"))
        .arg("check")
        .args([&good, &bad])
        .output()
        .unwrap();
    assert_eq!(fail.status.code(), Some(1));
    let err = String::from_utf8_lossy(&fail.stderr);
    assert!(err.contains("bad.ron:4:"), "{err}");
    let shipped = Command::new(env!("CARGO_BIN_EXE_ubiq"))
        .arg("check")
        .args(
            std::fs::read_dir("patterns")
                .unwrap()
                .map(|e| e.unwrap().path()),
        )
        .output()
        .unwrap();
    assert!(
        shipped.status.success(),
        "{}",
        String::from_utf8_lossy(&shipped.stderr)
    );
}

#[test]
fn a_set_list_plays_its_sections_and_follows_the_files_they_include() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("set.ron");
    let b = dir.path().join("b.ron");
    std::fs::write(&b, scene("X...X...X...X...")).unwrap();
    std::fs::write(
        &file,
        r#"Scene(
    tempo: 240,
    drums: (kick: "x.x.x.x.x.x.x.x."),
    sections: [
        (name: "a", bars: 2, commands: ["grid kick x.x.x.x.x.x.x.x."]),
        (name: "b", bars: 2, scene: "b.ron"),
    ],
    repeat: true,
)"#,
    )
    .unwrap();
    let mut run = start(&file);
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut seen = Vec::new();
    while seen.len() < 4 && Instant::now() < deadline {
        if let Ok(v) = run.status.recv_timeout(Duration::from_millis(200)) {
            let name = v["section"]["name"].as_str().unwrap_or("").to_string();
            let kick = v["drums"]["kick"].as_str().unwrap_or("").to_string();
            seen.push((name, kick));
        }
    }
    let a = "x.x.x.x.x.x.x.x.|x.x.x.x.x.x.x.x.".to_string();
    let bk = "X...X...X...X...|X...X...X...X...".to_string();
    // Each status line shows the cycle the engine queued and the section it belongs to.
    assert!(
        seen.contains(&("a".into(), a.clone())) && seen.contains(&("b".into(), bk.clone())),
        "the sections alternate: {seen:?}"
    );
    // Saving the included file while its section comes round: it takes over.
    std::fs::write(&b, scene("X.......X.......")).unwrap();
    wait_for_kick(&run, "X.......X.......|X.......X.......");
    // A broken include is reported and the set plays on.
    std::fs::write(&b, "Scene(tempo: 999)").unwrap();
    wait_for_kick(&run, "x.x.x.x.x.x.x.x.|x.x.x.x.x.x.x.x.");
    drop(run.child.stdin.take());
    let out = run.child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("b.ron:1:"), "{stderr}");
}

#[test]
fn json_mode_prints_only_json_and_silence_reports_no_xruns() {
    let dir = tempfile::tempdir().unwrap();
    let rhythm = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("models/rhythm.bpk");
    let mut child = Command::new(env!("CARGO_BIN_EXE_ubiq"))
        .args(["play", "--headless", "--json", "--audio", "none"])
        .arg("--rhythm-model")
        .arg(&rhythm)
        .env("XDG_DATA_HOME", dir.path())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    let mut stdin = child.stdin.take().unwrap();
    writeln!(stdin, "tempo 130").unwrap();
    writeln!(stdin, "quit").unwrap();
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let statuses: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    let last = statuses.last().expect("a last status");
    assert!(last["xruns"].is_null(), "no device, no xruns: {last}");
    assert!(stderr.contains("the set is saved in"), "{stderr}");
    let confirmed: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains("rhythm model") && l.contains("loaded"))
        .collect();
    assert_eq!(confirmed.len(), 1, "{stderr}");
    assert!(confirmed[0].contains("rhythm.bpk"), "{stderr}");
}
