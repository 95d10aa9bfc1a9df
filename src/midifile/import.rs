//! Reading standard MIDI files: a whole song for the dataset, or a two-bar pattern file.
//!
//! Files are parsed lazily with `midly` (type 0 and 1, running status, any PPQ); only drum hits,
//! pitched notes, time signatures and tempi are kept. Every loop is bounded by [`Limits`], so a
//! corrupt or hostile file costs at most a few megabytes and is refused with a [`MidiError`].

use std::collections::VecDeque;

use midly::{Format, MetaMessage, MidiMessage, Timing, TrackEventKind};

use super::MidiError;
use super::drum_map::DrumMap;
use super::export::{BassPart, PatternFile, TONIC_TEXT_PREFIX};
use super::quantise::{bassline_at, drum_pattern_at};
use crate::pattern::Voice;

/// The MIDI channel (0-based) General MIDI reserves for drums: "channel 10".
pub const DRUM_CHANNEL: u8 = 9;

/// Bounds on what one file may cost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest file read, in bytes.
    pub max_file_bytes: u64,
    /// Most events (of all kinds, over all tracks).
    pub max_events: usize,
    /// Most notes and drum hits kept.
    pub max_notes: usize,
    /// Most bars in the meter map.
    pub max_bars: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_file_bytes: 8 << 20,
            max_events: 2_000_000,
            max_notes: 500_000,
            max_bars: 20_000,
        }
    }
}

/// How a file is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ImportOptions {
    /// The drum-note table.
    pub drum_map: DrumMap,
    /// Treat notes on every channel as drums (drum-only recordings such as the Groove MIDI
    /// Dataset); otherwise only channel 10 is.
    pub all_channels_are_drums: bool,
    /// Bounds on time and memory.
    pub limits: Limits,
}

/// One drum hit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DrumHit {
    /// Absolute time in ticks.
    pub tick: u64,
    /// The voice it maps to.
    pub voice: Voice,
    /// MIDI velocity 1..=127.
    pub velocity: u8,
}

/// One pitched note.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Note {
    /// Note-on time in ticks.
    pub start: u64,
    /// Note-off time in ticks (after `start`).
    pub end: u64,
    /// MIDI note number.
    pub pitch: u8,
    /// MIDI velocity 1..=127.
    pub velocity: u8,
    /// Whether the note belongs to a bass part (GM program 32–39 or a track named bass).
    pub bass: bool,
}

/// A time-signature change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Meter {
    /// Where it takes effect, in ticks.
    pub tick: u64,
    /// Beats in a bar.
    pub numerator: u8,
    /// Note value of a beat, as a power of two (2 = quarter note).
    pub denominator_pow: u8,
}

impl Meter {
    /// Whether this is 4/4.
    pub fn is_four_four(&self) -> bool {
        self.numerator == 4 && self.denominator_pow == 2
    }
}

/// A tempo change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tempo {
    /// Where it takes effect, in ticks.
    pub tick: u64,
    /// Microseconds per quarter note.
    pub micros_per_beat: u32,
}

/// One bar of the meter map.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bar {
    /// First tick.
    pub start: u64,
    /// Whether the bar is a whole bar of 4/4.
    pub four_four: bool,
}

/// What the dataset needs from one MIDI file, every list sorted by time.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Song {
    /// Ticks per quarter note.
    pub ticks_per_beat: u32,
    /// Drum hits, sorted by tick.
    pub drums: Vec<DrumHit>,
    /// Pitched (non-drum) notes, bass included, sorted by start.
    pub notes: Vec<Note>,
    /// Time-signature changes, sorted (the file's, without the implied 4/4 at 0).
    pub meters: Vec<Meter>,
    /// Tempo changes, sorted.
    pub tempi: Vec<Tempo>,
    /// Text meta events of the file, for tags such as an exported pattern's tonic.
    pub texts: Vec<String>,
}

/// The default tempo of MIDI: 120 BPM.
const DEFAULT_MICROS_PER_BEAT: u32 = 500_000;

fn parse_error(e: midly::Error) -> MidiError {
    MidiError::Parse(e.to_string())
}

/// Whether a track name names a bass part ("Bass", "Fretless bass", "bassline"; not
/// "Bass Drum" or "Bassoon").
pub fn is_bass_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    let words: Vec<&str> = lower
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    let drum = words
        .iter()
        .any(|w| matches!(*w, "drum" | "drums" | "kick" | "bd"));
    !drum
        && words
            .iter()
            .any(|w| matches!(*w, "bass" | "basses" | "bassline" | "synthbass"))
}

/// An open note waiting for its note-off.
#[derive(Debug, Clone, Copy)]
struct Open {
    start: u64,
    velocity: u8,
}

