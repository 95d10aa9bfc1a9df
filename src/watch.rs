//! Folder watching for the hot reloads (the scene file, the loop library): writes, creates,
//! renames and removals, debounced; never reads. A watched folder that disappears is watched
//! again when it comes back.
//!
//! Plain `notify` with a debounce of our own rather than `notify-debouncer-mini`: the mini
//! debouncer drops the kind of each event, and on Linux inotify reports every open and close
//! of a file, so a program that only reads a watched file (`cat`, `ubiq loops list`, the
//! reload itself reading the index again) looked like a change and reloaded forever.

use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::time::{Duration, Instant};

use notify::event::{AccessKind, AccessMode, ModifyKind};
use notify::{Event, EventKind, RecommendedWatcher, RecursiveMode, Watcher};

/// How often each watched folder is checked for having gone or come back.
pub const RECHECK: Duration = Duration::from_millis(500);

/// Longest a burst of changes that never falls quiet is held back before it is handed on.
const MAX_HOLD_FACTOR: u32 = 4;

/// Whether an event changes what a file holds or where it is: data written, a file created,
/// renamed or removed. Opening, reading and closing a file after reading, and metadata
/// (permissions, times), are not changes.
pub fn is_write(event: &Event) -> bool {
    match event.kind {
        EventKind::Access(AccessKind::Close(AccessMode::Write)) => true,
        EventKind::Access(_) | EventKind::Modify(ModifyKind::Metadata(_)) => false,
        EventKind::Create(_) | EventKind::Modify(_) | EventKind::Remove(_) | EventKind::Any => true,
        EventKind::Other => event.need_rescan(),
    }
}

/// One watched folder and the folder it was when the watch was set (so a folder deleted and
/// made again under the same name is noticed).
struct Target {
    path: PathBuf,
    /// The same path made absolute, as events name it.
    absolute: PathBuf,
    mode: RecursiveMode,
    watched: Option<Identity>,
}

/// What tells one folder from another made later under the same name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Identity {
    device: u64,
    inode: u64,
    /// Inode change time in nanoseconds (a folder made again may get the same inode).
    changed: i128,
}

fn identity(path: &Path) -> Option<Identity> {
    let meta = std::fs::metadata(path).ok()?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        Some(Identity {
            device: meta.dev(),
            inode: meta.ino(),
            changed: i128::from(meta.ctime()) * 1_000_000_000 + i128::from(meta.ctime_nsec()),
        })
    }
    #[cfg(not(unix))]
    {
        let _ = meta;
        Some(Identity {
            device: 0,
            inode: 0,
            changed: 0,
        })
    }
}

enum Message {
    Event(notify::Result<Event>),
    Stop,
}

/// A running watch of some folders; stops when dropped.
pub struct FolderWatch {
    stop: Sender<Message>,
}

impl Drop for FolderWatch {
    fn drop(&mut self) {
        let _ = self.stop.send(Message::Stop);
    }
}

impl FolderWatch {
    /// Watches `folders` (each must exist now). Once changes have been quiet for `debounce`,
    /// `on_change` gets the paths that changed, each once; a folder that came back after it
    /// was gone is handed on as its own path, as anything in it may be new.
    pub fn start(
        folders: &[(PathBuf, RecursiveMode)],
        debounce: Duration,
        on_change: impl FnMut(&[PathBuf]) + Send + 'static,
    ) -> notify::Result<Self> {
        let (tx, rx) = mpsc::channel();
        let events = tx.clone();
        let mut watcher = RecommendedWatcher::new(
            move |e| {
                let _ = events.send(Message::Event(e));
            },
            notify::Config::default(),
        )?;
        let mut targets = Vec::new();
        for (path, mode) in folders {
            watcher.watch(path, *mode)?;
            targets.push(Target {
                path: path.clone(),
                absolute: std::path::absolute(path).unwrap_or_else(|_| path.clone()),
                mode: *mode,
                watched: identity(path),
            });
        }
        std::thread::Builder::new()
            .name("ubiq folder watch".into())
            .spawn(move || run(watcher, targets, rx, debounce, on_change))
            .map_err(notify::Error::io)?;
        Ok(FolderWatch { stop: tx })
    }
}

