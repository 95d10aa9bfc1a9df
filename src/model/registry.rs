//! The models the engine composes with: what is loaded, from where (a file given on the command
//! line, else the embedded default), with the rhythm model's latent map, and the loop library
//! they rank.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use burn::tensor::Device;

use super::ModelError;
use super::bass::BassModel;
use super::loops::infer::LoopModel;
use super::rhythm::RhythmModel;
use super::rhythm::latent_map::{LatentMap, map_path};
use crate::command::ModelName;
use crate::loops::LoopSet;
use crate::loops::library::Library;

/// The rhythm models a set can switch between, by name (`model rhythm NAME`, a scene's
/// `ai.model`); the first is the one a scene that names none plays.
#[derive(Debug, Clone, Default)]
pub struct RhythmBank {
    models: Vec<(ModelName, RhythmModel)>,
}

impl RhythmBank {
    /// A bank of one model.
    pub fn of(name: ModelName, model: RhythmModel) -> RhythmBank {
        RhythmBank {
            models: vec![(name, model)],
        }
    }

    /// Adds a model under `name` (after the others), unless the bank has that name.
    pub fn push(&mut self, name: ModelName, model: RhythmModel) {
        if self.models.iter().all(|(n, _)| *n != name) {
            self.models.push((name, model));
        }
    }

    /// The model of that name; the first for the default name.
    pub fn get(&self, name: ModelName) -> Option<&RhythmModel> {
        if name.is_default() {
            return self.models.first().map(|(_, m)| m);
        }
        self.models.iter().find(|(n, _)| *n == name).map(|(_, m)| m)
    }

    /// The model a scene naming `name` plays: that one, else (a name the bank does not hold,
    /// reported when the scene takes over) the first.
    pub fn playing(&self, name: ModelName) -> Option<&RhythmModel> {
        self.get(name).or_else(|| self.get(ModelName::DEFAULT))
    }

    /// The names, first the default, joined with commas.
    pub fn listing(&self) -> String {
        let names: Vec<String> = self.names().map(|n| n.to_string()).collect();
        names.join(", ")
    }

    /// The names, first the default.
    pub fn names(&self) -> impl Iterator<Item = ModelName> + '_ {
        self.models.iter().map(|(n, _)| *n)
    }

    /// True without any model.
    pub fn is_empty(&self) -> bool {
        self.models.is_empty()
    }
}

/// The models the engine composes with, and the loop library it ranks.
pub struct Models {
    /// The rhythm VAEs (each with the latent map loaded with it, if any).
    pub rhythm: RhythmBank,
    /// The rhythm → bassline translator.
    pub bass: Option<BassModel>,
    /// The loop-compatibility model.
    pub loops: Option<LoopModel>,
    /// The loop library.
    pub library: Option<Library>,
}

impl Models {
    /// The embedded default models (no loop library); a model that fails to load is left
    /// out with the reason.
    pub fn embedded() -> (Models, Vec<String>) {
        ModelPaths::default().load_models()
    }

    /// No models: the written patterns play as they are.
    pub fn none() -> Models {
        Models {
            rhythm: RhythmBank::default(),
            bass: None,
            loops: None,
            library: None,
        }
    }

    /// With this loop library.
    pub fn with_library(mut self, library: Option<Library>) -> Models {
        self.library = library;
        self
    }

    /// The latent map of the rhythm model a scene naming `name` plays, if it has one.
    pub fn latent_map(&self, name: ModelName) -> Option<Arc<LatentMap>> {
        self.rhythm
            .playing(name)
            .and_then(|r| r.latent_map().cloned())
    }
}

/// Where the engine's models and loop library come from (none: the embedded defaults and the
/// library found beside the program).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ModelPaths {
    /// Rhythm VAE weights (its latent map is read from `NAME.map.ron` beside them).
    pub rhythm: Option<PathBuf>,
    /// Bass model weights.
    pub bass: Option<PathBuf>,
    /// Loop model weights.
    pub loops: Option<PathBuf>,
    /// The loop library's folder.
    pub library: Option<PathBuf>,
}

