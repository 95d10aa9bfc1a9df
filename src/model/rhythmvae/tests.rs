//! A model of the device's architecture written by the project itself (no GPL files), read
//! back, run, and refused where it is broken.

use std::path::Path;

use serde_json::json;

use super::graph::Graph;
use super::tfjs::{LayerSpec, TfjsModel, WeightSpec};
use super::*;
use crate::model::rng::Rng;

/// Builds layers models one layer at a time, with seeded weights.
struct Builder {
    model: TfjsModel,
    rng: Rng,
}

impl Builder {
    fn new(seed: u64) -> Self {
        Builder {
            model: TfjsModel {
                layers: Vec::new(),
                inputs: Vec::new(),
                outputs: Vec::new(),
                weights: Default::default(),
                manifest: Vec::new(),
            },
            rng: Rng::new(seed),
        }
    }

    fn layer(
        &mut self,
        class: &str,
        name: &str,
        config: serde_json::Value,
        inputs: &[&str],
    ) -> String {
        let mut config = config;
        config["name"] = json!(name);
        self.model.layers.push(LayerSpec {
            class: class.into(),
            name: name.into(),
            config,
            inputs: inputs.iter().map(|s| s.to_string()).collect(),
        });
        name.to_string()
    }

    fn weight(&mut self, name: &str, shape: &[usize], values: impl Fn(&mut Rng) -> f32) {
        let n = shape.iter().product();
        let v = (0..n).map(|_| values(&mut self.rng)).collect();
        self.model.weights.insert(name.into(), v);
        self.model.manifest.push(WeightSpec {
            name: name.into(),
            shape: shape.to_vec(),
            dtype: "float32".into(),
        });
    }

    fn input(&mut self, name: &str, width: usize) -> String {
        self.model.inputs.push(name.into());
        self.layer(
            "InputLayer",
            name,
            json!({"batch_input_shape": [null, width], "dtype": "float32"}),
            &[],
        )
    }

    fn dense(&mut self, name: &str, from: &str, inputs: usize, units: usize, act: &str) -> String {
        self.weight(&format!("{name}/kernel"), &[inputs, units], |r| {
            r.normal() * 0.3
        });
        self.weight(&format!("{name}/bias"), &[units], |r| r.normal() * 0.1);
        self.layer(
            "Dense",
            name,
            json!({"units": units, "activation": act, "use_bias": true}),
            &[from],
        )
    }

    /// Dense, batch norm and leaky ReLU, as the device chains them.
    fn block(&mut self, name: &str, from: &str, inputs: usize, units: usize) -> String {
        let d = self.dense(&format!("{name}_dense"), from, inputs, units, "linear");
        let bn = format!("{name}_bn");
        self.weight(&format!("{bn}/gamma"), &[units], |r| 1.0 + r.normal() * 0.1);
        self.weight(&format!("{bn}/beta"), &[units], |r| r.normal() * 0.1);
        self.weight(&format!("{bn}/moving_mean"), &[units], |r| r.normal() * 0.2);
        self.weight(&format!("{bn}/moving_variance"), &[units], |r| {
            0.5 + r.uniform()
        });
        self.layer(
            "BatchNormalization",
            &bn,
            json!({"axis": 1, "epsilon": 0.001}),
            &[&d],
        );
        self.layer(
            "LeakyReLU",
            &format!("{name}_act"),
            json!({"alpha": 0.3}),
            &[&bn],
        )
    }
}

