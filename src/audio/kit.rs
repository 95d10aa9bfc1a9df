//! Sample kits: the nine drum voices played from recorded hits.
//!
//! A [`SampleKit`] is prepared off the audio thread (decoded, converted to the graph's rate,
//! see `kit/`) and handed over boxed; [`KitPlayer`] plays it with a fixed pool of hits, so a
//! trigger never allocates. Each voice has velocity layers (the loudest layer whose
//! `min_velocity` the hit reaches), round robin among a layer's samples, a tune, an optional
//! decay, a level and an optional choke group (a hit silences, within 8 ms, every hit still
//! sounding in its group: the closed hat chokes the open one).

use super::dsp::{db_to_gain, decay_coef};
use super::params::VoiceTimbre;
use crate::pattern::Voice;

/// Hits that sound at once; a new hit past this takes the place of the quietest.
pub const POLYPHONY: usize = 32;
/// Seconds a choked hit takes to fall silent.
const CHOKE_SECONDS: f32 = 0.008;
/// Envelope level below which a hit stops.
const SILENT: f32 = 1e-4;

/// One recorded hit at the graph's sample rate (mono).
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// The file it came from (shown to the performer).
    pub name: String,
    /// Samples, −1..1, at [`SampleKit::sample_rate`].
    pub frames: Vec<f32>,
}

/// The samples a voice plays from one velocity up.
#[derive(Debug, Clone, PartialEq)]
pub struct Layer {
    /// Lowest velocity (0..1) that plays this layer.
    pub min_velocity: f32,
    /// Gain of this layer (linear).
    pub gain: f32,
    /// Indices into [`SampleKit::samples`], played in turn (round robin).
    pub samples: Vec<usize>,
    /// The next of `samples` to play.
    next: usize,
}

impl Layer {
    /// A layer from `min_velocity` up playing `samples` in turn at `gain`.
    pub fn new(min_velocity: f32, gain: f32, samples: Vec<usize>) -> Self {
        Layer {
            min_velocity,
            gain,
            samples,
            next: 0,
        }
    }
}

/// How one voice plays.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct KitVoice {
    /// Velocity layers, by rising `min_velocity` (empty: the voice is silent).
    pub layers: Vec<Layer>,
    /// Pitch in semitones (the playback rate follows it).
    pub tune: f32,
    /// Seconds in which a hit fades to −60 dB (none: it plays to the sample's end).
    pub decay: Option<f32>,
    /// Level in dB.
    pub level_db: f32,
    /// Voices of the same group silence each other.
    pub choke: Option<u8>,
}

/// A kit ready to play: its samples at the graph's rate and how each voice plays them.
#[derive(Debug, Clone, PartialEq)]
pub struct SampleKit {
    /// The kit's name.
    pub name: String,
    /// The graph rate its samples are at.
    pub sample_rate: u32,
    /// Every sample any layer plays.
    pub samples: Vec<Sample>,
    /// The voices, in [`Voice::ALL`] order.
    pub voices: [KitVoice; Voice::COUNT],
}

impl SampleKit {
    /// The sample a hit of `voice` at `velocity` plays next, with its layer's gain; moves
    /// the layer's round robin on.
    fn pick(&mut self, voice: Voice, velocity: f32) -> Option<(usize, f32)> {
        let layers = &mut self.voices[voice.index()].layers;
        let at = layers
            .iter()
            .rposition(|l| velocity >= l.min_velocity)
            .unwrap_or(0);
        let layer = layers.get_mut(at)?;
        let sample = *layer.samples.get(layer.next)?;
        layer.next = (layer.next + 1) % layer.samples.len();
        Some((sample, layer.gain))
    }

    /// Frames of audio all its samples hold.
    pub fn frames(&self) -> usize {
        self.samples.iter().map(|s| s.frames.len()).sum()
    }
}

/// One sounding hit.
#[derive(Debug, Clone, Copy, Default)]
struct Hit {
    sample: usize,
    voice: usize,
    /// Read position in the sample, in frames.
    position: f64,
    /// Frames advanced per output frame.
    rate: f64,
    gain: f32,
    env: f32,
    coef: f32,
    sounding: bool,
}

/// Plays a [`SampleKit`]: triggers start hits from a fixed pool; rendering mixes them.
#[derive(Debug)]
pub struct KitPlayer {
    sample_rate: f32,
    hits: [Hit; POLYPHONY],
}

