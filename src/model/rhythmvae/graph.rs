//! A TensorFlow.js layers model run on plain floats: the layers M4L.RhythmVAE's networks are
//! made of (dense, batch norm in inference mode, leaky ReLU, concatenation, and the device's
//! sampling layer, which gives its mean here), in the order of the file, one example at a time.
//! Any other layer, activation or option is refused in one line naming the layer.

use serde_json::Value;

use super::tfjs::{TfjsError, TfjsModel};
use crate::fastmath;
use crate::model::plain::avx2_dispatch;

/// An activation a dense layer may end with.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Activation {
    Linear,
    Relu,
    Sigmoid,
    Tanh,
}

/// One computation, reading earlier nodes by index.
#[derive(Debug, Clone)]
enum Op {
    /// The model's input number `n`.
    Input(usize),
    /// `y = act(x · kernel + bias)`, kernel `[inputs × outputs]` row-major.
    Dense {
        input: usize,
        kernel: Vec<f32>,
        bias: Vec<f32>,
        activation: Activation,
    },
    /// `y = (x − mean) / sqrt(variance + epsilon) · gamma + beta`.
    BatchNorm {
        input: usize,
        mean: Vec<f32>,
        variance: Vec<f32>,
        gamma: Vec<f32>,
        beta: Vec<f32>,
        epsilon: f32,
    },
    /// `y = x` for x ≥ 0, else `alpha · x`.
    LeakyRelu { input: usize, alpha: f32 },
    /// The inputs side by side.
    Concat(Vec<usize>),
    /// The device's sampling layer (mean, log-variance): its mean.
    Sample(usize),
}

/// A compiled model.
#[derive(Debug, Clone)]
pub struct Graph {
    ops: Vec<Op>,
    widths: Vec<usize>,
    /// Where each node's output starts in the run's buffer (and, last, its length).
    offsets: Vec<usize>,
    inputs: Vec<usize>,
    outputs: Vec<usize>,
}

fn activation(name: &str) -> Option<Activation> {
    Some(match name {
        "linear" => Activation::Linear,
        "relu" => Activation::Relu,
        "sigmoid" => Activation::Sigmoid,
        "tanh" => Activation::Tanh,
        _ => return None,
    })
}

