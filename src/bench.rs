//! `ubiq bench`: the AI's work per cycle and its parts, timed call by call (medians and 99th
//! percentiles), on both Burn backends side by side. The same figures `cargo bench` prints,
//! for users on their own machine.

use std::hint::black_box;
use std::time::Instant;

use burn::tensor::Device;
use serde::Serialize;

use crate::engine::Performance;
use crate::engine::compose::Models;
use crate::loops::LoopSet;
use crate::loops::library::{EmbeddingTable, Library};
use crate::model::Backend;
use crate::model::bass::BassModel;
use crate::model::loops::infer::{LoopModel, render_query};
use crate::model::rhythm::{Conditions, DecodeOptions, RhythmModel};
use crate::model::rng::Rng;
use crate::pattern::{Key, Scale};
use crate::scene::library::default_scene;

/// Timings of one thing.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Timing {
    /// What was timed (`rhythm.decode`, `ai.cycle`, …).
    pub name: String,
    /// The Burn backend it ran on (none: plain Rust).
    pub backend: Option<&'static str>,
    /// Calls timed (after a warm-up).
    pub calls: usize,
    /// Median in microseconds.
    pub median_us: f64,
    /// 99th percentile in microseconds.
    pub p99_us: f64,
    /// Slowest call in microseconds.
    pub max_us: f64,
}

/// Times `calls` single calls of `f` after `calls / 10` warm-up calls.
pub fn time(
    name: &str,
    backend: Option<&'static str>,
    calls: usize,
    mut f: impl FnMut(),
) -> Timing {
    for _ in 0..(calls / 10).max(1) {
        f();
    }
    let mut us: Vec<f64> = (0..calls.max(1))
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed().as_secs_f64() * 1e6
        })
        .collect();
    us.sort_by(f64::total_cmp);
    let at = |q: f64| us[((us.len() - 1) as f64 * q).round() as usize];
    Timing {
        name: name.to_string(),
        backend,
        calls: us.len(),
        median_us: at(0.5),
        p99_us: at(0.99),
        max_us: at(1.0),
    }
}

/// How much to time.
#[derive(Debug, Clone, Copy)]
pub struct BenchOptions {
    /// Scale of the call counts (1.0: about a second per line; smaller for a quick look).
    pub scale: f64,
}

impl Default for BenchOptions {
    fn default() -> Self {
        BenchOptions { scale: 1.0 }
    }
}

fn calls(options: &BenchOptions, n: usize) -> usize {
    ((n as f64 * options.scale) as usize).max(5)
}

/// A table of `n` random unit embeddings of `dim` dimensions (for ranking at library sizes the
/// shipped library does not reach).
pub fn random_table(n: usize, dim: usize, seed: u64) -> EmbeddingTable {
    let mut rng = Rng::new(seed);
    let data = (0..n).flat_map(|_| random_unit(&mut rng, dim)).collect();
    EmbeddingTable::from_rows(dim, data)
}

/// A random unit vector of `dim` dimensions.
pub fn random_unit(rng: &mut Rng, dim: usize) -> Vec<f32> {
    let row: Vec<f32> = (0..dim).map(|_| rng.normal()).collect();
    let norm = row.iter().map(|x| x * x).sum::<f32>().sqrt().max(1e-6);
    row.iter().map(|x| x / norm).collect()
}

/// Runs every timing: the parts of the AI's cycle turn on each backend, ranking at 1,000 and
/// 10,000 loops, and the whole turn (listen, pull, decode, translate, rank every set).
/// `library` is the loop library to rank (synthetic tables stand in for missing sets).
pub fn run(options: &BenchOptions, library: Option<&Library>) -> Result<Vec<Timing>, String> {
    let mut out = Vec::new();
    let bass = BassModel::embedded().map_err(|e| e.to_string())?;
    let scene = default_scene();
    let drums = scene.drums.pattern();
    let line = scene.bass.bassline();
    let tonic = scene.bass.tonic_midi();
    let mut seed = 0u64;
    out.push(time("bass.translate", None, calls(options, 2000), || {
        seed += 1;
        black_box(bass.translate(&drums, Key::new(9), Scale::Minor, 0.5, seed));
    }));
    out.extend(synth_timings(options));
    out.push(time(
        "loops.render_query",
        None,
        calls(options, 300),
        || {
            black_box(render_query(&drums, &line, tonic));
        },
    ));
    for (name, n) in [("loops.rank.1k", 1_000), ("loops.rank.10k", 10_000)] {
        let table = random_table(n, 32, 7);
        let q = random_unit(&mut Rng::new(8), 32);
        out.push(time(name, None, calls(options, 2000), || {
            black_box(table.rank(&q, 8));
        }));
    }
    for backend in [Backend::Flex, Backend::Ndarray] {
        out.extend(backend_timings(
            options,
            backend,
            backend.device(),
            library,
        )?);
    }
    Ok(out)
}

