//! The nine-voice drum machine: synthesized voices (the kit `synth`), or a sample kit.
//!
//! Analogue-style models: a pitch-swept sine kick with a click, a two-tone snare with filtered
//! noise, hats and cymbals from six detuned square waves (the classic 808 metal source) mixed
//! with noise, and pitch-dropping sine toms. The open hat is choked by the closed hat.
//!
//! A sample kit ([`SampleKit`]) takes over at a cycle boundary ([`DrumMachine::queue_kit`],
//! [`DrumMachine::switch_kit`]); hits of the kit it replaces ring out, then that kit is let go
//! ([`DrumMachine::take_retired`]) to be freed off the audio thread.

use super::dsp::{Noise, OnePole, Svf, db_to_gain, decay_coef, sin_cycles, soft_clip};
use super::kit::{KitPlayer, SampleKit, velocity_gain};
use super::params::{DrumTimbre, VoiceTimbre};
use crate::pattern::Voice;

/// Envelope level below which a voice stops computing.
const SILENT: f32 = 1e-4;
/// Gain of the drum bus: leaves headroom for a full kit plus bass before the limiter.
const BUS_GAIN: f32 = 0.45;
/// Frequencies of the 808 cymbal/hat square oscillators, in Hz.
const METAL_HZ: [f32; 6] = [205.3, 304.4, 369.6, 522.7, 540.0, 800.0];

/// An exponentially decaying envelope.
#[derive(Debug, Clone, Copy, Default)]
struct Env {
    value: f32,
    coef: f32,
}

impl Env {
    fn trigger(&mut self, level: f32, decay_s: f32, sample_rate: f32) {
        self.value = level;
        self.coef = decay_coef(decay_s, sample_rate);
    }

    #[inline]
    fn next(&mut self) -> f32 {
        let v = self.value;
        // Snap to zero well below audibility: keeps finished envelopes out of denormals.
        self.value = if v < 1e-7 { 0.0 } else { v * self.coef };
        v
    }

    fn active(&self) -> bool {
        self.value > SILENT
    }
}

/// Loudness of a hit from its velocity and the voice's level.
fn hit_gain(velocity: f32, timbre: &VoiceTimbre) -> f32 {
    velocity_gain(velocity) * db_to_gain(timbre.level_db)
}

fn tune_ratio(timbre: &VoiceTimbre) -> f32 {
    2f32.powf(timbre.tune / 12.0)
}

/// A sine drum with a falling pitch (kick and toms).
#[derive(Debug, Clone, Copy, Default)]
struct SineDrum {
    phase: f32,
    base_hz: f32,
    sweep: f32,
    pitch: Env,
    amp: Env,
    click: Env,
}

impl SineDrum {
    #[allow(clippy::too_many_arguments)]
    fn trigger(
        &mut self,
        gain: f32,
        base_hz: f32,
        sweep: f32,
        sweep_s: f32,
        decay_s: f32,
        click: f32,
        sample_rate: f32,
    ) {
        self.phase = 0.0;
        self.base_hz = base_hz;
        self.sweep = sweep;
        self.pitch.trigger(1.0, sweep_s, sample_rate);
        self.amp.trigger(gain, decay_s, sample_rate);
        self.click.trigger(gain * click, 0.004, sample_rate);
    }

    #[inline]
    fn tick(&mut self, noise: f32, inv_sr: f32) -> f32 {
        let hz = self.base_hz * (1.0 + self.sweep * self.pitch.next());
        self.phase += hz * inv_sr;
        if self.phase >= 1.0 {
            self.phase -= 1.0;
        }
        sin_cycles(self.phase) * self.amp.next() + noise * self.click.next()
    }
}

/// Six square oscillators: the metallic source of hats and cymbals.
#[derive(Debug, Clone, Copy, Default)]
struct Metal {
    phases: [f32; 6],
    incs: [f32; 6],
}

impl Metal {
    fn tune(&mut self, ratio: f32, sample_rate: f32) {
        for (inc, hz) in self.incs.iter_mut().zip(METAL_HZ) {
            *inc = hz * ratio / sample_rate;
        }
    }

