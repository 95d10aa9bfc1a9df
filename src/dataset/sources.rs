//! Finding the MIDI files of a corpus and giving each its split, song id and style.
//!
//! A folder that holds (or lies under a folder that holds) the Groove MIDI Dataset's `info.csv`
//! uses that file's own train/validation/test split and style, and is read with the Roland TD-11
//! drum map. Every other file is split by song: a hash of its path below the folder given,
//! 80 % train, 10 % validation, 10 % test, so one song never lands in two splits.

use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::DatasetError;

/// Most files one load considers.
const MAX_FILES: usize = 200_000;
/// Largest `info.csv` read.
const MAX_INFO_BYTES: u64 = 64 << 20;

/// Training, validation or test.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Split {
    /// Fit the model on these.
    Train,
    /// Choose settings and stop training on these.
    Validation,
    /// Report results on these, once.
    Test,
}

impl Split {
    /// The three splits in order.
    pub const ALL: [Split; 3] = [Split::Train, Split::Validation, Split::Test];

    /// The name in `info.csv` and in reports.
    pub fn name(self) -> &'static str {
        match self {
            Split::Train => "train",
            Split::Validation => "validation",
            Split::Test => "test",
        }
    }

    /// Parses a split name (`train`, `validation`/`valid`, `test`).
    pub fn from_name(name: &str) -> Option<Split> {
        match name.trim() {
            "train" => Some(Split::Train),
            "validation" | "valid" => Some(Split::Validation),
            "test" => Some(Split::Test),
            _ => None,
        }
    }

    /// The split of a song with this id, by its FNV-1a hash: 8 in 10 train, 1 validation,
    /// 1 test.
    pub fn for_song(song_id: &str) -> Split {
        match fnv1a(song_id.as_bytes()) % 10 {
            0..=7 => Split::Train,
            8 => Split::Validation,
            _ => Split::Test,
        }
    }

    pub(crate) fn index(self) -> u8 {
        self as u8
    }

    pub(crate) fn from_index(index: u8) -> Option<Split> {
        Split::ALL.get(usize::from(index)).copied()
    }
}

/// 64-bit FNV-1a: a small, stable hash (the same on every machine and Rust version).
pub fn fnv1a(bytes: &[u8]) -> u64 {
    let mut hash = 0xcbf2_9ce4_8422_2325u64;
    for &b in bytes {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash
}

/// Where a window came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    /// The MIDI file.
    pub path: PathBuf,
    /// A stable id of the song: its path below the folder given, with that folder's name.
    pub song: String,
    /// Its split.
    pub split: Split,
    /// The Groove MIDI Dataset style (`funk`, `jazz`, …), when known.
    pub style: Option<String>,
    /// Whether it is a Groove MIDI Dataset drum recording (Roland TD-11 notes, drums only).
    pub groove: bool,
}

impl Source {
    /// The corpus it belongs to: the name of the folder given (`freedoom`, `mma`, …), the
    /// first part of its song id.
    pub fn corpus(&self) -> &str {
        self.song.split('/').next().unwrap_or_default()
    }
}

/// One row of `info.csv` that matters here.
#[derive(Debug, Clone)]
struct GrooveInfo {
    split: Split,
    style: String,
}

/// What an `info.csv` says about its folder's files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum InfoKind {
    /// The Groove MIDI Dataset's: each file's split and style (`midi_filename`, `split`,
    /// `style`); its files are drum recordings with the Roland TD-11 map.
    Groove,
    /// A corpus of songs in groups (`midi_filename`, `group`, optionally `style`), such as
    /// the MMA grooves by style family: split by group, so one group never lands in two
    /// splits.
    Grouped,
}

