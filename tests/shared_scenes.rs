//! Files from others are data: a shared set reads only regular files of a sensible size, its
//! includes stay inside its folder unless the performer allows more, and no error message
//! shows what another file holds.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

mod common;
use common::{Session, ubiq_in};

/// What a file outside the set holds, never to be shown.
const SECRET: &str = "rootsecret:x:0:0:root:/root:/bin/bash\n";

/// The binary, with its autosave, MIDI bindings and configuration kept away from the user's.
fn ubiq() -> Command {
    ubiq_in(&std::env::temp_dir().join("ubiq-shared-scenes"))
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// A temporary folder with `set/` (the set's folder) and a secret file beside it.
struct Setup {
    dir: tempfile::TempDir,
}

impl Setup {
    fn new() -> Setup {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("set")).unwrap();
        std::fs::write(dir.path().join("passwd"), SECRET).unwrap();
        std::fs::write(dir.path().join("outside.ron"), "Scene(tempo: 100)").unwrap();
        Setup { dir }
    }

    fn set_dir(&self) -> PathBuf {
        self.dir.path().join("set")
    }

    /// Writes `set/set.ron` with one section including `include` and returns its path.
    fn set_including(&self, include: &str) -> PathBuf {
        let set = self.set_dir().join("set.ron");
        std::fs::write(
            &set,
            format!("Scene(\n  sections: [(bars: 8), (bars: 8, scene: {include:?})],\n)"),
        )
        .unwrap();
        set
    }
}

fn check(set: &Path, extra: &[&str]) -> Output {
    ubiq()
        .arg("check")
        .args(extra)
        .arg(set)
        .output()
        .expect("ubiq runs")
}

/// Asserts `check` refused the set in one line that contains `expected` and nothing secret.
fn refused(out: &Output, expected: &[&str]) -> String {
    let stderr = text(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "one line:\n{stderr}");
    for e in expected {
        assert!(stderr.contains(e), "{e:?} in:\n{stderr}");
    }
    assert!(!stderr.contains("rootsecret"), "echoes the file:\n{stderr}");
    stderr
}

#[test]
fn an_include_outside_the_set_folder_is_refused_and_named() {
    let s = Setup::new();
    let secret = s.dir.path().join("passwd");
    let set = s.set_including(secret.to_str().unwrap());
    refused(
        &check(&set, &[]),
        &[secret.to_str().unwrap(), "outside the folder of the set"],
    );
}

