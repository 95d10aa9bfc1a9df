//! MIDI through a real JACK server: a private dummy server, `ubiq play --midi-out` and a JACK
//! client of our own that timestamps every message it receives to the frame. Measures the
//! jitter of notes and clock against the ideal schedule (p50 / p99 printed; p99 must be
//! ≤ 1 ms and no clock tick lost whenever the server had no xrun while they played), checks that the notes equal what `ubiq render --midi-out` writes, then drives
//! ubiq's MIDI in with a 120 BPM clock and a controller. Skips (with a message) only where
//! jackd is not installed.
#![cfg(target_os = "linux")]

mod common;

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};

use common::start_server;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const RATE: f64 = 48_000.0;
/// 120 BPM: frames per sixteenth step and per clock tick.
const FRAMES_PER_STEP: f64 = 6_000.0;
const FRAMES_PER_TICK: f64 = 1_000.0;

/// Messages received, with their absolute frame.
type Log = Arc<Mutex<Vec<(u64, Vec<u8>)>>>;

/// The probe's process callback.
type ProcessFn = Box<dyn FnMut(&jack::Client, &jack::ProcessScope) -> jack::Control + Send>;

/// JACK frames near which the server was disturbed: an xrun it reported (any client's), or a
/// period the probe was not called for. A `--no-realtime` server on a loaded machine can do
/// either, and then a message is placed late or a probe period is lost through no fault of
/// ubiq's, so timing is asserted only over a stretch free of them.
type Disturbances = Arc<Mutex<Vec<u64>>>;

/// Records the server's xruns at the frame they were reported.
struct XrunLog(Disturbances);

impl jack::NotificationHandler for XrunLog {
    fn xrun(&mut self, client: &jack::Client) -> jack::Control {
        if let Ok(mut d) = self.0.lock() {
            d.push(u64::from(client.frame_time()));
        }
        jack::Control::Continue
    }
}

/// Our JACK client: records what arrives on `in`; sends clock at 120 BPM (start first) and
/// queued controller messages on `out`.
struct Probe {
    _client: jack::AsyncClient<XrunLog, jack::contrib::ClosureProcessHandler<(), ProcessFn>>,
    log: Log,
    disturbances: Disturbances,
    clock: Arc<AtomicBool>,
    cc: Arc<Mutex<Vec<[u8; 3]>>>,
    /// One-byte real-time messages to send (start, stop).
    realtime: Arc<Mutex<Vec<u8>>>,
    sent_ticks: Arc<AtomicU32>,
}

fn probe() -> Probe {
    let (client, _) =
        jack::Client::new("ubiq-probe", jack::ClientOptions::NO_START_SERVER).expect("client");
    let input = client
        .register_port("in", jack::MidiIn::default())
        .expect("in port");
    let mut output = client
        .register_port("out", jack::MidiOut::default())
        .expect("out port");
    let log: Log = Arc::default();
    let clock = Arc::new(AtomicBool::new(false));
    let cc: Arc<Mutex<Vec<[u8; 3]>>> = Arc::default();
    let realtime: Arc<Mutex<Vec<u8>>> = Arc::default();
    let sent_ticks = Arc::new(AtomicU32::new(0));
    let disturbances: Disturbances = Arc::default();
    let skipped = Arc::clone(&disturbances);
    let mut expected_start: Option<u64> = None;
    let (l, c, q, s, rt) = (
        Arc::clone(&log),
        Arc::clone(&clock),
        Arc::clone(&cc),
        Arc::clone(&sent_ticks),
        Arc::clone(&realtime),
    );
    let mut next_tick: Option<u64> = None;
    let process: ProcessFn = Box::new(move |_, ps| {
        let start = u64::from(ps.last_frame_time());
        let n = u64::from(ps.n_frames());
        if expected_start.is_some_and(|e| e != start) {
            if let Ok(mut d) = skipped.lock() {
                d.push(start);
            }
        }
        expected_start = Some(start + n);
        if let Ok(mut log) = l.lock() {
            for ev in input.iter(ps) {
                log.push((start + u64::from(ev.time), ev.bytes.to_vec()));
            }
        }
        let mut w = output.writer(ps);
        if let Ok(mut q) = q.lock() {
            for m in q.drain(..) {
                let _ = w.write(&jack::RawMidi { time: 0, bytes: &m });
            }
        }
        if let Ok(mut rt) = rt.lock() {
            for b in rt.drain(..) {
                let _ = w.write(&jack::RawMidi {
                    time: 0,
                    bytes: &[b],
                });
            }
        }
        if c.load(Ordering::Relaxed) {
            let t = *next_tick.get_or_insert_with(|| {
                let _ = w.write(&jack::RawMidi {
                    time: 0,
                    bytes: &[0xFA],
                });
                start
            });
            let mut t = t;
            while t < start + n {
                let _ = w.write(&jack::RawMidi {
                    time: (t - start) as u32,
                    bytes: &[0xF8],
                });
                s.fetch_add(1, Ordering::Relaxed);
                t += FRAMES_PER_TICK as u64;
            }
            next_tick = Some(t);
        }
        jack::Control::Continue
    });
    let client = client
        .activate_async(
            XrunLog(Arc::clone(&disturbances)),
            jack::contrib::ClosureProcessHandler::new(process),
        )
        .expect("activate");
    Probe {
        _client: client,
        log,
        disturbances,
        clock,
        cc,
        realtime,
        sent_ticks,
    }
}

