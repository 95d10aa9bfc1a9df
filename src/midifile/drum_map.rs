//! Drum notes → the nine voices, as Magenta's GrooVAE maps them.
//!
//! Two tables from Magenta (`music_vae/data.py`): the full General MIDI table
//! (`FULL_DRUM_PITCH_CLASSES`, which folds all GM1/GM2 percussion into nine classes and adds the
//! Roland hi-hat edge notes 22 and 26), and the Roland TD-11 table GrooVAE uses for the Groove
//! MIDI Dataset (`ROLAND_DRUM_PITCH_CLASSES`), where 45 is a mid tom, 48 a high tom and 58 a
//! floor-tom rim. Notes the TD-11 table lacks fall back to the GM table.

use crate::pattern::Voice;

/// Which drum-note table a file is read with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum DrumMap {
    /// General MIDI percussion (channel 10 of ordinary songs).
    #[default]
    GeneralMidi,
    /// The Roland TD-11 kit of the Groove MIDI Dataset.
    RolandTd11,
}

const GM_CLASSES: [&[u8]; Voice::COUNT] = [
    &[36, 35],
    &[38, 27, 28, 31, 32, 33, 34, 37, 39, 40, 56, 65, 66, 75, 85],
    &[42, 44, 54, 68, 69, 70, 71, 73, 78, 80, 22],
    &[46, 67, 72, 74, 79, 81, 26],
    &[45, 29, 41, 43, 61, 64, 84],
    &[48, 47, 60, 63, 77, 86, 87],
    &[50, 30, 62, 76, 83],
    &[49, 52, 55, 57, 58],
    &[51, 53, 59, 82],
];

const ROLAND_CLASSES: [&[u8]; Voice::COUNT] = [
    &[36],
    &[38, 37, 40],
    &[42, 22, 44],
    &[46, 26],
    &[43, 58],
    &[47, 45],
    &[50, 48],
    &[49, 52, 55, 57],
    &[51, 53, 59],
];

const fn table(classes: &[&[u8]; Voice::COUNT]) -> [Option<Voice>; 128] {
    let mut out = [None; 128];
    let mut class = 0;
    while class < Voice::COUNT {
        let notes = classes[class];
        let mut i = 0;
        while i < notes.len() {
            out[notes[i] as usize] = Some(Voice::ALL[class]);
            i += 1;
        }
        class += 1;
    }
    out
}

const GM_TABLE: [Option<Voice>; 128] = table(&GM_CLASSES);
const ROLAND_TABLE: [Option<Voice>; 128] = table(&ROLAND_CLASSES);

impl DrumMap {
    /// The voice a drum note plays, or `None` for notes outside the map.
    pub fn voice(self, note: u8) -> Option<Voice> {
        let note = usize::from(note.min(127));
        match self {
            DrumMap::GeneralMidi => GM_TABLE[note],
            DrumMap::RolandTd11 => ROLAND_TABLE[note].or(GM_TABLE[note]),
        }
    }

    /// The General MIDI note written for a voice on export (GrooVAE's simplified pitches); the
    /// GM map reads each back as the same voice.
    pub fn export_note(voice: Voice) -> u8 {
        match voice {
            Voice::Kick => 36,
            Voice::Snare => 38,
            Voice::ClosedHat => 42,
            Voice::OpenHat => 46,
            Voice::LowTom => 45,
            Voice::MidTom => 48,
            Voice::HighTom => 50,
            Voice::Crash => 49,
            Voice::Ride => 51,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn export_notes_read_back() {
        for voice in Voice::ALL {
            assert_eq!(
                DrumMap::GeneralMidi.voice(DrumMap::export_note(voice)),
                Some(voice)
            );
        }
    }

    #[test]
    fn roland_differs_where_groovae_does() {
        assert_eq!(DrumMap::RolandTd11.voice(45), Some(Voice::MidTom));
        assert_eq!(DrumMap::GeneralMidi.voice(45), Some(Voice::LowTom));
        assert_eq!(DrumMap::RolandTd11.voice(58), Some(Voice::LowTom));
        assert_eq!(DrumMap::GeneralMidi.voice(58), Some(Voice::Crash));
        assert_eq!(DrumMap::RolandTd11.voice(22), Some(Voice::ClosedHat));
        assert_eq!(DrumMap::RolandTd11.voice(39), Some(Voice::Snare));
        assert_eq!(DrumMap::GeneralMidi.voice(0), None);
    }
}
