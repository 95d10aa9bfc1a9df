//! Loop library, spectrogram, tempo, ranking and the loop model on tiny fixtures made here.

use burn::optim::{AdamConfig, GradientsParams};
use burn::tensor::Device;
use ubiq::loops::LoopSet;
use ubiq::loops::audio::{self, tempo_from_duration, tempo_from_name};
use ubiq::loops::library::{EmbeddingTable, Library, LoopEntry, encode_wav16, prepare_file};
use ubiq::loops::mel::{self, FRAMES, HOP, MelAnalyser, N_FFT, N_MELS};
use ubiq::loops::stretch::wsola;
use ubiq::model::loops::model::LoopNetConfig;
use ubiq::model::loops::train::stack;

fn sine(freq: f32, seconds: f32, rate: u32) -> Vec<f32> {
    (0..(seconds * rate as f32) as usize)
        .map(|i| 0.5 * (std::f32::consts::TAU * freq * i as f32 / rate as f32).sin())
        .collect()
}

#[test]
fn mel_matches_a_direct_dft_reference() {
    let x: Vec<f32> = sine(440.0, 4.0, mel::SAMPLE_RATE)
        .iter()
        .zip(sine(1234.0, 4.0, mel::SAMPLE_RATE))
        .map(|(a, b)| a + 0.3 * b)
        .collect();
    let got = MelAnalyser::new().log_mel(&x);
    let fb = mel::filterbank();
    for t in [0usize, 17, FRAMES - 1] {
        // Reference: windowed frame, direct DFT power, filters, dB.
        let frame: Vec<f64> = (0..N_FFT)
            .map(|i| {
                let w = 0.5 - 0.5 * (std::f64::consts::TAU * i as f64 / N_FFT as f64).cos();
                f64::from(x.get(t * HOP + i).copied().unwrap_or(0.0)) * w
            })
            .collect();
        let power: Vec<f64> = (0..=N_FFT / 2)
            .map(|k| {
                let (mut re, mut im) = (0.0, 0.0);
                for (n, v) in frame.iter().enumerate() {
                    let a = std::f64::consts::TAU * (k * n) as f64 / N_FFT as f64;
                    re += v * a.cos();
                    im -= v * a.sin();
                }
                re * re + im * im
            })
            .collect();
        for m in 0..N_MELS {
            let e: f64 = fb[m]
                .iter()
                .zip(&power)
                .map(|(w, p)| f64::from(*w) * p)
                .sum();
            let want = 10.0 * (e + f64::from(mel::FLOOR)).log10();
            let have = f64::from(got[m * FRAMES + t]);
            assert!(
                (want - have).abs() < 0.05 || want < -60.0,
                "band {m} frame {t}: {have} vs {want}"
            );
        }
    }
    // The 440 Hz band is the loudest.
    let loudest =
        (0..N_MELS).max_by(|&a, &b| got[a * FRAMES + 10].total_cmp(&got[b * FRAMES + 10]));
    let centre = |m: usize| {
        mel::mel_to_hz(
            mel::hz_to_mel(mel::F_MIN)
                + (mel::hz_to_mel(mel::F_MAX) - mel::hz_to_mel(mel::F_MIN)) * (m + 1) as f32
                    / (N_MELS + 1) as f32,
        )
    };
    let c = centre(loudest.unwrap_or(0));
    assert!((300.0..600.0).contains(&c), "loudest band centre {c}");
}

#[test]
fn loop_length_and_name_give_the_tempo() {
    assert_eq!(tempo_from_duration(4.0), Some((120.0, 2)));
    let (t, bars) = tempo_from_duration(60.0 / 90.0 * 8.0).unwrap_or((0.0, 0));
    assert!((t - 90.0).abs() < 0.01 && bars == 2);
    assert_eq!(tempo_from_name("groove_96bpm.wav"), Some(96.0));
    assert_eq!(tempo_from_name("pad 128 BPM.flac"), Some(128.0));
    assert_eq!(tempo_from_name("amen_136.ogg"), Some(136.0));
    assert_eq!(tempo_from_name("take3.wav"), None);
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    // 2 bars at 100 BPM = 4.8 s, with 0.1 s of extra tail: trimmed to whole bars.
    let path = dir.path().join("beat_100bpm.wav");
    std::fs::write(&path, encode_wav16(&sine(220.0, 4.9, 22_050), 22_050))
        .unwrap_or_else(|e| panic!("{e}"));
    let p = prepare_file(&path).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((p.tempo_bpm, p.bars), (100.0, 2));
    assert_eq!(p.audio.samples.len(), audio::bar_frames(2, 100.0, 22_050));
    // No tempo in the name: 3 s is 2 bars at 160 BPM.
    let path = dir.path().join("mystery.wav");
    std::fs::write(&path, encode_wav16(&sine(220.0, 3.0, 22_050), 22_050))
        .unwrap_or_else(|e| panic!("{e}"));
    let p = prepare_file(&path).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((p.tempo_bpm, p.bars), (160.0, 2));
    assert!((audio::rms(&p.audio.samples) - 0.1).abs() < 0.01);
}

