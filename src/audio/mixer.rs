//! The mixer: per-track clean-up (DC blocker, and a high-pass on the loop tracks), fader,
//! pan, mute and sends; delay and reverb returns; the master bus: level, DC blocker, DJ
//! filter, glue compressor and true-peak limiter.

use super::dsp::{Smoothed, db_to_gain};
use super::fx::{Delay, DjFilter, Limiter, Reverb};
use super::master::{DcBlocker, Glue, TrackFilter};
use super::params::{Effects, Mix, Track};

/// Limiter ceiling: −1 dBTP (true peak), so that a lossy encoding of the set does not clip.
pub const CEILING: f32 = 0.891_250_9;
/// Glide time of mixer controls in seconds (fast enough to feel immediate, no zipper).
const GLIDE_S: f32 = 0.01;

/// Gain into the master's glue compressor and limiter, in dB: the tracks are staged with
/// headroom (a full drum bus peaks near −4 dBFS), and the master bus brings the mix up to
/// about −14 LUFS, the level streaming services play at.
pub const MASTER_DRIVE_DB: f32 = 5.0;

/// Corner of the high-pass on the loop tracks, in Hz: below it the kick and the bass play
/// alone (the loops' own low end only muddies theirs).
pub const LOOP_HIGH_PASS_HZ: f32 = 100.0;

/// The high-pass corner of a track: the loop tracks have one; the drums (the kick), the bass
/// and the deck (a whole record or a live input) keep their low end.
pub fn high_pass_hz(track: Track) -> Option<f32> {
    match track {
        Track::Music | Track::Ambient | Track::Voice | Track::Rhythm => Some(LOOP_HIGH_PASS_HZ),
        Track::Drums | Track::Bass | Track::Deck => None,
    }
}

/// A track's clean-up filter and smoothed gains.
#[derive(Debug, Clone, Copy)]
struct Channel {
    filter: TrackFilter,
    left: Smoothed,
    right: Smoothed,
    delay: Smoothed,
    reverb: Smoothed,
}

/// Peak levels of the last block, linear.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Peaks {
    /// Per track, post-fader.
    pub tracks: [f32; Track::COUNT],
    /// Master output.
    pub master: f32,
}

/// The mixer and its master section.
#[derive(Debug, Clone)]
pub struct Mixer {
    channels: [Channel; Track::COUNT],
    master: Smoothed,
    returns: Smoothed,
    delay_feedback: f32,
    delay_steps: f32,
    samples_per_step: f64,
    delay: Delay,
    reverb: Reverb,
    dc: [DcBlocker; 2],
    dj: DjFilter,
    glue: Glue,
    limiter: Limiter,
    peaks: Peaks,
}

fn pan_gains(gain: f32, pan: f32) -> (f32, f32) {
    let pan = pan.clamp(-1.0, 1.0);
    (gain * (1.0 - pan).min(1.0), gain * (1.0 + pan).min(1.0))
}

impl Mixer {
    /// A mixer at `sample_rate` with default settings.
    pub fn new(sample_rate: f32) -> Self {
        let s = |v| Smoothed::new(v, GLIDE_S, sample_rate);
        let channel = |track| Channel {
            filter: TrackFilter::new(sample_rate, high_pass_hz(track)),
            left: s(0.0),
            right: s(0.0),
            delay: s(0.0),
            reverb: s(0.0),
        };
        let mut mixer = Mixer {
            channels: Track::ALL.map(channel),
            master: s(1.0),
            returns: s(1.0),
            delay_feedback: 0.0,
            delay_steps: 3.0,
            samples_per_step: f64::from(sample_rate) * 0.125,
            delay: Delay::new(sample_rate),
            reverb: Reverb::new(sample_rate),
            dc: [DcBlocker::new(sample_rate); 2],
            dj: DjFilter::new(sample_rate),
            glue: Glue::new(0.0, 1.0, sample_rate),
            limiter: Limiter::new(sample_rate, CEILING),
            peaks: Peaks::default(),
        };
        mixer.set(&Mix::default(), &Effects::default());
        mixer
    }

