//! Every shipped scene plays with the AI: its render differs from the scene as written
//! (`--no-ai`), another seed plays another set, and the same seed plays the same set byte for
//! byte, audio and MIDI.

use std::path::Path;

use ubiq::engine::offline::Rendered;
use ubiq::engine::render::{RenderOptions, midi_of, render_set};
use ubiq::loops::library::Library;
use ubiq::midi::map::NoteMap;
use ubiq::model::registry::Models;
use ubiq::scene::Scene;
use ubiq::scene::library::SHIPPED;

fn models() -> Models {
    let (models, problems) = Models::embedded();
    assert!(problems.is_empty(), "{problems:?}");
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("loops");
    models.with_library(Some(Library::open(&root)))
}

fn render(scene: &Scene, models: &mut Models, seed: u64) -> Rendered {
    let opts = RenderOptions {
        // The halftime scene plays its first section (8 bars) as written.
        bars: 16,
        sample_rate: 16_000,
        seed,
    };
    render_set(scene, models, &opts)
}

#[test]
fn every_shipped_scene_plays_with_the_ai_and_its_seed() {
    let mut models = models();
    let map = NoteMap::load("gm").unwrap();
    let scenes = SHIPPED.iter().map(|(name, text)| {
        let path = format!("patterns/{name}.ron");
        (
            name.to_string(),
            Scene::from_ron(text, Path::new(&path)).unwrap(),
        )
    });
    let journey_path = Path::new(env!("CARGO_MANIFEST_DIR")).join("patterns/journey.ron");
    let journey = ("journey".to_string(), Scene::load(&journey_path).unwrap());
    for (name, scene) in scenes.chain([journey]) {
        let one = render(&scene, &mut models, 1);
        assert!(one.problems.is_empty(), "{name}: {:?}", one.problems);
        let again = render(&scene, &mut models, 1);
        let two = render(&scene, &mut models, 2);
        let written = render_set(
            &scene,
            &mut Models::none(),
            &RenderOptions {
                bars: 16,
                sample_rate: 16_000,
                seed: 1,
            },
        );
        let midi = |r: &Rendered| midi_of(r, &map);
        assert!(one.samples == again.samples, "{name}: seed 1 twice differs");
        assert_eq!(midi(&one), midi(&again), "{name}: seed 1 twice, MIDI");
        assert_ne!(
            midi(&one),
            midi(&two),
            "{name}: seeds 1 and 2 play the same"
        );
        assert_ne!(midi(&one), midi(&written), "{name}: the AI changes nothing");
    }
}
