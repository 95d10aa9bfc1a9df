//! Fuzzes the command language: any line gives a command or a one-line refusal, never a panic;
//! completion never panics; a command's canonical text parses back to the same command.

#![no_main]

use libfuzzer_sys::fuzz_target;
use ubiq::command::{complete, parse};

fuzz_target!(|data: &[u8]| {
    let line = String::from_utf8_lossy(data);
    let _ = complete(&line);
    match parse(&line) {
        Ok(cmd) => {
            let text = cmd.to_string();
            assert_eq!(parse(&text).as_ref(), Ok(&cmd), "{text:?} does not read back");
        }
        Err(e) => assert!(!e.to_string().contains('\n'), "a refusal of two lines: {e}"),
    }
});
