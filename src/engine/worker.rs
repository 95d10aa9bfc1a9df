//! The engine's worker thread: decoding and stretching loops, decoding records for the deck
//! and drum kits,
//! writing a recording's MIDI file — file work that must not hold up the engine's cycle turns.
//! Results come back through a channel the engine polls; a stale loop result (the set wants
//! something else by now) is dropped by the engine.

use std::path::PathBuf;
use std::sync::mpsc::{self, Receiver, Sender};
use std::thread::JoinHandle;

use super::loops::{Cue, Cued, LoopCache, LoopJob, load_record};
use crate::audio::deck::DeckBuffer;
use crate::audio::kit::SampleKit;
use crate::audio::loop_player::LoopBuffer;
use crate::kit::KitError;
use crate::loops::{LoopError, LoopSet};

/// What the worker is asked to do.
pub enum Job {
    /// Prepare a loop buffer.
    Loop(LoopJob),
    /// Decode a record for the deck at a sample rate.
    Record(PathBuf, u32),
    /// Read a drum kit from its folder at a sample rate, for the kit a scene names.
    Kit(Option<PathBuf>, PathBuf, u32),
    /// Any other file work (its result is reported by the closure itself).
    Run(Box<dyn FnOnce() + Send>),
}

/// What the worker did.
#[derive(Debug)]
pub enum Done {
    /// A loop buffer for `set` (what it was asked for, and the buffer or the reason).
    Loop(LoopSet, Cue, Result<Box<LoopBuffer>, LoopError>),
    /// A record (its file, and the buffer or the reason).
    Record(PathBuf, Result<Box<DeckBuffer>, LoopError>),
    /// A drum kit (the name the scene gave, its folder, and the kit or the reason).
    Kit(Option<PathBuf>, PathBuf, Result<Box<SampleKit>, KitError>),
}

/// The worker thread.
pub struct Worker {
    jobs: Option<Sender<Job>>,
    done: Receiver<Done>,
    thread: Option<JoinHandle<()>>,
}

impl Worker {
    /// Starts the worker.
    pub fn spawn() -> std::io::Result<Worker> {
        let (job_tx, job_rx) = mpsc::channel::<Job>();
        let (done_tx, done_rx) = mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("ubiq-worker".into())
            .spawn(move || {
                let mut cache = LoopCache::default();
                for job in job_rx {
                    let done = match job {
                        Job::Loop(job) => {
                            let cue = Some(Cued {
                                name: job.name.clone(),
                                tempo: job.tempo_bpm,
                                semitones: job.semitones,
                            });
                            let result = cache.get(&job);
                            Done::Loop(job.set, cue, result)
                        }
                        Job::Record(path, rate) => {
                            let result = load_record(&path, rate).map(Box::new);
                            Done::Record(path, result)
                        }
                        Job::Kit(wanted, dir, rate) => {
                            let result = crate::kit::load(&dir, rate).map(Box::new);
                            Done::Kit(wanted, dir, result)
                        }
                        Job::Run(f) => {
                            f();
                            continue;
                        }
                    };
                    if done_tx.send(done).is_err() {
                        break;
                    }
                }
            })?;
        Ok(Worker {
            jobs: Some(job_tx),
            done: done_rx,
            thread: Some(thread),
        })
    }

    /// Queues a job.
    pub fn submit(&self, job: Job) {
        if let Some(jobs) = &self.jobs {
            let _ = jobs.send(job);
        }
    }

    /// Results since the last call.
    pub fn finished(&self) -> Vec<Done> {
        self.done.try_iter().collect()
    }
}

impl Drop for Worker {
    /// Lets the queued jobs finish (a recording's MIDI file is written before ubiq exits).
    fn drop(&mut self) {
        self.jobs.take();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
