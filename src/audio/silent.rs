//! The silent backend: a timed thread that renders in real time and throws the sound away,
//! so the set keeps time (and MIDI, status and recording keep working) with no audio device —
//! from the start, or while a device that died is away.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::link::AudioCore;
use super::slot::CoreSlot;

/// How far the clock may fall behind real time and still catch up. Past it (the process was
/// stopped, the machine stalled) the time lost is dropped, as a device drops it: rendering
/// seconds of cycles in one burst would flood the recording and hand the AI its turns all at
/// once. The engine counts the boundaries lost.
const MAX_BEHIND: Duration = Duration::from_millis(100);

/// A running silent clock; stops when dropped.
pub struct SilentClock {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl SilentClock {
    /// Starts rendering `core` in blocks of `buffer_frames` at `sample_rate`, in real time.
    pub fn start(core: AudioCore, sample_rate: u32, buffer_frames: u32) -> std::io::Result<Self> {
        Self::drive(CoreSlot::new(core), sample_rate, buffer_frames)
    }

    /// Starts rendering the core in `slot` (while no device does) in blocks of
    /// `buffer_frames` at `sample_rate`, in real time.
    pub fn drive(
        slot: Arc<CoreSlot>,
        sample_rate: u32,
        buffer_frames: u32,
    ) -> std::io::Result<Self> {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let frames = buffer_frames.max(16) as usize;
        let thread = std::thread::Builder::new()
            .name("ubiq-silent-clock".into())
            .spawn(move || {
                let mut buf = vec![0.0f32; frames * 2];
                let mut start = Instant::now();
                let mut rendered: u64 = 0;
                while !flag.load(Ordering::Relaxed) {
                    slot.process(&mut buf);
                    rendered += frames as u64;
                    let due =
                        start + Duration::from_secs_f64(rendered as f64 / f64::from(sample_rate));
                    let now = Instant::now();
                    if due > now {
                        std::thread::sleep(due - now);
                    } else if now - due > MAX_BEHIND {
                        slot.shared().count_xrun();
                        start = now;
                        rendered = 0;
                    }
                }
            })?;
        Ok(SilentClock {
            stop,
            thread: Some(thread),
        })
    }
}

impl Drop for SilentClock {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
