//! The rhythm VAE through its public API: shapes, training, save/load, determinism, the
//! embedded default and bad model files. Needs no dataset: a small synthetic fixture stands in.

use burn::tensor::{Device, Tensor};
use ubiq::model::ModelError;
use ubiq::model::rhythm::eval::{baseline_mean, baseline_nearest, reconstruction};
use ubiq::model::rhythm::infer::{EMBEDDED_META, ModelMeta};
use ubiq::model::rhythm::latent_map::LatentMap;
use ubiq::model::rhythm::model::{CELLS, CHANNELS, LATENT, patterns_tensor};
use ubiq::model::rhythm::train::{TrainingConfig, train};
use ubiq::model::rhythm::{
    ConditionStats, Conditions, DecodeOptions, RhythmModel, RhythmVaeConfig,
};
use ubiq::model::rng::Rng;
use ubiq::pattern::grid::parse_row;
use ubiq::pattern::{DrumCell, DrumPattern, STEPS, Voice};

/// Three families of grooves (four-on-the-floor, backbeat, half-time) with seeded variation in
/// kick and hat density, velocity and timing.
fn fixture(n: usize, seed: u64) -> Vec<DrumPattern> {
    let mut rng = Rng::new(seed);
    (0..n)
        .map(|i| {
            let mut p = DrumPattern::new();
            let family = i % 3;
            let hat_every = [1, 2, 4][rng.below(3)];
            let extra_kicks = rng.below(4);
            for step in 0..STEPS {
                let vel = 0.6 + 0.3 * rng.uniform();
                let off = (rng.uniform() - 0.5) * 0.2;
                let kick = match family {
                    0 => step % 4 == 0,
                    1 => step % 8 == 0 || step % 16 == 10,
                    _ => step % 16 == 0,
                };
                if kick || (step % 2 == 1 && step / 2 % 4 < extra_kicks) {
                    p.set(Voice::Kick, step, DrumCell::hit(vel, off));
                }
                let snare = match family {
                    2 => step % 16 == 8,
                    _ => step % 8 == 4,
                };
                if snare {
                    p.set(Voice::Snare, step, DrumCell::hit(vel, off));
                }
                if step % hat_every == 0 {
                    p.set(Voice::ClosedHat, step, DrumCell::hit(vel * 0.8, off));
                }
            }
            p
        })
        .collect()
}

fn quick_config(seed: u64, epochs: usize) -> TrainingConfig {
    TrainingConfig::new(RhythmVaeConfig::new())
        .with_epochs(epochs)
        .with_batch_size(32)
        .with_warmup_epochs(2)
        .with_patience(100)
        .with_seed(seed)
}

fn trained(seed: u64, epochs: usize) -> RhythmModel {
    let data = fixture(240, 5);
    let valid = fixture(48, 6);
    let out = train(
        &quick_config(seed, epochs),
        &data,
        &valid,
        &Device::flex(),
        |_| {},
    )
    .expect("training on the fixture");
    RhythmModel::new(out.model, Device::flex(), "test")
}

#[test]
fn forward_has_the_documented_shapes() {
    let device = Device::flex();
    let data = fixture(5, 1);
    let vae = RhythmVaeConfig::new().init(ConditionStats::of(&data), &device, &mut Rng::new(1));
    let refs: Vec<&DrumPattern> = data.iter().collect();
    let x = patterns_tensor(&refs, &device);
    assert_eq!(x.dims(), [5, CHANNELS, CELLS]);
    let out = vae.forward(
        x,
        Tensor::zeros([5, 2], &device),
        Tensor::zeros([5, LATENT], &device),
    );
    assert_eq!(out.hit_logits.dims(), [5, CELLS]);
    assert_eq!(out.velocity.dims(), [5, CELLS]);
    assert_eq!(out.offset.dims(), [5, CELLS]);
    assert_eq!(out.mu.dims(), [5, LATENT]);
    assert_eq!(out.log_var.dims(), [5, LATENT]);
    let offsets: Vec<f32> = out.offset.into_data().try_into_vec().unwrap();
    assert!(offsets.iter().all(|o| (-0.5..=0.5).contains(o)));
}

