//! Loop candidates: per loop set the best-fitting loops with their scores and which one
//! plays, and the rhythm loop the feedback loop chose.

use ratatui::buffer::Buffer;
use ratatui::layout::{Alignment, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget};

use crate::ui::theme::Theme;

/// One ranked loop.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate<'a> {
    /// Loop name.
    pub name: &'a str,
    /// How well it fits what plays, 0..1.
    pub score: f32,
}

/// The candidates of one loop set (music, ambient, voice, rhythm).
#[derive(Debug, Clone, PartialEq)]
pub struct LoopSet<'a> {
    /// The set's name.
    pub name: &'a str,
    /// The set plays.
    pub on: bool,
    /// The performer fixed its loop (`lock`, `loop SET pick`).
    pub picked: bool,
    /// Best first.
    pub candidates: &'a [Candidate<'a>],
    /// Index of the one that plays.
    pub playing: Option<usize>,
    /// Index of the one that plays from the next cycle, when it is another.
    pub next: Option<usize>,
}

/// The panel's inputs. With no sets there is no loop library, and the panel says so.
pub struct Loops<'a> {
    /// The loop sets.
    pub sets: &'a [LoopSet<'a>],
    /// The rhythm loop the feedback loop picked.
    pub feedback: Option<&'a Candidate<'a>>,
    /// What to say when there are no sets.
    pub empty: &'a str,
    /// Styles.
    pub theme: &'a Theme,
}

impl Widget for Loops<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let t = self.theme;
        if self.sets.is_empty() {
            let y = area.y + area.height / 2;
            Paragraph::new(Span::styled(self.empty, t.dim))
                .alignment(Alignment::Center)
                .render(Rect::new(area.x, y, area.width, 1.min(area.height)), buf);
            return;
        }
        let mut lines = Vec::new();
        for set in self.sets {
            let name = format!("{:<7}{}", set.name, if set.picked { "*" } else { " " });
            let mut spans = vec![Span::styled(name, t.title)];
            if !set.on {
                spans.push(Span::styled(" off", t.dim));
                lines.push(Line::from(spans));
                continue;
            }
            for (i, c) in set.candidates.iter().enumerate() {
                let playing = set.playing == Some(i);
                let next = set.next == Some(i) && !playing;
                let (mark, style) = match (playing, next) {
                    (true, _) => ("▶", t.accent),
                    (false, true) => ("›", t.preview_add),
                    _ => (" ", t.base),
                };
                spans.push(Span::styled(mark, t.ok));
                spans.push(Span::styled(c.name.to_string(), style));
                spans.push(Span::styled(format!(" {:.2} ", c.score), t.dim));
            }
            lines.push(Line::from(spans));
        }
        if let Some(f) = self.feedback {
            lines.push(Line::from(vec![
                Span::styled(format!("{:<8}", "feedback"), t.title),
                Span::styled("↺", t.target),
                Span::styled(f.name.to_string(), t.accent),
                Span::styled(format!(" {:.2}", f.score), t.dim),
            ]));
        }
        Paragraph::new(lines).style(t.base).render(area, buf);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(buf: &Buffer) -> Vec<String> {
        (0..buf.area.height)
            .map(|y| (0..buf.area.width).map(|x| buf[(x, y)].symbol()).collect())
            .collect()
    }

    #[test]
    fn ranked_loops_with_the_playing_one_and_feedback() {
        let theme = Theme::shipped("mono").unwrap();
        let music = [
            Candidate {
                name: "keys",
                score: 0.91,
            },
            Candidate {
                name: "pad",
                score: 0.7,
            },
        ];
        let sets = [
            LoopSet {
                name: "music",
                on: true,
                picked: false,
                candidates: &music,
                playing: Some(1),
                next: Some(0),
            },
            LoopSet {
                name: "voice",
                on: false,
                picked: true,
                candidates: &[],
                playing: None,
                next: None,
            },
        ];
        let fb = Candidate {
            name: "break9",
            score: 0.8,
        };
        let area = Rect::new(0, 0, 40, 3);
        let mut buf = Buffer::empty(area);
        Loops {
            sets: &sets,
            feedback: Some(&fb),
            empty: "no loop library loaded",
            theme: &theme,
        }
        .render(area, &mut buf);
        let l = lines(&buf);
        assert_eq!(l[0].trim_end(), "music   ›keys 0.91 ▶pad 0.70");
        assert_eq!(l[1].trim_end(), "voice  * off");
        assert_eq!(l[2].trim_end(), "feedback↺break9 0.80");
    }

    #[test]
    fn without_loops_the_panel_says_so() {
        let theme = Theme::shipped("mono").unwrap();
        let area = Rect::new(0, 0, 30, 3);
        let mut buf = Buffer::empty(area);
        Loops {
            sets: &[],
            feedback: None,
            empty: "no loop library loaded",
            theme: &theme,
        }
        .render(area, &mut buf);
        assert_eq!(lines(&buf)[1], "    no loop library loaded    ");
    }
}
