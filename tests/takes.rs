//! What survives what, for a take recorded live, against the real binary: `kill -9`
//! mid-take (the next start makes it whole), a take name already used, the record folder
//! deleted mid-take, a real full filesystem.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

mod common;
use common::{Session, fast_scene as scene, ubiq_in as ubiq};

/// `ubiq play --headless --json --audio none --record TAKE` of the scene in `dir`.
fn record(dir: &Path, take: &Path) -> Session {
    Session::start(
        ubiq(dir)
            .args([
                "play",
                "--headless",
                "--json",
                "--audio",
                "none",
                "--record",
            ])
            .arg(take)
            .arg(scene(dir)),
    )
}

/// Seconds of audio in a WAV file, read while it may still be written.
fn seconds(wav: &Path) -> f64 {
    hound::WavReader::open(wav)
        .map(|r| r.duration() as f64 / f64::from(r.spec().sample_rate))
        .unwrap_or(0.0)
}

/// Waits at most `limit` for `ok`.
fn wait_until(limit: Duration, what: &str, mut ok: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !ok() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Kills the child with SIGKILL and reaps it.
fn kill_9(child: &mut Child) {
    child.kill().unwrap();
    child.wait().unwrap();
}

/// The samples of a WAV file.
fn samples(wav: &Path) -> Vec<f32> {
    hound::WavReader::open(wav)
        .unwrap()
        .samples::<f32>()
        .map(Result::unwrap)
        .collect()
}

/// `ubiq replay LOG --out OUT`, which must succeed.
fn replay(dir: &Path, log: &Path, out: &Path) {
    let r = ubiq(dir)
        .arg("replay")
        .arg(log)
        .arg("--out")
        .arg(out)
        .output()
        .unwrap();
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
}

/// The last frame at which a cycle began, from a take's log, and the frame the take began.
fn last_cycle_and_start(log: &Path) -> (u64, u64) {
    let text = std::fs::read_to_string(log).unwrap();
    let field = |key: &str| -> u64 {
        text.lines()
            .find_map(|l| l.strip_prefix(key))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or_else(|| panic!("no {key} in {text}"))
    };
    let last = text
        .lines()
        .filter(|l| l.contains(" @cycle "))
        .filter_map(|l| l.split(' ').next()?.parse().ok())
        .max()
        .expect("cycles in the log");
    (last, field("record_from "))
}

#[test]
fn kill_9_ten_seconds_into_a_take_then_the_next_start_makes_it_whole() {
    let dir = tempfile::tempdir().unwrap();
    let take = dir.path().join("take.wav");
    let mut s = record(dir.path(), &take);
    // The WAV reads as a whole file all along; its header grows with it.
    wait_until(Duration::from_secs(60), "10 s are recorded", || {
        seconds(&take) >= 10.0
    });
    // While it is recorded, a second ubiq leaves it alone.
    let busy = ubiq(dir.path()).arg("recover").output().unwrap();
    let said = String::from_utf8_lossy(&busy.stdout);
    assert!(said.contains("no interrupted takes"), "{said}");
    kill_9(&mut s.child);
    assert!(seconds(&take) >= 9.5, "{} s readable", seconds(&take));
    let log = dir.path().join("take.log");
    let refused = ubiq(dir.path())
        .arg("replay")
        .arg(&log)
        .args(["--out", "/dev/null"])
        .output()
        .unwrap();
    let why = String::from_utf8_lossy(&refused.stderr);
    assert!(why.contains("ubiq recover"), "{why}");

    // The next start.
    let next =
        Session::start(ubiq(dir.path()).args(["play", "--headless", "--json", "--audio", "none"]));
    next.next_cycle();
    let stderr = next.quit();
    assert!(
        stderr.contains("recovered the interrupted take"),
        "{stderr}"
    );
    let kept = seconds(&take);
    assert!(kept >= 9.0, "only {kept:.1} s recovered");
    for ext in ["ron", "mid"] {
        assert!(
            dir.path().join("take").with_extension(ext).exists(),
            "no take.{ext}"
        );
    }
    assert!(!dir.path().join(".take.reserve").exists());
    // The recovered log replays the take up to its last complete cycle.
    let again = dir.path().join("again.wav");
    replay(dir.path(), &log, &again);
    let (last_cycle, from) = last_cycle_and_start(&log);
    let upto = 2 * (last_cycle - from) as usize;
    assert!(
        upto as f64 / 2.0 / 48_000.0 >= 8.0,
        "the last cycle is early"
    );
    let (live, replayed) = (samples(&take), samples(&again));
    assert_eq!(live.len(), replayed.len());
    assert!(live[..upto] == replayed[..upto], "the replay differs");
    // Made whole once: a second start finds nothing to recover.
    let third = ubiq(dir.path()).arg("recover").output().unwrap();
    assert!(String::from_utf8_lossy(&third.stdout).contains("no interrupted takes"));
}

#[test]
fn recover_names_a_take_and_refuses_one_being_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let take = dir.path().join("take.wav");
    let mut s = record(dir.path(), &take);
    wait_until(Duration::from_secs(60), "2 s are recorded", || {
        seconds(&take) >= 2.0
    });
    let busy = ubiq(dir.path()).arg("recover").arg(&take).output().unwrap();
    let why = String::from_utf8_lossy(&busy.stderr);
    assert!(!busy.status.success());
    assert!(
        why.contains("still being recorded by another ubiq"),
        "{why}"
    );
    kill_9(&mut s.child);
    // By name, from another data folder (another user, another machine).
    let elsewhere = tempfile::tempdir().unwrap();
    let r = ubiq(elsewhere.path())
        .arg("recover")
        .arg(dir.path().join("take.log"))
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&r.stdout);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    assert!(said.contains("recovered the interrupted take"), "{said}");
    replay(
        dir.path(),
        &dir.path().join("take.log"),
        &dir.path().join("again.wav"),
    );
    let again = ubiq(elsewhere.path())
        .arg("recover")
        .arg(&take)
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&again.stdout).contains("whole already"));
}