impl ModelPaths {
    /// Loads everything; what fails to load is left out, with a one-line reason each (the
    /// written patterns play as they are without a rhythm model; no loops without a library).
    pub fn load(&self) -> (Models, Vec<String>) {
        let (mut models, mut problems) = self.load_models();
        models.library = match self.library.clone().or_else(default_library) {
            Some(root) => {
                let lib = Library::open(&root);
                problems.extend(lib.skipped.iter().cloned());
                if LoopSet::ALL.iter().all(|s| lib.entries(*s).is_empty()) {
                    problems.push(format!(
                        "no loops in {} (no loop library loaded)",
                        root.display()
                    ));
                    None
                } else {
                    Some(lib)
                }
            }
            None => {
                problems.push(
                    "no loop library found (looked for loops/ here and beside the program; use --loops DIR)"
                        .into(),
                );
                None
            }
        };
        (models, problems)
    }

    /// One line for each model file given that `models` plays (a file that did not load is
    /// among the problems of [`ModelPaths::load`] instead), so the performer knows it took.
    pub fn loaded(&self, models: &Models) -> Vec<String> {
        let took = |path: &Option<PathBuf>, origin: Option<&str>| {
            path.as_ref()
                .filter(|p| origin == Some(p.display().to_string().as_str()))
                .map(|p| p.display().to_string())
        };
        let mut lines = Vec::new();
        let first = models.rhythm.get(ModelName::DEFAULT);
        if let Some(p) = took(&self.rhythm, first.map(|m| m.origin())) {
            let map = if models.latent_map(ModelName::DEFAULT).is_some() {
                "with its latent map"
            } else {
                "no latent map beside it"
            };
            lines.push(format!("rhythm model {p} loaded ({map})"));
        }
        if let Some(p) = took(&self.bass, models.bass.as_ref().map(|m| m.origin())) {
            lines.push(format!("bass model {p} loaded"));
        }
        if let Some(p) = took(
            &self.loops,
            models.loops.as_ref().map(|m| m.origin.as_str()),
        ) {
            lines.push(format!("loop model {p} loaded"));
        }
        lines
    }

    /// Loads the three models (no library). A model file that does not load is reported
    /// and the embedded default plays instead. A rhythm model file brings the latent map
    /// beside it (none when there is no map file); the embedded models bring their maps. The
    /// rhythm bank holds the file's model first, named by its file name (`mine` for
    /// `mine.bpk`), then the embedded `groove` and `dance` models.
    pub fn load_models(&self) -> (Models, Vec<String>) {
        let mut problems = Vec::new();
        let mut map_problem = None;
        let mut rhythm = RhythmBank::default();
        let file = load_file(
            "rhythm model",
            self.rhythm.as_deref(),
            |p| {
                let model = RhythmModel::load(p, Device::flex())?;
                let map = map_beside(p).unwrap_or_else(|e| {
                    map_problem = Some(e.to_string());
                    None
                });
                Ok((file_model_name(p), model.with_latent_map(map)))
            },
            &mut problems,
        );
        problems.extend(map_problem);
        if let Some((name, model)) = file {
            rhythm.push(name, model);
        }
        let embedded: [(&str, EmbeddedRhythm); 2] = [
            (GROOVE, || {
                let model = RhythmModel::embedded()?;
                Ok(model.with_latent_map(Some(Arc::new(LatentMap::embedded()?))))
            }),
            (DANCE, || {
                let model = RhythmModel::embedded_dance()?;
                Ok(model.with_latent_map(Some(Arc::new(LatentMap::dance()?))))
            }),
        ];
        for (name, load) in embedded {
            let name = ModelName::new(name).unwrap_or_default();
            if rhythm.get(name).is_some() {
                continue;
            }
            match load() {
                Ok(model) => rhythm.push(name, model),
                Err(e) => problems.push(format!("rhythm model {name}: {e}")),
            }
        }
        let bass = load_or_default(
            "bass model",
            self.bass.as_deref(),
            BassModel::load,
            BassModel::embedded,
            &mut problems,
        );
        let loops = load_or_default(
            "loop model",
            self.loops.as_deref(),
            |p| LoopModel::load(p, Device::flex()),
            || LoopModel::embedded(Device::flex()),
            &mut problems,
        );
        (
            Models {
                rhythm,
                bass,
                loops,
                library: None,
            },
            problems,
        )
    }
}

/// Loads one embedded rhythm model with its map.
type EmbeddedRhythm = fn() -> Result<RhythmModel, ModelError>;

/// Name of the embedded Groove MIDI Dataset rhythm model.
pub const GROOVE: &str = "groove";
/// Name of the embedded dance rhythm model.
pub const DANCE: &str = "dance";

