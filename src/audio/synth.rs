//! The whole audio graph as one value: sequencer → drum machine and bass synth → mixer.
//!
//! Used as is by every backend (device, silent clock, offline render), so what a test
//! renders is exactly what the audience hears.

use super::bass::BassSynth;
use super::deck::{Deck, DeckBuffer, DeckControl, DeckPosition};
use super::drums::DrumMachine;
use super::kit::SampleKit;
use super::loop_player::LoopSet;
use super::loop_player::{LoopBuffer, LoopCue, LoopPlayers};
use super::mixer::{Mixer, Peaks};
use super::params::{Params, Track};
use super::plan::{CyclePlan, EventKind};
use super::sequencer::{Position, Sequencer};

/// Frames rendered per internal block; host buffers of any size are split into these.
pub const MAX_BLOCK: usize = 256;

/// A buffer the graph lets go of; the control side frees it.
#[derive(Debug)]
pub enum Garbage {
    /// A loop buffer that no longer plays.
    Loop(Box<LoopBuffer>),
    /// A record taken off the deck.
    Deck(Box<DeckBuffer>),
    /// A live input the deck no longer reads.
    Input(rtrb::Consumer<f32>),
    /// A sample kit that no longer plays.
    Kit(Box<SampleKit>),
}

/// Receives, while the graph renders, what it lets go of and the events it plays.
pub trait RenderSink {
    /// Takes a buffer the graph no longer uses (must not free it on the audio thread).
    fn release(&mut self, garbage: Garbage);
    /// An event the sequencer plays at `frame` (a cycle lasts 32 steps of `samples_per_step`).
    /// Offline renders record these to write MIDI files; the audio thread ignores them.
    fn event(&mut self, frame: i64, kind: EventKind, samples_per_step: f64) {
        let _ = (frame, kind, samples_per_step);
    }
}

/// The audio graph.
#[derive(Debug)]
pub struct Synth {
    seq: Sequencer,
    drums: DrumMachine,
    bass: BassSynth,
    mixer: Mixer,
    drum_buf: Vec<f32>,
    bass_buf: Vec<f32>,
    loops: LoopPlayers,
    loop_bufs: [Vec<f32>; LoopSet::COUNT],
    deck: Deck,
    deck_buf: Vec<f32>,
    /// Where a cycle that starts after the start lead begins: the loops start with it there.
    first_at: Option<i64>,
}

impl Synth {
    /// A silent graph at `sample_rate`; `seed` fixes every noise source.
    pub fn new(sample_rate: f32, seed: u64) -> Self {
        let mut synth = Synth {
            seq: Sequencer::new(sample_rate),
            drums: DrumMachine::new(sample_rate, seed),
            bass: BassSynth::new(sample_rate),
            mixer: Mixer::new(sample_rate),
            drum_buf: vec![0.0; MAX_BLOCK],
            bass_buf: vec![0.0; MAX_BLOCK],
            loops: LoopPlayers::new(sample_rate),
            loop_bufs: std::array::from_fn(|_| vec![0.0; MAX_BLOCK]),
            deck: Deck::new(sample_rate),
            deck_buf: vec![0.0; MAX_BLOCK],
            first_at: None,
        };
        synth.set_params(&Params::default());
        synth
    }

    /// Queues a cycle (see [`Sequencer::queue`]); false when it missed its boundary.
    pub fn queue_cycle(&mut self, plan: CyclePlan) -> bool {
        if self.seq.is_stopped() {
            return self.seq.queue(plan);
        }
        let started = !self.seq.is_playing();
        if started && let Some(params) = plan.params() {
            self.set_params(params);
        }
        let on_time = self.seq.queue(plan);
        if started {
            self.start_first_cycle(&mut |b| std::mem::forget(b));
        }
        on_time
    }

    /// Lets the transport start `frames` after a plan arrives (see
    /// [`Sequencer::set_start_lead`]); live output only, renders start at once.
    pub fn set_start_lead(&mut self, frames: u32) {
        self.seq.set_start_lead(frames);
    }

