//! The soak: a long accelerated offline performance with a restless, careless performer —
//! random valid and invalid command lines drawn from the command table, scene reloads that
//! read and ones that do not, loop changes — while the AI composes, listens and picks loops.
//! It checks what a stage needs: no panic, no missed boundary, memory that stays flat.

use std::time::Instant;

use serde::Serialize;

use crate::command::spec::{ArgKind, COMMANDS, CommandSpec, choices};
use crate::engine::offline::{Input, Keep, Offline};
use crate::model::registry::Models;
use crate::model::rng::Rng;
use crate::scene::Scene;
use crate::scene::library::{SHIPPED, default_scene};

/// What a soak found.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SoakReport {
    /// Cycles performed.
    pub cycles: u64,
    /// Inputs the performer gave.
    pub inputs: usize,
    /// Inputs taken (commands applied, scenes that took over).
    pub taken: usize,
    /// Inputs refused, each with a one-line reason (and problems like a loop that would not
    /// load).
    pub refused: usize,
    /// Cycles that missed their boundary.
    pub late_plans: u64,
    /// Resident memory after the first tenth of the run, in KiB.
    pub rss_start_kib: u64,
    /// Resident memory at the end, in KiB.
    pub rss_end_kib: u64,
    /// Wall-clock seconds.
    pub seconds: f64,
    /// Seconds of music performed.
    pub music_seconds: f64,
    /// A few of the refusals, as the performer saw them.
    pub sample_refusals: Vec<String>,
}

/// Resident memory of this process in KiB (0 where `/proc` is missing).
pub fn rss_kib() -> u64 {
    let pages = std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| {
            s.split_whitespace()
                .nth(1)
                .and_then(|p| p.parse::<u64>().ok())
        })
        .unwrap_or(0);
    // SAFETY: sysconf only reads a system constant.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    pages * u64::try_from(page).unwrap_or(4096) / 1024
}

/// A random command line: a valid one made from the table (most of the time) or a broken one.
pub fn random_line(rng: &mut Rng, scenes: &[String]) -> String {
    let playable: Vec<&CommandSpec> = COMMANDS
        .iter()
        .filter(|c| !matches!(c.name, "quit" | "record" | "midi" | "save"))
        .collect();
    let spec = playable[rng.below(playable.len())];
    let mut words = vec![spec.name.to_string()];
    for arg in spec.args {
        if arg.optional && rng.uniform() < 0.5 {
            break;
        }
        let previous = words.last().cloned().unwrap_or_default();
        words.push(random_value(rng, arg.kind, &previous, scenes));
    }
    let line = words.join(" ");
    match rng.below(10) {
        0 => garble(rng, &line),
        1 => format!("{} {}", spec.name, rng.normal() * 1e4),
        _ => line,
    }
}

fn random_value(rng: &mut Rng, kind: ArgKind, previous: &str, scenes: &[String]) -> String {
    match kind {
        ArgKind::Number { min, max } => {
            let (lo, hi) = if min == f32::MIN {
                (-2.0, 2.0)
            } else {
                (min, max)
            };
            format!("{:.3}", lo + (hi - lo) * rng.uniform())
        }
        ArgKind::Param => {
            let params = crate::command::Param::all();
            let p = params[rng.below(params.len())];
            let (lo, hi) = p.range();
            format!("{} {:.3}", p.name(), lo + (hi - lo) * rng.uniform())
        }
        ArgKind::Path => scenes
            .get(rng.below(scenes.len().max(1)))
            .cloned()
            .unwrap_or_else(|| "missing.ron".into()),
        ArgKind::Grid => (0..16)
            .map(|_| ['.', '.', 'x', 'X', 'o', '5'][rng.below(6)])
            .collect(),
        ArgKind::Line => (0..16)
            .map(|_| [".", "-", "A1", "C2", "E1!", "G1"][rng.below(6)])
            .collect::<Vec<_>>()
            .join(" "),
        ArgKind::Text => (1 + rng.below(6)).to_string(),
        ArgKind::After(table) => match table.iter().find(|(w, _)| *w == previous) {
            Some((_, k)) => random_value(rng, *k, previous, scenes),
            None => String::new(),
        },
        other => {
            let words = choices(other);
            words
                .get(rng.below(words.len().max(1)))
                .cloned()
                .unwrap_or_default()
        }
    }
}

