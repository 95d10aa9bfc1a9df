//! The `ubiq` command line: parses the arguments and hands them to `ubiq::app`, where each
//! subcommand runs; an error ends the program with `ubiq: …` on stderr (control characters
//! escaped) and exit code 1.

use std::process::ExitCode;

use clap::{CommandFactory, Parser, Subcommand};
use ubiq::app::bench::{BenchArgs, SoakArgs};
use ubiq::app::check::CheckArgs;
use ubiq::app::dataset::DatasetCommand;
use ubiq::app::eval::EvalCommand;
use ubiq::app::generate::GenerateArgs;
use ubiq::app::help::HelpArgs;
use ubiq::app::loops::LoopsCommand;
use ubiq::app::play::PlayArgs;
use ubiq::app::recover::RecoverArgs;
use ubiq::app::render::{RenderArgs, ReplayArgs};
use ubiq::app::train::TrainCommand;
use ubiq::app::translate::TranslateArgs;

/// ubiq — a terminal instrument where small neural networks compose drums and bass while
/// you steer.
///
/// With no subcommand, ubiq plays: the default scene starts at once on your audio device
/// (or silently in time when there is none).
#[derive(Parser, Debug)]
#[command(
    name = "ubiq",
    version,
    about,
    long_about,
    args_conflicts_with_subcommands = true,
    disable_help_subcommand = true
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    play: PlayArgs,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Play live (the default): the full-screen interface (`?` shows the keys), or with
    /// --headless commands on stdin.
    Play(PlayArgs),
    /// Render a scene to a WAV file, much faster than real time.
    Render(RenderArgs),
    /// List the audio devices and MIDI ports ubiq can use.
    Devices,
    /// Render a recorded session (NAME.log from `record` or `render --log`) again, identical
    /// to the recording.
    Replay(ReplayArgs),
    /// Make whole the takes a crash interrupted (`ubiq play` does it when it starts).
    Recover(RecoverArgs),
    /// Train a model on your own material.
    #[command(subcommand)]
    Train(TrainCommand),
    /// Measure a model.
    #[command(subcommand)]
    Eval(EvalCommand),
    /// Decode one point of the rhythm VAE's latent plane into a pattern.
    Generate(GenerateArgs),
    /// Check scene files without playing them (for editors and CI); exit code 1 on errors.
    Check(CheckArgs),
    /// Help on the command language: `ubiq help commands`, `ubiq help set`.
    Help(HelpArgs),
    /// Training data from MIDI folders.
    #[command(subcommand)]
    Dataset(DatasetCommand),
    /// Write the bassline the bass model plays with a scene's (or MIDI file's) drums.
    Translate(TranslateArgs),
    /// The loop library: add, list, embed, build the default sets.
    #[command(subcommand)]
    Loops(LoopsCommand),
    /// A long accelerated offline performance with random valid and invalid commands and
    /// scene reloads: no panic, no missed boundary, flat memory (exit code 1 otherwise).
    Soak(SoakArgs),
    /// Time the AI's work per cycle and its parts (medians and p99, both Burn backends).
    Bench(BenchArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        None => cli.play.run(),
        Some(Command::Play(args)) => args.run(),
        Some(Command::Render(args)) => args.run(),
        Some(Command::Devices) => ubiq::app::devices::run(),
        Some(Command::Replay(args)) => args.run(),
        Some(Command::Recover(args)) => args.run(),
        Some(Command::Train(command)) => command.run(),
        Some(Command::Eval(command)) => command.run(),
        Some(Command::Generate(args)) => args.run(),
        Some(Command::Check(args)) => args.run(),
        Some(Command::Help(args)) => args.run(Cli::command()),
        Some(Command::Dataset(command)) => command.run(),
        Some(Command::Translate(args)) => args.run(),
        Some(Command::Loops(command)) => command.run(),
        Some(Command::Soak(args)) => args.run(),
        Some(Command::Bench(args)) => args.run(),
    };
    result.unwrap_or_else(|e| {
        // Errors name files and quote their text: shown escaped, never raw.
        eprintln!("ubiq: {}", ubiq::text::escape(&format!("{e:#}")));
        ExitCode::FAILURE
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// clap's own checks of the command line (conflicting names, bad defaults, …).
    #[test]
    fn command_line_is_consistent() {
        Cli::command().debug_assert();
    }
}