/// Parses an `info.csv`: `midi_filename` → split and style (the part of `style` before
/// `/`, e.g. `funk/groove1` → `funk`). A grouped corpus's split is its group's.
fn read_info(path: &Path, kind: InfoKind) -> Result<HashMap<String, GrooveInfo>, DatasetError> {
    let io = |source| DatasetError::Io {
        path: path.to_path_buf(),
        source,
    };
    let size = std::fs::metadata(path).map_err(io)?.len();
    if size > MAX_INFO_BYTES {
        return Err(DatasetError::Info {
            path: path.to_path_buf(),
            message: format!("{size} bytes is too large"),
        });
    }
    let text = std::fs::read_to_string(path).map_err(io)?;
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap_or_default().split(',').collect();
    let column = |name: &str| {
        header
            .iter()
            .position(|h| h.trim() == name)
            .ok_or_else(|| DatasetError::Info {
                path: path.to_path_buf(),
                message: format!("no {name:?} column"),
            })
    };
    let file_col = column("midi_filename")?;
    let (split_col, style_col) = match kind {
        InfoKind::Groove => (column("split")?, Some(column("style")?)),
        InfoKind::Grouped => (column("group")?, column("style").ok()),
    };
    let mut out = HashMap::new();
    for line in lines {
        let fields: Vec<&str> = line.split(',').collect();
        let split = fields.get(split_col).and_then(|s| match kind {
            InfoKind::Groove => Split::from_name(s),
            InfoKind::Grouped => Some(Split::for_song(&format!("group:{}", s.trim()))),
        });
        let (Some(file), Some(split)) = (fields.get(file_col), split) else {
            continue;
        };
        let style = style_col
            .and_then(|c| fields.get(c))
            .and_then(|s| s.split('/').next())
            .unwrap_or_default()
            .trim()
            .to_string();
        out.insert(file.trim().to_string(), GrooveInfo { split, style });
    }
    Ok(out)
}

/// What kind of `info.csv` `path` is (its header names the columns used), if any.
fn info_kind(path: &Path) -> Option<InfoKind> {
    use std::io::BufRead;
    let file = std::fs::File::open(path).ok()?;
    let mut header = String::new();
    let mut reader = std::io::BufReader::new(file).take(4096);
    reader.read_line(&mut header).ok()?;
    let has = |c: &str| header.split(',').any(|h| h.trim() == c);
    if has("midi_filename") && has("split") && has("style") {
        Some(InfoKind::Groove)
    } else if has("midi_filename") && has("group") {
        Some(InfoKind::Grouped)
    } else {
        None
    }
}

/// The folder at or above `dir` holding an `info.csv` ubiq reads, and its kind.
fn info_root(dir: &Path) -> Option<(PathBuf, InfoKind)> {
    dir.ancestors()
        .find_map(|d| Some((d.to_path_buf(), info_kind(&d.join("info.csv"))?)))
}

fn is_midi(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("mid") || e.eq_ignore_ascii_case("midi"))
}

/// All MIDI files below `dir`, sorted, without following links out of loops.
fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), DatasetError> {
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let entries = std::fs::read_dir(&d).map_err(|source| DatasetError::Io {
            path: d.clone(),
            source,
        })?;
        for entry in entries.flatten() {
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            let path = entry.path();
            if kind.is_dir() {
                stack.push(path);
            } else if (kind.is_file() || kind.is_symlink()) && is_midi(&path) {
                if out.len() >= MAX_FILES {
                    return Err(DatasetError::TooManyFiles(MAX_FILES));
                }
                out.push(path);
            }
        }
    }
    Ok(())
}

