//! What the end-to-end tests share: a private JACK dummy server for one test and its ports, and
//! a headless session of the binary read through its JSON status lines.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// A JACK dummy server of our own (48 kHz, 256-frame periods), stopped when dropped.
pub struct Server {
    child: Child,
    /// Its name (for `JACK_DEFAULT_SERVER`).
    pub name: String,
}

impl Server {
    /// The server's process id (to stop and continue it).
    pub fn pid(&self) -> i32 {
        self.child.id() as i32
    }
}

impl Drop for Server {
    /// SIGTERM, not SIGKILL: jackd then removes its shared-memory files, which would
    /// otherwise pile up until JACK refuses to start more servers.
    fn drop(&mut self) {
        // SAFETY: signalling our own child process.
        unsafe { libc::kill(self.child.id() as i32, libc::SIGTERM) };
        let _ = self.child.wait();
    }
}

/// Whether a program is on the PATH.
pub fn have(tool: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Starts a server named after `tag` once its system ports are up; `None` (with a message)
/// where jackd or one of `tools` is not installed.
pub fn start_server(tag: &str, tools: &[&str]) -> Option<Server> {
    for tool in ["jackd", "jack_lsp"].iter().chain(tools) {
        if !have(tool) {
            eprintln!("SKIPPED: {tool} is not installed (Debian: jackd2)");
            return None;
        }
    }
    let name = format!("ubiq-{tag}-{}", std::process::id());
    let child = Command::new("jackd")
        .args([
            "-n",
            &name,
            "--no-realtime",
            "-d",
            "dummy",
            "-r",
            "48000",
            "-p",
            "256",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("jackd starts");
    let server = Server { child, name };
    wait_for_ports(&server.name, "system:playback_1");
    Some(server)
}

/// The ports of a server, one per line.
pub fn ports(server: &str) -> String {
    Command::new("jack_lsp")
        .env("JACK_DEFAULT_SERVER", server)
        .stderr(Stdio::null())
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default()
}

/// Waits (at most 10 s) until `port` exists.
pub fn wait_for_ports(server: &str, port: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if ports(server).lines().any(|l| l.trim() == port) {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("port {port} did not appear on JACK server {server}");
}

/// A headless session of the binary whose JSON status lines arrive on a channel.
pub struct Session {
    /// The running `ubiq` (stdin, stdout and stderr piped; stdout is read by a thread).
    pub child: Child,
    /// Its status lines, parsed.
    pub status: mpsc::Receiver<serde_json::Value>,
}

impl Session {
    /// Spawns `cmd` with piped stdin, stdout and stderr.
    pub fn start(cmd: &mut Command) -> Session {
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("ubiq starts");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Ok(v) = serde_json::from_str(&line) {
                    let _ = tx.send(v);
                }
            }
        });
        Session { child, status: rx }
    }

    /// Types one command line.
    pub fn say(&mut self, line: &str) {
        let stdin = self.child.stdin.as_mut().expect("stdin");
        writeln!(stdin, "{line}").expect("ubiq reads stdin");
    }

    /// The cycle number of the next status line (the set is still playing).
    pub fn next_cycle(&self) -> u64 {
        let v = self
            .status
            .recv_timeout(Duration::from_secs(15))
            .expect("the set goes on");
        v["cycle"].as_u64().expect("cycle")
    }

    /// Says `quit`, waits for a clean exit and returns what it printed on stderr.
    pub fn quit(mut self) -> String {
        self.say("quit");
        let out = self.child.wait_with_output().expect("ubiq exits");
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(out.status.success(), "{stderr}");
        stderr
    }
}

/// The binary, with its autosave, open takes and configuration kept in `dir`.
pub fn ubiq_in(dir: &std::path::Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_ubiq"));
    c.env("XDG_DATA_HOME", dir.join("data"))
        .env("XDG_CONFIG_HOME", dir.join("config"));
    c
}

/// A short, fast scene written to `dir/set.ron` (one cycle is a second).
pub fn fast_scene(dir: &std::path::Path) -> std::path::PathBuf {
    let path = dir.join("set.ron");
    std::fs::write(
        &path,
        "Scene(tempo: 240, drums: (kick: \"x...x...x...x...\", closed_hat: \"..x...x...x...x.\"))",
    )
    .expect("the scene is written");
    path
}

/// Writes a mono 16-bit WAV (44.1 kHz) of a sine at `hz`, `seconds` long, at `level` (0..1).
pub fn tone_wav(path: &std::path::Path, hz: f32, seconds: f32, level: f32) {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 44_100,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(path, spec).unwrap();
    for i in 0..(44_100.0 * seconds) as usize {
        let x = (std::f32::consts::TAU * hz * i as f32 / 44_100.0).sin() * level;
        w.write_sample((x * 32_767.0) as i16).unwrap();
    }
    w.finalize().unwrap();
}
