//! The command table: name, arguments, help — from which parsing, help and completion derive.

use std::path::PathBuf;

use thiserror::Error;

use super::{
    Command, DeckAction, Density, FeedbackAction, KeyMode, LoopAction, MidiAction, ModelName,
    Param, Part, SendBus, Target, TargetError,
};
use crate::audio::params::Track;
use crate::loops::LoopSet;
use crate::pattern::{Bassline, BasslineError, GridError, Key, KeyError, Scale, Voice, grid};

/// What an argument accepts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ArgKind {
    /// A number within a range.
    Number {
        /// Lowest accepted value.
        min: f32,
        /// Highest accepted value.
        max: f32,
    },
    /// A mixer track name.
    Track,
    /// A drum voice name.
    Voice,
    /// `delay` or `reverb`.
    SendBus,
    /// A key (`C`, `F#`, `Bb`).
    Key,
    /// A scale name.
    Scale,
    /// A sound parameter name; the value that follows is checked against its range.
    Param,
    /// A file path.
    Path,
    /// A drum grid (the rest of the line).
    Grid,
    /// A bassline (the rest of the line).
    Line,
    /// A MIDI action: `learn COMMAND…`, `forget COMMAND…`, `clock on|off` (the rest of the
    /// line).
    Midi,
    /// One of a fixed set of words.
    Word(&'static [&'static str]),
    /// Any single word (a loop name or a number, checked when the command is built).
    Text,
    /// A value whose kind depends on the word before it (`deck nudge MS`, `deck load FILE`);
    /// a word not in the table takes no value.
    After(&'static [(&'static str, ArgKind)]),
}

/// One argument of a command.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ArgSpec {
    /// Name shown in usage (`BPM`).
    pub name: &'static str,
    /// What it accepts.
    pub kind: ArgKind,
    /// May be left out (only trailing arguments).
    pub optional: bool,
}

/// A parsed argument value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A number.
    Number(f32),
    /// A track.
    Track(Track),
    /// A voice.
    Voice(Voice),
    /// A send bus.
    SendBus(SendBus),
    /// A key.
    Key(Key),
    /// A scale.
    Scale(Scale),
    /// A parameter.
    Param(Param),
    /// A path.
    Path(PathBuf),
    /// A drum row.
    Grid(Box<[crate::pattern::DrumCell; crate::pattern::STEPS]>),
    /// A bassline with absolute pitches.
    Line(Box<Bassline>),
    /// A MIDI action.
    Midi(MidiAction),
    /// One of the words of an [`ArgKind::Word`].
    Word(&'static str),
    /// A word of an [`ArgKind::Text`].
    Text(String),
}