/// Loudness of a hit from its velocity (the synthesized machine's curve).
pub fn velocity_gain(velocity: f32) -> f32 {
    let v = velocity.clamp(0.0, 1.0);
    v * v.sqrt()
}

impl KitPlayer {
    /// A silent player at `sample_rate`.
    pub fn new(sample_rate: f32) -> Self {
        KitPlayer {
            sample_rate,
            hits: [Hit::default(); POLYPHONY],
        }
    }

    /// True when no hit sounds.
    pub fn is_silent(&self) -> bool {
        self.hits.iter().all(|h| !h.sounding)
    }

    /// Starts a hit of `voice` from `kit`, shaped by the scene's `timbre` for the voice.
    pub fn trigger(
        &mut self,
        kit: &mut SampleKit,
        voice: Voice,
        velocity: f32,
        timbre: &VoiceTimbre,
    ) {
        let Some((sample, layer_gain)) = kit.pick(voice, velocity) else {
            return;
        };
        let v = &kit.voices[voice.index()];
        if let Some(group) = v.choke {
            let choke = decay_coef(CHOKE_SECONDS, self.sample_rate);
            for h in self.hits.iter_mut().filter(|h| h.sounding) {
                if kit.voices[h.voice].choke == Some(group) {
                    h.coef = h.coef.min(choke);
                }
            }
        }
        let len = kit.samples[sample].frames.len() as f32 / self.sample_rate;
        let decay = match v.decay {
            Some(d) => Some(d * timbre.decay),
            None if timbre.decay < 1.0 => Some(len * timbre.decay),
            None => None,
        };
        let hit = Hit {
            sample,
            voice: voice.index(),
            position: 0.0,
            rate: f64::from(2f32.powf((v.tune + timbre.tune) / 12.0)),
            gain: velocity_gain(velocity) * layer_gain * db_to_gain(v.level_db + timbre.level_db),
            env: 1.0,
            coef: decay.map_or(1.0, |d| decay_coef(d, self.sample_rate)),
            sounding: true,
        };
        let slot = match self.hits.iter().position(|h| !h.sounding) {
            Some(free) => free,
            // Every slot sounds: the quietest gives way.
            None => (0..POLYPHONY)
                .min_by(|&a, &b| {
                    let level = |h: &Hit| h.gain * h.env;
                    level(&self.hits[a]).total_cmp(&level(&self.hits[b]))
                })
                .unwrap_or(0),
        };
        self.hits[slot] = hit;
    }