    /// Takes new mixer and effect settings; they glide in over about 10 ms.
    pub fn set(&mut self, mix: &Mix, fx: &Effects) {
        for track in Track::ALL {
            let t = mix.track(track);
            let gain = if t.mute { 0.0 } else { db_to_gain(t.gain_db) };
            let (l, r) = pan_gains(gain, t.pan);
            let ch = &mut self.channels[track.index()];
            ch.left.set(l);
            ch.right.set(r);
            ch.delay.set(t.delay_send.clamp(0.0, 1.0));
            ch.reverb.set(t.reverb_send.clamp(0.0, 1.0));
        }
        self.master.set(db_to_gain(mix.master_db + MASTER_DRIVE_DB));
        self.glue.set(mix.glue.threshold_db, mix.glue.ratio);
        self.returns.set(db_to_gain(fx.return_db));
        self.dj.set(mix.filter);
        self.delay_feedback = fx.delay_feedback.clamp(0.0, 0.95);
        self.delay_steps = fx.delay_steps.clamp(1.0, 16.0);
        self.update_delay_time();
        self.reverb.set(fx.reverb_size, fx.reverb_damping);
    }

    /// Follows the tempo: the delay time is counted in steps. Called exactly at the frame a
    /// cycle (and so a tempo) starts, so renders do not depend on block sizes.
    pub fn set_samples_per_step(&mut self, samples_per_step: f64) {
        self.samples_per_step = samples_per_step;
        self.update_delay_time();
    }

    fn update_delay_time(&mut self) {
        self.delay
            .set_time((f64::from(self.delay_steps) * self.samples_per_step) as f32);
    }

    /// Latency of the master section in frames (the limiter's look-ahead).
    pub fn latency(&self) -> usize {
        self.limiter.latency()
    }

    /// Peak levels since the last [`Mixer::reset_peaks`].
    pub fn peaks(&self) -> Peaks {
        self.peaks
    }

    /// Starts a new metering period.
    pub fn reset_peaks(&mut self) {
        self.peaks = Peaks::default();
    }

    /// Mixes the mono track buffers into interleaved stereo `out` (`2 × frames` samples);
    /// peaks accumulate until [`Mixer::reset_peaks`].
    pub fn process(&mut self, tracks: [&[f32]; Track::COUNT], out: &mut [f32]) {
        let mut peaks = self.peaks;
        // A silent track whose filter is at rest gives silence: skip its filter this block.
        let mut resting = [false; Track::COUNT];
        for ((rest, ch), track) in resting.iter_mut().zip(&mut self.channels).zip(tracks) {
            *rest = track.iter().all(|&x| x == 0.0) && ch.filter.settle();
        }
        for (i, frame) in out.chunks_exact_mut(2).enumerate() {
            let mut dry = [0.0f32; 2];
            let mut send_delay = [0.0f32; 2];
            let mut send_reverb = [0.0f32; 2];
            for (t, ch) in self.channels.iter_mut().enumerate() {
                let x = if resting[t] {
                    0.0
                } else {
                    ch.filter.tick(tracks[t][i])
                };
                let l = x * ch.left.tick();
                let r = x * ch.right.tick();
                let d = ch.delay.tick();
                let v = ch.reverb.tick();
                peaks.tracks[t] = peaks.tracks[t].max(l.abs()).max(r.abs());
                dry[0] += l;
                dry[1] += r;
                send_delay[0] += l * d;
                send_delay[1] += r * d;
                send_reverb[0] += l * v;
                send_reverb[1] += r * v;
            }
            let echoes = self.delay.tick(send_delay, self.delay_feedback);
            let space = self.reverb.tick(send_reverb);
            let ret = self.returns.tick();
            let master = self.master.tick();
            let mixed = [
                self.dc[0].tick((dry[0] + (echoes[0] + space[0]) * ret) * master),
                self.dc[1].tick((dry[1] + (echoes[1] + space[1]) * ret) * master),
            ];
            let y = self.limiter.tick(self.glue.tick(self.dj.tick(mixed)));
            peaks.master = peaks.master.max(y[0].abs()).max(y[1].abs());
            frame[0] = y[0];
            frame[1] = y[1];
        }
        self.peaks = peaks;
    }
}
