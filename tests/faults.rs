//! Faults around a live set, against the real binary: a hang-up (SIGHUP), a closed stdout or
//! stderr, bytes on stdin that are not text. Each one leaves the take finished and, where the
//! set goes on, the set playing.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

mod common;
use common::{Session, fast_scene as scene, ubiq_in as ubiq};

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
    exit_within_a_minute(child).unwrap_or_else(|| panic!("ubiq did not exit after {what}"))
}

/// Waits at most a minute for `child` to exit; kills it and gives `None` if it does not.
fn exit_within_a_minute(child: &mut Child) -> Option<std::process::ExitStatus> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return Some(status);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            return None;
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
fn sighup_finishes_a_headless_take_that_replays() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = headless_take(dir.path());
    // As from a terminal, SIGHUP starts at its default action: a test runner started with
    // `nohup` passes it on ignored, and ubiq keeps an ignored SIGHUP ignored (by design).
    // SAFETY: the closure only calls `signal`, which is async-signal-safe, between fork and
    // exec.
    unsafe {
        c.pre_exec(|| {
            libc::signal(libc::SIGHUP, libc::SIG_DFL);
            Ok(())
        });
    }
    let mut s = Session::start(c.arg("--json"));
    // Read stderr as it comes, as a terminal would: a full pipe would stop ubiq mid-line.
    let mut err = s.child.stderr.take().unwrap();
    let stderr = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = std::io::Read::read_to_string(&mut err, &mut text);
        text
    });
    while s.next_cycle() < 3 {}
    // SAFETY: signalling our own child process.
    unsafe { libc::kill(s.child.id() as i32, libc::SIGHUP) };
    let status = exit_within_a_minute(&mut s.child);
    let stderr = stderr.join().unwrap();
    let status = status.unwrap_or_else(|| panic!("ubiq did not exit after SIGHUP: {stderr}"));
    assert!(status.success(), "{status}: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_finished_take(dir.path(), 2.0);
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

/// A tmux server of our own (its own socket), killed when dropped.
struct Tmux {
    socket: String,
}

impl Tmux {
    fn run(&self, args: &[&str]) -> std::process::Output {
        Command::new("tmux")
            .args(["-L", &self.socket])
            .args(args)
            .output()
            .expect("tmux runs")
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.run(&["kill-server"]);
    }
}

/// The SSH drop of a full-screen set: the terminal goes away (its tmux session is killed) and
/// SIGHUP arrives. ubiq stops as on `quit`, draws nothing more and finishes the take.
#[test]
fn a_hang_up_of_the_full_screen_finishes_the_take() {
    full_screen_take_ends(true);
}

/// SIGHUP alone, the terminal still there: the same clean stop.
#[test]
fn sighup_to_the_full_screen_finishes_the_take() {
    full_screen_take_ends(false);
}

/// Plays a take full screen in a tmux pane, then sends SIGHUP, first killing the pane's
/// terminal when `hang_up`; ubiq must exit 0 with the take finished.
fn full_screen_take_ends(hang_up: bool) {
    if !common::have("tmux") {
        eprintln!("SKIPPED: tmux is not installed (./ubiq.sh test installs it)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let scene = scene(d);
    let tmux = Tmux {
        socket: format!("ubiq-faults-{}", std::process::id()),
    };
    // The outer shell outlives the hang-up (it traps SIGHUP) to write ubiq's exit status; the
    // inner one hands its pid on to ubiq.
    let cmd = format!(
        "trap : HUP; sh -c 'echo $$ > {d}/pid; exec env XDG_DATA_HOME={d}/data \
         XDG_CONFIG_HOME={d}/config NO_COLOR= TERM=xterm-256color {bin} play --audio none \
         --record {d}/take.wav {scene} 2>{d}/stderr'; echo $? > {d}/status",
        d = d.display(),
        bin = env!("CARGO_BIN_EXE_ubiq"),
        scene = scene.display(),
    );
    let started = tmux.run(&[
        "new-session",
        "-d",
        "-s",
        "ubiq",
        "-x",
        "80",
        "-y",
        "24",
        &cmd,
    ]);
    assert!(started.status.success(), "{started:?}");
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut screen = String::new();
    while !screen.contains("▶ set · 240.0 BPM") {
        assert!(Instant::now() < deadline, "no interface; screen:\n{screen}");
        std::thread::sleep(Duration::from_millis(100));
        let out = tmux.run(&["capture-pane", "-p", "-t", "ubiq"]);
        screen = String::from_utf8_lossy(&out.stdout).into_owned();
    }
    std::thread::sleep(Duration::from_secs(2));
    let pid: i32 = std::fs::read_to_string(d.join("pid"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    if hang_up {
        assert!(tmux.run(&["kill-session", "-t", "ubiq"]).status.success());
    }
    // SAFETY: signalling the ubiq this test started.
    unsafe { libc::kill(pid, libc::SIGHUP) };
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Ok(s) = std::fs::read_to_string(d.join("status"))
            && s.ends_with('\n')
        {
            break s;
        }
        if Instant::now() > deadline {
            // SAFETY: as above.
            unsafe { libc::kill(pid, libc::SIGKILL) };
            panic!("ubiq did not exit after the hang-up");
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let stderr = std::fs::read_to_string(d.join("stderr")).unwrap_or_default();
    assert_eq!(status.trim(), "0", "ubiq's exit status; stderr:\n{stderr}");
    assert_finished_take(d, 2.0);
}

/// The process stopped for four seconds (SIGSTOP, as a debugger or an overloaded machine
/// does) and continued: the boundaries the audio did not get on time are counted late, and
/// the set plays on.
#[test]
fn a_stopped_process_counts_the_boundaries_it_lost_as_late() {
    let dir = tempfile::tempdir().unwrap();
    let s = Session::start(
        ubiq(dir.path())
            .args(["play", "--headless", "--audio", "none", "--json"])
            .arg(scene(dir.path())),
    );
    while s.next_cycle() < 3 {}
    let pid = s.child.id() as i32;
    // SAFETY: signalling our own child process.
    unsafe { libc::kill(pid, libc::SIGSTOP) };
    std::thread::sleep(Duration::from_secs(4));
    // SAFETY: as above.
    unsafe { libc::kill(pid, libc::SIGCONT) };
    // A cycle is two seconds: at least one boundary passed while it stood still.
    let deadline = Instant::now() + Duration::from_secs(60);
    let (late, cycle) = loop {
        let v = s
            .status
            .recv_timeout(Duration::from_secs(30))
            .expect("the set goes on");
        let late = v["late"].as_u64().expect("late");
        if late > 0 {
            break (late, v["cycle"].as_u64().expect("cycle"));
        }
        assert!(Instant::now() < deadline, "no boundary counted late: {v}");
    };
    assert!(late <= 6, "{late} late for a four-second stop");
    while s.next_cycle() < cycle + 2 {}
    let stderr = s.quit();
    assert!(!stderr.contains("panicked"), "{stderr}");
}
