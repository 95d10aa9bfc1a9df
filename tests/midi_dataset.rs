//! MIDI import, windows, bass reduction, transposition, splits, cache and the pattern round trip,
//! on fixtures the tests write themselves with midly (no dataset needed).

use std::path::Path;

use midly::num::{u4, u7, u15, u24, u28};
use midly::{Format, Header, MetaMessage, MidiMessage, Smf, Timing, TrackEvent, TrackEventKind};
use ubiq::dataset::extract::{FileOutcome, SkipReason, extract_bytes, import_options};
use ubiq::dataset::{CacheMode, Corpus, LoadOptions, Split};
use ubiq::midifile::{
    BassPart, DrumMap, Limits, OFFSET_UNITS, PatternFile, export_pattern, offset_from_units,
    quantise_bassline, quantise_bpm, quantise_pattern, read_pattern, read_song, velocity_from_midi,
    write_pattern,
};
use ubiq::pattern::{BassStep, DrumCell, DrumPattern, STEPS, Voice};
use ubiq::scene::library;

/// An event at an absolute tick; `order` puts note-offs before note-ons at one tick.
type Ev = (u64, u8, TrackEventKind<'static>);

fn note(tick: u64, channel: u8, key: u8, vel: u8) -> Ev {
    let message = if vel == 0 {
        MidiMessage::NoteOff {
            key: u7::new(key),
            vel: u7::new(0),
        }
    } else {
        MidiMessage::NoteOn {
            key: u7::new(key),
            vel: u7::new(vel),
        }
    };
    (
        tick,
        u8::from(vel > 0),
        TrackEventKind::Midi {
            channel: u4::new(channel),
            message,
        },
    )
}

fn meta(tick: u64, m: MetaMessage<'static>) -> Ev {
    (tick, 0, TrackEventKind::Meta(m))
}

fn tempo(tick: u64, bpm: u32) -> Ev {
    meta(tick, MetaMessage::Tempo(u24::new(60_000_000 / bpm)))
}

fn meter(tick: u64, numerator: u8) -> Ev {
    meta(tick, MetaMessage::TimeSignature(numerator, 2, 24, 8))
}

fn program(tick: u64, channel: u8, program: u8) -> Ev {
    (
        tick,
        0,
        TrackEventKind::Midi {
            channel: u4::new(channel),
            message: MidiMessage::ProgramChange {
                program: u7::new(program),
            },
        },
    )
}

fn track(mut events: Vec<Ev>) -> Vec<TrackEvent<'static>> {
    events.sort_by_key(|e| (e.0, e.1));
    let mut now = 0;
    let mut out: Vec<TrackEvent<'static>> = events
        .into_iter()
        .map(|(tick, _, kind)| {
            let delta = u28::new((tick - now) as u32);
            now = tick;
            TrackEvent { delta, kind }
        })
        .collect();
    out.push(TrackEvent {
        delta: u28::new(0),
        kind: TrackEventKind::Meta(MetaMessage::EndOfTrack),
    });
    out
}

fn smf(format: Format, ppq: u16, tracks: Vec<Vec<Ev>>) -> Vec<u8> {
    let smf = Smf {
        header: Header::new(format, Timing::Metrical(u15::new(ppq))),
        tracks: tracks.into_iter().map(track).collect(),
    };
    let mut bytes = Vec::new();
    smf.write_std(&mut bytes).unwrap();
    bytes
}

/// A drum hit on channel 10 with its note-off.
fn hit(tick: u64, key: u8, vel: u8) -> [Ev; 2] {
    [note(tick, 9, key, vel), note(tick + 10, 9, key, 0)]
}

/// Eight closed hats per bar on the step grid, over `bars` bars of 4/4 from `from`.
fn hats(ppq: u64, from: u64, bars: u64) -> Vec<Ev> {
    let step = ppq / 4;
    (0..bars * 8)
        .flat_map(|i| hit(from + i * 2 * step, 42, 80))
        .collect()
}

fn gm(bytes: &[u8]) -> FileOutcome {
    extract_bytes(bytes, &import_options(false, Limits::default()))
}

