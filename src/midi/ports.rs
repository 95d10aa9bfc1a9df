//! MIDI ports: a JACK client with timestamped, sample-accurate ports when a JACK server runs,
//! else the ALSA sequencer through midir. Ports are chosen by a part of their name; a port that
//! vanishes and comes back is connected again.
//!
//! midir 0.11 builds either its ALSA or its JACK backend, and its JACK backend writes every
//! message at the start of the next period (up to a period late), so JACK goes through the
//! `jack` crate directly: messages carry a monotonic timestamp and the process callback places
//! each one at its exact frame.

use rtrb::{Consumer, Producer, RingBuffer};
use thiserror::Error;

/// One MIDI message of up to three bytes with the time it should sound (out) or arrived (in):
/// monotonic microseconds ([`super::clock::now_us`]), except out through a JACK client whose
/// audio runs on the same server, where it is a JACK frame ([`Ports::frame_offset`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Timed {
    /// Monotonic microseconds.
    pub at_us: u64,
    /// Message bytes (the first `len` are used).
    pub bytes: [u8; 3],
    /// Number of bytes, 1..=3.
    pub len: u8,
}

impl Timed {
    /// A message at a time.
    pub fn new(at_us: u64, bytes: &[u8]) -> Timed {
        let mut b = [0u8; 3];
        let len = bytes.len().min(3);
        b[..len].copy_from_slice(&bytes[..len]);
        Timed {
            at_us,
            bytes: b,
            len: len as u8,
        }
    }

    /// The message bytes.
    pub fn message(&self) -> &[u8] {
        &self.bytes[..usize::from(self.len)]
    }
}

/// Room for messages between the scheduler and a JACK period (a dense cycle is ~400).
const QUEUE: usize = 4_096;

/// Why MIDI could not be opened.
#[derive(Debug, Error)]
pub enum PortError {
    /// Neither a JACK server nor the ALSA sequencer.
    #[error(
        "MIDI off: no JACK server and no ALSA sequencer (/dev/snd/seq missing: load snd-seq or start JACK)"
    )]
    NoSystem,
    /// The JACK client could not register its ports.
    #[error("JACK MIDI: {0}")]
    Jack(String),
    /// The ALSA sequencer refused.
    #[error("ALSA MIDI: {0}")]
    Alsa(String),
}

/// What to open.
#[derive(Debug, Clone, Default)]
pub struct PortOptions {
    /// Part of the name of the port to send to (`None`: no MIDI out).
    pub out: Option<String>,
    /// Part of the name of the port to listen to (`None`: no MIDI in).
    pub input: Option<String>,
    /// The audio graph's published state when it plays through JACK: MIDI out then runs on
    /// JACK's frame clock, exactly in step with the audio.
    pub jack_audio: Option<std::sync::Arc<crate::audio::link::Shared>>,
}

fn matches(name: &str, wanted: &str) -> bool {
    name.to_lowercase().contains(&wanted.to_lowercase())
}

/// Open MIDI ports of one system.
pub enum Ports {
    /// A JACK client.
    #[cfg(target_os = "linux")]
    Jack(jack_backend::JackPorts),
    /// The ALSA sequencer (or the platform's MIDI system) through midir.
    Midir(midir_backend::MidirPorts),
}

/// The receiving end of MIDI in: messages with their arrival time.
pub struct InQueue(pub(crate) Consumer<Timed>);

impl InQueue {
    /// The next message received, if any.
    pub fn pop(&mut self) -> Option<Timed> {
        self.0.pop().ok()
    }
}

impl Ports {
    /// Opens ports: JACK when a server runs, else the ALSA sequencer. Returns the in-queue
    /// when `input` was asked for.
    pub fn open(opts: &PortOptions) -> Result<(Ports, Option<InQueue>), PortError> {
        #[cfg(target_os = "linux")]
        if let Some(r) = jack_backend::JackPorts::open(opts) {
            return r.map(|(p, q)| (Ports::Jack(p), q));
        }
        midir_backend::MidirPorts::open(opts).map(|(p, q)| (Ports::Midir(p), q))
    }

    /// Whether messages may be handed over as soon as they are made (JACK places each one at
    /// its time itself); otherwise each is sent when due (midir).
    pub fn places_itself(&self) -> bool {
        match self {
            #[cfg(target_os = "linux")]
            Ports::Jack(_) => true,
            Ports::Midir(_) => false,
        }
    }

