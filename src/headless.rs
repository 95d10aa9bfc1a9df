//! The headless front end: commands on stdin, one status line (or JSON object) per cycle on
//! stdout, errors on stderr. Like the full-screen interface (`ui`), its peer, it is driven
//! from engine snapshots; `quit`, the end of input, SIGINT, SIGTERM or SIGHUP stops it.
//!
//! A closed stdout or stderr (`ubiq play --headless | head`) never stops the set: that stream
//! just gets nothing more ([`Lines`]). Stdin is read as bytes: a line that is not UTF-8 is
//! refused in one line naming it, and the lines after it are taken.

use std::fmt;
use std::io::{self, BufRead, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::Sender;
use std::time::{Duration, Instant};

use crate::command::{Command, parse, spec};
use crate::engine::live::{self, EngineHandle};
use crate::pattern::{Voice, grid};
use crate::snapshot::{Snapshot, bar_beat};
use crate::text;

/// An output stream taking whole lines until a write fails (a closed pipe, a terminal that
/// went away); from then on it drops them, so the set plays on writing nothing there.
pub struct Lines<W: Write> {
    out: W,
    open: bool,
}

impl<W: Write> Lines<W> {
    /// Lines to `out`.
    pub fn new(out: W) -> Self {
        Lines { out, open: true }
    }

    /// Writes one line (the newline is added) and flushes it, unless the stream has failed.
    /// Control characters in it are escaped ([`text::escape`]): names and text from files
    /// never reach the terminal raw.
    pub fn line(&mut self, text: impl fmt::Display) {
        self.write(&text::escape(&text.to_string()));
    }

    /// Writes one JSON object as one line, with the control characters `serde_json` leaves
    /// raw written as JSON escapes ([`text::escape_json`]): the same JSON, safe on a terminal.
    pub fn json(&mut self, value: &serde_json::Value) {
        self.write(&text::escape_json(&value.to_string()));
    }

    fn write(&mut self, line: &str) {
        if self.open {
            self.open = writeln!(self.out, "{line}")
                .and_then(|()| self.out.flush())
                .is_ok();
        }
    }
}

/// The one-line status.
pub fn status_line(snap: &Snapshot, elapsed: Duration) -> String {
    let st = &snap.status;
    let (bar, beat, six) = bar_beat(st.step);
    let secs = elapsed.as_secs();
    let load = if st.dsp_load > 0.0 {
        format!(" · load {:>3.0}%", st.dsp_load * 100.0)
    } else {
        String::new()
    };
    let mut health = String::new();
    if let Some(xruns) = snap.xruns().filter(|&n| n > 0) {
        health.push_str(&format!(" · {xruns} xruns"));
    }
    if st.late_plans > 0 {
        health.push_str(&format!(" · {} late", st.late_plans));
    }
    format!(
        "{} {} · {:.1} BPM · {bar}.{beat}.{six} · cycle {} · {:02}:{:02} · {}{load}{health}",
        if st.playing { "▶" } else { "■" },
        snap.scene,
        st.tempo_bpm,
        st.cycle + 1,
        secs / 60,
        secs % 60,
        snap.output,
    )
}

/// The drum rows of the playing cycle that have hits, as `kick X...x...|X...x... snare …`.
pub fn pattern_summary(snap: &Snapshot) -> String {
    let pattern = &snap.playing.pattern;
    Voice::ALL
        .iter()
        .filter(|v| pattern.count(**v) > 0)
        .map(|v| format!("{} {}", v.name(), grid::format_row(pattern.row(*v))))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The headless status of one cycle as a JSON object (keys documented in the README).
pub fn status_json(snap: &Snapshot, elapsed: Duration) -> serde_json::Value {
    let st = &snap.status;
    let drums: serde_json::Map<String, serde_json::Value> = Voice::ALL
        .iter()
        .filter(|v| snap.pattern.count(**v) > 0)
        .map(|v| {
            (
                v.name().to_string(),
                grid::format_row(snap.pattern.row(*v)).into(),
            )
        })
        .collect();
    serde_json::json!({
        "scene": snap.scene,
        "playing": st.playing,
        "cycle": st.cycle + 1,
        "seconds": elapsed.as_secs_f64(),
        "tempo": st.tempo_bpm,
        "swing": snap.swing,
        "key": snap.key.to_string(),
        "scale": spec::scale_name(snap.scale),
        "drums": drums,
        "bass": snap.playing.bassline.format(snap.playing.tonic),
        "peak_db": 20.0 * st.master_peak.max(1e-6).log10(),
        "lufs": snap.loudness.and_then(|l| l.short_term_lufs),
        "true_peak_db": snap.loudness.and_then(|l| l.true_peak_dbtp),
        "dsp_load": st.dsp_load,
        "xruns": snap.xruns(),
        "late": st.late_plans,
        "output": snap.output,
        "midi": snap.midi,
        "z": [snap.ai.x, snap.ai.y],
        "kick": snap.ai.kick,
        "hats": snap.ai.hats,
        "locked": snap.locked(),
        "loops": loops_json(snap),
        "feedback": snap.feedback.as_ref().map(|f| serde_json::json!({
            "loop": f.loop_name,
            "score": f.score,
            "target": f.target,
            "amount": snap.ai.feedback_amount,
        })),
        "deck": serde_json::json!({
            "record": snap.deck.record,
            "playing": snap.deck.playing,
            "position_s": snap.deck.position_s,
            "rate": snap.deck.rate,
        }),
        "kit": snap.kit.as_deref().unwrap_or(crate::kit::SYNTH),
        "ai_ms": snap.ai_ms,
        "section": snap.section.as_ref().map(|v| serde_json::json!({
            "name": v.name,
            "index": v.index,
            "count": v.count,
            "cycles_left": v.cycles_left,
        })),
    })
}

/// The loop sets as JSON: per set whether it plays, the loop it plays, the one it plays next
/// and the ranked candidates with their scores.
fn loops_json(snap: &Snapshot) -> serde_json::Value {
    snap.loops
        .iter()
        .map(|l| {
            let candidates: Vec<serde_json::Value> = l
                .candidates
                .iter()
                .map(|c| serde_json::json!({"name": c.name, "score": c.score}))
                .collect();
            (
                l.set.name().to_string(),
                serde_json::json!({
                    "on": l.on,
                    "playing": l.playing,
                    "next": l.wanted,
                    "picked": l.pick.is_some(),
                    "candidates": candidates,
                }),
            )
        })
        .collect::<serde_json::Map<_, _>>()
        .into()
}

/// The AI's part of the status line: the latent point, the loops that play and what the
/// feedback loop heard.
pub fn ai_summary(snap: &Snapshot) -> String {
    let mut parts = Vec::new();
    if let Some(v) = &snap.section {
        parts.push(format!(
            "{} {}/{} ({} left)",
            v.name,
            v.index + 1,
            v.count,
            v.cycles_left
        ));
    }
    parts.push(format!("z {:.2},{:.2}", snap.ai.x, snap.ai.y));
    for l in snap.loops.iter().filter(|l| l.on) {
        parts.push(format!(
            "{} {}",
            l.set.name(),
            l.playing.as_deref().or(l.wanted.as_deref()).unwrap_or("–")
        ));
    }
    if let Some(f) = &snap.feedback {
        parts.push(format!("heard {}", f.loop_name));
    }
    if let Some(r) = &snap.deck.record {
        let state = if snap.deck.playing { "▶" } else { "■" };
        parts.push(format!("deck {state} {r} {:.0}s", snap.deck.position_s));
    }
    parts.join(" · ")
}

/// Runs until `quit` is set (a signal, `quit` or the end of input) or the engine ends: prints
/// a status per cycle that plays (and one when the set stops), the engine's refusals on
/// stderr, and a last status with the health counters.
pub fn run(engine: &EngineHandle, quit: &Arc<AtomicBool>, json: bool) {
    read_commands(engine.sender(), Arc::clone(quit));
    let started = Instant::now();
    let mut last_cycle = u64::MAX;
    let mut was_playing = false;
    let mut stdout = Lines::new(io::stdout());
    let mut stderr = Lines::new(io::stderr());
    while !quit.load(Ordering::Relaxed) && !engine.is_finished() {
        std::thread::sleep(Duration::from_millis(20));
        for n in engine.notices() {
            if !n.ok {
                stderr.line(format_args!("ubiq: {}", n.text));
            }
        }
        let snap = engine.snapshot();
        let stopped = was_playing && !snap.status.playing;
        was_playing = snap.status.playing;
        if stopped || (snap.status.playing && snap.status.cycle != last_cycle) {
            last_cycle = snap.status.cycle;
            if json {
                stdout.json(&status_json(&snap, started.elapsed()));
            } else {
                stdout.line(cycle_line(&snap, started.elapsed()));
            }
        }
    }
    for n in engine.notices() {
        if !n.ok {
            stderr.line(format_args!("ubiq: {}", n.text));
        }
    }
    // The last word: where the set stopped, with its health counters.
    let snap = engine.snapshot();
    if json {
        stdout.json(&status_json(&snap, started.elapsed()));
    } else {
        stdout.line(status_line(&snap, started.elapsed()));
    }
}

/// The text status of a cycle: the status line, the AI's part when it plays a part, and the
/// drum rows.
fn cycle_line(snap: &Snapshot, elapsed: Duration) -> String {
    let line = status_line(snap, elapsed);
    if snap.composing || snap.library || snap.section.is_some() {
        format!("{line} · {} · {}", ai_summary(snap), pattern_summary(snap))
    } else {
        format!("{line} · {}", pattern_summary(snap))
    }
}

/// Reads command lines from stdin; bad lines (a refused command, bytes that are not UTF-8)
/// are reported on stderr and change nothing. The end of input stops the performance.
fn read_commands(engine: Sender<live::Request>, quit: Arc<AtomicBool>) {
    std::thread::spawn(move || {
        let mut stdin = io::stdin().lock();
        let mut stderr = Lines::new(io::stderr());
        let mut bytes = Vec::new();
        for number in 1u64.. {
            bytes.clear();
            match stdin.read_until(b'\n', &mut bytes) {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
            let Ok(line) = std::str::from_utf8(line_of(&bytes)) else {
                stderr.line(format_args!("ubiq: stdin line {number}: not UTF-8 text"));
                continue;
            };
            if line.trim().is_empty() || line.trim_start().starts_with('#') {
                continue;
            }
            match parse(line) {
                Ok(Command::Quit) => break,
                Ok(cmd) => {
                    if engine.send(live::Request::Command(cmd)).is_err() {
                        break;
                    }
                }
                Err(e) => stderr.line(format_args!("ubiq: {e}")),
            }
        }
        quit.store(true, Ordering::Relaxed);
    });
}

/// One line read from stdin without its line ending (`\n` or `\r\n`).
fn line_of(bytes: &[u8]) -> &[u8] {
    let bytes = bytes.strip_suffix(b"\n").unwrap_or(bytes);
    bytes.strip_suffix(b"\r").unwrap_or(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A pipe whose reader can go away; it counts the writes tried after that.
    #[derive(Default)]
    struct Pipe {
        got: Vec<u8>,
        closed: bool,
        tried_closed: usize,
    }

    impl Write for Pipe {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            if self.closed {
                self.tried_closed += 1;
                return Err(io::ErrorKind::BrokenPipe.into());
            }
            self.got.extend_from_slice(buf);
            Ok(buf.len())
        }

        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn lines_stop_at_the_first_failed_write_without_panicking() {
        let mut out = Lines::new(Pipe::default());
        out.line("first");
        out.out.closed = true;
        out.line("second");
        out.line("third");
        assert!(!out.open);
        assert_eq!(out.out.got, b"first\n");
        assert_eq!(out.out.tried_closed, 1, "nothing more is tried");
    }

    #[test]
    fn lines_escape_control_characters_and_keep_json_valid() {
        let mut out = Lines::new(Pipe::default());
        out.line(format_args!("ubiq: {}", "\u{1b}]2;pwned\u{7}\nfake"));
        let value = serde_json::json!({"scene": "\u{1b}[2J\u{9b}\u{7f}"});
        out.json(&value);
        let got = String::from_utf8(out.out.got).expect("UTF-8");
        let mut lines = got.lines();
        assert_eq!(lines.next(), Some("ubiq: \\u{1b}]2;pwned\\u{7}\\u{a}fake"));
        let json = lines.next().expect("a JSON line");
        assert!(!json.chars().any(char::is_control), "{json}");
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(json).ok(),
            Some(value)
        );
        assert_eq!(lines.next(), None);
    }

    #[test]
    fn line_endings_are_dropped_and_other_bytes_kept() {
        assert_eq!(line_of(b"tempo 120\n"), b"tempo 120");
        assert_eq!(line_of(b"tempo 120\r\n"), b"tempo 120");
        assert_eq!(line_of(b"key \xff"), b"key \xff");
    }
}
