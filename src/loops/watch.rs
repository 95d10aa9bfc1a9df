//! The loop library while playing: a set added or changed on disk (`ubiq loops add` in another
//! terminal, say) is read again and handed to the engine, which ranks it from the next cycle.

use std::path::{Path, PathBuf};
use std::time::Duration;

use notify::RecursiveMode;

use super::library::{INDEX_FILE, Library};
use crate::watch::FolderWatch;

/// Quiet time after the last change before the library is read again.
pub const DEBOUNCE: Duration = Duration::from_millis(300);

/// A running watcher; stops when dropped.
pub struct LibraryWatcher {
    _watch: FolderWatch,
}

/// Whether a change at `path` can change the library under `root`: an index, a set's folder
/// (made, removed or renamed) or the library's folder itself (come back after it was gone).
fn touches_library(root: &Path, path: &Path) -> bool {
    path == root || path.parent() == Some(root) || path.file_name().is_some_and(|n| n == INDEX_FILE)
}

impl LibraryWatcher {
    /// Watches the library under `root` (creating nothing); `on_change` gets the library as
    /// read again after an index was written, created, renamed or removed (reading it is no
    /// change). A library folder that disappears is watched again when it comes back.
    pub fn start(
        root: &Path,
        mut on_change: impl FnMut(Library) + Send + 'static,
    ) -> notify::Result<Self> {
        let root: PathBuf = root.to_path_buf();
        // Events name absolute paths; the library keeps the folder as it was given.
        let absolute = std::path::absolute(&root).unwrap_or_else(|_| root.clone());
        let dir = root.clone();
        let handler = move |paths: &[PathBuf]| {
            if paths
                .iter()
                .any(|p| touches_library(&absolute, &std::path::absolute(p).unwrap_or_default()))
            {
                on_change(Library::open(&dir));
            }
        };
        let watch = FolderWatch::start(&[(root, RecursiveMode::Recursive)], DEBOUNCE, handler)?;
        Ok(LibraryWatcher { _watch: watch })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::loops::LoopSet;
    use crate::loops::library::LoopEntry;
    use crate::loops::library::fixtures::entry;
    use std::io::Read;
    use std::sync::mpsc;
    use std::time::Instant;

    fn voice_entry() -> LoopEntry {
        entry("hey", vec![0.0; 4])
    }

    /// Writes a voice set of one loop under `root`.
    fn write_voice(root: &Path) {
        std::fs::create_dir_all(root.join("voice")).unwrap();
        std::fs::write(root.join("voice").join("hey.wav"), b"").unwrap();
        let mut lib = Library::open(root);
        lib.put(LoopSet::Voice, voice_entry());
        lib.save(LoopSet::Voice).unwrap();
    }

    fn watch(root: &Path) -> (LibraryWatcher, mpsc::Receiver<usize>) {
        let (tx, rx) = mpsc::channel();
        let w = LibraryWatcher::start(root, move |lib| {
            let _ = tx.send(lib.entries(LoopSet::Voice).len());
        })
        .unwrap();
        (w, rx)
    }

    #[test]
    fn reading_the_index_is_no_change_and_writing_it_is() {
        let dir = tempfile::tempdir().unwrap();
        write_voice(dir.path());
        let index = dir.path().join("voice").join(INDEX_FILE);
        let (_w, rx) = watch(dir.path());
        for _ in 0..5 {
            let mut text = String::new();
            std::fs::File::open(&index)
                .unwrap()
                .read_to_string(&mut text)
                .unwrap();
            let _ = Library::open(dir.path());
            std::thread::sleep(Duration::from_millis(100));
        }
        assert_eq!(
            rx.recv_timeout(Duration::from_secs(2)).ok(),
            None,
            "reading the index reloaded the library"
        );
        std::fs::write(&index, "(version: 1, entries: [])").unwrap();
        assert_eq!(rx.recv_timeout(Duration::from_secs(10)), Ok(0));
        // Its own reading of the index does not set the watcher off again.
        assert_eq!(rx.recv_timeout(Duration::from_secs(2)).ok(), None);
    }

    #[test]
    fn a_library_folder_made_again_is_watched_again() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("loops");
        write_voice(&root);
        let (_w, rx) = watch(&root);
        std::fs::remove_dir_all(&root).unwrap();
        // The library as it is once the folder is gone, then once it is back.
        let deadline = Instant::now() + Duration::from_secs(15);
        while rx.recv_timeout(Duration::from_secs(1)).is_ok() {
            assert!(Instant::now() < deadline, "the watcher never settles");
        }
        std::fs::create_dir_all(&root).unwrap();
        std::thread::sleep(Duration::from_millis(100));
        write_voice(&root);
        let mut last = None;
        while last != Some(1) && Instant::now() < deadline {
            last = rx.recv_timeout(Duration::from_secs(1)).ok().or(last);
        }
        assert_eq!(
            last,
            Some(1),
            "the set written in the folder made again was not read"
        );
    }

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
        lib.put(LoopSet::Voice, voice_entry());
        lib.save(LoopSet::Voice).unwrap();
        let n = rx.recv_timeout(Duration::from_secs(5)).expect("read again");
        assert_eq!(n, 1);
    }
}
