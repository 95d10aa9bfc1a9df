//! Stems of multi-track MIDI songs rendered with a SoundFont, tempo-normalised: every two-bar
//! window is rendered at 120 BPM (4 s) whatever the song's tempo, so no stretching is needed.
//!
//! Channels are grouped into drums (channel 10), bass (GM programs 32–39) and melodic (all
//! other pitched channels).

use std::path::Path;
use std::sync::Arc;

use midly::{MidiMessage, Smf, Timing, TrackEventKind};
use rustysynth::{SoundFont, Synthesizer, SynthesizerSettings};
use thiserror::Error;

use super::LoopError;

/// Seconds per beat of tempo-normalised audio (120 BPM).
pub const SECONDS_PER_BEAT: f64 = 0.5;
/// Beats in a two-bar window (4/4).
pub const WINDOW_BEATS: u32 = 8;
/// Most windows taken from one song.
pub const MAX_WINDOWS_PER_SONG: usize = 8;

/// Why MIDI file bytes are no song to render.
#[derive(Debug, Error)]
pub enum SongError {
    /// Not a standard MIDI file.
    #[error("not a MIDI file ({0})")]
    NotMidi(midly::Error),
    /// SMPTE timecode timing, which has no beats.
    #[error("SMPTE-timed MIDI files are not supported")]
    Timecode,
}

/// Which channels a stem holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StemGroup {
    /// The GM drum channel.
    Drums,
    /// Channels playing a GM bass program.
    Bass,
    /// Every other pitched channel.
    Melodic,
}

/// One channel event in beats from the song start.
#[derive(Debug, Clone, Copy)]
struct Event {
    beat: f64,
    channel: u8,
    command: u8,
    data1: u8,
    data2: u8,
}

/// A multi-track song ready to render.
#[derive(Debug, Clone)]
pub struct MidiSong {
    /// File stem, the song id of splits.
    pub name: String,
    events: Vec<Event>,
    groups: [StemGroup; 16],
    length_beats: f64,
}

fn program_group(channel: u8, program: Option<u8>) -> StemGroup {
    if channel == 9 {
        StemGroup::Drums
    } else if program.is_some_and(|p| (32..=39).contains(&p)) {
        StemGroup::Bass
    } else {
        StemGroup::Melodic
    }
}

impl MidiSong {
    /// Reads a standard MIDI file.
    pub fn load(path: &Path) -> Result<MidiSong, LoopError> {
        let bytes = std::fs::read(path).map_err(|e| LoopError::io(path.display(), e))?;
        let name = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        MidiSong::parse(&name, &bytes).map_err(|source| LoopError::Song {
            path: path.display().to_string(),
            source,
        })
    }

    /// Parses standard MIDI file bytes.
    pub fn parse(name: &str, bytes: &[u8]) -> Result<MidiSong, SongError> {
        let smf = Smf::parse(bytes).map_err(SongError::NotMidi)?;
        let tpq = match smf.header.timing {
            Timing::Metrical(t) => f64::from(t.as_int().max(1)),
            Timing::Timecode(..) => return Err(SongError::Timecode),
        };
        let mut events = Vec::new();
        let mut first_program: [Option<u8>; 16] = [None; 16];
        for track in &smf.tracks {
            let mut tick = 0u64;
            for ev in track {
                tick += u64::from(ev.delta.as_int());
                let beat = tick as f64 / tpq;
                let TrackEventKind::Midi { channel, message } = ev.kind else {
                    continue;
                };
                let ch = channel.as_int();
                let (command, data1, data2) = match message {
                    MidiMessage::NoteOn { key, vel } => (0x90, key.as_int(), vel.as_int()),
                    MidiMessage::NoteOff { key, vel } => (0x80, key.as_int(), vel.as_int()),
                    MidiMessage::Controller { controller, value } => {
                        (0xB0, controller.as_int(), value.as_int())
                    }
                    MidiMessage::ProgramChange { program } => {
                        let p = program.as_int();
                        first_program[usize::from(ch)].get_or_insert(p);
                        (0xC0, p, 0)
                    }
                    MidiMessage::PitchBend { bend } => {
                        let v = bend.0.as_int();
                        (0xE0, (v & 0x7F) as u8, (v >> 7) as u8)
                    }
                    _ => continue,
                };
                events.push(Event {
                    beat,
                    channel: ch,
                    command,
                    data1,
                    data2,
                });
            }
        }
        events.sort_by(|a, b| a.beat.total_cmp(&b.beat));
        let length_beats = events.last().map_or(0.0, |e| e.beat);
        let groups = std::array::from_fn(|c| program_group(c as u8, first_program[c]));
        Ok(MidiSong {
            name: name.to_string(),
            events,
            groups,
            length_beats,
        })
    }

