//! The subcommands, one module per verb, as the binary runs them (the binary only parses
//! arguments). Each subcommand's options derive clap's `Args` here and run themselves,
//! returning the exit code or an error the binary prints.
//!
//! - [`play`]: `ubiq play` (and `ubiq` alone); [`render`]: `render` and `replay`;
//!   [`recover`]: takes a crash interrupted;
//! - [`train`], [`eval`]: the three models' training and measuring;
//! - [`generate`], [`translate`]: one pattern, one bassline;
//! - [`loops`]: the loop library; [`dataset`]: training data;
//! - [`devices`], [`bench`](mod@bench) (and soak), [`check`], [`help`];
//! - [`models`]: the model and library flags the performing commands share;
//!   [`signals`]: the signals that end a set cleanly;
//!   [`progress`]: progress lines of the long commands; [`SceneAccess`]: what the scene
//!   commands let a set read.

pub mod bench;
pub mod check;
pub mod dataset;
pub mod devices;
pub mod eval;
pub mod generate;
pub mod help;
pub mod loops;
pub mod models;
pub mod play;
pub mod progress;
pub mod recover;
pub mod render;
pub mod signals;
pub mod train;
pub mod translate;

use std::process::ExitCode;

/// The flag of the commands that read sets (`play`, `render`, `check`): whether a set may
/// read files outside its folder.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct SceneAccess {
    /// Let a set include scene files and put records on the deck from outside its folder
    /// (links resolved). Without it a shared set reads only files in its own folder.
    #[arg(long, alias = "allow-includes-outside")]
    pub allow_outside_set: bool,
}

impl SceneAccess {
    /// Applies the flag to every scene this process reads from now on.
    pub fn apply(&self) {
        crate::scene::allow_outside_set(self.allow_outside_set);
    }
}

/// The exit code of a command that ran to its end: success when `ok`, else 1 (a bad scene
/// file, a refused loop, a failed soak; the command has said why).
pub fn exit_code(ok: bool) -> ExitCode {
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
