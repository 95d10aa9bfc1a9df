//! The rhythm → bassline model: shapes and masks, learning on a small fixture, seeded
//! sampling, the scale constraint, the plain-float decoder against the Burn forward, model
//! files. None of this needs the datasets.

use burn::tensor::Device;
use ubiq::model::ModelError;
use ubiq::model::bass::BassModel;
use ubiq::model::bass::eval::measure_lines;
use ubiq::model::bass::fast::FastNet;
use ubiq::model::bass::infer::{TranslateOptions, sample};
use ubiq::model::bass::model::{
    BassNetConfig, DECODER_EXTRA, DRUM_FEATURES, HOLD, MASKED, NOTE0, REST, START, VOCAB,
    condition_features, decoder_extra, drum_features, pitch_of, step_mask, token_of, tokens_of,
};
use ubiq::model::bass::train::{Example, Prepared, TrainingConfig, train};
use ubiq::model::rng::Rng;
use ubiq::pattern::{BassStep, Bassline, DrumCell, DrumPattern, Key, STEPS, Scale, Voice};

fn small() -> BassNetConfig {
    BassNetConfig::new()
        .with_encoder_hidden(8)
        .with_decoder_hidden(12)
}

fn four_on_the_floor(shift: usize) -> DrumPattern {
    let mut p = DrumPattern::new();
    for step in (shift..STEPS).step_by(4) {
        p.set(Voice::Kick, step, DrumCell::hit(0.9, 0.0));
    }
    for step in (2..STEPS).step_by(4) {
        p.set(Voice::ClosedHat, step, DrumCell::hit(0.6, 0.0));
    }
    p
}

fn note(pitch: i8) -> BassStep {
    BassStep::Note {
        pitch,
        velocity: 0.8,
    }
}

/// Root on every kick, held for one step: what the fixture model should learn.
fn fixture() -> Vec<Example> {
    (0..4)
        .flat_map(|shift| {
            [Scale::Minor, Scale::Major].map(|scale| {
                let drums = four_on_the_floor(shift);
                let mut bass = Bassline::default();
                for step in (shift..STEPS).step_by(4) {
                    bass.steps[step] = note(12);
                    if step + 1 < STEPS {
                        bass.steps[step + 1] = BassStep::Hold;
                    }
                }
                Example {
                    drums,
                    bass,
                    key: Key::new(9),
                    scale,
                }
            })
        })
        .collect()
}

fn fresh_model(seed: u64) -> BassModel {
    let net = BassNetConfig::new().init(&Device::flex(), &mut Rng::new(seed));
    BassModel::new(net, "a fresh model").unwrap()
}

#[test]
fn tokens_fold_pitches_and_drop_holds_after_rests() {
    assert_eq!(token_of(BassStep::Rest), REST);
    assert_eq!(token_of(BassStep::Hold), HOLD);
    assert_eq!(token_of(note(-12)), NOTE0);
    assert_eq!(token_of(note(23)), VOCAB - 1);
    // Out of range: folded by octaves.
    assert_eq!(token_of(note(24)), token_of(note(12)));
    assert_eq!(token_of(note(-13)), token_of(note(-1)));
    let mut line = Bassline::default();
    line.steps[0] = BassStep::Hold;
    line.steps[3] = note(0);
    line.steps[4] = BassStep::Hold;
    line.steps[6] = BassStep::Hold;
    let (tokens, velocities) = tokens_of(&line);
    assert_eq!(tokens[0], REST, "a hold cannot open the line");
    assert_eq!(tokens[4], HOLD);
    assert_eq!(tokens[6], REST, "a hold after a rest is a rest");
    assert_eq!(velocities[3], 0.8);
    assert_eq!(velocities[4], 0.0);
}