#[test]
fn wsola_keeps_pitch_and_hits_the_length() {
    let rate = 22_050;
    let x = sine(441.0, 2.0, rate);
    let y = wsola(&x, 3 * rate as usize, rate);
    assert_eq!(y.len(), 3 * rate as usize);
    // Zero crossings per second stay near 2 × 441.
    let crossings = y.windows(2).filter(|w| w[0] < 0.0 && w[1] >= 0.0).count() as f32 / 3.0;
    assert!(
        (crossings - 441.0).abs() < 15.0,
        "{crossings} rising crossings per second"
    );
}

#[test]
fn bad_files_are_refused_and_the_library_stays_usable() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let good = dir.path().join("good_120bpm.wav");
    std::fs::write(&good, encode_wav16(&sine(330.0, 4.0, 22_050), 22_050))
        .unwrap_or_else(|e| panic!("{e}"));
    let mut bytes = encode_wav16(&sine(330.0, 4.0, 22_050), 22_050);
    bytes.truncate(bytes.len() / 2);
    let truncated = dir.path().join("cut.wav");
    std::fs::write(&truncated, bytes).unwrap_or_else(|e| panic!("{e}"));
    let silent = dir.path().join("quiet.wav");
    std::fs::write(&silent, encode_wav16(&vec![0.0; 88_200], 22_050))
        .unwrap_or_else(|e| panic!("{e}"));
    let text = dir.path().join("notes.mp3");
    std::fs::write(&text, b"ID3 not really").unwrap_or_else(|e| panic!("{e}"));
    let fake = dir.path().join("fake.ogg");
    std::fs::write(&fake, b"this is not an ogg file at all").unwrap_or_else(|e| panic!("{e}"));
    for (path, words) in [
        (&truncated, "truncated"),
        (&silent, "silent"),
        (&text, "not a loop file"),
        (&fake, "not a readable"),
    ] {
        let err = prepare_file(path)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            err.contains(&path.display().to_string()) && err.contains(words),
            "{err}"
        );
        assert!(!err.contains('\n'));
    }
    let root = dir.path().join("lib");
    let mut lib = Library::open(&root);
    let p = prepare_file(&good).unwrap_or_else(|e| panic!("{e}"));
    let entry = LoopEntry {
        name: "good".into(),
        file: "good.wav".into(),
        tempo_bpm: p.tempo_bpm,
        bars: p.bars,
        key: None,
        key_confidence: None,
        chroma: None,
        source: "test".into(),
        licence: "CC0-1.0".into(),
        pattern: None,
        embedding: vec![1.0, 0.0],
    };
    lib.insert(LoopSet::Music, entry, &p.audio)
        .unwrap_or_else(|e| panic!("{e}"));
    lib.save(LoopSet::Music).unwrap_or_else(|e| panic!("{e}"));
    let again = Library::open(&root);
    assert_eq!(again.entries(LoopSet::Music).len(), 1);
    let audio = again
        .load_audio(LoopSet::Music, &again.entries(LoopSet::Music)[0])
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(audio.samples.len(), 88_200);
    assert_eq!(again.rank(LoopSet::Music, &[0.9, 0.1], 3)[0].name, "good");
}

#[test]
fn ranking_order_is_stable() {
    let data = vec![0.0, 1.0, 1.0, 0.0, 0.0, 1.0, 0.6, 0.8, 1.0, 0.0];
    let table = EmbeddingTable::from_rows(2, data);
    let r = table.rank(&[0.0, 1.0], 5);
    let order: Vec<usize> = r.iter().map(|x| x.0).collect();
    assert_eq!(order, vec![0, 2, 3, 1, 4]);
    assert_eq!(table.rank(&[0.0, 1.0], 2), r[..2].to_vec());
    assert!(table.rank(&[0.0, 1.0, 2.0], 2).is_empty());
}

#[test]
fn triplet_loss_falls() {
    let device = Device::flex().autodiff();
    device.seed(3);
    let mut model = LoopNetConfig::new()
        .with_channels(vec![4, 4, 4])
        .with_embedding(8)
        .init(&device);
    let mut an = MelAnalyser::new();
    let mut tone = |f: f32| an.model_input(&sine(f, 4.0, mel::SAMPLE_RATE));
    let (a1, p1, n1) = (tone(200.0), tone(210.0), tone(3000.0));
    let (a2, p2, n2) = (tone(2500.0), tone(2600.0), tone(150.0));
    let batch = |rows: [&Vec<f32>; 2]| stack(rows.iter().map(|r| r.as_slice()), &device);
    let mut optim = AdamConfig::new().init();
    let mut losses = Vec::new();
    for _ in 0..30 {
        let loss = model.triplet_loss(batch([&a1, &a2]), batch([&p1, &p2]), batch([&n1, &n2]), 0.5);
        losses.push(loss.clone().into_scalar::<f32>());
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        model = optim.step(3e-3, model, grads);
    }
    let first = losses[0];
    let last = losses[losses.len() - 1];
    assert!(last < 0.5 * first, "loss {first} → {last}");
}