/// Why an argument does not fit: the end of a
/// [`CommandError::BadValue`](super::CommandError::BadValue) message, after the argument's
/// name and what was typed.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum ValueError {
    /// Not a finite number.
    #[error("is not a number")]
    NotANumber,
    /// A number outside the argument's range.
    #[error("is out of range {min}…{max}")]
    OutOfRange {
        /// The smallest value taken.
        min: f32,
        /// The largest value taken.
        max: f32,
    },
    /// No such name, but one close to it.
    #[error("is unknown (did you mean {0}?)")]
    DidYouMean(String),
    /// No parameter of that name, nor one close to it.
    #[error("is unknown (see `help set`)")]
    UnknownParam,
    /// None of the words the argument takes (listed).
    #[error("is not one of {0}")]
    NotOneOf(String),
    /// A value where the word before takes none.
    #[error("takes no value here")]
    NoValueHere,
    /// A value after a word (given) that takes none.
    #[error("is one word too many: `{0}` takes no value")]
    OneTooMany(&'static str),
    /// Not a drum row.
    #[error(transparent)]
    Grid(#[from] GridError),
    /// Not a bassline.
    #[error(transparent)]
    Line(#[from] BasslineError),
    /// Not a key.
    #[error(transparent)]
    Key(#[from] KeyError),
    /// Not something `midi learn` can map.
    #[error(transparent)]
    Learn(#[from] TargetError),
    /// `midi clock` without `on` or `off`.
    #[error("is `clock on` or `clock off`")]
    ClockOnOff,
    /// No MIDI action.
    #[error("is `learn COMMAND`, `forget COMMAND` or `clock on|off`")]
    MidiAction,
}

/// One row of the command table.
pub struct CommandSpec {
    /// The command word.
    pub name: &'static str,
    /// Other accepted words.
    pub aliases: &'static [&'static str],
    /// Arguments, in order.
    pub args: &'static [ArgSpec],
    /// One line of help.
    pub doc: &'static str,
    /// Builds the command from checked values (one per argument, in order).
    pub build: fn(Vec<Value>) -> Option<Command>,
}

impl CommandSpec {
    /// `name ARG ARG` as shown in help.
    pub fn usage(&self) -> String {
        let mut s = self.name.to_string();
        for a in self.args {
            s.push(' ');
            if a.optional {
                s.push_str(&format!("[{}]", a.name));
            } else {
                s.push_str(a.name);
            }
        }
        s
    }
}

const fn arg(name: &'static str, kind: ArgKind) -> ArgSpec {
    ArgSpec {
        name,
        kind,
        optional: false,
    }
}

const fn optional(name: &'static str, kind: ArgKind) -> ArgSpec {
    ArgSpec {
        name,
        kind,
        optional: true,
    }
}

const fn number(name: &'static str, min: f32, max: f32) -> ArgSpec {
    arg(name, ArgKind::Number { min, max })
}

const TRACK: ArgSpec = arg("TRACK", ArgKind::Track);

fn n(v: &Value) -> Option<f32> {
    match v {
        Value::Number(x) => Some(*x),
        _ => None,
    }
}

fn t(v: &Value) -> Option<Track> {
    match v {
        Value::Track(x) => Some(*x),
        _ => None,
    }
}

fn part(v: &Value) -> Option<Part> {
    match v {
        Value::Word(w) => Part::ALL.into_iter().find(|p| p.name() == *w),
        _ => None,
    }
}

fn loop_set(v: &Value) -> Option<LoopSet> {
    match v {
        Value::Word(w) => LoopSet::from_name(w).ok(),
        _ => None,
    }
}

/// Names of the parts `lock` / `unlock` take.
const PARTS: &[&str] = &["drums", "bass", "music", "ambient", "voice", "rhythm"];
/// What `unlock` takes: a part, or `all` of them.
const UNLOCKABLE: &[&str] = &[
    "drums", "bass", "music", "ambient", "voice", "rhythm", "all",
];
/// Names of the loop sets.
const SETS: &[&str] = &["music", "ambient", "voice", "rhythm"];

fn path(v: &Value) -> Option<PathBuf> {
    match v {
        Value::Path(p) => Some(p.clone()),
        _ => None,
    }
}

/// Scale names as written in commands and scene files.
pub fn scale_name(s: Scale) -> &'static str {
    match s {
        Scale::Minor => "minor",
        Scale::Major => "major",
        Scale::Dorian => "dorian",
        Scale::Phrygian => "phrygian",
        Scale::Mixolydian => "mixolydian",
        Scale::HarmonicMinor => "harmonic_minor",
        Scale::MinorPentatonic => "minor_pentatonic",
        Scale::MajorPentatonic => "major_pentatonic",
        Scale::Blues => "blues",
        Scale::Chromatic => "chromatic",
    }
}

/// Every command.
pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "tempo",
        aliases: &["bpm"],
        args: &[number("BPM", 40.0, 240.0)],
        doc: "set the tempo; it changes on the next two-bar boundary",
        build: |v| Some(Command::Tempo(n(&v[0])?)),
    },
    CommandSpec {
        name: "nudge",
        aliases: &[],
        args: &[number("BPM", -40.0, 40.0)],
        doc: "change the tempo by BPM (within 40…240) from the next cycle",
        build: |v| Some(Command::Nudge(n(&v[0])?)),
    },
    CommandSpec {
        name: "swing",
        aliases: &[],
        args: &[number("PERCENT", 50.0, 75.0)],
        doc: "swing the off-beat sixteenths: 50 straight … 66 triplet … 75",
        build: |v| Some(Command::Swing(n(&v[0])?)),
    },
    CommandSpec {
        name: "mute",
        aliases: &[],
        args: &[TRACK],
        doc: "silence a track",
        build: |v| Some(Command::Mute(t(&v[0])?)),
    },
    CommandSpec {
        name: "unmute",
        aliases: &[],
        args: &[TRACK],
        doc: "bring a muted track back",
        build: |v| Some(Command::Unmute(t(&v[0])?)),
    },
    CommandSpec {
        name: "toggle",
        aliases: &[],
        args: &[TRACK],
        doc: "mute a playing track, unmute a muted one",
        build: |v| Some(Command::Toggle(t(&v[0])?)),
    },
    CommandSpec {
        name: "solo",
        aliases: &[],
        args: &[TRACK],
        doc: "hear only this track",
        build: |v| Some(Command::Solo(t(&v[0])?)),
    },
    CommandSpec {
        name: "unsolo",
        aliases: &[],
        args: &[],
        doc: "end solo: hear every unmuted track",
        build: |_| Some(Command::Unsolo),
    },
    CommandSpec {
        name: "gain",
        aliases: &["vol"],
        args: &[TRACK, number("DB", -60.0, 12.0)],
        doc: "set a track's fader in dB",
        build: |v| Some(Command::Gain(t(&v[0])?, n(&v[1])?)),
    },
    CommandSpec {
        name: "pan",
        aliases: &[],
        args: &[TRACK, number("POS", -1.0, 1.0)],
        doc: "pan a track: −1 left … 1 right",
        build: |v| Some(Command::Pan(t(&v[0])?, n(&v[1])?)),
    },
    CommandSpec {
        name: "send",
        aliases: &[],
        args: &[
            TRACK,
            arg("BUS", ArgKind::SendBus),
            number("AMOUNT", 0.0, 1.0),
        ],
        doc: "send a track to the delay or reverb",
        build: |v| match (&v[1], n(&v[2])) {
            (Value::SendBus(b), Some(x)) => Some(Command::Send(t(&v[0])?, *b, x)),
            _ => None,
        },
    },
    CommandSpec {
        name: "filter",
        aliases: &["dj"],
        args: &[number("KNOB", -1.0, 1.0)],
        doc: "the DJ filter: −1 low-pass … 0 open … 1 high-pass",
        build: |v| Some(Command::Filter(n(&v[0])?)),
    },
    CommandSpec {
        name: "master",
        aliases: &[],
        args: &[number("DB", -60.0, 12.0)],
        doc: "master level in dB (before the limiter)",
        build: |v| Some(Command::Master(n(&v[0])?)),
    },
    CommandSpec {
        name: "set",
        aliases: &[],
        args: &[
            arg("PARAM", ArgKind::Param),
            number("VALUE", f32::MIN, f32::MAX),
        ],
        doc: "set a sound parameter, e.g. `set kick.tune -2`, `set bass.cutoff_hz 800` (see `help set`)",
        build: |v| match (&v[0], n(&v[1])) {
            (Value::Param(p), Some(x)) => Some(Command::Set(*p, x)),
            _ => None,
        },
    },
    CommandSpec {
        name: "key",
        aliases: &[],
        args: &[arg("KEY", ArgKind::Key)],
        doc: "set the key; the bassline moves with it",
        build: |v| match &v[0] {
            Value::Key(k) => Some(Command::Key(*k)),
            _ => None,
        },
    },
    CommandSpec {
        name: "scale",
        aliases: &[],
        args: &[arg("SCALE", ArgKind::Scale)],
        doc: "set the scale generated basslines keep to",
        build: |v| match &v[0] {
            Value::Scale(s) => Some(Command::Scale(*s)),
            _ => None,
        },
    },
    CommandSpec {
        name: "grid",
        aliases: &[],
        args: &[arg("VOICE", ArgKind::Voice), arg("PATTERN", ArgKind::Grid)],
        doc: "write a drum row, e.g. `grid kick X...x...X...x...` (plays from the next cycle; the drums stay locked until `unlock drums`)",
        build: |v| match (&v[0], &v[1]) {
            (Value::Voice(voice), Value::Grid(cells)) => Some(Command::Grid(*voice, cells.clone())),
            _ => None,
        },
    },
    CommandSpec {
        name: "bass",
        aliases: &[],
        args: &[arg("LINE", ArgKind::Line)],
        doc: "write the bassline, e.g. `bass A1 . A1 . C2 - . G1 …` (16 or 32 steps; locked until `unlock bass`)",
        build: |v| match &v[0] {
            Value::Line(line) => Some(Command::Bass(line.clone())),
            _ => None,
        },
    },
    CommandSpec {
        name: "load",
        aliases: &[],
        args: &[arg("FILE", ArgKind::Path)],
        doc: "load a scene file; it takes over at the next cycle",
        build: |v| Some(Command::Load(path(&v[0])?)),
    },
    CommandSpec {
        name: "save",
        aliases: &[],
        args: &[arg("FILE", ArgKind::Path)],
        doc: "save what plays now as a scene file (written atomically)",
        build: |v| Some(Command::Save(path(&v[0])?)),
    },
    CommandSpec {
        name: "midi",
        aliases: &[],
        args: &[arg("ACTION", ArgKind::Midi)],
        doc: "MIDI: `midi learn filter` then move a knob (or `midi learn toggle drums`, press a key); `midi forget filter`; `midi clock on|off`",
        build: |v| match &v[0] {
            Value::Midi(a) => Some(Command::Midi(a.clone())),
            _ => None,
        },
    },
    CommandSpec {
        name: "record",
        aliases: &["rec"],
        args: &[
            arg("ACTION", ArgKind::Word(&["start", "stop"])),
            optional("NAME", ArgKind::Path),
        ],
        doc: "`record start NAME` writes NAME.wav, NAME.log (replayable) and NAME.ron; `record stop` ends it",
        build: |v| match (v.first(), v.get(1)) {
            (Some(Value::Word("start")), Some(Value::Path(p))) => {
                Some(Command::RecordStart(p.clone()))
            }
            (Some(Value::Word("stop")), None) => Some(Command::RecordStop),
            _ => None,
        },
    },
    CommandSpec {
        name: "z",
        aliases: &["latent"],
        args: &[number("X", -3.0, 3.0), number("Y", -3.0, 3.0)],
        doc: "put the AI at a point of the rhythm model's latent plane; the next cycle comes from there",
        build: |v| Some(Command::Z(n(&v[0])?, n(&v[1])?)),
    },
    CommandSpec {
        name: "move",
        aliases: &[],
        args: &[number("DX", -6.0, 6.0), number("DY", -6.0, 6.0)],
        doc: "move the AI's latent point (h j k l on the pad)",
        build: |v| Some(Command::Move(n(&v[0])?, n(&v[1])?)),
    },
    CommandSpec {
        name: "kick",
        aliases: &[],
        args: &[number("LEVEL", -3.0, 3.0)],
        doc: "ask for sparser (−3) or busier (3) kicks, in standard deviations of the training set",
        build: |v| Some(Command::Density(Density::Kick, n(&v[0])?)),
    },
    CommandSpec {
        name: "hats",
        aliases: &[],
        args: &[number("LEVEL", -3.0, 3.0)],
        doc: "ask for sparser (−3) or busier (3) hi-hats",
        build: |v| Some(Command::Density(Density::Hats, n(&v[0])?)),
    },
    CommandSpec {
        name: "push",
        aliases: &[],
        args: &[
            arg("WHAT", ArgKind::Word(&["kick", "hats"])),
            number("BY", -6.0, 6.0),
        ],
        doc: "change the kick or hats density by an amount (`[` `]` and `{` `}`)",
        build: |v| match (v.first(), n(&v[1])) {
            (Some(Value::Word("kick")), Some(x)) => Some(Command::Push(Density::Kick, x)),
            (Some(Value::Word("hats")), Some(x)) => Some(Command::Push(Density::Hats, x)),
            _ => None,
        },
    },
    CommandSpec {
        name: "regen",
        aliases: &["r"],
        args: &[],
        doc: "write a new cycle at the current point (space)",
        build: |_| Some(Command::Regen),
    },
    CommandSpec {
        name: "jump",
        aliases: &[],
        args: &[],
        doc: "jump to a random point of the latent plane",
        build: |_| Some(Command::Jump),
    },
    CommandSpec {
        name: "every",
        aliases: &[],
        args: &[number("CYCLES", 0.0, 64.0)],
        doc: "write a new cycle every N cycles (0: only when asked)",
        build: |v| Some(Command::Every(n(&v[0])?.round() as u32)),
    },
    CommandSpec {
        name: "walk",
        aliases: &["drift"],
        args: &[number("SPEED", 0.0, 1.0)],
        doc: "drift through the latent plane by this much per cycle (0 stops)",
        build: |v| Some(Command::Walk(n(&v[0])?)),
    },
    CommandSpec {
        name: "noise",
        aliases: &[],
        args: &[number("AMOUNT", 0.0, 1.0)],
        doc: "jitter the latent point at each new cycle",
        build: |v| Some(Command::Noise(n(&v[0])?)),
    },
    CommandSpec {
        name: "threshold",
        aliases: &[],
        args: &[number("T", 0.05, 0.95)],
        doc: "onset threshold of the rhythm model: lower plays more hits",
        build: |v| Some(Command::Threshold(n(&v[0])?)),
    },
    CommandSpec {
        name: "timing",
        aliases: &[],
        args: &[number("AMOUNT", 0.0, 1.0)],
        doc: "how much of the model's micro-timing plays: 0 quantised … 1 as played",
        build: |v| Some(Command::Timing(n(&v[0])?)),
    },
    CommandSpec {
        name: "temperature",
        aliases: &["temp"],
        args: &[number("T", 0.0, 2.0)],
        doc: "how freely the bass chooses its rhythm: 0 the most likely … 2 wild",
        build: |v| Some(Command::Temperature(n(&v[0])?)),
    },
    CommandSpec {
        name: "pitch-temperature",
        aliases: &["ptemp"],
        args: &[number("T", 0.0, 2.0)],
        doc: "how freely the bass chooses its notes: 0 the most likely (a pedal) … 1 as the model hears it … 2 wild",
        build: |v| Some(Command::PitchTemperature(n(&v[0])?)),
    },
    CommandSpec {
        name: "phrase",
        aliases: &[],
        args: &[arg("BARS", ArgKind::Word(&["4", "8", "16", "32"]))],
        doc: "bars of a phrase: the loops change on a phrase's first bar (earlier when you ask, or when a loop's fit falls clearly below the best candidate's)",
        build: |v| match &v[0] {
            Value::Word(w) => w.parse().ok().map(Command::Phrase),
            _ => None,
        },
    },
    CommandSpec {
        name: "model",
        aliases: &[],
        args: &[
            arg("PART", ArgKind::Word(&["rhythm"])),
            arg("NAME", ArgKind::Text),
        ],
        doc: "the rhythm model the AI writes drums with, from its next cycle: `groove` (the Groove MIDI Dataset's drummers), `dance` (dance-music grooves), a model given with --rhythm-model by its file name, or `default`",
        build: |v| match v.get(1) {
            Some(Value::Text(t)) if t == "default" => {
                Some(Command::RhythmModel(ModelName::DEFAULT))
            }
            Some(Value::Text(t)) => ModelName::new(t).ok().map(Command::RhythmModel),
            _ => None,
        },
    },
    CommandSpec {
        name: "lock",
        aliases: &[],
        args: &[arg("PART", ArgKind::Word(PARTS))],
        doc: "keep a part (drums, bass, or the loop a set plays) as it is while the AI writes the rest (typing a `grid` or `bass` locks it too)",
        build: |v| part(&v[0]).map(Command::Lock),
    },
    CommandSpec {
        name: "unlock",
        aliases: &[],
        args: &[arg("PART", ArgKind::Word(UNLOCKABLE))],
        doc: "let the AI write a part (or pick a set's loop) again; `unlock all` frees every part (a typed `grid` or `bass` locks its part until then)",
        build: |v| match &v[0] {
            Value::Word("all") => Some(Command::UnlockAll),
            other => part(other).map(Command::Unlock),
        },
    },
    CommandSpec {
        name: "loop",
        aliases: &["loops"],
        args: &[
            arg("SET", ArgKind::Word(SETS)),
            arg(
                "ACTION",
                ArgKind::Word(&["on", "off", "next", "auto", "pick", "key"]),
            ),
            optional(
                "WHICH",
                ArgKind::After(&[
                    ("pick", ArgKind::Text),
                    ("key", ArgKind::Word(&["match", "free", "follow"])),
                ]),
            ),
        ],
        doc: "a loop set: `on` / `off`; `next` plays the next-best candidate; `pick N` the candidate ranked N, `pick NAME` that loop; `auto` lets the AI pick again (from the next cycle); `key match` ranks loops in the set's key (or its relative) first, `key free` by fit alone, `key follow` moves every loop with a key into the set's key (up to half an octave, tempo kept)",
        build: |v| {
            let set = loop_set(&v[0])?;
            let action = match (v.get(1), v.get(2)) {
                (Some(Value::Word("on")), None) => LoopAction::On,
                (Some(Value::Word("off")), None) => LoopAction::Off,
                (Some(Value::Word("next")), None) => LoopAction::Next,
                (Some(Value::Word("auto")), None) => LoopAction::Auto,
                (Some(Value::Word("pick")), Some(Value::Text(t))) => match t.parse::<u32>() {
                    Ok(n) if (1..=16).contains(&n) => LoopAction::Rank(n),
                    _ => LoopAction::Name(t.clone()),
                },
                (Some(Value::Word("key")), Some(Value::Word("match"))) => {
                    LoopAction::Key(KeyMode::Match)
                }
                (Some(Value::Word("key")), Some(Value::Word("free"))) => {
                    LoopAction::Key(KeyMode::Free)
                }
                (Some(Value::Word("key")), Some(Value::Word("follow"))) => {
                    LoopAction::Key(KeyMode::Follow)
                }
                _ => return None,
            };
            Some(Command::Loop(set, action))
        },
    },
    CommandSpec {
        name: "feedback",
        aliases: &["fb"],
        args: &[
            arg("ACTION", ArgKind::Word(&["on", "off", "toggle", "amount"])),
            optional(
                "AMOUNT",
                ArgKind::After(&[("amount", ArgKind::Number { min: 0.0, max: 1.0 })]),
            ),
        ],
        doc: "the feedback loop: the rhythm loop that fits what plays pulls the latent point towards its pattern each new cycle; `feedback amount 0.3` sets how far (and switches it on)",
        build: |v| match (v.first(), v.get(1)) {
            (Some(Value::Word("on")), None) => Some(Command::Feedback(FeedbackAction::On)),
            (Some(Value::Word("off")), None) => Some(Command::Feedback(FeedbackAction::Off)),
            (Some(Value::Word("toggle")), None) => Some(Command::Feedback(FeedbackAction::Toggle)),
            (Some(Value::Word("amount")), Some(x)) => {
                Some(Command::Feedback(FeedbackAction::Amount(n(x)?)))
            }
            _ => None,
        },
    },
    CommandSpec {
        name: "deck",
        aliases: &[],
        args: &[
            arg(
                "ACTION",
                ArgKind::Word(&[
                    "load", "eject", "play", "stop", "toggle", "cue", "nudge", "rate",
                ]),
            ),
            optional(
                "VALUE",
                ArgKind::After(&[
                    ("load", ArgKind::Path),
                    (
                        "nudge",
                        ArgKind::Number {
                            min: -2000.0,
                            max: 2000.0,
                        },
                    ),
                    (
                        "rate",
                        ArgKind::Number {
                            min: -8.0,
                            max: 8.0,
                        },
                    ),
                ]),
            ),
        ],
        doc: "the deck: `load FILE` (wav, flac, ogg), `eject`, `play`, `stop`, `toggle`, `cue` (back to the start), `nudge MS` (move the record), `rate PERCENT` (pitch, ±8)",
        build: |v| {
            let action = match (v.first(), v.get(1)) {
                (Some(Value::Word("load")), Some(p)) => DeckAction::Load(path(p)?),
                (Some(Value::Word("eject")), None) => DeckAction::Eject,
                (Some(Value::Word("play")), None) => DeckAction::Play,
                (Some(Value::Word("stop")), None) => DeckAction::Stop,
                (Some(Value::Word("toggle")), None) => DeckAction::Toggle,
                (Some(Value::Word("cue")), None) => DeckAction::Cue,
                (Some(Value::Word("nudge")), Some(x)) => DeckAction::Nudge(n(x)?),
                (Some(Value::Word("rate")), Some(x)) => DeckAction::Rate(n(x)?),
                _ => return None,
            };
            Some(Command::Deck(action))
        },
    },
    CommandSpec {
        name: "kit",
        aliases: &[],
        args: &[
            arg("ACTION", ArgKind::Word(&["load", "synth"])),
            optional("FOLDER", ArgKind::After(&[("load", ArgKind::Path)])),
        ],
        doc: "the drum kit, from the next cycle: `load FOLDER` (a folder with kit.ron or a Hydrogen drumkit.xml, or a kit's name in kits/), `synth` (the synthesized voices)",
        build: |v| match (v.first(), v.get(1)) {
            (Some(Value::Word("load")), Some(p)) => Some(Command::Kit(Some(path(p)?))),
            (Some(Value::Word("synth")), None) => Some(Command::Kit(None)),
            _ => None,
        },
    },
    CommandSpec {
        name: "hold",
        aliases: &["freeze"],
        args: &[arg("ON", ArgKind::Word(&["on", "off"]))],
        doc: "freeze everything the AI writes (`hold off` lets it go on)",
        build: |v| match v.first() {
            Some(Value::Word(w)) => Some(Command::Hold(*w == "on")),
            _ => None,
        },
    },
    CommandSpec {
        name: "transport",
        aliases: &[],
        args: &[arg("ACTION", ArgKind::Word(&["start", "stop"]))],
        doc: "stop the music (tails ring out), or start it again from the top of a cycle now (also what a followed MIDI clock's start and stop do)",
        build: |v| match v.first() {
            Some(Value::Word("start")) => Some(Command::Transport(true)),
            Some(Value::Word("stop")) => Some(Command::Transport(false)),
            _ => None,
        },
    },
    CommandSpec {
        name: "quit",
        aliases: &["q", "exit"],
        args: &[],
        doc: "stop playing and leave",
        build: |_| Some(Command::Quit),
    },
];

