//! The audio core's home while drivers come and go: a device callback renders it, and when
//! the device dies the silent clock takes it over until a device is back — the same graph,
//! the same timeline, never two drivers rendering it at once.
//!
//! Handing over is lock-free: a driver takes the core out of the slot for one block (one
//! atomic swap), renders, and puts it back. A driver that finds the slot empty (another has
//! the core this instant) renders silence for that block and waits for nothing.

use std::ptr;
use std::sync::Arc;
use std::sync::atomic::{AtomicPtr, Ordering};

use super::link::{AudioCore, Shared};

// The slot moves the core between driver threads: it must be allowed to go.
const _: fn() = || {
    fn send<T: Send>() {}
    send::<AudioCore>();
};

/// Holds one [`AudioCore`] for whichever driver renders it.
pub struct CoreSlot {
    core: AtomicPtr<AudioCore>,
    shared: Arc<Shared>,
}

impl CoreSlot {
    /// A slot holding `core`.
    pub fn new(core: AudioCore) -> Arc<Self> {
        let shared = Arc::clone(core.shared());
        Arc::new(CoreSlot {
            core: AtomicPtr::new(Box::into_raw(Box::new(core))),
            shared,
        })
    }

    /// Renders the next block into `out` (interleaved stereo), like [`AudioCore::process`];
    /// when another driver has the core this instant, writes silence and returns false.
    /// Real-time safe: two atomic operations around the render, no allocation, lock or I/O.
    pub fn process(&self, out: &mut [f32]) -> bool {
        let core = self.core.swap(ptr::null_mut(), Ordering::Acquire);
        if core.is_null() {
            out.fill(0.0);
            return false;
        }
        // SAFETY: the pointer came from `Box::into_raw` in `new` and, swapped out of the slot
        // above, is held by this call alone until it is stored back below.
        unsafe { (*core).process(out) };
        self.core.store(core, Ordering::Release);
        true
    }

    /// The state the core publishes (drivers add load and underruns to it).
    pub fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }
}

impl Drop for CoreSlot {
    fn drop(&mut self) {
        let core = *self.core.get_mut();
        if !core.is_null() {
            // SAFETY: no driver holds the core any more (the slot is being dropped, so no
            // `process` call is running); the pointer came from `Box::into_raw`.
            drop(unsafe { Box::from_raw(core) });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audio::plan::CyclePlan;
    use crate::audio::{AudioMsg, link};
    use crate::pattern::{Bassline, DrumPattern};

    /// A cycle at 120 BPM: four seconds.
    fn plan() -> CyclePlan {
        CyclePlan::new(&DrumPattern::new(), &Bassline::default(), 45, 120.0, 50.0)
    }

    #[test]
    fn the_core_renders_through_the_slot_and_keeps_its_timeline() {
        let (mut handle, core) = link(48_000, 1);
        handle.send(AudioMsg::Cycle(plan())).unwrap();
        let slot = CoreSlot::new(core);
        let mut block = vec![0.0; 2 * 480];
        for _ in 0..100 {
            assert!(slot.process(&mut block));
        }
        // Another driver, the same core: the frames go on from where they were.
        let other = Arc::clone(&slot);
        let thread = std::thread::spawn(move || {
            let mut block = vec![0.0; 2 * 480];
            for _ in 0..100 {
                assert!(other.process(&mut block));
            }
        });
        thread.join().unwrap();
        let status = handle.status();
        assert_eq!(status.frame, 200 * 480);
        assert!(status.playing);
    }

    #[test]
    fn a_driver_that_finds_the_slot_empty_writes_silence() {
        let (handle, core) = link(48_000, 1);
        let slot = CoreSlot::new(core);
        let held = slot.core.swap(ptr::null_mut(), Ordering::Acquire);
        let mut block = vec![1.0; 2 * 64];
        assert!(!slot.process(&mut block));
        assert!(block.iter().all(|x| *x == 0.0));
        assert_eq!(handle.status().frame, 0, "nothing was rendered");
        slot.core.store(held, Ordering::Release);
        assert!(slot.process(&mut block));
        assert_eq!(handle.status().frame, 64);
    }
}
