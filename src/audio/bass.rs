//! The monophonic bass synth: saw/square + sub → resonant 24 dB low-pass with its own
//! envelope → amplifier, with glide on slides and accents that open the filter.

use super::dsp::{
    SvfLowPass, db_to_gain, decay_coef, poly_blep, sin_cycles, smooth_coef, soft_clip,
};
use super::params::BassTimbre;

/// Frames between filter coefficient updates (the envelope is far slower than this).
const CONTROL_FRAMES: u32 = 16;
/// Output level of a full-velocity note before the mixer.
const HEADROOM: f32 = 0.45;

/// The bass synth voice.
#[derive(Debug, Clone)]
pub struct BassSynth {
    sample_rate: f32,
    inv_sr: f32,
    timbre: BassTimbre,
    phase: f32,
    sub_phase: f32,
    hz: f32,
    target_hz: f32,
    glide_coef: f32,
    gate: bool,
    amp: f32,
    amp_target: f32,
    amp_coef: f32,
    sustain_coef: f32,
    fenv: f32,
    fenv_coef: f32,
    accent: f32,
    filter: [SvfLowPass; 2],
    control_countdown: u32,
    silent: bool,
}

impl BassSynth {
    /// A silent synth at `sample_rate`.
    pub fn new(sample_rate: f32) -> Self {
        BassSynth {
            sample_rate,
            inv_sr: 1.0 / sample_rate,
            timbre: BassTimbre::default(),
            phase: 0.0,
            sub_phase: 0.0,
            hz: 55.0,
            target_hz: 55.0,
            glide_coef: 1.0,
            gate: false,
            amp: 0.0,
            amp_target: 0.0,
            amp_coef: smooth_coef(0.002, sample_rate),
            sustain_coef: 1.0,
            fenv: 0.0,
            fenv_coef: 0.0,
            accent: 0.0,
            filter: [SvfLowPass::default(); 2],
            control_countdown: 0,
            silent: true,
        }
    }

    /// Takes new sound settings (they apply at once).
    pub fn set_timbre(&mut self, timbre: BassTimbre) {
        self.timbre = timbre;
        self.sustain_coef = decay_coef(timbre.amp_decay_s.max(0.05), self.sample_rate);
        self.fenv_coef = decay_coef(timbre.env_decay_s.max(0.01), self.sample_rate);
    }

    /// Starts a note. A `slide` keeps the envelopes running and glides to the new pitch.
    pub fn note_on(&mut self, midi: u8, velocity: f32, accent: bool, slide: bool) {
        self.target_hz = 440.0 * 2f32.powf((f32::from(midi) - 69.0) / 12.0);
        let accent_level = if accent { self.timbre.accent } else { 0.0 };
        if slide && self.gate {
            self.glide_coef = smooth_coef(self.timbre.glide_s.max(1e-4) / 3.0, self.sample_rate);
        } else {
            self.hz = self.target_hz;
            self.glide_coef = 1.0;
            self.fenv = 1.0;
            self.accent = accent_level;
            self.amp_coef = smooth_coef(0.002, self.sample_rate);
        }
        if self.silent {
            self.silent = false;
            self.phase = 0.0;
            self.sub_phase = 0.0;
            self.control_countdown = 0;
        }
        let v = velocity.clamp(0.0, 1.0);
        self.amp_target = HEADROOM * (0.4 + 0.6 * v) * db_to_gain(6.0 * accent_level);
        self.gate = true;
    }

    /// Releases the current note.
    pub fn note_off(&mut self) {
        self.gate = false;
        self.amp_target = 0.0;
        self.amp_coef = smooth_coef(0.012, self.sample_rate);
    }

    fn update_filter(&mut self) {
        let t = &self.timbre;
        let octaves = self.fenv * (t.env_amount * 5.0 + self.accent * 2.0);
        let cutoff = t.cutoff_hz * 2f32.powf(octaves);
        let q = 0.5 + t.resonance * (6.0 + 4.0 * self.accent);
        self.filter[0].set(cutoff, q, self.sample_rate);
        self.filter[1].set(cutoff, 0.6, self.sample_rate);
    }