    /// Adds the sounding hits of `kit` to `out`. Real-time safe.
    pub fn render(&mut self, kit: &SampleKit, out: &mut [f32]) {
        for hit in self.hits.iter_mut().filter(|h| h.sounding) {
            let Some(sample) = kit.samples.get(hit.sample) else {
                hit.sounding = false;
                continue;
            };
            let frames = &sample.frames;
            let last = frames.len() as f64 - 1.0;
            for o in out.iter_mut() {
                if hit.position >= last || hit.env < SILENT {
                    hit.sounding = false;
                    break;
                }
                // Linear interpolation: exact at the sample's own rate (rate 1, whole
                // positions), and cheap enough for every hit of every block.
                let i = hit.position as usize;
                let frac = (hit.position - i as f64) as f32;
                let (a, b) = (frames[i], frames[i + 1]);
                *o += (a + (b - a) * frac) * hit.gain * hit.env;
                hit.env *= hit.coef;
                hit.position += hit.rate;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A kit whose kick has a soft and a hard layer, the hard one with two samples, and whose
    /// hats choke each other.
    fn kit() -> SampleKit {
        let tone = |name: &str, level: f32, len: usize| Sample {
            name: name.into(),
            frames: (0..len).map(|i| level * (i as f32 * 0.1).sin()).collect(),
        };
        let mut voices: [KitVoice; Voice::COUNT] = Default::default();
        voices[Voice::Kick.index()] = KitVoice {
            layers: vec![
                Layer::new(0.0, 1.0, vec![0]),
                Layer::new(0.7, 1.0, vec![1, 2]),
            ],
            ..KitVoice::default()
        };
        for hat in [Voice::ClosedHat, Voice::OpenHat] {
            voices[hat.index()] = KitVoice {
                layers: vec![Layer::new(0.0, 1.0, vec![3])],
                choke: Some(1),
                ..KitVoice::default()
            };
        }
        SampleKit {
            name: "test".into(),
            sample_rate: 48_000,
            samples: vec![
                tone("soft", 0.1, 4_800),
                tone("hard a", 0.8, 4_800),
                tone("hard b", 0.5, 4_800),
                tone("hat", 0.5, 48_000),
            ],
            voices,
        }
    }

    fn peak(out: &[f32]) -> f32 {
        out.iter().fold(0.0, |m, x| m.max(x.abs()))
    }

    fn hit(kit: &mut SampleKit, voice: Voice, velocity: f32) -> Vec<f32> {
        let mut player = KitPlayer::new(48_000.0);
        player.trigger(kit, voice, velocity, &VoiceTimbre::default());
        let mut out = vec![0.0; 4_800];
        player.render(kit, &mut out);
        out
    }

    #[test]
    fn velocity_picks_the_layer_and_hard_hits_take_turns() {
        let mut kit = kit();
        let soft = peak(&hit(&mut kit, Voice::Kick, 0.5));
        let first = peak(&hit(&mut kit, Voice::Kick, 1.0));
        let second = peak(&hit(&mut kit, Voice::Kick, 1.0));
        let third = peak(&hit(&mut kit, Voice::Kick, 1.0));
        assert!(soft < 0.1 && soft > 0.02, "{soft}");
        assert!((first - 0.8).abs() < 0.01, "{first}");
        assert!((second - 0.5).abs() < 0.01, "{second}");
        assert_eq!(first, third);
        assert_eq!(peak(&hit(&mut kit, Voice::Snare, 1.0)), 0.0);
    }

    #[test]
    fn a_hit_in_a_choke_group_silences_the_others() {
        let mut kit = kit();
        let mut player = KitPlayer::new(48_000.0);
        let timbre = VoiceTimbre::default();
        player.trigger(&mut kit, Voice::OpenHat, 1.0, &timbre);
        let mut out = vec![0.0; 4_800];
        player.render(&kit, &mut out);
        assert!(peak(&out) > 0.4);
        // Without the choke the open hat rings on for its whole second.
        player.trigger(&mut kit, Voice::Kick, 1.0, &timbre);
        let mut out = vec![0.0; 9_600];
        player.render(&kit, &mut out);
        assert!(peak(&out[4_800..]) > 0.4);
        player.trigger(&mut kit, Voice::ClosedHat, 0.0, &timbre);
        let mut out = vec![0.0; 9_600];
        player.render(&kit, &mut out);
        assert!(peak(&out[4_800..]) < 1e-3, "{}", peak(&out[4_800..]));
    }

    #[test]
    fn tune_decay_and_level_shape_a_hit() {
        let mut kit = kit();
        let plain = hit(&mut kit, Voice::OpenHat, 1.0);
        let mut player = KitPlayer::new(48_000.0);
        let timbre = VoiceTimbre {
            tune: 12.0,
            decay: 0.1,
            level_db: -6.0,
        };
        player.trigger(&mut kit, Voice::OpenHat, 1.0, &timbre);
        let mut shaped = vec![0.0; 4_800];
        player.render(&kit, &mut shaped);
        // An octave up reads two frames per frame.
        assert!(
            (shaped[1] / plain[2] - 0.5).abs() < 0.01,
            "{} {}",
            shaped[1],
            plain[2]
        );
        // A tenth of the one-second sample: −60 dB after 0.1 s.
        assert!(peak(&shaped[4_700..]) < 2e-3, "{}", peak(&shaped[4_700..]));
        assert!(peak(&plain[4_700..]) > 0.4);
    }

    #[test]
    fn more_hits_than_the_pool_replace_the_quietest() {
        let mut kit = kit();
        let mut player = KitPlayer::new(48_000.0);
        let timbre = VoiceTimbre::default();
        for _ in 0..POLYPHONY + 5 {
            player.trigger(&mut kit, Voice::OpenHat, 0.2, &timbre);
        }
        player.trigger(&mut kit, Voice::Kick, 1.0, &timbre);
        assert!(player.hits.iter().any(|h| h.voice == Voice::Kick.index()));
        assert_eq!(player.hits.iter().filter(|h| h.sounding).count(), POLYPHONY);
    }
}
