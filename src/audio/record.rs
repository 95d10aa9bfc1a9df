//! Recording what plays: a writer thread drains the audio thread's tap into a WAV file.
//! The audio thread only copies samples into a lock-free ring; file work happens here.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use thiserror::Error;

use super::link::Tap;
use crate::wav::WavStream;

/// How often the writer drains the tap.
const DRAIN: Duration = Duration::from_millis(20);

/// How often the writer checks that its file is still where the performer put it.
const LOOK: Duration = Duration::from_millis(250);

/// [`Recorder::start_frame`] before the first sample arrived.
const NOT_YET: u64 = u64::MAX;

/// A finished recording.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recording {
    /// The WAV file.
    pub path: PathBuf,
    /// Audio frame of the first recorded sample.
    pub start_frame: u64,
    /// Frames recorded.
    pub frames: u64,
    /// Frames lost because the writer fell behind (0 in a healthy run).
    pub dropped: u64,
}

/// Why a recording could not be started or finished.
#[derive(Debug, Error)]
pub enum RecordError {
    /// The writer thread is gone.
    #[error("the recorder has stopped")]
    Stopped,
    /// `stop` without a recording.
    #[error("not recording")]
    NotRecording,
    /// The file could not be created.
    #[error("{}: {source}", .path.display())]
    Create {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        source: std::io::Error,
    },
    /// Writing or finishing the file failed.
    #[error(transparent)]
    Write(#[from] std::io::Error),
}

enum Ctl {
    Start(PathBuf, Sender<Result<(), RecordError>>),
    Stop(Sender<Result<Recording, RecordError>>),
}

/// The writer thread; a recording in progress is finished when this is dropped.
pub struct Recorder {
    ctl: Option<Sender<Ctl>>,
    thread: Option<JoinHandle<()>>,
    failed: Receiver<Failure>,
    start_frame: Arc<AtomicU64>,
}

/// A recording the writer had to end on its own (the disk is full, say): what it kept, and
/// why it stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// What was kept (the frames that reached the disk), if anything could be kept.
    pub kept: Option<Recording>,
    /// What went wrong, in one line.
    pub reason: String,
}

struct Active {
    stream: WavStream,
    start: Option<u64>,
    /// Shared with [`Recorder::start_frame`].
    start_frame: Arc<AtomicU64>,
}

fn drain(tap: &mut Tap, active: &mut Option<Active>, buf: &mut Vec<f32>) -> std::io::Result<usize> {
    buf.clear();
    let n = tap.samples.slots() & !1;
    if let Ok(chunk) = tap.samples.read_chunk(n) {
        let (a, b) = chunk.as_slices();
        buf.extend_from_slice(a);
        buf.extend_from_slice(b);
        chunk.commit_all();
    }
    if let Some(act) = active {
        if act.start.is_none() && !buf.is_empty() {
            let start = tap.shared.tap_start_frame();
            act.start = Some(start);
            act.start_frame.store(start, Ordering::Relaxed);
        }
        act.stream.write(buf)?;
    }
    Ok(buf.len())
}

fn finish(tap: &mut Tap, active: Active, dropped_before: u64) -> Result<Recording, RecordError> {
    let start_frame = active.start.unwrap_or(0);
    let frames = active.stream.frames();
    let path = active.stream.finish()?;
    Ok(Recording {
        path,
        start_frame,
        frames,
        dropped: tap.shared.tap_dropped() - dropped_before,
    })
}

/// Ends a recording whose write failed, keeping what reached the disk.
fn salvage(tap: &mut Tap, active: Active, dropped_before: u64, error: std::io::Error) -> Failure {
    let start_frame = active.start.unwrap_or(0);
    let reason = error.to_string();
    match active.stream.salvage() {
        Ok((path, frames)) => Failure {
            kept: Some(Recording {
                path,
                start_frame,
                frames,
                dropped: tap.shared.tap_dropped() - dropped_before,
            }),
            reason,
        },
        Err(e) => Failure {
            kept: None,
            reason: format!("{reason}; nothing could be kept ({e})"),
        },
    }
}

/// The take's file was taken from under its name (its folder deleted): writes it again
/// there and ends the recording, keeping everything recorded so far.
fn restore(tap: &mut Tap, mut active: Active, dropped_before: u64) -> Failure {
    let path = active.stream.path().to_path_buf();
    let gone = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty() && !d.exists())
        .map_or_else(
            || format!("{} was moved or deleted", path.display()),
            |d| format!("the folder {} was deleted", d.display()),
        );
    match active.stream.restore() {
        Ok(_) => match finish(tap, active, dropped_before) {
            Ok(rec) => Failure {
                kept: Some(rec),
                reason: format!("{gone}; the take was written there again"),
            },
            Err(e) => Failure {
                kept: None,
                reason: format!("{gone}; writing it again failed ({e})"),
            },
        },
        Err(e) => Failure {
            kept: None,
            reason: format!("{gone}; writing it again failed ({e})"),
        },
    }
}