/// The watch loop: gathers write events until they fall quiet, and checks now and then that
/// every folder is still the one watched.
fn run(
    mut watcher: RecommendedWatcher,
    mut targets: Vec<Target>,
    rx: mpsc::Receiver<Message>,
    debounce: Duration,
    mut on_change: impl FnMut(&[PathBuf]),
) {
    let mut pending: Vec<PathBuf> = Vec::new();
    let mut first = Instant::now();
    let mut last = Instant::now();
    let mut checked = Instant::now();
    let mut check_now = false;
    loop {
        let wait = if pending.is_empty() {
            RECHECK
        } else {
            debounce.saturating_sub(last.elapsed()).min(RECHECK)
        };
        match rx.recv_timeout(wait) {
            Ok(Message::Event(Ok(event))) if is_write(&event) => {
                for target in &mut targets {
                    if moved_or_removed(&event, &target.absolute) {
                        forget(&mut watcher, target);
                        check_now = true;
                    }
                }
                if pending.is_empty() {
                    first = Instant::now();
                }
                last = Instant::now();
                let paths = if event.paths.is_empty() {
                    targets.iter().map(|t| t.path.clone()).collect()
                } else {
                    event.paths
                };
                for p in paths {
                    if !pending.contains(&p) {
                        pending.push(p);
                    }
                }
            }
            Ok(Message::Event(_)) | Err(RecvTimeoutError::Timeout) => {}
            Ok(Message::Stop) | Err(RecvTimeoutError::Disconnected) => return,
        }
        if check_now || checked.elapsed() >= RECHECK {
            check_now = false;
            checked = Instant::now();
            for target in &mut targets {
                if rewatch(&mut watcher, target) && !pending.contains(&target.path) {
                    if pending.is_empty() {
                        first = Instant::now();
                    }
                    last = Instant::now();
                    pending.push(target.path.clone());
                }
            }
        }
        let quiet = last.elapsed() >= debounce;
        let held_too_long = first.elapsed() >= debounce * MAX_HOLD_FACTOR;
        if !pending.is_empty() && (quiet || held_too_long) {
            on_change(&pending);
            pending.clear();
        }
    }
}

/// Whether `event` says that the watched folder `path` itself was removed or renamed away.
fn moved_or_removed(event: &Event, path: &Path) -> bool {
    matches!(
        event.kind,
        EventKind::Remove(_) | EventKind::Modify(ModifyKind::Name(_))
    ) && event.paths.iter().any(|p| p == path)
}

/// Drops the watch of a folder that is gone (it may already have gone with the folder).
fn forget(watcher: &mut RecommendedWatcher, target: &mut Target) {
    if target.watched.take().is_some() {
        let _ = watcher.unwatch(&target.path);
    }
}

/// Watches `target` again if its folder is gone or was made anew; true when it is watched
/// again after a gap (its contents may all be new).
fn rewatch(watcher: &mut RecommendedWatcher, target: &mut Target) -> bool {
    let now = identity(&target.path);
    if now == target.watched {
        return false;
    }
    forget(watcher, target);
    if now.is_some() && watcher.watch(&target.path, target.mode).is_ok() {
        target.watched = now;
        return true;
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn collect(dir: &Path, mode: RecursiveMode) -> (FolderWatch, mpsc::Receiver<Vec<PathBuf>>) {
        let (tx, rx) = mpsc::channel();
        let w = FolderWatch::start(
            &[(dir.to_path_buf(), mode)],
            Duration::from_millis(100),
            move |paths| {
                let _ = tx.send(paths.to_vec());
            },
        )
        .unwrap();
        (w, rx)
    }

    /// Waits (generously) for a change that names `file`.
    fn seen(rx: &mpsc::Receiver<Vec<PathBuf>>, file: &Path) -> bool {
        let deadline = Instant::now() + Duration::from_secs(10);
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            match rx.recv_timeout(left) {
                Ok(paths) if paths.iter().any(|p| p == file) => return true,
                Ok(_) => {}
                Err(_) => return false,
            }
        }
        false
    }

    #[test]
    fn reads_are_not_changes_and_writes_are() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("index.ron");
        std::fs::write(&file, "()").unwrap();
        let (_w, rx) = collect(dir.path(), RecursiveMode::Recursive);
        for _ in 0..5 {
            let mut text = String::new();
            std::fs::File::open(&file)
                .unwrap()
                .read_to_string(&mut text)
                .unwrap();
            std::thread::sleep(Duration::from_millis(50));
        }
        assert_eq!(rx.recv_timeout(Duration::from_secs(2)).ok(), None);
        std::fs::write(&file, "(x)").unwrap();
        assert!(seen(&rx, &file));
    }

    #[test]
    fn a_folder_made_again_is_watched_again() {
        let dir = tempfile::tempdir().unwrap();
        let watched = dir.path().join("set");
        std::fs::create_dir(&watched).unwrap();
        let (_w, rx) = collect(&watched, RecursiveMode::NonRecursive);
        std::fs::remove_dir(&watched).unwrap();
        std::fs::create_dir(&watched).unwrap();
        // Written again each second until a change names it: the folder is watched again at
        // the latest one check after it came back.
        let file = watched.join("scene.ron");
        let deadline = Instant::now() + Duration::from_secs(15);
        let mut named = false;
        while !named && Instant::now() < deadline {
            std::fs::write(&file, "()").unwrap();
            let until = Instant::now() + Duration::from_secs(1);
            while let Some(left) = until.checked_duration_since(Instant::now()) {
                match rx.recv_timeout(left) {
                    Ok(paths) if paths.contains(&file) => named = true,
                    Ok(_) => {}
                    Err(_) => break,
                }
            }
        }
        assert!(named, "no write seen in the folder made again");
    }
}