#[test]
fn known_hits_land_in_exact_cells_and_offsets() {
    let ppq = 480u64;
    let step = ppq / 4;
    let mut events = vec![meter(0, 4), tempo(0, 120)];
    events.extend(hit(0, 36, 127));
    events.extend(hit(4 * step + 30, 38, 100));
    events.extend(hit(8 * step - 60, 42, 64));
    events.extend(hit(12 * step + 59, 46, 90));
    events.extend(hit(16 * step - 10, 36, 50));
    events.extend(hit(16 * step + 10, 36, 100));
    events.extend(hit(20 * step, 45, 70));
    events.extend(hit(31 * step + 60, 49, 110));
    events.extend(hit(40 * step, 38, 100));
    for s in [36, 44, 52, 56] {
        events.extend(hit(s * step, 42, 60));
    }
    events.extend(hit(64 * step, 38, 100));
    let out = gm(&smf(Format::SingleTrack, ppq as u16, vec![events]));
    let window = &out.windows[0];
    assert_eq!(window.bar, 0);
    let p = &window.pattern;
    let cell = |v: u8, units: i32| DrumCell {
        hit: true,
        velocity: velocity_from_midi(v),
        offset: offset_from_units(units),
    };
    assert_eq!(p.get(Voice::Kick, 0), cell(127, 0));
    assert_eq!(p.get(Voice::Snare, 4), cell(100, 30 * 4));
    assert_eq!(p.get(Voice::ClosedHat, 8), cell(64, -OFFSET_UNITS / 2));
    assert_eq!(p.get(Voice::ClosedHat, 8).offset, -0.5);
    assert_eq!(p.get(Voice::OpenHat, 12), cell(90, 59 * 4));
    assert_eq!(
        p.get(Voice::Kick, 16),
        cell(100, 10 * 4),
        "the louder hit wins"
    );
    assert_eq!(p.get(Voice::LowTom, 20), cell(70, 0));
    assert_eq!(
        p.total_hits(),
        6,
        "the crash at 31.5 belongs to the next window"
    );
    let next = &out.windows[1];
    assert_eq!(next.bar, 1);
    assert_eq!(next.pattern.get(Voice::Crash, 16), cell(110, -240));
}

#[test]
fn running_status_and_any_ppq() {
    // Hand-written type 0 file, PPQ 96, running status for the note-ons (note-off as vel 0).
    let mut body = vec![0x00, 0x99, 36, 100];
    for _ in 0..40 {
        body.extend_from_slice(&[24, 38, 90]); // delta one step, running status
    }
    body.extend_from_slice(&[0x00, 0xFF, 0x2F, 0x00]);
    let mut bytes = b"MThd\0\0\0\x06\0\0\0\x01\0\x60MTrk".to_vec();
    bytes.extend_from_slice(&(body.len() as u32).to_be_bytes());
    bytes.extend_from_slice(&body);
    let out = gm(&bytes);
    let p = &out.windows[0].pattern;
    assert_eq!(p.get(Voice::Kick, 0).velocity, velocity_from_midi(100));
    for step in 1..STEPS {
        assert_eq!(p.get(Voice::Snare, step).offset, 0.0);
        assert!(p.get(Voice::Snare, step).hit);
    }
}

#[test]
fn a_tempo_change_mid_file_keeps_the_grid() {
    let ppq = 96u64;
    let bar = 4 * ppq;
    let conductor = vec![meter(0, 4), tempo(0, 120), tempo(2 * bar, 80)];
    let drums = hats(ppq, 0, 4);
    let bytes = smf(Format::Parallel, ppq as u16, vec![conductor, drums]);
    let out = gm(&bytes);
    let at = |b: u32| out.windows.iter().find(|w| w.bar == b).unwrap();
    assert_eq!(at(0).bpm, 120.0);
    assert_eq!(at(2).bpm, 80.0);
    assert_eq!(at(0).pattern, at(2).pattern);
    assert_eq!(at(2).pattern.count(Voice::ClosedHat), 16);
}