/// The bank name of a rhythm model file: its file name without the extension, or `file`
/// when that is not a model name (or is `default`, the word for the bank's first).
fn file_model_name(path: &Path) -> ModelName {
    path.file_stem()
        .and_then(|s| s.to_str())
        .filter(|s| *s != "default")
        .and_then(|s| ModelName::new(s).ok())
        .filter(|n| !n.is_default())
        .unwrap_or_else(|| ModelName::new("file").unwrap_or_default())
}

/// The latent map beside rhythm weights at `weights`, `None` when there is no map file.
fn map_beside(weights: &Path) -> Result<Option<Arc<LatentMap>>, ModelError> {
    let path = map_path(weights);
    if !path.exists() {
        return Ok(None);
    }
    LatentMap::load(&path).map(|m| Some(Arc::new(m)))
}

/// The model at `path` (else the embedded default, saying why), or the embedded default.
fn load_or_default<M>(
    what: &str,
    path: Option<&Path>,
    load: impl FnOnce(&Path) -> Result<M, ModelError>,
    embedded: impl FnOnce() -> Result<M, ModelError>,
    problems: &mut Vec<String>,
) -> Option<M> {
    load_file(what, path, load, problems).or_else(|| {
        embedded()
            .map_err(|e| problems.push(format!("{what}: {e}")))
            .ok()
    })
}

/// The model at `path` when one is given and loads; one that does not is reported (the
/// embedded default plays instead).
fn load_file<M>(
    what: &str,
    path: Option<&Path>,
    load: impl FnOnce(&Path) -> Result<M, ModelError>,
    problems: &mut Vec<String>,
) -> Option<M> {
    match load(path?) {
        Ok(m) => Some(m),
        Err(e) => {
            problems.push(format!("{what}: {e} — the embedded default plays instead"));
            None
        }
    }
}

/// The default loop library: `loops/` in the current folder, else the one shipped beside the
/// program (`…/loops` next to `bin/ubiq`, or the repository's when run from `target/release`).
pub fn default_library() -> Option<PathBuf> {
    let is_library = |p: &Path| {
        LoopSet::ALL
            .iter()
            .any(|s| p.join(s.name()).join("index.ron").is_file())
    };
    crate::files::here_or_beside_program("loops", is_library)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::rhythm::infer::{EMBEDDED_META, EMBEDDED_WEIGHTS};

    #[test]
    fn a_model_file_that_loads_is_confirmed_and_one_that_fails_is_not() {
        let dir = tempfile::tempdir().unwrap();
        let weights = dir.path().join("mine.bpk");
        std::fs::write(&weights, EMBEDDED_WEIGHTS).unwrap();
        std::fs::write(weights.with_extension("json"), EMBEDDED_META).unwrap();
        let paths = ModelPaths {
            rhythm: Some(weights.clone()),
            ..ModelPaths::default()
        };
        let (models, problems) = paths.load_models();
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(
            paths.loaded(&models),
            [format!(
                "rhythm model {} loaded (no latent map beside it)",
                weights.display()
            )]
        );
        let missing = ModelPaths {
            rhythm: Some(dir.path().join("missing.bpk")),
            ..ModelPaths::default()
        };
        let (models, problems) = missing.load_models();
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(missing.loaded(&models).is_empty(), "the embedded one plays");
        assert!(ModelPaths::default().loaded(&models).is_empty());
    }

    #[test]
    fn a_model_file_joins_the_bank_first_under_its_name() {
        let dir = tempfile::tempdir().unwrap();
        let name = |n: &str| ModelName::new(n).unwrap();
        for (file, expected) in [("mine.bpk", "mine"), ("default.bpk", "file")] {
            let weights = dir.path().join(file);
            std::fs::write(&weights, EMBEDDED_WEIGHTS).unwrap();
            std::fs::write(weights.with_extension("json"), EMBEDDED_META).unwrap();
            let (models, problems) = ModelPaths {
                rhythm: Some(weights.clone()),
                ..ModelPaths::default()
            }
            .load_models();
            assert!(problems.is_empty(), "{problems:?}");
            assert_eq!(
                models.rhythm.listing(),
                format!("{expected}, groove, dance")
            );
            let first = models.rhythm.get(ModelName::DEFAULT).unwrap();
            assert_eq!(first.origin(), weights.display().to_string());
            assert!(std::ptr::eq(
                first,
                models.rhythm.get(name(expected)).unwrap()
            ));
            assert!(models.rhythm.get(name("nope")).is_none());
            assert!(std::ptr::eq(
                models.rhythm.playing(name("nope")).unwrap(),
                first
            ));
        }
        let (embedded, problems) = Models::embedded();
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(embedded.rhythm.listing(), "groove, dance");
    }
}