#[test]
fn a_take_never_replaces_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let take = dir.path().join("take.wav");
    std::fs::write(&take, b"yesterday's take").unwrap();
    let s = record(dir.path(), &take);
    s.next_cycle();
    s.next_cycle();
    let stderr = s.quit();
    assert!(
        stderr.contains("take.wav exists: recording to") && stderr.contains("take-2.wav"),
        "{stderr}"
    );
    assert_eq!(std::fs::read(&take).unwrap(), b"yesterday's take");
    assert!(seconds(&dir.path().join("take-2.wav")) >= 1.0);
    assert!(dir.path().join("take-2.log").exists());
}

#[test]
fn deleting_the_record_folder_mid_take_keeps_the_take() {
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("takes");
    std::fs::create_dir(&folder).unwrap();
    let take = folder.join("take.wav");
    let s = record(dir.path(), &take);
    wait_until(Duration::from_secs(60), "2 s are recorded", || {
        seconds(&take) >= 2.0
    });
    std::fs::remove_dir_all(&folder).unwrap();
    // The set plays on.
    let a = s.next_cycle();
    while s.next_cycle() < a + 2 {}
    let stderr = s.quit();
    assert!(
        stderr.contains("recording stopped (the folder")
            && stderr.contains("was deleted; the take was written there again"),
        "{stderr}"
    );
    assert!(seconds(&take) >= 2.0, "{} s kept", seconds(&take));
    for ext in ["log", "ron"] {
        assert!(
            folder.join("take").with_extension(ext).exists(),
            "no take.{ext}"
        );
    }
    let again = dir.path().join("again.wav");
    replay(dir.path(), &folder.join("take.log"), &again);
    assert!(samples(&take) == samples(&again), "the replay differs");
}

/// A small tmpfs mounted for one test, unmounted when dropped.
struct SmallDisk(PathBuf);

impl SmallDisk {
    fn mount(at: PathBuf, size: &str) -> Option<SmallDisk> {
        std::fs::create_dir_all(&at).unwrap();
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(&at)
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        ok.then_some(SmallDisk(at))
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

#[test]
fn a_real_full_disk_ends_the_take_and_keeps_wav_log_scene_and_midi() {
    let dir = tempfile::tempdir().unwrap();
    let Some(disk) = SmallDisk::mount(dir.path().join("small"), "2m") else {
        eprintln!("SKIPPED: cannot mount a 2 MB tmpfs here (needs root)");
        return;
    };
    let take = disk.0.join("take.wav");
    let s = record(dir.path(), &take);
    let started = Instant::now();
    let mut cycles = Vec::new();
    while started.elapsed() < Duration::from_secs(9) {
        cycles.push(s.next_cycle());
    }
    assert!(cycles.windows(2).all(|w| w[1] > w[0]), "{cycles:?}");
    std::thread::sleep(Duration::from_secs(1));
    let stderr = s.quit();
    assert!(stderr.contains("recording stopped"), "{stderr}");
    let kept = seconds(&take);
    assert!((2.0..6.0).contains(&kept), "{kept} s kept");
    for ext in ["log", "ron", "mid"] {
        let f = disk.0.join("take").with_extension(ext);
        assert!(
            f.metadata().is_ok_and(|m| m.len() > 0),
            "no take.{ext}: {stderr}"
        );
    }
    let again = dir.path().join("again.wav");
    replay(dir.path(), &disk.0.join("take.log"), &again);
    assert!(samples(&take) == samples(&again), "the replay differs");
}
