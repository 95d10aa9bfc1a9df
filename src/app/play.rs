//! `ubiq play`: play a scene live. On a terminal: a one-line status, `q` quits. Headless (no
//! terminal, or `--headless`): commands on stdin, one status line per cycle on stdout, errors
//! on stderr; `quit`, the end of input, SIGINT or SIGTERM stops.

use std::io::{BufRead, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use crossterm::event::{self, Event, KeyCode, KeyEventKind, KeyModifiers};

use super::terminal::RawMode;
use crate::audio::output::{self, Output, OutputOptions};
use crate::command::{Command, parse};
use crate::engine::live::{self, EngineHandle};
use crate::engine::{Performance, Snapshot};
use crate::scene::library;

/// Options of `ubiq play`.
#[derive(Debug, Clone, Default)]
pub struct PlayOptions {
    /// Scene file or shipped scene name (default scene when absent).
    pub scene: Option<String>,
    /// Audio output.
    pub output: OutputOptions,
    /// Take commands from stdin even on a terminal.
    pub headless: bool,
}

/// Bar.beat.sixteenth (1-based) of a step within the cycle.
pub fn bar_beat(step: f64) -> (u32, u32, u32) {
    let s = step.max(0.0) as u32;
    (s / 16 + 1, (s % 16) / 4 + 1, s % 4 + 1)
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
    if st.xruns > 0 {
        health.push_str(&format!(" · {} xruns", st.xruns));
    }
    if st.late_plans > 0 {
        health.push_str(&format!(" · {} late", st.late_plans));
    }
    format!(
        "▶ {} · {:.1} BPM · {bar}.{beat}.{six} · cycle {} · {:02}:{:02} · {}{load}{health}",
        snap.scene,
        st.tempo_bpm,
        st.cycle + 1,
        secs / 60,
        secs % 60,
        snap.output,
    )
}

/// Plays until the performer quits.
pub fn run(opts: PlayOptions) -> anyhow::Result<()> {
    let (scene, _path) = library::resolve(opts.scene.as_deref())?;
    let (audio, output) = output::open(&opts.output).context("cannot open audio")?;
    match &output {
        Output::Silent { reason, .. } => eprintln!(
            "ubiq: {reason} — playing silently in time; `ubiq render` writes the set to a WAV file"
        ),
        Output::Device { description, .. } => eprintln!("ubiq: playing through {description}"),
    }
    let engine = live::spawn(Performance::new(scene), audio, output.to_string())?;
    let quit = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(signal, Arc::clone(&quit))?;
    }
    let raw = if opts.headless {
        None
    } else {
        Some(RawMode::enter()).filter(RawMode::is_active)
    };
    let result = match raw {
        Some(_) => interactive(&engine, &quit),
        None => headless(&engine, &quit),
    };
    drop(raw);
    drop(engine);
    drop(output);
    result
}

fn interactive(engine: &EngineHandle, quit: &AtomicBool) -> anyhow::Result<()> {
    let started = Instant::now();
    let mut stdout = std::io::stdout();
    while !quit.load(Ordering::Relaxed) {
        if event::poll(Duration::from_millis(50))?
            && let Event::Key(key) = event::read()?
            && key.kind == KeyEventKind::Press
        {
            let ctrl_c =
                key.code == KeyCode::Char('c') && key.modifiers.contains(KeyModifiers::CONTROL);
            if ctrl_c || key.code == KeyCode::Char('q') || key.code == KeyCode::Esc {
                break;
            }
        }
        let line = status_line(&engine.snapshot(), started.elapsed());
        write!(stdout, "\r\x1b[2K{line} · q quits")?;
        stdout.flush()?;
    }
    writeln!(stdout, "\r")?;
    Ok(())
}

fn headless(engine: &EngineHandle, quit: &Arc<AtomicBool>) -> anyhow::Result<()> {
    read_commands(engine.sender(), Arc::clone(quit));
    let started = Instant::now();
    let mut last_cycle = u64::MAX;
    let mut stdout = std::io::stdout();
    while !quit.load(Ordering::Relaxed) && !engine.is_finished() {
        std::thread::sleep(Duration::from_millis(20));
        for n in engine.notices() {
            if !n.ok {
                eprintln!("ubiq: {}", n.text);
            }
        }
        let snap = engine.snapshot();
        if snap.status.frame > 0 && snap.status.cycle != last_cycle {
            last_cycle = snap.status.cycle;
            writeln!(stdout, "{}", status_line(&snap, started.elapsed()))?;
        }
    }
    for n in engine.notices() {
        if !n.ok {
            eprintln!("ubiq: {}", n.text);
        }
    }
    Ok(())
}

/// Reads command lines from stdin; bad lines are reported on stderr and change nothing.
/// The end of input stops the performance.
fn read_commands(engine: std::sync::mpsc::Sender<live::Request>, quit: Arc<AtomicBool>) {
    std::thread::spawn(move || {
        let stdin = std::io::stdin();
        for line in stdin.lock().lines() {
            let Ok(line) = line else { break };
            if line.trim().is_empty() || line.trim_start().starts_with('#') {
                continue;
            }
            match parse(&line) {
                Ok(Command::Quit) => break,
                Ok(cmd) => {
                    if engine.send(live::Request::Command(cmd)).is_err() {
                        break;
                    }
                }
                Err(e) => eprintln!("ubiq: {e}"),
            }
        }
        quit.store(true, Ordering::Relaxed);
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bar_beat_counts_from_one() {
        assert_eq!(bar_beat(0.0), (1, 1, 1));
        assert_eq!(bar_beat(5.5), (1, 2, 2));
        assert_eq!(bar_beat(31.9), (2, 4, 4));
    }
}
