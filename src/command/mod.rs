//! The one command type. Keys, the `:` prompt, headless stdin, scene files and MIDI
//! controllers all produce [`Command`]s from text; only the engine applies them.
//!
//! The table in [`spec`] is the single source of truth: the parser, `ubiq help commands`,
//! completion and the command log all derive from it.

pub mod model_name;
pub mod param;
mod parse;
pub mod spec;
pub mod target;

use std::fmt;
use std::path::PathBuf;

pub use model_name::ModelName;
pub use param::Param;
pub use parse::{CommandError, MAX_LINE, complete, parse};
pub use spec::ValueError;
pub use target::{Target, TargetError};

use crate::audio::params::Track;
use crate::loops::LoopSet;
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
            MidiAction::Learn(t) => write!(f, "learn {}", rest_of_line(t)),
            MidiAction::Forget(t) => write!(f, "forget {}", rest_of_line(t)),
            MidiAction::Clock(on) => write!(f, "clock {}", if *on { "on" } else { "off" }),
        }
    }
}

/// A part the AI writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// The drum pattern.
    Drums,
    /// The bassline.
    Bass,
    /// The loop a loop set plays.
    Loops(LoopSet),
}

impl Part {
    /// Every part, in the order commands list them.
    pub const ALL: [Part; 6] = [
        Part::Drums,
        Part::Bass,
        Part::Loops(LoopSet::Music),
        Part::Loops(LoopSet::Ambient),
        Part::Loops(LoopSet::Voice),
        Part::Loops(LoopSet::Rhythm),
    ];

    /// Name in commands.
    pub fn name(self) -> &'static str {
        match self {
            Part::Drums => "drums",
            Part::Bass => "bass",
            Part::Loops(set) => set.name(),
        }
    }
}

/// What a `loop SET …` command does.
#[derive(Debug, Clone, PartialEq)]
pub enum LoopAction {
    /// The set plays.
    On,
    /// The set falls silent.
    Off,
    /// Fix the next candidate after the one that plays.
    Next,
    /// Let the AI pick the best fit again.
    Auto,
    /// Fix the candidate of this rank (1 = best fit).
    Rank(u32),
    /// Fix the loop of this name.
    Name(String),
    /// How the set's loops meet the set's key.
    Key(KeyMode),
}

/// How a pitched loop set's picks meet the set's key.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum KeyMode {
    /// Loops in the set's key (or its relative) first, by fit; then the others.
    #[default]
    Match,
    /// By fit alone, whatever their key.
    Free,
    /// Every loop with a key moved (at most half an octave, tempo kept) into the set's key
    /// or its relative, then ranked by fit as it will sound; loops without a key after them.
    Follow,
}

impl KeyMode {
    /// Its word in commands and scenes.
    pub fn name(self) -> &'static str {
        match self {
            KeyMode::Match => "match",
            KeyMode::Free => "free",
            KeyMode::Follow => "follow",
        }
    }

    /// True for the default, [`KeyMode::Match`].
    pub fn is_match(&self) -> bool {
        *self == KeyMode::Match
    }
}

impl fmt::Display for LoopAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LoopAction::On => f.write_str("on"),
            LoopAction::Off => f.write_str("off"),
            LoopAction::Next => f.write_str("next"),
            LoopAction::Auto => f.write_str("auto"),
            LoopAction::Rank(n) => write!(f, "pick {n}"),
            LoopAction::Name(name) => write!(f, "pick {}", quoted(std::path::Path::new(name))),
            LoopAction::Key(mode) => write!(f, "key {}", mode.name()),
        }
    }
}

/// What a `feedback …` command does.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum FeedbackAction {
    /// Close the loop.
    On,
    /// Open it.
    Off,
    /// Close it when open, open it when closed.
    Toggle,
    /// How far each turn pulls the latent point, 0..1 (also switches it on).
    Amount(f32),
}

