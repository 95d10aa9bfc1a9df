//! Loop audio off the audio thread: decoding, mono mix-down, resampling, tempo detection,
//! whole-bar fitting and loudness normalisation.

use std::convert::Infallible;
use std::io::Cursor;
use std::path::Path;

use rodio::Source;
use thiserror::Error;

use super::LoopError;

/// Shortest usable loop, in seconds.
pub const MIN_SECONDS: f32 = 0.25;
/// Longest file `loops add` reads, in seconds.
pub const MAX_SECONDS: f32 = 120.0;
/// A file whose peak stays below this is silent.
pub const SILENCE_PEAK: f32 = 1.0e-4;
/// Loudness target of normalised loops: RMS in dBFS.
pub const TARGET_RMS_DB: f32 = -20.0;
/// Peak ceiling of normalised loops (linear, about −1 dBFS).
pub const PEAK_CEILING: f32 = 0.89;
/// Tempo range that tempo detection accepts, in BPM.
pub const TEMPO_RANGE: (f32, f32) = (70.0, 180.0);

/// Why audio cannot be a loop. The message is one line.
#[derive(Debug, Error)]
pub enum AudioError {
    /// Not a file of a loop format.
    #[error("not a loop file (expected .wav, .flac or .ogg)")]
    Extension,
    /// The decoder panicked on the file (a forged header).
    #[error("damaged audio (the decoder gave up on it)")]
    DecoderGaveUp,
    /// A sample rate no real file has.
    #[error("unsupported sample rate {0} Hz")]
    SampleRate(u32),
    /// More channels than [`MAX_CHANNELS`], or none.
    #[error("unsupported channel count {0} (1 to {max})", max = MAX_CHANNELS)]
    Channels(usize),
    /// The WAV header cannot be read.
    #[error("not a readable WAV file ({0})")]
    NotWav(hound::Error),
    /// The WAV samples cannot be read.
    #[error("truncated or damaged WAV data ({0})")]
    DamagedWav(hound::Error),
    /// Fewer WAV samples than the header declares.
    #[error("truncated WAV data ({read} of {declared} samples)")]
    TruncatedWav {
        /// Samples read.
        read: usize,
        /// Samples the header declares (at most what was wanted).
        declared: usize,
    },
    /// A FLAC metadata block that claims more bytes than the file holds.
    #[error("damaged FLAC metadata (a block longer than the file)")]
    ForgedFlac,
    /// Neither a FLAC nor an Ogg stream at the start.
    #[error("not a readable FLAC or Ogg Vorbis file (no fLaC or OggS at its start)")]
    NoStream,
    /// The FLAC or Ogg decoder refused the stream.
    #[error("not a readable FLAC or Ogg Vorbis file ({0})")]
    NotCompressed(rodio::decoder::DecoderError),
    /// Shorter than the least it may last (its length and that least, in seconds).
    #[error("too short ({seconds:.3} s; at least {min} s)")]
    TooShort {
        /// Its length.
        seconds: f32,
        /// The least it may last.
        min: f32,
    },
    /// Longer than the limit (given, in seconds).
    #[error("too long (over {0} s)")]
    TooLong(f32),
    /// Samples that are infinite or not a number.
    #[error("damaged audio (samples that are not numbers)")]
    NotNumbers,
    /// No sample above [`SILENCE_PEAK`].
    #[error("silent (no sample above −80 dBFS)")]
    Silent,
    /// Neither the name nor the length (in seconds) gives a tempo.
    #[error(
        "cannot tell the tempo ({0:.2} s is no whole number of bars at 70–180 BPM; put the tempo in the name, e.g. loop_120bpm.wav)"
    )]
    NoTempo(f32),
}

/// Mono audio at a sample rate.
#[derive(Debug, Clone, PartialEq)]
pub struct Mono {
    /// Samples, −1..1.
    pub samples: Vec<f32>,
    /// Sample rate in Hz.
    pub sample_rate: u32,
}

impl Mono {
    /// Length in seconds.
    pub fn seconds(&self) -> f32 {
        self.samples.len() as f32 / self.sample_rate.max(1) as f32
    }
}

/// The formats loops may use, by file extension.
pub const EXTENSIONS: [&str; 3] = ["wav", "flac", "ogg"];

/// Decodes a wav, flac or ogg (Vorbis) file to mono. Refuses, with a one-line message naming the
/// file, anything unreadable, of another format, truncated, shorter than [`MIN_SECONDS`],
/// longer than [`MAX_SECONDS`] or silent.
pub fn decode_file(path: &Path) -> Result<Mono, LoopError> {
    decode_file_within(path, MAX_SECONDS)
}