/// A model of the device's architecture with seeded weights: its decoder, encoder and
/// statistics (`ticks` of 96 or 32, 2 or 3 conditions).
pub(crate) fn device_fixture(
    ticks: usize,
    conditions: usize,
    seed: u64,
) -> (TfjsModel, TfjsModel, DeviceStats) {
    let cells = ticks * CLASSES.len();
    let names: Vec<String> = (0..conditions).map(|c| format!("cond{c}")).collect();
    let mut d = Builder::new(seed);
    let z = d.input("z", 2);
    let a = d.block("d1", &z, 2, 64);
    for n in &names {
        d.input(n, 1);
    }
    let mut parts = vec![a.as_str()];
    parts.extend(names.iter().map(String::as_str));
    let cat = d.layer("Concatenate", "dcat", json!({"axis": -1}), &parts);
    let b = d.block("d2", &cat, 64 + conditions, 64);
    for (head, act) in [
        ("onsets", "sigmoid"),
        ("velocities", "sigmoid"),
        ("shifts", "tanh"),
    ] {
        let h = d.block(&format!("h_{head}"), &b, 64, 64);
        let out = d.dense(&format!("out_{head}"), &h, 64, cells, act);
        d.model.outputs.push(out);
    }
    let mut e = Builder::new(seed + 1);
    let mut joined = Vec::new();
    for head in ["onsets", "velocities", "shifts"] {
        let i = e.input(&format!("in_{head}"), cells);
        joined.push(e.block(&format!("e_{head}"), &i, cells, 64));
    }
    for n in &names {
        e.input(n, 1);
        joined.push(n.clone());
    }
    let refs: Vec<&str> = joined.iter().map(String::as_str).collect();
    let cat = e.layer("Concatenate", "ecat", json!({"axis": -1}), &refs);
    let j = e.block("e_joint", &cat, 3 * 64 + conditions, 64);
    let k = e.block("e_small", &j, 64, 32);
    let mean = e.dense("mean", &k, 32, 2, "linear");
    let log_var = e.dense("log_var", &k, 32, 2, "linear");
    let sample = e.layer("sampleLayer", "sample", json!({}), &[&mean, &log_var]);
    e.model.outputs = vec![mean, log_var, sample];
    let stats = DeviceStats {
        onset_kick_mean: 9.2,
        onset_kick_std: 3.2,
        onset_hats_mean: 10.6,
        onset_hats_std: 3.7,
        onoff_ratio_mean: (conditions == 3).then_some(0.77),
        onoff_ratio_std: (conditions == 3).then_some(0.82),
    };
    (d.model, e.model, stats)
}

/// Writes a fixture in the device's folder layout.
pub(crate) fn write_device_folder(dir: &Path, ticks: usize, conditions: usize, seed: u64) {
    let (decoder, encoder, stats) = device_fixture(ticks, conditions, seed);
    decoder.save(&dir.join("decoder")).unwrap();
    encoder.save(&dir.join("encoder")).unwrap();
    std::fs::write(
        dir.join("model_rvae.json"),
        serde_json::to_vec(&stats).unwrap(),
    )
    .unwrap();
}

#[test]
fn the_layers_compute_what_keras_defines() {
    let mut b = Builder::new(1);
    b.input("x", 2);
    b.model
        .weights
        .insert("d/kernel".into(), vec![1.0, -1.0, 2.0, 0.5]);
    b.model.weights.insert("d/bias".into(), vec![0.5, 0.0]);
    b.layer(
        "Dense",
        "d",
        json!({"units": 2, "activation": "linear"}),
        &["x"],
    );
    for (k, v) in [
        ("gamma", [2.0, 1.0]),
        ("beta", [0.1, 0.0]),
        ("moving_mean", [1.0, 0.0]),
        ("moving_variance", [3.999, 1.0]),
    ] {
        b.model.weights.insert(format!("bn/{k}"), v.to_vec());
    }
    b.layer(
        "BatchNormalization",
        "bn",
        json!({"epsilon": 0.001}),
        &["d"],
    );
    b.layer("LeakyReLU", "act", json!({"alpha": 0.3}), &["bn"]);
    b.model.outputs = vec!["d".into(), "act".into()];
    let g = Graph::compile(&b.model, Path::new("m.json")).unwrap();
    let out = g.run(&[&[3.0, 4.0]]);
    // x · kernel + bias: (3·1 + 4·2 + 0.5, 3·(−1) + 4·0.5) = (11.5, −1).
    assert_eq!(out[0], [11.5, -1.0]);
    // (11.5 − 1) / 2 · 2 + 0.1 = 10.6; (−1 − 0) / sqrt(1.001) → ×0.3 below zero.
    assert!((out[1][0] - 10.6).abs() < 1e-5, "{:?}", out[1]);
    assert!(
        (out[1][1] - 0.3 * (-1.0 / 1.001f32.sqrt())).abs() < 1e-6,
        "{:?}",
        out[1]
    );
}

#[test]
fn a_device_folder_reads_back_and_decodes_exactly_as_written() {
    for (ticks, conditions) in [(FINE_TICKS, 3), (STEP_TICKS, 2)] {
        let dir = tempfile::tempdir().unwrap();
        write_device_folder(dir.path(), ticks, conditions, 7);
        let model = DeviceModel::load(dir.path()).unwrap();
        assert_eq!((model.ticks, model.conditions), (ticks, conditions));
        let (decoder, _, _) = device_fixture(ticks, conditions, 7);
        let direct = Graph::compile(&decoder, Path::new("m.json")).unwrap();
        let raw = model.decode_raw([0.5, -1.0], [1.0, -0.5, 0.3]);
        let conds = [[1.0f32], [-0.5], [0.3]];
        let mut inputs: Vec<&[f32]> = vec![&[0.5, -1.0]];
        inputs.extend(conds.iter().take(conditions).map(|c| c.as_slice()));
        let expected = direct.run(&inputs);
        assert_eq!(raw.onsets, expected[0]);
        assert_eq!(raw.shifts, expected[2]);
        assert_eq!(raw.onsets.len(), 9 * ticks);
        assert!(
            raw.onsets
                .iter()
                .chain(&raw.velocities)
                .all(|p| (0.0..=1.0).contains(p))
        );
        assert!(raw.shifts.iter().all(|s| (-1.0..=1.0).contains(s)));
        let z = model.encode_raw(&raw, [1.0, -0.5, 0.3]);
        assert!(z.iter().all(|v| v.is_finite()));
    }
}

