//! WAV encoding for renders and recordings: 32-bit float, with the header fields every
//! reader expects (an 18-byte `fmt ` chunk and a `fact` chunk, as the spec asks for
//! non-PCM data).

use std::io::{Seek, SeekFrom, Write};
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

/// A WAV file written as the audio comes: into a temporary file beside the target, renamed
/// over it only when finished, so a crash never leaves a torn recording under the real name.
pub struct WavStream {
    file: std::io::BufWriter<tempfile::NamedTempFile>,
    target: PathBuf,
    channels: u16,
    sample_rate: u32,
    frames: u64,
}

impl WavStream {
    /// Starts a stereo float WAV that will be saved as `target`.
    pub fn create(target: &Path, sample_rate: u32) -> std::io::Result<Self> {
        let dir = match target.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        let tmp = tempfile::NamedTempFile::new_in(dir)?;
        crate::files::readable(tmp.as_file())?;
        let mut file = std::io::BufWriter::new(tmp);
        file.write_all(&header(0, 2, sample_rate))?;
        Ok(WavStream {
            file,
            target: target.to_path_buf(),
            channels: 2,
            sample_rate,
            frames: 0,
        })
    }

    /// Appends interleaved stereo samples.
    pub fn write(&mut self, samples: &[f32]) -> std::io::Result<()> {
        for s in samples {
            self.file.write_all(&s.to_le_bytes())?;
        }
        self.frames += (samples.len() / 2) as u64;
        Ok(())
    }

    /// Frames written so far.
    pub fn frames(&self) -> u64 {
        self.frames
    }

    /// After a failed write (a full disk, say): keeps every whole frame that reached the
    /// file — cut to it, header fixed (neither needs room on the disk) — and moves the file to
    /// its name. Returns the name and the frames kept.
    pub fn salvage(self) -> std::io::Result<(PathBuf, u64)> {
        let mut tmp = match self.file.into_inner() {
            Ok(t) => t,
            // The buffered rest never reached the disk: let it go.
            Err(e) => e.into_parts().1.into_parts().0,
        };
        let header_len = header(0, self.channels, self.sample_rate).len() as u64;
        let frame_len = 4 * u64::from(self.channels);
        let on_disk = tmp.as_file().metadata()?.len();
        let frames = on_disk.saturating_sub(header_len) / frame_len;
        tmp.as_file().set_len(header_len + frames * frame_len)?;
        tmp.seek(SeekFrom::Start(0))?;
        let count = u32::try_from(frames).unwrap_or(u32::MAX);
        tmp.write_all(&header(count, self.channels, self.sample_rate))?;
        tmp.as_file().sync_all()?;
        tmp.persist(&self.target).map_err(|e| e.error)?;
        Ok((self.target, frames))
    }

    /// Fixes the header, syncs and moves the file to its name.
    pub fn finish(self) -> std::io::Result<PathBuf> {
        let frames = u32::try_from(self.frames).unwrap_or(u32::MAX);
        let mut tmp = self.file.into_inner().map_err(|e| e.into_error())?;
        tmp.seek(SeekFrom::Start(0))?;
        tmp.write_all(&header(frames, self.channels, self.sample_rate))?;
        tmp.as_file().sync_all()?;
        tmp.persist(&self.target).map_err(|e| e.error)?;
        Ok(self.target)
    }
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
    fn header_is_consistent() {
        let bytes = encode_f32(&[0.5, -0.5, 0.25, 0.0], 2, 48_000);
        assert_eq!(&bytes[0..4], b"RIFF");
        let riff_len = u32::from_le_bytes(bytes[4..8].try_into().unwrap()) as usize;
        assert_eq!(riff_len + 8, bytes.len());
        assert_eq!(&bytes[50..54], b"data");
        assert_eq!(f32::from_le_bytes(bytes[58..62].try_into().unwrap()), 0.5);
    }
}
