//! WAV encoding for renders and recordings: 32-bit float, with the header fields every
//! reader expects (an 18-byte `fmt ` chunk and a `fact` chunk, as the spec asks for
//! non-PCM data).

/// Encodes interleaved float samples as a complete WAV file.
pub fn encode_f32(samples: &[f32], channels: u16, sample_rate: u32) -> Vec<u8> {
    let data_len = (samples.len() * 4) as u32;
    let frames = samples.len() as u32 / u32::from(channels.max(1));
    let block_align = channels * 4;
    let mut out = Vec::with_capacity(samples.len() * 4 + 58);
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
    for s in samples {
        out.extend_from_slice(&s.to_le_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

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