#[test]
fn the_embedded_model_loads_and_embeds_to_unit_length() {
    use ubiq::model::loops::infer::LoopModel;
    use ubiq::pattern::{Bassline, DrumCell, DrumPattern, Voice};
    let mut model = LoopModel::embedded(Device::flex()).unwrap_or_else(|e| panic!("{e}"));
    let mut p = DrumPattern::new();
    for step in (0..32).step_by(4) {
        p.set(Voice::Kick, step, DrumCell::hit(1.0, 0.0));
    }
    let e = ubiq::performance::query::embed_cycle(&mut model, &p, &Bassline::default(), 33);
    assert_eq!(
        e.len(),
        32 + mel::CHROMA_SLICES * 4 * 12,
        "projection, then 4 chroma channels in each half bar"
    );
    let norm: f32 = e.iter().map(|x| x * x).sum::<f32>().sqrt();
    assert!((norm - 1.0).abs() < 1e-3, "norm {norm}");
}

#[test]
fn the_chroma_names_the_pitch_class_that_sounds() {
    let mut an = MelAnalyser::new();
    // A3 (220 Hz) and its fifth E4 (329.6 Hz): pitch classes 9 and 4 (C = 0).
    let two: Vec<f32> = sine(220.0, 4.0, mel::SAMPLE_RATE)
        .iter()
        .zip(sine(329.63, 4.0, mel::SAMPLE_RATE))
        .map(|(a, b)| a + 0.7 * b)
        .collect();
    let (_, chroma) = an.log_mel_chroma(&two);
    let mut order: Vec<usize> = (0..12).collect();
    order.sort_by(|&a, &b| chroma[b].total_cmp(&chroma[a]));
    order[..2].sort_unstable();
    assert_eq!(&order[..2], &[4, 9], "{chroma:?}");
    let norm: f32 = chroma.iter().map(|c| c * c).sum::<f32>().sqrt();
    assert!((norm - 1.0).abs() < 1e-4);
    let (_, silent) = an.log_mel_chroma(&[0.0; 64_000]);
    assert_eq!(silent, [0.0; 12]);
    let input = an.model_input(&two);
    assert_eq!(input.len(), mel::INPUT_LEN);
    let (_, sliced, summed) = an.log_mel_chromas(&two);
    assert_eq!(summed, chroma);
    assert_eq!(&input[mel::N_MELS * mel::FRAMES..], &sliced);
    // A steady chord: every half bar hears it alike.
    for slice in sliced.chunks_exact(12) {
        let mut order: Vec<usize> = (0..12).collect();
        order.sort_by(|&a, &b| slice[b].total_cmp(&slice[a]));
        order[..2].sort_unstable();
        assert_eq!(&order[..2], &[4, 9], "{slice:?}");
    }
}

#[test]
fn transposing_both_chromas_keeps_the_distance() {
    use ubiq::model::loops::fast::FastLoopNet;
    let device = Device::flex();
    device.seed(9);
    let net = LoopNetConfig::new()
        .with_channels(vec![4, 4])
        .with_chroma(vec![6, 3])
        .init(&device);
    let fast = FastLoopNet::of(&net).unwrap_or_else(|e| panic!("{e}"));
    let mut an = MelAnalyser::new();
    let a = an.model_input(&sine(110.0, 4.0, mel::SAMPLE_RATE));
    let p = an.model_input(&sine(523.25, 4.0, mel::SAMPLE_RATE));
    let cells = mel::N_MELS * mel::FRAMES;
    // The same spectrograms with the chroma moved up by `r` semitones.
    let moved = |x: &[f32], r: usize| {
        let mut y = x.to_vec();
        for pc in 0..12 {
            y[cells + (pc + r) % 12] = x[cells + pc];
        }
        y
    };
    let distance = |x: &[f32], y: &[f32]| -> f32 {
        let (ex, ey) = (fast.embed(x), fast.embed(y));
        ex.iter().zip(&ey).map(|(u, v)| (u - v) * (u - v)).sum()
    };
    let d = distance(&a, &p);
    assert!(d > 1e-4, "distinct chromas are apart: {d}");
    for r in [1, 5, 7] {
        let dr = distance(&moved(&a, r), &moved(&p, r));
        assert!((d - dr).abs() < 1e-4, "moved by {r}: {d} vs {dr}");
    }
    assert!(
        (distance(&moved(&a, 1), &p) - d).abs() > 1e-5,
        "moving one alone changes it"
    );
}
