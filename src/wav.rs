//! WAV encoding for renders and recordings: 32-bit float, with the header fields every
//! reader expects (an 18-byte `fmt ` chunk and a `fact` chunk, as the spec asks for
//! non-PCM data).

use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// Length of the header [`header`] writes.
pub const HEADER_LEN: usize = 58;

/// The header of a float WAV file holding `frames` frames.
pub fn header(frames: u32, channels: u16, sample_rate: u32) -> Vec<u8> {
    let block_align = channels * 4;
    let data_len = frames * u32::from(block_align);
    let mut out = Vec::with_capacity(HEADER_LEN);
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&(4 + 26 + 12 + 8 + data_len).to_le_bytes());
    out.extend_from_slice(b"WAVE");
    out.extend_from_slice(b"fmt ");
    out.extend_from_slice(&18u32.to_le_bytes());
    out.extend_from_slice(&3u16.to_le_bytes()); // WAVE_FORMAT_IEEE_FLOAT
    out.extend_from_slice(&channels.to_le_bytes());
    out.extend_from_slice(&sample_rate.to_le_bytes());
    out.extend_from_slice(&(sample_rate * u32::from(block_align)).to_le_bytes());
    out.extend_from_slice(&block_align.to_le_bytes());
    out.extend_from_slice(&32u16.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes()); // cbSize
    out.extend_from_slice(b"fact");
    out.extend_from_slice(&4u32.to_le_bytes());
    out.extend_from_slice(&frames.to_le_bytes());
    out.extend_from_slice(b"data");
    out.extend_from_slice(&data_len.to_le_bytes());
    out
}

/// Encodes interleaved float samples as a complete WAV file.
pub fn encode_f32(samples: &[f32], channels: u16, sample_rate: u32) -> Vec<u8> {
    let frames = samples.len() as u32 / u32::from(channels.max(1));
    let mut out = header(frames, channels, sample_rate);
    out.reserve(samples.len() * 4);
    for s in samples {
        out.extend_from_slice(&s.to_le_bytes());
    }
    out
}

/// A WAV file written as the audio comes, under its own name and readable at every moment:
/// the header is brought up to date after each write ([`WavStream::write`]), and only ever
/// counts samples already in the file, so a crash (`kill -9`, a power cut after the kernel
/// wrote back) leaves a WAV every reader opens. [`repair`] counts what a crash left behind.
///
/// Hand-written rather than `hound::WavWriter`: hound only fixes its header when finalised,
/// and cannot restore a file whose folder was deleted from its open descriptor.
pub struct WavStream {
    file: std::io::BufWriter<File>,
    target: PathBuf,
    channels: u16,
    frames: u64,
}

/// The header fields that count the data: RIFF length, `fact` frames, `data` length.
fn sizes(frames: u64, channels: u16) -> [(u64, u32); 3] {
    let frames = u32::try_from(frames).unwrap_or(u32::MAX);
    let data_len = frames.saturating_mul(4 * u32::from(channels));
    let riff_len = data_len.saturating_add(HEADER_LEN as u32 - 8);
    [(4, riff_len), (46, frames), (54, data_len)]
}

impl WavStream {
    /// Starts a stereo float WAV at `target`, which must not exist yet (a take is never
    /// written over another file).
    pub fn create(target: &Path, sample_rate: u32) -> std::io::Result<Self> {
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(target)?;
        let mut file = std::io::BufWriter::new(file);
        file.write_all(&header(0, 2, sample_rate))?;
        file.flush()?;
        Ok(WavStream {
            file,
            target: target.to_path_buf(),
            channels: 2,
            frames: 0,
        })
    }

    /// Appends interleaved stereo samples, then counts them in the header: the samples reach
    /// the file before the header says they are there.
    pub fn write(&mut self, samples: &[f32]) -> std::io::Result<()> {
        if samples.is_empty() {
            return Ok(());
        }
        for s in samples {
            self.file.write_all(&s.to_le_bytes())?;
        }
        self.file.flush()?;
        self.frames += (samples.len() / usize::from(self.channels)) as u64;
        self.write_sizes(self.frames)
    }

