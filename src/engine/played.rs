//! What a rendered set played, read back from the sequencer's events: the bass notes of each
//! cycle (relative to the tonic of the key in force, each with whether a kick started with
//! it) and the drum pattern of each cycle, for the statistics `ubiq eval set` compares with
//! human lines and drummers' windows.

use super::offline::Rendered;
use super::session::Action;
use crate::audio::plan::EventKind;
use crate::audio::plan::swing_delay;
use crate::command::Command;
use crate::loops::key::rotation;
use crate::midifile::key::correlation;
use crate::model::bass::style::{LineStats, StatsTally};
use crate::pattern::{DrumCell, DrumPattern, Key, STEPS, Voice};
use crate::scene::Scene;

/// A value of the scene over a set: from each frame on, as the log's scene changes and
/// commands set it (`start` before any change).
fn timeline<T: Copy>(
    rendered: &Rendered,
    start: T,
    of_scene: impl Fn(&Scene) -> T,
    of_command: impl Fn(&Command) -> Option<T>,
) -> Vec<(i64, T)> {
    let mut values = vec![(i64::MIN, start)];
    for e in &rendered.log.entries {
        let value = match &e.action {
            Action::Scene(s) => of_scene(s),
            Action::Command(c) => match of_command(c) {
                Some(v) => v,
                None => continue,
            },
            _ => continue,
        };
        values.push((e.frame as i64, value));
    }
    values
}

/// The value of a [`timeline`] at `frame`.
fn at<T: Copy>(values: &[(i64, T)], frame: i64) -> T {
    let i = values.partition_point(|&(f, _)| f <= frame);
    values[i.saturating_sub(1)].1
}

/// The keys a set was in: from each frame on (the log's scene changes and `key` commands).
fn keys(rendered: &Rendered, start: Key) -> Vec<(i64, Key)> {
    timeline(
        rendered,
        start,
        |s| s.bass.key,
        |c| match c {
            Command::Key(k) => Some(*k),
            _ => None,
        },
    )
}

/// One event of a rendered set, placed in its cycle.
struct CycleEvent {
    /// The cycle it falls in, from the first downbeat.
    cycle: usize,
    /// That cycle's first frame.
    start: i64,
    /// The event's frame.
    frame: i64,
    /// What it plays.
    kind: EventKind,
    /// Samples per step at its tempo.
    sps: f64,
}

/// The events a rendered set played within its samples, each with its cycle: two bars from
/// the first downbeat, each 32 steps at the tempo it plays; an event half a step before a
/// boundary belongs to the next cycle.
fn cycle_events(rendered: &Rendered) -> impl Iterator<Item = CycleEvent> + '_ {
    let end = rendered.origin + (rendered.samples.len() / 2) as i64;
    let (mut cycle, mut start) = (0, rendered.origin);
    rendered
        .events
        .iter()
        .filter(move |(frame, _, _)| (rendered.origin..end).contains(frame))
        .map(move |&(frame, kind, sps)| {
            let length = (STEPS as f64 * sps) as i64;
            let half_step = (sps / 2.0) as i64;
            while frame + half_step >= start + length {
                cycle += 1;
                start += length;
            }
            CycleEvent {
                cycle,
                start,
                frame,
                kind,
                sps,
            }
        })
}

/// `per_cycle` grown to hold cycle `cycle`, its entry for that cycle.
fn slot<T: Clone + Default>(per_cycle: &mut Vec<T>, cycle: usize) -> &mut T {
    if per_cycle.len() <= cycle {
        per_cycle.resize(cycle + 1, T::default());
    }
    &mut per_cycle[cycle]
}

