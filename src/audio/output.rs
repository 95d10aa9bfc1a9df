//! Choosing and opening the audio output: a cpal device (JACK or ALSA on Linux), or the
//! silent clock when there is none.

use std::fmt;
use std::time::Instant;

use cpal::traits::{DeviceTrait, HostTrait, StreamTrait};
use cpal::{FromSample, SampleFormat, SizedSample, StreamConfig};
use thiserror::Error;

use super::link::{AudioCore, AudioHandle, link};
use super::quiet::without_stderr;
use super::silent::SilentClock;

/// Largest host buffer rendered in one piece; bigger callbacks are split.
const SCRATCH_FRAMES: usize = 8_192;

/// Which audio system to play through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum AudioChoice {
    /// JACK if a JACK server runs, else the system default (ALSA), else silent.
    #[default]
    Auto,
    /// The JACK server (Linux).
    Jack,
    /// The system's default host (ALSA on Linux).
    System,
    /// No sound: keep time silently.
    None,
}

/// How to open the output.
#[derive(Debug, Clone, Default)]
pub struct OutputOptions {
    /// Which audio system.
    pub choice: AudioChoice,
    /// Part of the device name to pick (default device when absent).
    pub device: Option<String>,
    /// Frames per buffer (JACK uses the server's size).
    pub buffer_frames: u32,
    /// Sample rate to ask for (device default when absent).
    pub sample_rate: Option<u32>,
    /// Seed of the graph's noise sources.
    pub seed: u64,
}

/// Why no device could be opened.
#[derive(Debug, Error)]
pub enum OutputError {
    /// No device matched or the host offered none.
    #[error("{0}")]
    NoDevice(String),
    /// The device refused the stream.
    #[error("{host}: {message}")]
    Stream {
        /// Host name.
        host: String,
        /// What went wrong.
        message: String,
    },
    /// The silent clock's thread could not start.
    #[error("cannot start the silent clock: {0}")]
    Thread(#[from] std::io::Error),
}

/// A running output: keep it alive while playing.
pub enum Output {
    /// A real device.
    Device {
        /// The cpal stream (stops when dropped).
        stream: cpal::Stream,
        /// Human-readable description.
        description: String,
    },
    /// No device: the silent clock keeps time.
    Silent {
        /// The clock thread (stops when dropped).
        clock: SilentClock,
        /// Why it is silent.
        reason: String,
    },
}

impl Output {
    /// True when no sound reaches a device.
    pub fn is_silent(&self) -> bool {
        matches!(self, Output::Silent { .. })
    }
}

impl fmt::Display for Output {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Output::Device { description, .. } => f.write_str(description),
            Output::Silent { .. } => f.write_str("silent"),
        }
    }
}

/// Opens the output the options ask for. A missing device is not an error: it falls back to
/// the silent clock and says why in [`Output::Silent::reason`].
pub fn open(opts: &OutputOptions) -> Result<(AudioHandle, Output), OutputError> {
    let silent = |reason: String| -> Result<(AudioHandle, Output), OutputError> {
        let rate = opts.sample_rate.unwrap_or(48_000);
        let (handle, core) = link(rate, opts.seed);
        let clock = SilentClock::start(core, rate, opts.buffer_frames)?;
        Ok((handle, Output::Silent { clock, reason }))
    };
    match opts.choice {
        AudioChoice::None => silent("--audio none".into()),
        // Asked for by name and missing: say so and keep time silently all the same.
        AudioChoice::Jack => open_jack(opts).or_else(|e| silent(format!("no JACK output ({e})"))),
        AudioChoice::System => {
            open_system(opts).or_else(|e| silent(format!("no audio device ({e})")))
        }
        AudioChoice::Auto => {
            let jack_err = match open_jack(opts) {
                Ok(out) => return Ok(out),
                Err(e) => e,
            };
            match open_system(opts) {
                Ok(out) => Ok(out),
                Err(e) => silent(format!("no audio device ({e}; {jack_err})")),
            }
        }
    }
}

#[cfg(target_os = "linux")]
fn open_jack(opts: &OutputOptions) -> Result<(AudioHandle, Output), OutputError> {
    use cpal::platform::JackHost;
    let no_server = || OutputError::NoDevice("JACK: no server running".into());
    // cpal names the JACK client `cpal_client_<pid>_out` and connects it to the system
    // playback ports.
    let device = without_stderr(|| JackHost::new().ok()?.default_output_device())
        .map(cpal::Device::from)
        .ok_or_else(no_server)?;
    start_stream(&device, "JACK", opts)
}

