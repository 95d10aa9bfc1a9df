//! Keys → command text. Every binding is a line of the command language (parsed by
//! [`crate::command::parse`]) or one of the few screen actions in [`UI_ACTIONS`].
//!
//! The defaults live in code ([`DEFAULTS`]); the user's `keymap.ron` is a patch over them:
//!
//! ```ron
//! {
//!     "F": "filter 0",       // bind a key
//!     "=": "nudge 2",        // rebind one
//!     "0": "",               // unbind one
//! }
//! ```
//!
//! Keys are written `q`, `H`, `{`, `space`, `tab`, `backtab`, `enter`, `esc`, `backspace`,
//! `left`, `up`, `pageup`, `home`, `f1` …, with `ctrl-`, `alt-` and `shift-` in front
//! (`ctrl-c`, `shift-left`). A file that cannot be read leaves the defaults as they are; a bad
//! entry is skipped. Either way the message tells what went wrong.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;
use std::str::FromStr;

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use thiserror::Error;

use crate::command::{Command, CommandError, parse, spec};

/// Why a key, a binding or a keymap file could not be used. The message is one line.
#[derive(Debug, Error)]
pub enum KeymapError {
    /// Text that names no key.
    #[error("{0:?} is not a key")]
    NotAKey(String),
    /// A key bound to text that is neither a screen action nor a command.
    #[error("{key}: {source}")]
    Binding {
        /// The key, as written in keymap files.
        key: String,
        /// Why the text is no command.
        source: Box<CommandError>,
    },
    /// The file is not a RON map of key to command.
    #[error("not a map of key to command: {0}")]
    NotAMap(ron::error::SpannedError),
    /// Some entries of a patch were bad (the good ones were applied).
    #[error("{}", join(.0))]
    Entries(Vec<KeymapError>),
    /// The file could not be read.
    #[error(transparent)]
    Read(#[from] crate::files::ReadError),
}

fn join(errors: &[KeymapError]) -> String {
    errors
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

/// A screen action (not an engine command).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UiAction {
    /// Open the `:` command line.
    Prompt,
    /// Show or hide the help overlay.
    Help,
    /// Focus the next panel.
    FocusNext,
    /// Focus the previous panel.
    FocusPrev,
}

/// The screen actions: name in keymaps, action, help.
pub const UI_ACTIONS: &[(&str, UiAction, &str)] = &[
    ("prompt", UiAction::Prompt, "open the command line"),
    ("help", UiAction::Help, "show keys and commands"),
    ("focus_next", UiAction::FocusNext, "focus the next panel"),
    (
        "focus_prev",
        UiAction::FocusPrev,
        "focus the previous panel",
    ),
];

/// The built-in bindings: key and command text.
pub const DEFAULTS: &[(&str, &str)] = &[
    ("?", "help"),
    (":", "prompt"),
    ("tab", "focus_next"),
    ("backtab", "focus_prev"),
    ("q", "quit"),
    ("ctrl-c", "quit"),
    ("+", "nudge 1"),
    ("=", "nudge 1"),
    ("-", "nudge -1"),
    ("shift-up", "nudge 5"),
    ("shift-down", "nudge -5"),
    ("1", "toggle drums"),
    ("2", "toggle bass"),
    ("3", "toggle music"),
    ("4", "toggle ambient"),
    ("5", "toggle voice"),
    ("6", "toggle rhythm"),
    ("7", "toggle deck"),
    ("0", "unsolo"),
    ("n", "loop music next"),
    ("f", "feedback toggle"),
    ("p", "deck toggle"),
    ("h", "move -0.1 0"),
    ("l", "move 0.1 0"),
    ("k", "move 0 0.1"),
    ("j", "move 0 -0.1"),
    ("left", "move -0.1 0"),
    ("right", "move 0.1 0"),
    ("up", "move 0 0.1"),
    ("down", "move 0 -0.1"),
    ("H", "move -0.5 0"),
    ("L", "move 0.5 0"),
    ("K", "move 0 0.5"),
    ("J", "move 0 -0.5"),
    ("shift-left", "move -0.5 0"),
    ("shift-right", "move 0.5 0"),
    ("space", "regen"),
    ("[", "push kick -0.25"),
    ("]", "push kick 0.25"),
    ("{", "push hats -0.25"),
    ("}", "push hats 0.25"),
];

/// A key with its modifiers, as keymap files write it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Key {
    /// The key.
    pub code: KeyCode,
    /// Ctrl / Alt / Shift (Shift only for keys without a character of their own).
    pub mods: KeyModifiers,
}