/// The drum pattern a rendered set played in each cycle (two bars from the first downbeat),
/// hits placed on the nearest step with swing taken out of their offsets (`swing` is the
/// scene's before any change). A last cycle without drums is left out.
pub fn drum_windows(rendered: &Rendered, swing: f32) -> Vec<DrumPattern> {
    let swings = timeline(
        rendered,
        swing,
        |s| s.swing,
        |c| match c {
            Command::Swing(v) => Some(*v),
            _ => None,
        },
    );
    let mut windows: Vec<DrumPattern> = Vec::new();
    for e in cycle_events(rendered) {
        let pattern = slot(&mut windows, e.cycle);
        if let EventKind::Drum { voice, velocity } = e.kind {
            let position = (e.frame - e.start) as f64 / e.sps;
            let step = (position.round().max(0.0) as usize).min(STEPS - 1);
            let swung = f64::from(swing_delay(step, at(&swings, e.start)));
            let offset = (position - step as f64 - swung) as f32;
            pattern.set(voice, step, DrumCell::hit(velocity, offset));
        }
    }
    if windows.last().is_some_and(DrumPattern::is_empty) {
        windows.pop();
    }
    windows
}

/// The bass lines a rendered set played, one a cycle (two bars), pitches taken relative to
/// the tonic in force when the cycle began (`start` before any change).
pub fn bass_style(rendered: &Rendered, start: Key) -> LineStats {
    let keys = keys(rendered, start);
    let mut kicks: Vec<i64> = rendered
        .events
        .iter()
        .filter(|(_, kind, _)| {
            matches!(
                kind,
                EventKind::Drum {
                    voice: Voice::Kick,
                    ..
                }
            )
        })
        .map(|&(f, _, _)| f)
        .collect();
    kicks.sort_unstable();
    let on_kick = |frame: i64, sps: f64| {
        let half = (sps / 2.0) as i64;
        let i = kicks.partition_point(|&k| k < frame - half);
        kicks.get(i).is_some_and(|&k| k <= frame + half)
    };
    let mut lines: Vec<Vec<(i32, bool)>> = vec![Vec::new()];
    for e in cycle_events(rendered) {
        let line = slot(&mut lines, e.cycle);
        if let EventKind::BassOn { note, .. } = e.kind {
            // The key in force as the cycle began (half a step in, where a change lands).
            let began = if e.cycle == 0 {
                e.start
            } else {
                e.start + (e.sps / 2.0) as i64
            };
            let pitch = i32::from(note) - i32::from(at(&keys, began).pitch_class());
            line.push((pitch, on_kick(e.frame, e.sps)));
        }
    }
    let mut tally = StatsTally::default();
    for line in &lines {
        tally.add_notes(line, 2.0);
    }
    tally.stats()
}

/// What a set of a rendered set played, in order, each with the cycle it started in (a cue
/// at the turn of cycle K plays from cycle K + 1; the scene's own from cycle 0): a loop, or
/// silence (none), each entry a change of loop or of its transposition (not a tempo change
/// that stretches the same loop again). Cues for cycles from `cycles` on, past the end of
/// the render, are left out.
pub fn loop_changes(
    rendered: &Rendered,
    set: crate::loops::LoopSet,
    cycles: u64,
) -> Vec<(u64, Option<Played>)> {
    let mut out: Vec<(u64, Option<Played>)> = Vec::new();
    let mut from = 0;
    for e in &rendered.log.entries {
        match &e.action {
            Action::Cycle(k, _) => from = k + 1,
            Action::Loop(s, cue) if *s == set && from < cycles => {
                let played = cue.as_ref().map(|c| Played {
                    name: c.name.clone(),
                    semitones: c.semitones,
                });
                if out.last().is_none_or(|(_, last)| *last != played) {
                    out.push((from, played));
                }
            }
            _ => {}
        }
    }
    out
}

/// A loop as a set played it: its name and the semitones it was moved by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Played {
    /// The loop's name.
    pub name: String,
    /// Its transposition.
    pub semitones: i8,
}

/// What `changes` (of [`loop_changes`]) play in cycle `cycle`: a loop, or nothing.
fn playing_in(changes: &[(u64, Option<Played>)], cycle: u64) -> Option<&Played> {
    changes
        .iter()
        .rev()
        .find(|(from, _)| *from <= cycle)
        .and_then(|(_, played)| played.as_ref())
}

