//! Loop model speed: embedding one tempo-normalised loop (spectrogram + CNN) and ranking
//! 10,000 cached embeddings.

use burn::tensor::Device;
use criterion::{Criterion, criterion_group, criterion_main};
use ubiq::loops::library::EmbeddingTable;
use ubiq::loops::mel::{LOOP_SAMPLES, SAMPLE_RATE};
use ubiq::model::loops::infer::LoopModel;
use ubiq::model::loops::model::LoopNetConfig;
use ubiq::model::rng::Rng;

fn bench(c: &mut Criterion) {
    let device = Device::flex();
    device.seed(1);
    let mut model = LoopModel::new(LoopNetConfig::new().init(&device), device, "bench");
    let mut rng = Rng::new(5);
    let audio: Vec<f32> = (0..LOOP_SAMPLES)
        .map(|i| (i as f32 * 220.0 / SAMPLE_RATE as f32).sin() * 0.3 + 0.05 * rng.normal())
        .collect();
    c.bench_function("embed one loop", |b| {
        b.iter(|| model.embed_normalised(&audio))
    });
    let dim = 32;
    let data: Vec<f32> = (0..10_000 * dim).map(|_| rng.normal()).collect();
    let table = EmbeddingTable::from_rows(dim, data);
    let query: Vec<f32> = (0..dim).map(|_| rng.normal()).collect();
    c.bench_function("rank 10000 loops top 8", |b| {
        b.iter(|| table.rank(&query, 8))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
