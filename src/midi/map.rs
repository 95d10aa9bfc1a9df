//! What goes out and what comes in, as RON files: note maps (which note and channel each drum
//! voice and the bass play on external gear) and controller bindings (which knob or pad runs
//! which command).
//!
//! Four note maps ship inside the binary ([`NoteMap::shipped`]): General MIDI (the default),
//! Roland TR-8S, Behringer RD-8 (TR-808 style) and Elektron Digitakt. `--midi-map` takes one
//! of those names or a `.ron` file in the same format.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::command::Target;
use crate::files::{SMALL_LIMIT, read_text_bounded};
use crate::pattern::Voice;

/// The shipped note maps: (name on the command line, RON text).
const SHIPPED: &[(&str, &str)] = &[
    ("gm", include_str!("maps/gm.ron")),
    ("tr8s", include_str!("maps/tr8s.ron")),
    ("rd8", include_str!("maps/rd8.ron")),
    ("digitakt", include_str!("maps/digitakt.ron")),
];

/// Why a map or binding file could not be used.
#[derive(Debug, Error)]
pub enum MapError {
    /// The file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// The file was not read (not there, not a regular file, too big, not UTF-8).
    #[error("{path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// The cause.
        source: crate::files::ReadError,
    },
    /// The text is not a valid map.
    #[error("{path}: {message}")]
    Parse {
        /// The file (or shipped map name).
        path: String,
        /// What is wrong, with line and column.
        message: String,
    },
    /// Neither a shipped map nor a file.
    #[error("no note map {0:?}: use gm, tr8s, rd8, digitakt or a .ron file")]
    Unknown(String),
    /// A channel outside 1..=16 or a note outside 0..=127.
    #[error("{origin}: {}", range_problem(*.voice))]
    Range {
        /// The file (or shipped map name).
        origin: String,
        /// The drum voice whose note or channel is wrong; `None` for the map's channels.
        voice: Option<&'static str>,
    },
}

fn range_problem(voice: Option<&str>) -> String {
    match voice {
        None => "channels are 1…16".into(),
        Some(v) => format!("{v}: notes are 0…127, channels 1…16"),
    }
}

/// Where one drum voice goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DrumNote {
    /// MIDI note 0..=127.
    pub note: u8,
    /// Channel 1..=16 for this voice only (gear with one channel per track); the map's
    /// `drum_channel` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<u8>,
}

/// The nine voices' notes, by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[allow(missing_docs)] // one field per drum voice, named as in scene files
pub struct DrumNotes {
    pub kick: DrumNote,
    pub snare: DrumNote,
    pub closed_hat: DrumNote,
    pub open_hat: DrumNote,
    pub low_tom: DrumNote,
    pub mid_tom: DrumNote,
    pub high_tom: DrumNote,
    pub crash: DrumNote,
    pub ride: DrumNote,
}

/// Notes and channels for external gear.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoteMap {
    /// Name shown in the status.
    pub name: String,
    /// Channel 1..=16 of the drums.
    pub drum_channel: u8,
    /// Channel 1..=16 of the bass.
    pub bass_channel: u8,
    /// Note (and optional channel) per drum voice.
    pub drums: DrumNotes,
}

impl Default for NoteMap {
    /// General MIDI.
    fn default() -> Self {
        NoteMap::parse(SHIPPED[0].1, "gm").unwrap_or_else(|_| NoteMap::fallback_gm())
    }
}

impl NoteMap {
    fn fallback_gm() -> Self {
        let n = |note| DrumNote {
            note,
            channel: None,
        };
        NoteMap {
            name: "General MIDI".into(),
            drum_channel: 10,
            bass_channel: 1,
            drums: DrumNotes {
                kick: n(36),
                snare: n(38),
                closed_hat: n(42),
                open_hat: n(46),
                low_tom: n(45),
                mid_tom: n(48),
                high_tom: n(50),
                crash: n(49),
                ride: n(51),
            },
        }
    }