#[test]
fn features_and_masks() {
    let mut f = Vec::new();
    drum_features(&four_on_the_floor(0), &mut f);
    assert_eq!(f.len(), STEPS * DRUM_FEATURES);
    assert_eq!(f[Voice::Kick.index()], 1.0, "kick on step 0");
    assert_eq!(
        f[DRUM_FEATURES + Voice::Kick.index()],
        0.0,
        "no kick on step 1"
    );
    assert_eq!(f[DRUM_FEATURES - 1], 0.0, "bar 1");
    assert_eq!(f[20 * DRUM_FEATURES + DRUM_FEATURES - 1], 1.0, "bar 2");
    let c = condition_features(Key::new(2), Scale::Major);
    assert_eq!(c[2], 1.0);
    assert_eq!(c.iter().take(12).sum::<f32>(), 1.0);
    assert_eq!(c[12 + 4], 1.0, "major third");
    assert_eq!(c[12 + 3], 0.0, "no minor third");
    let mut extra = Vec::new();
    decoder_extra(START, &f[..DRUM_FEATURES], &c, &mut extra);
    assert_eq!(extra.len(), DECODER_EXTRA);
    let mut mask = Vec::new();
    step_mask(START, &mut mask);
    step_mask(REST, &mut mask);
    step_mask(NOTE0 + 3, &mut mask);
    step_mask(HOLD, &mut mask);
    assert_eq!(mask.len(), 4 * VOCAB);
    assert_eq!(mask[HOLD], MASKED);
    assert_eq!(mask[VOCAB + HOLD], MASKED);
    assert_eq!(mask[2 * VOCAB + HOLD], 0.0);
    assert_eq!(mask[3 * VOCAB + HOLD], 0.0);
    assert!(
        mask.iter()
            .enumerate()
            .all(|(i, &m)| i % VOCAB == HOLD || m == 0.0)
    );
}

#[test]
fn forward_shapes_and_masked_holds() {
    let device = Device::flex();
    let net = small().init(&device, &mut Rng::new(1));
    let examples = fixture();
    let set = Prepared::new(&examples[..3]);
    let batch = set.batch(&[0, 1, 2], &device);
    assert_eq!(batch.drums.dims(), [3, STEPS, DRUM_FEATURES]);
    assert_eq!(batch.decoder_extra.dims(), [3, STEPS, DECODER_EXTRA]);
    assert_eq!(batch.targets.dims(), [3, STEPS, VOCAB]);
    let out = net.forward(
        batch.drums,
        batch.conditions,
        batch.decoder_extra,
        batch.mask,
    );
    assert_eq!(out.logits.dims(), [3, STEPS, VOCAB]);
    assert_eq!(out.velocity.dims(), [3, STEPS]);
    let logits: Vec<f32> = out.logits.into_data().try_to_vec().unwrap();
    // Example 0: kick (and note) on step 0, hold on 1, rest on 2 and 3: a hold is impossible
    // at step 0 (start) and at step 3 (after the rest at 2).
    assert!(logits[HOLD] < MASKED / 2.0);
    assert!(logits[3 * VOCAB + HOLD] < MASKED / 2.0);
    assert!(logits[2 * VOCAB + HOLD] > MASKED / 2.0);
    let velocity: Vec<f32> = out.velocity.into_data().try_to_vec().unwrap();
    assert!(velocity.iter().all(|v| (0.0..=1.0).contains(v)));
}

/// Trains the small network for `epochs` (patience as long) on the fixture, validating on
/// the fixture too; `config` sets anything else.
fn train_on_fixture(
    epochs: usize,
    config: impl FnOnce(TrainingConfig) -> TrainingConfig,
) -> ubiq::model::bass::train::Trained {
    let examples = fixture();
    let config = config(
        TrainingConfig::new(small())
            .with_epochs(epochs)
            .with_batch_size(4)
            .with_epoch_size(8)
            .with_learning_rate(1e-2)
            .with_patience(epochs)
            .with_seed(3),
    );
    train(
        &config,
        &examples,
        &examples,
        &Device::flex(),
        |_| {},
        |_, _| {},
    )
    .unwrap()
}

