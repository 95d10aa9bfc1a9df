//! Choosing and opening the audio output: a cpal device (JACK or ALSA on Linux), or the
//! silent clock when there is none. A device that dies mid-set (the JACK server stops, a
//! device is unplugged) hands the graph to the silent clock, so musical time runs on, and is
//! tried again until it is back ([`DeviceWatch`]).

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use cpal::traits::{DeviceTrait, HostTrait, StreamTrait};
use cpal::{FromSample, SampleFormat, SizedSample, StreamConfig};
use thiserror::Error;

use super::link::{AudioCore, AudioHandle, link};
use super::quiet::without_stderr;
use super::silent::SilentClock;
use super::slot::CoreSlot;

/// Largest host buffer rendered in one piece; bigger callbacks are split.
const SCRATCH_FRAMES: usize = 8_192;

/// How long after the engine's first plan (or a restart) the live transport starts: MIDI out
/// learns where a cycle starts from the audio's published position, so without this lead the
/// downbeat's messages race the next period and can land one period late.
const START_LEAD_S: f64 = 0.03;

/// A live graph at `rate`: starts [`START_LEAD_S`] after its first plan.
fn live_link(rate: u32, seed: u64) -> (AudioHandle, AudioCore) {
    let (handle, core) = link(rate, seed);
    let lead = (f64::from(rate) * START_LEAD_S).round() as u32;
    (handle, core.with_start_lead(lead))
}

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
    /// A real device, watched: when it dies the silent clock keeps time until it is back.
    Device {
        /// The watch over the device (stops it when dropped).
        watch: DeviceWatch,
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

    /// The device going away and coming back, as it happens (once; none for the silent
    /// clock, which has no device to lose).
    pub fn changes(&mut self) -> Option<Receiver<OutputChange>> {
        match self {
            Output::Device { watch, .. } => watch.changes.take(),
            Output::Silent { .. } => None,
        }
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

/// The output device went away or came back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OutputChange {
    /// The device died (a JACK server that stopped, a device unplugged): the silent clock
    /// keeps time from the frame where it stopped, and the device is tried again.
    Lost {
        /// What went away, in words.
        what: String,
    },
    /// A device is back and plays from here on.
    Back {
        /// The device in words.
        description: String,
    },
}

impl OutputChange {
    /// The one line the performer reads.
    pub fn message(&self) -> String {
        match self {
            OutputChange::Lost { what } => format!(
                "{what} went away — keeping time silently (cycles, MIDI and recording go on); \
                 reconnecting"
            ),
            OutputChange::Back { description } => {
                format!("audio is back: playing through {description}")
            }
        }
    }

    /// The output in words for displays, from this change on.
    pub fn output(&self) -> String {
        match self {
            OutputChange::Lost { .. } => "silent (reconnecting)".into(),
            OutputChange::Back { description } => description.clone(),
        }
    }
}

/// Opens the output the options ask for. A missing device is not an error: it falls back to
/// the silent clock and says why in [`Output::Silent::reason`].
pub fn open(opts: &OutputOptions) -> Result<(AudioHandle, Output), OutputError> {
    let silent = |reason: String| -> Result<(AudioHandle, Output), OutputError> {
        let rate = opts.sample_rate.unwrap_or(48_000);
        let (handle, core) = live_link(rate, opts.seed);
        let clock = SilentClock::start(core, rate, opts.buffer_frames)?;
        Ok((handle, Output::Silent { clock, reason }))
    };
    match opts.choice {
        AudioChoice::None => silent("--audio none".into()),
        // Asked for by name and missing: say so and keep time silently all the same.
        AudioChoice::Jack => {
            open_device(Host::Jack, opts).or_else(|e| silent(format!("no JACK output ({e})")))
        }
        AudioChoice::System => {
            open_device(Host::System, opts).or_else(|e| silent(format!("no audio device ({e})")))
        }
        AudioChoice::Auto => {
            let jack_err = match open_device(Host::Jack, opts) {
                Ok(out) => return Ok(out),
                Err(e) => e,
            };
            match open_device(Host::System, opts) {
                Ok(out) => Ok(out),
                Err(e) => silent(format!("no audio device ({e}; {jack_err})")),
            }
        }
    }
}

/// The audio system a device was found on (and is looked for again there when it dies).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Host {
    Jack,
    System,
}