/// Longest record the deck takes, in seconds.
pub const RECORD_MAX_SECONDS: f32 = 900.0;
/// Most channels a file may have (7.1).
pub const MAX_CHANNELS: usize = 8;

/// Decodes a record for the deck: as [`decode_file`], up to [`RECORD_MAX_SECONDS`] long.
pub fn decode_record(path: &Path) -> Result<Mono, LoopError> {
    decode_file_within(path, RECORD_MAX_SECONDS)
}

fn decode_file_within(path: &Path, max_seconds: f32) -> Result<Mono, LoopError> {
    let shown = path.display().to_string();
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();
    if !EXTENSIONS.contains(&ext.as_str()) {
        return Err(LoopError::audio(shown, AudioError::Extension));
    }
    let bytes = std::fs::read(path).map_err(|e| LoopError::io(&shown, e))?;
    decode_bytes_within(&bytes, &ext, max_seconds).map_err(|e| LoopError::audio(shown, e))
}

/// Decodes in-memory file bytes of format `ext` (`wav`, `flac` or `ogg`) to mono; the error is
/// a one-line reason.
pub fn decode_bytes(bytes: &[u8], ext: &str) -> Result<Mono, AudioError> {
    decode_bytes_within(bytes, ext, MAX_SECONDS)
}

/// Shortest drum hit a kit takes, in seconds.
pub const HIT_MIN_SECONDS: f32 = 0.001;
/// Longest drum hit a kit takes, in seconds.
pub const HIT_MAX_SECONDS: f32 = 20.0;

/// Decodes a drum hit of format `ext` to mono: as [`decode_bytes`], from
/// [`HIT_MIN_SECONDS`] to [`HIT_MAX_SECONDS`] long.
pub fn decode_hit(bytes: &[u8], ext: &str) -> Result<Mono, AudioError> {
    decode_bytes_between(bytes, ext, HIT_MIN_SECONDS, HIT_MAX_SECONDS)
}

fn decode_bytes_within(bytes: &[u8], ext: &str, max_seconds: f32) -> Result<Mono, AudioError> {
    decode_bytes_between(bytes, ext, MIN_SECONDS, max_seconds)
}

fn decode_bytes_between(
    bytes: &[u8],
    ext: &str,
    min_seconds: f32,
    max_seconds: f32,
) -> Result<Mono, AudioError> {
    // By content, not by name: a WAV file named `.flac` still reads as a WAV file.
    let mono = if ext == "wav" || bytes.starts_with(b"RIFF") {
        decode_wav(bytes, max_seconds)?
    } else {
        // The decoders have panicked on forged headers (a sample rate of 0): such a file is
        // refused like any other damaged one.
        std::panic::catch_unwind(|| decode_compressed(bytes, max_seconds))
            .unwrap_or(Err(AudioError::DecoderGaveUp))?
    };
    check(&mono, min_seconds, max_seconds)?;
    Ok(mono)
}

/// The header's sample rate and channel count, refused before anything is decoded when no
/// real file has them (so a forged header cannot ask for a huge buffer).
fn check_format(sample_rate: u32, channels: usize) -> Result<(), AudioError> {
    if !(8_000..=192_000).contains(&sample_rate) {
        return Err(AudioError::SampleRate(sample_rate));
    }
    if !(1..=MAX_CHANNELS).contains(&channels) {
        return Err(AudioError::Channels(channels));
    }
    Ok(())
}

/// Up to `limit` samples of `samples`, grown as they come (a header's claimed length is not
/// trusted for the allocation).
fn take_samples<E>(
    samples: impl Iterator<Item = Result<f32, E>>,
    limit: usize,
) -> Result<Vec<f32>, E> {
    let mut out = Vec::new();
    for s in samples.take(limit) {
        out.push(s?);
    }
    Ok(out)
}

