//! The deck's live input: a capture device (a turntable or line in; under JACK, ubiq's own
//! input ports) whose callback mixes its channels to mono and pushes them into a lock-free
//! ring that the audio thread's deck reads.

use cpal::traits::{DeviceTrait, HostTrait, StreamTrait};
use cpal::{SampleFormat, SizedSample, StreamConfig};
use rtrb::{Consumer, Producer, RingBuffer};

use super::output::OutputError;
use super::quiet::without_stderr;

/// Seconds of input the ring holds (more than any callback period).
const RING_SECONDS: f32 = 0.5;

/// A running input stream: keep it alive while playing.
pub struct DeckInput {
    _stream: cpal::Stream,
    /// Human-readable description.
    pub description: String,
}

/// Opens the capture device whose name contains `wanted` (`jack` or `""` for the JACK server's
/// inputs when it runs, else the system default) at `sample_rate`; returns the stream and the
/// ring the audio thread reads.
pub fn open(wanted: &str, sample_rate: u32) -> Result<(DeckInput, Consumer<f32>), OutputError> {
    let (device, host) = find(wanted)?;
    let err = |e: cpal::Error| OutputError::Stream {
        host: host.clone(),
        message: e.to_string(),
    };
    without_stderr(|| {
        let default = device.default_input_config().map_err(err)?;
        let mut config: StreamConfig = default.config();
        config.sample_rate = sample_rate;
        let (tx, rx) = RingBuffer::new((RING_SECONDS * sample_rate as f32) as usize);
        let stream = match default.sample_format() {
            SampleFormat::F32 => build::<f32>(&device, &config, tx),
            SampleFormat::I16 => build::<i16>(&device, &config, tx),
            SampleFormat::I32 => build::<i32>(&device, &config, tx),
            SampleFormat::U16 => build::<u16>(&device, &config, tx),
            other => {
                return Err(OutputError::Stream {
                    host: host.clone(),
                    message: format!("unsupported input sample format {other}"),
                });
            }
        }
        .map_err(err)?;
        stream.play().map_err(err)?;
        let description = format!(
            "{host}: {device} · {sample_rate} Hz · {} ch in",
            config.channels
        );
        Ok((
            DeckInput {
                _stream: stream,
                description,
            },
            rx,
        ))
    })
}

fn find(wanted: &str) -> Result<(cpal::Device, String), OutputError> {
    #[cfg(target_os = "linux")]
    if wanted.is_empty() || wanted.eq_ignore_ascii_case("jack") {
        let jack = without_stderr(|| cpal::platform::JackHost::new().ok()?.default_input_device());
        if let Some(d) = jack {
            return Ok((cpal::Device::from(d), "JACK".into()));
        }
    }
    let host = cpal::default_host();
    let name = host.id().name().to_string();
    let device = without_stderr(|| {
        if wanted.is_empty() {
            host.default_input_device()
        } else {
            host.input_devices().ok().and_then(|mut devices| {
                devices.find(|d| {
                    d.to_string()
                        .to_lowercase()
                        .contains(&wanted.to_lowercase())
                })
            })
        }
    });
    device.map(|d| (d, name.clone())).ok_or_else(|| {
        OutputError::NoDevice(if wanted.is_empty() {
            format!("{name}: no input device")
        } else {
            format!("{name}: no input device matches {wanted:?} (see `ubiq devices`)")
        })
    })
}

fn build<T>(
    device: &cpal::Device,
    config: &StreamConfig,
    mut ring: Producer<f32>,
) -> Result<cpal::Stream, cpal::Error>
where
    T: SizedSample,
    f32: cpal::FromSample<T>,
{
    let channels = usize::from(config.channels).max(1);
    device.build_input_stream(
        *config,
        move |data: &[T], _| {
            let frames = (data.len() / channels).min(ring.slots());
            if let Ok(mut chunk) = ring.write_chunk_uninit(frames) {
                let (a, b) = chunk.as_mut_slices();
                for (slot, frame) in a.iter_mut().chain(b.iter_mut()).zip(data.chunks(channels)) {
                    let sum: f32 = frame
                        .iter()
                        .map(|&s| cpal::Sample::to_sample::<f32>(s))
                        .sum();
                    slot.write(sum / channels as f32);
                }
                // SAFETY: every slot of the chunk was written just above (`frames` frames).
                unsafe { chunk.commit_all() };
            }
        },
        |_err| {},
        None,
    )
}