/// Looks a command up by name or alias.
pub fn find(word: &str) -> Option<&'static CommandSpec> {
    COMMANDS
        .iter()
        .find(|c| c.name == word || c.aliases.contains(&word))
}

/// Words an argument of this kind accepts (for completion and messages).
pub fn choices(kind: ArgKind) -> Vec<String> {
    match kind {
        ArgKind::Track => Track::ALL.iter().map(|t| t.name().to_string()).collect(),
        ArgKind::Voice => Voice::ALL.iter().map(|v| v.name().to_string()).collect(),
        ArgKind::SendBus => vec!["delay".into(), "reverb".into()],
        ArgKind::Scale => Scale::ALL
            .iter()
            .map(|s| scale_name(*s).to_string())
            .collect(),
        ArgKind::Param => Param::all().into_iter().map(Param::name).collect(),
        ArgKind::Key => [
            "C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect(),
        ArgKind::Midi => vec!["learn".into(), "forget".into(), "clock".into()],
        ArgKind::Word(words) => words.iter().map(|w| w.to_string()).collect(),
        ArgKind::After(table) => table.iter().flat_map(|(_, k)| choices(*k)).collect(),
        ArgKind::Number { .. } | ArgKind::Path | ArgKind::Grid | ArgKind::Line | ArgKind::Text => {
            Vec::new()
        }
    }
}

/// The help text of every command, one per line, generated from the table.
pub fn help() -> String {
    let width = COMMANDS.iter().map(|c| c.usage().len()).max().unwrap_or(0);
    let mut out = String::new();
    for c in COMMANDS {
        let mut line = format!("  {:width$}  {}", c.usage(), c.doc);
        for a in c.args {
            if let ArgKind::Number { min, max } = a.kind
                && min > f32::MIN
            {
                line.push_str(&format!(" [{} {}…{}]", a.name, min, max));
            }
        }
        if !c.aliases.is_empty() {
            line.push_str(&format!(" (also: {})", c.aliases.join(", ")));
        }
        out.push_str(&line);
        out.push('\n');
    }
    out
}

/// Help for `set`: every parameter with its range.
pub fn param_help() -> String {
    let mut out = String::new();
    for p in Param::all() {
        let (lo, hi) = p.range();
        out.push_str(&format!("  {:22} {lo}…{hi}  {}\n", p.name(), p.doc()));
    }
    out
}

/// Checks a grid argument.
pub fn parse_grid(text: &str) -> Result<Value, ValueError> {
    Ok(Value::Grid(Box::new(grid::parse_row(text)?)))
}

/// Checks a bassline argument.
pub fn parse_line(text: &str) -> Result<Value, ValueError> {
    Ok(Value::Line(Box::new(Bassline::parse(text, 0)?)))
}

/// Checks a MIDI action: the learn target must be a command or lack only a trailing number.
pub fn parse_midi(text: &str) -> Result<Value, ValueError> {
    let text = text.trim();
    let (word, rest) = text.split_once(' ').unwrap_or((text, ""));
    let rest = rest.trim();
    match word {
        "learn" => Ok(Value::Midi(MidiAction::Learn(Target::parse(rest)?.command))),
        "forget" if !rest.is_empty() => Ok(Value::Midi(MidiAction::Forget(rest.into()))),
        "clock" => match rest {
            "on" => Ok(Value::Midi(MidiAction::Clock(true))),
            "off" => Ok(Value::Midi(MidiAction::Clock(false))),
            _ => Err(ValueError::ClockOnOff),
        },
        _ => Err(ValueError::MidiAction),
    }
}

/// Checks a key argument.
pub fn parse_key(text: &str) -> Result<Value, ValueError> {
    Ok(Value::Key(text.parse::<Key>()?))
}