impl Host {
    /// What goes away when its device dies.
    fn what(self) -> &'static str {
        match self {
            Host::Jack => "the JACK server",
            Host::System => "the audio device",
        }
    }
}

/// A device found and configured, ready to stream.
struct Found {
    device: cpal::Device,
    host: String,
    config: StreamConfig,
    format: SampleFormat,
}

impl Found {
    /// Looks for the device on `host` and configures it (at `rate`, when given).
    fn look(host: Host, opts: &OutputOptions, rate: Option<u32>) -> Result<Self, OutputError> {
        let (device, name) = match host {
            Host::Jack => find_jack()?,
            Host::System => find_system(opts)?,
        };
        let err = |e: cpal::Error| OutputError::Stream {
            host: name.clone(),
            message: e.to_string(),
        };
        let default = device.default_output_config().map_err(err)?;
        let format = default.sample_format();
        let mut config: StreamConfig = default.config();
        if let Some(rate) = rate {
            config.sample_rate = rate;
        }
        if name != "JACK" && opts.buffer_frames > 0 {
            config.buffer_size = cpal::BufferSize::Fixed(opts.buffer_frames);
        }
        Ok(Found {
            device,
            host: name,
            config,
            format,
        })
    }

    /// A stream rendering the core in `slot`, not yet playing; a dead device sets `lost`.
    fn stream(
        &self,
        slot: &Arc<CoreSlot>,
        lost: &Arc<AtomicBool>,
    ) -> Result<cpal::Stream, OutputError> {
        let (device, config) = (&self.device, &self.config);
        let (slot, lost) = (Arc::clone(slot), Arc::clone(lost));
        match self.format {
            SampleFormat::F32 => build::<f32>(device, config, slot, lost),
            SampleFormat::I16 => build::<i16>(device, config, slot, lost),
            SampleFormat::I32 => build::<i32>(device, config, slot, lost),
            SampleFormat::U16 => build::<u16>(device, config, slot, lost),
            SampleFormat::F64 => build::<f64>(device, config, slot, lost),
            other => {
                return Err(OutputError::Stream {
                    host: self.host.clone(),
                    message: format!("unsupported sample format {other}"),
                });
            }
        }
        .map_err(|e| self.error(e))
    }

    fn error(&self, e: cpal::Error) -> OutputError {
        OutputError::Stream {
            host: self.host.clone(),
            message: e.to_string(),
        }
    }

    /// The device in words.
    fn description(&self) -> String {
        let buffer = match self.config.buffer_size {
            cpal::BufferSize::Fixed(n) => format!("{n}"),
            cpal::BufferSize::Default => "default".into(),
        };
        let name = if self.host == "JACK" {
            format!("client cpal_client_{}_out", std::process::id())
        } else {
            self.device.to_string()
        };
        format!(
            "{}: {name} · {} Hz · {} ch · buffer {buffer}",
            self.host, self.config.sample_rate, self.config.channels
        )
    }
}

/// Opens a device on `host` and starts watching it.
fn open_device(host: Host, opts: &OutputOptions) -> Result<(AudioHandle, Output), OutputError> {
    without_stderr(|| {
        let found = Found::look(host, opts, opts.sample_rate)?;
        let rate = found.config.sample_rate;
        let (handle, core) = live_link(rate, opts.seed);
        let slot = CoreSlot::new(core);
        let lost = Arc::new(AtomicBool::new(false));
        let stream = found.stream(&slot, &lost)?;
        stream.play().map_err(|e| found.error(e))?;
        let description = found.description();
        let watched = Watched {
            host,
            opts: opts.clone(),
            rate,
            slot,
            lost,
        };
        let watch = DeviceWatch::start(watched, stream)?;
        Ok((handle, Output::Device { watch, description }))
    })
}