    /// When out messages are stamped in JACK frames: the JACK frame minus the audio frame of
    /// the same instant (`None` while unknown, or when times are microseconds).
    pub fn frame_offset(&self) -> Option<i64> {
        match self {
            #[cfg(target_os = "linux")]
            Ports::Jack(j) => j.frame_offset(),
            Ports::Midir(_) => None,
        }
    }

    /// Whether out will run on JACK frames but the offset is still being measured.
    pub fn offset_pending(&self) -> bool {
        match self {
            #[cfg(target_os = "linux")]
            Ports::Jack(j) => j.offset.is_some() && j.frame_offset().is_none(),
            Ports::Midir(_) => false,
        }
    }

    /// The next JACK period's first frame, when out runs on JACK frames.
    pub fn jack_now(&self) -> Option<u64> {
        match self {
            #[cfg(target_os = "linux")]
            Ports::Jack(j) => j.frame_offset().map(|_| j.now_frames()),
            Ports::Midir(_) => None,
        }
    }

    /// Whether an out port was asked for.
    pub fn has_out(&self) -> bool {
        match self {
            #[cfg(target_os = "linux")]
            Ports::Jack(j) => j.tx.is_some(),
            Ports::Midir(m) => m.wanted_out.is_some(),
        }
    }

    /// Sends (JACK: queues for its exact frame). False when the message was dropped.
    pub fn send(&mut self, msg: Timed) -> bool {
        match self {
            #[cfg(target_os = "linux")]
            Ports::Jack(j) => j.send(msg),
            Ports::Midir(m) => m.send(msg),
        }
    }

    /// Connects ports that (re)appeared; call now and then.
    pub fn reconnect(&mut self) {
        match self {
            #[cfg(target_os = "linux")]
            Ports::Jack(j) => j.reconnect(),
            Ports::Midir(m) => m.reconnect(),
        }
    }

    /// One line: system, ports and connections.
    pub fn describe(&self) -> String {
        match self {
            #[cfg(target_os = "linux")]
            Ports::Jack(j) => j.describe(),
            Ports::Midir(m) => m.describe(),
        }
    }
}

/// One line per MIDI port this machine offers (for `ubiq devices`).
pub fn list() -> Vec<String> {
    let mut lines = Vec::new();
    #[cfg(target_os = "linux")]
    lines.extend(jack_backend::list());
    lines.extend(midir_backend::list());
    lines
}

#[cfg(target_os = "linux")]
mod jack_backend {
    use super::*;
    use crate::midi::clock::now_us;
    use jack::{AsyncClient, Client, ClientOptions, Control, MidiIn, MidiOut, Port, PortFlags};
    use std::sync::Arc;
    use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

    use crate::audio::link::Shared;

    /// No frame offset measured yet.
    const UNKNOWN: i64 = i64::MIN;

    const CLIENT: &str = "ubiq";
    const MIDI_TYPE: &str = "midi";

    struct Process {
        out: Option<(Port<MidiOut>, Consumer<Timed>)>,
        input: Option<(Port<MidiIn>, Producer<Timed>)>,
        /// Audio on this server: out times are JACK frames; the offset is measured here.
        audio: Option<(Arc<Shared>, Arc<AtomicI64>)>,
        /// The JACK frame at the end of the period last processed.
        frame_now: Arc<AtomicU64>,
        /// Periods the offset has been measured over, and the largest value seen.
        measured: u32,
        best: i64,
    }

    /// Periods the frame offset is measured over before MIDI out starts.
    const OFFSET_PERIODS: u32 = 8;