#[test]
fn a_three_four_section_is_skipped() {
    let ppq = 480u64;
    let bar = 4 * ppq;
    let three = 3 * ppq;
    let back = 2 * bar + 2 * three;
    let conductor = vec![meter(0, 4), meter(2 * bar, 3), meter(back, 4)];
    let mut drums = hats(ppq, 0, 2);
    drums.extend((0..12).flat_map(|i| hit(2 * bar + i * ppq / 2, 38, 80)));
    drums.extend(hats(ppq, back, 3));
    drums.extend(hit(back, 36, 120));
    let out = gm(&smf(Format::Parallel, ppq as u16, vec![conductor, drums]));
    let bars: Vec<u32> = out.windows.iter().map(|w| w.bar).collect();
    assert_eq!(bars, vec![0, 4, 5]);
    assert!(out.windows[1].pattern.get(Voice::Kick, 0).hit);
    assert_eq!(out.windows[1].pattern.count(Voice::Snare), 0);

    let only_three = smf(
        Format::Parallel,
        ppq as u16,
        vec![
            vec![meter(0, 3)],
            (0..40).flat_map(|i| hit(i * ppq / 2, 38, 80)).collect(),
        ],
    );
    assert_eq!(gm(&only_three).drum_skip, Some(SkipReason::NotFourFour));
}

/// A song with drums on channel 10 and an overlapping bass part (GM program 34) on channel 1.
fn bass_song() -> Vec<u8> {
    let ppq = 480u64;
    let s = ppq / 4;
    let mut bass = vec![program(0, 0, 33)];
    let mut n = |from: u64, to: u64, key: u8| {
        bass.push(note(from * s, 0, key, 100));
        bass.push(note(to * s, 0, key, 0));
    };
    n(0, 4, 40); // E2
    n(2, 6, 36); // C2: lower, cuts E2 short
    n(3, 5, 43); // G2: higher while C2 sounds, dropped
    n(8, 10, 45); // A2 and D2 together: the lower wins
    n(8, 10, 38);
    n(12, 36, 41); // F2 held past the window end
    let drums = hats(ppq, 0, 3);
    smf(
        Format::Parallel,
        ppq as u16,
        vec![vec![meter(0, 4), tempo(0, 100)], drums, bass],
    )
}

#[test]
fn overlapping_bass_notes_are_reduced_to_the_lowest_voice() {
    let out = gm(&bass_song());
    let pair = out.pairs.iter().find(|p| p.window == 0).unwrap();
    let t = i16::from(pair.tonic);
    assert_eq!(pair.tonic, pair.key.root_midi(1));
    let abs: Vec<String> = pair
        .bass
        .steps
        .iter()
        .map(|s| match *s {
            BassStep::Rest => ".".into(),
            BassStep::Hold => "-".into(),
            BassStep::Note { pitch, .. } => (t + i16::from(pitch)).to_string(),
        })
        .collect();
    let mut want = vec![
        "40", "-", "36", "-", "-", "-", ".", ".", "38", "-", ".", ".",
    ];
    want.extend(["41"].iter().chain(["-"; 19].iter()));
    assert_eq!(abs, want);
    // The window starting at bar 1 begins inside the held F2: no hold at its start.
    let later = out.pairs.iter().find(|p| p.window == 1);
    assert!(later.is_none_or(|p| p.bass.steps[0] != BassStep::Hold));
}

#[test]
fn transposition_moves_absolute_notes_and_key() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("song.mid"), bass_song()).unwrap();
    let options = LoadOptions {
        cache: CacheMode::Off,
        ..LoadOptions::default()
    };
    let corpus = Corpus::load(&[dir.path().to_path_buf()], &options).unwrap();
    let pair = corpus.all_pairs()[0].clone();
    let absolute = |p: &ubiq::dataset::BassPair| -> Vec<i16> {
        p.bass
            .pitches()
            .map(|x| i16::from(p.tonic) + i16::from(x))
            .collect()
    };
    let keys: Vec<_> = pair.in_all_keys().collect();
    assert_eq!(keys.len(), 12);
    for (k, moved) in (-6i16..=5).zip(&keys) {
        assert_eq!(moved.tonic, moved.key.root_midi(1));
        assert_eq!(
            i16::from(moved.key.pitch_class()),
            (i16::from(pair.key.pitch_class()) + k).rem_euclid(12)
        );
        let want: Vec<i16> = absolute(&pair).iter().map(|n| n + k).collect();
        assert_eq!(absolute(moved), want);
        assert_eq!(moved.drums, pair.drums);
        assert_eq!(moved.scale, pair.scale);
    }
    assert_eq!(pair.transposed(0).unwrap(), pair);
}

