//! The `:` command line: editing, history (↑ / ↓) and Tab completion from the command table.

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use crate::command::{complete, spec};

/// Lines kept in the history.
pub const HISTORY: usize = 200;

/// What a key did to the prompt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PromptEvent {
    /// Still editing.
    Editing,
    /// Closed without running anything.
    Cancel,
    /// Run this line.
    Submit(String),
}

/// The command line being edited.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Prompt {
    text: String,
    /// Byte index of the cursor (always on a char boundary).
    cursor: usize,
    /// Index into the history while browsing it.
    browsing: Option<usize>,
    /// What was typed before browsing started.
    draft: String,
    /// Completions offered for the current text.
    completions: Vec<String>,
    /// The completion shown while cycling with Tab.
    pick: Option<usize>,
}

fn common_prefix(words: &[String]) -> String {
    let Some(first) = words.first() else {
        return String::new();
    };
    let mut end = first.len();
    for w in &words[1..] {
        end = first
            .char_indices()
            .zip(w.chars())
            .take_while(|((_, a), b)| a == b)
            .last()
            .map_or(0, |((i, a), _)| i + a.len_utf8())
            .min(end);
    }
    first[..end].to_string()
}

impl Prompt {
    /// An empty prompt.
    pub fn new() -> Prompt {
        Prompt::default()
    }

    /// The text typed so far.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Completions on offer (shown above the prompt).
    pub fn completions(&self) -> &[String] {
        &self.completions
    }

    /// The cursor's column within the text.
    pub fn cursor_column(&self) -> u16 {
        self.text[..self.cursor].chars().count() as u16
    }

    fn set(&mut self, text: String) {
        self.cursor = text.len();
        self.text = text;
    }

    fn edited(&mut self) {
        self.completions.clear();
        self.pick = None;
        self.browsing = None;
    }

    fn prev_boundary(&self) -> usize {
        self.text[..self.cursor]
            .char_indices()
            .last()
            .map_or(0, |(i, _)| i)
    }

    fn next_boundary(&self) -> usize {
        self.text[self.cursor..]
            .chars()
            .next()
            .map_or(self.cursor, |c| self.cursor + c.len_utf8())
    }

    fn tab(&mut self, forward: bool) {
        if let Some(p) = self.pick {
            let n = self.completions.len();
            let p = if forward {
                (p + 1) % n
            } else {
                (p + n - 1) % n
            };
            self.pick = Some(p);
            self.set(self.completions[p].clone());
            return;
        }
        let found = complete(&self.text);
        match found.len() {
            0 => {}
            1 => {
                self.set(found[0].clone());
                self.completions.clear();
            }
            _ => {
                let prefix = common_prefix(&found);
                // A shared prefix that is a command of its own (`temp`, short for
                // `temperature`, shared by `tempo`) would read as that command: offer the
                // choices instead.
                let a_command = !prefix.contains(' ') && spec::find(&prefix).is_some();
                if prefix.len() > self.text.len() && !a_command {
                    self.set(prefix);
                } else {
                    self.pick = Some(0);
                    self.set(found[0].clone());
                }
                self.completions = found;
            }
        }
    }

    fn history(&mut self, history: &[String], older: bool) {
        if history.is_empty() {
            return;
        }
        let next = match (self.browsing, older) {
            (None, true) => {
                self.draft = self.text.clone();
                Some(history.len() - 1)
            }
            (None, false) => return,
            (Some(i), true) => Some(i.saturating_sub(1)),
            (Some(i), false) if i + 1 < history.len() => Some(i + 1),
            (Some(_), false) => None,
        };
        let text = match next {
            Some(i) => history[i].clone(),
            None => self.draft.clone(),
        };
        self.set(text);
        self.completions.clear();
        self.pick = None;
        self.browsing = next;
    }

    /// Handles one key; `history` is oldest first.
    pub fn handle(&mut self, key: KeyEvent, history: &[String]) -> PromptEvent {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        match key.code {
            KeyCode::Esc => return PromptEvent::Cancel,
            KeyCode::Char('c') if ctrl => return PromptEvent::Cancel,
            KeyCode::Enter => return PromptEvent::Submit(self.text.trim().to_string()),
            KeyCode::Tab => self.tab(true),
            KeyCode::BackTab => self.tab(false),
            KeyCode::Up => self.history(history, true),
            KeyCode::Down => self.history(history, false),
            KeyCode::Left => self.cursor = self.prev_boundary(),
            KeyCode::Right => self.cursor = self.next_boundary(),
            KeyCode::Home => self.cursor = 0,
            KeyCode::Char('a') if ctrl => self.cursor = 0,
            KeyCode::End => self.cursor = self.text.len(),
            KeyCode::Char('e') if ctrl => self.cursor = self.text.len(),
            KeyCode::Backspace => {
                if self.text.is_empty() {
                    return PromptEvent::Cancel;
                }
                let at = self.prev_boundary();
                self.text.replace_range(at..self.cursor, "");
                self.cursor = at;
                self.edited();
            }
            KeyCode::Delete => {
                let end = self.next_boundary();
                self.text.replace_range(self.cursor..end, "");
                self.edited();
            }
            KeyCode::Char('u') if ctrl => {
                self.text.replace_range(..self.cursor, "");
                self.cursor = 0;
                self.edited();
            }
            KeyCode::Char('w') if ctrl => {
                let head = self.text[..self.cursor].trim_end();
                let at = head.rfind(' ').map_or(0, |i| i + 1);
                self.text.replace_range(at..self.cursor, "");
                self.cursor = at;
                self.edited();
            }
            KeyCode::Char(c) if !ctrl => {
                self.text.insert(self.cursor, c);
                self.cursor += c.len_utf8();
                self.edited();
            }
            _ => {}
        }
        PromptEvent::Editing
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }

    fn typed(p: &mut Prompt, s: &str) {
        for c in s.chars() {
            p.handle(key(KeyCode::Char(c)), &[]);
        }
    }

    #[test]
    fn edits_and_submits() {
        let mut p = Prompt::new();
        typed(&mut p, "tempo 12");
        p.handle(key(KeyCode::Left), &[]);
        typed(&mut p, "3");
        assert_eq!(p.text(), "tempo 132");
        assert_eq!(p.cursor_column(), 8);
        p.handle(key(KeyCode::Backspace), &[]);
        assert_eq!(p.text(), "tempo 12");
        p.handle(
            KeyEvent::new(KeyCode::Char('w'), KeyModifiers::CONTROL),
            &[],
        );
        assert_eq!(p.text(), "tempo 2");
        assert_eq!(
            p.handle(key(KeyCode::Enter), &[]),
            PromptEvent::Submit("tempo 2".into())
        );
        assert_eq!(
            Prompt::new().handle(key(KeyCode::Backspace), &[]),
            PromptEvent::Cancel
        );
        assert_eq!(
            Prompt::new().handle(key(KeyCode::Esc), &[]),
            PromptEvent::Cancel
        );
    }

    #[test]
    fn te_tab_offers_tempo_and_temperature() {
        let mut p = Prompt::new();
        typed(&mut p, "te");
        p.handle(key(KeyCode::Tab), &[]);
        assert_eq!(p.completions(), ["tempo ", "temperature "]);
        assert_eq!(p.text(), "tempo ", "not `temp`, which means temperature");
        p.handle(key(KeyCode::Tab), &[]);
        assert_eq!(p.text(), "temperature ");
        let mut p = Prompt::new();
        typed(&mut p, "set kic");
        p.handle(key(KeyCode::Tab), &[]);
        assert_eq!(p.text(), "set kick.", "a plain shared prefix still extends");
    }

    #[test]
    fn history_goes_back_and_returns_to_the_draft() {
        let h = vec!["tempo 100".to_string(), "mute bass".to_string()];
        let mut p = Prompt::new();
        typed(&mut p, "sw");
        p.handle(key(KeyCode::Up), &h);
        assert_eq!(p.text(), "mute bass");
        p.handle(key(KeyCode::Up), &h);
        p.handle(key(KeyCode::Up), &h);
        assert_eq!(p.text(), "tempo 100");
        p.handle(key(KeyCode::Down), &h);
        assert_eq!(p.text(), "mute bass");
        p.handle(key(KeyCode::Down), &h);
        assert_eq!(p.text(), "sw");
    }

    #[test]
    fn tab_completes_then_cycles() {
        let mut p = Prompt::new();
        typed(&mut p, "swi");
        p.handle(key(KeyCode::Tab), &[]);
        assert_eq!(p.text(), "swing ");
        let mut p = Prompt::new();
        typed(&mut p, "mute ");
        p.handle(key(KeyCode::Tab), &[]);
        assert_eq!(p.text(), "mute drums ");
        assert_eq!(p.completions().len(), 7);
        p.handle(key(KeyCode::Tab), &[]);
        assert_eq!(p.text(), "mute bass ");
        p.handle(key(KeyCode::BackTab), &[]);
        assert_eq!(p.text(), "mute drums ");
        let mut p = Prompt::new();
        typed(&mut p, "set bass.a");
        p.handle(key(KeyCode::Tab), &[]);
        assert!(
            p.text().starts_with("set bass.a") && p.text().len() > 10,
            "{}",
            p.text()
        );
        typed(&mut p, "x");
        assert!(p.completions().is_empty(), "typing drops the offer");
    }

    #[test]
    fn common_prefixes() {
        let w = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(common_prefix(&w(&["sets", "setx"])), "set");
        assert_eq!(common_prefix(&w(&["a", "b"])), "");
        assert_eq!(common_prefix(&w(&["só", "sò"])), "s");
    }
}