const SCENE: &str = r#"Scene(
    tempo: 120,
    drums: (
        kick: "x...x...x...x...",
        snare: "....x.......x...",
        closed_hat: "x.x.x.x.x.x.x.x.",
    ),
    bass: (
        key: "A",
        octave: 1,
        scale: minor,
        line: "A1 . A1 - C2 . . G1 . . A1 - . E1 . .",
    ),
)"#;

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[i]
}

/// Jitter in ms of measured frames against `ideal` positions (frames from an unknown start):
/// the start is the median offset; returns the sorted absolute deviations.
fn jitter(measured: &[u64], ideal: &[f64]) -> Vec<f64> {
    let mut offsets: Vec<f64> = measured
        .iter()
        .zip(ideal)
        .map(|(m, i)| *m as f64 - i)
        .collect();
    offsets.sort_by(f64::total_cmp);
    let start = offsets[offsets.len() / 2];
    let mut dev: Vec<f64> = measured
        .iter()
        .zip(ideal)
        .map(|(m, i)| (*m as f64 - i - start).abs() / RATE * 1000.0)
        .collect();
    dev.sort_by(f64::total_cmp);
    dev
}

/// Jitter in ms of `measured` frames against the nearest point of a grid with `period` (its
/// phase the median's), and how many grid points between the first and the last went without a
/// message (negative: extra messages).
fn grid_jitter(measured: &[u64], period: f64) -> (Vec<f64>, i64) {
    let first = measured[0] as f64;
    let residue = |m: u64| {
        let d = m as f64 - first;
        d - (d / period).round() * period
    };
    let mut residues: Vec<f64> = measured.iter().map(|&m| residue(m)).collect();
    residues.sort_by(f64::total_cmp);
    let phase = residues[residues.len() / 2];
    let mut dev: Vec<f64> = residues
        .iter()
        .map(|r| (r - phase).abs() / RATE * 1000.0)
        .collect();
    dev.sort_by(f64::total_cmp);
    let last = measured[measured.len() - 1] as f64;
    let points = ((last - first) / period).round() as i64 + 1;
    (dev, points - measured.len() as i64)
}

/// (tick, bytes) of the note messages in a file written by `render --midi-out`.
fn file_notes(path: &std::path::Path) -> Vec<(u64, Vec<u8>)> {
    let bytes = std::fs::read(path).expect("midi file");
    let smf = midly::Smf::parse(&bytes).expect("valid SMF");
    let mut out = Vec::new();
    let mut tick = 0u64;
    for ev in &smf.tracks[1] {
        tick += u64::from(u32::from(ev.delta));
        if let midly::TrackEventKind::Midi { channel, message } = ev.kind {
            let ch = u8::from(channel);
            let b = match message {
                midly::MidiMessage::NoteOn { key, vel } => vec![0x90 | ch, key.into(), vel.into()],
                midly::MidiMessage::NoteOff { key, vel } => vec![0x80 | ch, key.into(), vel.into()],
                _ => continue,
            };
            out.push((tick, b));
        }
    }
    out
}

fn ubiq(server: &str, args: &[&str], config: &std::path::Path) -> Child {
    Command::new(env!("CARGO_BIN_EXE_ubiq"))
        .args(args)
        .env("JACK_DEFAULT_SERVER", server)
        .env("XDG_CONFIG_HOME", config)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("ubiq starts")
}