#[cfg(not(target_os = "linux"))]
fn open_jack(_opts: &OutputOptions) -> Result<(AudioHandle, Output), OutputError> {
    Err(OutputError::NoDevice("JACK is only built on Linux".into()))
}

fn open_system(opts: &OutputOptions) -> Result<(AudioHandle, Output), OutputError> {
    let host = cpal::default_host();
    let name = host.id().name().to_string();
    let device = without_stderr(|| match &opts.device {
        Some(wanted) => host.output_devices().ok().and_then(|mut devices| {
            devices.find(|d| {
                d.to_string()
                    .to_lowercase()
                    .contains(&wanted.to_lowercase())
            })
        }),
        None => host.default_output_device(),
    })
    .ok_or_else(|| {
        OutputError::NoDevice(match &opts.device {
            Some(w) => format!("{name}: no output device matches {w:?} (see `ubiq devices`)"),
            None => format!("{name}: no output device"),
        })
    })?;
    start_stream(&device, &name, opts)
}

fn start_stream(
    device: &cpal::Device,
    host: &str,
    opts: &OutputOptions,
) -> Result<(AudioHandle, Output), OutputError> {
    let err = |e: cpal::Error| OutputError::Stream {
        host: host.to_string(),
        message: e.to_string(),
    };
    without_stderr(|| {
        let default = device.default_output_config().map_err(err)?;
        let format = default.sample_format();
        let mut config: StreamConfig = default.config();
        if let Some(rate) = opts.sample_rate {
            config.sample_rate = rate;
        }
        if host != "JACK" && opts.buffer_frames > 0 {
            config.buffer_size = cpal::BufferSize::Fixed(opts.buffer_frames);
        }
        let rate = config.sample_rate;
        let (handle, core) = link(rate, opts.seed);
        let stream = match format {
            SampleFormat::F32 => build::<f32>(device, &config, core),
            SampleFormat::I16 => build::<i16>(device, &config, core),
            SampleFormat::I32 => build::<i32>(device, &config, core),
            SampleFormat::U16 => build::<u16>(device, &config, core),
            SampleFormat::F64 => build::<f64>(device, &config, core),
            other => {
                return Err(OutputError::Stream {
                    host: host.to_string(),
                    message: format!("unsupported sample format {other}"),
                });
            }
        }
        .map_err(err)?;
        stream.play().map_err(err)?;
        let buffer = match config.buffer_size {
            cpal::BufferSize::Fixed(n) => format!("{n}"),
            cpal::BufferSize::Default => "default".into(),
        };
        let name = if host == "JACK" {
            format!("client cpal_client_{}_out", std::process::id())
        } else {
            device.to_string()
        };
        let description = format!(
            "{host}: {name} · {rate} Hz · {} ch · buffer {buffer}",
            config.channels
        );
        Ok((
            handle,
            Output::Device {
                stream,
                description,
            },
        ))
    })
}

fn build<T>(
    device: &cpal::Device,
    config: &StreamConfig,
    mut core: AudioCore,
) -> Result<cpal::Stream, cpal::Error>
where
    T: SizedSample + FromSample<f32>,
{
    let channels = usize::from(config.channels).max(1);
    let rate = f64::from(config.sample_rate);
    let shared = std::sync::Arc::clone(core.shared());
    let errors = std::sync::Arc::clone(&shared);
    let mut scratch = vec![0.0f32; SCRATCH_FRAMES * 2];
    device.build_output_stream(
        *config,
        move |data: &mut [T], _| {
            let began = Instant::now();
            let frames_total = data.len() / channels;
            for block in data.chunks_mut(SCRATCH_FRAMES * channels) {
                let frames = block.len() / channels;
                let stereo = &mut scratch[..frames * 2];
                core.process(stereo);
                for (out, lr) in block.chunks_exact_mut(channels).zip(stereo.chunks_exact(2)) {
                    if channels == 1 {
                        out[0] = T::from_sample((lr[0] + lr[1]) * 0.5);
                    } else {
                        out[0] = T::from_sample(lr[0]);
                        out[1] = T::from_sample(lr[1]);
                        for o in &mut out[2..] {
                            *o = T::from_sample(0.0f32);
                        }
                    }
                }
            }
            let period = frames_total as f64 / rate;
            if period > 0.0 {
                shared.store_load((began.elapsed().as_secs_f64() / period) as f32);
            }
        },
        move |_err| errors.count_xrun(),
        None,
    )
}
