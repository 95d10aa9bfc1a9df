//! Every hot path of the instrument through criterion — the audio thread's work per block, the
//! engine's per-cycle paths (bass translate, query render, rhythm decode / encode, loop
//! embedding, ranking 1k / 10k loops, the feedback loop's listening, the whole AI cycle) and
//! the Burn modules' forward passes on both backends: the cases `ubiq bench` times call by
//! call for medians and p99 (`ubiq bench --json`).
//!
//! Run with `cargo bench --bench engine`; pin to one core with `taskset -c 0`.

use criterion::{Criterion, criterion_group, criterion_main};
use ubiq::loops::library::Library;
use ubiq::model::registry::default_library;

fn bench(c: &mut Criterion) {
    let library = default_library().map(|root| Library::open(&root));
    let cases = match ubiq::bench::cases(library.as_ref()) {
        Ok(cases) => cases,
        Err(e) => panic!("the embedded models: {e}"),
    };
    for mut case in cases {
        let label = case.label();
        c.bench_function(&label, |b| b.iter(&mut case.call));
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
