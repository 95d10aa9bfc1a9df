//! Sound settings shared by scenes, commands and the audio thread.
//!
//! All of these are plain `Copy` values: the engine edits its own copy and sends the whole
//! block to the audio thread, which glides towards the new values. Scene files deserialize
//! them directly; out-of-range values are refused with the file position of the value.

use serde::{Deserialize, Deserializer, Serialize};

use crate::pattern::{DrumPattern, Voice};

/// Deserializes an `f32` and refuses values outside `LO..=HI`.
pub fn within<'de, D: Deserializer<'de>, const LO: i32, const HI: i32>(
    d: D,
) -> Result<f32, D::Error> {
    let v = f32::deserialize(d)?;
    if v.is_finite() && v >= LO as f32 && v <= HI as f32 {
        Ok(v)
    } else {
        Err(serde::de::Error::custom(format!(
            "{v} is out of range {LO}..{HI}"
        )))
    }
}

/// Sound of one drum voice.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct VoiceTimbre {
    /// Pitch shift in semitones, −24..24.
    #[serde(deserialize_with = "within::<_, -24, 24>")]
    pub tune: f32,
    /// Decay time as a multiple of the voice's natural decay, 0.1..4.
    #[serde(deserialize_with = "within::<_, 0, 4>")]
    pub decay: f32,
    /// Level in dB, −60..12.
    #[serde(deserialize_with = "within::<_, -60, 12>")]
    pub level_db: f32,
}

impl Default for VoiceTimbre {
    fn default() -> Self {
        VoiceTimbre {
            tune: 0.0,
            decay: 1.0,
            level_db: 0.0,
        }
    }
}

/// Sound of the drum machine: one [`VoiceTimbre`] per voice plus bus controls.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DrumTimbre {
    /// Bass drum.
    pub kick: VoiceTimbre,
    /// Snare drum.
    pub snare: VoiceTimbre,
    /// Closed hi-hat.
    pub closed_hat: VoiceTimbre,
    /// Open hi-hat.
    pub open_hat: VoiceTimbre,
    /// Low tom.
    pub low_tom: VoiceTimbre,
    /// Mid tom.
    pub mid_tom: VoiceTimbre,
    /// High tom.
    pub high_tom: VoiceTimbre,
    /// Crash cymbal.
    pub crash: VoiceTimbre,
    /// Ride cymbal.
    pub ride: VoiceTimbre,
    /// Bus tone, −1 (dark) ..1 (bright).
    #[serde(deserialize_with = "within::<_, -1, 1>")]
    pub tone: f32,
    /// Bus saturation, 0 (clean) ..1 (crushed).
    #[serde(deserialize_with = "within::<_, 0, 1>")]
    pub drive: f32,
    /// How loud the AI's hits play on this kit.
    pub accents: Accents,
}

/// The kit's feel for the AI's drums: for each voice, the velocity its strongest hit in a
/// cycle plays at; the others keep their ratio to it, so ghost notes stay ghosts
/// ([`Accents::shape`]). A dance kit drives its kick, where a drummer of the Groove MIDI
/// Dataset plays it at about 55 of 127.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Accents {
    /// Bass drum, 0.05..1.
    #[serde(deserialize_with = "accent")]
    pub kick: f32,
    /// Snare drum.
    #[serde(deserialize_with = "accent")]
    pub snare: f32,
    /// Closed hi-hat.
    #[serde(deserialize_with = "accent")]
    pub closed_hat: f32,
    /// Open hi-hat.
    #[serde(deserialize_with = "accent")]
    pub open_hat: f32,
    /// The three toms.
    #[serde(deserialize_with = "accent")]
    pub toms: f32,
    /// Crash cymbal.
    #[serde(deserialize_with = "accent")]
    pub crash: f32,
    /// Ride cymbal.
    #[serde(deserialize_with = "accent")]
    pub ride: f32,
}

fn accent<'de, D: Deserializer<'de>>(d: D) -> Result<f32, D::Error> {
    let v = within::<D, 0, 1>(d)?;
    if v < 0.05 {
        return Err(serde::de::Error::custom(format!(
            "{v} is out of range 0.05..1"
        )));
    }
    Ok(v)
}