#[test]
fn loss_falls_on_a_small_fixture() {
    let trained = train_on_fixture(80, |c| c);
    let first = trained.history[0].train_loss;
    let last = trained.history.last().unwrap().train_loss;
    assert!(last < 0.5 * first, "loss {first} → {last}");
    assert!(trained.best_valid_loss < trained.history[0].valid_loss);
    let accuracy = trained.history.last().unwrap().valid_accuracy;
    assert!(accuracy > 0.8, "teacher-forced accuracy {accuracy}");
    // The trained net plays the root with the kick.
    let model = BassModel::new(trained.net, "fixture").unwrap();
    let line = model.translate(&four_on_the_floor(1), Key::new(9), Scale::Minor, 0.0, 0);
    for step in [1, 5, 29] {
        assert!(
            matches!(line.steps[step], BassStep::Note { pitch: 12, .. }),
            "step {step}: {line:?}"
        );
    }
}

#[test]
fn the_rhythm_network_is_the_epoch_with_the_best_validation_onset_f1() {
    let examples = fixture();
    let trained = train_on_fixture(12, |c| c.with_rhythm_by_onsets(true));
    let f1: Vec<f64> = trained
        .history
        .iter()
        .map(|r| r.valid_onset_f1.expect("measured every epoch"))
        .collect();
    let best = f1.iter().copied().fold(f64::MIN, f64::max);
    let first_best = f1.iter().position(|&f| f == best).unwrap() + 1;
    let rhythm = trained.rhythm.expect("kept");
    assert_eq!(
        (rhythm.epoch, rhythm.onset_f1),
        (first_best, best),
        "{f1:?}"
    );
    assert!(best > f1[0] || f1[0] > 0.9, "{f1:?}");
    assert_eq!(
        trained
            .history
            .iter()
            .rfind(|r| r.rhythm_improved)
            .map(|r| r.epoch),
        Some(first_best)
    );
    // The kept network is that epoch's: its likeliest lines measure the same again.
    let model = BassModel::new(rhythm.net, "fixture").unwrap();
    let lines: Vec<_> = examples
        .iter()
        .map(|e| model.translate(&e.drums, e.key, e.scale, 0.0, 0))
        .collect();
    let again = measure_lines(
        examples
            .iter()
            .zip(&lines)
            .map(|(e, line)| (&e.bass, line, e.scale)),
    );
    assert!(
        (again.onset_f1 - best).abs() < 1e-9,
        "{} vs {best}",
        again.onset_f1
    );
}

#[test]
fn sampling_is_deterministic_with_a_seed() {
    let model = fresh_model(5);
    let drums = four_on_the_floor(0);
    let a = model.translate(&drums, Key::new(4), Scale::Dorian, 1.2, 42);
    let b = model.translate(&drums, Key::new(4), Scale::Dorian, 1.2, 42);
    assert_eq!(a, b);
    let others: Vec<Bassline> = (0..8)
        .map(|s| model.translate(&drums, Key::new(4), Scale::Dorian, 1.2, s))
        .collect();
    assert!(others.iter().any(|o| *o != a), "seeds change the line");
    // Rhythm temperature 0 keeps the rhythm whatever the seed; the pitches still move
    // unless their temperature is 0 too.
    let onsets = |l: &Bassline| l.steps.map(|s| matches!(s, BassStep::Note { .. }));
    let steady = |seed| model.translate(&drums, Key::new(4), Scale::Dorian, 0.0, seed);
    assert!((2..8).all(|s| onsets(&steady(s)) == onsets(&steady(1))));
    let greedy = |seed| {
        model.translate_with(
            &drums,
            &TranslateOptions {
                key: Key::new(4),
                scale: Scale::Dorian,
                temperature: 0.0,
                pitch_temperature: 0.0,
                seed,
                ..TranslateOptions::default()
            },
        )
    };
    assert_eq!(greedy(1), greedy(2));
}

