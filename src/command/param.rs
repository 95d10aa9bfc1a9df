//! Sound parameters reachable with `set NAME VALUE`: every drum voice's tune / decay / level,
//! the drum bus, the bass synth and the effects.

use crate::audio::params::{BassTimbre, Effects, Params, VoiceTimbre};
use crate::pattern::Voice;

/// A knob of one drum voice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VoiceKnob {
    /// Semitones.
    Tune,
    /// Decay multiple.
    Decay,
    /// Level in dB.
    LevelDb,
}

/// Something `set` can change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Param {
    /// A drum voice's knob.
    Voice(Voice, VoiceKnob),
    /// Drum bus tone.
    DrumTone,
    /// Drum bus drive.
    DrumDrive,
    /// A bass synth field, by index into [`BASS`].
    Bass(usize),
    /// An effect field, by index into [`EFFECTS`].
    Effect(usize),
}

/// A settable field: name, range, unit, accessors.
pub struct Field<T> {
    /// Name after the prefix (`cutoff_hz`).
    pub name: &'static str,
    /// Lowest value.
    pub min: f32,
    /// Highest value.
    pub max: f32,
    /// What it does.
    pub doc: &'static str,
    get: fn(&T) -> f32,
    set: fn(&mut T, f32),
}

macro_rules! field {
    ($t:ty, $f:ident, $min:expr, $max:expr, $doc:expr) => {
        Field::<$t> {
            name: stringify!($f),
            min: $min,
            max: $max,
            doc: $doc,
            get: |t| t.$f,
            set: |t, v| t.$f = v,
        }
    };
}

/// The bass synth's fields (prefix `bass.`).
pub const BASS: &[Field<BassTimbre>] = &[
    field!(BassTimbre, wave, 0.0, 1.0, "oscillator: 0 saw … 1 square"),
    field!(BassTimbre, sub, 0.0, 1.0, "sub oscillator level"),
    field!(BassTimbre, cutoff_hz, 20.0, 12_000.0, "filter cutoff in Hz"),
    field!(BassTimbre, resonance, 0.0, 1.0, "filter resonance"),
    field!(BassTimbre, env_amount, 0.0, 1.0, "filter envelope depth"),
    field!(
        BassTimbre,
        env_decay_s,
        0.01,
        2.0,
        "filter envelope decay in seconds"
    ),
    field!(
        BassTimbre,
        amp_decay_s,
        0.05,
        8.0,
        "level decay of held notes in seconds"
    ),
    field!(BassTimbre, glide_s, 0.0, 1.0, "slide time in seconds"),
    field!(BassTimbre, accent, 0.0, 1.0, "accent strength"),
    field!(BassTimbre, drive, 0.0, 1.0, "saturation"),
];

/// The effect fields (prefix `fx.`).
pub const EFFECTS: &[Field<Effects>] = &[
    field!(Effects, delay_steps, 1.0, 16.0, "delay time in sixteenths"),
    field!(Effects, delay_feedback, 0.0, 0.95, "delay feedback"),
    field!(Effects, reverb_size, 0.0, 1.0, "reverb size"),
    field!(Effects, reverb_damping, 0.0, 1.0, "reverb damping"),
    field!(
        Effects,
        return_db,
        -60.0,
        6.0,
        "level of both effect returns in dB"
    ),
];

const VOICE_KNOBS: [(VoiceKnob, &str, f32, f32, &str); 3] = [
    (VoiceKnob::Tune, "tune", -24.0, 24.0, "pitch in semitones"),
    (
        VoiceKnob::Decay,
        "decay",
        0.1,
        4.0,
        "decay as a multiple of the natural one",
    ),
    (VoiceKnob::LevelDb, "level_db", -60.0, 12.0, "level in dB"),
];

fn voice_value(t: &VoiceTimbre, knob: VoiceKnob) -> f32 {
    match knob {
        VoiceKnob::Tune => t.tune,
        VoiceKnob::Decay => t.decay,
        VoiceKnob::LevelDb => t.level_db,
    }
}

fn voice_field(t: &mut VoiceTimbre, knob: VoiceKnob) -> &mut f32 {
    match knob {
        VoiceKnob::Tune => &mut t.tune,
        VoiceKnob::Decay => &mut t.decay,
        VoiceKnob::LevelDb => &mut t.level_db,
    }
}

