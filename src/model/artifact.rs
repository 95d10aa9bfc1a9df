//! Model files, the same for every model: burnpack weights (`NAME.bpk`) with their metadata
//! beside them (`NAME.json`: the training configuration, the architecture included, and a
//! summary of the run), or the weights and metadata compiled into the binary; and the one error
//! type of the models.

use std::fmt;
use std::path::{Path, PathBuf};

use burn::module::Module;
use burn::store::ModuleRecord;
use burn::tensor::{Bytes, Device};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// Which kind of file an error is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The rhythm VAE.
    Rhythm,
    /// The bass translator.
    Bass,
    /// The loop-compatibility model.
    Loops,
    /// A rhythm model's latent map.
    LatentMap,
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Kind::Rhythm => "rhythm model",
            Kind::Bass => "bass model",
            Kind::Loops => "loop model",
            Kind::LatentMap => "latent map",
        })
    }
}

/// Why loading, saving, training or evaluating a model failed.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// A file could not be read.
    #[error("cannot read {kind} {path}: {source}")]
    Read {
        /// What the file holds.
        kind: Kind,
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// A file could not be written.
    #[error("cannot write {kind} {path}: {source}")]
    Write {
        /// What the file holds.
        kind: Kind,
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The bytes are not a model of this architecture.
    #[error("{origin} is not a usable {kind}: {reason}")]
    Format {
        /// What the bytes should be.
        kind: Kind,
        /// Where they came from (a path or the embedded model's name).
        origin: String,
        /// What was wrong.
        reason: String,
    },
    /// The metadata beside a model file is unreadable.
    #[error("cannot read {kind} configuration {path}: {reason}")]
    Meta {
        /// The model it describes.
        kind: Kind,
        /// The file.
        path: String,
        /// What was wrong.
        reason: String,
    },
    /// Invalid training settings.
    #[error("invalid training settings: {0}")]
    Config(String),
    /// Nothing to learn or measure from (says what is missing, e.g. `training windows`).
    #[error("no {0}")]
    NoData(&'static str),
    /// A song, SoundFont or loop could not be used.
    #[error(transparent)]
    Loop(#[from] crate::loops::LoopError),
    /// The folders of songs could not be read.
    #[error(transparent)]
    Dataset(#[from] crate::dataset::DatasetError),
}

/// The metadata path beside a weights path (`NAME.json` next to `NAME.bpk`).
pub fn meta_path(weights: &Path) -> PathBuf {
    weights.with_extension("json")
}

/// The part of a model's metadata that loading needs: its architecture (`training.model`).
/// Reading only this lets model files written with other training settings (older or newer)
/// load.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct Architecture<C> {
    training: ArchitectureOnly<C>,
}

#[derive(Debug, Clone, serde::Deserialize)]
struct ArchitectureOnly<C> {
    model: C,
}

impl<C> Architecture<C> {
    /// An architecture not read from a file.
    pub fn new(model: C) -> Self {
        Architecture {
            training: ArchitectureOnly { model },
        }
    }

    /// The architecture.
    pub fn model(&self) -> &C {
        &self.training.model
    }
}

/// A model that is stored as weights with metadata beside them.
pub trait Stored: Sized {
    /// What the files hold.
    const KIND: Kind;
    /// The weights compiled into the binary.
    const EMBEDDED_WEIGHTS: &'static [u8];
    /// Their metadata.
    const EMBEDDED_META: &'static str;
    /// What the embedded model is called in messages.
    const EMBEDDED_ORIGIN: &'static str;
    /// What loading reads from the metadata.
    type Meta: DeserializeOwned;

    /// The metadata assumed for weights without a metadata file (none: the file is required).
    fn default_meta() -> Option<Self::Meta>;

    /// The model of burnpack `bytes` described by `meta`, on `device`.
    fn from_parts(
        bytes: &[u8],
        meta: Self::Meta,
        device: Device,
        origin: &str,
    ) -> Result<Self, ModelError>;
}

/// The bytes of the model file at `path`, or an error naming it.
pub fn read(path: &Path, kind: Kind) -> Result<Vec<u8>, ModelError> {
    std::fs::read(path).map_err(|source| ModelError::Read {
        kind,
        path: path.display().to_string(),
        source,
    })
}

/// Loads the weights at `path` with the metadata beside them (or the model's default metadata
/// when there is no file and the model has one).
pub fn load<M: Stored>(path: &Path, device: Device) -> Result<M, ModelError> {
    let bytes = read(path, M::KIND)?;
    let meta_file = meta_path(path);
    let meta = match M::default_meta() {
        Some(default) if !meta_file.exists() => default,
        _ => {
            let text = std::fs::read_to_string(&meta_file).map_err(|source| ModelError::Read {
                kind: M::KIND,
                path: meta_file.display().to_string(),
                source,
            })?;
            serde_json::from_str(&text).map_err(|e| ModelError::Meta {
                kind: M::KIND,
                path: meta_file.display().to_string(),
                reason: e.to_string(),
            })?
        }
    };
    M::from_parts(&bytes, meta, device, &path.display().to_string())
}

/// The model compiled into the binary, on `device`.
pub fn embedded<M: Stored>(device: Device) -> Result<M, ModelError> {
    embedded_from(
        M::EMBEDDED_WEIGHTS,
        M::EMBEDDED_META,
        M::EMBEDDED_ORIGIN,
        device,
    )
}

/// Another model of the binary than `M`'s default: its weights, metadata and origin.
pub fn embedded_from<M: Stored>(
    weights: &[u8],
    meta: &str,
    origin: &str,
    device: Device,
) -> Result<M, ModelError> {
    let meta = serde_json::from_str(meta).map_err(|e| ModelError::Format {
        kind: M::KIND,
        origin: origin.into(),
        reason: e.to_string(),
    })?;
    M::from_parts(weights, meta, device, origin)
}

/// The model at `path` when given, else the embedded one.
pub fn load_or_embedded<M: Stored>(path: Option<&Path>, device: Device) -> Result<M, ModelError> {
    match path {
        Some(p) => load(p, device),
        None => embedded(device),
    }
}

/// `blank` (a freshly initialised module of the right architecture) with the weights of the
/// burnpack `bytes`.
pub fn load_weights<N: Module>(
    blank: N,
    bytes: &[u8],
    kind: Kind,
    origin: &str,
) -> Result<N, ModelError> {
    let format = |reason: String| ModelError::Format {
        kind,
        origin: origin.into(),
        reason,
    };
    let record = ModuleRecord::from_bytes(Bytes::from_bytes_vec(bytes.to_vec()))
        .map_err(|e| format(e.to_string()))?;
    blank
        .try_load_record(record)
        .map_err(|e| format(e.to_string()))
}

/// A module's weights as burnpack bytes.
pub fn weights<N: Module>(net: &N, kind: Kind, origin: &str) -> Result<Vec<u8>, ModelError> {
    let bytes = net
        .clone()
        .into_record()
        .into_bytes()
        .map_err(|e| ModelError::Format {
            kind,
            origin: origin.into(),
            reason: e.to_string(),
        })?;
    Ok(bytes.to_vec())
}

/// Writes `net`'s weights to `path` and `meta` beside them (JSON), each atomically.
pub fn save<N: Module, T: Serialize>(
    net: &N,
    path: &Path,
    meta: &T,
    kind: Kind,
    origin: &str,
) -> Result<(), ModelError> {
    let meta_file = meta_path(path);
    let json = serde_json::to_string_pretty(meta).map_err(|e| ModelError::Meta {
        kind,
        path: meta_file.display().to_string(),
        reason: e.to_string(),
    })?;
    write(path, &weights(net, kind, origin)?, kind)?;
    write(&meta_file, json.as_bytes(), kind)
}

/// Writes `bytes` to `path` atomically.
pub fn write(path: &Path, bytes: &[u8], kind: Kind) -> Result<(), ModelError> {
    crate::files::write_atomic(path, bytes).map_err(|source| ModelError::Write {
        kind,
        path: path.display().to_string(),
        source,
    })
}
