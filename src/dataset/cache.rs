//! The binary cache of an extracted corpus.
//!
//! One file per set of folders given, `corpus-<hash of the folders>.bin` in the cache folder
//! (`$XDG_CACHE_HOME/ubiq`, else `~/.cache/ubiq`, or the folder given with `--cache`). It is
//! reused only when its content key matches: a hash of [`EXTRACTOR_VERSION`], the limits, and
//! every source's path, size, modification time, split and style (and `info.csv`'s), so
//! changing, adding or removing a file re-extracts.
//!
//! Format, all little-endian: `UBIQCRPS`, u32 [`FORMAT_VERSION`], u64 content key; the sources
//! (u32 count; each path, song and style as u32-length UTF-8, u8 split, u8 flags); the windows
//! (u32 count; each u32 source, u32 bar, f32 bpm, pattern); the pairs (u32 count; each u32
//! source, u32 bar, f32 bpm, pattern, bassline, u8 tonic, u8 key, u8 scale); the report as
//! u32-length JSON. A pattern is, per voice, a u32 step mask then per hit a u8 MIDI velocity
//! and an i16 offset in 1/480 step, which decodes to the exact same `f32`s. A bassline is 32
//! steps of u8 tag (0 rest, 1 hold, 2 note) with i8 pitch and u8 velocity after a note.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::sources::{Source, Split, fnv1a};
use super::stats::Report;
use super::{BassPair, Corpus, DrumWindow};
use crate::midifile::{
    Limits, offset_from_units, offset_units, velocity_from_midi, velocity_to_midi,
};
use crate::pattern::{BassStep, Bassline, DrumCell, DrumPattern, Key, STEPS, Scale, Voice};

/// Bumped whenever extraction changes what it produces: old caches are then ignored.
pub const EXTRACTOR_VERSION: u32 = 2;
/// Bumped whenever the file layout changes.
pub const FORMAT_VERSION: u32 = 1;
const MAGIC: &[u8; 8] = b"UBIQCRPS";

/// Where (and whether) to cache.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum CacheMode {
    /// `$XDG_CACHE_HOME/ubiq`, else `$HOME/.cache/ubiq`; no cache when neither is set.
    #[default]
    Default,
    /// This folder.
    Dir(PathBuf),
    /// Always extract, never write.
    Off,
}

impl CacheMode {
    /// The cache folder, `None` when not caching.
    pub fn dir(&self) -> Option<PathBuf> {
        match self {
            CacheMode::Off => None,
            CacheMode::Dir(d) => Some(d.clone()),
            CacheMode::Default => std::env::var_os("XDG_CACHE_HOME")
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
                .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
                .map(|d| d.join("ubiq")),
        }
    }

    /// The cache file for a load of these paths, if caching.
    pub fn file_for(&self, paths: &[PathBuf]) -> Option<PathBuf> {
        let dir = self.dir()?;
        let mut names = Vec::new();
        for p in paths {
            let p = std::fs::canonicalize(p).unwrap_or_else(|_| p.clone());
            names.extend_from_slice(p.to_string_lossy().as_bytes());
            names.push(0);
        }
        Some(dir.join(format!("corpus-{:016x}.bin", fnv1a(&names))))
    }
}

/// The key of the sources' current state: paths, sizes, modification times, splits, styles.
pub fn content_key(sources: &[Source], infos: &[PathBuf], limits: &Limits) -> u64 {
    let mut bytes = Vec::new();
    bytes.extend_from_slice(&EXTRACTOR_VERSION.to_le_bytes());
    bytes.extend_from_slice(&limits.max_file_bytes.to_le_bytes());
    for n in [limits.max_events, limits.max_notes, limits.max_bars] {
        bytes.extend_from_slice(&(n as u64).to_le_bytes());
    }
    let stamp = |path: &Path, bytes: &mut Vec<u8>| {
        bytes.extend_from_slice(path.to_string_lossy().as_bytes());
        bytes.push(0);
        if let Ok(meta) = std::fs::metadata(path) {
            bytes.extend_from_slice(&meta.len().to_le_bytes());
            let mtime = meta
                .modified()
                .ok()
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .map_or(0, |d| d.as_nanos());
            bytes.extend_from_slice(&mtime.to_le_bytes());
        }
    };
    for info in infos {
        stamp(info, &mut bytes);
    }
    for s in sources {
        stamp(&s.path, &mut bytes);
        bytes.extend_from_slice(s.song.as_bytes());
        bytes.push(s.split.index());
        bytes.extend_from_slice(s.style.as_deref().unwrap_or("").as_bytes());
        bytes.push(u8::from(s.groove));
    }
    fnv1a(&bytes)
}

