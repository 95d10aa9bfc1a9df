//! Real-time factor of the offline render of the default scene (synthesized drums) and of the
//! house scene (the sample kit `kits/sonic-pi`).

use criterion::{Criterion, criterion_group, criterion_main};
use ubiq::engine::render::{RenderOptions, render_scene};
use ubiq::scene::library::{default_scene, shipped};

fn render(c: &mut Criterion) {
    let scene = default_scene();
    let opts = RenderOptions {
        bars: 8,
        sample_rate: 48_000,
        seed: 1,
    };
    c.bench_function("render default scene, 8 bars @ 48 kHz", |b| {
        b.iter(|| render_scene(&scene, &opts))
    });
    if let Some(house) = shipped("house") {
        c.bench_function("render house scene (sample kit), 8 bars @ 48 kHz", |b| {
            b.iter(|| render_scene(&house, &opts))
        });
    }
}

criterion_group!(benches, render);
criterion_main!(benches);