#[test]
fn what_the_reader_does_not_understand_is_refused_naming_the_layer_or_weight() {
    let dir = tempfile::tempdir().unwrap();
    write_device_folder(dir.path(), FINE_TICKS, 3, 3);
    let decoder = dir.path().join("decoder");
    let json = std::fs::read_to_string(decoder.join("model.json")).unwrap();
    let bin = std::fs::read(decoder.join("weights.bin")).unwrap();
    let refused = |json: &str, bin: &[u8], expected: &str| {
        std::fs::write(decoder.join("model.json"), json).unwrap();
        std::fs::write(decoder.join("weights.bin"), bin).unwrap();
        let Err(e) = DeviceModel::load(dir.path()).map(|_| ()) else {
            panic!("{expected:?}: the model loaded");
        };
        let e = e.to_string();
        assert!(e.contains(expected), "{expected:?} in {e:?}");
        assert!(!e.contains('\n'), "{e}");
    };
    refused(
        &json.replace("\"LeakyReLU\"", "\"PReLU\""),
        &bin,
        "layer d1_act: a PReLU layer is not supported",
    );
    refused(
        &json.replacen("\"sigmoid\"", "\"softmax\"", 1),
        &bin,
        "layer out_onsets: activation \"softmax\"",
    );
    refused(
        &json,
        &bin[..bin.len() - 4],
        "weight out_shifts/bias: the weight files end before it",
    );
    refused(
        &json,
        &[bin.as_slice(), &[0; 8]].concat(),
        "8 bytes of weights past the manifest",
    );
    refused(
        &json.replace("weights.bin", "../weights.bin"),
        &bin,
        "is not in the model's folder",
    );
    let at = json.rfind("float32").unwrap();
    let int = format!("{}int32{}", &json[..at], &json[at + 7..]);
    refused(&int, &bin, "dtype int32");
    let mut nan = bin.clone();
    nan[0..4].copy_from_slice(&f32::NAN.to_le_bytes());
    refused(
        &json,
        &nan,
        "weight d1_dense/kernel: value 0 is not a number",
    );
    refused("{", &bin, "decoder/model.json: not JSON");
}

#[test]
fn ticks_become_sixteenths_with_their_offsets_and_clap_and_rim_play_the_snare() {
    let ticks = FINE_TICKS;
    let mut raw = RawOutput {
        ticks,
        onsets: vec![0.0; 9 * ticks],
        velocities: vec![0.5; 9 * ticks],
        shifts: vec![0.0; 9 * ticks],
    };
    let mut hit = |class: usize, tick: usize, p: f32, v: f32| {
        raw.onsets[class * ticks + tick] = p;
        raw.velocities[class * ticks + tick] = v;
    };
    hit(0, 0, 0.9, 0.8); // kick on the downbeat
    hit(0, 1, 0.6, 0.3); // a less likely kick on the same sixteenth, a third late
    hit(0, 24, 0.4, 1.0); // under the threshold
    hit(1, 13, 0.7, 0.6); // snare a third of a step after sixteenth 4
    hit(7, 47, 0.8, 0.9); // clap a third before sixteenth 16
    hit(8, 95, 0.9, 0.4); // rim a third before the next downbeat: sixteenth 0
    let p = raw.to_pattern(0.5, 1.0);
    let cell = |v: Voice, s: usize| p.row(v)[s];
    assert_eq!(p.count(Voice::Kick), 1);
    assert_eq!(
        (cell(Voice::Kick, 0).velocity, cell(Voice::Kick, 0).offset),
        (0.8, 0.0)
    );
    assert!((cell(Voice::Snare, 4).offset - 1.0 / 3.0).abs() < 1e-6);
    assert!((cell(Voice::Snare, 16).offset + 1.0 / 3.0).abs() < 1e-6);
    assert!(cell(Voice::Snare, 0).hit && (cell(Voice::Snare, 0).velocity - 0.4).abs() < 1e-6);
    assert_eq!(p.count(Voice::Snare), 3);
    let quantised = raw.to_pattern(0.5, 0.0);
    assert_eq!(quantised.row(Voice::Snare)[4].offset, 0.0);
}
