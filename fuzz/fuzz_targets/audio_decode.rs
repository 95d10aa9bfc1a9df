//! Fuzzes audio-file loading (loops and deck records): any bytes, read as wav, flac or ogg,
//! give audio or a one-line refusal, never a panic.

#![no_main]

use libfuzzer_sys::fuzz_target;
use ubiq::loops::audio::decode_bytes;

fuzz_target!(|data: &[u8]| {
    let Some((&first, rest)) = data.split_first() else {
        return;
    };
    let ext = ["wav", "flac", "ogg"][usize::from(first) % 3];
    if let Err(e) = decode_bytes(rest, ext) {
        assert!(!e.to_string().contains('\n'), "a refusal of two lines: {e}");
    }
});
