//! The key of a pitched loop, heard from its audio: the loop's chroma (the magnitude of the
//! spectrum gathered by pitch class, 55 Hz – 4 kHz, over the whole loop at its own pitch)
//! correlated with the Krumhansl–Kessler major and minor profiles in every key. The
//! correlation is the confidence: a chord loop in A minor scores about 0.8, a drum loop or
//! a noise near 0.

use std::fmt;

use super::audio::{self, Mono};
use super::mel::{CHROMA, LOOP_SAMPLES, MelAnalyser, SAMPLE_RATE, chroma_bins};
use crate::midifile::key::{best_key_scored, correlation};
use crate::pattern::{Key, Scale};

/// Below this confidence a loop is taken as unpitched (no key stored).
pub const MIN_CONFIDENCE: f32 = 0.3;

/// A loop's key and how sure the detection is.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LoopKey {
    /// The tonic.
    pub key: Key,
    /// Major or minor.
    pub scale: Scale,
    /// Correlation of the loop's chroma with the key's profile, 0..1.
    pub confidence: f32,
}

impl LoopKey {
    /// Whether a set in `key` / `scale` hears this loop in its own key: the same tonic and
    /// mode, or the relative key (A minor and C major share their notes).
    pub fn fits(&self, key: Key, scale: Scale) -> bool {
        self.key.pitch_class() == self.tonic_in(key, scale)
    }

    /// The tonic (pitch class) a loop of this mode has in `key` / `scale`: the set's tonic
    /// for the same mode, its relative minor's (a minor third below) for a minor loop in a
    /// major set, its relative major's (a minor third above) for a major loop in a minor set.
    fn tonic_in(&self, key: Key, scale: Scale) -> u8 {
        let set = key.pitch_class();
        match (minor(self.scale), minor(scale)) {
            (true, false) => (set + 9) % 12,
            (false, true) => (set + 3) % 12,
            _ => set,
        }
    }

    /// The key of this loop moved by `semitones`.
    pub fn transposed(&self, semitones: i8) -> LoopKey {
        LoopKey {
            key: Key::new(i32::from(self.key.pitch_class()) + i32::from(semitones)),
            ..*self
        }
    }

    /// The transposition, within [`FOLLOW_SHIFTS`], that brings this loop into `key` /
    /// `scale` (its tonic or relative; see [`LoopKey::fits`]): the interval up to the tonic
    /// it should have, taken down an octave from a tritone up (the smallest move, and the
    /// tritone downwards).
    pub fn follow_shift(&self, key: Key, scale: Scale) -> i8 {
        let up = (self.tonic_in(key, scale) + 12 - self.key.pitch_class()) % 12;
        let up = up as i8;
        if up >= 6 { up - 12 } else { up }
    }

    /// Parses the text `fmt::Display` writes (`"A minor"`, `"C major"`).
    pub fn parse(text: &str) -> Option<LoopKey> {
        let (key, scale) = text.split_once(' ')?;
        let scale = match scale {
            "major" => Scale::Major,
            "minor" => Scale::Minor,
            _ => return None,
        };
        Some(LoopKey {
            key: key.parse().ok()?,
            scale,
            confidence: 1.0,
        })
    }
}

impl fmt::Display for LoopKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mode = if self.scale == Scale::Major {
            "major"
        } else {
            "minor"
        };
        write!(f, "{} {mode}", self.key)
    }
}

/// The transpositions `loop SET key follow` may apply to a loop, in semitones: at most half
/// an octave, so a loop never moves further than a tritone from how it was played.
pub const FOLLOW_SHIFTS: std::ops::RangeInclusive<i8> = -6..=5;

/// Whether `scale` is heard as minor (its third is minor): what decides a set's relative key.
fn minor(scale: Scale) -> bool {
    matches!(
        scale,
        Scale::Minor
            | Scale::Dorian
            | Scale::Phrygian
            | Scale::HarmonicMinor
            | Scale::MinorPentatonic
            | Scale::Blues
    )
}

/// How far pitch classes (C first, runs of 12) rotate when the music moves by `semitones`.
pub fn rotation(semitones: i8) -> usize {
    usize::from(semitones.rem_euclid(12) as u8)
}

/// The chroma of a loop at its own pitch: resampled (not stretched) to the analyser's rate
/// and measured over consecutive stretches of its length, each pitch class divided by the
/// FFT bins it gathers (so a flat spectrum gives a flat chroma).
pub fn chroma(loop_audio: &Mono) -> [f32; CHROMA] {
    let at_rate = audio::resample(loop_audio, SAMPLE_RATE);
    let mut analyser = MelAnalyser::new();
    let mut total = [0.0f32; CHROMA];
    for stretch in at_rate.samples.chunks(LOOP_SAMPLES) {
        let (_, c) = analyser.log_mel_chroma(stretch);
        let weight = audio::rms(stretch);
        for (t, v) in total.iter_mut().zip(c) {
            *t += weight * v;
        }
    }
    for (t, bins) in total.iter_mut().zip(chroma_bins()) {
        *t /= bins.max(1) as f32;
    }
    total
}

