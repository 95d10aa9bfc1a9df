//! Keeping what the performer makes: recording takes (the WAV from the recorder thread, with
//! the session log, the scene and the MIDI written beside it) and autosaving the state, so a
//! crash, a full disk or a quit loses nothing.

use std::path::{Path, PathBuf};
use std::sync::mpsc::Sender;

use super::session::{Action, Entry, SessionLog};
use super::worker::{Job, Worker};
use crate::audio::record::{Recorder, Recording};
use crate::midi::map::NoteMap;
use crate::model::registry::ModelPaths;
use crate::scene::Scene;
use crate::snapshot::Notice;

/// A change sent to the audio thread whose frame is not known yet.
struct Unplaced {
    first_id: u64,
    action: Action,
}

/// The session so far (for recordings and replay): everything that reached the audio
/// thread, with the frame at which it took effect.
pub struct SessionRecord {
    seed: u64,
    scene: Scene,
    entries: Vec<Entry>,
    unplaced: Vec<Unplaced>,
}

impl SessionRecord {
    /// A session of a graph seeded `seed`, starting from `scene`.
    pub fn new(seed: u64, scene: Scene) -> Self {
        SessionRecord {
            seed,
            scene,
            entries: Vec::new(),
            unplaced: Vec::new(),
        }
    }

    /// A change the audio thread was sent as message `first_id` (its frame comes later).
    pub fn sent(&mut self, first_id: u64, action: Action) {
        self.unplaced.push(Unplaced { first_id, action });
    }

    /// The audio thread applied message `id` at `frame`: the change it carried, now placed.
    pub fn applied(&mut self, id: u64, frame: u64) -> Option<&Action> {
        let i = self.unplaced.iter().position(|u| u.first_id == id)?;
        let u = self.unplaced.remove(i);
        self.entries.push(Entry {
            frame,
            action: u.action,
        });
        self.entries.last().map(|e| &e.action)
    }

    /// True while changes wait for their frames.
    pub fn has_unplaced(&self) -> bool {
        !self.unplaced.is_empty()
    }

    /// The log of the frames `rec` recorded.
    fn log(&self, sample_rate: u32, rec: &Recording) -> SessionLog {
        SessionLog {
            sample_rate,
            seed: self.seed,
            scene: self.scene.clone(),
            record_from: rec.start_frame,
            end: rec.start_frame + rec.frames,
            entries: self.entries.clone(),
        }
    }
}

/// Recording and autosaving.
pub struct Takes {
    recorder: Option<Recorder>,
    /// The base name (no extension) of the take being recorded.
    take: Option<PathBuf>,
    autosave: Option<PathBuf>,
    saved_scene: Option<Scene>,
    midi_map: Option<NoteMap>,
    model_paths: ModelPaths,
    notices: Sender<Notice>,
}

impl Takes {
    /// Takes recorded through `recorder` (none: recording is not available), their MIDI
    /// written with `midi_map` from a replay with the models at `model_paths` (the worker
    /// says how that went on `notices`), the state autosaved to `autosave`.
    pub fn new(
        recorder: Option<Recorder>,
        autosave: Option<PathBuf>,
        (midi_map, model_paths): (Option<NoteMap>, ModelPaths),
        notices: Sender<Notice>,
    ) -> Self {
        Takes {
            recorder,
            take: None,
            autosave,
            saved_scene: None,
            midi_map,
            model_paths,
            notices,
        }
    }

    /// True while a take is being recorded.
    pub fn recording(&self) -> bool {
        self.take.is_some()
    }

    /// Starts recording to NAME.wav.
    pub fn start(&mut self, name: &Path) -> Notice {
        if self.take.is_some() {
            return Notice::refused("already recording; `record stop` first");
        }
        let Some(recorder) = &self.recorder else {
            return Notice::refused("recording is not available");
        };
        let base = name.with_extension("");
        match recorder.start(&base.with_extension("wav")) {
            Ok(()) => {
                let notice = Notice::done(format!("recording to {}.wav", base.display()));
                self.take = Some(base);
                notice
            }
            Err(e) => Notice::refused(format!("cannot record: {e}")),
        }
    }

