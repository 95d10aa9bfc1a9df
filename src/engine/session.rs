//! The session log: everything that changed the sound, with the exact audio frame at which
//! it took effect, plus the seed and the starting scene. Replaying it offline renders the
//! same samples, bit for bit.
//!
//! ```text
//! ubiq-session 2
//! sample_rate 48000
//! seed 1
//! scene Scene(tempo:122.0, …)
//! record_from 96000
//! end 480000
//! start_lead 1440
//! 0 tempo 128
//! 153600 grid kick X...x...X...x...
//! 201216 @scene Scene(…)
//! 201216 @cycle 2 fb 0.41 -1.2 0.87 gmd_0412
//! 201728 @loop music 128 freedoom_e1m1_3
//! 402000 @deck records/side_a.flac
//! ```
//!
//! `@cycle` lines carry what the feedback loop heard (target point, score, rhythm loop), and
//! `@loop` / `@deck` lines the loop buffers and records the audio thread was given, so a replay
//! needs neither the live input nor the timing of the worker threads to sound the same.

use std::path::{Path, PathBuf};

use thiserror::Error;

use super::loops::{Cue, Cued};
use crate::command::{Command, parse};
use crate::loops::LoopSet;
use crate::loops::key::FOLLOW_SHIFTS;
use crate::performance::loops::FeedbackTurn;
use crate::scene::Scene;

/// Format version written in the first line. Version 1 had no `start_lead` line (its graphs
/// started at once); it still reads.
pub const SESSION_VERSION: u32 = 2;

/// Lowest sample rate a log may give, in Hz.
pub const MIN_SAMPLE_RATE: u32 = 8_000;
/// Highest sample rate a log may give, in Hz.
pub const MAX_SAMPLE_RATE: u32 = 384_000;
/// Longest recording a log may describe (`end` − `record_from`), in seconds of audio at the
/// log's rate: six hours.
pub const MAX_RECORDED_SECONDS: u64 = 6 * 3600;
/// Latest frame a log may name (`record_from`, `end`, an entry), in seconds of audio at the
/// log's rate: twelve hours, so a replay (which renders from frame 0) stays bounded.
pub const MAX_FRAME_SECONDS: u64 = 12 * 3600;
/// Longest start lead a log may give, in seconds.
pub const MAX_LEAD_SECONDS: u64 = 1;
/// How far past `end` an entry's frame may lie, in seconds (a take logs up to its stop).
pub const ENTRY_SLACK_SECONDS: u64 = 60;
/// Lowest loop tempo an `@loop` line may give (as `tempo` accepts).
pub const MIN_LOOP_TEMPO: f32 = 40.0;
/// Highest loop tempo an `@loop` line may give (as `tempo` accepts).
pub const MAX_LOOP_TEMPO: f32 = 240.0;

/// A session log that could not be read.
#[derive(Debug, Error)]
#[error("{path}:{line}: {message}")]
pub struct SessionError {
    /// The file.
    pub path: String,
    /// 1-based line (0: the file as a whole).
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

/// What happened at a frame.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// A performer's command.
    Command(Command),
    /// A scene that took over (hot reload).
    Scene(Box<Scene>),
    /// The performance started: the starting scene's settings and first cycle arrived.
    Start,
    /// Cycle K began and the AI had its turn (what the feedback loop heard, drift, a new
    /// cycle when due).
    Cycle(u64, Option<FeedbackTurn>),
    /// A loop set was cued a loop (stretched to a tempo) or silence, from the next boundary.
    Loop(LoopSet, Cue),
    /// A record went on the deck (none: it was taken off).
    Deck(Option<PathBuf>),
    /// A drum kit (its folder) was handed to the audio thread, to play from the next cycle
    /// boundary (none: the synthesized voices).
    Kit(Option<PathBuf>),
}

/// One line of the log.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// Audio frame at which the change reached the audio thread.
    pub frame: u64,
    /// The change.
    pub action: Action,
}

/// A whole session.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SessionLog {
    /// Sample rate of the audio graph.
    pub sample_rate: u32,
    /// Seed of the graph's noise sources.
    pub seed: u64,
    /// The scene the session started from.
    pub scene: Scene,
    /// First frame of the recording.
    pub record_from: u64,
    /// Frame after the last recorded one.
    pub end: u64,
    /// Frames the graph's transport waited after a start before its downbeat (live play
    /// waits so MIDI out can place the downbeat; renders start at once).
    pub start_lead: u32,
    /// Changes in order.
    pub entries: Vec<Entry>,
}