impl Default for Accents {
    /// ubiq's drum machine: a driving kick and snare, hats and ride a step behind.
    fn default() -> Self {
        Accents {
            kick: 1.0,
            snare: 0.9,
            closed_hat: 0.7,
            open_hat: 0.75,
            toms: 0.8,
            crash: 0.9,
            ride: 0.7,
        }
    }
}

impl Accents {
    /// Shapes a pattern a rhythm model wrote for this kit: each voice's loudest hit plays at
    /// the voice's accent and the others keep their ratio to it, so accents stay accents and
    /// ghost notes stay ghosts wherever on the plane the pattern comes from. A row of ghost
    /// notes alone (its loudest under half the model's strong velocity for the voice,
    /// `strong`) is measured against that half instead, and stays soft.
    pub fn shape(&self, pattern: &mut DrumPattern, strong: &[f32; Voice::COUNT]) {
        for voice in Voice::ALL {
            let row = pattern.row_mut(voice);
            let loudest = row
                .iter()
                .filter(|c| c.hit)
                .map(|c| c.velocity)
                .fold(0.0f32, f32::max);
            let reference = loudest.max(0.5 * strong[voice.index()]).max(1e-3);
            let gain = self.of(voice) / reference;
            for cell in row.iter_mut().filter(|c| c.hit) {
                cell.velocity = (cell.velocity * gain).clamp(0.0, 1.0);
            }
        }
    }

    /// The accent of one voice.
    pub fn of(&self, voice: Voice) -> f32 {
        match voice {
            Voice::Kick => self.kick,
            Voice::Snare => self.snare,
            Voice::ClosedHat => self.closed_hat,
            Voice::OpenHat => self.open_hat,
            Voice::LowTom | Voice::MidTom | Voice::HighTom => self.toms,
            Voice::Crash => self.crash,
            Voice::Ride => self.ride,
        }
    }
}

impl DrumTimbre {
    /// The timbre of one voice.
    pub fn voice(&self, voice: Voice) -> &VoiceTimbre {
        match voice {
            Voice::Kick => &self.kick,
            Voice::Snare => &self.snare,
            Voice::ClosedHat => &self.closed_hat,
            Voice::OpenHat => &self.open_hat,
            Voice::LowTom => &self.low_tom,
            Voice::MidTom => &self.mid_tom,
            Voice::HighTom => &self.high_tom,
            Voice::Crash => &self.crash,
            Voice::Ride => &self.ride,
        }
    }

    /// Mutable access to the timbre of one voice.
    pub fn voice_mut(&mut self, voice: Voice) -> &mut VoiceTimbre {
        match voice {
            Voice::Kick => &mut self.kick,
            Voice::Snare => &mut self.snare,
            Voice::ClosedHat => &mut self.closed_hat,
            Voice::OpenHat => &mut self.open_hat,
            Voice::LowTom => &mut self.low_tom,
            Voice::MidTom => &mut self.mid_tom,
            Voice::HighTom => &mut self.high_tom,
            Voice::Crash => &mut self.crash,
            Voice::Ride => &mut self.ride,
        }
    }
}

/// Sound of the monophonic bass synth.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BassTimbre {
    /// Oscillator shape, 0 (saw) ..1 (square).
    #[serde(deserialize_with = "within::<_, 0, 1>")]
    pub wave: f32,
    /// Sub oscillator (a sine an octave down), 0..1.
    #[serde(deserialize_with = "within::<_, 0, 1>")]
    pub sub: f32,
    /// Filter cutoff in Hz, 20..12000.
    #[serde(deserialize_with = "within::<_, 20, 12000>")]
    pub cutoff_hz: f32,
    /// Filter resonance, 0..1 (self-oscillation is avoided).
    #[serde(deserialize_with = "within::<_, 0, 1>")]
    pub resonance: f32,
    /// How far the filter envelope opens the cutoff, 0..1 (up to five octaves).
    #[serde(deserialize_with = "within::<_, 0, 1>")]
    pub env_amount: f32,
    /// Filter envelope decay in seconds, 0.01..2.
    #[serde(deserialize_with = "within::<_, 0, 2>")]
    pub env_decay_s: f32,
    /// Amplitude decay while a note is held, in seconds, 0.05..8.
    #[serde(deserialize_with = "within::<_, 0, 8>")]
    pub amp_decay_s: f32,
    /// Glide time for slides (a note after a hold), in seconds, 0..1.
    #[serde(deserialize_with = "within::<_, 0, 1>")]
    pub glide_s: f32,
    /// Extra level and filter punch of accented notes, 0..1.
    #[serde(deserialize_with = "within::<_, 0, 1>")]
    pub accent: f32,
    /// Saturation after the filter, 0..1.
    #[serde(deserialize_with = "within::<_, 0, 1>")]
    pub drive: f32,
}

