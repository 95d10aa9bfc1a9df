//! Progress on stderr for the long commands (training, evaluation, library builds): durations,
//! the epoch bar with its estimate, song counters and processor time.

use std::io::Write;
use std::time::Duration;

/// A duration as `1m05s`, or `4.2s` under a minute.
pub fn format_duration(d: Duration) -> String {
    let s = d.as_secs();
    if s >= 60 {
        format!("{}m{:02}s", s / 60, s % 60)
    } else {
        format!("{:.1}s", d.as_secs_f64())
    }
}

/// `epoch   3/60 [#...]`: the epoch counter and a 20-wide bar.
pub fn epoch_bar(epoch: usize, epochs: usize) -> String {
    const WIDTH: usize = 20;
    let filled = WIDTH * epoch / epochs.max(1);
    format!(
        "epoch {:>3}/{} [{}{}]",
        epoch,
        epochs,
        "#".repeat(filled),
        ".".repeat(WIDTH - filled),
    )
}

/// Time left at the pace so far, after `epoch` of `epochs` epochs took `elapsed`.
pub fn eta(elapsed: Duration, epoch: usize, epochs: usize) -> Duration {
    let per_epoch = elapsed.as_secs_f64() / epoch as f64;
    Duration::from_secs_f64(per_epoch * (epochs - epoch) as f64)
}

/// A progress callback printing `LABEL: done/total songs` over itself.
pub fn songs(label: &str) -> impl FnMut(usize, usize) {
    let label = label.to_string();
    move |done, total| {
        eprint!("\r{label}: {done}/{total} songs");
        if done == total {
            eprintln!();
        }
        let _ = std::io::stderr().flush();
    }
}

/// Processor time of this process so far (all threads), where the platform tells.
pub fn cpu_seconds() -> Option<f64> {
    #[cfg(unix)]
    {
        let mut ts = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: `ts` is a valid, writable timespec; the process CPU clock always exists.
        let rc = unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut ts) };
        (rc == 0).then_some(ts.tv_sec as f64 + ts.tv_nsec as f64 * 1.0e-9)
    }
    #[cfg(not(unix))]
    {
        None
    }
}
