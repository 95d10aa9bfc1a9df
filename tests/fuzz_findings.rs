//! What the fuzz targets (`fuzz/`, `scripts/fuzz.sh`) found, kept as regression tests with the
//! inputs they found: each must be refused with one line (or read back the same), and a forged
//! header must not make the reader allocate what it claims.

use std::alloc::{GlobalAlloc, Layout, System};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};

use ubiq::command::parse;
use ubiq::loops::audio::decode_bytes;
use ubiq::scene::Scene;

/// The system allocator, remembering the largest single allocation.
struct Largest;

static LARGEST: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Largest {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LARGEST.fetch_max(layout.size(), Ordering::Relaxed);
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LARGEST.fetch_max(new_size, Ordering::Relaxed);
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Largest = Largest;

const MIB: usize = 1 << 20;

#[test]
fn forged_audio_headers_are_refused_without_allocating_what_they_claim() {
    // audio_decode: a 37-byte FLAC stream whose header claims a huge stream.
    let flac: [u8; 37] = [
        0x66, 0x4c, 0x61, 0x43, 0x86, 0x00, 0x00, 0x3b, 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x13,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    ];
    // audio_decode again: a junk byte, then a FLAC comment block claiming 3 GB of comment.
    let comment: [u8; 24] = [
        0x01, 0x66, 0x4c, 0x61, 0x43, 0x84, 0xff, 0x00, 0x01, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x80, 0x00, 0x32, 0xda, 0x49, 0x68, 0x70, 0x40, 0xcc,
    ];
    // A WAV whose data chunk claims 4 GB and holds 4 bytes.
    let mut wav = Vec::new();
    wav.extend_from_slice(b"RIFF\x2c\x00\x00\x00WAVEfmt ");
    wav.extend_from_slice(&[16, 0, 0, 0, 1, 0, 2, 0]);
    wav.extend_from_slice(&48_000u32.to_le_bytes());
    wav.extend_from_slice(&(48_000u32 * 4).to_le_bytes());
    wav.extend_from_slice(&[4, 0, 16, 0]);
    wav.extend_from_slice(b"data\xf0\xff\xff\xff\x01\x02\x03\x04");
    for (bytes, ext) in [
        (&flac[..], "flac"),
        (&comment[..], "flac"),
        (&wav[..], "wav"),
    ] {
        LARGEST.store(0, Ordering::Relaxed);
        let refusal = decode_bytes(bytes, ext)
            .expect_err("a forged header is refused")
            .to_string();
        assert!(!refusal.contains('\n'), "{refusal}");
        let largest = LARGEST.load(Ordering::Relaxed);
        assert!(largest < 64 * MIB, "{ext}: allocated {} MiB", largest / MIB);
    }
}

#[test]
fn a_wav_file_named_flac_with_a_zero_sample_rate_is_refused() {
    // audio_decode: the FLAC/Ogg decoder panicked on a WAV header with sample rate 0.
    let mut wav = Vec::new();
    wav.extend_from_slice(b"RIFF\x2c\x00\x00\x00WAVEfmt ");
    wav.extend_from_slice(&[16, 0, 0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 16, 0]);
    wav.extend_from_slice(b"data\x04\x00\x00\x00\x01\x02\x03\x04");
    // …and with junk in front of it, which the decoder skipped to find the RIFF header.
    let junk: Vec<u8> = b"IDB\x01\xf4\x02\xf0\x00"
        .iter()
        .chain(&wav)
        .copied()
        .collect();
    for bytes in [&wav, &junk] {
        for ext in ["flac", "ogg", "wav"] {
            let refusal = decode_bytes(bytes, ext).expect_err("refused").to_string();
            assert!(!refusal.contains('\n'), "{refusal}");
        }
    }
}

#[test]
fn a_flac_frame_that_panics_the_decoder_is_refused_in_one_line() {
    // audio_decode, 2026-12-07: symphonia's FLAC decoder (0.5.5) indexes past a subframe's
    // buffer on this forged frame and panics; the panic is caught and the file refused.
    let found = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/audio_decode/flac_frame_panic"),
    )
    .unwrap();
    // The target's first byte picks the extension (1: flac).
    let (&pick, file) = found.split_first().unwrap();
    assert_eq!(pick % 3, 1);
    let refused = decode_bytes(file, "flac").unwrap_err().to_string();
    assert_eq!(refused.lines().count(), 1, "{refused}");
}

#[test]
fn a_set_list_section_without_bars_is_refused() {
    // scene_parse: a section that gave no bars read as 0 bars and did not read back.
    let text = r#"Scene(sections: [(name: "a", bars: 8), (name: "b", commands: ["every 2"])])"#;
    let e = Scene::from_ron(text, Path::new("set.ron")).expect_err("refused");
    assert!(e.to_string().contains("bars"), "{e}");
    let good = Scene::from_ron(
        r#"Scene(sections: [(name: "a", bars: 8), (bars: 2)])"#,
        Path::new("set.ron"),
    )
    .expect("reads");
    let again = Scene::from_ron(&good.to_ron(), Path::new("set.ron")).expect("reads back");
    assert_eq!(again.sections, good.sections);
}

#[test]
fn a_grid_command_reads_back_from_its_own_text() {
    // command_parse: velocity 6 (two thirds) was written as `x` (three quarters).
    for line in [
        "grid snare 6...X.......X..x",
        "grid kick <o..>9..1.5.X..x..|.........o..<x...",
    ] {
        let cmd = parse(line).expect("a command");
        assert_eq!(parse(&cmd.to_string()).expect("reads back"), cmd, "{line}");
    }
}
