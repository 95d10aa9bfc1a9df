//! The engine's side of the loop model: load (a file or the embedded default) and embed loops.
//! (The engine renders a cycle's drums and bass itself and hands the samples to
//! [`LoopModel::embed_normalised`].)

use std::path::Path;

use burn::tensor::Device;
use serde::{Deserialize, Serialize};

use super::data::DataConfig;
use super::fast::{EmbedScratch, FastLoopNet};
use super::model::{LoopNet, LoopNetConfig};
use super::train::{TrainingConfig, stack};
use crate::loops::audio::{self, Mono};
use crate::loops::library::PitchLayout;
use crate::loops::mel::{CHROMA_SLICES, LOOP_SAMPLES, MelAnalyser};
use crate::model::artifact::{self, Kind, ModelError, Stored};

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
    /// The plain copy's buffers, kept from one embedding to the next.
    scratch: EmbedScratch,
    device: Device,
    analyser: MelAnalyser,
    /// How its training windows were chosen and rendered, when its metadata was read.
    data: Option<DataConfig>,
    /// Where it came from.
    pub origin: String,
}

impl Stored for LoopModel {
    const KIND: Kind = Kind::Loops;
    const EMBEDDED_WEIGHTS: &'static [u8] = EMBEDDED_WEIGHTS;
    const EMBEDDED_META: &'static str = EMBEDDED_META;
    const EMBEDDED_ORIGIN: &'static str = "embedded loop model";
    type Meta = ModelMeta;

    /// A loop model needs its metadata (the data configuration evaluation follows).
    fn default_meta() -> Option<ModelMeta> {
        None
    }

    fn from_parts(
        bytes: &[u8],
        meta: ModelMeta,
        device: Device,
        origin: &str,
    ) -> Result<Self, ModelError> {
        let mut model = Self::from_bytes(bytes, &meta.training.model, device, origin)?;
        model.data = Some(meta.training.data);
        Ok(model)
    }
}

impl LoopModel {
    /// Wraps a trained network.
    pub fn new(net: LoopNet, device: Device, origin: &str) -> Self {
        LoopModel {
            fast: FastLoopNet::of(&net).ok(),
            scratch: EmbedScratch::default(),
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
    ) -> Result<Self, ModelError> {
        let net = artifact::load_weights(config.init(&device), bytes, Kind::Loops, origin)?;
        let model = Self::new(net, device, origin);
        if model.fast.is_none() {
            // Copied once in `new`; only a refusal asks again, for its reason.
            FastLoopNet::of(&model.net).map_err(|e| ModelError::Format {
                kind: Kind::Loops,
                origin: origin.to_string(),
                reason: e.to_string(),
            })?;
        }
        Ok(model)
    }

    /// Where its embeddings hold the chroma branch's features, which move with the pitch
    /// (none for a model without the branch).
    pub fn pitch_layout(&self) -> Option<PitchLayout> {
        let last = self.net.chroma_convs().last()?;
        let [channels, _, _] = last.weight.dims();
        Some(PitchLayout {
            channels: channels * CHROMA_SLICES,
        })
    }

    /// The default model compiled into the binary.
    pub fn embedded(device: Device) -> Result<Self, ModelError> {
        artifact::embedded(device)
    }

    /// Loads `path` (`.bpk`) with its metadata `path.json`-beside (same stem, `.json`).
    pub fn load(path: &Path, device: Device) -> Result<Self, ModelError> {
        artifact::load(path, device)
    }

    /// The weights as burnpack bytes.
    pub fn to_bytes(&self) -> Result<Vec<u8>, ModelError> {
        artifact::weights(&self.net, Kind::Loops, &self.origin)
    }

    /// Writes the weights to `path` and the metadata beside it (`.json`), atomically.
    pub fn save(&self, path: &Path, meta: &ModelMeta) -> Result<(), ModelError> {
        artifact::save(&self.net, path, meta, Kind::Loops, &self.origin)
    }

    /// The network.
    pub fn net(&self) -> &LoopNet {
        &self.net
    }

    /// Embeds a tempo-normalised two-bar loop already at 16 kHz (4 s; shorter is zero-padded).
    pub fn embed_normalised(&mut self, samples: &[f32]) -> Vec<f32> {
        let input = self.analyser.model_input(samples);
        if let Some(fast) = &self.fast {
            return fast.embed_with(&input, &mut self.scratch);
        }
        let x = stack(std::iter::once(input.as_slice()), &self.device);
        self.net
            .forward(x)
            .into_data()
            .try_to_vec::<f32>()
            .unwrap_or_default()
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
