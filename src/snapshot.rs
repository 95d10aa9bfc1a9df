//! What front ends draw: an immutable picture of the performance, published by the live
//! engine; the front ends never see anything else of it.

use std::sync::Arc;

use crate::audio::Status;
use crate::audio::params::{Params, Track};
use crate::loops::LoopSet;
use crate::loops::library::Candidate;
use crate::model::rhythm::latent_map::LatentMap;
use crate::pattern::{Bassline, DrumPattern, Key, Scale};
use crate::performance::loops::FeedbackTurn;
use crate::performance::sections::SectionView;
use crate::performance::{Performance, Playing};
use crate::scene::Ai;

/// A loop set as the front ends show it.
#[derive(Debug, Clone, PartialEq)]
pub struct LoopView {
    /// The set.
    pub set: LoopSet,
    /// It plays.
    pub on: bool,
    /// The loop the performer fixed, if any.
    pub pick: Option<String>,
    /// The loop it plays from the next cycle (the pick or the best candidate).
    pub wanted: Option<String>,
    /// The ranked candidates, best first.
    pub candidates: Vec<Candidate>,
    /// The loop the audio thread plays now.
    pub playing: Option<String>,
}

/// The deck as the front ends show it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct DeckView {
    /// File name of the record on the deck.
    pub record: Option<String>,
    /// It plays.
    pub playing: bool,
    /// Playhead in seconds.
    pub position_s: f32,
    /// Length of the record in seconds.
    pub length_s: f32,
    /// Pitch in percent.
    pub rate: f32,
}

/// A message for the performer (command results, reload errors).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    /// False for errors.
    pub ok: bool,
    /// One line.
    pub text: String,
}

impl Notice {
    /// Something that was done.
    pub fn done(text: impl Into<String>) -> Self {
        Notice {
            ok: true,
            text: text.into(),
        }
    }

    /// Something refused or failed.
    pub fn refused(text: impl Into<String>) -> Self {
        Notice {
            ok: false,
            text: text.into(),
        }
    }
}

/// Bar.beat.sixteenth (1-based) of a step within the cycle, as both front ends show the
/// playhead.
pub fn bar_beat(step: f64) -> (u32, u32, u32) {
    let s = step.max(0.0) as u32;
    (s / 16 + 1, (s % 16) / 4 + 1, s % 4 + 1)
}

/// The state of the performance at one moment.
#[derive(Debug, Clone, PartialEq)]
pub struct Snapshot {
    /// Scene name.
    pub scene: String,
    /// What the audio thread reported (playhead, levels, load).
    pub status: Status,
    /// Tempo the next cycle will play at.
    pub tempo_bpm: f32,
    /// Swing the next cycle will play with.
    pub swing: f32,
    /// The drum pattern the engine last queued: what the next cycle plays.
    pub pattern: DrumPattern,
    /// The bassline the engine last queued (pitches relative to `tonic`).
    pub bassline: Bassline,
    /// MIDI note the bassline is relative to.
    pub tonic: u8,
    /// What the audio thread plays in the current cycle (equal to the queued material once
    /// the queued cycle has started).
    pub playing: Playing,
    /// The set's key.
    pub key: Key,
    /// The set's scale.
    pub scale: Scale,
    /// Effective settings (solo applied).
    pub params: Params,
    /// Soloed track.
    pub solo: Option<Track>,
    /// The audio output in words.
    pub output: String,
    /// No device plays: the silent clock keeps time, and nothing can under-run.
    pub silent: bool,
    /// MIDI in words: `off`, or ports, clock out and the followed clock.
    pub midi: String,
    /// The latest notice.
    pub notice: Option<Notice>,
    /// How the AI composes (latent point, densities, policy).
    pub ai: Ai,
    /// Recent latent points, oldest first.
    pub trail: Vec<(f32, f32)>,
    /// A rhythm model is loaded.
    pub composing: bool,
    /// The loaded rhythm model's latent map (none: the pad shows no training windows).
    pub latent_map: Option<Arc<LatentMap>>,
    /// A loop library (and model) is loaded.
    pub library: bool,
    /// The loop sets.
    pub loops: Vec<LoopView>,
    /// Bars of a phrase (the loops change on its first bar).
    pub phrase: u32,
    /// Bars until the next phrase starts, counted from the cycle the AI writes for next.
    pub phrase_left: u32,
    /// What the feedback loop heard last (its rhythm loop and target point), when it is on.
    pub feedback: Option<FeedbackTurn>,
    /// The deck.
    pub deck: DeckView,
    /// The drum kit the scene plays (its folder's or kit's name; none: the synthesized
    /// voices).
    pub kit: Option<String>,
    /// How long the AI's last cycle turn took, in milliseconds.
    pub ai_ms: f32,
    /// The output's loudness meter (short-term LUFS and true peak), when the stage meters.
    pub loudness: Option<Loudness>,
    /// The section of the set list that plays.
    pub section: Option<SectionView>,
}