    /// Adds `out.len()` samples of the bass to `out`.
    ///
    /// Work goes one control period (at most `CONTROL_FRAMES` samples, filter settings
    /// fixed) at a time, in three short loops: the oscillators; the filters and the amplifier
    /// envelope; drive and saturation, on whole vectors. Each loop's sample-to-sample
    /// dependency chains are short and independent, so the processor overlaps samples; the
    /// arithmetic per sample is that of one long loop.
    pub fn render(&mut self, out: &mut [f32]) {
        if self.silent {
            return;
        }
        let fenv_block = self.fenv_coef.powi(CONTROL_FRAMES as i32);
        let drive_in = 1.0 + 3.0 * self.timbre.drive;
        let drive_out = 1.0 / (1.0 + self.timbre.drive);
        let mut low = [0.0f32; CONTROL_FRAMES as usize];
        let mut amp = [0.0f32; CONTROL_FRAMES as usize];
        let mut done = 0;
        while done < out.len() {
            if self.control_countdown == 0 {
                self.update_filter();
                self.fenv *= fenv_block;
                self.control_countdown = CONTROL_FRAMES;
            }
            let n = (self.control_countdown as usize).min(out.len() - done);
            self.control_countdown -= n as u32;
            let (low, amp) = (&mut low[..n], &mut amp[..n]);
            self.oscillators(low);
            let sounding = self.filter_and_envelope(low, amp);
            // Drive and saturation: no state, so they run on whole vectors.
            for ((o, x), a) in out[done..done + sounding].iter_mut().zip(&*low).zip(&*amp) {
                *o += soft_clip(x * drive_in) * drive_out * a;
            }
            if self.silent {
                return;
            }
            done += n;
        }
    }

    /// The saw / square and sub oscillators (with glide) for `out.len()` (at most
    /// [`CONTROL_FRAMES`]) samples: the phases sample by sample, then the wave shapes, which
    /// carry no state, on whole vectors.
    #[inline]
    fn oscillators(&mut self, out: &mut [f32]) {
        let n = out.len();
        let mut phase = [0.0f32; CONTROL_FRAMES as usize];
        let mut step = [0.0f32; CONTROL_FRAMES as usize];
        let mut sub_phase = [0.0f32; CONTROL_FRAMES as usize];
        for ((p, dt), sp) in phase[..n]
            .iter_mut()
            .zip(&mut step[..n])
            .zip(&mut sub_phase[..n])
        {
            // Off a slide the pitch sits on its target: nothing to glide.
            if self.hz != self.target_hz {
                self.hz += self.glide_coef * (self.target_hz - self.hz);
            }
            *dt = self.hz * self.inv_sr;
            self.phase += *dt;
            if self.phase >= 1.0 {
                self.phase -= 1.0;
            }
            self.sub_phase += *dt * 0.5;
            if self.sub_phase >= 1.0 {
                self.sub_phase -= 1.0;
            }
            (*p, *sp) = (self.phase, self.sub_phase);
        }
        let (wave, sub) = (self.timbre.wave, self.timbre.sub);
        for (((o, &p), &dt), &sp) in out.iter_mut().zip(&phase).zip(&step).zip(&sub_phase) {
            let saw = 2.0 * p - 1.0 - poly_blep(p, dt);
            let p2 = if p < 0.5 { p + 0.5 } else { p - 0.5 };
            let square = if p < 0.5 { 1.0 } else { -1.0 } + poly_blep(p, dt) - poly_blep(p2, dt);
            *o = saw * (1.0 - wave) + square * wave * 0.8 + sin_cycles(sp) * sub;
        }
    }