/// Pitched notes of one track before programs are known.
#[derive(Debug, Clone, Copy)]
struct RawNote {
    start: u64,
    end: u64,
    channel: u8,
    pitch: u8,
    velocity: u8,
    bass_track: bool,
}

/// Reads a whole file. Fails on malformed bytes, timecode timing, type 2 files and anything
/// past `options.limits`.
pub fn read_song(bytes: &[u8], options: &ImportOptions) -> Result<Song, MidiError> {
    let limits = options.limits;
    if bytes.len() as u64 > limits.max_file_bytes {
        return Err(MidiError::TooLarge {
            bytes: bytes.len() as u64,
            limit: limits.max_file_bytes,
        });
    }
    let (header, tracks) = midly::parse(bytes).map_err(parse_error)?;
    if header.format == Format::Sequential {
        return Err(MidiError::Sequential);
    }
    let ticks_per_beat = match header.timing {
        Timing::Metrical(t) => u32::from(t.as_int()),
        Timing::Timecode(..) => return Err(MidiError::Timecode),
    };
    if ticks_per_beat == 0 {
        return Err(MidiError::Parse("zero ticks per quarter note".into()));
    }
    let mut song = Song {
        ticks_per_beat,
        ..Song::default()
    };
    let mut raw_notes: Vec<RawNote> = Vec::new();
    let mut programs: Vec<(u64, u8, u8)> = Vec::new();
    let mut events = 0usize;
    let mut open: Vec<VecDeque<Open>> = vec![VecDeque::new(); 16 * 128];
    for track in tracks {
        let track = track.map_err(parse_error)?;
        let first_note = raw_notes.len();
        let mut bass_track = false;
        let mut tick = 0u64;
        for event in track {
            let event = event.map_err(parse_error)?;
            events += 1;
            if events > limits.max_events {
                return Err(MidiError::TooLong("too many events"));
            }
            tick += u64::from(event.delta.as_int());
            match event.kind {
                TrackEventKind::Midi { channel, message } => {
                    let channel = channel.as_int();
                    let drum = channel == DRUM_CHANNEL || options.all_channels_are_drums;
                    let (key, velocity, on) = match message {
                        MidiMessage::NoteOn { key, vel } => (key.as_int(), vel.as_int(), true),
                        MidiMessage::NoteOff { key, vel } => (key.as_int(), vel.as_int(), false),
                        MidiMessage::ProgramChange { program } => {
                            if programs.len() >= limits.max_notes {
                                return Err(MidiError::TooLong("too many program changes"));
                            }
                            programs.push((tick, channel, program.as_int()));
                            continue;
                        }
                        _ => continue,
                    };
                    let on = on && velocity > 0;
                    if song.drums.len() + raw_notes.len() >= limits.max_notes {
                        return Err(MidiError::TooLong("too many notes"));
                    }
                    if drum {
                        if let (true, Some(voice)) = (on, options.drum_map.voice(key)) {
                            song.drums.push(DrumHit {
                                tick,
                                voice,
                                velocity,
                            });
                        }
                        continue;
                    }
                    let slot = &mut open[usize::from(channel) * 128 + usize::from(key)];
                    if on {
                        slot.push_back(Open {
                            start: tick,
                            velocity,
                        });
                    } else if let Some(note) = slot.pop_front() {
                        raw_notes.push(RawNote {
                            start: note.start,
                            end: tick.max(note.start + 1),
                            channel,
                            pitch: key,
                            velocity: note.velocity,
                            bass_track: false,
                        });
                    }
                }
                TrackEventKind::Meta(MetaMessage::TrackName(name)) => {
                    bass_track |= is_bass_name(&String::from_utf8_lossy(name));
                }
                TrackEventKind::Meta(MetaMessage::Text(text))
                    if song.texts.len() < 64 && text.len() <= 256 =>
                {
                    song.texts.push(String::from_utf8_lossy(text).into_owned());
                }
                TrackEventKind::Meta(MetaMessage::TimeSignature(numerator, pow, _, _)) => {
                    song.meters.push(Meter {
                        tick,
                        numerator,
                        denominator_pow: pow,
                    });
                }
                TrackEventKind::Meta(MetaMessage::Tempo(t)) => {
                    song.tempi.push(Tempo {
                        tick,
                        micros_per_beat: t.as_int().max(1),
                    });
                }
                _ => {}
            }
        }
        for (index, slot) in open.iter_mut().enumerate() {
            for note in slot.drain(..) {
                raw_notes.push(RawNote {
                    start: note.start,
                    end: tick.max(note.start + 1),
                    channel: (index / 128) as u8,
                    pitch: (index % 128) as u8,
                    velocity: note.velocity,
                    bass_track: false,
                });
            }
        }
        for note in &mut raw_notes[first_note..] {
            note.bass_track = bass_track;
        }
    }
    let mut by_channel: Vec<Vec<(u64, u8)>> = vec![Vec::new(); 16];
    for &(tick, channel, program) in &programs {
        by_channel[usize::from(channel & 15)].push((tick, program));
    }
    for list in &mut by_channel {
        list.sort_by_key(|&(tick, _)| tick);
    }
    song.notes = raw_notes
        .iter()
        .map(|n| {
            let list = &by_channel[usize::from(n.channel & 15)];
            let before = list.partition_point(|&(tick, _)| tick <= n.start);
            let program = before.checked_sub(1).map(|i| list[i].1);
            Note {
                start: n.start,
                end: n.end,
                pitch: n.pitch,
                velocity: n.velocity,
                bass: n.bass_track || matches!(program, Some(32..=39)),
            }
        })
        .collect();
    song.drums.sort_by_key(|h| h.tick);
    song.notes.sort_by_key(|n| (n.start, n.pitch));
    song.meters.sort_by_key(|m| m.tick);
    song.tempi.sort_by_key(|t| t.tick);
    Ok(song)
}

