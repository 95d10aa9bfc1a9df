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

/// One row of `info.csv` that matters here.
#[derive(Debug, Clone)]
struct GrooveInfo {
    split: Split,
    style: String,
}

/// Parses the Groove MIDI Dataset's `info.csv`: `midi_filename` → split and style (the part
/// of `style` before `/`, e.g. `funk/groove1` → `funk`).
fn read_info(path: &Path) -> Result<HashMap<String, GrooveInfo>, DatasetError> {
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
    let (file_col, split_col, style_col) =
        (column("midi_filename")?, column("split")?, column("style")?);
    let mut out = HashMap::new();
    for line in lines {
        let fields: Vec<&str> = line.split(',').collect();
        let (Some(file), Some(split), Some(style)) = (
            fields.get(file_col),
            fields.get(split_col).and_then(|s| Split::from_name(s)),
            fields.get(style_col),
        ) else {
            continue;
        };
        let style = style
            .split('/')
            .next()
            .unwrap_or_default()
            .trim()
            .to_string();
        out.insert(file.trim().to_string(), GrooveInfo { split, style });
    }
    Ok(out)
}

/// Whether `path` is a Groove MIDI Dataset `info.csv` (its header names the columns used).
fn is_groove_info(path: &Path) -> bool {
    use std::io::BufRead;
    let Ok(file) = std::fs::File::open(path) else {
        return false;
    };
    let mut header = String::new();
    let mut reader = std::io::BufReader::new(file).take(4096);
    reader.read_line(&mut header).is_ok()
        && ["midi_filename", "split", "style"]
            .iter()
            .all(|c| header.split(',').any(|h| h.trim() == *c))
}

/// The folder at or above `dir` holding the Groove MIDI Dataset's `info.csv`, if any.
fn groove_root(dir: &Path) -> Option<PathBuf> {
    dir.ancestors()
        .find(|d| is_groove_info(&d.join("info.csv")))
        .map(Path::to_path_buf)
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
        let groove = groove_root(if dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            &dir
        });
        if let Some(root) = &groove {
            if !info_maps.contains_key(root) {
                let info_path = root.join("info.csv");
                info_maps.insert(root.clone(), read_info(&info_path)?);
                infos.push(info_path);
            }
        }
        let label_root = groove.clone().unwrap_or_else(|| dir.clone());
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
            let info = groove
                .as_ref()
                .and_then(|root| info_maps.get(root))
                .and_then(|m| m.get(&rel));
            sources.push(Source {
                split: info.map_or_else(|| Split::for_song(&song), |i| i.split),
                style: info.map(|i| i.style.clone()),
                groove: groove.is_some(),
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
}
