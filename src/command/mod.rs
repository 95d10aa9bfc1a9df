//! The one command type. Keys, the `:` prompt, headless stdin, scene files and MIDI
//! controllers all produce [`Command`]s from text; only the engine applies them.
//!
//! The table in [`spec`] is the single source of truth: the parser, `ubiq help commands`,
//! completion and the command log all derive from it.

pub mod param;
mod parse;
pub mod spec;

use std::fmt;
use std::path::PathBuf;

pub use param::Param;
pub use parse::{CommandError, complete, parse};

use crate::audio::params::Track;
use crate::pattern::{Bassline, DrumCell, Key, STEPS, Scale, Voice, grid};

/// A send effect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendBus {
    /// The tempo-synced delay.
    Delay,
    /// The reverb.
    Reverb,
}

impl SendBus {
    /// Name in commands.
    pub fn name(self) -> &'static str {
        match self {
            SendBus::Delay => "delay",
            SendBus::Reverb => "reverb",
        }
    }
}

/// What a `midi …` command asks of MIDI.
#[derive(Debug, Clone, PartialEq)]
pub enum MidiAction {
    /// Bind the next control moved to a command (`filter`: a knob sweeps it; `toggle drums`:
    /// a key fires it).
    Learn(String),
    /// Remove the bindings of a command.
    Forget(String),
    /// Send MIDI clock (continue from the song position) or stop it.
    Clock(bool),
}

impl fmt::Display for MidiAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MidiAction::Learn(t) => write!(f, "learn {t}"),
            MidiAction::Forget(t) => write!(f, "forget {t}"),
            MidiAction::Clock(on) => write!(f, "clock {}", if *on { "on" } else { "off" }),
        }
    }
}

/// Every change a performer can make.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// Tempo in BPM (lands on the next cycle).
    Tempo(f32),
    /// Tempo change in BPM relative to the current tempo (lands on the next cycle).
    Nudge(f32),
    /// Swing in percent (lands on the next cycle).
    Swing(f32),
    /// Silence a track.
    Mute(Track),
    /// Un-silence a track.
    Unmute(Track),
    /// Mute a playing track, unmute a muted one.
    Toggle(Track),
    /// Hear only this track.
    Solo(Track),
    /// End solo.
    Unsolo,
    /// Track fader in dB.
    Gain(Track, f32),
    /// Track pan −1..1.
    Pan(Track, f32),
    /// Track send level 0..1.
    Send(Track, SendBus, f32),
    /// The DJ filter knob −1..1.
    Filter(f32),
    /// Master level in dB.
    Master(f32),
    /// A sound parameter.
    Set(Param, f32),
    /// The set's key (the bassline follows).
    Key(Key),
    /// The scale generated basslines keep to.
    Scale(Scale),
    /// Writes one drum row.
    Grid(Voice, Box<[DrumCell; STEPS]>),
    /// Writes the bassline (absolute pitches, as in scene files).
    Bass(Box<Bassline>),
    /// Loads a scene file (applies at the next cycle).
    Load(PathBuf),
    /// Saves the current state as a scene file.
    Save(PathBuf),
    /// MIDI learn, forget, clock out (handled by the live engine's MIDI).
    Midi(MidiAction),
    /// Starts recording the set to NAME.wav / NAME.log / NAME.ron.
    RecordStart(PathBuf),
    /// Stops the recording.
    RecordStop,
    /// Stops the performance.
    Quit,
}

fn num(v: f32) -> String {
    let s = format!("{v:.3}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" { "0".into() } else { s.into() }
}

fn quoted(p: &std::path::Path) -> String {
    let s = p.display().to_string();
    if s.contains(char::is_whitespace) {
        format!("\"{s}\"")
    } else {
        s
    }
}

impl fmt::Display for Command {
    /// The canonical text, which [`parse`] reads back to the same command.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Command::Tempo(v) => write!(f, "tempo {}", num(*v)),
            Command::Nudge(v) => write!(f, "nudge {}", num(*v)),
            Command::Swing(v) => write!(f, "swing {}", num(*v)),
            Command::Mute(t) => write!(f, "mute {}", t.name()),
            Command::Unmute(t) => write!(f, "unmute {}", t.name()),
            Command::Toggle(t) => write!(f, "toggle {}", t.name()),
            Command::Solo(t) => write!(f, "solo {}", t.name()),
            Command::Unsolo => f.write_str("unsolo"),
            Command::Gain(t, v) => write!(f, "gain {} {}", t.name(), num(*v)),
            Command::Pan(t, v) => write!(f, "pan {} {}", t.name(), num(*v)),
            Command::Send(t, b, v) => write!(f, "send {} {} {}", t.name(), b.name(), num(*v)),
            Command::Filter(v) => write!(f, "filter {}", num(*v)),
            Command::Master(v) => write!(f, "master {}", num(*v)),
            Command::Set(p, v) => write!(f, "set {} {}", p.name(), num(*v)),
            Command::Key(k) => write!(f, "key {k}"),
            Command::Scale(s) => write!(f, "scale {}", spec::scale_name(*s)),
            Command::Grid(v, cells) => write!(f, "grid {} {}", v.name(), grid::format_row(cells)),
            Command::Bass(line) => write!(f, "bass {}", line.format(0)),
            Command::Load(p) => write!(f, "load {}", quoted(p)),
            Command::Save(p) => write!(f, "save {}", quoted(p)),
            Command::Midi(a) => write!(f, "midi {a}"),
            Command::RecordStart(p) => write!(f, "record start {}", quoted(p)),
            Command::RecordStop => f.write_str("record stop"),
            Command::Quit => f.write_str("quit"),
        }
    }
}
