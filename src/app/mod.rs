//! The subcommands, as the binary runs them (the binary only parses arguments).

pub mod dataset;
pub mod devices;
pub mod loops;
pub mod play;
pub mod render;
pub mod replay;