#[test]
fn project_patterns_round_trip_through_midi_exactly() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["default", "house", "breakbeat", "halftime", "techno"] {
        let scene = library::shipped(name).unwrap();
        let tonic = scene.bass.tonic_midi();
        let original = PatternFile {
            drums: scene.drums.pattern(),
            bass: Some(BassPart {
                line: scene.bass.bassline(),
                tonic,
            }),
            bpm: scene.tempo,
        };
        let canonical = PatternFile {
            drums: quantise_pattern(&original.drums),
            bass: Some(BassPart {
                line: quantise_bassline(&scene.bass.bassline(), tonic),
                tonic,
            }),
            bpm: quantise_bpm(scene.tempo),
        };
        let path = dir.path().join(format!("{name}.mid"));
        write_pattern(&path, &original).unwrap();
        let back = read_pattern(&std::fs::read(&path).unwrap()).unwrap();
        assert_eq!(back, canonical, "{name}: MIDI gives the quantised pattern");
        write_pattern(&path, &back).unwrap();
        let again = read_pattern(&std::fs::read(&path).unwrap()).unwrap();
        assert_eq!(again, back, "{name}: pattern → .mid → pattern is exact");
    }
}

/// A small deterministic generator for the property and mutation tests.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn random_pattern(rng: &mut XorShift) -> DrumPattern {
    let mut p = DrumPattern::new();
    for voice in Voice::ALL {
        for step in 0..STEPS {
            if rng.below(3) == 0 {
                let velocity = (rng.below(1000) as f32) / 999.0;
                let offset = rng.below(1001) as f32 / 1000.0 - 0.5;
                p.set(voice, step, DrumCell::hit(velocity, offset));
            }
        }
    }
    p
}

#[test]
fn random_patterns_round_trip_on_the_midi_grid() {
    let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
    for _ in 0..200 {
        let drums = quantise_pattern(&random_pattern(&mut rng));
        let file = PatternFile {
            drums,
            bass: None,
            bpm: quantise_bpm(60.0 + rng.below(12_000) as f32 / 100.0),
        };
        let back = read_pattern(&export_pattern(&file).unwrap()).unwrap();
        assert_eq!(back.drums, drums);
        assert_eq!(back.bass, None);
        assert_eq!(back.bpm.to_bits(), file.bpm.to_bits());
    }
}

#[test]
fn hostile_and_corrupt_files_are_skipped_not_panicked() {
    let options = import_options(false, Limits::default());
    // Truncations of a good file.
    let good = bass_song();
    for cut in 0..good.len() {
        let _ = extract_bytes(&good[..cut], &options);
    }
    assert_eq!(
        extract_bytes(b"not midi", &options).drum_skip,
        Some(SkipReason::ParseError)
    );
    // A huge delta time: the meter map would need millions of bars.
    let far = smf(
        Format::SingleTrack,
        24,
        vec![vec![note(0, 9, 36, 100), note(200_000_000, 9, 36, 100)]],
    );
    assert_eq!(
        extract_bytes(&far, &options).drum_skip,
        Some(SkipReason::TooLong)
    );
    // A meter too small to be a bar (1/64) over a long file.
    let tiny = smf(
        Format::SingleTrack,
        960,
        vec![vec![
            meta(0, MetaMessage::TimeSignature(1, 6, 24, 8)),
            note(0, 9, 36, 100),
            note(50_000_000, 9, 36, 100),
        ]],
    );
    assert_eq!(
        extract_bytes(&tiny, &options).drum_skip,
        Some(SkipReason::TooLong)
    );
    // Too many notes for the limits.
    let small = import_options(
        false,
        Limits {
            max_notes: 10,
            ..Limits::default()
        },
    );
    assert_eq!(
        extract_bytes(&good, &small).drum_skip,
        Some(SkipReason::TooLong)
    );
    // Random mutations of a good file: any outcome but a panic.
    let mut rng = XorShift(42);
    for _ in 0..3_000 {
        let mut bytes = good.clone();
        for _ in 0..1 + rng.below(8) {
            let i = rng.below(bytes.len() as u64) as usize;
            bytes[i] = rng.next() as u8;
        }
        let _ = extract_bytes(&bytes, &options);
        let _ = read_pattern(&bytes);
        let _ = read_song(&bytes, &options);
    }
}