#[cfg(target_os = "linux")]
fn find_jack() -> Result<(cpal::Device, String), OutputError> {
    use cpal::platform::JackHost;
    // cpal names the JACK client `cpal_client_<pid>_out` and connects it to the system
    // playback ports.
    let device = JackHost::new()
        .ok()
        .and_then(|h| h.default_output_device())
        .map(cpal::Device::from)
        .ok_or_else(|| OutputError::NoDevice("JACK: no server running".into()))?;
    Ok((device, "JACK".into()))
}

#[cfg(not(target_os = "linux"))]
fn find_jack() -> Result<(cpal::Device, String), OutputError> {
    Err(OutputError::NoDevice("JACK is only built on Linux".into()))
}

fn find_system(opts: &OutputOptions) -> Result<(cpal::Device, String), OutputError> {
    let host = cpal::default_host();
    let name = host.id().name().to_string();
    let device = match &opts.device {
        Some(wanted) => host.output_devices().ok().and_then(|mut devices| {
            devices.find(|d| {
                d.to_string()
                    .to_lowercase()
                    .contains(&wanted.to_lowercase())
            })
        }),
        None => host.default_output_device(),
    }
    .ok_or_else(|| {
        OutputError::NoDevice(match &opts.device {
            Some(w) => format!("{name}: no output device matches {w:?} (see `ubiq devices`)"),
            None => format!("{name}: no output device"),
        })
    })?;
    Ok((device, name))
}

/// How often the watch looks at the device.
const WATCH_POLL: Duration = Duration::from_millis(50);
/// The first wait before the device is tried again; it doubles up to [`RETRY_MAX`].
const RETRY_FIRST: Duration = Duration::from_millis(500);
/// The longest wait between two tries.
const RETRY_MAX: Duration = Duration::from_secs(5);

/// A thread watching the device: when the device dies (its error callback only sets a flag)
/// it drops the stream, hands the core to the silent clock so that musical time runs on, and
/// tries the device again with backoff (0.5 s doubling to 5 s); when the device is back, the
/// core goes back to it. Stops when dropped.
pub struct DeviceWatch {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
    changes: Option<Receiver<OutputChange>>,
}

impl DeviceWatch {
    fn start(watched: Watched, stream: cpal::Stream) -> Result<Self, OutputError> {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let (tx, rx) = mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("ubiq-device-watch".into())
            .spawn(move || watch(&watched, stream, &flag, &tx))?;
        Ok(DeviceWatch {
            stop,
            thread: Some(thread),
            changes: Some(rx),
        })
    }
}

impl Drop for DeviceWatch {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// What drives the core now.
enum Driver {
    /// The device (its callback).
    Device(cpal::Stream),
    /// The silent clock (none only when its thread could not start: it is tried again with
    /// the device), while the device is tried again at `retry`.
    Silent {
        clock: Option<SilentClock>,
        retry: Instant,
        wait: Duration,
    },
}

/// The watch's loop (see [`DeviceWatch`]).
fn watch(w: &Watched, stream: cpal::Stream, stop: &AtomicBool, changes: &Sender<OutputChange>) {
    let mut driver = Driver::Device(stream);
    while !stop.load(Ordering::Relaxed) {
        std::thread::sleep(WATCH_POLL);
        driver = match driver {
            Driver::Device(stream) if w.lost.load(Ordering::Acquire) => {
                // A dead server may take its time to let go of the client: that happens
                // aside, while the silent clock already keeps time.
                let _ = std::thread::Builder::new()
                    .name("ubiq-dead-stream".into())
                    .spawn(move || drop(stream));
                let _ = changes.send(OutputChange::Lost {
                    what: w.host.what().into(),
                });
                Driver::Silent {
                    clock: w.silent_clock(),
                    retry: Instant::now() + RETRY_FIRST,
                    wait: RETRY_FIRST,
                }
            }
            Driver::Silent { clock, retry, wait } if Instant::now() >= retry => {
                w.reconnect(clock, wait, changes)
            }
            other => other,
        };
    }
}

/// What the watch looks after: the core's slot, the flag the device's error callback sets,
/// and how to open the device again.
struct Watched {
    host: Host,
    opts: OutputOptions,
    rate: u32,
    slot: Arc<CoreSlot>,
    lost: Arc<AtomicBool>,
}

impl Watched {
    /// The silent clock on the core (none when its thread cannot start).
    fn silent_clock(&self) -> Option<SilentClock> {
        SilentClock::drive(Arc::clone(&self.slot), self.rate, self.opts.buffer_frames).ok()
    }