    impl jack::ProcessHandler for Process {
        /// Real-time: no allocation, lock or I/O.
        fn process(&mut self, client: &Client, ps: &jack::ProcessScope) -> Control {
            let n = ps.n_frames();
            if n == 0 {
                return Control::Continue;
            }
            // JACK's microseconds → ours (the same clock on Linux; this guards against not).
            let shift = now_us() as i64 - client.time() as i64;
            let (start, end) = match ps.cycle_times() {
                Ok(t) => (t.current_usecs as i64 + shift, t.next_usecs as i64 + shift),
                Err(_) => {
                    let now = now_us() as i64;
                    (
                        now,
                        now + i64::from(n) * 1_000_000 / i64::from(client.sample_rate()),
                    )
                }
            };
            let span = (end - start).max(1);
            let cycle_frame = i64::from(ps.last_frame_time());
            self.frame_now
                .store((cycle_frame + i64::from(n)) as u64, Ordering::Relaxed);
            if let Some((shared, offset)) = &self.audio {
                // The audio client renders frame A in the period starting at JACK frame J:
                // J − A, read before it ran this period (after, it reads one period less),
                // so the largest value over the first periods is the offset. It is then
                // kept: MIDI stays on one steady timeline.
                let frame = shared.frame() as i64;
                if frame > 0 && self.measured < OFFSET_PERIODS {
                    self.best = self.best.max(cycle_frame - frame);
                    self.measured += 1;
                    if self.measured == OFFSET_PERIODS {
                        offset.store(self.best, Ordering::Relaxed);
                    }
                }
            }
            let in_frames = self.audio.is_some();
            if let Some((port, queue)) = &mut self.out {
                let mut writer = port.writer(ps);
                let mut last = 0u32;
                while let Ok(msg) = queue.peek() {
                    let at = msg.at_us as i64;
                    let offset = if in_frames {
                        if at >= cycle_frame + i64::from(n) {
                            break;
                        }
                        (at - cycle_frame).clamp(0, i64::from(n) - 1) as u32
                    } else {
                        if at >= end {
                            break;
                        }
                        ((at - start).max(0) * i64::from(n) / span).clamp(0, i64::from(n) - 1)
                            as u32
                    };
                    last = last.max(offset);
                    let _ = writer.write(&jack::RawMidi {
                        time: last,
                        bytes: msg.message(),
                    });
                    let _ = queue.pop();
                }
            }
            if let Some((port, queue)) = &mut self.input {
                for ev in port.iter(ps) {
                    if ev.bytes.is_empty() || ev.bytes.len() > 3 {
                        continue;
                    }
                    let at = start + i64::from(ev.time) * span / i64::from(n);
                    let _ = queue.push(Timed::new(at.max(0) as u64, ev.bytes));
                }
            }
            Control::Continue
        }
    }

    /// A JACK client with a `midi_out` and/or `midi_in` port.
    pub struct JackPorts {
        client: AsyncClient<(), Process>,
        pub(super) tx: Option<Producer<Timed>>,
        pub(super) offset: Option<Arc<AtomicI64>>,
        frame_now: Arc<AtomicU64>,
        out_name: Option<String>,
        in_name: Option<String>,
        wanted_out: Option<String>,
        wanted_in: Option<String>,
        connected: Vec<String>,
    }

    fn server() -> Option<Client> {
        crate::audio::quiet::without_stderr(|| {
            Client::new(CLIENT, ClientOptions::NO_START_SERVER)
                .ok()
                .map(|(c, _)| c)
        })
    }

    impl JackPorts {
        /// `None` when no JACK server runs.
        pub fn open(opts: &PortOptions) -> Option<Result<(JackPorts, Option<InQueue>), PortError>> {
            let client = server()?;
            Some(Self::with_client(client, opts))
        }

        fn with_client(
            client: Client,
            opts: &PortOptions,
        ) -> Result<(JackPorts, Option<InQueue>), PortError> {
            let err = |e: jack::Error| PortError::Jack(e.to_string());
            let offset = opts
                .jack_audio
                .as_ref()
                .map(|_| Arc::new(AtomicI64::new(UNKNOWN)));
            let frame_now = Arc::new(AtomicU64::new(0));
            let mut process = Process {
                out: None,
                input: None,
                frame_now: Arc::clone(&frame_now),
                measured: 0,
                best: UNKNOWN,
                audio: opts.jack_audio.clone().zip(offset.clone()),
            };
            let mut tx = None;
            let mut in_queue = None;
            let name = client.name().to_string();
            if opts.out.is_some() {
                let port = client
                    .register_port("midi_out", MidiOut::default())
                    .map_err(err)?;
                let (p, c) = RingBuffer::new(QUEUE);
                process.out = Some((port, c));
                tx = Some(p);
            }
            if opts.input.is_some() {
                let port = client
                    .register_port("midi_in", MidiIn::default())
                    .map_err(err)?;
                let (p, c) = RingBuffer::new(QUEUE);
                process.input = Some((port, p));
                in_queue = Some(InQueue(c));
            }
            let client = client.activate_async((), process).map_err(err)?;
            let mut ports = JackPorts {
                client,
                tx,
                offset,
                frame_now,
                out_name: opts.out.as_ref().map(|_| format!("{name}:midi_out")),
                in_name: opts.input.as_ref().map(|_| format!("{name}:midi_in")),
                wanted_out: opts.out.clone(),
                wanted_in: opts.input.clone(),
                connected: Vec::new(),
            };
            ports.reconnect();
            Ok((ports, in_queue))
        }