fn decode_wav(bytes: &[u8], max_seconds: f32) -> Result<Mono, AudioError> {
    let mut reader = hound::WavReader::new(Cursor::new(bytes)).map_err(AudioError::NotWav)?;
    let spec = reader.spec();
    let channels = usize::from(spec.channels.max(1));
    check_format(spec.sample_rate, channels)?;
    let declared = reader.len() as usize;
    let limit = (max_seconds * spec.sample_rate as f32) as usize * channels + 1;
    let interleaved: Vec<f32> = match spec.sample_format {
        hound::SampleFormat::Float => {
            take_samples(reader.samples::<f32>(), limit).map_err(AudioError::DamagedWav)?
        }
        hound::SampleFormat::Int => {
            let scale = 1.0 / (1u64 << (spec.bits_per_sample.clamp(1, 32) - 1)) as f32;
            take_samples(
                reader.samples::<i32>().map(|s| s.map(|v| v as f32 * scale)),
                limit,
            )
            .map_err(AudioError::DamagedWav)?
        }
    };
    let declared = declared.min(limit);
    if interleaved.len() < declared {
        return Err(AudioError::TruncatedWav {
            read: interleaved.len(),
            declared,
        });
    }
    Ok(Mono {
        samples: mix_down(&interleaved, channels),
        sample_rate: spec.sample_rate,
    })
}

/// Walks a FLAC stream's metadata blocks and refuses one that claims more bytes than it
/// holds, since the decoder allocates what the metadata claims (gigabytes for a forged file):
/// every block must fit in the file, and the fields inside a picture or a comment block in
/// that block.
fn check_flac_metadata(bytes: &[u8]) -> Result<(), AudioError> {
    let Some(mut rest) = bytes.strip_prefix(b"fLaC") else {
        return Ok(());
    };
    // A length-prefixed field at `at`: where the next field starts.
    let skip = |block: &[u8], at: usize, big_endian: bool| -> Option<usize> {
        let raw: [u8; 4] = block.get(at..at + 4)?.try_into().ok()?;
        let len = if big_endian {
            u32::from_be_bytes(raw)
        } else {
            u32::from_le_bytes(raw)
        } as usize;
        let end = at.checked_add(4)?.checked_add(len)?;
        (end <= block.len()).then_some(end)
    };
    loop {
        let [flags, a, b, c, ..] = *rest else {
            return Err(AudioError::ForgedFlac);
        };
        let len = usize::from(a) << 16 | usize::from(b) << 8 | usize::from(c);
        let block = rest.get(4..4 + len).ok_or(AudioError::ForgedFlac)?;
        let fits = match flags & 0x7f {
            // VORBIS_COMMENT: vendor string, count, that many strings (little-endian lengths).
            4 => skip(block, 0, false).and_then(|at| {
                let count = u32::from_le_bytes(block.get(at..at + 4)?.try_into().ok()?);
                (0..count).try_fold(at + 4, |at, _| skip(block, at, false))
            }),
            // PICTURE: type, MIME type, description, 16 bytes of geometry, data.
            6 => skip(block, 4, true)
                .and_then(|at| skip(block, at, true))
                .and_then(|at| skip(block, at + 16, true)),
            _ => Some(0),
        };
        if fits.is_none() {
            return Err(AudioError::ForgedFlac);
        }
        rest = &rest[4 + len..];
        if flags & 0x80 != 0 {
            return Ok(());
        }
    }
}

/// Where the FLAC or Ogg stream of a file starts: at its first byte, or after an ID3v2 tag
/// in front of a FLAC stream. Anything else is refused here rather than handed to a decoder
/// that would search it for something it can read.
fn compressed_stream(bytes: &[u8]) -> Result<&[u8], AudioError> {
    let mut at = 0;
    if let Some(tag) = bytes.strip_prefix(b"ID3")
        && let [_, _, _, a, b, c, d, ..] = *tag
    {
        // Ten header bytes, then a syncsafe size (7 bits a byte).
        at = 10
            + ((usize::from(a) << 21)
                | (usize::from(b) << 14)
                | (usize::from(c) << 7)
                | usize::from(d));
    }
    let stream = bytes.get(at..).unwrap_or_default();
    if stream.starts_with(b"fLaC") || (at == 0 && stream.starts_with(b"OggS")) {
        Ok(stream)
    } else {
        Err(AudioError::NoStream)
    }
}

fn decode_compressed(bytes: &[u8], max_seconds: f32) -> Result<Mono, AudioError> {
    let bytes = compressed_stream(bytes)?;
    check_flac_metadata(bytes)?;
    let decoder =
        rodio::Decoder::new(Cursor::new(bytes.to_vec())).map_err(AudioError::NotCompressed)?;
    let channels = usize::from(decoder.channels().get());
    let sample_rate = decoder.sample_rate().get();
    check_format(sample_rate, channels)?;
    let limit = (max_seconds * sample_rate as f32) as usize * channels + 1;
    let Ok(interleaved) = take_samples(decoder.map(Ok::<f32, Infallible>), limit);
    Ok(Mono {
        samples: mix_down(&interleaved, channels),
        sample_rate,
    })
}

