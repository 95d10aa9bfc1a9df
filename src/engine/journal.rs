//! A take's session log, written while the take is recorded: the header first, with the
//! frame of the first sample and the end left as fixed-width `-` fields, then every change as
//! soon as it has its frame. A crash leaves a log that `ubiq recover` completes (see
//! [`super::recover`]); a take that stops fills the two fields in place, which needs no room
//! on a full disk.
//!
//! The file is locked while the take is recorded, so a second ubiq never recovers a take
//! that is still being made.

use std::fs::File;
use std::io::{Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use super::session::{Entry, GraphSetup, header_text};
use crate::scene::Scene;

/// Width of the fields filled in later: any frame number fits.
const FIELD: usize = 20;

/// A field not known yet.
fn open_field() -> String {
    format!("{:<FIELD$}", "-")
}

/// The byte offset of the value of header line `key` in `text`.
fn field_at(text: &str, key: &str) -> Option<u64> {
    let needle = format!("\n{key} ");
    text.find(&needle).map(|i| (i + needle.len()) as u64)
}

/// Writes `value` into the fixed-width field at `at` of `file`.
fn fill(file: &mut File, at: u64, value: u64) -> std::io::Result<()> {
    file.seek(SeekFrom::Start(at))?;
    file.write_all(format!("{value:<FIELD$}").as_bytes())?;
    file.seek(SeekFrom::End(0))?;
    Ok(())
}

/// The log of the take being recorded.
pub struct Journal {
    file: File,
    path: PathBuf,
    /// Offsets of the `record_from` and `end` values.
    fields: (u64, u64),
    /// Entries of the session written so far.
    written: usize,
    /// The first sample's frame, once written.
    record_from: Option<u64>,
}

impl Journal {
    /// Starts the log at `path` (which must not exist) of a session of `rate`, `seed` and
    /// starting `scene`, with the session's `entries` so far, and locks it.
    pub fn create(
        path: &Path,
        graph: GraphSetup,
        scene: &Scene,
        entries: &[Entry],
    ) -> std::io::Result<Self> {
        let mut file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(path)?;
        crate::files::readable(&file)?;
        // Only this process records into it; recovery tries the same lock.
        if !crate::files::try_lock(&file, true)? {
            return Err(std::io::Error::other("another ubiq is writing it"));
        }
        let head = header_text(graph, scene, &open_field(), &open_field());
        let missing = || std::io::Error::other("the log header has no place for its frames");
        let fields = (
            field_at(&head, "record_from").ok_or_else(missing)?,
            field_at(&head, "end").ok_or_else(missing)?,
        );
        file.write_all(head.as_bytes())?;
        let mut journal = Journal {
            file,
            path: path.to_path_buf(),
            fields,
            written: 0,
            record_from: None,
        };
        journal.append(entries)?;
        Ok(journal)
    }

    /// Writes the entries not written yet (`entries` is the whole session so far), in one
    /// write: a crash leaves whole lines.
    pub fn append(&mut self, entries: &[Entry]) -> std::io::Result<()> {
        let Some(new) = entries.get(self.written..).filter(|n| !n.is_empty()) else {
            return Ok(());
        };
        let text: String = new.iter().map(Entry::line).collect();
        self.file.write_all(text.as_bytes())?;
        self.written = entries.len();
        Ok(())
    }

    /// The take's first sample was written at `frame`.
    pub fn started(&mut self, frame: u64) -> std::io::Result<()> {
        if self.record_from.is_none() {
            fill(&mut self.file, self.fields.0, frame)?;
            self.record_from = Some(frame);
        }
        Ok(())
    }

    /// True once the first sample's frame is written.
    pub fn has_start(&self) -> bool {
        self.record_from.is_some()
    }

    /// True while the file is still at its name (its folder was not deleted).
    pub fn in_place(&self) -> bool {
        crate::files::still_at(&self.file, &self.path)
    }

    /// Ends the log: the entries not written yet, the frames of the first and after the last
    /// recorded sample, synced. Filling the fields in place needs no room on the disk.
    pub fn close(mut self, entries: &[Entry], record_from: u64, end: u64) -> std::io::Result<()> {
        self.append(entries)?;
        fill(&mut self.file, self.fields.0, record_from)?;
        fill(&mut self.file, self.fields.1, end)?;
        self.file.sync_all()
    }
}

/// Ends the log of an interrupted take in place: cuts a torn last line and fills in the
/// end. `text` is the file as read.
pub fn close_interrupted(path: &Path, text: &str, end: u64) -> std::io::Result<()> {
    let whole = text.rfind('\n').map_or(0, |i| i + 1);
    let mut file = std::fs::OpenOptions::new().write(true).open(path)?;
    file.set_len(whole as u64)?;
    let missing = || std::io::Error::other("the log header has no place for its frames");
    fill(&mut file, field_at(text, "end").ok_or_else(missing)?, end)?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::session::{Action, SessionLog};

    const GRAPH: GraphSetup = GraphSetup {
        sample_rate: 48_000,
        seed: 7,
        start_lead: 0,
    };

    fn entries() -> Vec<Entry> {
        vec![
            Entry {
                frame: 0,
                action: Action::Start,
            },
            Entry {
                frame: 48_000,
                action: Action::Cycle(1, None),
            },
        ]
    }

    #[test]
    fn a_closed_journal_is_a_session_log() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("take.log");
        let scene = Scene::default();
        let all = entries();
        let mut j = Journal::create(&path, GRAPH, &scene, &all[..1]).unwrap();
        // While recording: readable as an open log, refused as a finished one.
        let text = std::fs::read_to_string(&path).unwrap();
        let open = SessionLog::parse_open(&text, &path).unwrap();
        assert_eq!((open.record_from, open.end), (None, None));
        let refused = SessionLog::parse(&text, &path).unwrap_err().to_string();
        assert!(refused.contains("ubiq recover"), "{refused}");
        j.started(512).unwrap();
        j.append(&all).unwrap();
        j.close(&all, 512, 96_000).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        let log = SessionLog::parse(&text, &path).unwrap();
        assert_eq!((log.record_from, log.end, log.seed), (512, 96_000, 7));
        assert_eq!(log.entries, all);
    }

    #[test]
    fn a_journal_is_locked_while_recording() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("take.log");
        let _j = Journal::create(&path, GRAPH, &Scene::default(), &[]).unwrap();
        let other = File::open(&path).unwrap();
        assert!(!crate::files::try_lock(&other, false).unwrap());
    }

    #[test]
    fn an_interrupted_journal_is_closed_in_place() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("take.log");
        let all = entries();
        let mut j = Journal::create(&path, GRAPH, &Scene::default(), &all).unwrap();
        j.started(256).unwrap();
        j.file.write_all(b"96000 @cyc").unwrap();
        drop(j);
        let text = std::fs::read_to_string(&path).unwrap();
        close_interrupted(&path, &text, 100_000).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        let log = SessionLog::parse(&text, &path).unwrap();
        assert_eq!((log.record_from, log.end), (256, 100_000));
        assert_eq!(log.entries, all);
    }
}
