//! The engine: carries out what the performance decides. The [`conductor`] turns each
//! [`Outcome`](crate::performance::Outcome) into audio messages, loop cues, records and
//! sections; two stages drive it — [`live`] (the engine thread, a worker, channels and
//! snapshots for the front ends) and [`offline`] (the frame loop behind `ubiq render`,
//! `ubiq replay`, the soak and the benches) — so a render plays exactly what the stage plays.
//!
//! - [`take`]: recording takes and autosaving; [`session`]: the session log;
//!   [`journal`]: a take's log written as it goes; [`recover`]: takes a crash interrupted;
//! - [`loops`]: loop cues, loop buffers and records prepared for the audio thread;
//! - [`listen`]: what the output played, for the feedback loop; [`worker`]: the live stage's
//!   file work; [`render`]: offline renders to WAV and MIDI; [`played`]: what a rendered set
//!   played, and [`pulse`]: the tempo and level a listener hears, for `ubiq eval set`;
//!   [`loudness`]: a mix's loudness, peaks, DC and spectrum, for `ubiq eval mix`;
//!   [`stall`]: the live stage's watch on the audio clock (boundaries lost while the audio
//!   stood still).

pub mod conductor;
pub mod journal;
pub mod listen;
pub mod live;
pub mod loops;
pub mod loudness;
pub mod offline;
pub mod played;
pub mod pulse;
pub mod recover;
pub mod render;
pub mod session;
pub mod stall;
pub mod take;
pub mod worker;
