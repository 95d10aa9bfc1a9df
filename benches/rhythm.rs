//! Rhythm VAE inference latency on one core: criterion timings of decode, encode and a 9 × 9
//! grid decode, then a latency pass over 10,000 single calls each that prints median and p99
//! (criterion reports means and intervals, the budget is on p99).
//!
//! Run with `cargo bench --bench rhythm`; pin to one core with `taskset -c 0`.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use ubiq::bench::time;
use ubiq::model::rhythm::{Conditions, DecodeOptions, RhythmModel};

fn latency(name: &str, f: impl FnMut()) {
    let t = time(name, None, 10_000, f);
    println!(
        "{name}: median {:.1} µs, p99 {:.1} µs, max {:.1} µs over {} calls",
        t.median_us, t.p99_us, t.max_us, t.calls
    );
}

fn bench(c: &mut Criterion) {
    let model = match RhythmModel::embedded() {
        Ok(m) => m,
        Err(e) => panic!("embedded model: {e}"),
    };
    let opts = DecodeOptions::default();
    let cond = Conditions {
        kick: 0.5,
        hats: -0.5,
    };
    let pattern = model.decode([0.4, -0.8], cond, &opts);
    c.bench_function("rhythm decode", |b| {
        b.iter(|| model.decode(black_box([0.4, -0.8]), black_box(cond), &opts))
    });
    c.bench_function("rhythm encode", |b| {
        b.iter(|| model.encode(black_box(&pattern)))
    });
    let grid: Vec<([f32; 2], Conditions)> = (0..81)
        .map(|i| {
            let x = (i % 9) as f32 / 2.0 - 2.0;
            let y = (i / 9) as f32 / 2.0 - 2.0;
            ([x, y], cond)
        })
        .collect();
    c.bench_function("rhythm decode 9x9 grid", |b| {
        b.iter(|| model.decode_batch(black_box(&grid), &opts))
    });
    latency("decode", || {
        black_box(model.decode(black_box([0.4, -0.8]), cond, &opts));
    });
    latency("encode", || {
        black_box(model.encode(black_box(&pattern)));
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
