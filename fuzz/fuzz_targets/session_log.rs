//! Fuzzes the session-log reader and its replay (`ubiq replay`): any text gives a log or an
//! error naming its line, never a panic; a log that reads writes back to text that reads, and
//! replays (cut to its first few blocks, so a run stays short) without a panic, whatever its
//! header says.

#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use ubiq::engine::session::{Action, SessionLog};
use ubiq::model::registry::Models;

/// Frames a fuzzed replay renders at most (eight blocks).
const REPLAY_FRAMES: u64 = 4096;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(mut log) = SessionLog::parse(&text, Path::new("fuzz.log")) {
        let again = SessionLog::parse(&log.to_text(), Path::new("fuzz.log"));
        assert!(again.is_ok(), "a log that read does not read back: {again:?}");
        // A replay renders from frame 0 to the end: cut it short. Records on the deck would
        // be read from this machine's disk: a fuzzed replay stays a function of the text.
        log.end = log.end.min(REPLAY_FRAMES);
        log.record_from = log.record_from.min(log.end);
        log.entries.retain(|e| !matches!(e.action, Action::Deck(Some(_))));
        let played = log.replay(&mut Models::none());
        let frames = (log.end - log.record_from) as usize;
        assert_eq!(played.samples.len(), 2 * frames, "a replay has the log's length");
    }
});