impl Key {
    /// A key with modifiers, normalised: characters carry their own shift (`H`, `{`).
    pub fn new(code: KeyCode, mods: KeyModifiers) -> Key {
        let mut mods = mods & (KeyModifiers::CONTROL | KeyModifiers::ALT | KeyModifiers::SHIFT);
        if matches!(code, KeyCode::Char(_) | KeyCode::BackTab) {
            mods.remove(KeyModifiers::SHIFT);
        }
        Key { code, mods }
    }
}

impl From<KeyEvent> for Key {
    fn from(e: KeyEvent) -> Key {
        Key::new(e.code, e.modifiers)
    }
}

const NAMED: &[(&str, KeyCode)] = &[
    ("space", KeyCode::Char(' ')),
    ("tab", KeyCode::Tab),
    ("backtab", KeyCode::BackTab),
    ("enter", KeyCode::Enter),
    ("esc", KeyCode::Esc),
    ("backspace", KeyCode::Backspace),
    ("delete", KeyCode::Delete),
    ("insert", KeyCode::Insert),
    ("left", KeyCode::Left),
    ("right", KeyCode::Right),
    ("up", KeyCode::Up),
    ("down", KeyCode::Down),
    ("home", KeyCode::Home),
    ("end", KeyCode::End),
    ("pageup", KeyCode::PageUp),
    ("pagedown", KeyCode::PageDown),
];

impl FromStr for Key {
    type Err = KeymapError;

    fn from_str(s: &str) -> Result<Key, KeymapError> {
        let mut mods = KeyModifiers::NONE;
        let mut rest = s;
        while let Some((prefix, tail)) = rest.split_once('-') {
            let m = match prefix {
                "ctrl" => KeyModifiers::CONTROL,
                "alt" => KeyModifiers::ALT,
                "shift" => KeyModifiers::SHIFT,
                _ => break,
            };
            if tail.is_empty() {
                break;
            }
            mods |= m;
            rest = tail;
        }
        let mut chars = rest.chars();
        let code = match (chars.next(), chars.next()) {
            (Some(c), None) => KeyCode::Char(c),
            _ => {
                if let Some((_, code)) = NAMED.iter().find(|(n, _)| *n == rest) {
                    *code
                } else if let Some(n) = rest.strip_prefix('f').and_then(|n| n.parse().ok())
                    && (1..=12).contains(&n)
                {
                    KeyCode::F(n)
                } else {
                    return Err(KeymapError::NotAKey(s.into()));
                }
            }
        };
        Ok(Key::new(code, mods))
    }
}

impl fmt::Display for Key {
    /// The keymap-file form, which [`FromStr`] reads back.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (m, name) in [
            (KeyModifiers::CONTROL, "ctrl-"),
            (KeyModifiers::ALT, "alt-"),
            (KeyModifiers::SHIFT, "shift-"),
        ] {
            if self.mods.contains(m) {
                f.write_str(name)?;
            }
        }
        if let Some((name, _)) = NAMED.iter().find(|(_, c)| *c == self.code) {
            return f.write_str(name);
        }
        match self.code {
            KeyCode::Char(c) => write!(f, "{c}"),
            KeyCode::F(n) => write!(f, "f{n}"),
            other => write!(f, "{other:?}"),
        }
    }
}

/// What a key does.
#[derive(Debug, Clone, PartialEq)]
#[allow(clippy::large_enum_variant)] // a few per keymap, built once
pub enum Action {
    /// A screen action.
    Ui(UiAction),
    /// An engine command.
    Command(Command),
}

/// One binding: the text as written and what it does.
#[derive(Debug, Clone, PartialEq)]
pub struct Binding {
    /// The command text (or screen action name).
    pub text: String,
    /// What it does.
    pub action: Action,
}