    /// Filters the oscillators' `osc` (in place) and runs the amplifier envelope into `amp`.
    /// Returns how many samples sound: all of them, or up to and including the one where the
    /// voice fell silent (it stops at that exact sample, whatever the block size: renders
    /// stay independent of how the host slices time).
    #[inline]
    fn filter_and_envelope(&mut self, osc: &mut [f32], amp: &mut [f32]) -> usize {
        for (k, (x, a)) in osc.iter_mut().zip(amp.iter_mut()).enumerate() {
            let low = self.filter[0].tick(*x);
            *x = self.filter[1].tick(low);
            if self.gate {
                self.amp_target *= self.sustain_coef;
            }
            self.amp += self.amp_coef * (self.amp_target - self.amp);
            *a = self.amp;
            if !self.gate && self.amp < 1e-5 {
                self.amp = 0.0;
                self.filter = [SvfLowPass::default(); 2];
                self.silent = true;
                return k + 1;
            }
        }
        osc.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rms(buf: &[f32]) -> f32 {
        (buf.iter().map(|x| x * x).sum::<f32>() / buf.len() as f32).sqrt()
    }

    #[test]
    fn note_sounds_and_releases() {
        let mut b = BassSynth::new(48_000.0);
        b.set_timbre(BassTimbre::default());
        b.note_on(33, 0.8, false, false);
        let mut on = vec![0.0; 9_600];
        b.render(&mut on);
        b.note_off();
        let mut off = vec![0.0; 9_600];
        b.render(&mut off);
        assert!(rms(&on) > 0.05);
        assert!(rms(&off[4_800..]) < 1e-4);
    }

    #[test]
    fn accent_is_louder() {
        let level = |accent| {
            let mut b = BassSynth::new(48_000.0);
            b.set_timbre(BassTimbre::default());
            b.note_on(40, 1.0, accent, false);
            let mut buf = vec![0.0; 4_800];
            b.render(&mut buf);
            rms(&buf)
        };
        assert!(level(true) > level(false) * 1.2);
    }

    #[test]
    fn the_sound_does_not_depend_on_how_time_is_sliced() {
        // (frame, note or release): notes, a slide (no release before it), a long release.
        let events: [(usize, Option<u8>); 6] = [
            (0, Some(33)),
            (2_999, None),
            (6_001, Some(40)),
            (9_000, Some(45)),
            (12_345, None),
            (20_000, Some(28)),
        ];
        let play = |chunk: usize| {
            let mut b = BassSynth::new(48_000.0);
            b.set_timbre(BassTimbre::default());
            let mut out = vec![0.0f32; 24_000];
            let mut next = 0;
            for (i, block) in out.chunks_mut(chunk).enumerate() {
                let (start, end) = (i * chunk, i * chunk + block.len());
                let mut at = start;
                while next < events.len() && events[next].0 < end {
                    let (frame, what) = events[next];
                    b.render(&mut block[at - start..frame - start]);
                    match what {
                        Some(note) => b.note_on(note, 0.8, frame == 0, frame == 9_000),
                        None => b.note_off(),
                    }
                    (at, next) = (frame, next + 1);
                }
                b.render(&mut block[at - start..]);
            }
            out
        };
        let whole = play(24_000);
        assert!(rms(&whole) > 0.01);
        for chunk in [1, 3, 7, 16, 17, 256] {
            let sliced = play(chunk);
            let same = whole
                .iter()
                .zip(&sliced)
                .all(|(a, b)| a.to_bits() == b.to_bits());
            assert!(same, "{chunk}-sample blocks sound different");
        }
    }

    #[test]
    fn slide_glides_without_retrigger() {
        let mut b = BassSynth::new(48_000.0);
        b.set_timbre(BassTimbre::default());
        b.note_on(33, 0.8, false, false);
        let mut buf = vec![0.0; 4_800];
        b.render(&mut buf);
        let fenv = b.fenv;
        b.note_on(45, 0.8, false, true);
        assert_eq!(b.fenv, fenv);
        b.render(&mut buf[..48]);
        assert!(b.hz > 55.0 && b.hz < 110.0);
    }
}
