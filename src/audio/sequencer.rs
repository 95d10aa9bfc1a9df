//! The sample-accurate sequencer.
//!
//! It keeps three cycle slots: the previous one (for hits pushed late across the boundary),
//! the current one, and the next one (for hits pushed early across the boundary). A plan
//! queued while playing replaces the next cycle as long as none of its events has sounded;
//! otherwise it waits for the cycle after. With nothing queued, the current cycle repeats.
//! Tempo belongs to the plan, so a tempo change lands exactly on a cycle boundary.

use super::params::Params;
use super::plan::{CyclePlan, EventKind};
use crate::pattern::STEPS;

#[derive(Debug, Clone, Copy, Default)]
struct Slot {
    plan: CyclePlan,
    start: f64,
    samples_per_step: f64,
    cursor: usize,
}

impl Slot {
    fn event_frame(&self, i: usize) -> i64 {
        let t = f64::from(self.plan.events()[i].time);
        (self.start + t * self.samples_per_step).round() as i64
    }

    fn peek(&self) -> Option<i64> {
        (self.cursor < self.plan.events().len()).then(|| self.event_frame(self.cursor))
    }

    fn end(&self) -> f64 {
        self.start + STEPS as f64 * self.samples_per_step
    }

    /// Skips events that should already have sounded before `frame`.
    fn skip_before(&mut self, frame: i64) {
        while self.peek().is_some_and(|f| f < frame) {
            self.cursor += 1;
        }
    }
}

/// Where the playhead is.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Position {
    /// Cycles completed since the start.
    pub cycle: u64,
    /// Position within the current cycle in steps, 0..32.
    pub step: f64,
    /// Tempo of the current cycle.
    pub tempo_bpm: f32,
    /// Samples per step of the current cycle.
    pub samples_per_step: f64,
    /// Frame (fractional) at which the current cycle started.
    pub cycle_start: f64,
}

/// The sequencer: turns queued plans into events at exact frames.
#[derive(Debug, Clone)]
pub struct Sequencer {
    sample_rate: f64,
    slots: [Slot; 3],
    prev: usize,
    cur: usize,
    next: usize,
    next_committed: bool,
    pending: Option<CyclePlan>,
    playing: bool,
    stopped: bool,
    frame: i64,
    cycle: u64,
    start_lead: i64,
}

impl Sequencer {
    /// A stopped sequencer.
    pub fn new(sample_rate: f32) -> Self {
        Sequencer {
            sample_rate: f64::from(sample_rate),
            slots: [Slot::default(); 3],
            prev: 0,
            cur: 1,
            next: 2,
            next_committed: false,
            pending: None,
            playing: false,
            stopped: false,
            frame: 0,
            cycle: 0,
            start_lead: 0,
        }
    }

    /// Lets the transport start `frames` after a plan arrives instead of at once, so what
    /// follows the audio (MIDI out learns where a cycle starts from the audio's published
    /// position) can place the downbeat on time too.
    pub fn set_start_lead(&mut self, frames: u32) {
        self.start_lead = i64::from(frames);
    }

    /// Stops the transport: no more events until [`Sequencer::restart`]; plans queued
    /// meanwhile wait for it.
    pub fn stop(&mut self) {
        if self.playing {
            self.pending = self.pending.or(Some(self.slots[self.next].plan));
        }
        self.playing = false;
        self.stopped = true;
    }

    /// Whether the transport was stopped.
    pub fn is_stopped(&self) -> bool {
        self.stopped
    }

    /// Starts the transport again: a new cycle begins now with the plan that was to come
    /// next. Returns false when there is none (nothing was ever queued).
    pub fn restart(&mut self) -> bool {
        let Some(plan) = self.pending.take() else {
            return false;
        };
        self.stopped = false;
        self.playing = false;
        self.next_committed = false;
        self.queue(plan);
        self.cycle += 1;
        true
    }

    fn samples_per_step(&self, plan: &CyclePlan) -> f64 {
        self.sample_rate * 60.0 / f64::from(plan.tempo_bpm()) / 4.0
    }

    fn set_slot(&mut self, index: usize, plan: CyclePlan, start: f64) {
        let sps = self.samples_per_step(&plan);
        let slot = &mut self.slots[index];
        slot.plan = plan;
        slot.start = start;
        slot.samples_per_step = sps;
        slot.cursor = 0;
        slot.skip_before(self.frame);
    }