/// The audio thread's work per 256-frame block at 48 kHz (5.3 ms of sound): the drum machine
/// and the bass synth playing, and the whole graph (sequencer, voices, loops, mixer, effects,
/// limiter) on the default scene.
fn synth_timings(options: &BenchOptions) -> Vec<Timing> {
    use crate::audio::bass::BassSynth;
    use crate::audio::drums::DrumMachine;
    use crate::pattern::Voice;
    let block = crate::audio::synth::MAX_BLOCK;
    let mut out = Vec::new();
    let mut dm = DrumMachine::new(48_000.0, 1);
    let mut buf = vec![0.0f32; block];
    let mut n = 0u32;
    out.push(time(
        "synth.drums_block",
        None,
        calls(options, 5000),
        || {
            n += 1;
            if n % 8 == 0 {
                for v in [Voice::Kick, Voice::ClosedHat, Voice::Snare, Voice::Crash] {
                    dm.trigger(v, 0.9);
                }
            }
            buf.fill(0.0);
            dm.render(&mut buf);
            black_box(&buf);
        },
    ));
    let mut bass = BassSynth::new(48_000.0);
    out.push(time("synth.bass_block", None, calls(options, 5000), || {
        n += 1;
        if n % 8 == 0 {
            bass.note_on(33 + (n % 12) as u8, 0.8, n % 3 == 0, false);
        }
        buf.fill(0.0);
        bass.render(&mut buf);
        black_box(&buf);
    }));
    let (mut handle, mut core) = crate::audio::link(48_000, 1);
    let perf = Performance::new(default_scene());
    let _ = handle.send_all(&perf.start_messages());
    let mut stereo = vec![0.0f32; 2 * block];
    out.push(time(
        "synth.graph_block",
        None,
        calls(options, 5000),
        || {
            core.process(&mut stereo);
            black_box(&stereo);
        },
    ));
    out
}

fn backend_timings(
    options: &BenchOptions,
    backend: Backend,
    device: Device,
    library: Option<&Library>,
) -> Result<Vec<Timing>, String> {
    let b = Some(backend.name());
    let mut out = Vec::new();
    let rhythm = RhythmModel::embedded_on(device.clone()).map_err(|e| e.to_string())?;
    let scene = default_scene();
    let drums = scene.drums.pattern();
    let mut rng = Rng::new(3);
    out.push(time("rhythm.decode", b, calls(options, 2000), || {
        let z = [rng.normal(), rng.normal()];
        black_box(rhythm.decode(z, Conditions::default(), &DecodeOptions::default()));
    }));
    out.push(time("rhythm.encode", b, calls(options, 2000), || {
        black_box(rhythm.encode(&drums));
    }));
    let mut loops = LoopModel::embedded(device).map_err(|e| e.to_string())?;
    let heard = vec![0.1f32; crate::loops::mel::LOOP_SAMPLES];
    out.push(time("loops.embed", b, calls(options, 300), || {
        black_box(loops.embed_normalised(&heard));
    }));
    let bass = BassModel::embedded().map_err(|e| e.to_string())?;
    let mut models = Models {
        rhythm: Some(rhythm),
        bass: Some(bass),
        loops: Some(loops),
        library: library.cloned(),
    };
    if models.library.is_none() {
        return Ok(out);
    }
    let mut perf = Performance::new(ai_scene());
    let played = crate::render::render_scene(
        perf.scene(),
        &crate::render::RenderOptions {
            bars: 2,
            sample_rate: 48_000,
            seed: 1,
        },
    );
    let heard = crate::loops::audio::mix_down(&played, 2);
    out.push(time("feedback.listen", b, calls(options, 200), || {
        black_box(perf.listen(&mut models, &heard));
    }));
    let mut cycle = 0;
    out.push(time("ai.cycle", b, calls(options, 200), || {
        cycle += 1;
        let turn = perf.listen(&mut models, &heard).map(|(t, r)| {
            perf.heard(r);
            t
        });
        black_box(perf.tick(cycle, &mut models, turn.as_ref()));
    }));
    Ok(out)
}

/// The scene the whole-turn timing plays: every loop set on, the feedback loop closed, a new
/// cycle every cycle.
fn ai_scene() -> crate::scene::Scene {
    let mut scene = default_scene();
    scene.ai.every = 1;
    scene.ai.feedback = true;
    for set in LoopSet::ALL {
        scene.loops.slot_mut(set).on = true;
    }
    scene
}

/// The timings as an aligned table, the backends side by side.
pub fn table(timings: &[Timing]) -> String {
    let mut names: Vec<&str> = Vec::new();
    for t in timings {
        if !names.contains(&t.name.as_str()) {
            names.push(&t.name);
        }
    }
    let cell = |name: &str, backend: Option<&str>| {
        timings
            .iter()
            .find(|t| t.name == name && t.backend == backend)
            .map(|t| format!("{:>9.1} {:>9.1}", t.median_us, t.p99_us))
    };
    let mut s = format!(
        "{:<20} {:>19}   {:>19}\n{:<20} {:>9} {:>9}   {:>9} {:>9}\n",
        "µs per call", "flex", "ndarray", "", "median", "p99", "median", "p99"
    );
    for name in names {
        let plain = cell(name, None);
        let (flex, nd) = match plain {
            Some(p) => (p, String::new()),
            None => (
                cell(name, Some("flex")).unwrap_or_default(),
                cell(name, Some("ndarray")).unwrap_or_default(),
            ),
        };
        s.push_str(&format!("{name:<20} {flex:>19}   {nd:>19}\n"));
    }
    s
}