    /// Tries the device again: back on it when it opens (the silent clock stops first, so
    /// that one driver renders at a time), else the silent clock goes on and the next try
    /// waits twice as long.
    fn reconnect(
        &self,
        clock: Option<SilentClock>,
        wait: Duration,
        changes: &Sender<OutputChange>,
    ) -> Driver {
        let built = without_stderr(|| {
            let found = Found::look(self.host, &self.opts, Some(self.rate))?;
            self.lost.store(false, Ordering::Release);
            let stream = found.stream(&self.slot, &self.lost)?;
            Ok::<_, OutputError>((found, stream))
        });
        let Ok((found, stream)) = built else {
            return self.later(clock, wait);
        };
        drop(clock);
        if without_stderr(|| stream.play()).is_err() {
            return self.later(None, wait);
        }
        let _ = changes.send(OutputChange::Back {
            description: found.description(),
        });
        Driver::Device(stream)
    }

    /// The silent clock keeps time (started again where it was stopped) until the next try,
    /// twice as far off as the last, at most [`RETRY_MAX`].
    fn later(&self, clock: Option<SilentClock>, wait: Duration) -> Driver {
        let wait = (wait * 2).min(RETRY_MAX);
        Driver::Silent {
            clock: clock.or_else(|| self.silent_clock()),
            retry: Instant::now() + wait,
            wait,
        }
    }
}

fn build<T>(
    device: &cpal::Device,
    config: &StreamConfig,
    slot: Arc<CoreSlot>,
    lost: Arc<AtomicBool>,
) -> Result<cpal::Stream, cpal::Error>
where
    T: SizedSample + FromSample<f32>,
{
    let channels = usize::from(config.channels).max(1);
    let rate = f64::from(config.sample_rate);
    let shared = Arc::clone(slot.shared());
    let errors = Arc::clone(&shared);
    let mut scratch = vec![0.0f32; SCRATCH_FRAMES * 2];
    device.build_output_stream(
        *config,
        move |data: &mut [T], _| {
            let began = Instant::now();
            let frames_total = data.len() / channels;
            for block in data.chunks_mut(SCRATCH_FRAMES * channels) {
                let frames = block.len() / channels;
                let stereo = &mut scratch[..frames * 2];
                slot.process(stereo);
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
        // Real-time rules here too (on ALSA this is the audio thread): a flag, a counter.
        move |err| {
            if device_died(err.kind()) {
                lost.store(true, Ordering::Release);
            } else {
                errors.count_xrun();
            }
        },
        None,
    )
}

/// Whether a stream error means the device is gone (the stream must be opened again), not a
/// passing underrun.
fn device_died(kind: cpal::ErrorKind) -> bool {
    matches!(
        kind,
        cpal::ErrorKind::DeviceNotAvailable
            | cpal::ErrorKind::HostUnavailable
            | cpal::ErrorKind::StreamInvalidated
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dead_device_is_told_from_an_underrun() {
        assert!(device_died(cpal::ErrorKind::DeviceNotAvailable));
        assert!(device_died(cpal::ErrorKind::StreamInvalidated));
        assert!(!device_died(cpal::ErrorKind::Xrun));
    }

    #[test]
    fn a_change_is_one_line_and_names_the_output() {
        let lost = OutputChange::Lost {
            what: Host::Jack.what().into(),
        };
        let back = OutputChange::Back {
            description: "JACK: client x".into(),
        };
        for change in [&lost, &back] {
            assert!(!change.message().contains('\n'), "{change:?}");
        }
        assert!(lost.message().starts_with("the JACK server went away"));
        assert_eq!(lost.output(), "silent (reconnecting)");
        assert_eq!(
            back.message(),
            "audio is back: playing through JACK: client x"
        );
        assert_eq!(back.output(), "JACK: client x");
    }
}
