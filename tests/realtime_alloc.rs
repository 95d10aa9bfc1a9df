//! The audio callback never allocates or frees, also across pattern swaps, parameter changes,
//! loop switches and sample kits (swapped at boundaries, flooded with hits, choking): a counting global allocator watches every call of `AudioCore::process`,
//! made as the device callback and the silent clock make it (through the core's slot), with
//! the boundaries the engine's turns miss counted.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicUsize, Ordering};

use ubiq::audio::kit::{KitVoice, Layer, Sample, SampleKit};
use ubiq::audio::link::Boxed;
use ubiq::audio::loop_player::{LoopBuffer, LoopCue};
use ubiq::audio::slot::CoreSlot;
use ubiq::audio::{AudioMsg, link};
use ubiq::loops::LoopSet;
use ubiq::scene::library::{SHIPPED, shipped};

struct Counting;

static EVENTS: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    static WATCHING: Cell<bool> = const { Cell::new(false) };
}

fn note() {
    if WATCHING.try_with(Cell::get).unwrap_or(false) {
        EVENTS.fetch_add(1, Ordering::SeqCst);
    }
}

// SAFETY: forwards to the system allocator; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note();
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        note();
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note();
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

/// A kit of three samples over every voice: two velocity layers, round robin, hats choking.
fn kit(i: usize) -> SampleKit {
    let samples = (0..3)
        .map(|k| Sample {
            name: format!("s{k}"),
            frames: (0..2_000 * (k + 1))
                .map(|n| ((n * (k + 2) * i) as f32).sin() * 0.5)
                .collect(),
        })
        .collect();
    let voices = std::array::from_fn(|v| KitVoice {
        layers: vec![
            Layer::new(0.0, 1.0, vec![0]),
            Layer::new(0.5, 1.0, vec![1, 2]),
        ],
        tune: v as f32 - 4.0,
        decay: (v % 2 == 0).then_some(0.05),
        level_db: -3.0,
        choke: (2..=3).contains(&v).then_some(1),
    });
    SampleKit {
        name: format!("kit{i}"),
        sample_rate: 44_100,
        samples,
        voices,
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

#[test]
fn the_callback_never_allocates() {
    let scenes: Vec<_> = SHIPPED
        .iter()
        .map(|(n, _)| shipped(n).expect("shipped scene"))
        .collect();
    let (mut handle, core) = link(44_100, 3);
    let slot = CoreSlot::new(core);
    // Watched as the live engine watches it: no turn is ever taken here, so every boundary
    // after the first is counted late.
    handle.shared().turned(0);
    let mut buf = vec![0.0f32; 2 * 1_024];
    let mut params = scenes[0].params();
    let mut reclaimed = 0;
    for i in 0..4_000usize {
        if i % 97 == 0 {
            let scene = &scenes[(i / 97) % scenes.len()];
            handle
                .send(AudioMsg::Cycle(scene.plan()))
                .expect("queue has room");
        }
        if i % 41 == 0 {
            // Prepared here, on the control side; freed here too when the audio thread lets go.
            reclaimed += handle.reclaim();
            let set = LoopSet::ALL[(i / 41) % LoopSet::COUNT];
            let cue = if i % 5 == 0 {
                LoopCue::Stop
            } else {
                LoopCue::Play(Box::new(LoopBuffer {
                    samples: (0..44_100).map(|n| ((n * i) as f32).sin() * 0.2).collect(),
                    tempo_bpm: 120.0,
                    name: format!("loop{i}"),
                }))
            };
            handle.cue_loop(set, cue).expect("cue queue has room");
        }
        if i % 53 == 0 {
            reclaimed += handle.reclaim();
            let next = (i % 3 != 0).then(|| Box::new(kit(i)));
            handle
                .send_boxed(Boxed::Kit(next))
                .expect("cue queue has room");
        }
        if i % 13 == 0 {
            params.mix.filter = ((i as f32) * 0.01).sin();
            params.mix.bass.mute = i % 26 == 0;
            params.effects.reverb_size = (i % 10) as f32 / 10.0;
            params.drums.kick.tune = (i % 7) as f32 - 3.0;
            handle
                .send(AudioMsg::Params(params))
                .expect("queue has room");
        }
        // Host buffers of changing sizes, as some drivers deliver them.
        let frames = [64, 128, 256, 1_024, 333][i % 5];
        WATCHING.with(|w| w.set(true));
        slot.process(&mut buf[..frames * 2]);
        WATCHING.with(|w| w.set(false));
    }
    assert_eq!(
        EVENTS.load(Ordering::SeqCst),
        0,
        "the callback allocated or freed"
    );
    let status = handle.status();
    assert!(status.cycle >= 5);
    assert!(
        status.late_plans > status.deferred_plans,
        "no missed boundary was counted"
    );
    reclaimed += handle.reclaim();
    assert!(reclaimed > 0, "no loop buffer came back to be freed");
}