    /// The first cycle (or the first after a restart) was just queued: it starts now, or at
    /// its frame after the start lead, where [`Synth::render`] starts it.
    fn start_first_cycle(&mut self, release: &mut impl FnMut(Garbage)) {
        let at = self.seq.position().cycle_start.round() as i64;
        if at > self.seq.frame() {
            self.first_at = Some(at);
        } else {
            // Nothing plays or fades at a first start, so nothing is let go (nor freed here).
            self.first_cycle(release);
        }
    }

    /// A cycle that starts with no boundary event (the first, or after a restart): the tempo
    /// and the loops start with it here.
    fn first_cycle(&mut self, release: &mut impl FnMut(Garbage)) {
        if let Some(cut) = self.drums.switch_kit() {
            release(Garbage::Kit(cut));
        }
        let sps = self.seq.position().samples_per_step;
        self.mixer.set_samples_per_step(sps);
        let cycle = (sps * crate::pattern::STEPS as f64).round() as usize;
        self.loops.cycle_start(cycle, |b| release(Garbage::Loop(b)));
    }

    /// Stops the transport: the bass lets go, the loops fall silent, tails ring out; cycles
    /// queued meanwhile wait.
    pub fn stop(&mut self) {
        self.seq.stop();
        self.bass.note_off();
        self.first_at = None;
    }

    /// Starts the transport again (from the top when it plays) with a new cycle now (after the start lead); buffers the loops let go go to `sink`.
    /// False when nothing was ever queued.
    pub fn restart(&mut self, sink: &mut impl RenderSink) -> bool {
        if !self.seq.is_stopped() {
            self.stop();
        }
        if !self.seq.restart() {
            return false;
        }
        if let Some(params) = self.seq.current_plan().params().copied() {
            self.set_params(&params);
        }
        self.start_first_cycle(&mut |g| sink.release(g));
        true
    }

    /// Queues a loop cue for `set` from the next cycle boundary; returns a buffer it displaced.
    pub fn cue_loop(&mut self, set: LoopSet, cue: LoopCue) -> Option<Box<LoopBuffer>> {
        self.loops.cue(set, cue)
    }

    /// Plays `kit` (none: the synthesized voices) from the next cycle boundary, or at once
    /// while the transport has not started; returns a kit it lets go.
    pub fn load_kit(&mut self, kit: Option<Box<SampleKit>>) -> Option<Box<SampleKit>> {
        let displaced = self.drums.queue_kit(kit);
        if self.seq.is_playing() {
            return displaced;
        }
        // Not playing: nothing waits for a boundary. At most one of the two is a kit here
        // (a displaced one was queued and never played).
        self.drums.switch_kit().or(displaced)
    }

    /// Name of the sample kit that plays (none: the synthesized voices).
    pub fn kit_name(&self) -> Option<&str> {
        self.drums.kit_name()
    }

    /// Puts a record on the deck (stopped, at its start); returns the one it replaces.
    pub fn load_deck(&mut self, record: Option<Box<DeckBuffer>>) -> Option<Box<DeckBuffer>> {
        self.deck.load(record)
    }

    /// Plays, stops, cues, nudges or pitches the deck.
    pub fn control_deck(&mut self, control: DeckControl) {
        self.deck.control(control);
    }

    /// Takes the live input of the deck (mono samples at the graph's rate); returns the one it
    /// replaces.
    pub fn set_deck_input(&mut self, input: rtrb::Consumer<f32>) -> Option<rtrb::Consumer<f32>> {
        self.deck.set_input(input)
    }

    /// Where the deck is.
    pub fn deck_position(&self) -> DeckPosition {
        self.deck.position()
    }

    /// Name of the loop `set` plays now.
    pub fn playing_loop(&self, set: LoopSet) -> Option<&str> {
        self.loops.playing(set)
    }

    /// Takes new sound, mixer and effect settings now. They are the newest: a queued cycle
    /// that was to bring settings at its start brings these (a scene's mix waits for its
    /// cycle; a `solo` given after it must not be undone when that cycle starts).
    pub fn apply_params(&mut self, params: &Params) {
        self.set_params(params);
        self.seq.refresh_params(params);
    }

    fn set_params(&mut self, params: &Params) {
        self.drums.set_timbre(params.drums);
        self.bass.set_timbre(params.bass);
        self.mixer.set(&params.mix, &params.effects);
    }

    /// Output latency in frames added by the master limiter's look-ahead.
    pub fn latency(&self) -> usize {
        self.mixer.latency()
    }

