//! `ubiq check`: check scene files without playing them (for editors and CI).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use crate::scene::Scene;
use crate::text::{self, Shown};

/// Options of `ubiq check`.
#[derive(Args, Debug)]
pub struct CheckArgs {
    /// Scene files.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// What the scenes may include.
    #[command(flatten)]
    pub access: super::SceneAccess,
}

impl CheckArgs {
    /// Loads every file: a line on stdout for each good one, its errors on stderr for each bad
    /// one (names and text escaped); fails (exit code 1) when any is bad.
    pub fn run(self) -> anyhow::Result<ExitCode> {
        self.access.apply();
        let mut ok = true;
        for file in &self.files {
            match Scene::load(file) {
                Ok(scene) => println!(
                    "{}: ok ({}, {} BPM)",
                    Shown(file.display()),
                    text::quote(&scene.name),
                    scene.tempo
                ),
                Err(e) => {
                    ok = false;
                    eprintln!("{}", Shown(&e));
                }
            }
        }
        Ok(super::exit_code(ok))
    }
}