impl Graph {
    /// Compiles `model` (read from `path`, named in errors).
    pub fn compile(model: &TfjsModel, path: &std::path::Path) -> Result<Graph, TfjsError> {
        let err = |m: String| TfjsError {
            path: path.to_path_buf(),
            message: m,
        };
        let mut index: std::collections::HashMap<&str, usize> = Default::default();
        let (mut ops, mut widths) = (Vec::new(), Vec::new());
        for layer in &model.layers {
            let name = layer.name.as_str();
            let cfg = &layer.config;
            let from = |i: usize| -> Result<usize, TfjsError> {
                let n = layer
                    .inputs
                    .get(i)
                    .ok_or_else(|| err(format!("layer {name} reads no layer")))?;
                index.get(n.as_str()).copied().ok_or_else(|| {
                    err(format!(
                        "layer {name} reads {n}, which comes later or not at all"
                    ))
                })
            };
            let weight = |kind: &str, len: usize| -> Result<Vec<f32>, TfjsError> {
                let w = model
                    .weights
                    .get(&format!("{name}/{kind}"))
                    .ok_or_else(|| err(format!("layer {name}: no weight {kind}")))?;
                if w.len() != len {
                    return Err(err(format!(
                        "layer {name}: weight {kind} holds {} values, not {len}",
                        w.len()
                    )));
                }
                Ok(w.clone())
            };
            let one = |ops_len: usize| -> Result<(), TfjsError> {
                if layer.inputs.len() == ops_len {
                    Ok(())
                } else {
                    Err(err(format!(
                        "layer {name} reads {} layers",
                        layer.inputs.len()
                    )))
                }
            };
            let (op, width) = match layer.class.as_str() {
                "InputLayer" => {
                    let shape = cfg
                        .get("batch_input_shape")
                        .and_then(Value::as_array)
                        .filter(|s| s.len() == 2)
                        .and_then(|s| s[1].as_u64())
                        .ok_or_else(|| err(format!("input {name}: only flat inputs [batch, n]")))?;
                    let n = model
                        .inputs
                        .iter()
                        .position(|i| i == name)
                        .ok_or_else(|| err(format!("input {name} is no input of the model")))?;
                    (Op::Input(n), shape as usize)
                }
                "Dense" => {
                    one(1)?;
                    let input = from(0)?;
                    let units = cfg
                        .get("units")
                        .and_then(Value::as_u64)
                        .filter(|&u| (1..=1 << 16).contains(&u))
                        .ok_or_else(|| err(format!("layer {name}: no units")))?
                        as usize;
                    let act = cfg
                        .get("activation")
                        .and_then(Value::as_str)
                        .unwrap_or("linear");
                    let act = activation(act).ok_or_else(|| {
                        err(format!("layer {name}: activation {act:?} is not supported"))
                    })?;
                    let kernel = weight("kernel", widths[input] * units)?;
                    let bias = if cfg.get("use_bias").and_then(Value::as_bool).unwrap_or(true) {
                        weight("bias", units)?
                    } else {
                        vec![0.0; units]
                    };
                    (
                        Op::Dense {
                            input,
                            kernel,
                            bias,
                            activation: act,
                        },
                        units,
                    )
                }
                "BatchNormalization" => {
                    one(1)?;
                    let input = from(0)?;
                    let n = widths[input];
                    let axis = cfg.get("axis").and_then(Value::as_i64).unwrap_or(-1);
                    if axis != -1 && axis != 1 {
                        return Err(err(format!("layer {name}: batch norm over axis {axis}")));
                    }
                    let flag = |k: &str| cfg.get(k).and_then(Value::as_bool).unwrap_or(true);
                    let epsilon = cfg.get("epsilon").and_then(Value::as_f64).unwrap_or(1e-3) as f32;
                    (
                        Op::BatchNorm {
                            input,
                            mean: weight("moving_mean", n)?,
                            variance: weight("moving_variance", n)?,
                            gamma: if flag("scale") {
                                weight("gamma", n)?
                            } else {
                                vec![1.0; n]
                            },
                            beta: if flag("center") {
                                weight("beta", n)?
                            } else {
                                vec![0.0; n]
                            },
                            epsilon,
                        },
                        n,
                    )
                }
                "LeakyReLU" => {
                    one(1)?;
                    let input = from(0)?;
                    let alpha = cfg.get("alpha").and_then(Value::as_f64).unwrap_or(0.3) as f32;
                    (Op::LeakyRelu { input, alpha }, widths[input])
                }
                "Concatenate" => {
                    let axis = cfg.get("axis").and_then(Value::as_i64).unwrap_or(-1);
                    if axis != -1 && axis != 1 {
                        return Err(err(format!("layer {name}: concatenation over axis {axis}")));
                    }
                    let parts = (0..layer.inputs.len())
                        .map(from)
                        .collect::<Result<Vec<_>, _>>()?;
                    let width = parts.iter().map(|&p| widths[p]).sum();
                    (Op::Concat(parts), width)
                }
                "sampleLayer" => {
                    one(2)?;
                    let (mean, log_var) = (from(0)?, from(1)?);
                    if widths[mean] != widths[log_var] {
                        return Err(err(format!(
                            "layer {name}: mean and log-variance differ in width"
                        )));
                    }
                    (Op::Sample(mean), widths[mean])
                }
                other => {
                    return Err(err(format!(
                        "layer {name}: a {other} layer is not supported"
                    )));
                }
            };
            index.insert(name, ops.len());
            ops.push(op);
            widths.push(width);
        }
        let find = |n: &String| {
            index
                .get(n.as_str())
                .copied()
                .ok_or_else(|| err(format!("the model's input or output {n} is no layer")))
        };
        let offsets = std::iter::once(0)
            .chain(widths.iter().scan(0, |end, w| {
                *end += w;
                Some(*end)
            }))
            .collect();
        Ok(Graph {
            offsets,
            inputs: model.inputs.iter().map(find).collect::<Result<_, _>>()?,
            outputs: model.outputs.iter().map(find).collect::<Result<_, _>>()?,
            ops,
            widths,
        })
    }