impl Song {
    /// The last tick at which anything sounds.
    pub fn end(&self) -> u64 {
        let drums = self.drums.last().map_or(0, |h| h.tick + 1);
        let notes = self.notes.iter().map(|n| n.end).max().unwrap_or(0);
        drums.max(notes)
    }

    /// Ticks in a bar of 4/4.
    pub fn ticks_per_bar(&self) -> u64 {
        u64::from(self.ticks_per_beat) * 4
    }

    /// The bars of the meter map from tick 0 to [`Song::end`]. A meter change inside a bar cuts
    /// it short (the cut bar is not 4/4).
    pub fn bars(&self, limits: &Limits) -> Result<Vec<Bar>, MidiError> {
        let end = self.end();
        let mut bars = Vec::new();
        let mut meter = Meter {
            tick: 0,
            numerator: 4,
            denominator_pow: 2,
        };
        let mut next = 0usize;
        let mut tick = 0u64;
        while tick < end {
            while next < self.meters.len() && self.meters[next].tick <= tick {
                meter = self.meters[next];
                next += 1;
            }
            let whole = u128::from(meter.numerator) * u128::from(self.ticks_per_beat) * 4
                / (1u128 << meter.denominator_pow.min(64));
            let whole = u64::try_from(whole).unwrap_or(u64::MAX).max(1);
            let cut = self.meters.get(next).map(|m| m.tick);
            let (len, whole_bar) = match cut {
                Some(at) if at < tick.saturating_add(whole) => (at - tick, false),
                _ => (whole, true),
            };
            if bars.len() >= limits.max_bars {
                return Err(MidiError::TooLong("too many bars"));
            }
            bars.push(Bar {
                start: tick,
                four_four: whole_bar && meter.is_four_four(),
            });
            tick = tick.saturating_add(len.max(1));
        }
        Ok(bars)
    }

    /// Tempo in beats per minute at `tick`, to 1/100 BPM.
    pub fn bpm_at(&self, tick: u64) -> f32 {
        let before = self.tempi.partition_point(|t| t.tick <= tick);
        let micros = before
            .checked_sub(1)
            .map_or(DEFAULT_MICROS_PER_BEAT, |i| self.tempi[i].micros_per_beat);
        super::bpm_from_micros(micros)
    }
}

/// Reads a two-bar pattern file (as [`export_pattern`](super::export_pattern) writes it, or any
/// file that starts with two bars of 4/4): drums with the GM map, the bass part reduced to one
/// voice. A hit in the last half step of the cycle wraps to step 0 with a negative offset, as
/// a loop plays it. Without a tonic tag the bass tonic is the estimated key's root in octave 1.
pub fn read_pattern(bytes: &[u8]) -> Result<PatternFile, MidiError> {
    let options = ImportOptions::default();
    let song = read_song(bytes, &options)?;
    let bars = song.bars(&options.limits)?;
    let four_four = |i: usize| bars.get(i).is_none_or(|b| b.four_four);
    if !(four_four(0) && four_four(1)) {
        return Err(MidiError::NotFourFour);
    }
    let drums = drum_pattern_at(&song, 0, true);
    let cycle_end = song.ticks_per_bar() * 2;
    let has_bass = song.notes.iter().any(|n| n.bass && n.start < cycle_end);
    let bass = if has_bass {
        let tonic = song
            .texts
            .iter()
            .find_map(|t| t.strip_prefix(TONIC_TEXT_PREFIX)?.trim().parse::<u8>().ok())
            .filter(|&t| t <= 127)
            .unwrap_or_else(|| super::key::estimate(&song, 0, cycle_end).0.root_midi(1));
        Some(BassPart {
            line: bassline_at(&song, 0, tonic),
            tonic,
        })
    } else {
        None
    };
    Ok(PatternFile {
        drums,
        bass,
        bpm: song.bpm_at(0),
    })
}