    /// Whether a cycle has been queued and plays.
    pub fn is_playing(&self) -> bool {
        self.seq.is_playing()
    }

    /// Where the playhead is.
    pub fn position(&self) -> Position {
        self.seq.position()
    }

    /// Peak levels of the last block.
    pub fn peaks(&self) -> Peaks {
        self.mixer.peaks()
    }

    /// Renders interleaved stereo into `out` (`2 × frames` samples, any length). Buffers the
    /// players let go and the events played go to `sink`.
    pub fn render(&mut self, out: &mut [f32], sink: &mut impl RenderSink) {
        for chunk in out.chunks_mut(MAX_BLOCK * 2) {
            self.render_block(chunk, sink);
        }
    }

    fn render_block(&mut self, out: &mut [f32], sink: &mut impl RenderSink) {
        let n = out.len() / 2;
        self.drum_buf[..n].fill(0.0);
        self.bass_buf[..n].fill(0.0);
        for b in &mut self.loop_bufs {
            b[..n].fill(0.0);
        }
        self.mixer.reset_peaks();
        let start = self.seq.frame();
        let end = start + n as i64;
        let mut pos = 0usize;
        if let Some(at) = self.first_at.filter(|&at| at < end) {
            // The lead ends in this block: silence (and tails) up to the downbeat, then the
            // loops start with the cycle. Every event of the cycle comes at or after it.
            pos = (at - start).max(0) as usize;
            self.render_span(out, 0, pos, sink);
            self.first_at = None;
            self.first_cycle(&mut |g| sink.release(g));
        }
        while let Some((frame, event)) = self.seq.next_event(end) {
            let at = (frame - start) as usize;
            if at > pos {
                self.render_span(out, pos, at, sink);
                pos = at;
            }
            sink.event(frame, event, self.seq.position().samples_per_step);
            match event {
                EventKind::Drum { voice, velocity } => self.drums.trigger(voice, velocity),
                EventKind::BassOn {
                    note,
                    velocity,
                    accent,
                    slide,
                } => self.bass.note_on(note, velocity, accent, slide),
                EventKind::BassOff => self.bass.note_off(),
                EventKind::CycleStart => {
                    if let Some(params) = self.seq.current_plan().params().copied() {
                        self.set_params(&params);
                    }
                    if let Some(cut) = self.drums.switch_kit() {
                        sink.release(Garbage::Kit(cut));
                    }
                    let sps = self.seq.position().samples_per_step;
                    self.mixer.set_samples_per_step(sps);
                    let cycle = (sps * crate::pattern::STEPS as f64).round() as usize;
                    self.loops
                        .cycle_start(cycle, |b| sink.release(Garbage::Loop(b)));
                }
            }
        }
        self.render_span(out, pos, n, sink);
        self.seq.advance_to(end);
    }