        pub fn frame_offset(&self) -> Option<i64> {
            let o = self.offset.as_ref()?.load(Ordering::Relaxed);
            (o != UNKNOWN).then_some(o)
        }

        /// The JACK frame the next period starts at (exact; up to one period behind the
        /// present).
        pub fn now_frames(&self) -> u64 {
            self.frame_now.load(Ordering::Relaxed)
        }

        pub fn send(&mut self, msg: Timed) -> bool {
            self.tx.as_mut().is_some_and(|tx| tx.push(msg).is_ok())
        }

        pub fn reconnect(&mut self) {
            let c = self.client.as_client();
            let mut connected = Vec::new();
            if let (Some(own), Some(wanted)) = (&self.out_name, &self.wanted_out) {
                for dest in c.ports(None, Some(MIDI_TYPE), PortFlags::IS_INPUT) {
                    if !matches(&dest, wanted) || Some(&dest) == self.in_name.as_ref() {
                        continue;
                    }
                    let linked = c
                        .port_by_name(own)
                        .is_some_and(|p| p.is_connected_to(&dest).unwrap_or(false));
                    if linked || c.connect_ports_by_name(own, &dest).is_ok() {
                        connected.push(format!("→ {dest}"));
                    }
                }
            }
            if let (Some(own), Some(wanted)) = (&self.in_name, &self.wanted_in) {
                for src in c.ports(None, Some(MIDI_TYPE), PortFlags::IS_OUTPUT) {
                    if !matches(&src, wanted) || Some(&src) == self.out_name.as_ref() {
                        continue;
                    }
                    let linked = c
                        .port_by_name(own)
                        .is_some_and(|p| p.is_connected_to(&src).unwrap_or(false));
                    if linked || c.connect_ports_by_name(&src, own).is_ok() {
                        connected.push(format!("← {src}"));
                    }
                }
            }
            self.connected = connected;
        }

        pub fn describe(&self) -> String {
            let mut s = format!("JACK {}", self.client.as_client().name());
            if self.connected.is_empty() {
                let wanted: Vec<String> = [&self.wanted_out, &self.wanted_in]
                    .into_iter()
                    .flatten()
                    .map(|w| format!("{w:?}"))
                    .collect();
                s.push_str(&format!(" (waiting for {})", wanted.join(", ")));
            } else {
                s.push(' ');
                s.push_str(&self.connected.join(" "));
            }
            s
        }
    }

    pub fn list() -> Vec<String> {
        let Some(c) = server() else {
            return vec!["JACK MIDI: no server running".into()];
        };
        let mut lines = Vec::new();
        for (flag, dir) in [
            (PortFlags::IS_INPUT, "out to"),
            (PortFlags::IS_OUTPUT, "in from"),
        ] {
            for p in c.ports(None, Some(MIDI_TYPE), flag) {
                lines.push(format!("JACK MIDI: {dir} {p}"));
            }
        }
        if lines.is_empty() {
            lines.push("JACK MIDI: server running, no MIDI ports".into());
        }
        lines
    }
}

mod midir_backend {
    use super::*;
    use crate::midi::clock::now_us;
    use midir::{MidiInput, MidiInputConnection, MidiOutput, MidiOutputConnection};

    const CLIENT: &str = "ubiq";

    /// midir's output and input, reopened when their port comes back.
    pub struct MidirPorts {
        out: Option<MidiOutputConnection>,
        out_port: Option<String>,
        input: Option<MidiInputConnection<()>>,
        in_port: Option<String>,
        in_tx: Option<std::sync::Arc<std::sync::Mutex<Producer<Timed>>>>,
        pub(super) wanted_out: Option<String>,
        wanted_in: Option<String>,
    }

    fn no_system(e: impl std::fmt::Display) -> PortError {
        let text = e.to_string();
        if std::path::Path::new("/dev/snd/seq").exists() {
            PortError::Alsa(text)
        } else {
            PortError::NoSystem
        }
    }