fn compact(scene: &Scene) -> String {
    ron::to_string(scene).unwrap_or_default()
}

/// What a session's audio graph was built with: a replay builds the same.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GraphSetup {
    /// Sample rate in Hz.
    pub sample_rate: u32,
    /// Seed of the noise sources.
    pub seed: u64,
    /// The transport's start lead in frames (see [`SessionLog::start_lead`]).
    pub start_lead: u32,
}

/// The lines before the entries; `record_from` and `end` as given (a take being recorded
/// writes placeholders it fills in later).
pub fn header_text(graph: GraphSetup, scene: &Scene, record_from: &str, end: &str) -> String {
    format!(
        "ubiq-session {SESSION_VERSION}\nsample_rate {}\nseed {}\nscene {}\nrecord_from {record_from}\nend {end}\nstart_lead {}\n",
        graph.sample_rate,
        graph.seed,
        compact(scene),
        graph.start_lead,
    )
}

impl Entry {
    /// The entry as a line of the log, newline included.
    pub fn line(&self) -> String {
        let frame = self.frame;
        match &self.action {
            Action::Command(c) => format!("{frame} {c}\n"),
            Action::Scene(s) => format!("{frame} @scene {}\n", compact(s)),
            Action::Start => format!("{frame} @start\n"),
            Action::Cycle(k, None) => format!("{frame} @cycle {k}\n"),
            Action::Cycle(k, Some(t)) => format!(
                "{frame} @cycle {k} fb {} {} {} {}\n",
                t.target[0], t.target[1], t.score, t.loop_name
            ),
            Action::Loop(set, None) => format!("{frame} @loop {} off\n", set.name()),
            Action::Loop(
                set,
                Some(Cued {
                    name,
                    tempo,
                    semitones: 0,
                }),
            ) => format!("{frame} @loop {} {tempo} {name}\n", set.name()),
            Action::Loop(
                set,
                Some(Cued {
                    name,
                    tempo,
                    semitones,
                }),
            ) => format!(
                "{frame} @loop {} {tempo}/{semitones:+} {name}\n",
                set.name()
            ),
            Action::Deck(None) => format!("{frame} @deck -\n"),
            Action::Deck(Some(p)) => format!("{frame} @deck {}\n", p.display()),
            Action::Kit(None) => format!("{frame} @kit -\n"),
            Action::Kit(Some(p)) => format!("{frame} @kit {}\n", p.display()),
        }
    }
}

/// A take's log as it is while the take is recorded (see `engine::journal`): the frame of
/// its first sample is not known until that sample is written, its end not until it stops.
#[derive(Debug, Clone, PartialEq)]
pub struct OpenLog {
    /// The log; its `record_from` and `end` are 0 where unknown.
    pub log: SessionLog,
    /// First frame of the recording, once known.
    pub record_from: Option<u64>,
    /// Frame after the last recorded one, once the take ended.
    pub end: Option<u64>,
}

impl SessionLog {
    /// The graph the log's session played on.
    pub fn graph(&self) -> GraphSetup {
        GraphSetup {
            sample_rate: self.sample_rate,
            seed: self.seed,
            start_lead: self.start_lead,
        }
    }

    /// The log as text.
    pub fn to_text(&self) -> String {
        let mut out = header_text(
            self.graph(),
            &self.scene,
            &self.record_from.to_string(),
            &self.end.to_string(),
        );
        for e in &self.entries {
            out.push_str(&e.line());
        }
        out
    }

    /// Reads a log; errors name the line. The log of a take that was interrupted (a crash)
    /// is refused with what to do: `ubiq recover` makes it whole.
    pub fn parse(text: &str, path: &Path) -> Result<SessionLog, SessionError> {
        let open = Self::parse_open(text, path)?;
        match (open.record_from, open.end) {
            (Some(_), Some(_)) => Ok(open.log),
            _ => Err(SessionError {
                path: path.display().to_string(),
                line: 6,
                message: format!(
                    "the take was interrupted before it ended: `ubiq recover {}` makes it whole",
                    path.display()
                ),
            }),
        }
    }

