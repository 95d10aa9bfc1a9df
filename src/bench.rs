//! `ubiq bench`: the AI's work per cycle and its parts, timed call by call (medians and 99th
//! percentiles), on both Burn backends side by side. The same figures `cargo bench` prints,
//! for users on their own machine.

use std::hint::black_box;
use std::time::Instant;

use burn::tensor::Device;
use serde::Serialize;
use thiserror::Error;

use crate::command::ModelName;
use crate::loops::LoopSet;
use crate::loops::library::{EmbeddingTable, KeyRule, Library};
use crate::model::Backend;
use crate::model::bass::BassModel;
use crate::model::loops::infer::LoopModel;
use crate::model::registry::{Models, RhythmBank};
use crate::model::rhythm::{Conditions, DecodeOptions, RhythmModel};
use crate::model::rng::Rng;
use crate::pattern::{Key, Scale};
use crate::performance::Performance;
use crate::performance::query::render_query;
use crate::scene::library::default_scene;

/// Why the timings could not be set up.
#[derive(Debug, Error)]
pub enum BenchError {
    /// An embedded model did not load.
    #[error(transparent)]
    Model(Box<dyn std::error::Error + Send + Sync>),
}

impl BenchError {
    fn model(e: impl std::error::Error + Send + Sync + 'static) -> BenchError {
        BenchError::Model(Box::new(e))
    }
}

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
#[derive(Debug, Clone)]
pub struct BenchOptions {
    /// Scale of the call counts (1.0: about a second per line; smaller for a quick look).
    pub scale: f64,
    /// Only the cases whose names contain one of these (all cases when empty).
    pub only: Vec<String>,
    /// A model saved by M4L.RhythmVAE whose decoder is timed too (`rhythmvae.decode`).
    pub rhythmvae: Option<std::path::PathBuf>,
}

impl Default for BenchOptions {
    /// Every case, at scale 1.
    fn default() -> Self {
        BenchOptions {
            scale: 1.0,
            only: Vec::new(),
            rhythmvae: None,
        }
    }
}

