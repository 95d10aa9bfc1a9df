//! Loop candidates: per loop set the best-fitting loops with their scores (one to a line)
//! and which one plays, and on the last line the feedback loop: off, listening, or the
//! rhythm loop it heard with its score.

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
    /// Semitones it is moved by when it plays (`key follow`), shown after its name.
    pub semitones: i8,
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
    /// The feedback loop is on.
    pub feedback_on: bool,
    /// The rhythm loop the feedback loop heard last.
    pub feedback: Option<&'a Candidate<'a>>,
    /// What to say when there are no sets.
    pub empty: &'a str,
    /// Styles.
    pub theme: &'a Theme,
}

/// Columns a score takes after a loop's name (` 0.88`).
const SCORE: usize = 5;
/// Columns a transposition takes after a moved loop's name (` ↓3`).
const MOVE: usize = 3;

/// `name` cut to `width` characters, with `…` where it was cut.
fn fit(name: &str, width: usize) -> String {
    if name.chars().count() <= width {
        format!("{name:<width$}")
    } else {
        let mut s: String = name.chars().take(width.saturating_sub(1)).collect();
        s.push('…');
        s
    }
}

impl Loops<'_> {
    /// The last line: the feedback loop off, listening, or what it heard.
    fn feedback_line(&self, width: usize) -> Line<'static> {
        let t = self.theme;
        let label = Span::styled("feedback", t.title);
        match (self.feedback_on, self.feedback) {
            (false, _) => Line::from(vec![label, Span::styled(" off", t.dim)]),
            (true, None) => Line::from(vec![label, Span::styled(" listening…", t.dim)]),
            (true, Some(f)) => Line::from(vec![
                label,
                Span::styled("↺", t.target),
                Span::styled(
                    fit(f.name, width.saturating_sub(9 + SCORE))
                        .trim_end()
                        .to_string(),
                    t.accent,
                ),
                Span::styled(format!(" {:.2}", f.score), t.dim),
            ]),
        }
    }
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
        let width = usize::from(area.width);
        // Each set takes a line; the feedback loop the last one; the candidates of the sets
        // that play share what is left, at least one each (the first sets take what does
        // not divide).
        let on = self.sets.iter().filter(|s| s.on).count().max(1);
        let spare = usize::from(area.height).saturating_sub(self.sets.len() + 1);
        let mut lines = Vec::new();
        for (k, set) in self
            .sets
            .iter()
            .filter(|s| s.on)
            .chain(self.sets.iter().filter(|s| !s.on))
            .enumerate()
        {
            let per_set = (spare / on + usize::from(k < spare % on)).max(1);
            let name = format!("{:<7}{}", set.name, if set.picked { "*" } else { " " });
            let mut spans = vec![Span::styled(name, t.title)];
            if !set.on {
                spans.push(Span::styled(" off", t.dim));
            }
            lines.push(Line::from(spans));
            if !set.on {
                continue;
            }
            for (i, c) in set.candidates.iter().enumerate().take(per_set) {
                let playing = set.playing == Some(i);
                let next = set.next == Some(i) && !playing;
                let (mark, style) = match (playing, next) {
                    (true, _) => ("▶", t.accent),
                    (false, true) => ("›", t.preview_add),
                    _ => (" ", t.base),
                };
                let mut spans = vec![Span::styled(format!(" {mark}"), t.ok)];
                if c.semitones == 0 {
                    spans.push(Span::styled(
                        fit(c.name, width.saturating_sub(2 + SCORE)),
                        style,
                    ));
                } else {
                    spans.push(Span::styled(
                        fit(c.name, width.saturating_sub(2 + SCORE + MOVE)),
                        style,
                    ));
                    let arrow = if c.semitones > 0 { '↑' } else { '↓' };
                    let moved = format!(" {arrow}{}", c.semitones.unsigned_abs());
                    spans.push(Span::styled(format!("{moved:<MOVE$}"), t.dim));
                }
                spans.push(Span::styled(format!(" {:.2}", c.score), t.dim));
                lines.push(Line::from(spans));
            }
        }
        let [list, feedback] = ratatui::layout::Layout::vertical([
            ratatui::layout::Constraint::Min(0),
            ratatui::layout::Constraint::Length(1),
        ])
        .areas(area);
        Paragraph::new(lines).style(t.base).render(list, buf);
        Paragraph::new(self.feedback_line(width))
            .style(t.base)
            .render(feedback, buf);
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
                semitones: -3,
            },
            Candidate {
                name: "pad",
                score: 0.7,
                semitones: 0,
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
            semitones: 0,
        };
        let area = Rect::new(0, 0, 22, 6);
        let render = |on: bool, heard: Option<&Candidate>| {
            let mut buf = Buffer::empty(area);
            Loops {
                sets: &sets,
                feedback_on: on,
                feedback: heard,
                empty: "no loop library loaded",
                theme: &theme,
            }
            .render(area, &mut buf);
            lines(&buf)
        };
        let l = render(true, Some(&fb));
        assert_eq!(l[0].trim_end(), "music");
        assert_eq!(
            l[1].trim_end(),
            " ›keys         ↓3 0.91",
            "moved down 3 semitones"
        );
        assert_eq!(l[2].trim_end(), " ▶pad             0.70");
        assert_eq!(l[3].trim_end(), "voice  * off");
        assert_eq!(l[5].trim_end(), "feedback↺break9 0.80");
        assert_eq!(render(true, None)[5].trim_end(), "feedback listening…");
        assert_eq!(render(false, None)[5].trim_end(), "feedback off");
    }

    #[test]
    fn three_long_names_fit_a_narrow_panel_with_their_scores() {
        let theme = Theme::shipped("mono").unwrap();
        let names = [
            "01-Simutrans-Theme",
            "02-Simutrans-Night",
            "gmd_1705_break",
            "pad",
        ];
        let music: Vec<Candidate> = names
            .iter()
            .map(|n| Candidate {
                name: n,
                score: 0.875,
                semitones: 0,
            })
            .collect();
        let sets = [LoopSet {
            name: "music",
            on: true,
            picked: false,
            candidates: &music,
            playing: Some(0),
            next: None,
        }];
        let area = Rect::new(0, 0, 22, 5);
        let mut buf = Buffer::empty(area);
        Loops {
            sets: &sets,
            feedback_on: false,
            feedback: None,
            empty: "",
            theme: &theme,
        }
        .render(area, &mut buf);
        let l = lines(&buf);
        assert_eq!(l[1], " ▶01-Simutrans-T… 0.88");
        assert_eq!(l[2], "  02-Simutrans-N… 0.88");
        assert_eq!(l[3], "  gmd_1705_break  0.88");
        assert_eq!(l[4].trim_end(), "feedback off");
    }

    #[test]
    fn without_loops_the_panel_says_so() {
        let theme = Theme::shipped("mono").unwrap();
        let area = Rect::new(0, 0, 30, 3);
        let mut buf = Buffer::empty(area);
        Loops {
            sets: &[],
            feedback_on: false,
            feedback: None,
            empty: "no loop library loaded",
            theme: &theme,
        }
        .render(area, &mut buf);
        assert_eq!(lines(&buf)[1], "    no loop library loaded    ");
    }
}