    #[inline]
    fn tick(&mut self) -> f32 {
        let mut sum = 0.0;
        for (p, inc) in self.phases.iter_mut().zip(self.incs) {
            *p += inc;
            if *p >= 1.0 {
                *p -= 1.0;
            }
            sum += if *p < 0.5 { 1.0 } else { -1.0 };
        }
        sum * (1.0 / 6.0)
    }
}

/// A hat or cymbal: metal plus noise through band-pass and high-pass filters.
#[derive(Debug, Clone, Copy, Default)]
struct Cymbal {
    metal: Metal,
    metal_mix: f32,
    band: Svf,
    high: Svf,
    amp: Env,
}

impl Cymbal {
    #[allow(clippy::too_many_arguments)]
    fn trigger(
        &mut self,
        gain: f32,
        ratio: f32,
        band_hz: f32,
        high_hz: f32,
        metal_mix: f32,
        decay_s: f32,
        sample_rate: f32,
    ) {
        self.metal.tune(ratio, sample_rate);
        self.metal_mix = metal_mix;
        self.band.set(band_hz * ratio.sqrt(), 1.2, sample_rate);
        self.high.set(high_hz * ratio.sqrt(), 0.7, sample_rate);
        self.amp.trigger(gain, decay_s, sample_rate);
    }

    fn choke(&mut self, sample_rate: f32) {
        self.amp.coef = decay_coef(0.008, sample_rate);
    }

    #[inline]
    fn tick(&mut self, noise: f32) -> f32 {
        let src = self.metal.tick() * self.metal_mix + noise * (1.0 - self.metal_mix);
        let band = self.band.tick(src).band;
        let high = self.high.tick(band + src * 0.3).high;
        high * self.amp.next()
    }
}

/// A snare: two body tones plus filtered noise.
#[derive(Debug, Clone, Copy, Default)]
struct Snare {
    phases: [f32; 2],
    incs: [f32; 2],
    body: Env,
    snares: Env,
    filter: Svf,
}

impl Snare {
    fn trigger(&mut self, gain: f32, ratio: f32, decay: f32, sample_rate: f32) {
        self.phases = [0.0, 0.0];
        self.incs = [185.0 * ratio / sample_rate, 330.0 * ratio / sample_rate];
        self.body.trigger(gain * 0.7, 0.14 * decay, sample_rate);
        self.snares.trigger(gain * 0.6, 0.26 * decay, sample_rate);
        self.filter.set(1800.0 * ratio, 0.6, sample_rate);
    }

    #[inline]
    fn tick(&mut self, noise: f32) -> f32 {
        let mut tone = 0.0;
        for (p, inc) in self.phases.iter_mut().zip(self.incs) {
            *p += inc;
            if *p >= 1.0 {
                *p -= 1.0;
            }
            tone += sin_cycles(*p);
        }
        let hiss = self.filter.tick(noise).high;
        tone * 0.5 * self.body.next() + hiss * self.snares.next()
    }
}

/// A kit that plays: its samples and the hits sounding from them.
#[derive(Debug)]
struct Playing {
    kit: Box<SampleKit>,
    player: KitPlayer,
}

/// The drum machine: nine voices summed to a mono drum bus with tone and drive.
#[derive(Debug)]
pub struct DrumMachine {
    sample_rate: f32,
    inv_sr: f32,
    timbre: DrumTimbre,
    noise: Noise,
    kick: SineDrum,
    snare: Snare,
    closed_hat: Cymbal,
    open_hat: Cymbal,
    toms: [SineDrum; 3],
    crash: Cymbal,
    ride: Cymbal,
    tilt: OnePole,
    /// The sample kit that plays (none: the synthesized voices).
    kit: Option<Playing>,
    /// The kit that played before, while its hits ring out.
    retiring: Option<Playing>,
    /// A kit waiting for the next cycle boundary (`Some(None)`: back to the synthesized
    /// voices).
    pending: Option<Option<Box<SampleKit>>>,
    /// The sample hits of a block, before the bus (allocated once).
    sampled: Vec<f32>,
}