impl BenchOptions {
    /// Whether the case called `name` is to be timed.
    pub fn wants(&self, name: &str) -> bool {
        self.only.is_empty() || self.only.iter().any(|o| name.contains(o.as_str()))
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

/// One thing to time: what it is called, the Burn backend it runs on (none: plain Rust), how
/// many calls `ubiq bench` times at scale 1, and the call itself (owning what it needs).
pub struct Case {
    /// What is timed (`rhythm.decode`, `ai.cycle`, …).
    pub name: &'static str,
    /// The Burn backend.
    pub backend: Option<&'static str>,
    /// Calls at scale 1 (about a second's worth).
    pub calls: usize,
    /// One call.
    pub call: Box<dyn FnMut()>,
}

impl Case {
    fn new(
        name: &'static str,
        backend: Option<&'static str>,
        calls: usize,
        call: impl FnMut() + 'static,
    ) -> Self {
        Case {
            name,
            backend,
            calls,
            call: Box::new(call),
        }
    }

    /// `name`, with `@backend` when it runs on one (criterion's label).
    pub fn label(&self) -> String {
        match self.backend {
            Some(b) => format!("{}@{b}", self.name),
            None => self.name.to_string(),
        }
    }
}

/// Every case, in the order the table prints them: the audio thread's work per block, the
/// engine's per-cycle paths (plain Rust: bass translate, query render, rhythm decode / encode,
/// loop embedding, ranking at 1,000 and 10,000 loops, the feedback loop's listening and the
/// whole AI cycle), then the Burn modules' own forward passes on each backend. `library` is the
/// loop library to rank; without one the feedback and whole-cycle cases are left out.
pub fn cases(library: Option<&Library>) -> Result<Vec<Case>, BenchError> {
    let mut out = synth_cases();
    let scene = default_scene();
    let drums = scene.drums.pattern();
    let line = scene.bass.bassline();
    let tonic = scene.bass.tonic_midi();
    let bass = BassModel::embedded().map_err(BenchError::model)?;
    let rhythm = RhythmModel::embedded().map_err(BenchError::model)?;
    let mut loops = LoopModel::embedded(Device::flex()).map_err(BenchError::model)?;
    let mut seed = 0u64;
    let (d, b) = (drums, bass.clone());
    out.push(Case::new("bass.translate", None, 2000, move || {
        seed += 1;
        black_box(b.translate(&d, Key::new(9), Scale::Minor, 0.5, seed));
    }));
    let d = drums;
    out.push(Case::new("loops.render_query", None, 300, move || {
        black_box(render_query(&d, &line, tonic));
    }));
    let (r, mut rng) = (rhythm.clone(), Rng::new(3));
    out.push(Case::new("rhythm.decode", None, 2000, move || {
        let z = [rng.normal(), rng.normal()];
        black_box(r.decode(z, Conditions::default(), &DecodeOptions::default()));
    }));
    let (r, d) = (rhythm.clone(), drums);
    out.push(Case::new("rhythm.encode", None, 2000, move || {
        black_box(r.encode(&d));
    }));
    let heard = vec![0.1f32; crate::loops::mel::LOOP_SAMPLES];
    let dim = loops.embed_normalised(&heard).len();
    let (mut mel, samples) = (crate::loops::mel::MelAnalyser::new(), heard.clone());
    out.push(Case::new("loops.mel", None, 300, move || {
        black_box(mel.model_input(&samples));
    }));
    out.push(Case::new("loops.embed", None, 300, move || {
        black_box(loops.embed_normalised(&heard));
    }));
    for (name, n) in [("loops.rank.1k", 1_000), ("loops.rank.10k", 10_000)] {
        let table = random_table(n, dim, 7);
        let q = random_unit(&mut Rng::new(8), dim);
        out.push(Case::new(name, None, 2000, move || {
            black_box(table.rank(&q, 8));
        }));
    }
    if let Some(library) = library {
        out.extend(cycle_cases(library)?);
    }
    for backend in [Backend::Flex, Backend::Ndarray] {
        out.extend(burn_cases(backend)?);
    }
    Ok(out)
}

/// Runs every case `options` wants, `options.scale` times its calls, call by call.
pub fn run(options: &BenchOptions, library: Option<&Library>) -> Result<Vec<Timing>, BenchError> {
    let mut all = cases(library)?;
    if let Some(dir) = &options.rhythmvae {
        let model = crate::model::rhythmvae::DeviceModel::load(dir).map_err(BenchError::model)?;
        let mut rng = Rng::new(5);
        all.push(Case::new("rhythmvae.decode", None, 2000, move || {
            let z = [rng.normal(), rng.normal()];
            black_box(model.decode_raw(z, [0.0; 3]));
        }));
    }
    Ok(all
        .into_iter()
        .filter(|case| options.wants(case.name))
        .map(|mut case| {
            time(
                case.name,
                case.backend,
                calls(options, case.calls),
                &mut case.call,
            )
        })
        .collect())
}

/// The audio thread's work per 256-frame block at 48 kHz (5.3 ms of sound): the drum machine
/// and the bass synth playing, and the whole graph (sequencer, voices, loops, mixer, effects,
/// limiter) on the default scene.
fn synth_cases() -> Vec<Case> {
    use crate::audio::bass::BassSynth;
    use crate::audio::drums::DrumMachine;
    use crate::pattern::Voice;
    let block = crate::audio::synth::MAX_BLOCK;
    let mut dm = DrumMachine::new(48_000.0, 1);
    let mut buf = vec![0.0f32; block];
    let mut n = 0u32;
    let drums = Case::new("synth.drums_block", None, 5000, move || {
        n += 1;
        if n % 8 == 0 {
            for v in [Voice::Kick, Voice::ClosedHat, Voice::Snare, Voice::Crash] {
                dm.trigger(v, 0.9);
            }
        }
        buf.fill(0.0);
        dm.render(&mut buf);
        black_box(&buf);
    });
    let mut synth = BassSynth::new(48_000.0);
    let mut buf = vec![0.0f32; block];
    let bass = Case::new("synth.bass_block", None, 5000, move || {
        n += 1;
        if n % 8 == 0 {
            synth.note_on(33 + (n % 12) as u8, 0.8, n % 3 == 0, false);
        }
        buf.fill(0.0);
        synth.render(&mut buf);
        black_box(&buf);
    });
    let (mut handle, mut core) = crate::audio::link(48_000, 1);
    let perf = Performance::new(default_scene());
    let _ = handle.send_all(&perf.start_messages());
    let mut stereo = vec![0.0f32; 2 * block];
    let graph = Case::new("synth.graph_block", None, 5000, move || {
        // The handle stays alive with the core, so the graph keeps its queue.
        let _ = &handle;
        core.process(&mut stereo);
        black_box(&stereo);
    });
    vec![drums, bass, graph]
}

/// The feedback loop's listening to one cycle of what played, and the whole AI cycle: listen,
/// pull the point, decode, translate, rank every set (the scene of [`ai_scene`]).
fn cycle_cases(library: &Library) -> Result<Vec<Case>, BenchError> {
    let models = || -> Result<Models, BenchError> {
        Ok(Models {
            rhythm: RhythmBank::of(
                ModelName::default(),
                RhythmModel::embedded().map_err(BenchError::model)?,
            ),
            bass: Some(BassModel::embedded().map_err(BenchError::model)?),
            loops: Some(LoopModel::embedded(Device::flex()).map_err(BenchError::model)?),
            library: Some(library.clone()),
        })
    };
    let (mut listen_models, mut models) = (models()?, models()?);
    let layout = models.loops.as_ref().and_then(LoopModel::pitch_layout);
    let listen_perf = Performance::new(ai_scene());
    let mut perf = Performance::new(ai_scene());
    let played = crate::engine::render::render_scene(
        perf.scene(),
        &crate::engine::render::RenderOptions {
            bars: 2,
            sample_rate: 48_000,
            seed: 1,
        },
    );
    let heard = crate::loops::audio::mix_down(&played, 2);
    let listen_heard = heard.clone();
    let listen = Case::new("feedback.listen", None, 200, move || {
        black_box(listen_perf.listen(&mut listen_models, &listen_heard));
    });
    let mut cycle = 0;
    let whole = Case::new("ai.cycle", None, 200, move || {
        cycle += 1;
        let turn = perf.listen(&mut models, &heard).map(|(t, r)| {
            perf.heard(r);
            t
        });
        black_box(perf.tick(cycle, &mut models, turn.as_ref()));
    });
    // A pitched set ranked as `key follow` ranks it: every loop with a key moved into the
    // scene's, its harmony weighed against a bass.
    let dim = library
        .entries(LoopSet::Music)
        .first()
        .map_or(0, |e| e.embedding.len());
    let query = random_unit(&mut Rng::new(9), dim);
    let library = library.clone();
    let mut bass = [0.0f32; 12];
    for (pc, count) in [(9, 6.0), (4, 3.0), (0, 2.0), (7, 1.0)] {
        bass[pc] = count;
    }
    let follow = layout.map(|layout| {
        Case::new("loops.rank.follow", None, 2000, move || {
            let rule = KeyRule::Follow(Key::new(9), Scale::Minor, layout);
            black_box(library.rank_keyed(LoopSet::Music, &query, 8, rule, Some(&bass)));
        })
    });
    Ok([listen, whole].into_iter().chain(follow).collect())
}

/// The Burn modules' own forward passes for one input on `backend` (what the plain paths
/// replace at run time; training and evaluation run these).
fn burn_cases(backend: Backend) -> Result<Vec<Case>, BenchError> {
    use crate::model::rhythm::model::{CONDITIONS, LATENT, patterns_tensor, rows_tensor};
    let b = Some(backend.name());
    let device = backend.device();
    let rhythm = RhythmModel::embedded_on(device.clone()).map_err(BenchError::model)?;
    let loops = LoopModel::embedded(device.clone()).map_err(BenchError::model)?;
    let drums = default_scene().drums.pattern();
    let (r, dev) = (rhythm.clone(), device.clone());
    let decode = Case::new("rhythm.decode.burn", b, 2000, move || {
        black_box(r.vae().decode(
            rows_tensor(vec![0.3; LATENT], LATENT, &dev),
            rows_tensor(vec![0.0; CONDITIONS], CONDITIONS, &dev),
        ));
    });
    let dev = device.clone();
    let encode = Case::new("rhythm.encode.burn", b, 2000, move || {
        black_box(rhythm.vae().encode(
            patterns_tensor(&[&drums], &dev),
            rows_tensor(vec![0.0; CONDITIONS], CONDITIONS, &dev),
        ));
    });
    let input = vec![0.1f32; crate::loops::mel::INPUT_LEN];
    let embed = Case::new("loops.embed.burn", b, 300, move || {
        let x = burn::tensor::Tensor::<2>::from_data(
            burn::tensor::TensorData::new(input.clone(), [1, input.len()]),
            &device,
        );
        black_box(loops.net().forward(x));
    });
    Ok(vec![decode, encode, embed])
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

/// The timings as an aligned table: plain-Rust paths in the first pair of columns, Burn
/// forward passes on each backend side by side.
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
            .unwrap_or_default()
    };
    let mut s = format!(
        "{:<20} {:>19}   {:>19}   {:>19}\n{:<20}{}\n",
        "µs per call",
        "plain Rust",
        "Burn flex",
        "Burn ndarray",
        "",
        format!(" {:>9} {:>9}  ", "median", "p99").repeat(3)
    );
    for name in names {
        s.push_str(&format!(
            "{name:<20} {:>19}   {:>19}   {:>19}\n",
            cell(name, None),
            cell(name, Some("flex")),
            cell(name, Some("ndarray"))
        ));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_case_runs_and_the_table_lists_it() {
        let options = BenchOptions {
            scale: 0.0,
            ..BenchOptions::default()
        };
        let timings = run(&options, None).expect("embedded models");
        let names: Vec<&str> = timings.iter().map(|t| t.name.as_str()).collect();
        for want in [
            "synth.graph_block",
            "bass.translate",
            "rhythm.decode",
            "loops.embed",
            "loops.rank.10k",
            "loops.embed.burn",
        ] {
            assert!(names.contains(&want), "{want} missing from {names:?}");
        }
        assert_eq!(
            timings
                .iter()
                .filter(|t| t.name == "rhythm.decode.burn")
                .count(),
            2,
            "the Burn passes run on both backends"
        );
        for t in &timings {
            assert!(t.calls >= 5 && t.median_us <= t.p99_us && t.p99_us <= t.max_us);
        }
        let text = table(&timings);
        assert!(timings.iter().all(|t| text.contains(&t.name)));
    }

    #[test]
    fn a_filter_times_only_the_cases_it_names() {
        let options = BenchOptions {
            scale: 0.0,
            only: vec!["rhythm.".into(), "rank.1k".into()],
            ..BenchOptions::default()
        };
        let timings = run(&options, None).expect("embedded models");
        let names: Vec<&str> = timings.iter().map(|t| t.name.as_str()).collect();
        assert!(names.contains(&"loops.rank.1k") && names.contains(&"rhythm.encode.burn"));
        assert!(
            names
                .iter()
                .all(|n| n.starts_with("rhythm.") || *n == "loops.rank.1k"),
            "{names:?}"
        );
    }
}