    /// Reads a log whose `record_from` and `end` may still be `-` (a take being recorded,
    /// or one a crash interrupted); errors name the line.
    pub fn parse_open(text: &str, path: &Path) -> Result<OpenLog, SessionError> {
        let err = |line: usize, message: String| SessionError {
            path: path.display().to_string(),
            line,
            message,
        };
        let mut lines = text.lines().enumerate().map(|(i, l)| (i + 1, l));
        let mut header = |key: &str| -> Result<(usize, String), SessionError> {
            let (n, line) = lines
                .next()
                .ok_or_else(|| err(0, format!("ends before `{key}`")))?;
            let value = line
                .strip_prefix(key)
                .and_then(|r| r.strip_prefix(' '))
                .ok_or_else(|| err(n, format!("expected `{key} …`")))?;
            Ok((n, value.to_string()))
        };
        let (n, version) = header("ubiq-session")?;
        let version = match version.trim() {
            "1" => 1,
            "2" => 2,
            _ => {
                return Err(err(
                    n,
                    format!("session version {version} is not supported"),
                ));
            }
        };
        let number = |(n, v): (usize, String)| -> Result<u64, SessionError> {
            v.trim()
                .parse()
                .map_err(|_| err(n, format!("{v:?} is not a number")))
        };
        let (rate_line, rate_text) = header("sample_rate")?;
        let sample_rate = number((rate_line, rate_text))?;
        let sample_rate = u32::try_from(sample_rate)
            .ok()
            .filter(|r| (MIN_SAMPLE_RATE..=MAX_SAMPLE_RATE).contains(r))
            .ok_or_else(|| {
                err(
                    rate_line,
                    format!(
                        "sample rate {sample_rate} is outside {MIN_SAMPLE_RATE}…{MAX_SAMPLE_RATE} Hz"
                    ),
                )
            })?;
        let rate = u64::from(sample_rate);
        let last_frame = MAX_FRAME_SECONDS * rate;
        let seed = number(header("seed")?)?;
        let (n, ron_text) = header("scene")?;
        let scene = Scene::from_ron(&ron_text, path).map_err(|e| err(n, e.message))?;
        let mut known = |key: &str| -> Result<(usize, Option<u64>), SessionError> {
            let (n, v) = header(key)?;
            if v.trim() == "-" {
                return Ok((n, None));
            }
            let frame = number((n, v))?;
            if frame > last_frame {
                return Err(err(
                    n,
                    format!(
                        "{key} {frame} is past {MAX_FRAME_SECONDS} s of audio at {sample_rate} Hz (frame {last_frame})"
                    ),
                ));
            }
            Ok((n, Some(frame)))
        };
        let (_, record_from) = known("record_from")?;
        let (end_line, end) = known("end")?;
        if let (Some(from), Some(end)) = (record_from, end) {
            let longest = MAX_RECORDED_SECONDS * rate;
            if end.saturating_sub(from) > longest {
                return Err(err(
                    end_line,
                    format!(
                        "end {end} is more than {MAX_RECORDED_SECONDS} s of audio after record_from {from} at {sample_rate} Hz"
                    ),
                ));
            }
        }
        let start_lead = if version >= 2 {
            let (n, v) = header("start_lead")?;
            let lead = number((n, v))?;
            u32::try_from(lead)
                .ok()
                .filter(|&l| u64::from(l) <= MAX_LEAD_SECONDS * rate)
                .ok_or_else(|| {
                    err(
                        n,
                        format!(
                            "start_lead {lead} is more than {MAX_LEAD_SECONDS} s at {sample_rate} Hz"
                        ),
                    )
                })?
        } else {
            0
        };
        // Entries beyond the end are not played; far beyond it, the log is not a take's.
        let last_entry = end.map_or(last_frame, |e| e + ENTRY_SLACK_SECONDS * rate);
        let mut entries = Vec::new();
        for (n, line) in lines {
            if line.trim().is_empty() {
                continue;
            }
            let (frame, rest) = line
                .split_once(' ')
                .ok_or_else(|| err(n, "expected `FRAME COMMAND`".into()))?;
            let frame: u64 = frame
                .parse()
                .map_err(|_| err(n, format!("{frame:?} is not a frame number")))?;
            if frame > last_entry {
                return Err(err(
                    n,
                    format!("frame {frame} is far past the log's end (frame {last_entry} at most)"),
                ));
            }
            let action = if rest == "@start" {
                Action::Start
            } else if let Some(k) = rest.strip_prefix("@cycle ") {
                parse_cycle(k).map_err(|m| err(n, m.to_string()))?
            } else if let Some(r) = rest.strip_prefix("@loop ") {
                parse_loop(r).map_err(|m| err(n, m.to_string()))?
            } else if let Some(r) = rest.strip_prefix("@deck ") {
                Action::Deck((r != "-").then(|| PathBuf::from(r)))
            } else if let Some(r) = rest.strip_prefix("@kit ") {
                Action::Kit((r != "-").then(|| PathBuf::from(r)))
            } else if let Some(r) = rest.strip_prefix("@scene ") {
                Action::Scene(Box::new(
                    Scene::from_ron(r, path).map_err(|e| err(n, e.message))?,
                ))
            } else {
                Action::Command(parse(rest).map_err(|e| err(n, e.to_string()))?)
            };
            entries.push(Entry { frame, action });
        }
        let from = record_from.unwrap_or(0);
        Ok(OpenLog {
            log: SessionLog {
                sample_rate,
                seed,
                scene,
                record_from: from,
                end: end.unwrap_or(0).max(from),
                start_lead,
                entries,
            },
            record_from,
            end,
        })
    }
}

