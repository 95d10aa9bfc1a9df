//! Loop model speed: embedding one tempo-normalised loop (spectrogram + CNN) with the shipped
//! model and ranking 10,000 cached embeddings. Besides criterion's estimates, a plain timing
//! loop prints the median and the 99th percentile of each.

use burn::tensor::Device;
use criterion::{Criterion, criterion_group, criterion_main};
use ubiq::bench::time;
use ubiq::loops::library::EmbeddingTable;
use ubiq::loops::mel::{LOOP_SAMPLES, SAMPLE_RATE};
use ubiq::model::loops::infer::LoopModel;
use ubiq::model::rng::Rng;

fn bench(c: &mut Criterion) {
    let Ok(mut model) = LoopModel::embedded(Device::flex()) else {
        eprintln!("the embedded loop model does not load");
        return;
    };
    let mut rng = Rng::new(5);
    let audio: Vec<f32> = (0..LOOP_SAMPLES)
        .map(|i| (i as f32 * 220.0 / SAMPLE_RATE as f32).sin() * 0.3 + 0.05 * rng.normal())
        .collect();
    let dim = model.embed_normalised(&audio).len();
    let data: Vec<f32> = (0..10_000 * dim).map(|_| rng.normal()).collect();
    let table = EmbeddingTable::from_rows(dim, data);
    let query: Vec<f32> = (0..dim).map(|_| rng.normal()).collect();
    let t = time("embed one loop", None, 1_000, || {
        std::hint::black_box(model.embed_normalised(&audio));
    });
    eprintln!(
        "embed one loop: median {:.0} µs, p99 {:.0} µs ({} runs)",
        t.median_us, t.p99_us, t.calls
    );
    let t = time("rank 10000 loops top 8", None, 1_000, || {
        std::hint::black_box(table.rank(&query, 8));
    });
    eprintln!(
        "rank 10000 loops top 8: median {:.0} µs, p99 {:.0} µs ({} runs)",
        t.median_us, t.p99_us, t.calls
    );
    c.bench_function("embed one loop", |b| {
        b.iter(|| model.embed_normalised(&audio))
    });
    c.bench_function("rank 10000 loops top 8", |b| {
        b.iter(|| table.rank(&query, 8))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