impl DrumMachine {
    /// A silent machine; `seed` fixes its noise.
    pub fn new(sample_rate: f32, seed: u64) -> Self {
        let mut tilt = OnePole::default();
        tilt.set_hz(900.0, sample_rate);
        DrumMachine {
            sample_rate,
            inv_sr: 1.0 / sample_rate,
            timbre: DrumTimbre::default(),
            noise: Noise::new(seed ^ 0xD5),
            kick: SineDrum::default(),
            snare: Snare::default(),
            closed_hat: Cymbal::default(),
            open_hat: Cymbal::default(),
            toms: [SineDrum::default(); 3],
            crash: Cymbal::default(),
            ride: Cymbal::default(),
            tilt,
            kit: None,
            retiring: None,
            pending: None,
            sampled: vec![0.0; super::synth::MAX_BLOCK],
        }
    }

    /// Queues `kit` (none: the synthesized voices) to take over at [`DrumMachine::switch_kit`];
    /// returns a kit queued before that it displaces.
    pub fn queue_kit(&mut self, kit: Option<Box<SampleKit>>) -> Option<Box<SampleKit>> {
        self.pending.replace(kit).flatten()
    }

    /// The queued kit takes over (a cycle boundary): the kit that played rings out. Returns
    /// a kit let go at once (one still ringing from an earlier switch).
    pub fn switch_kit(&mut self) -> Option<Box<SampleKit>> {
        let next = self.pending.take()?;
        let old = std::mem::replace(
            &mut self.kit,
            next.map(|kit| Playing {
                kit,
                player: KitPlayer::new(self.sample_rate),
            }),
        );
        let cut = match old {
            Some(old) => self.retiring.replace(old),
            None => None,
        };
        cut.map(|p| p.kit)
    }

    /// The kit that played before the last switch, once its hits have rung out.
    pub fn take_retired(&mut self) -> Option<Box<SampleKit>> {
        if self.retiring.as_ref()?.player.is_silent() {
            return self.retiring.take().map(|p| p.kit);
        }
        None
    }

    /// Name of the sample kit that plays (none: the synthesized voices).
    pub fn kit_name(&self) -> Option<&str> {
        self.kit.as_ref().map(|p| p.kit.name.as_str())
    }

    /// Takes new sound settings; they apply from the next hit on (tone and drive at once).
    pub fn set_timbre(&mut self, timbre: DrumTimbre) {
        self.timbre = timbre;
    }

    /// Starts a hit of `voice` at `velocity` (0..1).
    pub fn trigger(&mut self, voice: Voice, velocity: f32) {
        let t = *self.timbre.voice(voice);
        if let Some(Playing { kit, player }) = &mut self.kit {
            player.trigger(kit, voice, velocity, &t);
            return;
        }
        let gain = hit_gain(velocity, &t);
        let ratio = tune_ratio(&t);
        let d = t.decay.max(0.1);
        let sr = self.sample_rate;
        match voice {
            Voice::Kick => self
                .kick
                .trigger(gain, 48.0 * ratio, 3.0, 0.035, 0.5 * d, 0.25, sr),
            Voice::Snare => self.snare.trigger(gain, ratio, d, sr),
            Voice::ClosedHat => {
                self.open_hat.choke(sr);
                self.closed_hat
                    .trigger(gain * 0.8, ratio, 10_000.0, 7_000.0, 0.6, 0.05 * d, sr);
            }
            Voice::OpenHat => {
                self.open_hat
                    .trigger(gain * 0.7, ratio, 10_000.0, 7_000.0, 0.6, 0.4 * d, sr)
            }
            Voice::LowTom | Voice::MidTom | Voice::HighTom => {
                let (i, hz) = match voice {
                    Voice::LowTom => (0, 85.0),
                    Voice::MidTom => (1, 125.0),
                    _ => (2, 175.0),
                };
                self.toms[i].trigger(gain * 0.8, hz * ratio, 0.6, 0.08, 0.45 * d, 0.08, sr);
            }
            Voice::Crash => {
                self.crash
                    .trigger(gain * 0.6, ratio * 1.1, 7_000.0, 4_000.0, 0.4, 1.6 * d, sr)
            }
            Voice::Ride => {
                self.ride
                    .trigger(gain * 0.5, ratio * 1.6, 5_000.0, 2_500.0, 0.8, 1.2 * d, sr)
            }
        }
    }