/// Why a `@cycle` or `@loop` line does not read.
#[derive(Debug, Error)]
enum EntryError {
    /// A word that should be a number of some kind.
    #[error("{text:?} is not a {what}")]
    NotA {
        /// What the word should be.
        what: &'static str,
        /// The word.
        text: String,
    },
    /// Something else after a cycle number.
    #[error("expected `fb …` after the cycle number, found {0:?}")]
    NotFeedback(String),
    /// A `@loop` line without its words.
    #[error("expected `@loop SET TEMPO NAME` or `@loop SET off`")]
    LoopWords,
    /// An unknown loop set.
    #[error(transparent)]
    Set(#[from] crate::loops::UnknownSet),
}

fn not_a(what: &'static str, text: &str) -> EntryError {
    EntryError::NotA {
        what,
        text: text.to_string(),
    }
}

fn parse_cycle(text: &str) -> Result<Action, EntryError> {
    let mut words = text.splitn(6, ' ');
    let k = words.next().unwrap_or("");
    let k: u64 = k.trim().parse().map_err(|_| not_a("cycle number", k))?;
    match words.next() {
        None => Ok(Action::Cycle(k, None)),
        Some("fb") => {
            let mut number = |what: &'static str| -> Result<f32, EntryError> {
                let w = words.next().unwrap_or("");
                w.parse()
                    .ok()
                    .filter(|v: &f32| v.is_finite())
                    .ok_or_else(|| not_a(what, w))
            };
            let target = [number("latent x")?, number("latent y")?];
            let score = number("score")?;
            let loop_name = words.next().unwrap_or("").to_string();
            Ok(Action::Cycle(
                k,
                Some(FeedbackTurn {
                    loop_name,
                    score,
                    target,
                }),
            ))
        }
        Some(w) => Err(EntryError::NotFeedback(w.to_string())),
    }
}