    fn notes_in(&self, group: StemGroup, from: f64, to: f64) -> usize {
        self.events
            .iter()
            .filter(|e| e.beat >= from && e.beat < to)
            .filter(|e| e.command == 0x90 && e.data2 > 0)
            .filter(|e| self.groups[usize::from(e.channel)] == group)
            .count()
    }

    /// Start beats of up to [`MAX_WINDOWS_PER_SONG`] two-bar windows, spread over the song,
    /// in which drums, bass and melodic parts all play (at least 4, 2 and 2 notes).
    pub fn windows(&self) -> Vec<u32> {
        self.windows_every(WINDOW_BEATS, MAX_WINDOWS_PER_SONG)
    }

    /// Start beats of up to `max` two-bar windows, spread over the song, one candidate every
    /// `hop_beats` beats (4: a one-bar hop), in which drums, bass and melodic parts all play
    /// (at least 4, 2 and 2 notes).
    pub fn windows_every(&self, hop_beats: u32, max: usize) -> Vec<u32> {
        let hop = hop_beats.max(1);
        let candidates: Vec<u32> = (0..)
            .map(|i| i * hop)
            .take_while(|b| f64::from(b + WINDOW_BEATS) <= self.length_beats)
            .filter(|&b| {
                let (from, to) = (f64::from(b), f64::from(b + WINDOW_BEATS));
                self.notes_in(StemGroup::Drums, from, to) >= 4
                    && self.notes_in(StemGroup::Bass, from, to) >= 2
                    && self.notes_in(StemGroup::Melodic, from, to) >= 2
            })
            .collect();
        if candidates.len() <= max {
            return candidates;
        }
        (0..max)
            .map(|i| candidates[i * candidates.len() / max])
            .collect()
    }
}

/// How a stem is rendered differently from the song as written (for training variety).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Variant {
    /// Semitones every pitched (non-drum) note moves by; notes that would leave the MIDI
    /// range are dropped.
    pub semitones: i8,
    /// Per channel, how many places each program moves within its General MIDI family of
    /// eight (0..8; 0 keeps the instrument), so a bass stays a bass and a guitar a guitar.
    pub program_offsets: [u8; 16],
}

impl Variant {
    /// The program that plays instead of `program` on `channel`.
    pub fn program(&self, channel: u8, program: u8) -> u8 {
        let offset = self.program_offsets[usize::from(channel) % 16] % 8;
        (program & !7) | ((program % 8 + offset) % 8)
    }
}

/// Renders stems with one SoundFont.
pub struct StemRenderer {
    font: Arc<SoundFont>,
    sample_rate: u32,
}

impl std::fmt::Debug for StemRenderer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StemRenderer")
            .field("sample_rate", &self.sample_rate)
            .finish_non_exhaustive()
    }
}

impl StemRenderer {
    /// Loads a SoundFont (`.sf2`); renders at `sample_rate` (16–192 kHz).
    pub fn new(soundfont: &Path, sample_rate: u32) -> Result<StemRenderer, LoopError> {
        let bytes = std::fs::read(soundfont).map_err(|e| LoopError::io(soundfont.display(), e))?;
        let font = SoundFont::new(&mut bytes.as_slice()).map_err(|e| {
            LoopError::file(soundfont.display(), format!("not a SoundFont ({e:?})"))
        })?;
        Ok(StemRenderer {
            font: Arc::new(font),
            sample_rate,
        })
    }

    /// Sample rate of the stems.
    pub fn sample_rate(&self) -> u32 {
        self.sample_rate
    }

