//! Fuzzes the scene reader: any text gives a scene or an error that names a line and column,
//! never a panic; a scene that reads writes back to text that reads to the same scene.

#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use ubiq::scene::Scene;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(scene) = Scene::from_ron(&text, Path::new("fuzz.ron")) {
        let again = Scene::from_ron(&scene.to_ron(), Path::new("fuzz.ron"));
        assert!(again.is_ok(), "a scene that read does not read back: {again:?}");
    }
});