/// What a `deck …` command does.
#[derive(Debug, Clone, PartialEq)]
pub enum DeckAction {
    /// Put an audio file on the deck (stopped, at its start).
    Load(PathBuf),
    /// Take the record off.
    Eject,
    /// Play from where it is.
    Play,
    /// Stop where it is.
    Stop,
    /// Play when stopped, stop when playing.
    Toggle,
    /// Back to the start, stopped.
    Cue,
    /// Move the playhead by this many milliseconds.
    Nudge(f32),
    /// Pitch in percent, −8..8.
    Rate(f32),
}

impl fmt::Display for DeckAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DeckAction::Load(p) => write!(f, "load {}", quoted(p)),
            DeckAction::Eject => f.write_str("eject"),
            DeckAction::Play => f.write_str("play"),
            DeckAction::Stop => f.write_str("stop"),
            DeckAction::Toggle => f.write_str("toggle"),
            DeckAction::Cue => f.write_str("cue"),
            DeckAction::Nudge(ms) => write!(f, "nudge {}", num(*ms)),
            DeckAction::Rate(p) => write!(f, "rate {}", num(*p)),
        }
    }
}

/// A density the rhythm model is conditioned on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Density {
    /// Kick drum density.
    Kick,
    /// Hi-hat density.
    Hats,
}

impl Density {
    /// Name in commands.
    pub fn name(self) -> &'static str {
        match self {
            Density::Kick => "kick",
            Density::Hats => "hats",
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
    /// Puts the AI at a point of the latent plane.
    Z(f32, f32),
    /// Moves the AI's latent point.
    Move(f32, f32),
    /// Sets a density the rhythm model is asked for (standard deviations, −3..3).
    Density(Density, f32),
    /// Changes a density by an amount.
    Push(Density, f32),
    /// Writes a new cycle at the current point.
    Regen,
    /// Jumps to a random point of the plane.
    Jump,
    /// Writes a new cycle every N cycles (0: only when asked).
    Every(u32),
    /// Drifts through the plane by this much per cycle.
    Walk(f32),
    /// Jitters the point at each new cycle.
    Noise(f32),
    /// Onset threshold of the rhythm model.
    Threshold(f32),
    /// How much of the model's micro-timing plays.
    Timing(f32),
    /// Temperature of the bass's rhythm choice.
    Temperature(f32),
    /// Temperature of the bass's pitch choice.
    PitchTemperature(f32),
    /// The rhythm model of the bank the AI writes drums with (from its next cycle).
    RhythmModel(ModelName),
    /// Bars of a phrase (4, 8, 16 or 32): loops change on a phrase's first bar.
    Phrase(u32),
    /// Keeps a part as it is.
    Lock(Part),
    /// Lets the AI write a part again.
    Unlock(Part),
    /// Lets the AI write every part again (drums, bass and each set's loop).
    UnlockAll,
    /// Freezes (or unfreezes) everything the AI writes.
    Hold(bool),
    /// Switches a loop set on or off, or fixes which loop it plays.
    Loop(LoopSet, LoopAction),
    /// The feedback loop from the sound back into the latent plane.
    Feedback(FeedbackAction),
    /// The deck.
    Deck(DeckAction),
    /// Plays the drums from a sample kit (a folder, or a kit's name in `kits/`), or from the
    /// synthesized voices (`None`), from the next cycle boundary.
    Kit(Option<PathBuf>),
    /// Starts the transport (a new cycle begins now) or stops it.
    Transport(bool),
    /// Stops the performance.
    Quit,
}

/// A command about the session around the music rather than the music itself: carried out
/// by whatever runs the performance (live: the recorder, MIDI ports and the front ends;
/// offline: nothing to do), never by the performance state. Which commands these are is
/// decided here, once, for every stage.
#[derive(Debug, Clone, PartialEq)]
pub enum SessionCommand {
    /// Stops the performance.
    Quit,
    /// Starts recording the set to NAME.wav / NAME.log / NAME.ron.
    RecordStart(PathBuf),
    /// Stops the recording.
    RecordStop,
    /// MIDI learn, forget, clock out.
    Midi(MidiAction),
}

impl Command {
    /// The session command this is, if it is one (see [`SessionCommand`]).
    pub fn session(&self) -> Option<SessionCommand> {
        Some(match self {
            Command::Quit => SessionCommand::Quit,
            Command::RecordStart(name) => SessionCommand::RecordStart(name.clone()),
            Command::RecordStop => SessionCommand::RecordStop,
            Command::Midi(action) => SessionCommand::Midi(action.clone()),
            _ => return None,
        })
    }

