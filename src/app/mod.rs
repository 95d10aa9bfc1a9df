//! The subcommands, as the binary runs them (the binary only parses arguments).

pub mod bass;
pub mod bench;
pub mod dataset;
pub mod devices;
pub mod eval;
pub mod generate;
pub mod loops;
pub mod play;
pub mod render;
pub mod replay;
pub mod rhythm_data;
pub mod train;
