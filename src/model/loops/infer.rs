//! The engine's side of the loop model: load (a file or the embedded default) and embed loops.

use std::path::Path;
use std::sync::OnceLock;

use burn::module::Module;
use burn::store::ModuleRecord;
use burn::tensor::{Bytes, Device};
use serde::{Deserialize, Serialize};

use super::LoopModelError;
use super::data::DataConfig;
use super::fast::FastLoopNet;
use super::model::{LoopNet, LoopNetConfig};
use super::train::{TrainingConfig, stack};
use crate::audio::query::QueryRenderer;
use crate::audio::{AudioMsg, CyclePlan, link};
use crate::loops::audio::{self, Mono};
use crate::loops::mel::{LOOP_SAMPLES, MelAnalyser, SAMPLE_RATE};
use crate::pattern::{Bassline, DrumPattern};

/// Renders one cycle of `drums` and `bass` at 120 BPM through the instrument's own graph, mono
/// at `sample_rate`, aligned to the downbeat.
pub fn render_cycle(
    drums: &DrumPattern,
    bass: &Bassline,
    bass_tonic: u8,
    sample_rate: u32,
) -> Vec<f32> {
    let (mut handle, mut core) = link(sample_rate, 1);
    // A fresh queue has room for one cycle.
    let _ = handle.send(AudioMsg::Cycle(CyclePlan::new(
        drums, bass, bass_tonic, 120.0, 50.0,
    )));
    let frames = audio::bar_frames(2, 120.0, sample_rate);
    let latency = core.latency();
    let mut out = vec![0.0f32; (frames + latency) * 2];
    for block in out.chunks_mut(1024) {
        core.process(block);
    }
    audio::mix_down(&out[latency * 2..], 2)
}

/// Renders the loop model's query for one cycle of `drums` and `bass`: 120 BPM, dry (no sends),
/// mono at the model's 16 kHz, from the downbeat, through the cheap [`QueryRenderer`].
pub fn render_query(drums: &DrumPattern, bass: &Bassline, bass_tonic: u8) -> Vec<f32> {
    static RENDERER: OnceLock<QueryRenderer> = OnceLock::new();
    let plan = CyclePlan::new(drums, bass, bass_tonic, 120.0, 50.0);
    RENDERER
        .get_or_init(|| QueryRenderer::new(SAMPLE_RATE))
        .render(&plan)
}

/// The default model's weights (trained on stems of the Freedoom and Simutrans songs rendered
/// with FluidR3 GM; see `models/loops.manifest.md`).
pub const EMBEDDED_WEIGHTS: &[u8] = include_bytes!("../../../models/loops.bpk");
/// The default model's metadata.
pub const EMBEDDED_META: &str = include_str!("../../../models/loops.json");

/// Metadata stored beside a model's weights (`NAME.json` next to `NAME.bpk`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ModelMeta {
    /// Always `"ubiq-loop-cnn"`.
    pub kind: String,
    /// The training configuration (architecture included).
    pub training: TrainingConfig,
    /// Training / validation windows and songs.
    pub data: String,
    /// Best validation epoch (by the mean of both anchor kinds' accuracies).
    pub best_epoch: usize,
    /// Validation triplet accuracy of that epoch with SoundFont-rendered anchors.
    pub valid_accuracy: f64,
    /// Validation triplet accuracy of that epoch with ubiq-rendered anchors.
    #[serde(default)]
    pub valid_accuracy_ubiq: f64,
    /// Training time in seconds (wall clock, rendering excluded).
    pub training_seconds: f64,
    /// Processor time of the whole run in seconds (all threads, rendering included), when known.
    #[serde(default)]
    pub cpu_seconds: Option<f64>,
}

/// A loaded loop model with its spectrogram analyser.
#[derive(Debug)]
pub struct LoopModel {
    net: LoopNet,
    /// The plain-float copy embeddings run on (none when a weight is not finite:
    /// [`LoopModel::from_bytes`] refuses such a file, training may still hold one).
    fast: Option<FastLoopNet>,
    device: Device,
    analyser: MelAnalyser,
    /// How its training windows were chosen and rendered, when its metadata was read.
    data: Option<DataConfig>,
    /// Where it came from.
    pub origin: String,
}

impl LoopModel {
    /// Wraps a trained network.
    pub fn new(net: LoopNet, device: Device, origin: &str) -> Self {
        LoopModel {
            fast: FastLoopNet::of(&net).ok(),
            net,
            device,
            analyser: MelAnalyser::new(),
            data: None,
            origin: origin.to_string(),
        }
    }

    /// How its training windows were chosen and rendered (from its metadata; `None` for a
    /// network wrapped by [`LoopModel::new`] or loaded by [`LoopModel::from_bytes`] alone).
    /// Evaluation prepares its songs the same way.
    pub fn data_config(&self) -> Option<&DataConfig> {
        self.data.as_ref()
    }