    /// Names of the shipped maps.
    pub fn shipped_names() -> Vec<&'static str> {
        SHIPPED.iter().map(|(n, _)| *n).collect()
    }

    /// A shipped map by name.
    pub fn shipped(name: &str) -> Option<NoteMap> {
        SHIPPED
            .iter()
            .find(|(n, _)| *n == name)
            .and_then(|(n, text)| NoteMap::parse(text, n).ok())
    }

    /// A shipped map's name or a `.ron` file.
    pub fn load(name_or_path: &str) -> Result<NoteMap, MapError> {
        if let Some(map) = NoteMap::shipped(name_or_path) {
            return Ok(map);
        }
        let path = Path::new(name_or_path);
        if !path.exists() {
            return Err(MapError::Unknown(name_or_path.into()));
        }
        let text = read_text_bounded(path, SMALL_LIMIT).map_err(|source| MapError::Read {
            path: name_or_path.into(),
            source,
        })?;
        NoteMap::parse(&text, name_or_path)
    }

    /// Parses and checks RON text (`origin` names it in errors).
    pub fn parse(text: &str, origin: &str) -> Result<NoteMap, MapError> {
        let map: NoteMap = ron::from_str(text).map_err(|e| MapError::Parse {
            path: origin.into(),
            message: e.to_string(),
        })?;
        map.check(origin)?;
        Ok(map)
    }

    fn check(&self, origin: &str) -> Result<(), MapError> {
        let out_of_range = |voice| MapError::Range {
            origin: origin.into(),
            voice,
        };
        let channel_ok = |c: u8| (1..=16).contains(&c);
        if !channel_ok(self.drum_channel) || !channel_ok(self.bass_channel) {
            return Err(out_of_range(None));
        }
        for voice in Voice::ALL {
            let d = self.drum(voice);
            if d.note > 127 || d.channel.is_some_and(|c| !channel_ok(c)) {
                return Err(out_of_range(Some(voice.name())));
            }
        }
        Ok(())
    }

    /// Where a voice goes.
    pub fn drum(&self, voice: Voice) -> DrumNote {
        let d = &self.drums;
        match voice {
            Voice::Kick => d.kick,
            Voice::Snare => d.snare,
            Voice::ClosedHat => d.closed_hat,
            Voice::OpenHat => d.open_hat,
            Voice::LowTom => d.low_tom,
            Voice::MidTom => d.mid_tom,
            Voice::HighTom => d.high_tom,
            Voice::Crash => d.crash,
            Voice::Ride => d.ride,
        }
    }

    /// The 0-based channel and note of a voice, as they go on the wire.
    pub fn wire(&self, voice: Voice) -> (u8, u8) {
        let d = self.drum(voice);
        (d.channel.unwrap_or(self.drum_channel) - 1, d.note)
    }

    /// The 0-based bass channel.
    pub fn bass_wire_channel(&self) -> u8 {
        self.bass_channel - 1
    }
}

/// A control on the performer's controller.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Source {
    /// A control change.
    Cc {
        /// Channel 1..=16.
        channel: u8,
        /// Controller number 0..=127.
        number: u8,
    },
    /// A key or pad (note-on).
    Note {
        /// Channel 1..=16.
        channel: u8,
        /// Note 0..=127.
        note: u8,
    },
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Source::Cc { channel, number } => write!(f, "CC {number} on channel {channel}"),
            Source::Note { channel, note } => write!(f, "note {note} on channel {channel}"),
        }
    }
}

/// What a binding does.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Binding {
    /// The control.
    pub source: Source,
    /// Command text. With `range`, the control's value (0…127 scaled into the range) is
    /// appended as the last argument: `filter` + knob → `filter -0.4`. Without, the command
    /// runs as written when a key is pressed or a control passes half-way up.
    pub command: String,
    /// Range of the value the control sweeps.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub range: Option<(f32, f32)>,
}

/// All controller bindings, as saved in `midi.ron`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Bindings {
    /// One per control; a control is bound at most once.
    pub bindings: Vec<Binding>,
}

impl Bindings {
    /// Reads a bindings file; a missing file is no bindings.
    pub fn load(path: &Path) -> Result<Bindings, MapError> {
        match read_text_bounded(path, SMALL_LIMIT) {
            Ok(text) => ron::from_str(&text).map_err(|e| MapError::Parse {
                path: path.display().to_string(),
                message: e.to_string(),
            }),
            Err(e) if e.is_not_found() => Ok(Bindings::default()),
            Err(source) => Err(MapError::Read {
                path: path.display().to_string(),
                source,
            }),
        }
    }