    impl MidirPorts {
        pub fn open(opts: &PortOptions) -> Result<(MidirPorts, Option<InQueue>), PortError> {
            // Probe once: without a sequencer both fail the same way.
            crate::audio::quiet::without_stderr(|| MidiOutput::new(CLIENT)).map_err(no_system)?;
            let mut in_queue = None;
            let mut in_tx = None;
            if opts.input.is_some() {
                let (p, c) = RingBuffer::new(QUEUE);
                in_tx = Some(std::sync::Arc::new(std::sync::Mutex::new(p)));
                in_queue = Some(InQueue(c));
            }
            let mut ports = MidirPorts {
                out: None,
                out_port: None,
                input: None,
                in_port: None,
                in_tx,
                wanted_out: opts.out.clone(),
                wanted_in: opts.input.clone(),
            };
            ports.reconnect();
            Ok((ports, in_queue))
        }

        pub fn send(&mut self, msg: Timed) -> bool {
            let Some(conn) = &mut self.out else {
                return false;
            };
            if conn.send(msg.message()).is_err() {
                self.out = None;
                self.out_port = None;
                return false;
            }
            true
        }

        pub fn reconnect(&mut self) {
            if let Some(wanted) = &self.wanted_out
                && let Ok(midi) = MidiOutput::new(CLIENT)
            {
                let found = midi.ports().into_iter().find_map(|p| {
                    midi.port_name(&p)
                        .ok()
                        .filter(|n| matches(n, wanted))
                        .map(|n| (p, n))
                });
                match found {
                    None => {
                        self.out = None;
                        self.out_port = None;
                    }
                    Some((port, name)) => {
                        if self.out_port.as_ref() != Some(&name)
                            && let Ok(conn) = midi.connect(&port, "ubiq out")
                        {
                            self.out = Some(conn);
                            self.out_port = Some(name);
                        }
                    }
                }
            }
            if let (Some(wanted), Some(tx)) = (&self.wanted_in, &self.in_tx)
                && let Ok(midi) = MidiInput::new(CLIENT)
            {
                let found = midi.ports().into_iter().find_map(|p| {
                    midi.port_name(&p)
                        .ok()
                        .filter(|n| matches(n, wanted))
                        .map(|n| (p, n))
                });
                match found {
                    None => {
                        self.input = None;
                        self.in_port = None;
                    }
                    Some((port, name)) => {
                        if self.in_port.as_ref() != Some(&name) {
                            let tx = std::sync::Arc::clone(tx);
                            let mut midi = midi;
                            midi.ignore(midir::Ignore::Sysex);
                            if let Ok(conn) = midi.connect(
                                &port,
                                "ubiq in",
                                move |_, bytes, _| {
                                    if let Ok(mut q) = tx.lock() {
                                        let _ = q.push(Timed::new(now_us(), bytes));
                                    }
                                },
                                (),
                            ) {
                                self.input = Some(conn);
                                self.in_port = Some(name);
                            }
                        }
                    }
                }
            }
        }

        pub fn describe(&self) -> String {
            let mut parts = vec!["ALSA".to_string()];
            match (&self.wanted_out, &self.out_port) {
                (Some(_), Some(p)) => parts.push(format!("→ {p}")),
                (Some(w), None) => parts.push(format!("→ waiting for {w:?}")),
                _ => {}
            }
            match (&self.wanted_in, &self.in_port) {
                (Some(_), Some(p)) => parts.push(format!("← {p}")),
                (Some(w), None) => parts.push(format!("← waiting for {w:?}")),
                _ => {}
            }
            parts.join(" ")
        }
    }

    pub fn list() -> Vec<String> {
        let out = crate::audio::quiet::without_stderr(|| MidiOutput::new(CLIENT));
        let Ok(out) = out else {
            return vec!["ALSA MIDI: no sequencer (/dev/snd/seq missing)".into()];
        };
        let mut lines: Vec<String> = out
            .ports()
            .iter()
            .filter_map(|p| out.port_name(p).ok())
            .map(|n| format!("ALSA MIDI: out to {n}"))
            .collect();
        if let Ok(inp) = MidiInput::new(CLIENT) {
            lines.extend(
                inp.ports()
                    .iter()
                    .filter_map(|p| inp.port_name(p).ok())
                    .map(|n| format!("ALSA MIDI: in from {n}")),
            );
        }
        if lines.is_empty() {
            lines.push("ALSA MIDI: no ports".into());
        }
        lines
    }
}
