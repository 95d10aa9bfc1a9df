//! Rhythm VAE inference latency on one core: criterion timings of decode, encode and a 9 × 9
//! grid decode, then a latency pass over 10,000 single calls each that prints median and p99
//! (criterion reports means and intervals, the budget is on p99).
//!
//! Run with `cargo bench --bench rhythm`; pin to one core with `taskset -c 0`.

use std::hint::black_box;
use std::time::Instant;

use criterion::{Criterion, criterion_group, criterion_main};
use ubiq::model::rhythm::{Conditions, DecodeOptions, RhythmModel};

fn latency(name: &str, mut f: impl FnMut()) {
    for _ in 0..200 {
        f();
    }
    let mut samples: Vec<f64> = (0..10_000)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed().as_secs_f64() * 1e6
        })
        .collect();
    samples.sort_by(f64::total_cmp);
    let at = |q: f64| samples[((samples.len() - 1) as f64 * q) as usize];
    println!(
        "{name}: median {:.1} µs, p99 {:.1} µs, max {:.1} µs over {} calls",
        at(0.5),
        at(0.99),
        at(1.0),
        samples.len()
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
