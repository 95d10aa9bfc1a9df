//! Writing a two-bar pattern (drums, optional bassline) as a standard MIDI file, type 1.
//!
//! Layout: a conductor track (tempo, 4/4), a drum track on channel 10 with GrooVAE's simplified
//! GM notes, and, when there is a bassline, a bass track on channel 1 (GM program 34, "Electric
//! Bass (finger)") tagged with its tonic in a text event, so [`read_pattern`](super::read_pattern)
//! gives back the same relative pitches. Resolution is [`EXPORT_PPQ`]: one tick per offset unit.
//! A hit on step 0 played early is written at the end of the cycle, as a loop plays it.

use std::path::Path;

use midly::num::{u4, u7, u15, u24, u28};
use midly::{Format, Header, MetaMessage, MidiMessage, Smf, Timing, TrackEvent, TrackEventKind};

use super::drum_map::DrumMap;
use super::import::DRUM_CHANNEL;
use super::{EXPORT_PPQ, OFFSET_UNITS, micros_per_beat, offset_units, velocity_to_midi};
use crate::pattern::{BassStep, Bassline, DrumPattern, STEPS, Voice};

/// Prefix of the text event that carries the bass tonic (`ubiq tonic 33`).
pub const TONIC_TEXT_PREFIX: &str = "ubiq tonic ";

/// The General MIDI program of the exported bass track (0-based 33 = program 34, finger bass).
pub const BASS_PROGRAM: u8 = 33;

/// Length of an exported drum note, in ticks (a quarter of a step).
const DRUM_NOTE_TICKS: u64 = OFFSET_UNITS as u64 / 4;

/// A bassline with the tonic its pitches are relative to.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BassPart {
    /// The line.
    pub line: Bassline,
    /// MIDI note of the tonic: `tonic + pitch` is the absolute note.
    pub tonic: u8,
}

/// What a pattern file holds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PatternFile {
    /// The two-bar drum pattern.
    pub drums: DrumPattern,
    /// The bassline, if any.
    pub bass: Option<BassPart>,
    /// Tempo in beats per minute (kept to 1/100 BPM).
    pub bpm: f32,
}

/// Why a pattern file could not be written.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// The tempo is not a positive, finite number MIDI can hold.
    #[error("tempo {0} BPM cannot be written to MIDI")]
    Tempo(f32),
    /// Writing the bytes or the file failed.
    #[error("could not write {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
}

fn midi(channel: u8, message: MidiMessage) -> TrackEventKind<'static> {
    TrackEventKind::Midi {
        channel: u4::new(channel),
        message,
    }
}

/// Sorts `(tick, order, event)` triples and turns them into a track ending at `end`.
fn track<'a>(mut events: Vec<(u64, u8, TrackEventKind<'a>)>, end: u64) -> Vec<TrackEvent<'a>> {
    events.sort_by_key(|&(tick, order, _)| (tick, order));
    let mut out = Vec::with_capacity(events.len() + 1);
    let mut now = 0u64;
    for (tick, _, kind) in events {
        out.push(TrackEvent {
            delta: u28::new((tick - now) as u32),
            kind,
        });
        now = tick;
    }
    out.push(TrackEvent {
        delta: u28::new(end.saturating_sub(now) as u32),
        kind: TrackEventKind::Meta(MetaMessage::EndOfTrack),
    });
    out
}

fn drum_track(drums: &DrumPattern) -> Vec<(u64, u8, TrackEventKind<'static>)> {
    let units = OFFSET_UNITS as i64;
    let cycle = STEPS as i64 * units;
    let mut events = Vec::new();
    for voice in Voice::ALL {
        let key = u7::new(DrumMap::export_note(voice));
        for (step, cell) in drums.row(voice).iter().enumerate() {
            if !cell.hit {
                continue;
            }
            let tick = (step as i64 * units + i64::from(offset_units(cell.offset)))
                .rem_euclid(cycle) as u64;
            let vel = u7::new(velocity_to_midi(cell.velocity));
            events.push((
                tick,
                2,
                midi(DRUM_CHANNEL, MidiMessage::NoteOn { key, vel }),
            ));
            events.push((
                tick + DRUM_NOTE_TICKS,
                1,
                midi(
                    DRUM_CHANNEL,
                    MidiMessage::NoteOff {
                        key,
                        vel: u7::new(0),
                    },
                ),
            ));
        }
    }
    events
}