/// The files, with split and song, of the folders and files given. Also returns the
/// `info.csv` files used (they are part of what the cache depends on).
pub fn discover(paths: &[PathBuf]) -> Result<(Vec<Source>, Vec<PathBuf>), DatasetError> {
    let mut sources = Vec::new();
    let mut infos = Vec::new();
    let mut info_maps: HashMap<PathBuf, HashMap<String, GrooveInfo>> = HashMap::new();
    for given in paths {
        let meta = std::fs::metadata(given).map_err(|source| DatasetError::Io {
            path: given.clone(),
            source,
        })?;
        let (dir, mut files) = if meta.is_dir() {
            let mut files = Vec::new();
            walk(given, &mut files)?;
            (given.clone(), files)
        } else {
            let dir = given.parent().map_or_else(PathBuf::new, Path::to_path_buf);
            (dir, vec![given.clone()])
        };
        files.sort();
        let info = info_root(if dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            &dir
        });
        if let Some((root, kind)) = &info {
            if !info_maps.contains_key(root) {
                let info_path = root.join("info.csv");
                info_maps.insert(root.clone(), read_info(&info_path, *kind)?);
                infos.push(info_path);
            }
        }
        let is_groove = matches!(info, Some((_, InfoKind::Groove)));
        let root = info.map(|(root, _)| root);
        let label_root = root.clone().unwrap_or_else(|| dir.clone());
        let label = label_root
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        for path in files {
            let rel = path
                .strip_prefix(&label_root)
                .unwrap_or(&path)
                .to_string_lossy()
                .replace('\\', "/");
            let song = if label.is_empty() {
                rel.clone()
            } else {
                format!("{label}/{rel}")
            };
            let info = root
                .as_ref()
                .and_then(|root| info_maps.get(root))
                .and_then(|m| m.get(&rel));
            sources.push(Source {
                split: info.map_or_else(|| Split::for_song(&song), |i| i.split),
                style: info.map(|i| i.style.clone()).filter(|s| !s.is_empty()),
                groove: is_groove,
                path,
                song,
            });
        }
    }
    Ok((sources, infos))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn song_split_is_stable_and_roughly_80_10_10() {
        assert_eq!(Split::for_song("a/b.mid"), Split::for_song("a/b.mid"));
        let mut counts = [0usize; 3];
        for i in 0..10_000 {
            counts[Split::for_song(&format!("corpus/song{i}.mid")) as usize] += 1;
        }
        assert!((7_700..8_300).contains(&counts[0]), "{counts:?}");
        assert!((800..1_200).contains(&counts[1]), "{counts:?}");
        assert!((800..1_200).contains(&counts[2]), "{counts:?}");
    }

    #[test]
    fn info_csv_gives_split_and_style() {
        let dir = tempfile::tempdir().unwrap();
        let csv = "drummer,session,id,style,bpm,beat_type,time_signature,midi_filename,audio_filename,duration,split\n\
                   d1,d1/s,d1/s/1,funk/groove1,138,beat,4-4,d1/s/1.mid,d1/s/1.wav,27.8,test\n";
        std::fs::write(dir.path().join("info.csv"), csv).unwrap();
        std::fs::create_dir_all(dir.path().join("d1/s")).unwrap();
        std::fs::write(dir.path().join("d1/s/1.mid"), b"").unwrap();
        std::fs::write(dir.path().join("d1/s/2.mid"), b"").unwrap();
        let (sources, infos) = discover(&[dir.path().join("d1")]).unwrap();
        assert_eq!(infos.len(), 1);
        assert_eq!(sources.len(), 2);
        assert_eq!(sources[0].split, Split::Test);
        assert_eq!(sources[0].style.as_deref(), Some("funk"));
        assert!(sources[0].groove);
        assert_eq!(sources[1].style, None);
    }

    #[test]
    fn a_grouped_corpus_splits_by_group() {
        let dir = tempfile::tempdir().unwrap();
        let mut csv = String::from("midi_filename,group,style\n");
        for g in 0..40 {
            for song in 0..3 {
                let rel = format!("fam{g}/song{song}.mid");
                std::fs::create_dir_all(dir.path().join(format!("fam{g}"))).unwrap();
                std::fs::write(dir.path().join(&rel), b"").unwrap();
                csv.push_str(&format!("{rel},fam{g},fam{g}\n"));
            }
        }
        std::fs::write(dir.path().join("info.csv"), csv).unwrap();
        let (sources, infos) = discover(&[dir.path().to_path_buf()]).unwrap();
        assert_eq!((sources.len(), infos.len()), (120, 1));
        let mut splits = std::collections::HashMap::new();
        for s in &sources {
            assert!(!s.groove);
            let group = s.style.clone().unwrap();
            assert!(s.path.starts_with(dir.path().join(&group)));
            // Every song of a group in the group's split.
            assert_eq!(*splits.entry(group).or_insert(s.split), s.split);
        }
        let kinds: std::collections::HashSet<_> = splits.values().collect();
        assert!(kinds.len() >= 2, "40 groups all in one split");
    }
}
