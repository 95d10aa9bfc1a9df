//! The loop model's query, fast: one cycle of drums and bass rendered dry, mono, with the
//! default sounds — what the engine embeds every time it ranks the loops, so it has to cost
//! far less than a cycle of the full graph. The engine renders the cycle here and hands the
//! samples to the loop model ([`embed_cycle`]); the model itself knows no synthesiser.
//!
//! With the default drum sound the drum bus is linear (no tone tilt, no drive), so a drum
//! track is the sum of one-shots: each voice is rendered once, at full velocity, by the drum
//! machine itself, and every hit adds its voice's shot scaled by the machine's velocity curve.
//! A voice is monophonic, so a hit cuts the shot of the one before; a closed hat chokes the open
//! hat. The bass is the bass synth, note by note at the sequencer's frames. The mix is the
//! default mixer's: drums at 0 dB, bass at −3 dB.

use std::sync::OnceLock;

use crate::audio::bass::BassSynth;
use crate::audio::drums::DrumMachine;
use crate::audio::dsp::db_to_gain;
use crate::audio::params::{BassTimbre, DrumTimbre, Mix};
use crate::audio::plan::{CyclePlan, EventKind};
use crate::audio::sequencer::Sequencer;
use crate::audio::{AudioMsg, link};
use crate::loops::audio;
use crate::loops::mel::SAMPLE_RATE;
use crate::model::loops::infer::LoopModel;
use crate::pattern::{Bassline, DrumPattern, STEPS, Voice};

/// Renders one cycle of `drums` and `bass` at 120 BPM through the instrument's own graph, mono
/// at `sample_rate`, aligned to the downbeat.
pub fn render_cycle(
    drums: &DrumPattern,
    bass: &Bassline,
    bass_tonic: u8,
    sample_rate: u32,
) -> Vec<f32> {
    let (mut handle, mut core) = link(sample_rate, 1);
    // A fresh queue has room for one cycle.
    let _ = handle.send(AudioMsg::Cycle(CyclePlan::new(
        drums, bass, bass_tonic, 120.0, 50.0,
    )));
    let frames = audio::bar_frames(2, 120.0, sample_rate);
    let latency = core.latency();
    let mut out = vec![0.0f32; (frames + latency) * 2];
    for block in out.chunks_mut(1024) {
        core.process(block);
    }
    audio::mix_down(&out[latency * 2..], 2)
}

/// Renders the loop model's query for one cycle of `drums` and `bass`: 120 BPM, dry (no sends),
/// mono at the model's 16 kHz, from the downbeat, through the cheap [`QueryRenderer`].
pub fn render_query(drums: &DrumPattern, bass: &Bassline, bass_tonic: u8) -> Vec<f32> {
    static RENDERER: OnceLock<QueryRenderer> = OnceLock::new();
    let plan = CyclePlan::new(drums, bass, bass_tonic, 120.0, 50.0);
    RENDERER
        .get_or_init(|| QueryRenderer::new(SAMPLE_RATE))
        .render(&plan)
}

/// Embeds a cycle of drums and bass: rendered dry by [`render_query`] (ubiq's own drum machine
/// and bass synth at 120 BPM and 16 kHz, tempo-normalised), then embedded by `model`. This is
/// the query the library ranks loops against.
pub fn embed_cycle(
    model: &mut LoopModel,
    drums: &DrumPattern,
    bass: &Bassline,
    bass_tonic: u8,
) -> Vec<f32> {
    let audio = render_query(drums, bass, bass_tonic);
    model.embed_normalised(&audio)
}

/// Longest one-shot kept, in seconds (a crash rings longest).
const SHOT_SECONDS: f32 = 3.0;
/// A shot ends where it stays below this for good.
const SILENT: f32 = 1e-5;
/// How long the open hat takes to fall silent when a closed hat chokes it.
const CHOKE_S: f32 = 0.005;

/// Renders dry query cycles at one sample rate.
#[derive(Debug, Clone)]
pub struct QueryRenderer {
    sample_rate: f32,
    shots: Vec<Vec<f32>>,
    bass_gain: f32,
    drum_gain: f32,
}

/// The velocity curve of the drum machine (`hit_gain` at 0 dB).
fn velocity_gain(velocity: f32) -> f32 {
    let v = velocity.clamp(0.0, 1.0);
    v * v.sqrt()
}

impl QueryRenderer {
    /// Renders the nine one-shots at `sample_rate`.
    pub fn new(sample_rate: u32) -> Self {
        let rate = sample_rate as f32;
        let shots = Voice::ALL
            .iter()
            .map(|&voice| {
                let mut dm = DrumMachine::new(rate, 1);
                dm.set_timbre(DrumTimbre::default());
                dm.trigger(voice, 1.0);
                let mut shot = vec![0.0; (SHOT_SECONDS * rate) as usize];
                dm.render(&mut shot);
                let end = shot
                    .iter()
                    .rposition(|x| x.abs() > SILENT)
                    .map_or(0, |i| i + 1);
                shot.truncate(end);
                shot
            })
            .collect();
        let mix = Mix::default();
        QueryRenderer {
            sample_rate: rate,
            shots,
            drum_gain: db_to_gain(mix.drums.gain_db),
            bass_gain: db_to_gain(mix.bass.gain_db),
        }
    }