fn parse_loop(text: &str) -> Result<Action, EntryError> {
    let (set, rest) = text.split_once(' ').ok_or(EntryError::LoopWords)?;
    let set = LoopSet::from_name(set)?;
    if rest == "off" {
        return Ok(Action::Loop(set, None));
    }
    let (played, name) = rest.split_once(' ').ok_or(EntryError::LoopWords)?;
    // `TEMPO`, or `TEMPO/±SEMITONES` for a transposed loop.
    let (tempo, shift) = played.split_once('/').unwrap_or((played, "0"));
    let tempo: f32 = tempo
        .parse()
        .ok()
        .filter(|t: &f32| (MIN_LOOP_TEMPO..=MAX_LOOP_TEMPO).contains(t))
        .ok_or_else(|| not_a("tempo within 40…240", tempo))?;
    let semitones: i8 = shift
        .parse()
        .ok()
        .filter(|s| FOLLOW_SHIFTS.contains(s))
        .ok_or_else(|| not_a("transposition within -6…+5 semitones", shift))?;
    Ok(Action::Loop(
        set,
        Some(Cued {
            name: name.to_string(),
            tempo,
            semitones,
        }),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::registry::Models;
    use crate::scene::library::default_scene;

    fn log() -> SessionLog {
        let mut faster = default_scene();
        faster.tempo = 140.0;
        SessionLog {
            sample_rate: 44_100,
            seed: 5,
            scene: default_scene(),
            record_from: 20_000,
            end: 200_000,
            start_lead: 1_440,
            entries: vec![
                Entry {
                    frame: 512,
                    action: Action::Start,
                },
                Entry {
                    frame: 10_000,
                    action: Action::Command(parse("mute bass").unwrap()),
                },
                Entry {
                    frame: 90_000,
                    action: Action::Scene(Box::new(faster)),
                },
                Entry {
                    frame: 150_000,
                    action: Action::Command(parse("grid kick x...............").unwrap()),
                },
            ],
        }
    }

    #[test]
    fn text_round_trip() {
        let l = log();
        let again = SessionLog::parse(&l.to_text(), Path::new("s.log")).unwrap();
        assert_eq!(again, l);
    }

    #[test]
    fn replay_is_deterministic_and_has_the_recorded_length() {
        let l = log();
        let a = l.replay(&mut Models::none()).samples;
        assert_eq!(a.len(), 2 * 180_000);
        assert_eq!(a, l.replay(&mut Models::none()).samples);
        assert!(a.iter().any(|x| x.abs() > 0.05));
    }

    #[test]
    fn feedback_loop_and_deck_lines_round_trip() {
        let mut l = log();
        l.entries.push(Entry {
            frame: 160_000,
            action: Action::Cycle(
                3,
                Some(FeedbackTurn {
                    loop_name: "gmd 12".into(),
                    score: 0.8125,
                    target: [0.123_456_79, -2.5],
                }),
            ),
        });
        l.entries.push(Entry {
            frame: 160_100,
            action: Action::Loop(
                LoopSet::Music,
                Some(Cued {
                    name: "a b".into(),
                    tempo: 121.5,
                    semitones: 0,
                }),
            ),
        });
        l.entries.push(Entry {
            frame: 160_150,
            action: Action::Loop(
                LoopSet::Ambient,
                Some(Cued {
                    name: "-3 pad".into(),
                    tempo: 98.0,
                    semitones: -3,
                }),
            ),
        });
        l.entries.push(Entry {
            frame: 160_200,
            action: Action::Loop(LoopSet::Voice, None),
        });
        l.entries.push(Entry {
            frame: 170_000,
            action: Action::Deck(Some("records/side a.flac".into())),
        });
        l.entries.push(Entry {
            frame: 180_000,
            action: Action::Deck(None),
        });
        let again = SessionLog::parse(&l.to_text(), Path::new("s.log")).unwrap();
        assert_eq!(again, l);
    }

    #[test]
    fn a_loop_line_with_a_transposition_out_of_range_is_refused() {
        for shift in ["+9", "x", ""] {
            let mut l = log();
            l.entries.clear();
            let text = format!("{}1000 @loop music 120/{shift} pad\n", l.to_text());
            let e = SessionLog::parse(&text, Path::new("s.log")).unwrap_err();
            assert!(e.to_string().contains("transposition"), "{e}");
        }
    }

    #[test]
    fn a_replay_keeps_a_typed_grid_locked_through_the_ai_turns() {
        // 120 BPM at 48 kHz: a two-bar cycle is 192 000 frames; the AI writes every cycle.
        let cycle = 192_000;
        let mut scene = default_scene();
        scene.tempo = 120.0;
        scene.ai.every = 1;
        let mut entries = vec![
            Entry {
                frame: 0,
                action: Action::Start,
            },
            Entry {
                frame: 1_000,
                action: Action::Command(parse("grid kick x.x.x.x.x.x.x.x.").unwrap()),
            },
        ];
        entries.extend((1..6).map(|k| Entry {
            frame: k * cycle + 100,
            action: Action::Cycle(k, None),
        }));
        let log = SessionLog {
            sample_rate: 48_000,
            seed: 1,
            scene,
            record_from: 0,
            end: 6 * cycle,
            start_lead: 0,
            entries,
        };
        let (mut models, problems) = Models::embedded();
        assert!(problems.is_empty(), "{problems:?}");
        let mut kicks = |from: u64| {
            let played = log.replay(&mut models);
            played
                .events
                .iter()
                .filter(|(frame, e, _)| {
                    *frame >= from as i64
                        && matches!(
                            e,
                            crate::audio::plan::EventKind::Drum {
                                voice: crate::pattern::Voice::Kick,
                                ..
                            }
                        )
                })
                .count()
        };
        // The last four cycles play the typed kick row, eight to a bar, whatever the AI wrote.
        assert_eq!(kicks(2 * cycle), 4 * 16);
        assert_eq!(kicks(2 * cycle), kicks(2 * cycle), "deterministic");
    }

    /// The error of `log()`'s text with `from` replaced by `to`.
    fn refusal(from: &str, to: &str) -> SessionError {
        let text = log().to_text();
        assert!(text.contains(from), "{from:?} not in the log");
        SessionLog::parse(&text.replacen(from, to, 1), Path::new("s.log")).unwrap_err()
    }

    #[test]
    fn every_header_value_is_bounded_and_refused_naming_its_line() {
        for (from, to, line) in [
            ("sample_rate 44100", "sample_rate 0", 2),
            ("sample_rate 44100", "sample_rate 7999", 2),
            ("sample_rate 44100", "sample_rate 384001", 2),
            ("sample_rate 44100", "sample_rate 4294967295", 2),
            ("sample_rate 44100", "sample_rate 99999999999999", 2),
            ("record_from 20000", "record_from 99999999999", 5),
            ("end 200000", "end 18446744073709551615", 6),
            // Seven hours after the start: past the six hours a recording may last.
            ("end 200000", "end 1111320000", 6),
            // More than a second's lead.
            ("start_lead 1440", "start_lead 44101", 7),
            ("start_lead 1440", "start_lead 99999999999", 7),
            ("150000 grid", "9999999999 grid", 11),
            ("512 @start", "512 @loop music 1e30 a", 8),
            ("512 @start", "512 @loop music 0.5 a", 8),
        ] {
            let e = refusal(from, to);
            assert_eq!(e.line, line, "{to}: {e}");
            let shown = e.to_string();
            assert!(shown.starts_with(&format!("s.log:{line}: ")), "{shown}");
            assert_eq!(shown.lines().count(), 1, "{shown}");
        }
        // The bounds themselves read.
        for (from, to) in [
            ("sample_rate 44100", "sample_rate 8000"),
            ("sample_rate 44100", "sample_rate 384000"),
            ("512 @start", "512 @loop music 240 a"),
            ("start_lead 1440", "start_lead 44100"),
        ] {
            let text = log().to_text().replacen(from, to, 1);
            assert!(SessionLog::parse(&text, Path::new("s.log")).is_ok(), "{to}");
        }
    }

    #[test]
    fn save_and_load_lines_are_events_a_replay_never_carries_out() {
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("victim.ron");
        std::fs::write(&victim, "mine").unwrap();
        let elsewhere = dir.path().join("other.ron");
        std::fs::write(&elsewhere, "Scene(tempo: 200)").unwrap();
        let mut l = log();
        for (frame, line) in [
            (30_000, format!("save {}", victim.display())),
            (
                31_000,
                format!("save {}", dir.path().join("new.ron").display()),
            ),
            (32_000, format!("load {}", elsewhere.display())),
            (33_000, "record start stolen".to_string()),
        ] {
            l.entries.push(Entry {
                frame,
                action: Action::Command(parse(&line).unwrap()),
            });
        }
        l.entries.sort_by_key(|e| e.frame);
        let l = SessionLog::parse(&l.to_text(), Path::new("s.log")).unwrap();
        let played = l.replay(&mut Models::none());
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "mine");
        let mut names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        names.sort();
        assert_eq!(names, ["other.ron", "victim.ron"]);
        // The loaded scene (tempo 200) never took over: the sound is the log without it.
        assert_eq!(played.samples, log().replay(&mut Models::none()).samples);
    }

    #[test]
    fn a_scene_loaded_on_stage_is_logged_as_the_scene_so_a_replay_reads_no_file() {
        use crate::engine::offline::{Input, Keep, Offline};
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("fast.ron");
        std::fs::write(&file, "Scene(tempo: 150)").unwrap();
        let line = format!("load {}", file.display());
        let keep = Keep {
            audio: true,
            log: true,
        };
        let played = Offline::perform_scripted(
            &default_scene(),
            &mut Models::none(),
            600_000,
            (44_100, 1),
            keep,
            |n| {
                Some(if n == 1 {
                    vec![(0.5, Input::Line(line.clone()))]
                } else {
                    Vec::new()
                })
            },
        );
        assert!(played.problems.is_empty(), "{:?}", played.problems);
        let actions = || played.log.entries.iter().map(|e| &e.action);
        assert!(!actions().any(|a| matches!(a, Action::Command(Command::Load(_)))));
        assert!(actions().any(|a| matches!(a, Action::Scene(s) if s.tempo == 150.0)));
        std::fs::remove_file(&file).unwrap();
        assert!(played.log.replay(&mut Models::none()).samples == played.samples);
    }

    #[cfg(unix)]
    #[test]
    fn a_record_is_read_only_from_a_regular_file_of_bounded_size() {
        let dir = tempfile::tempdir().unwrap();
        let device = dir.path().join("zero.wav");
        std::os::unix::fs::symlink("/dev/zero", &device).unwrap();
        let huge = dir.path().join("huge.wav");
        let f = std::fs::File::create(&huge).unwrap();
        f.set_len(crate::engine::offline::RECORD_MAX_BYTES + 1)
            .unwrap();
        for (path, why) in [
            (device, "not a regular file"),
            (huge, "more than a record's"),
        ] {
            let mut l = log();
            l.entries.insert(
                1,
                Entry {
                    frame: 600,
                    action: Action::Deck(Some(path.clone())),
                },
            );
            let played = l.replay(&mut Models::none());
            assert_eq!(played.problems.len(), 1, "{:?}", played.problems);
            let p = &played.problems[0];
            assert!(
                p.contains(&path.display().to_string()) && p.contains(why),
                "{p}"
            );
        }
    }

    #[test]
    fn a_kit_in_a_log_is_read_as_data_and_a_bad_one_leaves_the_set_playing() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("kit.ron"),
            r#"Kit(voices: {kick: (samples: ["/etc/passwd"])})"#,
        )
        .unwrap();
        let mut l = log();
        let plain = l.replay(&mut Models::none());
        l.entries.insert(
            1,
            Entry {
                frame: 600,
                action: Action::Kit(Some(dir.path().to_path_buf())),
            },
        );
        let text = l.to_text();
        assert!(
            text.contains(&format!("600 @kit {}", dir.path().display())),
            "{text}"
        );
        let back = SessionLog::parse(&text, Path::new("s.log")).unwrap();
        let played = back.replay(&mut Models::none());
        assert_eq!(played.problems.len(), 1, "{:?}", played.problems);
        assert!(
            played.problems[0].contains("inside the kit's folder"),
            "{}",
            played.problems[0]
        );
        assert!(
            played.samples == plain.samples,
            "the synthesized kit plays on"
        );
    }

    #[test]
    fn errors_name_the_line() {
        let text = log().to_text().replace("mute bass", "mute bas");
        let e = SessionLog::parse(&text, Path::new("s.log")).unwrap_err();
        assert_eq!(e.line, 9);
        assert!(e.to_string().starts_with("s.log:9:"), "{e}");
    }

    #[test]
    fn the_start_lead_round_trips_and_a_version_1_log_started_at_once() {
        let l = log();
        let text = l.to_text();
        assert_eq!(SessionLog::parse(&text, Path::new("s.log")).unwrap(), l);
        let old = text
            .replacen("ubiq-session 2", "ubiq-session 1", 1)
            .replacen("start_lead 1440\n", "", 1);
        let read = SessionLog::parse(&old, Path::new("s.log")).unwrap();
        assert_eq!(read.start_lead, 0);
        assert_eq!(read.entries, l.entries);
    }
}