#[test]
fn sampling_decides_the_onset_before_the_pitch() {
    // The hold is the likeliest single token, but the four notes together are likelier: the
    // likeliest choice starts a note (flat argmax over tokens would hold).
    let mut logits = [MASKED; VOCAB];
    logits[REST] = -5.0;
    logits[HOLD] = 1.0;
    for pitch in 0..4 {
        logits[NOTE0 + 12 + pitch] = 0.5;
    }
    logits[NOTE0 + 14] = 0.8;
    assert_eq!(sample(&logits, (0.0, 0.0), 8, 0.5, 0.5), NOTE0 + 14);
    // Sampled, a note comes about as often as its classes' mass says, and top-k 1 keeps the
    // likeliest pitch.
    let draws = 1000;
    let mut notes = 0;
    for i in 0..draws {
        let u = (i as f32 + 0.5) / draws as f32;
        let token = sample(&logits, (1.0, 1.0), 1, u, 0.7);
        assert!([REST, HOLD, NOTE0 + 14].contains(&token), "{token}");
        notes += usize::from(token == NOTE0 + 14);
    }
    let note_mass = 3.0 * 0.5f32.exp() + 0.8f32.exp();
    let share = note_mass / (note_mass + 1.0f32.exp() + (-5.0f32).exp());
    assert!(
        (notes as f32 / draws as f32 - share).abs() < 0.01,
        "{notes} notes of {draws}, expected a share of {share}"
    );
    // Masked tokens are never chosen, whatever the draws and the temperature.
    logits[HOLD] += MASKED;
    for i in 0..100 {
        let u = i as f32 / 100.0;
        assert_ne!(sample(&logits, (3.0, 3.0), 0, u, u), HOLD);
        assert!(logits[sample(&logits, (3.0, 3.0), 0, u, 1.0 - u)] > -100.0);
    }
}

#[test]
fn the_scale_constraint_holds() {
    let model = fresh_model(6);
    let mut outside = 0;
    for (i, scale) in Scale::ALL.into_iter().enumerate() {
        for seed in 0..6 {
            let drums = four_on_the_floor(seed as usize % 4);
            let options = TranslateOptions {
                key: Key::new(i as i32),
                scale,
                temperature: 3.0,
                top_k: 0,
                constrain: true,
                seed,
                ..TranslateOptions::default()
            };
            let line = model.translate_with(&drums, &options);
            for p in line.pitches() {
                assert!(scale.contains(i32::from(p)), "{p} not in {scale:?}");
            }
            let free = model.translate_with(
                &drums,
                &TranslateOptions {
                    constrain: false,
                    ..options
                },
            );
            outside += free
                .pitches()
                .filter(|&p| !scale.contains(i32::from(p)))
                .count();
        }
    }
    assert!(
        outside > 0,
        "without the constraint some notes leave the scale"
    );
}

#[test]
fn the_plain_decoder_matches_the_burn_forward() {
    let device = Device::flex();
    let net = BassNetConfig::new().init(&device, &mut Rng::new(9));
    let fast = FastNet::of(&net).unwrap();
    let example = &fixture()[3];
    let (truth, _) = tokens_of(&example.bass);
    let mut plain = Vec::new();
    fast.decode(&example.drums, example.key, example.scale, |t, logits| {
        plain.extend_from_slice(logits);
        truth[t]
    });
    let batch = Prepared::new(std::slice::from_ref(example)).batch(&[0], &device);
    let out = net.forward(
        batch.drums,
        batch.conditions,
        batch.decoder_extra,
        batch.mask,
    );
    let burn: Vec<f32> = out.logits.into_data().try_to_vec().unwrap();
    assert_eq!(plain.len(), burn.len());
    let worst = plain
        .iter()
        .zip(&burn)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0f32, f32::max);
    assert!(worst < 1e-3, "largest difference {worst}");
}

#[test]
fn a_corrupt_model_file_gives_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("broken.bpk");
    std::fs::write(&path, b"this is not a burnpack file").unwrap();
    let err = BassModel::load(&path).unwrap_err();
    assert!(matches!(err, ModelError::Format { .. }), "{err:?}");
    let text = err.to_string();
    assert!(
        text.contains("broken.bpk") && text.contains("not a usable bass model"),
        "{text}"
    );
    let truncated = &ubiq::model::bass::infer::EMBEDDED_WEIGHTS[..100];
    std::fs::write(&path, truncated).unwrap();
    assert!(matches!(
        BassModel::load(&path).unwrap_err(),
        ModelError::Format { .. }
    ));
    let missing = BassModel::load(&dir.path().join("missing.bpk")).unwrap_err();
    assert!(matches!(missing, ModelError::Read { .. }));
}

