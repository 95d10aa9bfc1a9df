//! TensorFlow.js layers models, as M4L.RhythmVAE saves its encoder and decoder: `model.json`
//! (the Keras topology and a `weightsManifest` naming each weight with its shape) and
//! `weights.bin` (float32, little-endian, concatenated in manifest order).
//!
//! Read as data: both files are bounded, every count checked against the bytes there are, and
//! anything else refused in one line naming the file, the layer or the weight.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::files::read_bounded;

/// Largest `model.json`, in bytes.
pub const TOPOLOGY_LIMIT: u64 = 4 << 20;
/// Largest `weights.bin`, in bytes (the device's models hold under 1 MB).
pub const WEIGHTS_LIMIT: u64 = 256 << 20;

/// A model that cannot be read: one line naming the file and what in it.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{}: {message}", crate::text::escape(&path.display().to_string()))]
pub struct TfjsError {
    /// The file.
    pub path: PathBuf,
    /// What is wrong (the layer or weight it concerns).
    pub message: String,
}

impl TfjsError {
    fn at(path: &Path, message: impl Into<String>) -> Self {
        TfjsError {
            path: path.to_path_buf(),
            message: message.into(),
        }
    }
}

/// One layer of the topology: its kind, name, configuration and the layers it reads.
#[derive(Debug, Clone, PartialEq)]
pub struct LayerSpec {
    /// Keras class (`Dense`, `BatchNormalization`, …).
    pub class: String,
    /// Its name (weights are named after it).
    pub name: String,
    /// Its configuration as the file gives it.
    pub config: Value,
    /// Names of the layers whose outputs it reads, in order.
    pub inputs: Vec<String>,
}

/// A weight as the manifest lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WeightSpec {
    /// `layer/kind`, e.g. `dense_Dense8/kernel`.
    pub name: String,
    /// Its shape.
    pub shape: Vec<usize>,
    /// Always `float32`.
    pub dtype: String,
}

/// A whole layers model: topology, model inputs and outputs, and its weights by name.
#[derive(Debug, Clone, PartialEq)]
pub struct TfjsModel {
    /// The layers in file order.
    pub layers: Vec<LayerSpec>,
    /// The model's input layers, in order.
    pub inputs: Vec<String>,
    /// The model's output layers, in order.
    pub outputs: Vec<String>,
    /// Each weight's values (row-major in its shape), by name.
    pub weights: HashMap<String, Vec<f32>>,
    /// The weights in manifest order (names and shapes).
    pub manifest: Vec<WeightSpec>,
}

/// The names of `[[name, 0, 0], …]` lists (model inputs and outputs, inbound nodes).
fn names(list: &Value) -> Option<Vec<String>> {
    list.as_array()?
        .iter()
        .map(|n| n.get(0)?.as_str().map(str::to_string))
        .collect()
}