#[test]
fn an_include_through_dot_dot_is_refused() {
    let s = Setup::new();
    let set = s.set_including("../outside.ron");
    refused(
        &check(&set, &[]),
        &["outside.ron", "outside the folder of the set"],
    );
    // Inside the folder is fine.
    std::fs::write(s.set_dir().join("drop.ron"), "Scene(tempo: 130)").unwrap();
    let set = s.set_including("drop.ron");
    let out = check(&set, &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
}

#[cfg(unix)]
#[test]
fn a_link_inside_the_folder_to_a_file_outside_is_refused() {
    let s = Setup::new();
    std::os::unix::fs::symlink(s.dir.path().join("passwd"), s.set_dir().join("drop.ron")).unwrap();
    let set = s.set_including("drop.ron");
    refused(
        &check(&set, &[]),
        &["drop.ron", "outside the folder of the set"],
    );
}

#[test]
fn the_flag_allows_includes_outside_and_their_errors_quote_nothing() {
    let s = Setup::new();
    let set = s.set_including("../outside.ron");
    let out = check(&set, &["--allow-outside-set"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    // Allowed, a file that is no scene is refused without showing what it holds.
    let set = s.set_including("../passwd");
    refused(
        &check(&set, &["--allow-outside-set"]),
        &["passwd", "not a scene"],
    );
}

#[test]
fn a_record_outside_the_set_is_refused_in_the_set_and_in_its_includes() {
    let s = Setup::new();
    let set = s.set_dir().join("set.ron");
    std::fs::write(&set, "Scene(deck: (file: \"../passwd\", playing: true))").unwrap();
    refused(
        &check(&set, &[]),
        &["passwd", "outside the folder of the set"],
    );
    // An included scene may not reach out either.
    std::fs::write(
        s.set_dir().join("drop.ron"),
        "Scene(deck: (file: \"../passwd\"))",
    )
    .unwrap();
    let set = s.set_including("drop.ron");
    refused(
        &check(&set, &[]),
        &["passwd", "outside the folder of the set"],
    );
    // Allowed (the older name of the flag still works), and a record in the folder is fine.
    let out = check(&set, &["--allow-includes-outside"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    std::fs::write(s.set_dir().join("side_a.wav"), "RIFF").unwrap();
    std::fs::write(&set, "Scene(deck: (file: \"side_a.wav\"))").unwrap();
    let out = check(&set, &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
}

#[test]
fn a_kit_folder_outside_the_set_is_refused_and_a_kit_name_or_a_folder_inside_is_not() {
    let s = Setup::new();
    let kit = s.dir.path().join("kit");
    std::fs::create_dir(&kit).unwrap();
    std::fs::create_dir(s.set_dir().join("mine")).unwrap();
    let set = s.set_dir().join("set.ron");
    for outside in ["../kit", kit.to_str().unwrap()] {
        std::fs::write(&set, format!("Scene(kit: {outside:?})")).unwrap();
        refused(&check(&set, &[]), &["kit", "outside the folder of the set"]);
    }
    std::fs::write(s.set_dir().join("drop.ron"), "Scene(kit: \"../kit\")").unwrap();
    let set = s.set_including("drop.ron");
    refused(&check(&set, &[]), &["kit", "outside the folder of the set"]);
    for fine in ["mine", "sonic-pi", "synth"] {
        std::fs::write(&set, format!("Scene(kit: {fine:?})")).unwrap();
        let out = check(&set, &[]);
        assert!(out.status.success(), "{fine}: {}", text(&out.stderr));
    }
}

#[cfg(unix)]
#[test]
fn an_include_of_dev_zero_is_refused_at_once() {
    let s = Setup::new();
    let set = s.set_including("/dev/zero");
    let started = Instant::now();
    refused(&check(&set, &[]), &["/dev/zero"]);
    refused(
        &check(&set, &["--allow-outside-set"]),
        &["/dev/zero", "not a regular file"],
    );
    assert!(started.elapsed() < Duration::from_secs(10));
}

#[test]
fn an_oversized_scene_is_refused() {
    let s = Setup::new();
    let set = s.set_dir().join("huge.ron");
    let mut big = String::from("Scene(\n");
    big.push_str(&" ".repeat(5 << 20));
    big.push(')');
    std::fs::write(&set, big).unwrap();
    refused(
        &check(&set, &[]),
        &["huge.ron", "bytes is over the 4 MiB limit"],
    );
}

#[cfg(unix)]
#[test]
fn headless_plays_with_a_bad_theme_and_refuses_loading_dev_zero() {
    let s = Setup::new();
    let theme = s.dir.path().join("bad-theme.ron");
    std::fs::write(&theme, "this is no theme").unwrap();
    let mut session = Session::start(
        ubiq()
            .args(["play", "--headless", "--json", "--audio", "none", "--theme"])
            .arg(&theme)
            .arg("house"),
    );
    let first = session.next_cycle();
    session.say("load /dev/zero");
    std::thread::sleep(Duration::from_millis(300));
    let later = session.next_cycle();
    assert!(later > first, "the set goes on");
    let stderr = session.quit();
    assert!(
        stderr
            .lines()
            .any(|l| l.contains("bad-theme.ron") && l.contains("playing on")),
        "{stderr}"
    );
    assert!(
        stderr
            .lines()
            .any(|l| l.contains("/dev/zero") && l.contains("not a regular file")),
        "{stderr}"
    );
}
