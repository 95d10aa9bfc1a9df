//! `ubiq devices`: the audio outputs and inputs and the MIDI ports this machine offers.

use std::process::ExitCode;

use cpal::traits::{DeviceTrait, HostTrait};

use crate::audio::quiet::without_stderr;
use crate::text::Shown;

/// Prints [`list`], one line per device.
pub fn run() -> anyhow::Result<ExitCode> {
    for line in list() {
        println!("{}", Shown(line));
    }
    Ok(ExitCode::SUCCESS)
}

/// One line per device, grouped by host, then the MIDI ports.
pub fn list() -> Vec<String> {
    let mut lines = audio();
    lines.extend(crate::midi::ports::list());
    lines
}

fn audio() -> Vec<String> {
    without_stderr(|| {
        let mut lines = Vec::new();
        #[cfg(target_os = "linux")]
        lines.push(jack_line());
        for id in cpal::available_hosts() {
            if id.name() == "JACK" {
                continue;
            }
            let Ok(host) = cpal::host_from_id(id) else {
                lines.push(format!("{}: not available", id.name()));
                continue;
            };
            let default = host.default_output_device().map(|d| d.to_string());
            let mut any = false;
            if let Ok(devices) = host.devices() {
                for d in devices {
                    let out = d.default_output_config().ok();
                    let inp = d.default_input_config().ok();
                    if out.is_none() && inp.is_none() {
                        continue;
                    }
                    any = true;
                    let name = d.to_string();
                    let mark = if default.as_deref() == Some(name.as_str()) {
                        "*"
                    } else {
                        " "
                    };
                    let dir = match (&out, &inp) {
                        (Some(_), Some(_)) => "in/out",
                        (Some(_), None) => "out",
                        _ => "in",
                    };
                    let cfg = out
                        .or(inp)
                        .map(|c| {
                            format!(
                                "{} Hz, {} ch, {}",
                                c.sample_rate(),
                                c.channels(),
                                c.sample_format()
                            )
                        })
                        .unwrap_or_default();
                    lines.push(format!("{}: {mark} {name} ({dir}; {cfg})", id.name()));
                }
            }
            if !any {
                lines.push(format!(
                    "{}: no usable audio device (no sound card?) — `ubiq play` runs silently, `ubiq render` writes WAV",
                    id.name()
                ));
            }
        }
        lines
    })
}

#[cfg(target_os = "linux")]
fn jack_line() -> String {
    use cpal::platform::JackHost;
    let device = JackHost::new().ok().and_then(|h| h.default_output_device());
    match device.and_then(|d| d.default_output_config().ok()) {
        Some(c) => format!(
            "JACK: * server running ({} Hz, {} ch out) — `ubiq play` uses it",
            c.sample_rate(),
            c.channels()
        ),
        None => "JACK: no server running".to_string(),
    }
}