#[test]
fn a_saved_model_loads_back_the_same() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.bpk");
    let model = fresh_model(11);
    let meta = ubiq::model::bass::infer::ModelMeta {
        kind: ubiq::model::bass::infer::META_KIND.into(),
        training: TrainingConfig::new(BassNetConfig::new()),
        train_examples: 0,
        valid_examples: 0,
        best_epoch: 0,
        best_valid_loss: 0.0,
        best_valid_accuracy: 0.0,
        train_seconds: 0.0,
        rhythm_epoch: None,
        rhythm_valid_onset_f1: None,
    };
    model.save(&path, &meta).unwrap();
    let again = BassModel::load(&path).unwrap();
    assert!(!again.has_rhythm());
    let drums = four_on_the_floor(2);
    let line = |m: &BassModel| m.translate(&drums, Key::new(0), Scale::Minor, 0.9, 3);
    assert_eq!(line(&model), line(&again));
    // With its own rhythm network, the model saves and loads it beside its weights; a model
    // saved later without one takes the stale file away.
    let rhythm_net = BassNetConfig::new().init(&Device::flex(), &mut Rng::new(12));
    let with_rhythm = fresh_model(11).with_rhythm(rhythm_net).unwrap();
    with_rhythm.save(&path, &meta).unwrap();
    let rhythm_file = ubiq::model::bass::infer::rhythm_path(&path);
    assert!(rhythm_file.exists());
    let again = BassModel::load(&path).unwrap();
    assert!(again.has_rhythm());
    assert_eq!(line(&with_rhythm), line(&again));
    model.save(&path, &meta).unwrap();
    assert!(!rhythm_file.exists());
    assert!(!BassModel::load(&path).unwrap().has_rhythm());
}

#[test]
fn the_rhythm_network_decides_the_onsets_and_the_pitch_network_the_notes() {
    let drums = four_on_the_floor(1);
    let greedy = TranslateOptions {
        key: Key::new(9),
        scale: Scale::Minor,
        temperature: 0.0,
        pitch_temperature: 0.0,
        ..TranslateOptions::default()
    };
    let onsets = |line: &Bassline| -> Vec<bool> {
        line.steps
            .iter()
            .map(|s| matches!(s, BassStep::Note { .. }))
            .collect()
    };
    let rhythm_net = BassNetConfig::new().init(&Device::flex(), &mut Rng::new(22));
    let both = fresh_model(21).with_rhythm(rhythm_net).unwrap();
    let line = both.translate_with(&drums, &greedy);
    assert_eq!(
        onsets(&line),
        onsets(&fresh_model(22).translate_with(&drums, &greedy))
    );
    // Each note's pitch is the pitch network's likeliest (in the scale) on that rhythm.
    let pitches = fresh_model(21);
    let (tokens, _) =
        pitches.fast().decode(
            &drums,
            Key::new(9),
            Scale::Minor,
            |step, logits| match line.steps[step] {
                BassStep::Rest => REST,
                BassStep::Hold => HOLD,
                BassStep::Note { .. } => (NOTE0..VOCAB)
                    .filter(|&t| pitch_of(t).is_some_and(|p| Scale::Minor.contains(i32::from(p))))
                    .max_by(|&a, &b| logits[a].total_cmp(&logits[b]))
                    .unwrap(),
            },
        );
    let expected: Vec<i8> = tokens.iter().filter_map(|&t| pitch_of(t)).collect();
    assert_eq!(line.pitches().collect::<Vec<_>>(), expected);
}

#[test]
fn the_embedded_model_loads_and_plays_with_the_drums() {
    let model = BassModel::embedded().unwrap();
    let drums = four_on_the_floor(0);
    let line = model.translate(&drums, Key::new(9), Scale::Minor, 0.0, 0);
    assert!(line.note_count() > 0, "{line:?}");
    assert!(line.pitches().all(|p| Scale::Minor.contains(i32::from(p))));
}
