//! The loop library while playing: a set added or changed on disk (`ubiq loops add` in another
//! terminal, say) is read again and handed to the engine, which ranks it from the next cycle.

use std::path::{Path, PathBuf};
use std::time::Duration;

use notify::{RecommendedWatcher, RecursiveMode};
use notify_debouncer_mini::{DebounceEventResult, Debouncer, new_debouncer};

use super::library::{INDEX_FILE, Library};

/// Quiet time after the last change before the library is read again.
pub const DEBOUNCE: Duration = Duration::from_millis(300);

/// A running watcher; stops when dropped.
pub struct LibraryWatcher {
    _debouncer: Debouncer<RecommendedWatcher>,
}

impl LibraryWatcher {
    /// Watches the library under `root` (creating nothing); `on_change` gets the library as
    /// read again after an index changed.
    pub fn start(
        root: &Path,
        mut on_change: impl FnMut(Library) + Send + 'static,
    ) -> notify::Result<Self> {
        let root: PathBuf = root.to_path_buf();
        let dir = root.clone();
        let handler = move |result: DebounceEventResult| {
            let Ok(events) = result else { return };
            if events
                .iter()
                .any(|e| e.path.file_name().is_some_and(|n| n == INDEX_FILE))
            {
                on_change(Library::open(&dir));
            }
        };
        let mut debouncer = new_debouncer(DEBOUNCE, handler)?;
        debouncer.watcher().watch(&root, RecursiveMode::Recursive)?;
        Ok(LibraryWatcher {
            _debouncer: debouncer,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::loops::LoopSet;
    use crate::loops::library::LoopEntry;
    use std::sync::mpsc;

    #[test]
    fn a_set_written_while_watching_is_read_again() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("voice")).unwrap();
        let (tx, rx) = mpsc::channel();
        let _w = LibraryWatcher::start(dir.path(), move |lib| {
            let _ = tx.send(lib.entries(LoopSet::Voice).len());
        })
        .unwrap();
        let mut lib = Library::open(dir.path());
        std::fs::write(dir.path().join("voice").join("hey.wav"), b"").unwrap();
        lib.put(
            LoopSet::Voice,
            LoopEntry {
                name: "hey".into(),
                file: "hey.wav".into(),
                tempo_bpm: 120.0,
                bars: 2,
                key: None,
                source: "test".into(),
                licence: "CC0".into(),
                pattern: None,
                embedding: vec![0.0; 4],
            },
        );
        lib.save(LoopSet::Voice).unwrap();
        let n = rx.recv_timeout(Duration::from_secs(5)).expect("read again");
        assert_eq!(n, 1);
    }
}
