//! Pure widgets: each draws explicit inputs (taken from a snapshot, or given by a test) into a
//! buffer, and owns no state.

pub mod grid;
pub mod loops;
pub mod mixer;
pub mod pad;
pub mod transport;