    fn write_sizes(&mut self, frames: u64) -> std::io::Result<()> {
        write_sizes(self.file.get_mut(), frames, self.channels)?;
        self.file.seek(SeekFrom::End(0))?;
        Ok(())
    }

    /// Frames written so far.
    pub fn frames(&self) -> u64 {
        self.frames
    }

    /// The file it writes.
    pub fn path(&self) -> &Path {
        &self.target
    }

    /// True while the file it writes is still at its name (its folder was not deleted, it
    /// was not moved away).
    pub fn in_place(&self) -> bool {
        crate::files::still_at(self.file.get_ref(), &self.target)
    }

    /// The file was taken from under its name (its folder deleted): writes it again at its
    /// name, folder included, from the open file, which still holds every sample. Returns
    /// the frames kept.
    pub fn restore(&mut self) -> std::io::Result<u64> {
        self.file.flush()?;
        if let Some(dir) = self.target.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        let mut fresh = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&self.target)?;
        let mut old = self.file.get_ref();
        old.seek(SeekFrom::Start(0))?;
        std::io::copy(&mut old, &mut fresh)?;
        fresh.sync_all()?;
        self.file = std::io::BufWriter::new(fresh);
        self.file.seek(SeekFrom::End(0))?;
        Ok(self.frames)
    }

    /// After a failed write (a full disk, say): keeps every whole frame that reached the
    /// file — cut to it, header fixed (neither needs room on the disk). Returns the name and
    /// the frames kept.
    pub fn salvage(self) -> std::io::Result<(PathBuf, u64)> {
        let mut file = match self.file.into_inner() {
            Ok(f) => f,
            // The buffered rest never reached the disk: let it go.
            Err(e) => e.into_parts().1.into_parts().0,
        };
        let frames = repair_open(&mut file, self.channels)?;
        file.sync_all()?;
        Ok((self.target, frames))
    }

    /// Brings the header up to date and syncs the file.
    pub fn finish(self) -> std::io::Result<PathBuf> {
        let mut file = self.file.into_inner().map_err(|e| e.into_error())?;
        write_sizes(&mut file, self.frames, self.channels)?;
        file.sync_all()?;
        Ok(self.target)
    }
}

/// Writes the header fields that count `frames` (the file's position moves).
fn write_sizes(file: &mut File, frames: u64, channels: u16) -> std::io::Result<()> {
    for (at, value) in sizes(frames, channels) {
        file.seek(SeekFrom::Start(at))?;
        file.write_all(&value.to_le_bytes())?;
    }
    Ok(())
}

/// Cuts an open stream file to its whole frames and counts them in its header.
fn repair_open(file: &mut File, channels: u16) -> std::io::Result<u64> {
    let frame_len = 4 * u64::from(channels);
    let on_disk = file.metadata()?.len();
    let frames = on_disk.saturating_sub(HEADER_LEN as u64) / frame_len;
    file.set_len(HEADER_LEN as u64 + frames * frame_len)?;
    write_sizes(file, frames, channels)?;
    Ok(frames)
}

/// Why [`repair`] left a file alone.
#[derive(Debug, thiserror::Error)]
pub enum RepairError {
    /// The file could not be read or written.
    #[error("{}: {source}", .path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        source: std::io::Error,
    },
    /// The file does not start with the header [`WavStream`] writes.
    #[error("{}: not a WAV file ubiq was recording", .0.display())]
    NotATake(PathBuf),
}

