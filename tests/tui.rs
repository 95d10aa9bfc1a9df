//! The full-screen interface end to end: `ubiq --audio none` in an 80×24 tmux pane, driven
//! by keys and read back with `capture-pane`, as a performer would see it.
//!
//! Needs `tmux` (`./ubiq.sh test` installs it); where it is absent the test says so and
//! passes without running.

use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

/// A tmux server of our own (its own socket), killed when dropped.
struct Tmux {
    socket: String,
}

impl Tmux {
    fn run(&self, args: &[&str]) -> Output {
        Command::new("tmux")
            .args(["-L", &self.socket])
            .args(args)
            .output()
            .expect("tmux runs")
    }

    fn screen(&self) -> String {
        String::from_utf8_lossy(&self.run(&["capture-pane", "-p", "-t", "ubiq"]).stdout)
            .into_owned()
    }

    fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", "ubiq"];
        args.extend_from_slice(keys);
        assert!(self.run(&args).status.success());
    }

    fn format(&self, fmt: &str) -> String {
        let out = self.run(&["display-message", "-p", "-t", "ubiq", fmt]);
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    /// Waits until the screen satisfies `ok`; panics with the screen after `timeout`.
    fn wait_for(&self, what: &str, timeout: Duration, ok: impl Fn(&str) -> bool) -> String {
        let start = Instant::now();
        loop {
            let s = self.screen();
            if ok(&s) {
                return s;
            }
            assert!(
                start.elapsed() < timeout,
                "timed out waiting for {what}; screen:\n{s}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.run(&["kill-server"]);
    }
}

fn tmux_available() -> bool {
    Command::new("tmux")
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success())
}

#[test]
fn plays_in_an_80x24_tmux_pane_takes_commands_and_restores_the_terminal() {
    if !tmux_available() {
        eprintln!("SKIPPED: tmux is not installed (./ubiq.sh test installs it)");
        return;
    }
    let config = tempfile::tempdir().unwrap();
    let tmux = Tmux {
        socket: format!("ubiq-test-{}", std::process::id()),
    };
    let bin = env!("CARGO_BIN_EXE_ubiq");
    // The shell stays after ubiq ends, so the restored terminal can be inspected.
    let cmd = format!(
        "env XDG_CONFIG_HOME={} NO_COLOR= TERM=xterm-256color {} --audio none; echo ubiq-exit=$?; \
         case \"$(stty -a)\" in *-icanon*) echo tty=raw;; *) echo tty=cooked;; esac; sleep 60",
        config.path().display(),
        bin
    );
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let started = tmux.run(&[
        "new-session",
        "-d",
        "-s",
        "ubiq",
        "-x",
        "80",
        "-y",
        "24",
        "-c",
        root.to_str().unwrap(),
        &cmd,
    ]);
    assert!(started.status.success(), "{started:?}");

    let long = Duration::from_secs(20);
    let parts = [
        "▶ ubiq",
        "grid",
        "latent",
        "z +0.00 +0.00",
        "loops",
        "music",
        "mixer",
        // The loudness meter; at 80 columns it leaves no room for the MIDI state after it.
        "LUFS TP",
    ];
    // Wait for a whole frame: a capture can catch the first draw half done.
    let s = tmux.wait_for("the interface", long, |s| {
        parts.iter().all(|p| s.contains(p))
    });
    for voice in ["BD", "SD", "CH", "BS"] {
        assert!(
            s.lines()
                .any(|l| l.contains(&format!(" {voice} ")) || l.contains(&format!("│{voice} "))),
            "{voice} row missing:\n{s}"
        );
    }
    assert_eq!(
        tmux.format("#{alternate_on}"),
        "1",
        "full screen while playing"
    );

    // The command line: a tempo change lands on the next cycle.
    tmux.keys(&[":", "tempo 128", "Enter"]);
    tmux.wait_for("the notice", long, |s| s.contains("✓ tempo 128"));
    tmux.wait_for("128 BPM", long, |s| s.contains("▶ ubiq · 128.0 BPM"));

    // The latent pad: l moves the point, ] asks for more kicks; both write the next cycle.
    // The default scene walks: stop it at the origin first.
    tmux.keys(&[":", "walk 0", "Enter"]);
    tmux.wait_for("the walk to stop", long, |s| s.contains("✓ walk 0"));
    tmux.keys(&[":", "z 0 0", "Enter"]);
    tmux.wait_for("the point at the origin", long, |s| {
        s.contains("✓ z 0 0") && s.contains("z +0.00 +0.00")
    });
    tmux.keys(&["l"]);
    tmux.wait_for("the point to move", long, |s| {
        s.contains("✓ move 0.1 0") && s.contains("z +0.10 +0.00")
    });
    tmux.keys(&["]", "]", "]", "]"]);
    tmux.wait_for("more kick", long, |s| {
        s.contains("✓ push kick 0.25") && s.contains("kick") && s.contains("+1.00")
    });

    // Keys are commands: 2 mutes the bass.
    tmux.keys(&["2"]);
    tmux.wait_for("bass muted", long, |s| {
        s.contains("✓ toggle bass") && s.lines().any(|l| l.contains("bass") && l.contains(" M"))
    });

    // A bad command is reported and changes nothing.
    tmux.keys(&[":", "tempo 999", "Enter"]);
    tmux.wait_for("the error", long, |s| {
        s.contains("✗ tempo: BPM \"999\" is out of range")
    });

    // Help lists keys and commands.
    tmux.keys(&["?"]);
    tmux.wait_for("help", long, |s| {
        s.contains("Keys (your keymap.ron") && s.contains("nudge")
    });
    tmux.keys(&["Escape"]);
    tmux.wait_for("help closed", long, |s| {
        !s.contains("Keys (your keymap.ron")
    });

    // Resizing keeps it drawing.
    tmux.run(&["resize-window", "-t", "ubiq", "-x", "150", "-y", "40"]);
    tmux.wait_for("the wide layout", long, |s| s.contains(" next cycle "));
    tmux.run(&["resize-window", "-t", "ubiq", "-x", "80", "-y", "24"]);
    tmux.wait_for("the compact layout", long, |s| s.contains(" grid · "));

    // q asks first; y quits and gives the terminal back.
    tmux.keys(&["q"]);
    tmux.wait_for("the question", long, |s| s.contains("Quit ubiq?"));
    tmux.keys(&["y"]);
    let s = tmux.wait_for("ubiq to quit", long, |s| s.contains("tty="));
    assert!(s.contains("tty=cooked"), "raw mode left:\n{s}");
    assert!(s.contains("ubiq-exit=0"), "{s}");
    assert!(
        !s.contains("latent"),
        "the screen is the shell's again:\n{s}"
    );
    assert_eq!(tmux.format("#{alternate_on}"), "0", "alternate screen left");
    assert_eq!(tmux.format("#{cursor_flag}"), "1", "cursor visible again");
}
