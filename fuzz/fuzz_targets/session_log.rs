//! Fuzzes the session-log reader (`ubiq replay`): any text gives a log or an error naming its
//! line, never a panic.

#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use ubiq::engine::session::SessionLog;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(log) = SessionLog::parse(&text, Path::new("fuzz.log")) {
        let again = SessionLog::parse(&log.to_text(), Path::new("fuzz.log"));
        assert!(again.is_ok(), "a log that read does not read back: {again:?}");
    }
});