    /// Renders the two bars from `start_beat` of the channels in `groups`, at 120 BPM, mono.
    /// Notes held into the window sound from its start; controllers and programs before it
    /// apply.
    pub fn render(
        &self,
        song: &MidiSong,
        start_beat: u32,
        groups: &[StemGroup],
    ) -> Result<Vec<f32>, LoopError> {
        self.render_variant(song, start_beat, groups, &Variant::default())
    }

    /// [`StemRenderer::render`] of a [`Variant`]: transposed, and with other instruments of
    /// the same families.
    pub fn render_variant(
        &self,
        song: &MidiSong,
        start_beat: u32,
        groups: &[StemGroup],
        variant: &Variant,
    ) -> Result<Vec<f32>, LoopError> {
        let semitones = variant.semitones;
        let settings = SynthesizerSettings::new(self.sample_rate as i32);
        let mut synth = Synthesizer::new(&self.font, &settings)
            .map_err(|e| LoopError::Render(format!("cannot start the synthesizer ({e:?})")))?;
        let from = f64::from(start_beat);
        let to = from + f64::from(WINDOW_BEATS);
        let wanted = |e: &Event| groups.contains(&song.groups[usize::from(e.channel)]);
        // The key of a note event after transposition, `None` when it leaves the range.
        let key = |e: &Event| -> Option<u8> {
            if e.channel == 9 {
                return Some(e.data1);
            }
            u8::try_from(i16::from(e.data1) + i16::from(semitones))
                .ok()
                .filter(|k| *k < 128)
        };
        let message = |synth: &mut Synthesizer, e: &Event, data1: u8| {
            let data1 = if e.command == 0xC0 && e.channel != 9 {
                variant.program(e.channel, data1)
            } else {
                data1
            };
            synth.process_midi_message(
                i32::from(e.channel),
                i32::from(e.command),
                i32::from(data1),
                i32::from(e.data2),
            );
        };
        if variant.program_offsets.iter().any(|&o| o % 8 != 0) {
            // Channels that never change program play program 0 (piano), moved as well.
            for ch in (0..16u8).filter(|&c| c != 9) {
                synth.process_midi_message(
                    i32::from(ch),
                    0xC0,
                    i32::from(variant.program(ch, 0)),
                    0,
                );
            }
        }
        let mut held = [[false; 128]; 16];
        let mut i = 0;
        let events = &song.events;
        while i < events.len() && events[i].beat < from {
            let e = events[i];
            i += 1;
            if !wanted(&e) {
                continue;
            }
            match e.command {
                0x80 | 0x90 => {
                    if let Some(k) = key(&e) {
                        held[usize::from(e.channel)][usize::from(k)] =
                            e.command == 0x90 && e.data2 > 0;
                    }
                }
                _ => message(&mut synth, &e, e.data1),
            }
        }
        for (ch, keys) in held.iter().enumerate() {
            if ch == 9 {
                continue;
            }
            for (key, on) in keys.iter().enumerate() {
                if *on {
                    synth.note_on(ch as i32, key as i32, 90);
                }
            }
        }
        let rate = f64::from(self.sample_rate);
        let frames = (f64::from(WINDOW_BEATS) * SECONDS_PER_BEAT * rate).round() as usize;
        let frame_of = |beat: f64| ((beat - from) * SECONDS_PER_BEAT * rate).round() as usize;
        let mut left = vec![0.0f32; frames];
        let mut right = vec![0.0f32; frames];
        let mut pos = 0usize;
        while pos < frames {
            let next = events
                .get(i)
                .filter(|e| e.beat < to)
                .map(|e| frame_of(e.beat).min(frames))
                .unwrap_or(frames);
            if next > pos {
                synth.render(&mut left[pos..next], &mut right[pos..next]);
                pos = next;
            }
            while let Some(e) = events.get(i).filter(|e| e.beat < to) {
                if frame_of(e.beat) > pos {
                    break;
                }
                i += 1;
                if !wanted(e) {
                    continue;
                }
                let data1 = if matches!(e.command, 0x80 | 0x90) {
                    match key(e) {
                        Some(k) => k,
                        None => continue,
                    }
                } else {
                    e.data1
                };
                message(&mut synth, e, data1);
            }
        }
        Ok(left
            .iter()
            .zip(&right)
            .map(|(l, r)| 0.5 * (l + r))
            .collect())
    }
}
