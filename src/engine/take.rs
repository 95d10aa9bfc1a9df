//! Keeping what the performer makes: recording takes (the WAV from the recorder thread, with
//! the session log, the scene and the MIDI written beside it) and autosaving the state, so a
//! crash, a full disk or a quit loses nothing.

use std::path::{Path, PathBuf};
use std::sync::mpsc::Sender;

use super::journal::Journal;
use super::recover::{OpenTakes, RESERVE_BYTES, TAKE_FILES, reserve_path};
use super::session::{Action, Entry, GraphSetup, SessionLog};
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
    start_lead: u32,
    scene: Scene,
    entries: Vec<Entry>,
    unplaced: Vec<Unplaced>,
}

impl SessionRecord {
    /// A session of a graph seeded `seed` whose transport starts `start_lead` frames after a
    /// start, starting from `scene`.
    pub fn new(seed: u64, start_lead: u32, scene: Scene) -> Self {
        SessionRecord {
            seed,
            start_lead,
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
            start_lead: self.start_lead,
            entries: self.entries.clone(),
        }
    }
}

/// A take being recorded: its base name (no extension) and what keeps it safe.
pub struct Take {
    base: PathBuf,
    /// The log written as the take goes (none once a write to it failed: the log is then
    /// written whole when the take ends).
    journal: Option<Journal>,
    /// The take's entry in the list of open takes.
    open_entry: Option<PathBuf>,
}

impl Take {
    /// The take's base name.
    pub fn base(&self) -> &Path {
        &self.base
    }
}

/// A file of the take at `base` that exists already.
fn existing_file(base: &Path) -> Option<PathBuf> {
    TAKE_FILES
        .iter()
        .map(|ext| base.with_extension(ext))
        .find(|f| f.symlink_metadata().is_ok())
}

/// The first of `base`, `base-2`, `base-3`… none of whose take files exists.
fn free_base(base: &Path) -> PathBuf {
    let stem = base
        .file_name()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    std::iter::once(base.to_path_buf())
        .chain((2..).map(|n| base.with_file_name(format!("{stem}-{n}"))))
        .find(|b| existing_file(b).is_none())
        .unwrap_or_else(|| base.to_path_buf())
}

/// Recording and autosaving.
pub struct Takes {
    recorder: Option<Recorder>,
    take: Option<Take>,
    autosave: Option<PathBuf>,
    saved_scene: Option<Scene>,
    midi_map: Option<NoteMap>,
    model_paths: ModelPaths,
    open_takes: Option<OpenTakes>,
    notices: Sender<Notice>,
}