#[test]
fn midi_through_a_jack_server() {
    let Some(server) = start_server("midi", &[]) else {
        return;
    };
    // SAFETY: this test binary has one test; nothing else reads the environment meanwhile.
    unsafe { std::env::set_var("JACK_DEFAULT_SERVER", &server.name) };
    let probe = probe();
    let dir = tempfile::tempdir().expect("temp dir");
    let scene = dir.path().join("midi.ron");
    std::fs::write(&scene, SCENE).expect("scene written");
    let scene = scene.to_str().expect("utf-8 path");

    // The file of what MIDI out sends for this scene.
    let mid = dir.path().join("render.mid");
    let wav = dir.path().join("render.wav");
    let render = Command::new(env!("CARGO_BIN_EXE_ubiq"))
        .args(["render", scene, "--bars", "8", "--out"])
        .arg(&wav)
        .arg("--midi-out")
        .arg(&mid)
        .output()
        .expect("render runs");
    assert!(render.status.success(), "{render:?}");
    let expected = file_notes(&mid);

    // Play live into the probe.
    let mut play = ubiq(
        &server.name,
        &[
            "play",
            "--headless",
            "--audio",
            "jack",
            "--midi-out",
            "ubiq-probe:in",
            "--midi-clock",
            scene,
        ],
        dir.path(),
    );
    std::thread::sleep(Duration::from_millis(6_000));
    drop(play.stdin.take());
    let out = play.wait_with_output().expect("ubiq exits");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "ubiq failed: {stderr}");
    assert!(stderr.contains("MIDI JACK"), "{stderr}");
    let log = probe.log.lock().expect("log").clone();

    let notes: Vec<&(u64, Vec<u8>)> = log.iter().filter(|(_, b)| b[0] < 0xF0).collect();
    let ticks: Vec<u64> = log
        .iter()
        .filter(|(_, b)| b[0] == 0xF8)
        .map(|(f, _)| *f)
        .collect();
    let start = log
        .iter()
        .position(|(_, b)| b[0] == 0xFA)
        .expect("clock start sent");
    let spp = log
        .iter()
        .position(|(_, b)| b[..] == [0xF2, 0, 0])
        .expect("song position 0");
    let first_tick = log.iter().position(|(_, b)| b[0] == 0xF8).expect("ticks");
    assert!(spp < start && start < first_tick, "SPP, start, then ticks");
    assert!(
        log.last().is_some_and(|(_, b)| b[..] == [0xFC]),
        "stop at the end: {:?}",
        &log[log.len().saturating_sub(5)..]
    );

    // Notes: exactly the file's messages in order (the last few are the note-offs sent at
    // quit), at times matching the file's ticks.
    let compared = notes.len().saturating_sub(20);
    assert!(compared >= 40, "only {} notes arrived", notes.len());
    for (i, ((_, got), (_, want))) in notes
        .iter()
        .map(|n| (n.0, &n.1))
        .zip(&expected)
        .take(compared)
        .enumerate()
    {
        assert_eq!(got, want, "message {i} differs from the exported file");
    }
    let frames_per_file_tick = FRAMES_PER_STEP / 480.0;
    let measured: Vec<u64> = notes.iter().take(compared).map(|n| n.0).collect();
    let ideal: Vec<f64> = expected
        .iter()
        .take(compared)
        .map(|(t, _)| *t as f64 * frames_per_file_tick)
        .collect();
    let note_dev = jitter(&measured, &ideal);
    let (tick_dev, missing_ticks) = grid_jitter(&ticks, FRAMES_PER_TICK);
    let (n50, n99) = (percentile(&note_dev, 0.5), percentile(&note_dev, 0.99));
    let (c50, c99) = (percentile(&tick_dev, 0.5), percentile(&tick_dev, 0.99));
    eprintln!(
        "MIDI jitter through JACK (dummy, 48 kHz, 256-frame periods): notes n={} p50 {n50:.3} ms p99 {n99:.3} ms max {:.3} ms; clock n={} p50 {c50:.3} ms p99 {c99:.3} ms max {:.3} ms, {missing_ticks} missing",
        note_dev.len(),
        note_dev[note_dev.len() - 1],
        tick_dev.len(),
        tick_dev[tick_dev.len() - 1],
    );
    assert!(ticks.len() >= 200, "only {} clock ticks", ticks.len());
    let span = measured[0].min(ticks[0])..=measured[measured.len() - 1].max(ticks[ticks.len() - 1]);
    let disturbed: Vec<u64> = probe
        .disturbances
        .lock()
        .expect("disturbances")
        .iter()
        .copied()
        .filter(|f| span.contains(f))
        .collect();
    if disturbed.is_empty() {
        assert!(n99 <= 1.0, "note p99 jitter {n99:.3} ms");
        assert!(c99 <= 1.0, "clock p99 jitter {c99:.3} ms");
        assert_eq!(missing_ticks, 0, "clock ticks lost or doubled");
    } else {
        eprintln!(
            "NOT ASSERTED: the jitter limits, because the server had an xrun or skipped a period at JACK frames {disturbed:?} while the notes played (a --no-realtime server on a loaded machine)"
        );
    }
    // Clock and notes share one timeline: the first tick is the first downbeat.
    let gap = (ticks[0] as f64 - notes[0].0 as f64).abs() / RATE * 1000.0;
    assert!(
        gap <= 1.0,
        "first tick {gap:.3} ms away from the first note"
    );

    // MIDI in: follow a 120 BPM clock from a 100 BPM scene, and learn a controller.
    let slow = dir.path().join("slow.ron");
    std::fs::write(&slow, SCENE.replace("tempo: 120", "tempo: 100")).expect("scene");
    let mut follow = ubiq(
        &server.name,
        &[
            "play",
            "--headless",
            "--json",
            "--audio",
            "jack",
            "--midi-in",
            "ubiq-probe:out",
            "--midi-follow",
            slow.to_str().expect("utf-8 path"),
        ],
        dir.path(),
    );
    let mut stdin = follow.stdin.take().expect("stdin");
    writeln!(stdin, "midi learn swing").expect("command");
    std::thread::sleep(Duration::from_millis(1_500));
    probe.cc.lock().expect("cc").push([0xB0, 21, 127]);
    std::thread::sleep(Duration::from_millis(300));
    probe.clock.store(true, Ordering::Relaxed);
    let stdout = follow.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut seen = None;
    while Instant::now() < deadline {
        let Some(Ok(line)) = lines.next() else { break };
        let v: serde_json::Value = serde_json::from_str(&line).expect("json status");
        let midi = v["midi"].as_str().unwrap_or_default().to_string();
        if midi.contains("locked")
            && v["tempo"]
                .as_f64()
                .is_some_and(|t| (t - 120.0).abs() < 0.05)
        {
            seen = Some((midi, v["swing"].as_f64()));
            break;
        }
    }
    // The followed clock stops, then starts again: the transport follows.
    let mut next_status = |want: &dyn Fn(&serde_json::Value) -> bool| {
        while Instant::now() < deadline + Duration::from_secs(10) {
            let Some(Ok(line)) = lines.next() else { break };
            let v: serde_json::Value = serde_json::from_str(&line).expect("json status");
            if want(&v) {
                return Some(v);
            }
        }
        None
    };
    probe.clock.store(false, Ordering::Relaxed);
    probe.realtime.lock().expect("rt").push(0xFC);
    let stopped = next_status(&|v| v["playing"] == false).expect("a stop stops the transport");
    probe.realtime.lock().expect("rt").push(0xFA);
    probe.clock.store(true, Ordering::Relaxed);
    let cycle = stopped["cycle"].as_u64().unwrap_or(0);
    next_status(&|v| v["playing"] == true && v["cycle"].as_u64() > Some(cycle))
        .expect("a start starts it again with a new cycle");
    drop(stdin);
    let _ = follow.wait();
    let (midi, swing) = seen.expect("ubiq follows the 120 BPM clock");
    eprintln!(
        "clock follow: {midi} (probe sent {} ticks)",
        probe.sent_ticks.load(Ordering::Relaxed)
    );
    let after: u64 = midi
        .split("after ")
        .nth(1)
        .and_then(|s| s.split(' ').next())
        .and_then(|s| s.parse().ok())
        .expect("lock time reported");
    assert!(
        after <= 48,
        "locked after {after} ticks (more than 2 beats)"
    );
    assert_eq!(swing, Some(75.0), "CC 21 at 127 mapped to `swing 75`");
    let saved = std::fs::read_to_string(dir.path().join("ubiq/midi.ron")).expect("bindings saved");
    assert!(saved.contains("swing"), "{saved}");
}