/// Makes the WAV a [`WavStream`] left behind (a crash mid-take) whole: cut to its whole
/// frames, header counting them. Returns its sample rate and frames.
pub fn repair(path: &Path) -> Result<(u32, u64), RepairError> {
    let io = |source| RepairError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
        .map_err(io)?;
    let mut head = [0u8; HEADER_LEN];
    file.read_exact(&mut head)
        .map_err(|_| RepairError::NotATake(path.to_path_buf()))?;
    let field = |at: usize| &head[at..at + 4];
    let channels = u16::from_le_bytes([head[22], head[23]]);
    let sample_rate = u32::from_le_bytes([head[24], head[25], head[26], head[27]]);
    let ours = field(0) == b"RIFF"
        && field(8) == b"WAVE"
        && field(12) == b"fmt "
        && head[20..22] == 3u16.to_le_bytes()
        && field(38) == b"fact"
        && field(50) == b"data"
        && (1..=8).contains(&channels)
        && sample_rate > 0;
    if !ours {
        return Err(RepairError::NotATake(path.to_path_buf()));
    }
    let frames = repair_open(&mut file, channels).map_err(io)?;
    file.sync_all().map_err(io)?;
    Ok((sample_rate, frames))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_salvaged_stream_keeps_its_whole_frames() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("take.wav");
        let mut w = WavStream::create(&target, 48_000).unwrap();
        w.write(&[0.25; 2 * 1000]).unwrap();
        let (path, frames) = w.salvage().unwrap();
        assert_eq!((path, frames), (target.clone(), 1000));
        let r = hound::WavReader::open(&target).unwrap();
        assert_eq!(r.duration(), 1000);
    }

    #[test]
    fn a_stream_is_a_whole_wav_after_every_write() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("take.wav");
        let mut w = WavStream::create(&target, 44_100).unwrap();
        for n in 1..=3u32 {
            w.write(&[0.5; 2 * 100]).unwrap();
            // Read while it is still open, as a crash would leave it.
            let r = hound::WavReader::open(&target).unwrap();
            assert_eq!((r.duration(), r.spec().sample_rate), (100 * n, 44_100));
        }
    }

    #[test]
    fn a_stream_never_writes_over_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("take.wav");
        std::fs::write(&target, b"someone else's").unwrap();
        assert!(WavStream::create(&target, 48_000).is_err());
        assert_eq!(std::fs::read(&target).unwrap(), b"someone else's");
    }

    #[test]
    fn repair_counts_what_a_crash_left() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("take.wav");
        let mut w = WavStream::create(&target, 48_000).unwrap();
        w.write(&[0.25; 2 * 500]).unwrap();
        drop(w);
        // Samples past the header's count and half a frame, as a kill mid-write leaves.
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(&target)
            .unwrap();
        f.write_all(&[0u8; 8 * 20 + 4]).unwrap();
        drop(f);
        assert_eq!(repair(&target).unwrap(), (48_000, 520));
        assert_eq!(hound::WavReader::open(&target).unwrap().duration(), 520);
        let other = dir.path().join("other.wav");
        std::fs::write(&other, &encode_f32(&[0.0; 4], 2, 48_000)[..20]).unwrap();
        assert!(matches!(repair(&other), Err(RepairError::NotATake(_))));
    }

    #[test]
    fn a_stream_whose_folder_was_deleted_is_restored() {
        let dir = tempfile::tempdir().unwrap();
        let folder = dir.path().join("takes");
        std::fs::create_dir(&folder).unwrap();
        let target = folder.join("take.wav");
        let mut w = WavStream::create(&target, 48_000).unwrap();
        w.write(&[0.25; 2 * 300]).unwrap();
        assert!(w.in_place());
        std::fs::remove_dir_all(&folder).unwrap();
        assert!(!w.in_place());
        assert_eq!(w.restore().unwrap(), 300);
        w.write(&[0.25; 2 * 100]).unwrap();
        w.finish().unwrap();
        assert_eq!(hound::WavReader::open(&target).unwrap().duration(), 400);
    }

    #[test]
    fn header_is_consistent() {
        let bytes = encode_f32(&[0.5, -0.5, 0.25, 0.0], 2, 48_000);
        assert_eq!(&bytes[0..4], b"RIFF");
        let riff_len = u32::from_le_bytes(bytes[4..8].try_into().unwrap()) as usize;
        assert_eq!(riff_len + 8, bytes.len());
        assert_eq!(&bytes[50..54], b"data");
        assert_eq!(f32::from_le_bytes(bytes[58..62].try_into().unwrap()), 0.5);
    }
}
