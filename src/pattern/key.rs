//! Keys, scales and note names (MIDI numbering, C4 = 60).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use thiserror::Error;

const NAMES: [&str; 12] = [
    "C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B",
];

/// Text that names no key.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{} is not a key (try C, F#, Bb …)", crate::text::quote(.0))]
pub struct KeyError(pub String);

/// A key's tonic as a pitch class (0 = C … 11 = B).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Key(u8);

impl Key {
    /// The key whose tonic has this pitch class (taken modulo 12).
    pub fn new(pitch_class: i32) -> Self {
        Key(pitch_class.rem_euclid(12) as u8)
    }

    /// The tonic's pitch class, 0..12.
    pub fn pitch_class(self) -> u8 {
        self.0
    }

    /// MIDI note of the tonic in the given octave (octave 1 of A is A1 = 33).
    pub fn root_midi(self, octave: i8) -> u8 {
        (12 * (i32::from(octave) + 1) + i32::from(self.0)).clamp(0, 127) as u8
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(NAMES[usize::from(self.0)])
    }
}

impl FromStr for Key {
    type Err = KeyError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse_pitch_class(s)
            .filter(|&(_, rest)| rest.is_empty())
            .map(|(pc, _)| Key::new(pc))
            .ok_or_else(|| KeyError(s.into()))
    }
}

impl Serialize for Key {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(NAMES[usize::from(self.0)])
    }
}

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// Scales a bassline can be kept in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scale {
    /// Natural minor (aeolian).
    #[default]
    Minor,
    /// Major (ionian).
    Major,
    /// Dorian: minor with a raised sixth.
    Dorian,
    /// Phrygian: minor with a flat second.
    Phrygian,
    /// Mixolydian: major with a flat seventh.
    Mixolydian,
    /// Harmonic minor.
    HarmonicMinor,
    /// Minor pentatonic.
    MinorPentatonic,
    /// Major pentatonic.
    MajorPentatonic,
    /// Blues (minor pentatonic plus the flat fifth).
    Blues,
    /// All twelve notes.
    Chromatic,
}

impl Scale {
    /// Every scale, for help texts and completion.
    pub const ALL: [Scale; 10] = [
        Scale::Minor,
        Scale::Major,
        Scale::Dorian,
        Scale::Phrygian,
        Scale::Mixolydian,
        Scale::HarmonicMinor,
        Scale::MinorPentatonic,
        Scale::MajorPentatonic,
        Scale::Blues,
        Scale::Chromatic,
    ];

    /// Semitones above the tonic that belong to the scale.
    pub fn intervals(self) -> &'static [u8] {
        match self {
            Scale::Minor => &[0, 2, 3, 5, 7, 8, 10],
            Scale::Major => &[0, 2, 4, 5, 7, 9, 11],
            Scale::Dorian => &[0, 2, 3, 5, 7, 9, 10],
            Scale::Phrygian => &[0, 1, 3, 5, 7, 8, 10],
            Scale::Mixolydian => &[0, 2, 4, 5, 7, 9, 10],
            Scale::HarmonicMinor => &[0, 2, 3, 5, 7, 8, 11],
            Scale::MinorPentatonic => &[0, 3, 5, 7, 10],
            Scale::MajorPentatonic => &[0, 2, 4, 7, 9],
            Scale::Blues => &[0, 3, 5, 6, 7, 10],
            Scale::Chromatic => &[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11],
        }
    }

    /// Whether a pitch given in semitones above the tonic (any octave) is in the scale.
    pub fn contains(self, semitones_from_tonic: i32) -> bool {
        let pc = semitones_from_tonic.rem_euclid(12) as u8;
        self.intervals().contains(&pc)
    }
}

/// Splits a leading pitch class (`C`, `c#`, `Eb`) off a string.
fn parse_pitch_class(s: &str) -> Option<(i32, &str)> {
    let mut chars = s.chars();
    let base = match chars.next()?.to_ascii_uppercase() {
        'C' => 0,
        'D' => 2,
        'E' => 4,
        'F' => 5,
        'G' => 7,
        'A' => 9,
        'B' => 11,
        _ => return None,
    };
    let rest = chars.as_str();
    if let Some(r) = rest.strip_prefix('#') {
        Some((base + 1, r))
    } else if let Some(r) = rest.strip_prefix('b') {
        Some((base - 1, r))
    } else {
        Some((base, rest))
    }
}

/// Parses a note name with octave (`A1`, `c#2`, `Eb-1`) into a MIDI note number.
pub fn parse_note_name(s: &str) -> Option<u8> {
    let (pc, rest) = parse_pitch_class(s)?;
    let octave: i32 = rest.parse().ok()?;
    let midi = 12 * (octave + 1) + pc;
    u8::try_from(midi).ok().filter(|&m| m <= 127)
}

/// The name of a MIDI note (`33` → `A1`).
pub fn note_name(midi: u8) -> String {
    let octave = i32::from(midi) / 12 - 1;
    format!("{}{}", NAMES[usize::from(midi % 12)], octave)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn note_names_round_trip() {
        for midi in 0..=127u8 {
            assert_eq!(parse_note_name(&note_name(midi)), Some(midi));
        }
        assert_eq!(parse_note_name("A1"), Some(33));
        assert_eq!(parse_note_name("eb2"), Some(39));
        assert_eq!(parse_note_name("H2"), None);
    }

    #[test]
    fn keys_and_scales() {
        assert_eq!("F#".parse::<Key>().unwrap().pitch_class(), 6);
        assert_eq!(Key::new(9).root_midi(1), 33);
        assert!(Scale::Minor.contains(-2));
        assert!(!Scale::Minor.contains(4));
        assert!("Q".parse::<Key>().is_err());
    }
}
