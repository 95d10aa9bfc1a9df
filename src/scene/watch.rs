//! Hot reload: watch a scene file and hand every good save to the engine.
//!
//! The folder is watched rather than the file, so editors that save by writing a new file
//! and renaming it over the old one (vim, VS Code, …) are followed. Bursts of events from one
//! save are debounced; a save that leaves the text unchanged is ignored.

use std::path::{Path, PathBuf};
use std::time::Duration;

use notify::{RecommendedWatcher, RecursiveMode};
use notify_debouncer_mini::{DebounceEventResult, Debouncer, new_debouncer};

use super::{Scene, SceneError};

/// Quiet time after the last event before a save is read.
pub const DEBOUNCE: Duration = Duration::from_millis(150);

/// How long a file must hold still before it is read, and how often to look again.
const SETTLE: Duration = Duration::from_millis(40);

/// Reads `file` until two reads 40 ms apart agree (at most a few tries).
fn read_settled(file: &Path) -> Option<String> {
    let mut text = std::fs::read_to_string(file).ok()?;
    for _ in 0..10 {
        std::thread::sleep(SETTLE);
        let again = std::fs::read_to_string(file).ok()?;
        if again == text {
            return Some(text);
        }
        text = again;
    }
    Some(text)
}

/// What changed on disk.
#[derive(Debug)]
pub enum Change {
    /// The scene file itself was saved: the new version, or the error that names file,
    /// line and column.
    Scene(Result<Box<Scene>, SceneError>),
    /// A scene file a section includes was saved (it reads), or its error.
    Include(Result<PathBuf, SceneError>),
}

/// A running watcher; stops when dropped.
pub struct SceneWatcher {
    _debouncer: Debouncer<RecommendedWatcher>,
}

fn folder(path: &Path) -> PathBuf {
    match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// The same file, whichever way its path is written (compared by name and canonical
/// folder, so a file that is briefly missing mid-save still matches).
fn same(a: &Path, b: &Path) -> bool {
    if a == b {
        return true;
    }
    a.file_name() == b.file_name()
        && folder(a)
            .canonicalize()
            .ok()
            .is_some_and(|x| folder(b).canonicalize().ok() == Some(x))
}

impl SceneWatcher {
    /// Watches `path` and the scene files its sections include (in the folders they are in
    /// when it starts); `on_change` gets each newly saved version.
    pub fn start(
        path: &Path,
        mut on_change: impl FnMut(Change) + Send + 'static,
    ) -> notify::Result<Self> {
        let file: PathBuf = path.to_path_buf();
        let mut last_text = std::fs::read_to_string(&file).ok();
        let mut includes: Vec<PathBuf> = last_text
            .as_deref()
            .and_then(|t| Scene::from_ron(t, &file).ok())
            .map(|s| s.includes().map(Path::to_path_buf).collect())
            .unwrap_or_default();
        let mut folders = vec![folder(&file)];
        for i in &includes {
            let f = folder(i);
            if !folders.iter().any(|g| same(g, &f)) {
                folders.push(f);
            }
        }
        let mut include_texts: Vec<Option<String>> = includes
            .iter()
            .map(|i| std::fs::read_to_string(i).ok())
            .collect();
        let handler = move |result: DebounceEventResult| {
            let Ok(events) = result else { return };
            if events.iter().any(|e| same(&e.path, &file)) {
                // Mid-save the file can be missing or half written: read until it holds still.
                if let Some(text) = read_settled(&file)
                    && last_text.as_deref() != Some(text.as_str())
                {
                    last_text = Some(text.clone());
                    let parsed = Scene::from_ron_checked(&text, &file);
                    if let Ok(scene) = &parsed {
                        includes = scene.includes().map(Path::to_path_buf).collect();
                        include_texts = includes
                            .iter()
                            .map(|i| std::fs::read_to_string(i).ok())
                            .collect();
                    }
                    on_change(Change::Scene(parsed.map(Box::new)));
                }
            }
            for (include, seen) in includes.iter().zip(include_texts.iter_mut()) {
                if !events.iter().any(|e| same(&e.path, include)) {
                    continue;
                }
                let Some(text) = read_settled(include) else {
                    continue;
                };
                if seen.as_deref() == Some(text.as_str()) {
                    continue;
                }
                *seen = Some(text.clone());
                on_change(Change::Include(
                    Scene::from_ron(&text, include).map(|_| include.clone()),
                ));
            }
        };
        let mut debouncer = new_debouncer(DEBOUNCE, handler)?;
        for f in &folders {
            debouncer.watcher().watch(f, RecursiveMode::NonRecursive)?;
        }
        Ok(SceneWatcher {
            _debouncer: debouncer,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;

    fn scene_text(tempo: u32) -> String {
        format!("Scene(tempo: {tempo}, drums: (kick: \"x...x...x...x...\"))")
    }

    #[test]
    fn follows_in_place_and_rename_saves_and_reports_errors() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("set.ron");
        std::fs::write(&file, scene_text(100)).unwrap();
        let (tx, rx) = mpsc::channel();
        let _w = SceneWatcher::start(&file, move |change| {
            if let Change::Scene(r) = change {
                let _ = tx.send(r.map(|s| s.tempo).map_err(|e| e.to_string()));
            }
        })
        .unwrap();
        let wait = || rx.recv_timeout(Duration::from_secs(5)).expect("a reload");

        std::fs::write(&file, scene_text(110)).unwrap();
        assert_eq!(wait(), Ok(110.0));

        let tmp = dir.path().join(".set.ron.swp");
        std::fs::write(&tmp, scene_text(120)).unwrap();
        std::fs::rename(&tmp, &file).unwrap();
        assert_eq!(wait(), Ok(120.0));

        std::fs::write(&file, "Scene(tempo: 130,\n  drums: (kick: \"x..?\"))").unwrap();
        let err = wait().unwrap_err();
        assert!(err.contains("set.ron:2:"), "{err}");

        std::fs::write(&file, scene_text(140)).unwrap();
        assert_eq!(wait(), Ok(140.0));
    }

    #[test]
    fn follows_the_files_sections_include() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("set.ron");
        let drop = dir.path().join("drop.ron");
        std::fs::write(&drop, scene_text(128)).unwrap();
        std::fs::write(
            &file,
            "Scene(sections: [(bars: 8), (bars: 8, scene: \"drop.ron\")])",
        )
        .unwrap();
        let (tx, rx) = mpsc::channel();
        let _w = SceneWatcher::start(&file, move |change| {
            let _ = tx.send(match change {
                Change::Include(r) => r.map_err(|e| e.to_string()),
                Change::Scene(_) => Err("the scene itself".into()),
            });
        })
        .unwrap();
        let wait = || rx.recv_timeout(Duration::from_secs(5)).expect("a change");
        std::fs::write(&drop, scene_text(132)).unwrap();
        assert_eq!(wait(), Ok(drop.clone()));
        std::fs::write(&drop, "Scene(tempo: 999)").unwrap();
        let err = wait().unwrap_err();
        assert!(err.contains("drop.ron:1:"), "{err}");
    }
}