impl Takes {
    /// Takes recorded through `recorder` (none: recording is not available), their MIDI
    /// written with `midi_map` from a replay with the models at `model_paths` (the worker
    /// says how that went on `notices`), noted in `open_takes` while recorded, the state
    /// autosaved to `autosave`.
    pub fn new(
        recorder: Option<Recorder>,
        (autosave, open_takes): (Option<PathBuf>, Option<OpenTakes>),
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
            open_takes,
            notices,
        }
    }

    /// True while a take is being recorded.
    pub fn recording(&self) -> bool {
        self.take.is_some()
    }

    /// Starts recording to NAME.wav — or NAME-2.wav… when a take of that name exists: a
    /// take never replaces a file. The log of `session` (at `rate`, from `scene`) is written
    /// beside it as the take goes.
    pub fn start(
        &mut self,
        name: &Path,
        session: &SessionRecord,
        (rate, scene): (u32, &Scene),
    ) -> Notice {
        if self.take.is_some() {
            return Notice::refused("already recording; `record stop` first");
        }
        let Some(recorder) = &self.recorder else {
            return Notice::refused("recording is not available");
        };
        let asked = name.with_extension("");
        let base = free_base(&asked);
        let wav = base.with_extension("wav");
        if let Err(e) = recorder.start(&wav) {
            return Notice::refused(format!("cannot record: {e}"));
        }
        let journal = Journal::create(
            &base.with_extension("log"),
            GraphSetup {
                sample_rate: rate,
                seed: session.seed,
                start_lead: session.start_lead,
            },
            &session.scene,
            &session.entries,
        );
        let journal = match journal {
            Ok(j) => j,
            Err(e) => {
                let _ = recorder.stop();
                let _ = std::fs::remove_file(&wav);
                return Notice::refused(format!(
                    "cannot record: {}: {e}",
                    base.with_extension("log").display()
                ));
            }
        };
        // Best effort: the scene is written again when the take ends, and a disk too full
        // for the reserve fails the recording soon enough, with its own message.
        let _ = scene.save(&base.with_extension("ron"));
        let _ = std::fs::write(reserve_path(&base), vec![0u8; RESERVE_BYTES]);
        let open_entry = self.open_takes.as_ref().and_then(|o| o.open(&base).ok());
        // Another name than the one asked for is worth the performer's attention.
        let notice = match existing_file(&asked).filter(|_| base != asked) {
            None => Notice::done(format!("recording to {}", wav.display())),
            Some(there) => Notice::refused(format!(
                "{} exists: recording to {} instead",
                there.display(),
                wav.display()
            )),
        };
        self.take = Some(Take {
            base,
            journal: Some(journal),
            open_entry,
        });
        notice
    }

    /// Writes the changes of `session` placed since the last call into the take's log, so a
    /// crash loses at most the changes of the last moments. A failed write is said once; the
    /// log is then written whole when the take ends.
    pub fn keep(&mut self, session: &SessionRecord) -> Option<Notice> {
        let start = self.recorder.as_ref().and_then(Recorder::start_frame);
        let take = self.take.as_mut()?;
        let journal = take.journal.as_mut()?;
        let written = match start.filter(|_| !journal.has_start()) {
            Some(frame) => journal.started(frame),
            None => Ok(()),
        }
        .and_then(|()| journal.append(&session.entries));
        let e = written.err()?;
        take.journal = None;
        Some(Notice::refused(format!(
            "cannot write {}.log ({e}); it is written whole when the take ends",
            take.base.display()
        )))
    }

    /// Stops the take being recorded: the take and what was recorded, or why not. Write its
    /// files with [`Takes::finish`] once the changes sent before have their frames (see
    /// [`SessionRecord::has_unplaced`]).
    pub fn stop(&mut self) -> Result<(Take, Recording), Notice> {
        let Some(take) = self.take.take() else {
            return Err(Notice::refused("not recording"));
        };
        let Some(recorder) = &self.recorder else {
            return Err(Notice::refused("recording is not available"));
        };
        match recorder.stop() {
            Ok(rec) => Ok((take, rec)),
            Err(e) => {
                self.close(take);
                Err(Notice::refused(format!("recording failed: {e}")))
            }
        }
    }

    /// A recording the writer had to end (a full disk, its folder deleted): the take, what
    /// reached the disk and why it ended — or, when nothing could be kept, what to tell the
    /// performer.
    pub fn failed(&mut self) -> Option<Result<(Take, Recording, String), Notice>> {
        let failure = self.recorder.as_ref().and_then(Recorder::failure)?;
        let take = self.take.take()?;
        Some(match failure.kept {
            Some(rec) => Ok((take, rec, failure.reason)),
            None => {
                self.close(take);
                Err(Notice::refused(format!(
                    "recording stopped: {}; the set plays on",
                    failure.reason
                )))
            }
        })
    }

    /// The take ended: its reserve freed, its entry in the open takes closed.
    fn close(&self, take: Take) {
        let _ = std::fs::remove_file(reserve_path(&take.base));
        if let (Some(open), Some(entry)) = (&self.open_takes, &take.open_entry) {
            open.close(entry);
        }
    }

    /// Writes a take's log (from `session`), scene and MIDI beside its WAV file; `failed`
    /// says why the recording ended early. The reserve beside the take is freed first, so
    /// this works on a disk the take filled.
    pub fn finish(
        &self,
        (mut take, rec, failed): (Take, &Recording, Option<&str>),
        session: &SessionRecord,
        sample_rate: u32,
        scene: &Scene,
        worker: &Worker,
    ) -> Notice {
        let _ = std::fs::remove_file(reserve_path(&take.base));
        let base = take.base.clone();
        let log = session.log(sample_rate, rec);
        let log_path = base.with_extension("log");
        let scene_path = base.with_extension("ron");
        let closed = match take.journal.take().filter(Journal::in_place) {
            Some(j) => j.close(&session.entries, log.record_from, log.end),
            None => Err(std::io::Error::other("written whole")),
        };
        let written = match closed {
            Ok(()) => Ok(()),
            Err(_) => crate::files::write_atomic(&log_path, log.to_text().as_bytes()),
        }
        .map_err(|e| (&log_path, e))
        .and_then(|()| scene.save(&scene_path).map_err(|e| (&scene_path, e)));
        self.close(take);
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
            (Err((path, e)), _) => Notice::refused(format!(
                "{} keeps {secs:.1} s, but {} could not be written: {e}",
                rec.path.display(),
                path.display()
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