    /// Writes the bindings atomically.
    pub fn save(&self, path: &Path) -> Result<(), MapError> {
        let io = |source| MapError::Io {
            path: path.display().to_string(),
            source,
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(io)?;
        }
        let text =
            ron::ser::to_string_pretty(self, ron::ser::PrettyConfig::default()).map_err(|e| {
                MapError::Parse {
                    path: path.display().to_string(),
                    message: e.to_string(),
                }
            })?;
        crate::files::write_atomic(path, text.as_bytes()).map_err(io)
    }

    /// Binds a control to a target, replacing what it did before.
    pub fn bind(&mut self, source: Source, target: &Target) {
        self.bindings.retain(|b| b.source != source);
        self.bindings.push(Binding {
            source,
            command: target.command.clone(),
            range: target.range,
        });
    }

    /// Removes every binding of a command text; returns how many went.
    pub fn unbind(&mut self, command: &str) -> usize {
        let before = self.bindings.len();
        self.bindings.retain(|b| b.command != command.trim());
        before - self.bindings.len()
    }

    /// The command text a control's value produces, if the control is bound. `value` is the
    /// CC value or note velocity (0 = note-off / released).
    pub fn command_for(&self, source: Source, value: u8) -> Option<String> {
        let b = self.bindings.iter().find(|b| b.source == source)?;
        match b.range {
            Some((lo, hi)) => {
                let x = lo + (hi - lo) * f32::from(value.min(127)) / 127.0;
                Some(format!("{} {}", b.command, (x * 1000.0).round() / 1000.0))
            }
            None => (value >= 64 || matches!(source, Source::Note { .. }) && value > 0)
                .then(|| b.command.clone()),
        }
    }
}

/// Where the bindings live: `$XDG_CONFIG_HOME/ubiq/midi.ron` (or `~/.config/ubiq/midi.ron`).
pub fn default_bindings_path() -> Option<PathBuf> {
    crate::files::config_dir().map(|d| d.join("midi.ron"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_maps_load_and_differ() {
        let names = NoteMap::shipped_names();
        assert_eq!(names.len(), 4);
        for name in &names {
            assert!(NoteMap::shipped(name).is_some(), "{name}");
        }
        assert_eq!(NoteMap::default().wire(Voice::Kick), (9, 36));
        let tr = NoteMap::shipped("tr8s").unwrap();
        assert_eq!(tr.wire(Voice::LowTom), (9, 43));
        let dt = NoteMap::shipped("digitakt").unwrap();
        assert_eq!(dt.wire(Voice::Snare), (1, 60));
        assert_eq!(dt.bass_wire_channel(), 8);
    }

    #[test]
    fn bad_maps_are_refused() {
        let text = include_str!("maps/gm.ron").replace("drum_channel: 10", "drum_channel: 17");
        assert!(matches!(
            NoteMap::parse(&text, "x"),
            Err(MapError::Range { .. })
        ));
        assert!(matches!(NoteMap::load("nope"), Err(MapError::Unknown(_))));
    }

    #[test]
    fn bindings_scale_values_and_round_trip() {
        let mut b = Bindings::default();
        let knob = Source::Cc {
            channel: 1,
            number: 74,
        };
        let pad = Source::Note {
            channel: 10,
            note: 36,
        };
        b.bind(knob, &Target::parse("filter").unwrap());
        b.bind(pad, &Target::parse("toggle drums").unwrap());
        assert_eq!(b.command_for(knob, 0).as_deref(), Some("filter -1"));
        assert_eq!(b.command_for(knob, 127).as_deref(), Some("filter 1"));
        assert_eq!(b.command_for(pad, 100).as_deref(), Some("toggle drums"));
        assert_eq!(b.command_for(pad, 0), None);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/midi.ron");
        b.save(&path).unwrap();
        assert_eq!(Bindings::load(&path).unwrap(), b);
        assert_eq!(b.unbind("filter"), 1);
        assert_eq!(b.command_for(knob, 10), None);
    }
}
