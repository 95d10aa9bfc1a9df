//! Fuzzes audio-file loading (loops and deck records): any bytes, read as wav, flac or ogg,
//! give audio or a one-line refusal, never a panic that reaches ubiq's caller.
//!
//! The decoders themselves have panicked on forged files; ubiq catches those panics and
//! refuses the file. libFuzzer's panic hook would abort on them even though they are caught,
//! so the target installs a silent hook: a panic that escapes `decode_bytes` still ends the
//! run as a crash (libfuzzer-sys aborts on any unwind out of the target).

#![no_main]

use libfuzzer_sys::fuzz_target;
use ubiq::loops::audio::decode_bytes;

fuzz_target!(
    init: {
        std::panic::set_hook(Box::new(|_| {}));
    },
    |data: &[u8]| {
        let Some((&first, rest)) = data.split_first() else {
            return;
        };
        let ext = ["wav", "flac", "ogg"][usize::from(first) % 3];
        if let Err(e) = decode_bytes(rest, ext) {
            assert!(!e.to_string().contains('\n'), "a refusal of two lines: {e}");
        }
    }
);
