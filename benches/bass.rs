//! Rhythm → bassline translation of one drum pattern with the embedded model, as the engine
//! runs it every cycle. Besides criterion's estimate, prints the median and 99th percentile of
//! single calls.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use ubiq::bench::time;
use ubiq::model::bass::BassModel;
use ubiq::pattern::{DrumCell, DrumPattern, Key, STEPS, Scale, Voice};

fn pattern() -> DrumPattern {
    let mut p = DrumPattern::new();
    for step in 0..STEPS {
        if step % 4 == 0 {
            p.set(Voice::Kick, step, DrumCell::hit(0.9, 0.0));
        }
        if step % 8 == 4 {
            p.set(Voice::Snare, step, DrumCell::hit(0.8, 0.0));
        }
        if step % 2 == 0 {
            p.set(Voice::ClosedHat, step, DrumCell::hit(0.5, 0.0));
        }
    }
    p
}

fn translate(c: &mut Criterion) {
    let Ok(model) = BassModel::embedded() else {
        eprintln!("the embedded bass model does not load");
        return;
    };
    let drums = pattern();
    let mut seed = 0u64;
    c.bench_function("bass translate (embedded, T 0.8)", |b| {
        b.iter(|| {
            seed += 1;
            black_box(model.translate(black_box(&drums), Key::new(9), Scale::Minor, 0.8, seed))
        })
    });
    let t = time("bass translate", None, 3_000, || {
        seed += 1;
        black_box(model.translate(&drums, Key::new(9), Scale::Minor, 0.8, seed));
    });
    println!(
        "bass translate, {} single calls: median {:.3} ms, p99 {:.3} ms, max {:.3} ms",
        t.calls,
        t.median_us / 1e3,
        t.p99_us / 1e3,
        t.max_us / 1e3
    );
}

criterion_group!(benches, translate);
criterion_main!(benches);