impl Param {
    /// Every parameter, in help order.
    pub fn all() -> Vec<Param> {
        let mut out = Vec::new();
        for v in Voice::ALL {
            for (knob, ..) in VOICE_KNOBS {
                out.push(Param::Voice(v, knob));
            }
        }
        out.push(Param::DrumTone);
        out.push(Param::DrumDrive);
        out.extend((0..BASS.len()).map(Param::Bass));
        out.extend((0..EFFECTS.len()).map(Param::Effect));
        out
    }

    /// The name used in commands (`kick.tune`, `drums.tone`, `bass.cutoff_hz`, `fx.reverb_size`).
    pub fn name(self) -> String {
        match self {
            Param::Voice(v, knob) => {
                let k = VOICE_KNOBS.iter().find(|k| k.0 == knob).map_or("", |k| k.1);
                format!("{}.{k}", v.name())
            }
            Param::DrumTone => "drums.tone".into(),
            Param::DrumDrive => "drums.drive".into(),
            Param::Bass(i) => format!("bass.{}", BASS[i].name),
            Param::Effect(i) => format!("fx.{}", EFFECTS[i].name),
        }
    }

    /// Looks a parameter up by name.
    pub fn from_name(name: &str) -> Option<Param> {
        Param::all().into_iter().find(|p| p.name() == name)
    }

    /// Allowed range.
    pub fn range(self) -> (f32, f32) {
        match self {
            Param::Voice(_, knob) => VOICE_KNOBS
                .iter()
                .find(|k| k.0 == knob)
                .map_or((0.0, 0.0), |k| (k.2, k.3)),
            Param::DrumTone => (-1.0, 1.0),
            Param::DrumDrive => (0.0, 1.0),
            Param::Bass(i) => (BASS[i].min, BASS[i].max),
            Param::Effect(i) => (EFFECTS[i].min, EFFECTS[i].max),
        }
    }

    /// One line of help.
    pub fn doc(self) -> &'static str {
        match self {
            Param::Voice(_, knob) => VOICE_KNOBS.iter().find(|k| k.0 == knob).map_or("", |k| k.4),
            Param::DrumTone => "drum bus tone: −1 dark … 1 bright",
            Param::DrumDrive => "drum bus saturation",
            Param::Bass(i) => BASS[i].doc,
            Param::Effect(i) => EFFECTS[i].doc,
        }
    }

    /// Current value.
    pub fn get(self, p: &Params) -> f32 {
        match self {
            Param::Voice(v, knob) => voice_value(p.drums.voice(v), knob),
            Param::DrumTone => p.drums.tone,
            Param::DrumDrive => p.drums.drive,
            Param::Bass(i) => (BASS[i].get)(&p.bass),
            Param::Effect(i) => (EFFECTS[i].get)(&p.effects),
        }
    }

    /// Sets the value (clamped into range).
    pub fn set(self, p: &mut Params, value: f32) {
        let (lo, hi) = self.range();
        let v = value.clamp(lo, hi);
        match self {
            Param::Voice(voice, knob) => *voice_field(p.drums.voice_mut(voice), knob) = v,
            Param::DrumTone => p.drums.tone = v,
            Param::DrumDrive => p.drums.drive = v,
            Param::Bass(i) => (BASS[i].set)(&mut p.bass, v),
            Param::Effect(i) => (EFFECTS[i].set)(&mut p.effects, v),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_round_trip() {
        let all = Param::all();
        for p in &all {
            assert_eq!(Param::from_name(&p.name()), Some(*p));
        }
        let mut names: Vec<String> = all.iter().map(|p| p.name()).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), all.len());
    }

    #[test]
    fn set_and_get() {
        let mut p = Params::default();
        let cutoff = Param::from_name("bass.cutoff_hz").unwrap();
        cutoff.set(&mut p, 900.0);
        assert_eq!(p.bass.cutoff_hz, 900.0);
        assert_eq!(cutoff.get(&p), 900.0);
        let tune = Param::from_name("snare.tune").unwrap();
        tune.set(&mut p, 99.0);
        assert_eq!(p.drums.snare.tune, 24.0);
    }
}