#[test]
fn short_training_lowers_the_loss_and_learns_the_fixture() {
    let data = fixture(240, 5);
    let valid = fixture(48, 6);
    let mut history = Vec::new();
    let out = train(&quick_config(3, 12), &data, &valid, &Device::flex(), |r| {
        history.push(r.clone())
    })
    .unwrap();
    assert_eq!(history.len(), 12);
    let first = history.first().unwrap();
    let last = history.last().unwrap();
    assert!(
        last.train_loss < 0.5 * first.train_loss,
        "train loss {} -> {}",
        first.train_loss,
        last.train_loss
    );
    assert!(last.valid_loss < first.valid_loss);
    let model = RhythmModel::new(out.model, Device::flex(), "test");
    let vae = reconstruction(&model, &valid);
    let mean = baseline_mean(&data, &valid);
    assert!(vae.f1 > mean.f1, "vae {vae:?} vs mean {mean:?}");
    assert!(vae.f1 > 0.9, "{vae:?}");
}

#[test]
fn save_load_round_trip_is_exact() {
    let model = trained(4, 2);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("r.bpk");
    let meta: ModelMeta = ModelMeta {
        kind: "ubiq-rhythm-vae".into(),
        training: quick_config(4, 2),
        stats: model.stats(),
        train_windows: 240,
        valid_windows: 48,
        best_epoch: 2,
        best_valid_loss: 1.0,
        train_seconds: 0.0,
    };
    model.save(&path, &meta).unwrap();
    let loaded = RhythmModel::load(&path, Device::flex()).unwrap();
    assert_eq!(loaded.stats(), model.stats());
    let points = [
        ([0.3, -1.2], Conditions::default()),
        (
            [2.0, 0.5],
            Conditions {
                kick: 1.0,
                hats: -1.0,
            },
        ),
    ];
    assert_eq!(loaded.decode_raw(&points), model.decode_raw(&points));
    let p = fixture(1, 9)[0];
    assert_eq!(loaded.encode(&p), model.encode(&p));
}

/// What a model computes on a fixed set of points: equal outputs mean equal weights (the
/// burnpack bytes also hold per-instance parameter ids, so they are not compared).
fn behaviour(model: &RhythmModel) -> Vec<Vec<f32>> {
    let points: Vec<([f32; 2], Conditions)> = (0..9)
        .map(|i| {
            let x = i as f32 * 0.5 - 2.0;
            (
                [x, -x * 0.7],
                Conditions {
                    kick: x * 0.3,
                    hats: -x * 0.2,
                },
            )
        })
        .collect();
    model
        .decode_raw(&points)
        .into_iter()
        .flat_map(|d| [d.probability, d.velocity, d.offset])
        .collect()
}

#[test]
fn same_seed_same_model_other_seed_other_model() {
    let a = behaviour(&trained(11, 2));
    let b = behaviour(&trained(11, 2));
    let c = behaviour(&trained(12, 2));
    assert_eq!(a, b);
    assert_ne!(a, c);
}

#[test]
fn decoding_is_seeded_and_conditions_steer_density() {
    let model = trained(2, 15);
    let opts = DecodeOptions::default();
    let at = |kick: f32, hats: f32| {
        model.decode(
            [0.0, 0.0],
            Conditions { kick, hats },
            &DecodeOptions { seed: 7, ..opts },
        )
    };
    assert_eq!(at(0.0, 0.0), at(0.0, 0.0));
    let sparse = at(0.0, -1.5).count(Voice::ClosedHat);
    let busy = at(0.0, 1.5).count(Voice::ClosedHat);
    assert!(busy > sparse, "hats {sparse} -> {busy}");
    let quantised = model.decode(
        [0.0, 0.0],
        Conditions::default(),
        &DecodeOptions {
            timing: 0.0,
            ..opts
        },
    );
    assert!(
        Voice::ALL
            .iter()
            .all(|v| quantised.row(*v).iter().all(|c| c.offset == 0.0))
    );
}