    /// Widths of the model's inputs, in order.
    pub fn input_widths(&self) -> Vec<usize> {
        self.inputs.iter().map(|&i| self.widths[i]).collect()
    }

    /// Widths of the model's outputs, in order.
    pub fn output_widths(&self) -> Vec<usize> {
        self.outputs.iter().map(|&i| self.widths[i]).collect()
    }

    avx2_dispatch! {
        /// Runs one example: `inputs` in the model's order (each of its width); the outputs in
        /// the model's order. Missing input values read as zero.
        pub fn run(&self, inputs: &[&[f32]]) -> Vec<Vec<f32>> = run_plain via run_avx2;
    }

    // Always inlined, so that the AVX2 copy of `run` compiles its loops for AVX2.
    #[inline(always)]
    fn run_plain(&self, inputs: &[&[f32]]) -> Vec<Vec<f32>> {
        // Every node's output in one buffer, each after the nodes it reads.
        let mut arena = vec![0.0f32; self.offsets.last().copied().unwrap_or(0)];
        for (i, op) in self.ops.iter().enumerate() {
            let (done, rest) = arena.split_at_mut(self.offsets[i]);
            let out = &mut rest[..self.widths[i]];
            let at = |j: usize| &done[self.offsets[j]..self.offsets[j] + self.widths[j]];
            match op {
                Op::Input(n) => {
                    let x = inputs.get(*n).copied().unwrap_or(&[]);
                    for (o, v) in out.iter_mut().zip(x) {
                        *o = *v;
                    }
                }
                Op::Dense {
                    input,
                    kernel,
                    bias,
                    activation,
                } => {
                    out.copy_from_slice(bias);
                    for (row, &xi) in kernel.chunks_exact(out.len()).zip(at(*input)) {
                        for (y, &k) in out.iter_mut().zip(row) {
                            *y += xi * k;
                        }
                    }
                    // One activation per loop, in plain arithmetic, so each vectorises: the
                    // heads' 2,592 exponentials were most of a decode with the C library's.
                    match activation {
                        Activation::Linear => {}
                        Activation::Relu => out.iter_mut().for_each(|v| *v = v.max(0.0)),
                        Activation::Sigmoid => {
                            out.iter_mut().for_each(|v| *v = fastmath::sigmoid(*v))
                        }
                        Activation::Tanh => out.iter_mut().for_each(|v| *v = fastmath::tanh(*v)),
                    }
                }
                Op::BatchNorm {
                    input,
                    mean,
                    variance,
                    gamma,
                    beta,
                    epsilon,
                } => {
                    for (k, (o, x)) in out.iter_mut().zip(at(*input)).enumerate() {
                        *o = (x - mean[k]) / (variance[k] + epsilon).sqrt() * gamma[k] + beta[k];
                    }
                }
                Op::LeakyRelu { input, alpha } => {
                    for (o, &x) in out.iter_mut().zip(at(*input)) {
                        *o = if x >= 0.0 { x } else { alpha * x };
                    }
                }
                Op::Concat(parts) => {
                    let mut k = 0;
                    for &p in parts {
                        let part = at(p);
                        out[k..k + part.len()].copy_from_slice(part);
                        k += part.len();
                    }
                }
                Op::Sample(mean) => out.copy_from_slice(at(*mean)),
            }
        }
        self.outputs
            .iter()
            .map(|&o| arena[self.offsets[o]..self.offsets[o] + self.widths[o]].to_vec())
            .collect()
    }
}
