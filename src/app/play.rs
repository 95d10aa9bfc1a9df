//! `ubiq play`: play a scene live with a one-line status; quits on `q`, Ctrl-C, SIGTERM or
//! the end of standard input.

use std::io::{BufRead, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use crossterm::event::{self, Event, KeyCode, KeyEventKind, KeyModifiers};

use super::terminal::RawMode;
use crate::audio::output::{self, Output, OutputOptions};
use crate::audio::{AudioMsg, Status};
use crate::scene::library;

/// Options of `ubiq play`.
#[derive(Debug, Clone, Default)]
pub struct PlayOptions {
    /// Scene file or shipped scene name (default scene when absent).
    pub scene: Option<String>,
    /// Audio output.
    pub output: OutputOptions,
}

/// Bar.beat.sixteenth (1-based) of a step within the cycle.
pub fn bar_beat(step: f64) -> (u32, u32, u32) {
    let s = step.max(0.0) as u32;
    (s / 16 + 1, (s % 16) / 4 + 1, s % 4 + 1)
}

fn status_line(name: &str, st: &Status, elapsed: Duration, output: &Output) -> String {
    let (bar, beat, six) = bar_beat(st.step);
    let secs = elapsed.as_secs();
    let load = if output.is_silent() {
        String::new()
    } else {
        format!(" · load {:>3.0}%", st.dsp_load * 100.0)
    };
    let xruns = if st.xruns > 0 {
        format!(" · {} xruns", st.xruns)
    } else {
        String::new()
    };
    format!(
        "▶ {name} · {:.1} BPM · {bar}.{beat}.{six} · cycle {} · {:02}:{:02} · {}{load}{xruns} · q quits",
        st.tempo_bpm,
        st.cycle + 1,
        secs / 60,
        secs % 60,
        output,
    )
}

/// Plays until the performer quits.
pub fn run(opts: PlayOptions) -> anyhow::Result<()> {
    let (scene, _path) = library::resolve(opts.scene.as_deref())?;
    let (mut audio, output) = output::open(&opts.output).context("cannot open audio")?;
    match &output {
        Output::Silent { reason, .. } => eprintln!(
            "ubiq: {reason} — playing silently in time; `ubiq render` writes the set to a WAV file"
        ),
        Output::Device { description, .. } => eprintln!("ubiq: playing through {description}"),
    }
    audio
        .send(AudioMsg::Params(scene.params()))
        .and_then(|()| audio.send(AudioMsg::Cycle(scene.plan())))
        .context("the audio thread is not responding")?;

    let quit = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(signal, Arc::clone(&quit))?;
    }
    let raw = RawMode::enter();
    if !raw.is_active() {
        watch_stdin(Arc::clone(&quit));
    }
    let interactive = raw.is_active();
    let started = Instant::now();
    let mut last_cycle = u64::MAX;
    let mut stdout = std::io::stdout();
    while !quit.load(Ordering::Relaxed) {
        if interactive {
            if event::poll(Duration::from_millis(100))?
                && let Event::Key(key) = event::read()?
                && key.kind == KeyEventKind::Press
            {
                let ctrl_c =
                    key.code == KeyCode::Char('c') && key.modifiers.contains(KeyModifiers::CONTROL);
                if ctrl_c || key.code == KeyCode::Char('q') || key.code == KeyCode::Esc {
                    break;
                }
            }
            let line = status_line(&scene.name, &audio.status(), started.elapsed(), &output);
            write!(stdout, "\r\x1b[2K{line}")?;
            stdout.flush()?;
        } else {
            std::thread::sleep(Duration::from_millis(50));
            let st = audio.status();
            if st.cycle != last_cycle {
                last_cycle = st.cycle;
                writeln!(
                    stdout,
                    "{}",
                    status_line(&scene.name, &st, started.elapsed(), &output)
                )?;
            }
        }
    }
    drop(raw);
    if interactive {
        writeln!(stdout)?;
    }
    drop(output);
    Ok(())
}

/// Without a terminal, reads lines from stdin: `q` / `quit` or the end of input stops.
fn watch_stdin(quit: Arc<AtomicBool>) {
    std::thread::spawn(move || {
        let stdin = std::io::stdin();
        for line in stdin.lock().lines() {
            match line {
                Ok(l) if matches!(l.trim(), "q" | "quit") => break,
                Ok(_) => continue,
                Err(_) => break,
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
