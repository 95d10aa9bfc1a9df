//! What a rendered set played, read back from the sequencer's events: the bass notes of each
//! cycle (relative to the tonic of the key in force, each with whether a kick started with
//! it), for the statistics `ubiq eval set` compares with human lines.

use super::offline::Rendered;
use super::session::Action;
use crate::audio::plan::EventKind;
use crate::command::Command;
use crate::model::bass::style::{LineStats, StatsTally};
use crate::pattern::{Key, STEPS, Voice};

/// The keys a set was in: from each frame on (the log's scene changes and `key` commands).
fn keys(rendered: &Rendered, start: Key) -> Vec<(i64, Key)> {
    let mut keys = vec![(i64::MIN, start)];
    for e in &rendered.log.entries {
        let key = match &e.action {
            Action::Scene(s) => s.bass.key,
            Action::Command(Command::Key(k)) => *k,
            _ => continue,
        };
        keys.push((e.frame as i64, key));
    }
    keys
}

/// The bass lines a rendered set played, one a cycle (two bars), pitches taken relative to
/// the tonic in force when the cycle began (`start` before any change).
pub fn bass_style(rendered: &Rendered, start: Key) -> LineStats {
    let keys = keys(rendered, start);
    let key_at = |frame: i64| {
        let i = keys.partition_point(|&(f, _)| f <= frame);
        keys[i.saturating_sub(1)].1
    };
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
    let mut tally = StatsTally::default();
    // Cycles from the first downbeat, each 32 steps at the tempo it plays.
    let mut cycle_start = rendered.origin;
    let mut key = key_at(cycle_start);
    let mut notes: Vec<(i32, bool)> = Vec::new();
    let end = rendered.origin + (rendered.samples.len() / 2) as i64;
    for &(frame, kind, sps) in &rendered.events {
        if frame < rendered.origin || frame >= end {
            continue;
        }
        let half_step = (sps / 2.0) as i64;
        while frame + half_step >= cycle_start + (STEPS as f64 * sps) as i64 {
            tally.add_notes(&notes, 2.0);
            notes.clear();
            cycle_start += (STEPS as f64 * sps) as i64;
            key = key_at(cycle_start + half_step);
        }
        if let EventKind::BassOn { note, .. } = kind {
            let pitch = i32::from(note) - i32::from(key.pitch_class());
            notes.push((pitch, on_kick(frame, sps)));
        }
    }
    tally.add_notes(&notes, 2.0);
    tally.stats()
}