impl Binding {
    /// Reads a binding's text: a screen action name or a command line.
    pub fn parse(text: &str) -> Result<Binding, CommandError> {
        let text = text.trim();
        let action = match UI_ACTIONS.iter().find(|(n, _, _)| *n == text) {
            Some((_, a, _)) => Action::Ui(*a),
            None => Action::Command(parse(text)?),
        };
        Ok(Binding {
            text: text.to_string(),
            action,
        })
    }

    /// One line of help: the screen action's or the command's description.
    pub fn doc(&self) -> &'static str {
        match &self.action {
            Action::Ui(a) => UI_ACTIONS
                .iter()
                .find(|(_, x, _)| x == a)
                .map_or("", |(_, _, d)| d),
            Action::Command(_) => self
                .text
                .split_whitespace()
                .next()
                .and_then(spec::find)
                .map_or("", |c| c.doc),
        }
    }
}

/// Key bindings: the defaults with the user's patch applied.
#[derive(Debug, Clone, PartialEq)]
pub struct Keymap {
    bindings: BTreeMap<String, (Key, Binding)>,
}

impl Default for Keymap {
    fn default() -> Keymap {
        let mut map = Keymap {
            bindings: BTreeMap::new(),
        };
        for (key, text) in DEFAULTS {
            map.bind(key, text)
                .expect("the default bindings are valid (a test checks them)");
        }
        map
    }
}

impl Keymap {
    /// Binds (or with empty `text` unbinds) one key.
    pub fn bind(&mut self, key: &str, text: &str) -> Result<(), KeymapError> {
        let key: Key = key.parse()?;
        let name = key.to_string();
        if text.trim().is_empty() {
            self.bindings.remove(&name);
            return Ok(());
        }
        let binding = Binding::parse(text).map_err(|source| KeymapError::Binding {
            key: name.clone(),
            source: Box::new(source),
        })?;
        self.bindings.insert(name, (key, binding));
        Ok(())
    }

    /// Applies a RON patch (`{ "KEY": "COMMAND", … }`). Good entries are applied even when
    /// others are bad; the error lists the bad ones. A file that is not such a map changes
    /// nothing.
    pub fn patch(&mut self, text: &str) -> Result<(), KeymapError> {
        let entries: BTreeMap<String, String> =
            ron::from_str(text).map_err(KeymapError::NotAMap)?;
        let mut next = self.clone();
        let errors: Vec<KeymapError> = entries
            .iter()
            .filter_map(|(k, v)| next.bind(k, v).err())
            .collect();
        *self = next;
        if errors.is_empty() {
            Ok(())
        } else {
            Err(KeymapError::Entries(errors))
        }
    }

    /// The defaults patched by the file at `path` when it exists, and a message for the
    /// status line when it could not be used fully.
    pub fn load(path: Option<&Path>) -> (Keymap, Option<String>) {
        let mut map = Keymap::default();
        let Some(path) = path.filter(|p| p.exists()) else {
            return (map, None);
        };
        let result = crate::files::read_text_bounded(path, crate::files::SMALL_LIMIT)
            .map_err(KeymapError::from)
            .and_then(|text| map.patch(&text));
        let message = result
            .err()
            .map(|e| format!("keymap {}: {e}", path.display()));
        (map, message)
    }

    /// What a key does, if anything.
    pub fn lookup(&self, key: Key) -> Option<&Binding> {
        self.bindings.get(&key.to_string()).map(|(_, b)| b)
    }

    /// Every binding, ordered by key name.
    pub fn entries(&self) -> impl Iterator<Item = (Key, &Binding)> {
        self.bindings.values().map(|(k, b)| (*k, b))
    }