    /// Whether the performance reads or writes a file to carry the command out (`load`
    /// reads a scene file, `save` writes one, `deck load` a record, `kit load` a kit). A
    /// replay never carries these out: what they did to the sound is in the log's own lines
    /// (`@scene`, `@deck`, `@kit`), so a log stays data; a set list cannot run them.
    pub fn touches_files(&self) -> bool {
        matches!(
            self,
            Command::Load(_)
                | Command::Save(_)
                | Command::Deck(DeckAction::Load(_))
                | Command::Kit(Some(_))
        )
    }
}

/// A number as the shortest text that reads back as the same value (a command's text goes
/// into session logs, and a replay must apply exactly what was played: `move 0 0.5035`, not
/// a rounded `0.503`).
fn num(v: f32) -> String {
    let s = format!("{v}");
    if s == "-0" { "0".into() } else { s }
}

/// Text that ends a command line, written so that it reads back the same: words with single
/// spaces as they are, anything else (a run of spaces or other white space a quote kept) in
/// quotes.
fn rest_of_line(t: &str) -> std::borrow::Cow<'_, str> {
    if t.split_whitespace().collect::<Vec<_>>().join(" ") == t {
        std::borrow::Cow::Borrowed(t)
    } else {
        std::borrow::Cow::Owned(format!("\"{t}\""))
    }
}

/// A path or name as one word that reads back the same: in quotes when it is empty or holds
/// whitespace.
fn quoted(p: &std::path::Path) -> String {
    let s = p.display().to_string();
    if s.is_empty() || s.contains(char::is_whitespace) {
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
            Command::Z(x, y) => write!(f, "z {} {}", num(*x), num(*y)),
            Command::Move(x, y) => write!(f, "move {} {}", num(*x), num(*y)),
            Command::Density(d, v) => write!(f, "{} {}", d.name(), num(*v)),
            Command::Push(d, v) => write!(f, "push {} {}", d.name(), num(*v)),
            Command::Regen => f.write_str("regen"),
            Command::Jump => f.write_str("jump"),
            Command::Every(n) => write!(f, "every {n}"),
            Command::Walk(v) => write!(f, "walk {}", num(*v)),
            Command::Noise(v) => write!(f, "noise {}", num(*v)),
            Command::Threshold(v) => write!(f, "threshold {}", num(*v)),
            Command::Timing(v) => write!(f, "timing {}", num(*v)),
            Command::Temperature(v) => write!(f, "temperature {}", num(*v)),
            Command::PitchTemperature(v) => write!(f, "pitch-temperature {}", num(*v)),
            Command::RhythmModel(name) if name.is_default() => f.write_str("model rhythm default"),
            Command::RhythmModel(name) => write!(f, "model rhythm {name}"),
            Command::Phrase(bars) => write!(f, "phrase {bars}"),
            Command::Lock(p) => write!(f, "lock {}", p.name()),
            Command::Unlock(p) => write!(f, "unlock {}", p.name()),
            Command::UnlockAll => write!(f, "unlock all"),
            Command::Hold(on) => write!(f, "hold {}", if *on { "on" } else { "off" }),
            Command::Loop(set, a) => write!(f, "loop {} {a}", set.name()),
            Command::Feedback(FeedbackAction::On) => f.write_str("feedback on"),
            Command::Feedback(FeedbackAction::Off) => f.write_str("feedback off"),
            Command::Feedback(FeedbackAction::Toggle) => f.write_str("feedback toggle"),
            Command::Feedback(FeedbackAction::Amount(v)) => {
                write!(f, "feedback amount {}", num(*v))
            }
            Command::Deck(a) => write!(f, "deck {a}"),
            Command::Kit(Some(p)) => write!(f, "kit load {}", quoted(p)),
            Command::Kit(None) => f.write_str("kit synth"),
            Command::Transport(true) => f.write_str("transport start"),
            Command::Transport(false) => f.write_str("transport stop"),
            Command::Quit => f.write_str("quit"),
        }
    }
}
