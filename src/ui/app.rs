//! The screen's state and what keys do: keys become command text through the keymap, text
//! becomes [`Command`]s through the command parser; the engine applies them. Drawing is in
//! [`super::layers`], from the latest snapshot only.

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::keymap::{Action, Key, Keymap, UiAction};
use super::prompt::{HISTORY, Prompt, PromptEvent};
use super::theme::Theme;
use crate::command::{Command, parse};
use crate::snapshot::Notice;

/// Lines one PageUp / PageDown scrolls the help.
const PAGE: u16 = 10;

/// The panels Tab moves between.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Focus {
    /// The drum grid and bassline.
    Grid,
    /// The latent pad and density sliders.
    Pad,
    /// The loop candidates.
    Loops,
    /// The mixer.
    Mixer,
}

impl Focus {
    /// Every panel in Tab order.
    pub const ALL: [Focus; 4] = [Focus::Grid, Focus::Pad, Focus::Loops, Focus::Mixer];

    /// The panel's title.
    pub fn title(self) -> &'static str {
        match self {
            Focus::Grid => "grid",
            Focus::Pad => "latent",
            Focus::Loops => "loops",
            Focus::Mixer => "mixer",
        }
    }

    fn step(self, by: isize) -> Focus {
        let n = Focus::ALL.len() as isize;
        let i = Focus::ALL.iter().position(|f| *f == self).unwrap_or(0) as isize;
        Focus::ALL[(i + by).rem_euclid(n) as usize]
    }
}

/// Everything the screen shows besides the snapshot.
pub struct App {
    /// Key bindings.
    pub keymap: Keymap,
    /// Styles.
    pub theme: Theme,
    /// The focused panel.
    pub focus: Focus,
    /// The command line, while open.
    pub prompt: Option<Prompt>,
    /// Lines run from the command line, oldest first.
    pub history: Vec<String>,
    /// The help overlay's scroll position, while open.
    pub help: Option<u16>,
    /// The "quit?" question is showing.
    pub confirm_quit: bool,
    /// The latest message (engine notices, command-line errors).
    pub status: Option<Notice>,
    /// Where the latent pad was last drawn, and the half side of the plane it shows (for
    /// clicks and drags on it).
    pub pad: std::cell::Cell<Option<(ratatui::layout::Rect, f32)>>,
    quit: bool,
}

impl App {
    /// A screen with a keymap and a theme; `message` (a keymap problem) shows as an error.
    pub fn new(keymap: Keymap, theme: Theme, message: Option<String>) -> App {
        App {
            keymap,
            theme,
            focus: Focus::Grid,
            prompt: None,
            history: Vec::new(),
            help: None,
            confirm_quit: false,
            pad: std::cell::Cell::new(None),
            status: message.map(|text| Notice { ok: false, text }),
            quit: false,
        }
    }

    /// True once the performer confirmed quitting.
    pub fn should_quit(&self) -> bool {
        self.quit
    }

    /// Shows a notice from the engine.
    pub fn notice(&mut self, notice: Notice) {
        self.status = Some(notice);
    }

    /// Handles one key press; returns the command to send to the engine, if any.
    /// A click or drag with the left button on the latent pad puts the AI there.
    pub fn handle_mouse(
        &mut self,
        mouse: ratatui::crossterm::event::MouseEvent,
    ) -> Option<Command> {
        use ratatui::crossterm::event::{MouseButton, MouseEventKind};
        if self.help.is_some() || self.confirm_quit {
            return None;
        }
        if !matches!(
            mouse.kind,
            MouseEventKind::Down(MouseButton::Left) | MouseEventKind::Drag(MouseButton::Left)
        ) {
            return None;
        }
        let (area, range) = self.pad.get()?;
        let inside = mouse.column >= area.x
            && mouse.column < area.x + area.width
            && mouse.row >= area.y
            && mouse.row < area.y + area.height;
        if !inside || area.width == 0 || area.height == 0 {
            return None;
        }
        let fx = (f32::from(mouse.column - area.x) + 0.5) / f32::from(area.width);
        let fy = (f32::from(mouse.row - area.y) + 0.5) / f32::from(area.height);
        let x = ((fx * 2.0 - 1.0) * range * 100.0).round() / 100.0;
        let y = ((1.0 - fy * 2.0) * range * 100.0).round() / 100.0;
        self.focus = Focus::Pad;
        Some(Command::Z(x.clamp(-3.0, 3.0), y.clamp(-3.0, 3.0)))
    }