fn check(mono: &Mono, min_seconds: f32, max_seconds: f32) -> Result<(), AudioError> {
    if mono.sample_rate < 8_000 || mono.sample_rate > 192_000 {
        return Err(AudioError::SampleRate(mono.sample_rate));
    }
    let seconds = mono.seconds();
    if seconds < min_seconds {
        return Err(AudioError::TooShort {
            seconds,
            min: min_seconds,
        });
    }
    if seconds > max_seconds {
        return Err(AudioError::TooLong(max_seconds));
    }
    if mono.samples.iter().any(|s| !s.is_finite()) {
        return Err(AudioError::NotNumbers);
    }
    if peak(&mono.samples) < SILENCE_PEAK {
        return Err(AudioError::Silent);
    }
    Ok(())
}

/// Averages interleaved channels into one.
pub fn mix_down(interleaved: &[f32], channels: usize) -> Vec<f32> {
    let channels = channels.max(1);
    interleaved
        .chunks_exact(channels)
        .map(|f| f.iter().sum::<f32>() / channels as f32)
        .collect()
}

/// Largest absolute sample.
pub fn peak(samples: &[f32]) -> f32 {
    samples.iter().fold(0.0f32, |m, s| m.max(s.abs()))
}

/// Root mean square.
pub fn rms(samples: &[f32]) -> f32 {
    if samples.is_empty() {
        return 0.0;
    }
    (samples.iter().map(|s| s * s).sum::<f32>() / samples.len() as f32).sqrt()
}

/// Resamples to exactly `frames` samples by linear interpolation over the whole signal
/// (used for sample-rate conversion; a cyclic loop wraps at its end).
pub fn resample_to(samples: &[f32], frames: usize, cyclic: bool) -> Vec<f32> {
    let n = samples.len();
    if n == 0 || frames == 0 {
        return vec![0.0; frames];
    }
    // Output i reads position i·n / frames, kept exactly as a whole part and a remainder.
    let (whole, part) = (n / frames, n % frames);
    let per_frame = 1.0 / frames as f64;
    // Past the last sample: the first (a cyclic loop) or the last again.
    let past_end = if cyclic { samples[0] } else { samples[n - 1] };
    let (mut i0, mut rem) = (0usize, 0usize);
    (0..frames)
        .map(|_| {
            let frac = (rem as f64 * per_frame) as f32;
            let a = samples[i0.min(n - 1)];
            let b = samples.get(i0 + 1).copied().unwrap_or(past_end);
            i0 += whole;
            rem += part;
            if rem >= frames {
                rem -= frames;
                i0 += 1;
            }
            a + (b - a) * frac
        })
        .collect()
}

/// Converts `mono` to `sample_rate` (linear interpolation, with a one-pole low-pass when
/// going down to tame aliasing).
pub fn resample(mono: &Mono, sample_rate: u32) -> Mono {
    if mono.sample_rate == sample_rate {
        return mono.clone();
    }
    let frames = (mono.samples.len() as f64 * f64::from(sample_rate) / f64::from(mono.sample_rate))
        .round() as usize;
    let source = if sample_rate < mono.sample_rate {
        low_pass(
            &mono.samples,
            0.45 * sample_rate as f32,
            mono.sample_rate as f32,
        )
    } else {
        mono.samples.clone()
    };
    Mono {
        samples: resample_to(&source, frames, false),
        sample_rate,
    }
}

/// Two cascaded one-pole low-pass filters at `cutoff_hz`.
pub fn low_pass(samples: &[f32], cutoff_hz: f32, sample_rate: f32) -> Vec<f32> {
    let a = (-std::f32::consts::TAU * cutoff_hz / sample_rate).exp();
    let (mut y1, mut y2) = (0.0f32, 0.0f32);
    samples
        .iter()
        .map(|&x| {
            y1 = (1.0 - a) * x + a * y1;
            y2 = (1.0 - a) * y1 + a * y2;
            y2
        })
        .collect()
}

