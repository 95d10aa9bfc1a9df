//! Raw-mode handling that always gives the terminal back: on return, on error and on panic.

use std::io::IsTerminal;

use crossterm::terminal;

/// Raw mode for single-key input; restored when dropped and by a panic hook.
pub struct RawMode {
    active: bool,
}

impl RawMode {
    /// Enters raw mode when stdin and stdout are terminals; otherwise does nothing.
    pub fn enter() -> Self {
        if !(std::io::stdin().is_terminal() && std::io::stdout().is_terminal()) {
            return RawMode { active: false };
        }
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let _ = terminal::disable_raw_mode();
            previous(info);
        }));
        RawMode {
            active: terminal::enable_raw_mode().is_ok(),
        }
    }

    /// Whether keys arrive one by one.
    pub fn is_active(&self) -> bool {
        self.active
    }
}

impl Drop for RawMode {
    fn drop(&mut self) {
        if self.active {
            let _ = terminal::disable_raw_mode();
        }
    }
}
