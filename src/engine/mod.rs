//! The performance engine: the authoritative musical state, the only place commands are
//! applied, and the thread that feeds the audio graph ahead of the beat.
//!
//! [`Performance`] is a plain state machine (apply a command, compile the next cycle), used
//! unchanged by the live thread ([`live`]) and by offline renders, so a test exercises exactly
//! what plays on stage.

pub mod compose;
pub mod conductor;
pub mod listen;
pub mod live;
pub mod loops;
pub mod offline;
mod performance;
pub mod query;
pub mod render;
pub mod sections;
pub mod session;
mod snapshot;
pub mod take;
pub mod worker;

pub use performance::{ApplyError, DeckRequest, Outcome, Performance};
pub use snapshot::{DeckView, LoopView, Notice, Playing, Snapshot};
