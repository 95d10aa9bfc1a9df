//! The scenes shipped in `patterns/`, embedded in the binary so `ubiq` plays anywhere.

use std::path::{Path, PathBuf};

use super::{Scene, SceneError};

/// Name and text of each shipped scene; the first is the default.
pub const SHIPPED: &[(&str, &str)] = &[
    ("default", include_str!("../../patterns/default.ron")),
    ("house", include_str!("../../patterns/house.ron")),
    ("breakbeat", include_str!("../../patterns/breakbeat.ron")),
    ("halftime", include_str!("../../patterns/halftime.ron")),
    ("techno", include_str!("../../patterns/techno.ron")),
];

/// The embedded default scene.
pub fn default_scene() -> Scene {
    shipped("default").unwrap_or_default()
}

/// A shipped scene by name.
pub fn shipped(name: &str) -> Option<Scene> {
    SHIPPED
        .iter()
        .find(|(n, _)| *n == name)
        .and_then(|(n, text)| {
            Scene::from_ron(text, &PathBuf::from(format!("patterns/{n}.ron"))).ok()
        })
}

/// Finds a scene: a file path, or the name of a shipped scene; none gives the default.
/// Returns the file it came from, if any (for watching).
pub fn resolve(arg: Option<&str>) -> Result<(Scene, Option<PathBuf>), SceneError> {
    let Some(arg) = arg else {
        return Ok((default_scene(), None));
    };
    let path = Path::new(arg);
    if path.exists() {
        return Scene::load(path).map(|s| (s, Some(path.to_path_buf())));
    }
    if let Some(scene) = shipped(arg.trim_end_matches(".ron")) {
        return Ok((scene, None));
    }
    let names: Vec<&str> = SHIPPED.iter().map(|(n, _)| *n).collect();
    Err(SceneError::at(
        path,
        0,
        0,
        format!(
            "no such file, and no shipped scene of that name (shipped: {})",
            names.join(", ")
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_shipped_scene_parses_and_plays_something() {
        for (name, text) in SHIPPED {
            let scene = Scene::from_ron(text, Path::new(name))
                .unwrap_or_else(|e| panic!("shipped scene {name}: {e}"));
            assert!(scene.drums.pattern().total_hits() > 8, "{name}");
            assert!(scene.bass.bassline().note_count() > 2, "{name}");
        }
        assert_eq!(default_scene().name, "ubiq");
    }

    #[test]
    fn unknown_name_lists_the_shipped_ones() {
        let e = resolve(Some("nosuch")).unwrap_err();
        assert!(e.to_string().contains("house"), "{e}");
    }
}