    /// Adds `out.len()` samples of the drum bus to `out`.
    pub fn render(&mut self, out: &mut [f32]) {
        let mut scratch = std::mem::take(&mut self.sampled);
        for chunk in out.chunks_mut(scratch.len().max(1)) {
            let sampled = &mut scratch[..chunk.len()];
            sampled.fill(0.0);
            for playing in [&mut self.kit, &mut self.retiring].into_iter().flatten() {
                playing.player.render(&playing.kit, sampled);
            }
            self.render_bus(sampled, chunk);
        }
        self.sampled = scratch;
    }

    /// The synthesized voices added to the `sampled` hits, through the bus into `out`.
    fn render_bus(&mut self, sampled: &[f32], out: &mut [f32]) {
        let inv_sr = self.inv_sr;
        let tone = self.timbre.tone;
        let drive = self.timbre.drive;
        let drive_in = 1.0 + 4.0 * drive;
        let drive_out = 1.0 / (1.0 + 1.5 * drive);
        for (o, &sampled) in out.iter_mut().zip(sampled) {
            let n = self.noise.sample();
            let mut s = sampled;
            if self.kick.amp.active() {
                s += self.kick.tick(n, inv_sr);
            }
            if self.snare.snares.active() || self.snare.body.active() {
                s += self.snare.tick(n);
            }
            if self.closed_hat.amp.active() {
                s += self.closed_hat.tick(n);
            }
            if self.open_hat.amp.active() {
                s += self.open_hat.tick(n);
            }
            for tom in &mut self.toms {
                if tom.amp.active() {
                    s += tom.tick(n, inv_sr);
                }
            }
            if self.crash.amp.active() {
                s += self.crash.tick(n);
            }
            if self.ride.amp.active() {
                s += self.ride.tick(n);
            }
            let low = self.tilt.lowpass(s);
            s = low + (s - low) * (1.0 + tone);
            if drive > 0.0 {
                s = soft_clip(s * drive_in) * drive_out;
            }
            *o += s * BUS_GAIN;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn energy(buf: &[f32]) -> f32 {
        buf.iter().map(|x| x * x).sum()
    }

    #[test]
    fn every_voice_sounds_and_decays() {
        for voice in Voice::ALL {
            let mut dm = DrumMachine::new(48_000.0, 1);
            dm.trigger(voice, 1.0);
            let mut early = vec![0.0; 4_800];
            dm.render(&mut early);
            let mut late = vec![0.0; 4_800];
            for _ in 0..40 {
                late.fill(0.0);
                dm.render(&mut late);
            }
            assert!(energy(&early) > 0.05, "{voice:?} is too quiet");
            assert!(energy(&late) < 1e-3, "{voice:?} does not decay");
        }
    }

    #[test]
    fn closed_hat_chokes_open_hat() {
        let mut dm = DrumMachine::new(48_000.0, 1);
        dm.trigger(Voice::OpenHat, 1.0);
        let mut buf = vec![0.0; 480];
        dm.render(&mut buf);
        dm.trigger(Voice::ClosedHat, 1.0);
        let mut buf = vec![0.0; 24_000];
        dm.render(&mut buf);
        assert!(energy(&buf[12_000..]) < 1e-6);
    }

    #[test]
    fn same_seed_same_sound() {
        let render = |seed| {
            let mut dm = DrumMachine::new(44_100.0, seed);
            dm.trigger(Voice::Snare, 0.8);
            let mut buf = vec![0.0; 2_000];
            dm.render(&mut buf);
            buf
        };
        assert_eq!(render(3), render(3));
        assert_ne!(render(3), render(4));
    }
}