/// How many times a set's loop changed to another loop (silence between two loops does not
/// count; the same loop again after silence, or moved to another key, is no change).
pub fn loop_change_count(changes: &[(u64, Option<Played>)]) -> usize {
    let loops: Vec<&str> = changes
        .iter()
        .filter_map(|(_, p)| p.as_ref().map(|p| p.name.as_str()))
        .collect();
    loops.windows(2).filter(|w| w[0] != w[1]).count()
}

/// The share of a rendered set's cycles whose `set` loop sounds in the set's key (the same
/// key or its relative, see [`crate::loops::key::LoopKey::fits`]), over the cycles that play
/// a loop with a known key; none when no cycle does. `start` is the scene's key and scale
/// before any change.
pub fn loop_key_fit(
    rendered: &Rendered,
    set: crate::loops::LoopSet,
    library: &crate::loops::library::Library,
    start: (Key, crate::pattern::Scale),
    cycles: u64,
) -> Option<f64> {
    let keys = keys(rendered, start.0);
    let scales = timeline(
        rendered,
        start.1,
        |s| s.bass.scale,
        |c| match c {
            Command::Scale(s) => Some(*s),
            _ => None,
        },
    );
    // The frame each cycle starts at, from the log's turns (cycle K's turn opens cycle K).
    let mut starts = vec![0u64; cycles as usize];
    for e in &rendered.log.entries {
        if let Action::Cycle(k, _) = &e.action
            && let Some(s) = starts.get_mut(*k as usize)
        {
            *s = e.frame;
        }
    }
    let changes = loop_changes(rendered, set, cycles);
    let (mut fitting, mut keyed) = (0usize, 0usize);
    for c in 0..cycles {
        let Some(played) = playing_in(&changes, c) else {
            continue;
        };
        let Some(key) = library
            .find(set, &played.name)
            .ok()
            .and_then(|e| e.loop_key())
            .map(|k| k.transposed(played.semitones))
        else {
            continue;
        };
        let frame = starts[c as usize] as i64;
        keyed += 1;
        if key.fits(at(&keys, frame), at(&scales, frame)) {
            fitting += 1;
        }
    }
    (keyed > 0).then(|| fitting as f64 / keyed as f64)
}

/// The bass's pitch classes in each cycle of a rendered set (C = 0, each note counted once
/// where it starts), cycles as in [`drum_windows`].
pub fn bass_pitch_classes(rendered: &Rendered) -> Vec<[f64; 12]> {
    let mut cycles = vec![[0.0; 12]];
    for e in cycle_events(rendered) {
        let pcs = slot(&mut cycles, e.cycle);
        if let EventKind::BassOn { note, .. } = e.kind {
            pcs[usize::from(note % 12)] += 1.0;
        }
    }
    cycles
}

/// How the harmony of a set's loops meets the bass, over a rendered set: the mean, over the
/// cycles that play a loop of `set` and a bass note, of the correlation between the loop's
/// chroma (`chroma` of its name, moved by the loop's transposition) and the bass's pitch
/// classes in that cycle; and the same mean for a loop picked at random (every loop of
/// `chroma` in turn, as recorded).
pub fn loop_bass_correlation(
    rendered: &Rendered,
    set: crate::loops::LoopSet,
    chroma: &std::collections::HashMap<String, [f64; 12]>,
    cycles: u64,
) -> Option<(f64, f64)> {
    let changes = loop_changes(rendered, set, cycles);
    let bass = bass_pitch_classes(rendered);
    let random: Vec<&[f64; 12]> = chroma.values().collect();
    let (mut picked, mut chance, mut n) = (0.0, 0.0, 0usize);
    for (c, pcs) in bass.iter().enumerate().take(cycles as usize) {
        let Some(played) = playing_in(&changes, c as u64) else {
            continue;
        };
        let Some(loop_chroma) = chroma.get(&played.name) else {
            continue;
        };
        if pcs.iter().sum::<f64>() == 0.0 || random.is_empty() {
            continue;
        }
        picked += correlation(pcs, loop_chroma, rotation(played.semitones));
        chance += random.iter().map(|r| correlation(r, pcs, 0)).sum::<f64>() / random.len() as f64;
        n += 1;
    }
    (n > 0).then(|| (picked / n as f64, chance / n as f64))
}