/// Appends the compact encoding of a pattern (exact for patterns on the MIDI grids).
pub fn encode_pattern(pattern: &DrumPattern) -> Vec<u8> {
    let mut out = Vec::with_capacity(4 * Voice::COUNT + 3 * pattern.total_hits());
    for voice in Voice::ALL {
        let row = pattern.row(voice);
        let mask = row
            .iter()
            .enumerate()
            .filter(|(_, c)| c.hit)
            .fold(0u32, |m, (i, _)| m | 1 << i);
        out.extend_from_slice(&mask.to_le_bytes());
        for cell in row.iter().filter(|c| c.hit) {
            out.push(velocity_to_midi(cell.velocity));
            out.extend_from_slice(&(offset_units(cell.offset) as i16).to_le_bytes());
        }
    }
    out
}

/// Appends the encoding of a bassline.
pub fn encode_bassline(line: &Bassline, out: &mut Vec<u8>) {
    for step in &line.steps {
        match *step {
            BassStep::Rest => out.push(0),
            BassStep::Hold => out.push(1),
            BassStep::Note { pitch, velocity } => {
                out.push(2);
                out.push(pitch as u8);
                out.push(velocity_to_midi(velocity));
            }
        }
    }
}

fn put_u32(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_le_bytes());
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    put_u32(out, s.len() as u32);
    out.extend_from_slice(s.as_bytes());
}

/// Encodes a corpus.
pub fn encode(key: u64, corpus: &Corpus) -> Vec<u8> {
    let mut sources: Vec<Arc<Source>> = Vec::new();
    let mut index_of = std::collections::HashMap::new();
    let all = corpus
        .windows
        .iter()
        .map(|w| &w.source)
        .chain(corpus.pairs.iter().map(|p| &p.source));
    for s in all {
        index_of.entry(Arc::as_ptr(s)).or_insert_with(|| {
            sources.push(Arc::clone(s));
            sources.len() as u32 - 1
        });
    }
    let index = |s: &Arc<Source>| index_of.get(&Arc::as_ptr(s)).copied().unwrap_or(0);
    let mut out = Vec::new();
    out.extend_from_slice(MAGIC);
    put_u32(&mut out, FORMAT_VERSION);
    out.extend_from_slice(&key.to_le_bytes());
    put_u32(&mut out, sources.len() as u32);
    for s in &sources {
        put_str(&mut out, &s.path.to_string_lossy());
        put_str(&mut out, &s.song);
        put_str(&mut out, s.style.as_deref().unwrap_or(""));
        out.push(s.split.index());
        out.push(u8::from(s.groove) | u8::from(s.style.is_some()) << 1);
    }
    put_u32(&mut out, corpus.windows.len() as u32);
    for w in &corpus.windows {
        put_u32(&mut out, index(&w.source));
        put_u32(&mut out, w.bar);
        out.extend_from_slice(&w.bpm.to_le_bytes());
        out.extend_from_slice(&encode_pattern(&w.pattern));
    }
    put_u32(&mut out, corpus.pairs.len() as u32);
    for p in &corpus.pairs {
        put_u32(&mut out, index(&p.source));
        put_u32(&mut out, p.bar);
        out.extend_from_slice(&p.bpm.to_le_bytes());
        out.extend_from_slice(&encode_pattern(&p.drums));
        encode_bassline(&p.bass, &mut out);
        out.push(p.tonic);
        out.push(p.key.pitch_class());
        out.push(u8::from(p.scale == Scale::Major));
    }
    let report = serde_json::to_string(&corpus.report).unwrap_or_default();
    put_str(&mut out, &report);
    out
}