fn bass_track<'a>(bass: &BassPart, tonic_text: &'a [u8]) -> Vec<(u64, u8, TrackEventKind<'a>)> {
    let units = OFFSET_UNITS as u64;
    let mut events = vec![
        (0, 0, TrackEventKind::Meta(MetaMessage::TrackName(b"Bass"))),
        (0, 0, TrackEventKind::Meta(MetaMessage::Text(tonic_text))),
        (
            0,
            0,
            midi(
                0,
                MidiMessage::ProgramChange {
                    program: u7::new(BASS_PROGRAM),
                },
            ),
        ),
    ];
    let mut sounding: Option<u8> = None;
    let off = |events: &mut Vec<(u64, u8, TrackEventKind<'_>)>, key: u8, step: usize| {
        events.push((
            step as u64 * units,
            1,
            midi(
                0,
                MidiMessage::NoteOff {
                    key: u7::new(key),
                    vel: u7::new(0),
                },
            ),
        ));
    };
    for (step, s) in bass.line.steps.iter().enumerate() {
        match *s {
            BassStep::Hold => {}
            BassStep::Rest => {
                if let Some(key) = sounding.take() {
                    off(&mut events, key, step);
                }
            }
            BassStep::Note { pitch, velocity } => {
                if let Some(key) = sounding.take() {
                    off(&mut events, key, step);
                }
                let key = i16::from(bass.tonic) + i16::from(pitch);
                if let Ok(key) = u8::try_from(key) {
                    if key <= 127 {
                        events.push((
                            step as u64 * units,
                            2,
                            midi(
                                0,
                                MidiMessage::NoteOn {
                                    key: u7::new(key),
                                    vel: u7::new(velocity_to_midi(velocity)),
                                },
                            ),
                        ));
                        sounding = Some(key);
                    }
                }
            }
        }
    }
    if let Some(key) = sounding {
        off(&mut events, key, STEPS);
    }
    events
}

/// Encodes a pattern as SMF type 1 bytes.
pub fn export_pattern(file: &PatternFile) -> Result<Vec<u8>, ExportError> {
    let micros = micros_per_beat(file.bpm).ok_or(ExportError::Tempo(file.bpm))?;
    let end = STEPS as u64 * OFFSET_UNITS as u64;
    let conductor = vec![
        (0, 0, TrackEventKind::Meta(MetaMessage::TrackName(b"ubiq"))),
        (
            0,
            0,
            TrackEventKind::Meta(MetaMessage::Tempo(u24::new(micros))),
        ),
        (
            0,
            0,
            TrackEventKind::Meta(MetaMessage::TimeSignature(4, 2, 24, 8)),
        ),
    ];
    let mut drums = drum_track(&file.drums);
    drums.push((0, 0, TrackEventKind::Meta(MetaMessage::TrackName(b"Drums"))));
    let drum_end = drums.iter().map(|e| e.0).max().unwrap_or(0).max(end);
    let tonic_text = file
        .bass
        .map(|b| format!("{TONIC_TEXT_PREFIX}{}", b.tonic).into_bytes())
        .unwrap_or_default();
    let mut tracks = vec![track(conductor, end), track(drums, drum_end)];
    if let Some(bass) = &file.bass {
        tracks.push(track(bass_track(bass, &tonic_text), end));
    }
    smf_bytes(tracks)
}

/// Writes a pattern file atomically (a reader sees the old file or the new one).
pub fn write_pattern(path: &Path, file: &PatternFile) -> Result<(), ExportError> {
    let bytes = export_pattern(file)?;
    crate::files::write_atomic(path, &bytes).map_err(|source| ExportError::Io {
        path: path.display().to_string(),
        source,
    })
}

/// Encodes a performance's MIDI as SMF type 1: a conductor track (tempo, 4/4) and one track
/// with every message in the order it was sent. `events` are (frame, message) at `sample_rate`
/// frames per second and `bpm` (frame 0 is the first downbeat), as
/// MIDI out's voicer gives them; times become ticks of
/// [`EXPORT_PPQ`] per quarter note, rounded.
pub fn export_performance(
    events: &[(f64, [u8; 3])],
    bpm: f32,
    sample_rate: u32,
) -> Result<Vec<u8>, ExportError> {
    let micros = micros_per_beat(bpm).ok_or(ExportError::Tempo(bpm))?;
    let frames_per_tick = f64::from(sample_rate) * 60.0 / f64::from(bpm) / f64::from(EXPORT_PPQ);
    let mut notes = vec![(
        0,
        0,
        TrackEventKind::Meta(MetaMessage::TrackName(b"ubiq MIDI out")),
    )];
    for (frame, msg) in events {
        let tick = (frame.max(0.0) / frames_per_tick).round() as u64;
        let channel = msg[0] & 0x0F;
        let (key, vel) = (u7::new(msg[1] & 0x7F), u7::new(msg[2] & 0x7F));
        let message = match msg[0] & 0xF0 {
            0x90 => MidiMessage::NoteOn { key, vel },
            0x80 => MidiMessage::NoteOff { key, vel },
            _ => continue,
        };
        // After the track name; the stable sort keeps same-tick messages as sent.
        notes.push((tick, 1, midi(channel, message)));
    }
    let end = notes.iter().map(|e| e.0).max().unwrap_or(0);
    let conductor = vec![
        (
            0,
            0,
            TrackEventKind::Meta(MetaMessage::Tempo(u24::new(micros))),
        ),
        (
            0,
            0,
            TrackEventKind::Meta(MetaMessage::TimeSignature(4, 2, 24, 8)),
        ),
    ];
    smf_bytes(vec![track(conductor, end), track(notes, end)])
}

/// A type 1 file of these tracks at [`EXPORT_PPQ`], as bytes.
fn smf_bytes(tracks: Vec<Vec<TrackEvent<'_>>>) -> Result<Vec<u8>, ExportError> {
    let smf = Smf {
        header: Header::new(Format::Parallel, Timing::Metrical(u15::new(EXPORT_PPQ))),
        tracks,
    };
    let mut bytes = Vec::new();
    smf.write_std(&mut bytes)
        .map_err(|source| ExportError::Io {
            path: "<memory>".into(),
            source,
        })?;
    Ok(bytes)
}
