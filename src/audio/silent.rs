//! The silent backend: a timed thread that renders in real time and throws the sound away,
//! so the set keeps time (and MIDI, status and recording keep working) with no audio device.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::link::AudioCore;

/// A running silent clock; stops when dropped.
pub struct SilentClock {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl SilentClock {
    /// Starts rendering `core` in blocks of `buffer_frames` at `sample_rate`, in real time.
    pub fn start(
        mut core: AudioCore,
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
                let start = Instant::now();
                let mut rendered: u64 = 0;
                while !flag.load(Ordering::Relaxed) {
                    core.process(&mut buf);
                    rendered += frames as u64;
                    let due =
                        start + Duration::from_secs_f64(rendered as f64 / f64::from(sample_rate));
                    let now = Instant::now();
                    if due > now {
                        std::thread::sleep(due - now);
                    } else if now - due > Duration::from_millis(100) {
                        core.shared().count_xrun();
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
