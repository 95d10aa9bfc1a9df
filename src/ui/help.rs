//! The help overlay (`?`): every key of the current keymap and every command of the table,
//! generated from them so it never drifts.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Widget, Wrap};

use super::keymap::Keymap;
use super::theme::Theme;
use crate::command::spec::{self, COMMANDS};

/// Keys of the command line itself (fixed: they edit text rather than run commands).
pub const PROMPT_KEYS: &[(&str, &str)] = &[
    ("enter", "run the line"),
    (
        "tab / backtab",
        "complete the command or argument, again to cycle",
    ),
    ("up / down", "earlier / later lines"),
    ("ctrl-w / ctrl-u", "delete a word / to the start"),
    ("esc", "close the command line"),
];

/// The help text, one line per key or command.
pub fn lines<'a>(keymap: &Keymap, theme: &Theme) -> Vec<Line<'a>> {
    let t = theme;
    let key_w = keymap
        .entries()
        .map(|(k, _)| k.to_string().len())
        .max()
        .unwrap_or(0);
    let prompt_w = PROMPT_KEYS.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    let text_w = keymap
        .entries()
        .map(|(_, b)| b.text.len())
        .max()
        .unwrap_or(0);
    let mut out = vec![Line::from(Span::styled(
        "Keys (your keymap.ron patches these)",
        t.title,
    ))];
    for (key, binding) in keymap.entries() {
        out.push(Line::from(vec![
            Span::styled(format!("  {:<key_w$}  ", key.to_string()), t.accent),
            Span::styled(format!("{:<text_w$}  ", binding.text), t.base),
            Span::styled(binding.doc(), t.dim),
        ]));
    }
    out.push(Line::default());
    out.push(Line::from(Span::styled("Command line (:)", t.title)));
    for (key, doc) in PROMPT_KEYS {
        out.push(Line::from(vec![
            Span::styled(format!("  {key:<prompt_w$}  "), t.accent),
            Span::styled(*doc, t.dim),
        ]));
    }
    out.push(Line::default());
    out.push(Line::from(Span::styled("Commands", t.title)));
    let usage_w = COMMANDS.iter().map(|c| c.usage().len()).max().unwrap_or(0);
    for c in COMMANDS {
        let mut doc = c.doc.to_string();
        for a in c.args {
            if let spec::ArgKind::Number { min, max } = a.kind
                && min > f32::MIN
            {
                doc.push_str(&format!(" [{} {min}…{max}]", a.name));
            }
        }
        if !c.aliases.is_empty() {
            doc.push_str(&format!(" (also: {})", c.aliases.join(", ")));
        }
        out.push(Line::from(vec![
            Span::styled(format!("  {:<usage_w$}  ", c.usage()), t.accent),
            Span::styled(doc, t.base),
        ]));
    }
    out
}

/// The overlay, scrolled by `scroll` lines.
pub struct Help<'a> {
    /// The keymap shown.
    pub keymap: &'a Keymap,
    /// First line shown.
    pub scroll: u16,
    /// Styles.
    pub theme: &'a Theme,
}

impl Widget for Help<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let t = self.theme;
        Clear.render(area, buf);
        let block = Block::default()
            .borders(Borders::ALL)
            .border_style(t.border_focus)
            .title(Span::styled(" help ", t.title))
            .title_bottom(Span::styled(" j/k ↑/↓ scroll · esc or ? closes ", t.dim))
            .style(t.popup);
        Paragraph::new(lines(self.keymap, t))
            .block(block)
            .wrap(Wrap { trim: false })
            .scroll((self.scroll, 0))
            .render(area, buf);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_every_key_and_every_command() {
        let map = Keymap::default();
        let theme = Theme::shipped("mono").unwrap();
        let text: Vec<String> = lines(&map, &theme).iter().map(|l| l.to_string()).collect();
        let all = text.join("\n");
        for (key, binding) in map.entries() {
            let row = format!("  {key}");
            assert!(
                text.iter()
                    .any(|l| l.starts_with(&row) && l.contains(&binding.text)),
                "{key} missing"
            );
        }
        for c in COMMANDS {
            assert!(all.contains(&c.usage()), "{} missing", c.name);
        }
        assert!(all.contains("nudge BPM") && all.contains("[BPM -40…40]"));
    }
}
