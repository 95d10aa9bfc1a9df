//! `--rhythm-model`, `--bass-model`, `--loop-model` and `--loops`: where the models and the
//! loop library come from, for the commands that perform (play, render, replay, soak).

use std::path::PathBuf;

use clap::Args;

use crate::headless::Lines;
use crate::model::registry::{ModelPaths, Models};

/// Where the models and the loop library come from.
#[derive(Args, Debug, Default, Clone)]
pub struct ModelArgs {
    /// Rhythm VAE weights (the embedded default when not given).
    #[arg(long, value_name = "FILE.bpk")]
    pub rhythm_model: Option<PathBuf>,
    /// Bass model weights (the embedded default when not given).
    #[arg(long, value_name = "FILE.bpk")]
    pub bass_model: Option<PathBuf>,
    /// Loop model weights (the embedded default when not given).
    #[arg(long, value_name = "FILE.bpk")]
    pub loop_model: Option<PathBuf>,
    /// Loop library folder (default: loops/ here, else the one shipped beside ubiq).
    #[arg(long, value_name = "DIR")]
    pub loops: Option<PathBuf>,
}

impl ModelArgs {
    /// The paths as the model registry takes them.
    pub fn paths(&self) -> ModelPaths {
        ModelPaths {
            rhythm: self.rhythm_model.clone(),
            bass: self.bass_model.clone(),
            loops: self.loop_model.clone(),
            library: self.loops.clone(),
        }
    }

    /// The models a render plays with: none when the AI is off (`--no-ai`), else
    /// [`ModelArgs::load_telling`].
    pub fn load_unless(&self, no_ai: bool) -> Models {
        if no_ai {
            Models::none()
        } else {
            self.load_telling()
        }
    }

    /// Loads the models, telling on stderr (a `ubiq: …` line each, escaped; a closed stderr
    /// drops them) what did not load and which model files given did.
    pub fn load_telling(&self) -> Models {
        let paths = self.paths();
        let (models, problems) = paths.load();
        let mut stderr = Lines::new(std::io::stderr());
        for line in problems.into_iter().chain(paths.loaded(&models)) {
            stderr.line(format_args!("ubiq: {line}"));
        }
        models
    }
}