    /// The keys bound to a text (for hints: `? help`).
    pub fn keys_for(&self, text: &str) -> Vec<Key> {
        self.entries()
            .filter(|(_, b)| b.text == text)
            .map(|(k, _)| k)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audio::params::Track;

    fn key(s: &str) -> Key {
        s.parse().unwrap()
    }

    fn event(code: KeyCode, mods: KeyModifiers) -> Key {
        Key::from(KeyEvent::new(code, mods))
    }

    #[test]
    fn keys_read_and_print_back() {
        for s in [
            "q",
            "H",
            "{",
            "space",
            "tab",
            "backtab",
            "ctrl-c",
            "shift-left",
            "alt-x",
            "f5",
            "pageup",
            "-",
            "ctrl--",
        ] {
            assert_eq!(key(s).to_string(), s);
        }
        assert_eq!(key("shift-H"), key("H"));
        for bad in ["", "ctrl-", "hyper-x", "f13", "spacebar"] {
            assert!(bad.parse::<Key>().is_err(), "{bad}");
        }
    }

    #[test]
    fn terminal_events_match_written_keys() {
        assert_eq!(
            event(KeyCode::Char('{'), KeyModifiers::SHIFT),
            key("{"),
            "shift is part of the character"
        );
        assert_eq!(event(KeyCode::BackTab, KeyModifiers::SHIFT), key("backtab"));
        assert_eq!(event(KeyCode::Up, KeyModifiers::SHIFT), key("shift-up"));
        assert_eq!(
            event(KeyCode::Char('c'), KeyModifiers::CONTROL),
            key("ctrl-c")
        );
    }

    #[test]
    fn default_keys_map_to_commands() {
        let map = Keymap::default();
        let cmd = |k: &str| match map.lookup(key(k)).map(|b| &b.action) {
            Some(Action::Command(c)) => Some(c.clone()),
            _ => None,
        };
        assert_eq!(cmd("+"), Some(Command::Nudge(1.0)));
        assert_eq!(cmd("-"), Some(Command::Nudge(-1.0)));
        assert_eq!(cmd("1"), Some(Command::Toggle(Track::Drums)));
        assert_eq!(cmd("2"), Some(Command::Toggle(Track::Bass)));
        assert_eq!(cmd("q"), Some(Command::Quit));
        assert_eq!(
            map.lookup(key(":")).map(|b| &b.action),
            Some(&Action::Ui(UiAction::Prompt))
        );
        assert_eq!(
            map.lookup(key("tab")).map(|b| &b.action),
            Some(&Action::Ui(UiAction::FocusNext))
        );
        assert!(map.lookup(key("x")).is_none());
        assert_eq!(map.entries().count(), DEFAULTS.len());
    }

    #[test]
    fn screen_actions_do_not_shadow_commands() {
        for (name, _, doc) in UI_ACTIONS {
            assert!(spec::find(name).is_none(), "{name} is also a command");
            assert!(!doc.is_empty());
        }
    }

    #[test]
    fn a_patch_binds_rebinds_and_unbinds() {
        let mut map = Keymap::default();
        map.patch(r#"{ "F": "filter 0", "+": "nudge 2", "0": "" }"#)
            .unwrap();
        assert_eq!(
            map.lookup(key("F")).map(|b| &b.action),
            Some(&Action::Command(Command::Filter(0.0)))
        );
        assert_eq!(
            map.lookup(key("+")).map(|b| b.text.as_str()),
            Some("nudge 2")
        );
        assert!(map.lookup(key("0")).is_none());
        assert_eq!(
            map.lookup(key("1")).map(|b| b.doc()),
            Some(spec::find("toggle").unwrap().doc)
        );
    }

    #[test]
    fn bad_entries_are_skipped_and_named() {
        let mut map = Keymap::default();
        let err = map
            .patch(r#"{ "x": "tempo 999", "hyper-y": "quit", "z": "unsolo" }"#)
            .unwrap_err()
            .to_string();
        assert!(err.contains("x: tempo: BPM \"999\""), "{err}");
        assert!(err.contains("\"hyper-y\" is not a key"), "{err}");
        assert!(map.lookup(key("z")).is_some(), "good entries still apply");
        assert!(map.lookup(key("x")).is_none());
    }

    #[test]
    fn a_broken_file_keeps_the_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("keymap.ron");
        std::fs::write(&file, "{ \"q\": ").unwrap();
        let (map, msg) = Keymap::load(Some(&file));
        assert_eq!(map, Keymap::default());
        let msg = msg.unwrap();
        assert!(
            msg.contains("keymap.ron") && msg.contains("not a map"),
            "{msg}"
        );
        let (map, msg) = Keymap::load(Some(&dir.path().join("absent.ron")));
        assert_eq!((map, msg), (Keymap::default(), None));
    }
}
