//! The audio server comes and goes mid-set: a private JACK dummy server is stopped under a
//! recording `ubiq play --headless --audio jack`, then started again. Skips (with a message)
//! only where jackd is not installed.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};

mod common;

use common::{ports, start_server, wait_for_ports};

/// Waits (at most `secs`) for a line on `lines` that contains `text`; returns it.
fn wait_line(lines: &Receiver<String>, text: &str, secs: u64, seen: &mut Vec<String>) -> String {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match lines.recv_timeout(left) {
            Ok(line) => {
                seen.push(line.clone());
                if line.contains(text) {
                    return line;
                }
            }
            Err(_) => panic!("no line with {text:?} in {secs} s; stderr so far:\n{seen:#?}"),
        }
    }
}

/// Waits (at most a minute) for a status line whose output starts with `output` and whose
/// cycle is at least `cycle`; returns that cycle.
fn wait_status(status: &Receiver<serde_json::Value>, output: &str, cycle: u64) -> u64 {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let v = status
            .recv_timeout(Duration::from_secs(30))
            .expect("the set goes on");
        let n = v["cycle"].as_u64().expect("cycle");
        if v["output"].as_str().is_some_and(|o| o.starts_with(output)) && n >= cycle {
            return n;
        }
        assert!(
            Instant::now() < deadline,
            "no cycle {cycle} on {output:?}: {v}"
        );
    }
}

#[test]
fn a_jack_server_that_goes_away_and_comes_back_keeps_the_set_and_the_take_going() {
    let Some(server) = start_server("comes-back", &[]) else {
        return;
    };
    let name = server.name.clone();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let scene = d.join("set.ron");
    std::fs::write(
        &scene,
        "Scene(tempo: 240, drums: (kick: \"x...x...x...x...\", closed_hat: \"..x...x...x...x.\"))",
    )
    .unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_ubiq"))
        .args([
            "play",
            "--headless",
            "--json",
            "--audio",
            "jack",
            "--record",
        ])
        .arg(d.join("take.wav"))
        .arg(&scene)
        .env("JACK_DEFAULT_SERVER", &name)
        .env("XDG_DATA_HOME", d.join("data"))
        .env("XDG_CONFIG_HOME", d.join("config"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("ubiq starts");
    let started = Instant::now();
    let (status_tx, status) = mpsc::channel();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Ok(v) = serde_json::from_str::<serde_json::Value>(&line) {
                let _ = status_tx.send(v);
            }
        }
    });
    let (err_tx, errors) = mpsc::channel();
    let stderr = child.stderr.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = err_tx.send(line);
        }
    });
    let mut seen = Vec::new();
    wait_line(&errors, "playing through JACK", 60, &mut seen);
    let client = format!("cpal_client_{}_out", child.id());
    let cycle = wait_status(&status, "JACK", 2);

    // The server stops: one line says so, and musical time runs on silently.
    drop(server);
    let lost = wait_line(&errors, "went away", 30, &mut seen);
    assert!(
        lost.starts_with("ubiq: the JACK server went away"),
        "{lost}"
    );
    let silent = wait_status(&status, "silent", cycle + 1);
    wait_status(&status, "silent", silent + 2);

    // It starts again: ubiq is back on it, in one line, with its ports.
    let server = start_server("comes-back", &[]).expect("jackd starts again");
    assert_eq!(server.name, name);
    let back = wait_line(&errors, "audio is back", 60, &mut seen);
    assert!(
        back.starts_with("ubiq: audio is back: playing through JACK"),
        "{back}"
    );
    wait_for_ports(&name, &format!("{client}:out_0"));
    let again = wait_status(&status, "JACK", 0);
    wait_status(&status, "JACK", again + 1);

    // SIGTERM stops cleanly and finishes the take: it covers the whole set, the time without
    // a server included.
    let played = started.elapsed().as_secs_f64();
    // SAFETY: signalling our own child process.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let deadline = Instant::now() + Duration::from_secs(60);
    let exit = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("ubiq did not exit after SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    while let Ok(line) = errors.recv_timeout(Duration::from_secs(2)) {
        seen.push(line);
    }
    assert!(exit.success(), "{exit}: {seen:#?}");
    assert!(!seen.iter().any(|l| l.contains("panicked")), "{seen:#?}");
    let lines = |text: &str| seen.iter().filter(|l| l.contains(text)).count();
    assert_eq!(lines("went away"), 1, "{seen:#?}");
    assert_eq!(lines("audio is back"), 1, "{seen:#?}");
    let r = hound::WavReader::open(d.join("take.wav")).expect("a finished WAV");
    let length = f64::from(r.duration()) / f64::from(r.spec().sample_rate);
    // Start-up (before the take began) and the moments of switching are all it may miss.
    assert!(
        length > played - 3.0,
        "{length:.1} s recorded of {played:.1} s played"
    );
    assert!(!ports(&name).contains(&client), "the client outlived ubiq");
}

/// The server's clock freezes for three seconds (jackd stopped, as a hung driver does) and
/// runs again: the boundaries the audio did not get meanwhile are counted late, and the set
/// plays on.
#[test]
fn a_frozen_jack_clock_counts_the_boundaries_it_lost_as_late() {
    let Some(server) = start_server("frozen", &[]) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let scene = d.join("set.ron");
    std::fs::write(
        &scene,
        "Scene(tempo: 240, drums: (kick: \"x...x...x...x...\"))",
    )
    .unwrap();
    let mut s = common::Session::start(
        Command::new(env!("CARGO_BIN_EXE_ubiq"))
            .args(["play", "--headless", "--json", "--audio", "jack"])
            .arg(&scene)
            .env("JACK_DEFAULT_SERVER", &server.name)
            .env("XDG_DATA_HOME", d.join("data"))
            .env("XDG_CONFIG_HOME", d.join("config")),
    );
    let cycle = wait_status(&s.status, "JACK", 2);
    // SAFETY: signalling the server this test started.
    unsafe { libc::kill(server.pid(), libc::SIGSTOP) };
    std::thread::sleep(Duration::from_secs(3));
    // SAFETY: as above.
    unsafe { libc::kill(server.pid(), libc::SIGCONT) };
    // A cycle is two seconds: at least one boundary passed while the clock stood still.
    let deadline = Instant::now() + Duration::from_secs(60);
    let late = loop {
        let v = s
            .status
            .recv_timeout(Duration::from_secs(30))
            .expect("the set goes on");
        let late = v["late"].as_u64().expect("late");
        if late > 0 && v["cycle"].as_u64() > Some(cycle) {
            break late;
        }
        assert!(Instant::now() < deadline, "no boundary counted late: {v}");
    };
    assert!(late <= 5, "{late} late for a three-second freeze");
    let now = s.next_cycle();
    while s.next_cycle() < now + 1 {}
    s.say("quit");
    let out = s.child.wait_with_output().expect("ubiq exits");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}
