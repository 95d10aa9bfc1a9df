//! `ubiq recover`: makes whole the takes a crash interrupted — those named, or every one
//! the list of open takes holds (what `ubiq play` also does when it starts).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use super::models::ModelArgs;
use crate::engine::recover::{self, OpenTakes, RecoverError};
use crate::midi::map::NoteMap;
use crate::text::Shown;

/// `ubiq recover [TAKE…]`.
#[derive(Args, Debug)]
pub struct RecoverArgs {
    /// Takes to make whole, by any of their files (take.wav, take.log) or base name; none:
    /// every interrupted take ubiq knows of.
    pub takes: Vec<PathBuf>,
    /// The models the take was played with (its MIDI file is a replay with them).
    #[command(flatten)]
    pub models: ModelArgs,
}

impl RecoverArgs {
    /// Recovers the takes, one line each; exit code 1 when one could not be recovered.
    pub fn run(self) -> anyhow::Result<ExitCode> {
        let mut models = self.models.load_telling();
        let map = NoteMap::load("gm")?;
        if self.takes.is_empty() {
            let Some(open) = open_takes() else {
                println!("no interrupted takes (no data folder: set XDG_DATA_HOME or HOME)");
                return Ok(ExitCode::SUCCESS);
            };
            let lines = recover::recover_open(&open, &mut models, &map);
            if lines.is_empty() {
                println!("no interrupted takes");
            }
            for l in &lines {
                println!("{}", Shown(l));
            }
            return Ok(ExitCode::SUCCESS);
        }
        let mut ok = true;
        for take in &self.takes {
            match recover::recover(&recover::base_of(take), &mut models, &map) {
                Ok(r) => println!("{}", Shown(r)),
                Err(e @ RecoverError::Whole(_)) => println!("{}", Shown(e)),
                Err(e) => {
                    eprintln!("ubiq: {}", Shown(e));
                    ok = false;
                }
            }
        }
        Ok(super::exit_code(ok))
    }
}

/// The list of takes being recorded, beside the autosave.
pub fn open_takes() -> Option<OpenTakes> {
    let autosave = super::play::autosave_path()?;
    Some(OpenTakes::new(autosave.parent()?.join("open-takes")))
}