    /// One cycle of `plan`, dry and mono, from its downbeat.
    pub fn render(&self, plan: &CyclePlan) -> Vec<f32> {
        let mut seq = Sequencer::new(self.sample_rate);
        seq.queue(*plan);
        let frames = (seq.position().samples_per_step * STEPS as f64).round() as i64;
        let mut out = vec![0.0f32; frames.max(0) as usize];
        let mut hits: Vec<(usize, Voice, f32)> = Vec::new();
        let mut bass = BassSynth::new(self.sample_rate);
        bass.set_timbre(BassTimbre::default());
        let mut pos = 0usize;
        let mut bass_buf = vec![0.0f32; out.len()];
        while let Some((frame, kind)) = seq.next_event(frames) {
            let at = frame.clamp(0, frames) as usize;
            match kind {
                EventKind::Drum { voice, velocity } => hits.push((at, voice, velocity)),
                EventKind::BassOn {
                    note,
                    velocity,
                    accent,
                    slide,
                } => {
                    bass.render(&mut bass_buf[pos..at]);
                    pos = at;
                    bass.note_on(note, velocity, accent, slide);
                }
                EventKind::BassOff => {
                    bass.render(&mut bass_buf[pos..at]);
                    pos = at;
                    bass.note_off();
                }
                EventKind::CycleStart => {}
            }
        }
        bass.render(&mut bass_buf[pos..]);
        self.add_drums(&hits, &mut out);
        for (o, b) in out.iter_mut().zip(&bass_buf) {
            *o = *o * self.drum_gain + b * self.bass_gain;
        }
        out
    }

    fn add_drums(&self, hits: &[(usize, Voice, f32)], out: &mut [f32]) {
        let choke = (CHOKE_S * self.sample_rate).max(1.0);
        for (i, &(at, voice, velocity)) in hits.iter().enumerate() {
            let later = &hits[i + 1..];
            // The next hit of the same voice cuts this one; a closed hat chokes an open hat.
            let cut = later
                .iter()
                .find(|(_, v, _)| *v == voice)
                .map(|(f, _, _)| *f)
                .unwrap_or(usize::MAX);
            let choked = (voice == Voice::OpenHat)
                .then(|| {
                    later
                        .iter()
                        .find(|(_, v, _)| *v == Voice::ClosedHat)
                        .map(|(f, _, _)| *f)
                })
                .flatten()
                .unwrap_or(usize::MAX);
            let shot = &self.shots[voice.index()];
            let gain = velocity_gain(velocity);
            let end = out.len().min(at + shot.len()).min(cut);
            for (k, o) in out[at.min(end)..end].iter_mut().enumerate() {
                let f = at + k;
                let fade = if f >= choked {
                    (1.0 - (f - choked) as f32 / choke).max(0.0)
                } else {
                    1.0
                };
                *o += shot[k] * gain * fade;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The same cycle through the whole graph at default settings with the effect sends off.
    fn full(plan: CyclePlan, rate: u32) -> Vec<f32> {
        let (mut handle, mut core) = link(rate, 1);
        let mut params = crate::audio::Params::default();
        for t in crate::audio::Track::ALL {
            let m = params.mix.track_mut(t);
            m.reverb_send = 0.0;
            m.delay_send = 0.0;
        }
        let _ = handle.send(AudioMsg::Params(params));
        let _ = handle.send(AudioMsg::Cycle(plan));
        let frames = (f64::from(rate) * 60.0 / f64::from(plan.tempo_bpm()) * 8.0) as usize;
        let latency = core.latency();
        let mut out = vec![0.0f32; (frames + latency) * 2];
        for block in out.chunks_mut(1024) {
            core.process(block);
        }
        out[latency * 2..]
            .chunks_exact(2)
            .map(|f| 0.5 * (f[0] + f[1]))
            .collect()
    }

    /// Log energies of `hop`-sample frames, floored 60 dB under the loudest.
    fn band_energies(x: &[f32], hop: usize) -> Vec<f32> {
        let e: Vec<f32> = x
            .chunks(hop)
            .map(|c| c.iter().map(|v| v * v).sum())
            .collect();
        let floor = e.iter().fold(0.0f32, |m, v| m.max(*v)) * 1e-6;
        e.iter().map(|v| v.max(floor).ln()).collect()
    }

    fn correlation(a: &[f32], b: &[f32]) -> f32 {
        let n = a.len().min(b.len()) as f32;
        let (ma, mb) = (a.iter().sum::<f32>() / n, b.iter().sum::<f32>() / n);
        let mut sab = 0.0;
        let (mut saa, mut sbb) = (0.0, 0.0);
        for (x, y) in a.iter().zip(b) {
            sab += (x - ma) * (y - mb);
            saa += (x - ma).powi(2);
            sbb += (y - mb).powi(2);
        }
        sab / (saa * sbb).sqrt()
    }

    #[test]
    fn the_dry_query_sounds_like_the_graph() {
        for name in ["default", "house", "breakbeat"] {
            let scene = crate::scene::library::shipped(name).unwrap();
            check(&scene);
        }
    }

    fn check(scene: &crate::scene::Scene) {
        let plan = CyclePlan::new(
            &scene.drums.pattern(),
            &scene.bass.bassline(),
            scene.bass.tonic_midi(),
            120.0,
            50.0,
        );
        let q = QueryRenderer::new(16_000).render(&plan);
        let g = full(plan, 16_000);
        assert_eq!(q.len(), g.len());
        // Loudness envelopes in 10 ms frames agree (the noise phases differ).
        let r = correlation(&band_energies(&q, 160), &band_energies(&g, 160));
        assert!(r > 0.98, "{}: envelope correlation {r}", scene.name);
    }
}