    /// Stops the take being recorded: its base name and what was recorded, or why not.
    /// Write its files with [`Takes::finish`] once the changes sent before have their frames
    /// (see [`SessionRecord::has_unplaced`]).
    pub fn stop(&mut self) -> Result<(PathBuf, Recording), Notice> {
        let Some(base) = self.take.take() else {
            return Err(Notice::refused("not recording"));
        };
        let Some(recorder) = &self.recorder else {
            return Err(Notice::refused("recording is not available"));
        };
        recorder
            .stop()
            .map(|rec| (base, rec))
            .map_err(|e| Notice::refused(format!("recording failed: {e}")))
    }

    /// A recording the writer had to end (a full disk): the take's base name, what reached
    /// the disk and why it ended — or, when nothing did, what to tell the performer.
    pub fn failed(&mut self) -> Option<Result<(PathBuf, Recording, String), Notice>> {
        let failure = self.recorder.as_ref().and_then(Recorder::failure)?;
        let base = self.take.take()?;
        Some(match failure.kept {
            Some(rec) => Ok((base, rec, failure.reason)),
            None => Err(Notice::refused(format!(
                "recording stopped: {}; the set plays on",
                failure.reason
            ))),
        })
    }

    /// Writes a take's log (from `session`), scene and MIDI beside its WAV file; `failed`
    /// says why the recording ended early.
    pub fn finish(
        &self,
        (base, rec, failed): (&Path, &Recording, Option<&str>),
        session: &SessionRecord,
        sample_rate: u32,
        scene: &Scene,
        worker: &Worker,
    ) -> Notice {
        let log = session.log(sample_rate, rec);
        let log_path = base.with_extension("log");
        let scene_path = base.with_extension("ron");
        let written = crate::files::write_atomic(&log_path, log.to_text().as_bytes())
            .and_then(|()| scene.save(&scene_path));
        let secs = rec.frames as f64 / f64::from(sample_rate);
        match (written, failed) {
            (Ok(()), None) => {
                let lost = if rec.dropped > 0 {
                    format!(" ({} frames lost: disk too slow)", rec.dropped)
                } else {
                    String::new()
                };
                self.write_midi(log, base.with_extension("mid"), worker);
                Notice {
                    ok: rec.dropped == 0,
                    text: format!(
                        "recorded {} ({secs:.1} s){lost}; `ubiq replay {}` renders it again",
                        rec.path.display(),
                        log_path.display()
                    ),
                }
            }
            (Ok(()), Some(reason)) => {
                self.write_midi(log, base.with_extension("mid"), worker);
                Notice::refused(format!(
                    "recording stopped ({reason}): {} keeps the first {secs:.1} s, {} replays it; the set plays on",
                    rec.path.display(),
                    log_path.display()
                ))
            }
            (Err(e), _) => Notice::refused(format!(
                "{} keeps {secs:.1} s, but {} could not be written: {e}",
                rec.path.display(),
                log_path.display()
            )),
        }
    }

    /// Writes the MIDI of a take on the worker: the log replayed offline (the same sequencer
    /// and note map as MIDI out), atomically. The worker says how it went, even after the
    /// engine has stopped (a take stopped by quitting).
    fn write_midi(&self, log: SessionLog, path: PathBuf, worker: &Worker) {
        let Some(map) = self.midi_map.clone() else {
            return;
        };
        let paths = self.model_paths.clone();
        let notices = self.notices.clone();
        worker.submit(Job::Run(Box::new(move || {
            let (mut models, _) = paths.load();
            let rendered = log.replay(&mut models);
            let events = super::render::midi_of(&rendered, &map);
            let written =
                super::render::write_midi(&path, &events, log.scene.tempo, log.sample_rate);
            let _ = notices.send(match written {
                Ok(()) => Notice::done(format!(
                    "wrote {} ({} MIDI messages)",
                    path.display(),
                    events.len()
                )),
                Err(e) => Notice::refused(e.to_string()),
            });
        })));
    }

    /// Saves the state to the autosave file if it changed since the last save (atomically);
    /// a failure stops autosaving and is said once.
    pub fn autosave(&mut self, scene: &Scene) -> Option<Notice> {
        let path = self.autosave.as_ref()?;
        if self.saved_scene.as_ref() == Some(scene) {
            return None;
        }
        let written = path
            .parent()
            .map_or(Ok(()), std::fs::create_dir_all)
            .and_then(|()| scene.save(path));
        match written {
            Ok(()) => {
                self.saved_scene = Some(scene.clone());
                None
            }
            Err(e) => {
                let text = format!("cannot autosave to {}: {e}", path.display());
                self.autosave = None;
                Some(Notice::refused(text))
            }
        }
    }
}