    /// Renders frames `from..to` of the block: voices, then the mixer, so that every event
    /// (including tempo and settings changes at a cycle start) lands at its exact frame.
    fn render_span(&mut self, out: &mut [f32], from: usize, to: usize, sink: &mut impl RenderSink) {
        self.drums.render(&mut self.drum_buf[from..to]);
        if let Some(done) = self.drums.take_retired() {
            sink.release(Garbage::Kit(done));
        }
        self.bass.render(&mut self.bass_buf[from..to]);
        if to > from && self.seq.is_playing() && self.first_at.is_none() {
            let [a, b, c, d] = &mut self.loop_bufs;
            let mut outs = [
                &mut a[from..to],
                &mut b[from..to],
                &mut c[from..to],
                &mut d[from..to],
            ];
            self.loops
                .render(&mut outs, to - from, |b| sink.release(Garbage::Loop(b)));
        }
        self.deck.render(&mut self.deck_buf[from..to]);
        let mut tracks: [&[f32]; Track::COUNT] = [&[]; Track::COUNT];
        tracks[Track::Drums.index()] = &self.drum_buf[from..to];
        tracks[Track::Bass.index()] = &self.bass_buf[from..to];
        for set in LoopSet::ALL {
            tracks[set.track().index()] = &self.loop_bufs[set.index()][from..to];
        }
        tracks[Track::Deck.index()] = &self.deck_buf[from..to];
        self.mixer.process(tracks, &mut out[2 * from..2 * to]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pattern::{Bassline, DrumPattern};

    struct Drop;

    impl RenderSink for Drop {
        fn release(&mut self, _: Garbage) {}
    }

    /// A graph with a cycle of a sine cued as the music loop.
    fn synth(lead: u32) -> Synth {
        let mut synth = Synth::new(48_000.0, 1);
        synth.set_start_lead(lead);
        let samples = (0..192_000)
            .map(|i| (i as f32 * 0.05).sin() * 0.5)
            .collect();
        let buffer = LoopBuffer {
            samples,
            tempo_bpm: 120.0,
            name: "sine".into(),
        };
        synth.cue_loop(LoopSet::Music, LoopCue::Play(Box::new(buffer)));
        synth
    }

    fn plan() -> CyclePlan {
        let mut drums = DrumPattern::new();
        drums.set(
            crate::pattern::Voice::Kick,
            0,
            crate::pattern::DrumCell::hit(1.0, 0.0),
        );
        CyclePlan::new(&drums, &Bassline::default(), 45, 120.0, 50.0)
    }

    fn render(synth: &mut Synth, frames: usize) -> Vec<f32> {
        let mut out = vec![0.0; 2 * frames];
        for block in out.chunks_mut(2 * 256) {
            synth.render(block, &mut Drop);
        }
        out
    }

    #[test]
    fn a_start_lead_is_the_same_as_queueing_that_much_later() {
        for lead in [1_024, 1_000] {
            let mut late = synth(lead as u32);
            late.queue_cycle(plan());
            let late = render(&mut late, 24_000);
            let mut now = synth(0);
            let mut out = render(&mut now, lead);
            now.queue_cycle(plan());
            out.extend(render(&mut now, 24_000 - lead));
            assert!(late[..2 * lead].iter().all(|&x| x == 0.0), "silent lead");
            assert!(
                late.iter().any(|x| x.abs() > 0.01),
                "the kick and the loop sound"
            );
            assert_eq!(late, out, "lead {lead}");
        }
    }

    /// A kit whose kick is a steady 1 kHz tone.
    fn tone_kit() -> Box<SampleKit> {
        let mut voices: [super::super::kit::KitVoice; crate::pattern::Voice::COUNT] =
            Default::default();
        voices[0].layers = vec![super::super::kit::Layer::new(0.0, 1.0, vec![0])];
        Box::new(SampleKit {
            name: "tone".into(),
            sample_rate: 48_000,
            samples: vec![super::super::kit::Sample {
                name: "tone".into(),
                frames: (0..24_000)
                    .map(|i| (std::f32::consts::TAU * 1_000.0 * i as f32 / 48_000.0).sin())
                    .collect(),
            }],
            voices,
        })
    }

    #[test]
    fn a_kit_handed_over_mid_cycle_plays_from_the_next_boundary() {
        // 120 BPM: a cycle (two bars) is 4 s, 192,000 frames; the kick opens each one.
        let mut plain = Synth::new(48_000.0, 1);
        let mut kit = Synth::new(48_000.0, 1);
        plain.queue_cycle(plan());
        kit.queue_cycle(plan());
        let (a, b) = (render(&mut plain, 96_000), render(&mut kit, 96_000));
        assert_eq!(a, b);
        assert!(kit.load_kit(Some(tone_kit())).is_none());
        assert_eq!(kit.kit_name(), None, "waits for the boundary");
        plain.queue_cycle(plan());
        kit.queue_cycle(plan());
        let (a, b) = (render(&mut plain, 95_999), render(&mut kit, 95_999));
        assert_eq!(a, b, "the synthesized kick rings on to the boundary");
        let (a, b) = (render(&mut plain, 4_800), render(&mut kit, 4_800));
        assert_eq!(kit.kit_name(), Some("tone"));
        assert_ne!(a, b, "the kit's kick opens the next cycle");
        // A stopped graph takes a kit at once.
        let mut stopped = Synth::new(48_000.0, 1);
        stopped.load_kit(Some(tone_kit()));
        assert_eq!(stopped.kit_name(), Some("tone"));
        assert!(stopped.load_kit(None).is_none(), "the old kit rings out");
        assert_eq!(stopped.kit_name(), None);
    }
}
