//! Text from outside shown safely: names, paths, file text and command arguments are data,
//! never instructions to the terminal. [`escape`] makes control characters visible, [`cut`]
//! shortens a value quoted in a message ([`quote`] does both), and the sinks that print to a
//! terminal (the headless line writer, the binary's last error, `ubiq check`) escape all they
//! print, so nothing raw gets past them. A foundation: it uses no other module.

use std::borrow::Cow;
use std::fmt;

/// How many characters of a value a message quotes (more is cut with `…`).
pub const QUOTED: usize = 80;

/// `text` with every control character — C0 (newlines and tabs too), DEL and C1 — written as
/// a visible escape such as `\u{1b}`; everything else is kept as it is. A line printed
/// through it cannot move the cursor, retitle the window or forge a line of its own.
pub fn escape(text: &str) -> Cow<'_, str> {
    if !text.chars().any(char::is_control) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if c.is_control() {
            out.extend(c.escape_unicode());
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// JSON text as `serde_json` writes it (compact or pretty) with the control characters it
/// leaves raw (DEL and C1; it escapes C0 in strings itself) written as JSON escapes
/// (`\u009b`): still the same JSON, and safe on a terminal. Such characters only occur inside
/// strings; the line breaks of pretty JSON are kept.
pub fn escape_json(json: &str) -> Cow<'_, str> {
    let unsafe_char = |c: char| c.is_control() && c != '\n';
    if !json.chars().any(unsafe_char) {
        return Cow::Borrowed(json);
    }
    let mut out = String::with_capacity(json.len() + 16);
    for c in json.chars() {
        if unsafe_char(c) {
            out.push_str(&format!("\\u{:04x}", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// Text of several lines with each line [`escape`]d: the line breaks stay, nothing else
/// reaches the terminal raw (a report that lists file names found on disk).
pub fn escape_lines(text: &str) -> Cow<'_, str> {
    if !text.chars().any(|c| c.is_control() && c != '\n') {
        return Cow::Borrowed(text);
    }
    let lines: Vec<Cow<'_, str>> = text.split('\n').map(escape).collect();
    Cow::Owned(lines.join("\n"))
}

/// `text` cut to at most `max` characters (at least one): a longer one keeps its first
/// `max - 1` and ends in `…`.
pub fn cut(text: &str, max: usize) -> Cow<'_, str> {
    let max = max.max(1);
    if text.chars().nth(max).is_none() {
        return Cow::Borrowed(text);
    }
    let end = text
        .char_indices()
        .nth(max - 1)
        .map_or(text.len(), |(i, _)| i);
    Cow::Owned(format!("{}…", &text[..end]))
}

/// A value quoted in a message: cut to [`QUOTED`] characters, in double quotes, with control
/// characters and quotes escaped (`"tempo \u{1b}[2J…"`).
pub fn quote(text: &str) -> String {
    format!("{:?}", cut(text, QUOTED))
}

/// Shows a value's text with [`escape`] applied: `eprintln!("ubiq: {}", Shown(&e))`.
pub struct Shown<T>(pub T);

impl<T: fmt::Display> fmt::Display for Shown<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&escape(&self.0.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_makes_control_characters_visible_and_keeps_the_rest() {
        assert!(matches!(escape("house · 124 BPM ▶"), Cow::Borrowed(_)));
        assert_eq!(escape("\u{1b}]2;pwned\u{7}"), "\\u{1b}]2;pwned\\u{7}");
        assert_eq!(escape("a\nb\tc\r"), "a\\u{a}b\\u{9}c\\u{d}");
        assert_eq!(escape("del\u{7f} csi\u{9b}"), "del\\u{7f} csi\\u{9b}");
        assert_eq!(escape("é 日本 \\u{1b}"), "é 日本 \\u{1b}");
        assert!(
            !escape("\u{0}\u{1f}\u{80}\u{9f}")
                .chars()
                .any(char::is_control)
        );
    }

    #[test]
    fn escape_json_keeps_the_json_and_its_meaning() {
        let value = serde_json::json!({"scene": "\u{1b}]2;x\u{7} \u{9b}31m \u{7f}"});
        let text = value.to_string();
        let safe = escape_json(&text);
        assert!(!safe.chars().any(char::is_control), "{safe}");
        let back: serde_json::Value = serde_json::from_str(&safe).expect("valid JSON");
        assert_eq!(back, value);
        assert!(matches!(escape_json("{\"a\":1}"), Cow::Borrowed(_)));
    }

    #[test]
    fn escape_lines_keeps_the_lines_and_escapes_the_rest() {
        assert!(matches!(escape_lines("a\nb\n"), Cow::Borrowed(_)));
        assert_eq!(
            escape_lines("song \u{1b}]2;x\u{7}.mid\r\nnext\n"),
            "song \\u{1b}]2;x\\u{7}.mid\\u{d}\nnext\n"
        );
        let pretty = "{\n  \"a\": \"\u{9b}2J\"\n}";
        assert_eq!(escape_json(pretty), "{\n  \"a\": \"\\u009b2J\"\n}");
    }

    #[test]
    fn cut_keeps_short_text_and_ends_long_text_in_an_ellipsis() {
        assert!(matches!(cut("tempo", 80), Cow::Borrowed(_)));
        assert_eq!(cut("abcdef", 6), "abcdef");
        assert_eq!(cut("abcdefg", 6), "abcde…");
        assert_eq!(cut("ééééé", 3), "éé…");
        assert_eq!(cut("abc", 0), "…");
        let long = "A".repeat(1 << 20);
        assert_eq!(cut(&long, QUOTED).chars().count(), QUOTED);
    }

    #[test]
    fn quote_cuts_and_escapes() {
        assert_eq!(quote("a\u{1b}b"), "\"a\\u{1b}b\"");
        let q = quote(&"A".repeat(1 << 20));
        assert!(q.len() < 100, "{q}");
        assert!(q.ends_with("…\""));
    }

    #[test]
    fn shown_escapes_what_it_displays() {
        let path = std::path::Path::new("bad\u{1b}[31m.ron");
        assert_eq!(format!("{}", Shown(path.display())), "bad\\u{1b}[31m.ron");
    }
}