    /// Queues a plan: while stopped it waits for [`Sequencer::restart`]; when nothing plays yet
    /// it starts at once (after the start lead); else at the next free cycle boundary.
    /// Returns false when the plan came too late for the next boundary (the next cycle had
    /// already begun to sound) and waits for the one after.
    pub fn queue(&mut self, plan: CyclePlan) -> bool {
        if self.stopped {
            self.pending = Some(plan);
            true
        } else if !self.playing {
            self.playing = true;
            self.set_slot(self.cur, plan, (self.frame + self.start_lead) as f64);
            let start = self.slots[self.cur].end();
            self.set_slot(self.next, plan, start);
            self.slots[self.prev].cursor = usize::MAX;
            true
        } else if !self.next_committed {
            let start = self.slots[self.cur].end();
            self.set_slot(self.next, plan, start);
            true
        } else {
            self.pending = Some(plan);
            false
        }
    }

    /// Newer settings for the cycles still to come: a queued plan that brings settings at its
    /// start brings these instead (they were made after it).
    pub fn refresh_params(&mut self, params: &Params) {
        if self.playing {
            self.slots[self.next].plan.refresh_params(params);
        }
        if let Some(plan) = &mut self.pending {
            plan.refresh_params(params);
        }
    }

    /// Whether a plan has been queued yet.
    pub fn is_playing(&self) -> bool {
        self.playing
    }

    fn rotate(&mut self) {
        let start = self.slots[self.next].start;
        let (old_prev, cur, next) = (self.prev, self.cur, self.next);
        self.prev = cur;
        self.cur = next;
        self.next = old_prev;
        let plan = self
            .pending
            .take()
            .unwrap_or_else(|| self.slots[self.cur].plan.repeated());
        let next_start = start + STEPS as f64 * self.slots[self.cur].samples_per_step;
        self.set_slot(self.next, plan, next_start);
        self.next_committed = false;
        self.cycle += 1;
    }

    /// The next event before frame `end` (exclusive), with its frame; handles cycle
    /// boundaries on the way. Call repeatedly, then [`Sequencer::advance_to`].
    pub fn next_event(&mut self, end: i64) -> Option<(i64, EventKind)> {
        if !self.playing {
            return None;
        }
        let boundary = self.slots[self.next].start.round() as i64;
        let mut best: Option<(usize, i64)> = None;
        for index in [self.prev, self.cur, self.next] {
            let slot = &self.slots[index];
            if slot.cursor == usize::MAX {
                continue;
            }
            if let Some(f) = slot.peek()
                && best.is_none_or(|(_, b)| f < b)
            {
                best = Some((index, f));
            }
        }
        if boundary < end && best.is_none_or(|(_, f)| boundary <= f) {
            self.rotate();
            return Some((boundary.max(self.frame), EventKind::CycleStart));
        }
        let (index, frame) = best?;
        if frame >= end {
            return None;
        }
        let slot = &mut self.slots[index];
        let kind = slot.plan.events()[slot.cursor].kind;
        slot.cursor += 1;
        if index == self.next {
            self.next_committed = true;
        }
        Some((frame.max(self.frame), kind))
    }

    /// Moves the playhead to `frame` (after all events before it were taken).
    pub fn advance_to(&mut self, frame: i64) {
        self.frame = frame;
    }

    /// The absolute frame of the playhead.
    pub fn frame(&self) -> i64 {
        self.frame
    }

    /// The plan of the cycle that is playing.
    pub fn current_plan(&self) -> &CyclePlan {
        &self.slots[self.cur].plan
    }