/// What the transport's loudness meter shows (the live stage meters its output: `LiveMeter`).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Loudness {
    /// Short-term loudness (the last 3 s), in LUFS; `None` in silence.
    pub short_term_lufs: Option<f32>,
    /// The highest true peak of the last 3 s, in dBTP; `None` in silence.
    pub true_peak_dbtp: Option<f32>,
}

impl Snapshot {
    /// Buffer under- and overruns of the device; none without one (the silent clock running
    /// late is not a device's xrun).
    pub fn xruns(&self) -> Option<u64> {
        (!self.silent).then_some(self.status.xruns)
    }

    /// The parts the AI leaves alone (`lock`, or typed by the performer), by name.
    pub fn locked(&self) -> Vec<&'static str> {
        [(self.ai.lock_drums, "drums"), (self.ai.lock_bass, "bass")]
            .into_iter()
            .filter_map(|(locked, name)| locked.then_some(name))
            .collect()
    }

    /// A picture of `perf` for front ends: the audio thread's `status`, what it is
    /// `playing` in the current cycle, the `output` in words and the latest `notice`.
    pub fn of(
        perf: &Performance,
        status: Status,
        playing: Playing,
        output: &str,
        notice: Option<Notice>,
    ) -> Snapshot {
        let scene = perf.scene();
        let queued = perf.queued();
        Snapshot {
            scene: scene.name.clone(),
            status,
            tempo_bpm: scene.tempo,
            swing: scene.swing,
            pattern: queued.pattern,
            bassline: queued.bassline,
            tonic: queued.tonic,
            playing,
            key: scene.bass.key,
            scale: scene.bass.scale,
            params: perf.params(),
            solo: perf.solo(),
            output: output.to_string(),
            silent: false,
            midi: "off".into(),
            notice,
            ai: scene.ai,
            trail: perf.trail().collect(),
            composing: false,
            latent_map: None,
            library: false,
            loops: LoopSet::ALL
                .into_iter()
                .map(|set| LoopView {
                    set,
                    on: scene.loops.slot(set).on,
                    pick: scene.loops.slot(set).pick.clone(),
                    wanted: perf.wanted_loop(set).map(str::to_string),
                    candidates: perf.candidates(set).to_vec(),
                    playing: None,
                })
                .collect(),
            phrase: scene.loops.phrase,
            phrase_left: perf.phrase_bars_left(),
            feedback: perf.feedback().cloned(),
            deck: DeckView {
                record: scene
                    .deck
                    .file
                    .as_ref()
                    .and_then(|f| f.file_name())
                    .map(|n| n.to_string_lossy().into_owned()),
                playing: status.deck.playing,
                position_s: status.deck.frame as f32 / status.sample_rate.max(1) as f32,
                length_s: status.deck.length as f32 / status.sample_rate.max(1) as f32,
                rate: scene.deck.rate,
            },
            kit: scene
                .kit
                .as_ref()
                .filter(|k| k.as_path() != std::path::Path::new(crate::kit::SYNTH))
                .and_then(|k| k.file_name())
                .map(|n| n.to_string_lossy().into_owned()),
            ai_ms: 0.0,
            loudness: None,
            section: perf.section_view(),
        }
    }
}
