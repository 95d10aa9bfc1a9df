//! `ubiq help`: help on the command language, or the command-line help.

use std::process::ExitCode;

use clap::Args;

/// Options of `ubiq help`.
#[derive(Args, Debug)]
pub struct HelpArgs {
    /// `commands` (every command you can type while playing) or `set` (every sound
    /// parameter); anything else shows the command-line help.
    pub topic: Option<String>,
}

impl HelpArgs {
    /// Prints the topic; anything else prints `cli`'s long help.
    pub fn run(self, mut cli: clap::Command) -> anyhow::Result<ExitCode> {
        match self.topic.as_deref() {
            Some("commands") => print!("{}", crate::command::spec::help()),
            Some("set") => print!("{}", crate::command::spec::param_help()),
            _ => {
                let _ = cli.print_long_help();
            }
        }
        Ok(ExitCode::SUCCESS)
    }
}