    /// Where the playhead is, for displays.
    pub fn position(&self) -> Position {
        let slot = &self.slots[self.cur];
        let step = if self.playing {
            ((self.frame as f64 - slot.start) / slot.samples_per_step).clamp(0.0, STEPS as f64)
        } else {
            0.0
        };
        Position {
            cycle: self.cycle,
            step,
            tempo_bpm: slot.plan.tempo_bpm(),
            samples_per_step: slot.samples_per_step,
            cycle_start: slot.start,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pattern::{Bassline, DrumCell, DrumPattern, Voice};

    fn plan(tempo: f32, offset: f32) -> CyclePlan {
        let mut p = DrumPattern::new();
        p.set(Voice::Kick, 0, DrumCell::hit(1.0, offset));
        p.set(Voice::Snare, 8, DrumCell::hit(1.0, 0.0));
        CyclePlan::new(&p, &Bassline::default(), 33, tempo, 50.0)
    }

    fn collect(seq: &mut Sequencer, frames: i64, block: i64) -> Vec<i64> {
        let mut out = Vec::new();
        let mut f = seq.frame();
        while f < frames {
            let end = (f + block).min(frames);
            while let Some((at, kind)) = seq.next_event(end) {
                if kind != EventKind::CycleStart {
                    out.push(at);
                }
            }
            seq.advance_to(end);
            f = end;
        }
        out
    }

    #[test]
    fn repeats_and_block_size_does_not_matter() {
        // 120 BPM at 48 kHz: 6000 samples per step.
        let mut a = Sequencer::new(48_000.0);
        a.queue(plan(120.0, 0.0));
        let mut b = a.clone();
        let ea = collect(&mut a, 400_000, 256);
        let eb = collect(&mut b, 400_000, 999);
        assert_eq!(ea, eb);
        assert_eq!(ea, vec![0, 48_000, 192_000, 240_000, 384_000]);
    }

    #[test]
    fn a_start_lead_moves_the_first_cycle_and_every_cycle_after() {
        let mut s = Sequencer::new(48_000.0);
        s.set_start_lead(1_440);
        s.advance_to(10_000);
        s.queue(plan(120.0, 0.0));
        assert!(s.is_playing());
        assert_eq!(s.position().cycle_start, 11_440.0);
        assert_eq!(s.position().step, 0.0);
        let events = collect(&mut s, 300_000, 256);
        assert_eq!(events, vec![11_440, 59_440, 203_440, 251_440]);
    }

    #[test]
    fn early_hit_sounds_before_the_boundary() {
        let mut s = Sequencer::new(48_000.0);
        s.queue(plan(120.0, 0.0));
        let first = collect(&mut s, 100_000, 512);
        assert_eq!(first, vec![0, 48_000]);
        s.queue(plan(120.0, -0.25));
        let rest = collect(&mut s, 250_000, 512);
        assert_eq!(rest, vec![192_000 - 1_500, 240_000]);
    }

    #[test]
    fn tempo_change_lands_on_the_boundary() {
        let mut s = Sequencer::new(48_000.0);
        s.queue(plan(120.0, 0.0));
        collect(&mut s, 10_000, 256);
        s.queue(plan(60.0, 0.0));
        let events = collect(&mut s, 192_000 + 12_000 * 9, 256);
        assert_eq!(events, vec![48_000, 192_000, 192_000 + 96_000]);
        assert_eq!(s.position().tempo_bpm, 60.0);
    }

    #[test]
    fn stop_silences_and_restart_begins_a_cycle_now() {
        let mut s = Sequencer::new(48_000.0);
        s.queue(plan(120.0, 0.0));
        collect(&mut s, 50_000, 256);
        s.stop();
        assert!(collect(&mut s, 300_000, 256).is_empty());
        s.queue(plan(60.0, 0.0));
        assert!(
            collect(&mut s, 310_000, 256).is_empty(),
            "a plan waits while stopped"
        );
        assert!(s.restart());
        let cycle = s.position().cycle;
        let events = collect(&mut s, 310_000 + 100_000, 256);
        assert_eq!(events, vec![310_000, 310_000 + 96_000]);
        assert_eq!(s.position().tempo_bpm, 60.0);
        assert_eq!(s.position().cycle, cycle);
        assert!(!Sequencer::new(48_000.0).restart());
    }

    #[test]
    fn late_queue_waits_for_the_following_cycle() {
        let mut s = Sequencer::new(48_000.0);
        s.queue(plan(120.0, -0.25));
        // The first cycle's early kick lies before the start and is skipped; the repeat's
        // early kick sounds before the boundary and commits the next cycle.
        assert_eq!(collect(&mut s, 191_000, 512), vec![48_000, 190_500]);
        s.queue(plan(90.0, 0.0));
        assert_eq!(collect(&mut s, 384_001, 512), vec![240_000, 384_000]);
        assert_eq!(s.position().tempo_bpm, 90.0);
    }
}
