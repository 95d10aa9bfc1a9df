//! Fuzzes the MIDI import entry points: dataset extraction (both drum maps) and pattern files.
//! Any input must give a result or a skip reason, never a panic, within the import limits.

#![no_main]

use libfuzzer_sys::fuzz_target;
use ubiq::dataset::extract::{extract_bytes, import_options};
use ubiq::midifile::{Limits, read_pattern};

fuzz_target!(|data: &[u8]| {
    let groove = data.len() % 2 == 1;
    let _ = extract_bytes(data, &import_options(groove, Limits::default()));
    let _ = read_pattern(data);
});