    pub fn handle_key(&mut self, key: KeyEvent) -> Option<Command> {
        if self.confirm_quit {
            self.confirm_quit = false;
            let ctrl_c =
                key.code == KeyCode::Char('c') && key.modifiers.contains(KeyModifiers::CONTROL);
            if ctrl_c || matches!(key.code, KeyCode::Char('y' | 'Y' | 'q') | KeyCode::Enter) {
                self.quit = true;
            }
            return None;
        }
        if let Some(scroll) = self.help {
            self.help = match key.code {
                KeyCode::Esc | KeyCode::Char('?' | 'q') => None,
                KeyCode::Char('j') | KeyCode::Down => Some(scroll.saturating_add(1)),
                KeyCode::Char('k') | KeyCode::Up => Some(scroll.saturating_sub(1)),
                KeyCode::PageDown | KeyCode::Char(' ') => Some(scroll.saturating_add(PAGE)),
                KeyCode::PageUp => Some(scroll.saturating_sub(PAGE)),
                KeyCode::Home | KeyCode::Char('g') => Some(0),
                _ => Some(scroll),
            };
            return None;
        }
        if let Some(prompt) = &mut self.prompt {
            return match prompt.handle(key, &self.history) {
                PromptEvent::Editing => None,
                PromptEvent::Cancel => {
                    self.prompt = None;
                    None
                }
                PromptEvent::Submit(line) => {
                    self.prompt = None;
                    self.run_line(line)
                }
            };
        }
        let binding = self.keymap.lookup(Key::from(key))?;
        match binding.action.clone() {
            Action::Ui(UiAction::Prompt) => self.prompt = Some(Prompt::new()),
            Action::Ui(UiAction::Help) => self.help = Some(0),
            Action::Ui(UiAction::FocusNext) => self.focus = self.focus.step(1),
            Action::Ui(UiAction::FocusPrev) => self.focus = self.focus.step(-1),
            Action::Command(Command::Quit) => self.confirm_quit = true,
            Action::Command(cmd) => return Some(cmd),
        }
        None
    }

    fn run_line(&mut self, line: String) -> Option<Command> {
        if line.is_empty() {
            return None;
        }
        if self.history.last() != Some(&line) {
            self.history.push(line.clone());
            if self.history.len() > HISTORY {
                self.history.remove(0);
            }
        }
        match parse(&line) {
            Ok(Command::Quit) => {
                self.quit = true;
                None
            }
            Ok(cmd) => Some(cmd),
            Err(e) => {
                self.status = Some(Notice {
                    ok: false,
                    text: e.to_string(),
                });
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audio::params::Track;

    fn app() -> App {
        App::new(Keymap::default(), Theme::shipped("dark").unwrap(), None)
    }

    fn press(app: &mut App, keys: &str) -> Vec<Command> {
        keys.chars()
            .filter_map(|c| app.handle_key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)))
            .collect()
    }

    fn special(app: &mut App, code: KeyCode) -> Option<Command> {
        app.handle_key(KeyEvent::new(code, KeyModifiers::NONE))
    }

    #[test]
    fn keys_send_their_commands() {
        let mut a = app();
        assert_eq!(
            press(&mut a, "+-12x"),
            vec![
                Command::Nudge(1.0),
                Command::Nudge(-1.0),
                Command::Toggle(Track::Drums),
                Command::Toggle(Track::Bass),
            ]
        );
        assert_eq!(
            a.handle_key(KeyEvent::new(KeyCode::Up, KeyModifiers::SHIFT)),
            Some(Command::Nudge(5.0))
        );
    }

    #[test]
    fn the_command_line_runs_parsed_text() {
        let mut a = app();
        assert!(press(&mut a, ":tempo 128").is_empty());
        assert_eq!(a.prompt.as_ref().map(Prompt::text), Some("tempo 128"));
        assert_eq!(special(&mut a, KeyCode::Enter), Some(Command::Tempo(128.0)));
        assert!(a.prompt.is_none());
        assert_eq!(a.history, vec!["tempo 128"]);
        press(&mut a, ":tempo 999");
        assert_eq!(special(&mut a, KeyCode::Enter), None);
        let status = a.status.clone().unwrap();
        assert!(
            !status.ok && status.text.contains("out of range"),
            "{status:?}"
        );
        press(&mut a, ":");
        special(&mut a, KeyCode::Up);
        special(&mut a, KeyCode::Up);
        assert_eq!(special(&mut a, KeyCode::Enter), Some(Command::Tempo(128.0)));
        press(&mut a, ":mute");
        special(&mut a, KeyCode::Esc);
        assert!(a.prompt.is_none());
        assert!(
            press(&mut a, "1").len() == 1,
            "keys work again after the prompt closes"
        );
    }

    #[test]
    fn quitting_asks_first() {
        let mut a = app();
        press(&mut a, "q");
        assert!(a.confirm_quit && !a.should_quit());
        press(&mut a, "n");
        assert!(!a.confirm_quit && !a.should_quit());
        press(&mut a, "qy");
        assert!(a.should_quit());
        let mut a = app();
        press(&mut a, ":quit");
        special(&mut a, KeyCode::Enter);
        assert!(a.should_quit(), "typed quit needs no confirmation");
    }

    #[test]
    fn help_and_focus() {
        let mut a = app();
        press(&mut a, "?");
        assert_eq!(a.help, Some(0));
        assert!(press(&mut a, "jj1").is_empty(), "keys scroll the help");
        assert_eq!(a.help, Some(2));
        special(&mut a, KeyCode::Esc);
        assert_eq!(a.help, None);
        special(&mut a, KeyCode::Tab);
        assert_eq!(a.focus, Focus::Pad);
        a.handle_key(KeyEvent::new(KeyCode::BackTab, KeyModifiers::SHIFT));
        a.handle_key(KeyEvent::new(KeyCode::BackTab, KeyModifiers::SHIFT));
        assert_eq!(a.focus, Focus::Mixer);
    }

    #[test]
    fn a_user_keymap_changes_what_keys_send() {
        let mut map = Keymap::default();
        map.patch(r#"{ "x": "solo bass", "1": "" }"#).unwrap();
        let mut a = App::new(map, Theme::shipped("dark").unwrap(), None);
        assert_eq!(press(&mut a, "x1"), vec![Command::Solo(Track::Bass)]);
    }
}