/// A bounds-checked reader over the cache bytes.
struct Reader<'a> {
    bytes: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if n > self.bytes.len() {
            return None;
        }
        let (head, tail) = self.bytes.split_at(n);
        self.bytes = tail;
        Some(head)
    }

    fn u8(&mut self) -> Option<u8> {
        self.take(1).map(|b| b[0])
    }

    fn u32(&mut self) -> Option<u32> {
        self.take(4)?.try_into().ok().map(u32::from_le_bytes)
    }

    fn u64(&mut self) -> Option<u64> {
        self.take(8)?.try_into().ok().map(u64::from_le_bytes)
    }

    fn f32(&mut self) -> Option<f32> {
        self.take(4)?.try_into().ok().map(f32::from_le_bytes)
    }

    fn i16(&mut self) -> Option<i16> {
        self.take(2)?.try_into().ok().map(i16::from_le_bytes)
    }

    fn str(&mut self) -> Option<&'a str> {
        let n = self.u32()? as usize;
        std::str::from_utf8(self.take(n)?).ok()
    }

    /// A count, refused when the rest of the bytes could not hold that many items.
    fn count(&mut self, min_item_bytes: usize) -> Option<usize> {
        let n = self.u32()? as usize;
        (n.saturating_mul(min_item_bytes) <= self.bytes.len()).then_some(n)
    }

    fn pattern(&mut self) -> Option<DrumPattern> {
        let mut pattern = DrumPattern::new();
        for voice in Voice::ALL {
            let mask = self.u32()?;
            for step in (0..STEPS).filter(|s| mask & (1 << s) != 0) {
                let velocity = velocity_from_midi(self.u8()?);
                let offset = offset_from_units(i32::from(self.i16()?));
                pattern.set(
                    voice,
                    step,
                    DrumCell {
                        hit: true,
                        velocity,
                        offset,
                    },
                );
            }
        }
        Some(pattern)
    }

    fn bassline(&mut self) -> Option<Bassline> {
        let mut line = Bassline::default();
        for step in &mut line.steps {
            *step = match self.u8()? {
                0 => BassStep::Rest,
                1 => BassStep::Hold,
                2 => BassStep::Note {
                    pitch: self.u8()? as i8,
                    velocity: velocity_from_midi(self.u8()?),
                },
                _ => return None,
            };
        }
        Some(line)
    }

    fn source(&mut self, sources: &[Arc<Source>]) -> Option<Arc<Source>> {
        sources.get(self.u32()? as usize).cloned()
    }
}

/// Decodes a corpus whose content key is `key`; `None` for any mismatch or damage.
pub fn decode(bytes: &[u8], key: u64) -> Option<Corpus> {
    let mut r = Reader { bytes };
    if r.take(8)? != MAGIC || r.u32()? != FORMAT_VERSION || r.u64()? != key {
        return None;
    }
    let n = r.count(14)?;
    let mut sources = Vec::with_capacity(n);
    for _ in 0..n {
        let path = PathBuf::from(r.str()?);
        let song = r.str()?.to_string();
        let style = r.str()?.to_string();
        let split = Split::from_index(r.u8()?)?;
        let flags = r.u8()?;
        sources.push(Arc::new(Source {
            path,
            song,
            split,
            style: (flags & 2 != 0).then_some(style),
            groove: flags & 1 != 0,
        }));
    }
    let n = r.count(48)?;
    let mut windows = Vec::with_capacity(n);
    for _ in 0..n {
        let source = r.source(&sources)?;
        let bar = r.u32()?;
        let bpm = r.f32()?;
        windows.push(DrumWindow {
            pattern: r.pattern()?,
            source,
            bar,
            bpm,
        });
    }
    let n = r.count(83)?;
    let mut pairs = Vec::with_capacity(n);
    for _ in 0..n {
        let source = r.source(&sources)?;
        let bar = r.u32()?;
        let bpm = r.f32()?;
        let drums = r.pattern()?;
        let bass = r.bassline()?;
        let tonic = r.u8()?;
        let key = Key::new(i32::from(r.u8()?));
        let scale = if r.u8()? == 1 {
            Scale::Major
        } else {
            Scale::Minor
        };
        pairs.push(BassPair {
            drums,
            bass,
            tonic,
            key,
            scale,
            source,
            bar,
            bpm,
        });
    }
    let report: Report = serde_json::from_str(r.str()?).ok()?;
    r.bytes.is_empty().then_some(Corpus {
        windows,
        pairs,
        report,
    })
}

/// Reads the cache file, if it exists and matches `key`.
pub fn read(path: &Path, key: u64) -> Option<Corpus> {
    decode(&std::fs::read(path).ok()?, key)
}

/// Writes the cache file atomically, creating its folder.
pub fn write(path: &Path, key: u64, corpus: &Corpus) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    crate::files::write_atomic(path, &encode(key, corpus))
}