impl TfjsModel {
    /// Reads the model in folder `dir` (`model.json` and the weight files it names, which must
    /// be in the same folder).
    pub fn load(dir: &Path) -> Result<TfjsModel, TfjsError> {
        let json_path = dir.join("model.json");
        let bytes = read_bounded(&json_path, TOPOLOGY_LIMIT)
            .map_err(|e| TfjsError::at(&json_path, e.to_string()))?;
        let json: Value = serde_json::from_slice(&bytes)
            .map_err(|e| TfjsError::at(&json_path, format!("not JSON: {e}")))?;
        let err = |m: String| TfjsError::at(&json_path, m);
        let topology = json
            .get("modelTopology")
            .ok_or_else(|| err("no modelTopology".into()))?;
        // Keras saves the model's config at the top or under `model_config`.
        let model = topology.get("model_config").unwrap_or(topology);
        let class = model
            .get("class_name")
            .and_then(Value::as_str)
            .unwrap_or("");
        if class != "Model" && class != "Functional" {
            return Err(err(format!(
                "a {class:?} model (expected a functional Model)"
            )));
        }
        let config = model
            .get("config")
            .ok_or_else(|| err("no model config".into()))?;
        let mut layers = Vec::new();
        for l in config
            .get("layers")
            .and_then(Value::as_array)
            .ok_or_else(|| err("no layers".into()))?
        {
            let class = l.get("class_name").and_then(Value::as_str).unwrap_or("");
            let name = l
                .pointer("/config/name")
                .or_else(|| l.get("name"))
                .and_then(Value::as_str)
                .ok_or_else(|| err(format!("a {class} layer without a name")))?;
            let inputs = match l.get("inbound_nodes").and_then(Value::as_array) {
                None => Vec::new(),
                Some(nodes) if nodes.is_empty() => Vec::new(),
                Some(nodes) if nodes.len() == 1 => names(&nodes[0])
                    .ok_or_else(|| err(format!("layer {name}: unreadable inbound nodes")))?,
                Some(_) => {
                    return Err(err(format!("layer {name} is called more than once")));
                }
            };
            layers.push(LayerSpec {
                class: class.to_string(),
                name: name.to_string(),
                config: l.get("config").cloned().unwrap_or(Value::Null),
                inputs,
            });
        }
        let inputs = config
            .get("input_layers")
            .and_then(names)
            .ok_or_else(|| err("no input_layers".into()))?;
        let outputs = config
            .get("output_layers")
            .and_then(names)
            .ok_or_else(|| err("no output_layers".into()))?;
        let groups = json
            .get("weightsManifest")
            .and_then(Value::as_array)
            .ok_or_else(|| err("no weightsManifest".into()))?;
        let mut weights = HashMap::new();
        let mut manifest = Vec::new();
        for group in groups {
            let specs: Vec<WeightSpec> = group
                .get("weights")
                .cloned()
                .and_then(|w| serde_json::from_value(w).ok())
                .ok_or_else(|| err("a weights group without readable weights".into()))?;
            let mut data = Vec::new();
            for p in group
                .get("paths")
                .and_then(Value::as_array)
                .ok_or_else(|| err("a weights group without paths".into()))?
            {
                let file = p.as_str().unwrap_or("");
                let plain = Path::new(file)
                    .components()
                    .all(|c| matches!(c, std::path::Component::Normal(_)));
                if !plain || file.is_empty() {
                    return Err(err(format!(
                        "weights file {file:?} is not in the model's folder"
                    )));
                }
                let path = dir.join(file);
                data.extend(
                    read_bounded(&path, WEIGHTS_LIMIT)
                        .map_err(|e| TfjsError::at(&path, e.to_string()))?,
                );
            }
            let mut at = 0usize;
            for spec in specs {
                if spec.dtype != "float32" {
                    return Err(err(format!(
                        "weight {}: dtype {} (only float32)",
                        spec.name, spec.dtype
                    )));
                }
                let count = spec
                    .shape
                    .iter()
                    .try_fold(1usize, |n, &d| n.checked_mul(d))
                    .filter(|&n| n <= data.len() / 4)
                    .ok_or_else(|| {
                        err(format!(
                            "weight {}: shape {:?} is too big",
                            spec.name, spec.shape
                        ))
                    })?;
                let end = at + count * 4;
                let Some(raw) = data.get(at..end) else {
                    return Err(err(format!(
                        "weight {}: the weight files end before it ({} bytes)",
                        spec.name,
                        data.len()
                    )));
                };
                let values: Vec<f32> = raw
                    .chunks_exact(4)
                    .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                    .collect();
                if let Some(bad) = values.iter().position(|v| !v.is_finite()) {
                    return Err(err(format!(
                        "weight {}: value {bad} is not a number",
                        spec.name
                    )));
                }
                weights.insert(spec.name.clone(), values);
                manifest.push(spec);
                at = end;
            }
            if at != data.len() {
                return Err(err(format!(
                    "{} bytes of weights past the manifest's {at}",
                    data.len() - at
                )));
            }
        }
        Ok(TfjsModel {
            layers,
            inputs,
            outputs,
            weights,
            manifest,
        })
    }

    /// Writes the model to folder `dir` (created): `model.json` and `weights.bin`, in the
    /// form the device and TensorFlow.js read.
    pub fn save(&self, dir: &Path) -> std::io::Result<()> {
        std::fs::create_dir_all(dir)?;
        let layers: Vec<Value> = self
            .layers
            .iter()
            .map(|l| {
                let inbound: Vec<Value> = l
                    .inputs
                    .iter()
                    .map(|n| serde_json::json!([n, 0, 0, {}]))
                    .collect();
                serde_json::json!({
                    "name": l.name,
                    "class_name": l.class,
                    "config": l.config,
                    "inbound_nodes": if inbound.is_empty() { Vec::new() } else { vec![Value::Array(inbound)] },
                })
            })
            .collect();
        let refs = |v: &[String]| -> Vec<Value> {
            v.iter().map(|n| serde_json::json!([n, 0, 0])).collect()
        };
        let json = serde_json::json!({
            "modelTopology": {
                "class_name": "Model",
                "config": {
                    "name": "model",
                    "layers": layers,
                    "input_layers": refs(&self.inputs),
                    "output_layers": refs(&self.outputs),
                },
                "keras_version": "tfjs-layers 1.5.2",
                "backend": "tensor_flow.js",
            },
            "format": "layers-model",
            "generatedBy": "TensorFlow.js tfjs-layers v1.5.2",
            "convertedBy": null,
            "weightsManifest": [{"paths": ["weights.bin"], "weights": self.manifest}],
        });
        let mut bin = Vec::new();
        for spec in &self.manifest {
            for v in self
                .weights
                .get(&spec.name)
                .map(Vec::as_slice)
                .unwrap_or(&[])
            {
                bin.extend_from_slice(&v.to_le_bytes());
            }
        }
        crate::files::write_atomic(&dir.join("weights.bin"), &bin)?;
        let text = serde_json::to_string(&json).map_err(std::io::Error::other)?;
        crate::files::write_atomic(&dir.join("model.json"), text.as_bytes())
    }
}