/// The key of a loop; none for one that sounds no key (a drum loop, silence).
pub fn detect(loop_audio: &Mono) -> Option<LoopKey> {
    key_of(&chroma(loop_audio))
}

/// What a pitched loop sounds: its key (none when it sounds no key) and its chroma, scaled
/// so that its strongest pitch class is 1 (C first).
pub fn analyse(loop_audio: &Mono) -> (Option<LoopKey>, [f32; CHROMA]) {
    let c = chroma(loop_audio);
    let top = c.iter().copied().fold(0.0f32, f32::max);
    let scaled = if top > 0.0 { c.map(|v| v / top) } else { c };
    (key_of(&c), scaled)
}

/// Pearson correlation of a chroma moved up by `semitones` with pitch-class weights (C
/// first), in −1..1; 0 when either is flat.
pub fn harmony(chroma: &[f32; CHROMA], semitones: i8, pitch_classes: &[f32; CHROMA]) -> f32 {
    correlation(
        &pitch_classes.map(f64::from),
        &chroma.map(f64::from),
        rotation(semitones),
    ) as f32
}

/// The key of a chroma; none below [`MIN_CONFIDENCE`].
fn key_of(c: &[f32; CHROMA]) -> Option<LoopKey> {
    let hist: [f64; CHROMA] = c.map(f64::from);
    let (key, scale, r) = best_key_scored(&hist);
    let confidence = r as f32;
    (confidence >= MIN_CONFIDENCE).then_some(LoopKey {
        key,
        scale,
        confidence,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Four seconds of a chord (MIDI notes) as decaying plucks, at 22.05 kHz.
    fn chord(notes: &[u8]) -> Mono {
        let rate = 22_050;
        let samples = (0..4 * rate)
            .map(|i| {
                let t = (i % (rate / 2)) as f32 / rate as f32;
                let env = (-t * 4.0).exp();
                notes
                    .iter()
                    .map(|&n| {
                        let hz = 440.0 * 2f32.powf((f32::from(n) - 69.0) / 12.0);
                        (std::f32::consts::TAU * hz * i as f32 / rate as f32).sin()
                    })
                    .sum::<f32>()
                    * env
                    * 0.2
            })
            .collect();
        Mono {
            samples,
            sample_rate: rate as u32,
        }
    }

    #[test]
    fn a_chord_loop_has_its_key_and_noise_has_none() {
        // A minor: A C E with a G and a D passing.
        let a_minor = detect(&chord(&[57, 60, 64, 69, 67, 62])).expect("a key");
        assert_eq!(a_minor.to_string(), "A minor", "{a_minor:?}");
        assert!(a_minor.confidence > 0.5);
        let c_major = detect(&chord(&[48, 52, 55, 60, 64, 67, 65])).expect("a key");
        assert_eq!(c_major.to_string(), "C major");
        // A relative key fits; another does not.
        assert!(a_minor.fits(Key::new(0), Scale::Major));
        assert!(a_minor.fits(Key::new(9), Scale::Dorian));
        assert!(!a_minor.fits(Key::new(2), Scale::Minor));
        assert_eq!(
            LoopKey::parse("A minor").map(|k| k.to_string()).as_deref(),
            Some("A minor")
        );
        let mut state = 7u32;
        let noise = Mono {
            samples: (0..88_200)
                .map(|_| {
                    state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                    (state >> 8) as f32 / (1u32 << 24) as f32 - 0.5
                })
                .collect(),
            sample_rate: 22_050,
        };
        assert_eq!(detect(&noise), None, "white noise sounds no key");
    }

    #[test]
    fn follow_moves_a_loop_by_at_most_a_tritone_into_the_key_or_its_relative() {
        let key = |text: &str| LoopKey::parse(text).unwrap();
        for (name, _) in [("C", 0), ("F#", 6)] {
            let set = name.parse::<Key>().unwrap();
            for scale in [Scale::Major, Scale::Minor, Scale::Dorian] {
                for pc in 0..12 {
                    for mode in ["major", "minor"] {
                        let loop_key = key(&format!("{} {mode}", Key::new(pc)));
                        let s = loop_key.follow_shift(set, scale);
                        assert!(FOLLOW_SHIFTS.contains(&s));
                        assert!(loop_key.transposed(s).fits(set, scale), "{loop_key} → {s}");
                    }
                }
            }
        }
        assert_eq!(key("A minor").follow_shift(Key::new(0), Scale::Major), 0);
        assert_eq!(key("D major").follow_shift(Key::new(0), Scale::Major), -2);
        assert_eq!(key("D minor").follow_shift(Key::new(2), Scale::Major), -3);
        assert_eq!(key("F# major").follow_shift(Key::new(0), Scale::Major), -6);
    }
}
