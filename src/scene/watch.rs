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

/// A running watcher; stops when dropped.
pub struct SceneWatcher {
    _debouncer: Debouncer<RecommendedWatcher>,
}

impl SceneWatcher {
    /// Watches `path`; `on_change` gets each newly saved version, parsed, or the error that
    /// names file, line and column.
    pub fn start(
        path: &Path,
        mut on_change: impl FnMut(Result<Scene, SceneError>) + Send + 'static,
    ) -> notify::Result<Self> {
        let file: PathBuf = path.to_path_buf();
        let name = file.file_name().map(|n| n.to_os_string());
        let dir = match file.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let mut last_text = std::fs::read_to_string(&file).ok();
        let handler = move |result: DebounceEventResult| {
            let Ok(events) = result else { return };
            let touched = events
                .iter()
                .any(|e| e.path.file_name().map(|n| n.to_os_string()) == name);
            if !touched {
                return;
            }
            // Mid-save the file can be missing or half written: read until it holds still.
            let Some(text) = read_settled(&file) else {
                return;
            };
            if last_text.as_deref() == Some(text.as_str()) {
                return;
            }
            last_text = Some(text.clone());
            on_change(Scene::from_ron(&text, &file));
        };
        let mut debouncer = new_debouncer(DEBOUNCE, handler)?;
        debouncer
            .watcher()
            .watch(&dir, RecursiveMode::NonRecursive)?;
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
        let _w = SceneWatcher::start(&file, move |r| {
            let _ = tx.send(r.map(|s| s.tempo).map_err(|e| e.to_string()));
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
}