impl Recorder {
    /// Starts the writer thread on the audio link's tap.
    pub fn spawn(mut tap: Tap, sample_rate: u32) -> std::io::Result<Self> {
        let (tx, rx): (Sender<Ctl>, Receiver<Ctl>) = mpsc::channel();
        let (fail_tx, fail_rx) = mpsc::channel();
        let start_frame = Arc::new(AtomicU64::new(NOT_YET));
        let shared_start = Arc::clone(&start_frame);
        let thread = std::thread::Builder::new()
            .name("ubiq-recorder".into())
            .spawn(move || {
                let mut active: Option<Active> = None;
                let mut dropped_before = 0;
                let mut buf = Vec::new();
                let mut looked = Instant::now();
                loop {
                    match rx.recv_timeout(DRAIN) {
                        Ok(Ctl::Start(path, reply)) => {
                            let r = WavStream::create(&path, sample_rate).map(|stream| {
                                dropped_before = tap.shared.tap_dropped();
                                shared_start.store(NOT_YET, Ordering::Relaxed);
                                active = Some(Active {
                                    stream,
                                    start: None,
                                    start_frame: Arc::clone(&shared_start),
                                });
                                tap.shared.set_recording(true);
                            });
                            let _ = reply
                                .send(r.map_err(|source| RecordError::Create { path, source }));
                        }
                        Ok(Ctl::Stop(reply)) => {
                            tap.shared.set_recording(false);
                            // The audio thread may finish one more block after the switch.
                            std::thread::sleep(DRAIN);
                            let result = match drain(&mut tap, &mut active, &mut buf) {
                                Err(e) => Err(RecordError::Write(e)),
                                Ok(_) => match active.take() {
                                    Some(a) => finish(&mut tap, a, dropped_before),
                                    None => Err(RecordError::NotRecording),
                                },
                            };
                            let _ = reply.send(result);
                        }
                        Err(RecvTimeoutError::Timeout) => {
                            if let Err(e) = drain(&mut tap, &mut active, &mut buf) {
                                tap.shared.set_recording(false);
                                if let Some(a) = active.take() {
                                    let _ = fail_tx.send(salvage(&mut tap, a, dropped_before, e));
                                }
                            } else if looked.elapsed() >= LOOK {
                                looked = Instant::now();
                                if active.as_ref().is_some_and(|a| !a.stream.in_place()) {
                                    tap.shared.set_recording(false);
                                    std::thread::sleep(DRAIN);
                                    let _ = drain(&mut tap, &mut active, &mut buf);
                                    if let Some(a) = active.take() {
                                        let _ = fail_tx.send(restore(&mut tap, a, dropped_before));
                                    }
                                }
                            }
                        }
                        Err(RecvTimeoutError::Disconnected) => {
                            if active.is_some() {
                                tap.shared.set_recording(false);
                                std::thread::sleep(DRAIN);
                                if drain(&mut tap, &mut active, &mut buf).is_ok()
                                    && let Some(a) = active.take()
                                {
                                    let _ = finish(&mut tap, a, dropped_before);
                                }
                            }
                            break;
                        }
                    }
                }
            })?;
        Ok(Recorder {
            ctl: Some(tx),
            thread: Some(thread),
            failed: fail_rx,
            start_frame,
        })
    }

    /// The audio frame of the recording's first sample, once it reached the writer.
    pub fn start_frame(&self) -> Option<u64> {
        let f = self.start_frame.load(Ordering::Relaxed);
        (f != NOT_YET).then_some(f)
    }

    /// A recording the writer ended on its own since the last call.
    pub fn failure(&self) -> Option<Failure> {
        self.failed.try_recv().ok()
    }

    /// Starts writing `path`.
    pub fn start(&self, path: &Path) -> Result<(), RecordError> {
        let (tx, rx) = mpsc::channel();
        self.ctl
            .as_ref()
            .and_then(|c| c.send(Ctl::Start(path.to_path_buf(), tx)).ok())
            .ok_or(RecordError::Stopped)?;
        rx.recv().map_err(|_| RecordError::Stopped)?
    }

    /// Finishes the recording and tells what was written.
    pub fn stop(&self) -> Result<Recording, RecordError> {
        let (tx, rx) = mpsc::channel();
        self.ctl
            .as_ref()
            .and_then(|c| c.send(Ctl::Stop(tx)).ok())
            .ok_or(RecordError::Stopped)?;
        rx.recv().map_err(|_| RecordError::Stopped)?
    }
}

impl Drop for Recorder {
    /// Finishes a recording in progress (quit, SIGTERM) and waits for the file.
    fn drop(&mut self) {
        self.ctl = None;
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
