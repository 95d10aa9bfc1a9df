//! Hot reload: watch a scene file and hand every good save to the engine.
//!
//! The folder is watched rather than the file, so editors that save by writing a new file
//! and renaming it over the old one (vim, VS Code, …) are followed. Bursts of events from one
//! save are debounced; a save that leaves the text unchanged is ignored.

use std::path::{Path, PathBuf};
use std::time::Duration;

use notify::RecursiveMode;

use super::{Scene, SceneError};
use crate::watch::FolderWatch;

/// Quiet time after the last event before a save is read.
pub const DEBOUNCE: Duration = Duration::from_millis(150);

/// How long a file must hold still before it is read, and how often to look again.
const SETTLE: Duration = Duration::from_millis(40);

/// Reads `file` until two reads 40 ms apart agree (at most a few tries).
fn read_settled(file: &Path) -> Option<Vec<u8>> {
    let mut bytes = Scene::read_bytes(file).ok()?;
    for _ in 0..10 {
        std::thread::sleep(SETTLE);
        let again = Scene::read_bytes(file).ok()?;
        if again == bytes {
            return Some(bytes);
        }
        bytes = again;
    }
    Some(bytes)
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
    _watch: FolderWatch,
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

/// Whether a change at `changed` may have changed `file`: the file itself, or its folder
/// (watched again after it was gone, so the file in it may be new).
fn may_change(changed: &Path, file: &Path) -> bool {
    same(changed, file)
        || changed
            .canonicalize()
            .ok()
            .is_some_and(|c| folder(file).canonicalize().ok() == Some(c))
}

impl SceneWatcher {
    /// Watches `path` and the scene files its sections include (in the folders they are in
    /// when it starts); `on_change` gets each newly saved version. A save that is not UTF-8
    /// text is reported like any other broken save; a folder that disappears is watched
    /// again when it comes back.
    pub fn start(
        path: &Path,
        mut on_change: impl FnMut(Change) + Send + 'static,
    ) -> notify::Result<Self> {
        let file: PathBuf = path.to_path_buf();
        let mut last_bytes = Scene::read_bytes(&file).ok();
        let mut includes: Vec<PathBuf> = last_bytes
            .as_deref()
            .and_then(|b| std::str::from_utf8(b).ok())
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
        let mut include_bytes: Vec<Option<Vec<u8>>> =
            includes.iter().map(|i| Scene::read_bytes(i).ok()).collect();
        let handler = move |paths: &[PathBuf]| {
            if paths.iter().any(|p| may_change(p, &file)) {
                // Mid-save the file can be missing or half written: read until it holds still.
                if let Some(bytes) = read_settled(&file)
                    && last_bytes.as_deref() != Some(bytes.as_slice())
                {
                    let parsed = Scene::text_of(&bytes, &file)
                        .and_then(|text| Scene::from_ron_checked(text, &file));
                    last_bytes = Some(bytes);
                    if let Ok(scene) = &parsed {
                        includes = scene.includes().map(Path::to_path_buf).collect();
                        include_bytes =
                            includes.iter().map(|i| Scene::read_bytes(i).ok()).collect();
                    }
                    on_change(Change::Scene(parsed.map(Box::new)));
                }
            }
            for (include, seen) in includes.iter().zip(include_bytes.iter_mut()) {
                if !paths.iter().any(|p| may_change(p, include)) {
                    continue;
                }
                let Some(bytes) = read_settled(include) else {
                    continue;
                };
                if seen.as_deref() == Some(bytes.as_slice()) {
                    continue;
                }
                let read = Scene::text_of(&bytes, include)
                    .and_then(|text| Scene::include_from_ron(text, include))
                    .map(|_| include.clone());
                *seen = Some(bytes);
                on_change(Change::Include(read));
            }
        };
        let folders: Vec<(PathBuf, RecursiveMode)> = folders
            .into_iter()
            .map(|f| (f, RecursiveMode::NonRecursive))
            .collect();
        let watch = FolderWatch::start(&folders, DEBOUNCE, handler)?;
        Ok(SceneWatcher { _watch: watch })
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

    #[test]
    fn a_save_that_is_not_utf8_is_reported_by_file_and_place() {
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
        let mut bytes = b"Scene(\n  tempo: 1".to_vec();
        bytes.extend_from_slice(&[0xff, 0xfe]);
        bytes.extend_from_slice(b"0)");
        std::fs::write(&file, bytes).unwrap();
        let err = rx
            .recv_timeout(Duration::from_secs(10))
            .expect("the save is reported")
            .unwrap_err();
        assert!(err.contains("set.ron:2:11: not UTF-8 text"), "{err}");
        std::fs::write(&file, scene_text(140)).unwrap();
        assert_eq!(rx.recv_timeout(Duration::from_secs(10)), Ok(Ok(140.0)));
    }

    #[test]
    fn a_scene_folder_made_again_is_watched_again() {
        let dir = tempfile::tempdir().unwrap();
        let folder = dir.path().join("sets");
        std::fs::create_dir(&folder).unwrap();
        let file = folder.join("set.ron");
        std::fs::write(&file, scene_text(100)).unwrap();
        let (tx, rx) = mpsc::channel();
        let _w = SceneWatcher::start(&file, move |change| {
            if let Change::Scene(Ok(s)) = change {
                let _ = tx.send(s.tempo);
            }
        })
        .unwrap();
        std::fs::remove_dir_all(&folder).unwrap();
        // The removal is seen first (the file is missing then: no change).
        std::thread::sleep(Duration::from_secs(1));
        std::fs::create_dir(&folder).unwrap();
        std::fs::write(&file, scene_text(150)).unwrap();
        assert_eq!(rx.recv_timeout(Duration::from_secs(10)), Ok(150.0));
    }
}