/// Tempo written in a file name: a number followed by `bpm` (`groove_96bpm.wav`,
/// `pad 120 BPM.flac`), or else a lone number in the tempo range between separators
/// (`amen_136.ogg`).
pub fn tempo_from_name(name: &str) -> Option<f32> {
    let lower = name.to_ascii_lowercase();
    let stem = lower.rsplit_once('.').map_or(lower.as_str(), |(s, _)| s);
    let tokens: Vec<&str> = stem
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '.'))
        .filter(|t| !t.is_empty())
        .collect();
    let number = |t: &str| t.parse::<f32>().ok().filter(|v| v.is_finite());
    for (i, t) in tokens.iter().enumerate() {
        if let Some(n) = t.strip_suffix("bpm") {
            if let Some(v) = number(n) {
                return Some(v);
            }
            if n.is_empty()
                && let Some(v) = i.checked_sub(1).and_then(|j| number(tokens[j]))
            {
                return Some(v);
            }
        }
    }
    tokens
        .iter()
        .filter_map(|t| number(t))
        .find(|v| (TEMPO_RANGE.0..=TEMPO_RANGE.1).contains(v))
}

/// Tempo and bar count (4/4) that a loop of `seconds` most plausibly has: the whole number
/// of bars (1, 2, 4, 8 or 16) whose tempo falls in [`TEMPO_RANGE`] nearest 120 BPM.
pub fn tempo_from_duration(seconds: f32) -> Option<(f32, u32)> {
    [2u32, 1, 4, 8, 16]
        .into_iter()
        .map(|bars| (bars as f32 * 4.0 * 60.0 / seconds, bars))
        .filter(|(t, _)| (TEMPO_RANGE.0..=TEMPO_RANGE.1).contains(t))
        .min_by(|a, b| (a.0 - 120.0).abs().total_cmp(&(b.0 - 120.0).abs()))
}

/// Whole bars of 4/4 at `tempo_bpm` nearest the length of `seconds` (at least one).
pub fn bars_at(seconds: f32, tempo_bpm: f32) -> u32 {
    ((seconds * tempo_bpm / 240.0).round() as u32).max(1)
}

/// Frames of `bars` bars of 4/4 at `tempo_bpm`.
pub fn bar_frames(bars: u32, tempo_bpm: f32, sample_rate: u32) -> usize {
    (f64::from(bars) * 240.0 / f64::from(tempo_bpm) * f64::from(sample_rate)).round() as usize
}

/// Trims or zero-pads to exactly `frames` samples, with 5 ms fades at a cut end.
pub fn fit_length(samples: &[f32], frames: usize, sample_rate: u32) -> Vec<f32> {
    let mut out: Vec<f32> = samples.iter().copied().take(frames).collect();
    if samples.len() > frames {
        let fade = ((sample_rate as f32 * 0.005) as usize).min(out.len());
        let n = out.len();
        for i in 0..fade {
            out[n - 1 - i] *= i as f32 / fade as f32;
        }
    }
    out.resize(frames, 0.0);
    out
}

/// Scales to [`TARGET_RMS_DB`] without letting the peak pass [`PEAK_CEILING`].
pub fn normalise(samples: &mut [f32]) {
    let r = rms(samples);
    let p = peak(samples);
    if r <= 0.0 || p <= 0.0 {
        return;
    }
    let gain = (10f32.powf(TARGET_RMS_DB / 20.0) / r).min(PEAK_CEILING / p);
    for s in samples {
        *s *= gain;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Linear interpolation at the exact position i·n / frames, in f64.
    fn reference(samples: &[f32], frames: usize, cyclic: bool) -> Vec<f32> {
        let n = samples.len();
        (0..frames)
            .map(|i| {
                let x = i as f64 * n as f64 / frames as f64;
                let i0 = x.floor() as usize;
                let frac = (x - i0 as f64) as f32;
                let a = samples[i0];
                let b = match samples.get(i0 + 1) {
                    Some(b) => *b,
                    None if cyclic => samples[0],
                    None => samples[n - 1],
                };
                a + (b - a) * frac
            })
            .collect()
    }

    #[test]
    fn resampling_interpolates_at_exact_positions() {
        let samples: Vec<f32> = (0..1_000).map(|i| (i as f32 * 0.37).sin()).collect();
        for (n, frames) in [
            (1_000, 1_000),
            (999, 333),
            (1_000, 64),
            (7, 1_000),
            (1_000, 1_733),
        ] {
            for cyclic in [false, true] {
                let got = resample_to(&samples[..n], frames, cyclic);
                let want = reference(&samples[..n], frames, cyclic);
                assert_eq!(got.len(), frames);
                for (i, (g, w)) in got.iter().zip(&want).enumerate() {
                    assert!((g - w).abs() < 1e-6, "{n} → {frames} at {i}: {g} vs {w}");
                }
            }
        }
        assert_eq!(resample_to(&samples[..1_000], 1_000, false), samples);
        assert_eq!(resample_to(&[], 4, false), vec![0.0; 4]);
    }
}