#[test]
fn encode_decode_batches_agree_with_single_calls() {
    let model = trained(5, 2);
    let data = fixture(4, 3);
    let (mu, _) = model.encode_batch(&data);
    for (p, z) in data.iter().zip(&mu) {
        assert_eq!(model.encode(p).0, *z);
    }
    let points: Vec<([f32; 2], Conditions)> =
        mu.iter().map(|z| (*z, Conditions::default())).collect();
    let opts = DecodeOptions::default();
    let batch = model.decode_batch(&points, &opts);
    for ((z, c), p) in points.iter().zip(&batch) {
        assert_eq!(model.decode(*z, *c, &opts), *p);
    }
}

#[test]
fn the_embedded_model_loads_and_plays() {
    let model = RhythmModel::embedded().expect("embedded model");
    let meta: ModelMeta = serde_json::from_str(EMBEDDED_META).unwrap();
    assert_eq!(model.stats(), meta.stats);
    let p = model.decode([0.0, 0.0], Conditions::default(), &DecodeOptions::default());
    assert!(p.count(Voice::Kick) > 0, "{p:?}");
    let map = LatentMap::embedded().unwrap();
    assert!(map.points.len() >= 100);
    assert!(map.styles.len() >= 2);
    assert!(
        map.points
            .iter()
            .all(|pt| (pt.style as usize) < map.styles.len())
    );
}

#[test]
fn a_corrupt_model_file_is_a_clear_error_and_the_default_still_works() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("broken.bpk");
    std::fs::write(&path, b"definitely not a burnpack file").unwrap();
    let err = RhythmModel::load(&path, Device::flex()).unwrap_err();
    assert!(matches!(err, ModelError::Format { .. }), "{err:?}");
    let text = err.to_string();
    assert!(
        text.contains("broken.bpk") && text.contains("not a usable rhythm model"),
        "{text}"
    );

    let truncated = dir.path().join("truncated.bpk");
    let bytes = RhythmModel::embedded().unwrap().to_bytes().unwrap();
    std::fs::write(&truncated, &bytes[..bytes.len() / 2]).unwrap();
    assert!(RhythmModel::load(&truncated, Device::flex()).is_err());

    let missing = RhythmModel::load(&dir.path().join("nope.bpk"), Device::flex()).unwrap_err();
    assert!(matches!(missing, ModelError::Read { .. }));

    let model = RhythmModel::embedded().unwrap();
    let p = model.decode(
        [1.0, -1.0],
        Conditions::default(),
        &DecodeOptions::default(),
    );
    assert!(p.count(Voice::Kick) + p.count(Voice::Snare) > 0);
}

#[test]
fn generated_grids_are_scene_syntax() {
    let model = RhythmModel::embedded().unwrap();
    let p = model.decode([0.5, 0.5], Conditions::default(), &DecodeOptions::default());
    let lines = ubiq::app::generate::grid_lines(&p);
    assert!(!lines.is_empty());
    for line in lines {
        let (name, grid) = line.split_once(':').unwrap();
        let voice = Voice::from_name(name.trim()).unwrap();
        let row = parse_row(grid.trim().trim_matches('"')).unwrap();
        let hits: Vec<bool> = row.iter().map(|c| c.hit).collect();
        let want: Vec<bool> = p.row(voice).iter().map(|c| c.hit).collect();
        assert_eq!(hits, want);
    }
}

#[test]
fn baselines_behave_on_known_data() {
    let data = fixture(30, 1);
    let same = baseline_nearest(&data, &data);
    assert!(same.f1 > 0.6, "{same:?}");
    let mean = baseline_mean(&data, &data);
    assert!(mean.f1 > 0.0 && mean.f1 < 1.0);
    assert!(mean.kl.is_none());
}