    /// A model from burnpack bytes of the architecture `config`.
    pub fn from_bytes(
        bytes: &[u8],
        config: &LoopNetConfig,
        device: Device,
        origin: &str,
    ) -> Result<Self, LoopModelError> {
        let format = |reason: String| LoopModelError::Format {
            origin: origin.to_string(),
            reason,
        };
        let record = ModuleRecord::from_bytes(Bytes::from_bytes_vec(bytes.to_vec()))
            .map_err(|e| format(e.to_string()))?;
        let net = config
            .init(&device)
            .try_load_record(record)
            .map_err(|e| format(e.to_string()))?;
        let model = Self::new(net, device, origin);
        if model.fast.is_none() {
            // Copied once in `new`; only a refusal asks again, for its reason.
            FastLoopNet::of(&model.net).map_err(format)?;
        }
        Ok(model)
    }

    /// The default model compiled into the binary.
    pub fn embedded(device: Device) -> Result<Self, LoopModelError> {
        let meta: ModelMeta =
            serde_json::from_str(EMBEDDED_META).map_err(|e| LoopModelError::Format {
                origin: "embedded loop model".into(),
                reason: e.to_string(),
            })?;
        let mut model = Self::from_bytes(
            EMBEDDED_WEIGHTS,
            &meta.training.model,
            device,
            "embedded loop model",
        )?;
        model.data = Some(meta.training.data);
        Ok(model)
    }

    /// Loads `path` (`.bpk`) with its metadata `path.json`-beside (same stem, `.json`).
    pub fn load(path: &Path, device: Device) -> Result<Self, LoopModelError> {
        let origin = path.display().to_string();
        let fail = |reason: String| LoopModelError::Format {
            origin: origin.clone(),
            reason,
        };
        let meta_path = path.with_extension("json");
        let meta: ModelMeta = serde_json::from_str(
            &std::fs::read_to_string(&meta_path)
                .map_err(|e| fail(format!("{}: {e}", meta_path.display())))?,
        )
        .map_err(|e| fail(e.to_string()))?;
        let bytes = std::fs::read(path).map_err(|e| fail(e.to_string()))?;
        let mut model = Self::from_bytes(&bytes, &meta.training.model, device, &origin)?;
        model.data = Some(meta.training.data);
        Ok(model)
    }

    /// The weights as burnpack bytes.
    pub fn to_bytes(&self) -> Result<Vec<u8>, LoopModelError> {
        let bytes =
            self.net
                .clone()
                .into_record()
                .into_bytes()
                .map_err(|e| LoopModelError::Format {
                    origin: self.origin.clone(),
                    reason: e.to_string(),
                })?;
        Ok(bytes.to_vec())
    }

    /// Writes the weights to `path` and the metadata beside it (`.json`), atomically.
    pub fn save(&self, path: &Path, meta: &ModelMeta) -> Result<(), LoopModelError> {
        let write = |p: &Path, bytes: &[u8]| {
            crate::files::write_atomic(p, bytes).map_err(|e| LoopModelError::Write {
                path: p.display().to_string(),
                message: e.to_string(),
            })
        };
        write(path, &self.to_bytes()?)?;
        let json = serde_json::to_string_pretty(meta).map_err(|e| LoopModelError::Write {
            path: path.display().to_string(),
            message: e.to_string(),
        })?;
        write(&path.with_extension("json"), json.as_bytes())
    }

    /// The network.
    pub fn net(&self) -> &LoopNet {
        &self.net
    }

    /// Embeds a tempo-normalised two-bar loop already at 16 kHz (4 s; shorter is zero-padded).
    pub fn embed_normalised(&mut self, samples: &[f32]) -> Vec<f32> {
        let input = self.analyser.model_input(samples);
        if let Some(fast) = &self.fast {
            return fast.embed(&input);
        }
        let x = stack(std::iter::once(input.as_slice()), &self.device);
        self.net
            .forward(x)
            .into_data()
            .try_to_vec::<f32>()
            .unwrap_or_default()
    }

    /// Embeds a cycle of drums and bass: rendered dry by [`render_query`] (ubiq's own drum
    /// machine and bass synth at 120 BPM and 16 kHz, tempo-normalised), then embedded. This is
    /// the query the library ranks loops against.
    pub fn embed_cycle(
        &mut self,
        drums: &DrumPattern,
        bass: &Bassline,
        bass_tonic: u8,
    ) -> Vec<f32> {
        let audio = render_query(drums, bass, bass_tonic);
        self.embed_normalised(&audio)
    }

    /// Embeds a loop of `bars` bars at `tempo_bpm`: its first two bars are resampled to 4 s at
    /// 16 kHz (tempo normalisation to 120 BPM; one bar is repeated).
    pub fn embed_loop(&mut self, audio: &Mono, tempo_bpm: f32, bars: u32) -> Vec<f32> {
        let two_bars = audio::bar_frames(2, tempo_bpm, audio.sample_rate);
        let mut samples: Vec<f32> = if bars >= 2 {
            audio.samples.iter().copied().take(two_bars).collect()
        } else {
            audio
                .samples
                .iter()
                .chain(&audio.samples)
                .copied()
                .take(two_bars)
                .collect()
        };
        samples.resize(two_bars, 0.0);
        let normalised = audio::resample_to(&samples, LOOP_SAMPLES, true);
        self.embed_normalised(&normalised)
    }
}