/// The line with a character replaced, dropped or doubled.
fn garble(rng: &mut Rng, line: &str) -> String {
    let mut chars: Vec<char> = line.chars().collect();
    if chars.is_empty() {
        return "?".into();
    }
    let i = rng.below(chars.len());
    match rng.below(3) {
        0 => chars[i] = ['?', 'z', '9', '"', ' '][rng.below(5)],
        1 => {
            chars.remove(i);
        }
        _ => chars.insert(i, chars[i]),
    }
    chars.into_iter().collect()
}

/// A random scene file text: a shipped scene with the AI switched on, sometimes broken.
pub fn random_scene(rng: &mut Rng) -> String {
    let (name, text) = SHIPPED[rng.below(SHIPPED.len())];
    let mut scene = Scene::from_ron(text, std::path::Path::new(name)).unwrap_or_default();
    scene.ai.every = rng.below(4) as u32;
    scene.ai.feedback = rng.uniform() < 0.5;
    scene.ai.x = rng.normal().clamp(-3.0, 3.0);
    scene.ai.y = rng.normal().clamp(-3.0, 3.0);
    scene.loops.music.on = rng.uniform() < 0.7;
    scene.loops.rhythm.on = rng.uniform() < 0.3;
    let text = scene.to_ron();
    if rng.below(4) == 0 {
        let cut = rng.below(text.len());
        let mut broken: String = text.chars().take(cut).collect();
        broken.push_str("?(");
        broken
    } else {
        text
    }
}

/// Runs the soak: `cycles` cycles of the default scene with the AI, the loop library of
/// `models` and a performer who gives about `per_cycle` inputs a cycle, at `sample_rate`.
pub fn run(
    models: &mut Models,
    cycles: u64,
    per_cycle: f32,
    sample_rate: u32,
    seed: u64,
    scene_files: &[String],
) -> SoakReport {
    let mut scene: Scene = default_scene();
    scene.ai.every = 1;
    scene.ai.feedback = true;
    scene.loops.rhythm.on = true;
    // Room for every cycle at the slowest tempo the performer may set; the script ends the
    // performance after `cycles` cycles.
    let longest = f64::from(sample_rate) * 60.0 / f64::from(crate::audio::plan::MIN_BPM) * 8.0;
    let frames = (longest * (cycles + 1) as f64) as u64;
    let mut performed = 0u64;
    let began = Instant::now();
    let mut rng = Rng::new(seed);
    let mut inputs = 0usize;
    let mut rss_start = 0;
    let warm = (cycles / 10).max(1);
    let keep = Keep {
        audio: false,
        log: false,
    };
    let rendered =
        Offline::perform_scripted(&scene, models, frames, (sample_rate, seed), keep, |cycle| {
            performed = cycle;
            if cycle >= cycles {
                return None;
            }
            if cycle == warm {
                rss_start = rss_kib();
            }
            let mut out = Vec::new();
            let mut budget = per_cycle;
            while rng.uniform() < budget {
                budget -= 1.0;
                let input = if rng.below(40) == 0 {
                    Input::Scene(random_scene(&mut rng))
                } else {
                    Input::Line(random_line(&mut rng, scene_files))
                };
                out.push((f64::from(rng.uniform()), input));
            }
            inputs += out.len();
            Some(out)
        });
    SoakReport {
        cycles: performed,
        inputs,
        taken: rendered.inputs_taken,
        refused: rendered.problem_count,
        late_plans: rendered.late_plans,
        rss_start_kib: rss_start,
        rss_end_kib: rss_kib(),
        seconds: began.elapsed().as_secs_f64(),
        music_seconds: rendered.frames as f64 / f64::from(sample_rate),
        sample_refusals: rendered.problems.into_iter().take(8).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_lines_are_mostly_valid_and_sometimes_not() {
        let mut rng = Rng::new(1);
        let (mut ok, mut bad) = (0, 0);
        for _ in 0..2_000 {
            match crate::command::parse(&random_line(&mut rng, &["a.ron".into()])) {
                Ok(_) => ok += 1,
                Err(_) => bad += 1,
            }
        }
        assert!(ok > 1_200 && bad > 100, "{ok} valid, {bad} refused");
        let scenes: Vec<bool> = (0..200)
            .map(|_| {
                Scene::from_ron(&random_scene(&mut rng), std::path::Path::new("s.ron")).is_ok()
            })
            .collect();
        assert!(scenes.iter().any(|&x| x) && scenes.iter().any(|&x| !x));
    }
}
