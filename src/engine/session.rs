//! The session log: everything that changed the sound, with the exact audio frame at which
//! it took effect, plus the seed and the starting scene. Replaying it offline renders the
//! same samples, bit for bit.
//!
//! ```text
//! ubiq-session 1
//! sample_rate 48000
//! seed 1
//! scene Scene(tempo:122.0, …)
//! record_from 96000
//! end 480000
//! 0 tempo 128
//! 153600 grid kick X...x...X...x...
//! 201216 @scene Scene(…)
//! ```

use std::path::Path;

use thiserror::Error;

use super::Performance;
use crate::audio::{AudioMsg, link};
use crate::command::{Command, parse};
use crate::scene::Scene;

/// Format version written in the first line.
pub const SESSION_VERSION: u32 = 1;

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
#[derive(Debug, Clone, PartialEq)]
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
    /// Changes in order.
    pub entries: Vec<Entry>,
}

fn compact(scene: &Scene) -> String {
    ron::to_string(scene).unwrap_or_default()
}

impl SessionLog {
    /// The log as text.
    pub fn to_text(&self) -> String {
        let mut out = format!(
            "ubiq-session {SESSION_VERSION}\nsample_rate {}\nseed {}\nscene {}\nrecord_from {}\nend {}\n",
            self.sample_rate,
            self.seed,
            compact(&self.scene),
            self.record_from,
            self.end
        );
        for e in &self.entries {
            match &e.action {
                Action::Command(c) => out.push_str(&format!("{} {c}\n", e.frame)),
                Action::Scene(s) => out.push_str(&format!("{} @scene {}\n", e.frame, compact(s))),
                Action::Start => out.push_str(&format!("{} @start\n", e.frame)),
            }
        }
        out
    }

    /// Reads a log; errors name the line.
    pub fn parse(text: &str, path: &Path) -> Result<SessionLog, SessionError> {
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
        if version.trim() != SESSION_VERSION.to_string() {
            return Err(err(
                n,
                format!("session version {version} is not supported"),
            ));
        }
        let number = |(n, v): (usize, String)| -> Result<u64, SessionError> {
            v.trim()
                .parse()
                .map_err(|_| err(n, format!("{v:?} is not a number")))
        };
        let sample_rate = number(header("sample_rate")?)?;
        let seed = number(header("seed")?)?;
        let (n, ron_text) = header("scene")?;
        let scene = Scene::from_ron(&ron_text, path).map_err(|e| err(n, e.message))?;
        let record_from = number(header("record_from")?)?;
        let end = number(header("end")?)?;
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
            let action = if rest == "@start" {
                Action::Start
            } else if let Some(r) = rest.strip_prefix("@scene ") {
                Action::Scene(Box::new(
                    Scene::from_ron(r, path).map_err(|e| err(n, e.message))?,
                ))
            } else {
                Action::Command(parse(rest).map_err(|e| err(n, e.to_string()))?)
            };
            entries.push(Entry { frame, action });
        }
        Ok(SessionLog {
            sample_rate: u32::try_from(sample_rate)
                .map_err(|_| err(2, "sample rate out of range".into()))?,
            seed,
            scene,
            record_from,
            end: end.max(record_from),
            entries,
        })
    }

    /// Renders the recorded part offline: the same graph, the same changes at the same
    /// frames, so the samples equal the live recording's.
    pub fn replay(&self) -> Vec<f32> {
        let (mut audio, mut core) = link(self.sample_rate, self.seed);
        let mut perf = Performance::new(self.scene.clone());
        // As live: a change's messages go together. Offline the queue never fills.
        let queue = |audio: &mut crate::audio::AudioHandle, msgs: Vec<AudioMsg>| {
            let _ = audio.send_all(&msgs);
        };
        // A log without `@start` began at frame 0 (as offline renders do).
        if !self.entries.iter().any(|e| e.action == Action::Start) {
            queue(&mut audio, perf.start_messages());
        }
        let mut frame = 0u64;
        let mut out = Vec::with_capacity((self.end - self.record_from) as usize * 2);
        let mut buf = vec![0.0f32; 2 * 512];
        let mut render_to = |target: u64, frame: &mut u64, core: &mut crate::audio::AudioCore| {
            while *frame < target {
                let n = (target - *frame).min(512) as usize;
                core.process(&mut buf[..2 * n]);
                let from = self.record_from.saturating_sub(*frame).min(n as u64) as usize;
                if *frame + n as u64 > self.record_from {
                    out.extend_from_slice(&buf[2 * from..2 * n]);
                }
                *frame += n as u64;
            }
        };
        for e in &self.entries {
            if e.frame >= self.end {
                break;
            }
            render_to(e.frame, &mut frame, &mut core);
            let msgs = match &e.action {
                Action::Command(c) => match perf.apply(c) {
                    Ok(o) => perf.messages(o),
                    Err(_) => Vec::new(),
                },
                Action::Scene(s) => {
                    let o = perf.replace_scene((**s).clone());
                    perf.messages(o)
                }
                Action::Start => perf.start_messages(),
            };
            queue(&mut audio, msgs);
        }
        render_to(self.end, &mut frame, &mut core);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
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
        let a = l.replay();
        assert_eq!(a.len(), 2 * 180_000);
        assert_eq!(a, l.replay());
        assert!(a.iter().any(|x| x.abs() > 0.05));
    }

    #[test]
    fn errors_name_the_line() {
        let text = log().to_text().replace("mute bass", "mute bas");
        let e = SessionLog::parse(&text, Path::new("s.log")).unwrap_err();
        assert_eq!(e.line, 8);
        assert!(e.to_string().starts_with("s.log:8:"), "{e}");
    }
}