impl Default for BassTimbre {
    fn default() -> Self {
        BassTimbre {
            wave: 0.0,
            sub: 0.3,
            cutoff_hz: 400.0,
            resonance: 0.45,
            env_amount: 0.5,
            env_decay_s: 0.2,
            amp_decay_s: 1.5,
            glide_s: 0.06,
            accent: 0.5,
            drive: 0.2,
        }
    }
}

/// Mixer settings of one track.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TrackMix {
    /// Fader in dB, −60..12.
    #[serde(deserialize_with = "within::<_, -60, 12>")]
    pub gain_db: f32,
    /// Pan, −1 (left) ..1 (right).
    #[serde(deserialize_with = "within::<_, -1, 1>")]
    pub pan: f32,
    /// Silences the track.
    pub mute: bool,
    /// Send to the delay, 0..1.
    #[serde(deserialize_with = "within::<_, 0, 1>")]
    pub delay_send: f32,
    /// Send to the reverb, 0..1.
    #[serde(deserialize_with = "within::<_, 0, 1>")]
    pub reverb_send: f32,
}

impl Default for TrackMix {
    fn default() -> Self {
        TrackMix {
            gain_db: 0.0,
            pan: 0.0,
            mute: false,
            delay_send: 0.0,
            reverb_send: 0.1,
        }
    }
}

impl TrackMix {
    /// Defaults of a loop track: 6 dB under the drums, a little more reverb.
    pub fn loop_default() -> Self {
        TrackMix {
            gain_db: -6.0,
            reverb_send: 0.15,
            ..TrackMix::default()
        }
    }
}

/// Tracks of the mixer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Track {
    /// The drum machine.
    Drums,
    /// The bass synth.
    Bass,
    /// The `music` loop set's player.
    Music,
    /// The `ambient` loop set's player.
    Ambient,
    /// The `voice` loop set's player.
    Voice,
    /// The `rhythm` loop set's player.
    Rhythm,
    /// The deck: a record or a live input the DJ mixes in.
    Deck,
}

impl Track {
    /// Number of tracks.
    pub const COUNT: usize = 7;
    /// All tracks in mixer order.
    pub const ALL: [Track; Track::COUNT] = [
        Track::Drums,
        Track::Bass,
        Track::Music,
        Track::Ambient,
        Track::Voice,
        Track::Rhythm,
        Track::Deck,
    ];

    /// Index in mixer order.
    pub fn index(self) -> usize {
        self as usize
    }

    /// Name in scene files and commands.
    pub fn name(self) -> &'static str {
        match self {
            Track::Drums => "drums",
            Track::Bass => "bass",
            Track::Music => "music",
            Track::Ambient => "ambient",
            Track::Voice => "voice",
            Track::Rhythm => "rhythm",
            Track::Deck => "deck",
        }
    }
}

/// The master bus's glue compressor ([`crate::audio::master::Glue`]).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GlueMix {
    /// Level where compression starts, in dBFS (the louder channel's peak), −60..0.
    #[serde(deserialize_with = "within::<_, -60, 0>")]
    pub threshold_db: f32,
    /// Input dB above the threshold per output dB, 1..20 (1: off).
    #[serde(deserialize_with = "within::<_, 1, 20>")]
    pub ratio: f32,
}