#[test]
fn groove_splits_styles_td11_map_and_the_cache() {
    let root = tempfile::tempdir().unwrap();
    let gmd = root.path().join("groove");
    std::fs::create_dir_all(gmd.join("drummer1/s")).unwrap();
    let header = "drummer,session,id,style,bpm,beat_type,time_signature,midi_filename,audio_filename,duration,split\n";
    let row = |id: &str, style: &str, split: &str| {
        format!(
            "drummer1,drummer1/s,drummer1/s/{id},{style},120,beat,4-4,drummer1/s/{id}.mid,drummer1/s/{id}.wav,10.0,{split}\n"
        )
    };
    let csv = format!(
        "{header}{}{}",
        row("1", "funk/groove1", "test"),
        row("2", "jazz/swing", "validation")
    );
    std::fs::write(gmd.join("info.csv"), csv).unwrap();
    // Drum-only recordings on channel 10: TD-11 note 45 is a mid tom, 58 a low tom.
    let file = |key: u8| {
        let mut events = hats(480, 0, 2);
        events.extend(hit(0, key, 100));
        smf(Format::SingleTrack, 480, vec![events])
    };
    let one = gmd.join("drummer1/s/1.mid");
    std::fs::write(&one, file(45)).unwrap();
    std::fs::write(gmd.join("drummer1/s/2.mid"), file(58)).unwrap();
    let cache_dir = root.path().join("cache");
    let options = LoadOptions {
        cache: CacheMode::Dir(cache_dir.clone()),
        ..LoadOptions::default()
    };
    let corpus = Corpus::load(std::slice::from_ref(&gmd), &options).unwrap();
    let test: Vec<_> = corpus.drum_windows(Split::Test).collect();
    assert_eq!(test.len(), 1);
    assert_eq!(test[0].style(), Some("funk"));
    assert!(test[0].pattern.get(Voice::MidTom, 0).hit);
    let valid: Vec<_> = corpus.drum_windows(Split::Validation).collect();
    assert_eq!(valid[0].style(), Some("jazz"));
    assert!(valid[0].pattern.get(Voice::LowTom, 0).hit);
    assert_eq!(corpus.drum_windows(Split::Train).count(), 0);
    let report = corpus.report();
    assert_eq!(report.splits["test"].distinct_windows, 1);
    assert!(report.cache.as_ref().is_some_and(|c| !c.hit && c.written));

    let cached = Corpus::load(std::slice::from_ref(&gmd), &options).unwrap();
    assert!(cached.report().cache.as_ref().is_some_and(|c| c.hit));
    assert_eq!(cached.all_drum_windows(), corpus.all_drum_windows());

    // Changing a file (its size) re-extracts.
    std::fs::write(&one, file(36)).unwrap();
    let fresh = Corpus::load(&[gmd], &options).unwrap();
    assert!(fresh.report().cache.as_ref().is_some_and(|c| !c.hit));
    let w = fresh.drum_windows(Split::Test).next().unwrap();
    assert!(w.pattern.get(Voice::Kick, 0).hit);
}

#[test]
fn drum_map_choice_matters_only_where_groovae_differs() {
    assert_eq!(
        DrumMap::GeneralMidi.voice(36),
        DrumMap::RolandTd11.voice(36)
    );
    assert_ne!(
        DrumMap::GeneralMidi.voice(48),
        DrumMap::RolandTd11.voice(48)
    );
}

#[test]
fn pattern_files_are_written_atomically_where_asked() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("p.mid");
    let file = PatternFile {
        drums: DrumPattern::new(),
        bass: None,
        bpm: 120.0,
    };
    write_pattern(&path, &file).unwrap();
    assert!(Path::new(&path).is_file());
    assert_eq!(read_pattern(&std::fs::read(&path).unwrap()).unwrap(), file);
    assert!(write_pattern(&path, &PatternFile { bpm: 0.0, ..file }).is_err());
}
