//! Scenes: RON files in `patterns/` that describe a whole musical state — tempo, swing,
//! written drum grids, the bassline and its key, drum and bass sound, mix and effects.
//!
//! ```ron
//! Scene(
//!     tempo: 124,
//!     swing: 54,
//!     drums: (
//!         kick:       "X...x...X...x...",
//!         closed_hat: "..x...x...x...x.",
//!     ),
//!     bass: (key: "A", scale: minor, line: "A1 . A1 . . C2 . A1 . . G1 . . E1 . ."),
//! )
//! ```
//!
//! Every field has a default, so a scene only says what it changes.
//!
//! A scene may come from someone else, so it is data: it is read only from a regular file of
//! at most [`crate::files::SCENE_LIMIT`], and the scene files its sections include and the
//! deck's record only from inside the folder of the set (links resolved) unless the performer
//! allows more with `--allow-outside-set`. Errors quote at most a short piece of the line being parsed,
//! and nothing from an included file.

mod error;
mod include;
pub mod library;
mod schema;
pub mod watch;

pub use error::SceneError;
pub use include::allow_outside_set;
pub use schema::{
    Ai, BassPart, CommandLine, DEFAULT_PHRASE, DeckPart, DrumGrids, Grid, LoopSlot, LoopsPart,
    NoteLine, PHRASES, SCENE_VERSION, Scene, Section,
};