impl Default for GlueMix {
    /// A bus compressor's gentle setting: 2:1 from 18 dB RMS under full scale, a dB or two
    /// off the body of a mix at −14 LUFS.
    fn default() -> Self {
        GlueMix {
            threshold_db: -18.0,
            ratio: 2.0,
        }
    }
}

/// The whole mixer.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Mix {
    /// The drum machine's channel.
    pub drums: TrackMix,
    /// The bass synth's channel.
    pub bass: TrackMix,
    /// The `music` loop track.
    pub music: TrackMix,
    /// The `ambient` loop track.
    pub ambient: TrackMix,
    /// The `voice` loop track.
    pub voice: TrackMix,
    /// The `rhythm` loop track.
    pub rhythm: TrackMix,
    /// The deck.
    pub deck: TrackMix,
    /// Master level in dB before the glue compressor and the limiter, −60..12.
    #[serde(deserialize_with = "within::<_, -60, 12>")]
    pub master_db: f32,
    /// The master bus's glue compressor.
    pub glue: GlueMix,
    /// The one-knob DJ filter: −1..0 low-pass sweep, 0 open, 0..1 high-pass sweep.
    #[serde(deserialize_with = "within::<_, -1, 1>")]
    pub filter: f32,
}

impl Default for Mix {
    fn default() -> Self {
        Mix {
            drums: TrackMix::default(),
            bass: TrackMix {
                gain_db: -3.0,
                reverb_send: 0.05,
                ..TrackMix::default()
            },
            music: TrackMix::loop_default(),
            ambient: TrackMix::loop_default(),
            voice: TrackMix::loop_default(),
            rhythm: TrackMix::loop_default(),
            deck: TrackMix::default(),
            master_db: 0.0,
            glue: GlueMix::default(),
            filter: 0.0,
        }
    }
}

impl Mix {
    /// Settings of one track.
    pub fn track(&self, track: Track) -> &TrackMix {
        match track {
            Track::Drums => &self.drums,
            Track::Bass => &self.bass,
            Track::Music => &self.music,
            Track::Ambient => &self.ambient,
            Track::Voice => &self.voice,
            Track::Rhythm => &self.rhythm,
            Track::Deck => &self.deck,
        }
    }

    /// Mutable settings of one track.
    pub fn track_mut(&mut self, track: Track) -> &mut TrackMix {
        match track {
            Track::Drums => &mut self.drums,
            Track::Bass => &mut self.bass,
            Track::Music => &mut self.music,
            Track::Ambient => &mut self.ambient,
            Track::Voice => &mut self.voice,
            Track::Rhythm => &mut self.rhythm,
            Track::Deck => &mut self.deck,
        }
    }
}

/// Send effects.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Effects {
    /// Delay time in sixteenth notes (follows the tempo), 1..16.
    #[serde(deserialize_with = "within::<_, 1, 16>")]
    pub delay_steps: f32,
    /// Delay feedback, 0..0.95.
    #[serde(deserialize_with = "within::<_, 0, 1>")]
    pub delay_feedback: f32,
    /// Reverb size, 0 (room) ..1 (hall).
    #[serde(deserialize_with = "within::<_, 0, 1>")]
    pub reverb_size: f32,
    /// Reverb high-frequency damping, 0..1.
    #[serde(deserialize_with = "within::<_, 0, 1>")]
    pub reverb_damping: f32,
    /// Level of both effect returns in dB, −60..6.
    #[serde(deserialize_with = "within::<_, -60, 6>")]
    pub return_db: f32,
}

impl Default for Effects {
    fn default() -> Self {
        Effects {
            delay_steps: 3.0,
            delay_feedback: 0.35,
            reverb_size: 0.5,
            reverb_damping: 0.5,
            return_db: 0.0,
        }
    }
}

/// Everything the audio thread needs besides the patterns.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Params {
    /// Drum machine sound.
    pub drums: DrumTimbre,
    /// Bass synth sound.
    pub bass: BassTimbre,
    /// Mixer.
    pub mix: Mix,
    /// Send effects.
    pub effects: Effects,
}
