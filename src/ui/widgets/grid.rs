//! The live two-bar grid: the drum voices that play (now or next; empty rows fold away) ×
//! 32 steps and the bassline under them.
//!
//! A hit's height is its velocity (`▂▄▆█`, shaded by the theme); with two columns per step
//! a mark after it shows micro-timing (`‹` early, `›` late). The playhead column is
//! highlighted. With a `next` pattern, hits the next cycle adds or drops are marked (`+`,
//! shaded drop), so the coming change is visible before it plays.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::widgets::Widget;

use crate::pattern::{BassStep, DrumCell, STEPS, STEPS_PER_BAR, Voice, note_name};
use crate::performance::Playing;
use crate::ui::theme::Theme;

/// Width of the voice labels (`BD `).
const LABEL: u16 = 3;
/// Offsets beyond this share of a step get a timing mark.
const TIMING_MARK: f32 = 0.08;

/// The voices shown: those with a hit in `now` or in `next`, in the usual order.
pub fn voices(now: &Playing, next: Option<&Playing>) -> Vec<Voice> {
    let plays = |p: &Playing, v: Voice| p.pattern.count(v) > 0;
    Voice::ALL
        .into_iter()
        .filter(|&v| plays(now, v) || next.is_some_and(|n| plays(n, v)))
        .collect()
}

/// Rows the grid needs: a header, `voices` drum rows and two bass rows.
pub fn height(voices: usize) -> u16 {
    1 + voices as u16 + 2
}

/// Columns the grid needs with `step_width` columns per step.
pub fn width(step_width: u16) -> u16 {
    LABEL + STEPS as u16 * step_width + 1
}

/// How many cells differ between two patterns (hits added plus hits dropped).
pub fn changes(now: &Playing, next: &Playing) -> usize {
    let drums = Voice::ALL
        .iter()
        .flat_map(|&v| (0..STEPS).map(move |s| (v, s)))
        .filter(|&(v, s)| now.pattern.get(v, s).hit != next.pattern.get(v, s).hit)
        .count();
    let bass = (0..STEPS)
        .filter(|&s| !same_bass(&now.bassline.steps[s], &next.bassline.steps[s]))
        .count();
    drums + bass
}

fn same_bass(a: &BassStep, b: &BassStep) -> bool {
    match (a, b) {
        (BassStep::Note { pitch: p, .. }, BassStep::Note { pitch: q, .. }) => p == q,
        (a, b) => std::mem::discriminant(a) == std::mem::discriminant(b),
    }
}

/// The grid of one cycle.
pub struct Grid<'a> {
    /// The material shown.
    pub now: &'a Playing,
    /// The next cycle's material, to mark what changes (None: no marks).
    pub next: Option<&'a Playing>,
    /// Playhead in steps 0..32 (None: no playhead).
    pub playhead: Option<f64>,
    /// The drum rows shown, in order (see [`voices`]).
    pub voices: &'a [Voice],
    /// Styles.
    pub theme: &'a Theme,
}

fn velocity_glyph(v: f32) -> char {
    match v {
        v if v < 0.3 => '▂',
        v if v < 0.55 => '▄',
        v if v < 0.8 => '▆',
        _ => '█',
    }
}

impl Grid<'_> {
    fn hit_style(&self, v: f32) -> Style {
        match v {
            v if v < 0.45 => self.theme.hit_soft,
            v if v < 0.8 => self.theme.hit_mid,
            _ => self.theme.hit_loud,
        }
    }

    /// The glyph and style of a drum cell, and its timing mark.
    fn cell(&self, now: DrumCell, next: Option<DrumCell>) -> ((char, Style), (char, Style)) {
        let t = self.theme;
        let timing = |c: DrumCell| {
            if c.offset < -TIMING_MARK {
                ('‹', t.early)
            } else if c.offset > TIMING_MARK {
                ('›', t.late)
            } else {
                (' ', t.base)
            }
        };
        match (now.hit, next.map(|n| n.hit)) {
            (true, Some(false)) => ((velocity_glyph(now.velocity), t.preview_drop), timing(now)),
            (false, Some(true)) => (('+', t.preview_add), (' ', t.base)),
            (true, _) => (
                (velocity_glyph(now.velocity), self.hit_style(now.velocity)),
                timing(now),
            ),
            (false, _) => (('·', t.dim), (' ', t.base)),
        }
    }
}

fn put(buf: &mut Buffer, x: u16, y: u16, area: Rect, ch: char, style: Style) {
    if x < area.right() && y < area.bottom() {
        buf[(x, y)].set_char(ch).set_style(style);
    }
}

impl Widget for Grid<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let t = self.theme;
        let sw: u16 = if area.width >= width(2) { 2 } else { 1 };
        let area = Rect {
            x: area.x + area.width.saturating_sub(width(sw)) / 2,
            width: area.width.min(width(sw)),
            ..area
        };
        let x0 = area.x + LABEL;
        let col = |step: usize| {
            let bar_gap = u16::from(step >= STEPS_PER_BAR);
            x0 + step as u16 * sw + bar_gap
        };
        let playhead = self.playhead.map(|p| (p.max(0.0) as usize).min(STEPS - 1));
        // Header: beat numbers.
        for beat in 0..STEPS / 4 {
            let label = if sw == 2 {
                format!("{}.{}", beat / 4 + 1, beat % 4 + 1)
            } else {
                format!("{}", beat % 4 + 1)
            };
            buf.set_stringn(
                col(beat * 4),
                area.y,
                &label,
                usize::from(area.right().saturating_sub(col(beat * 4))),
                t.dim,
            );
        }
        let shown = self.voices;
        let rows = height(shown.len());
        let bar_x = col(STEPS_PER_BAR) - 1;
        for row in 1..rows.min(area.height) {
            put(buf, bar_x, area.y + row, area, '│', t.border);
        }
        // Drum rows.
        for (i, &voice) in shown.iter().enumerate() {
            let y = area.y + 1 + i as u16;
            if y >= area.bottom() {
                break;
            }
            buf.set_stringn(area.x, y, voice.short(), 2, t.dim);
            for step in 0..STEPS {
                let now = self.now.pattern.get(voice, step);
                let next = self.next.map(|n| n.pattern.get(voice, step));
                let ((g, gs), (m, ms)) = self.cell(now, next);
                let gs = if step % 4 == 0 && !now.hit && next.is_none_or(|n| !n.hit) {
                    t.beat
                } else {
                    gs
                };
                put(buf, col(step), y, area, g, gs);
                if sw == 2 {
                    put(buf, col(step) + 1, y, area, m, ms);
                }
            }
        }
        self.render_bass(area.y + 1 + shown.len() as u16, area, buf, &col, sw);
        if let Some(step) = playhead {
            for row in 1..rows.min(area.height) {
                for dx in 0..sw {
                    let x = col(step) + dx;
                    if x < area.right() {
                        let cell = &mut buf[(x, area.y + row)];
                        let style = cell.style().patch(t.playhead);
                        cell.set_style(style);
                    }
                }
            }
        }
    }
}

impl Grid<'_> {
    /// The bass rows from row `y` on.
    fn render_bass(
        &self,
        y: u16,
        area: Rect,
        buf: &mut Buffer,
        col: &dyn Fn(usize) -> u16,
        sw: u16,
    ) {
        let t = self.theme;
        if y >= area.bottom() {
            return;
        }
        buf.set_stringn(area.x, y, "BS", 2, t.bass_note);
        let steps = &self.now.bassline.steps;
        for (step, s) in steps.iter().enumerate() {
            let changed = self
                .next
                .is_some_and(|n| !same_bass(s, &n.bassline.steps[step]));
            let held_next = matches!(steps.get(step + 1), Some(BassStep::Hold));
            let (g, m, style) = match s {
                BassStep::Rest => ('·', ' ', t.dim),
                BassStep::Hold => ('━', '━', t.bass_hold),
                BassStep::Note { velocity, .. } => {
                    let style = if *velocity >= crate::pattern::ACCENT_THRESHOLD {
                        t.bass_note.add_modifier(ratatui::style::Modifier::BOLD)
                    } else {
                        t.bass_note
                    };
                    ('■', if held_next { '━' } else { ' ' }, style)
                }
            };
            let style = if changed {
                style.patch(t.preview_add)
            } else {
                style
            };
            put(buf, col(step), y, area, g, style);
            if sw == 2 {
                let ms = if m == '━' { t.bass_hold } else { style };
                put(buf, col(step) + 1, y, area, m, ms);
            }
        }
        // Note names under their starts, where they fit.
        let y = y + 1;
        if y >= area.bottom() {
            return;
        }
        let mut free_from = area.x + LABEL;
        for (step, s) in steps.iter().enumerate() {
            if let BassStep::Note { pitch, .. } = s {
                let midi = (i16::from(self.now.tonic) + i16::from(*pitch)).clamp(0, 127) as u8;
                let name = note_name(midi);
                let x = col(step);
                let end = x + name.chars().count() as u16;
                if x >= free_from && end <= area.right() {
                    buf.set_string(x, y, &name, t.bass_note);
                    free_from = end + 1;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pattern::{Bassline, DrumPattern};

    fn theme() -> Theme {
        Theme::shipped("mono").unwrap()
    }

    fn material() -> Playing {
        let mut pattern = DrumPattern::new();
        pattern.set(Voice::Kick, 0, DrumCell::hit(1.0, 0.0));
        pattern.set(Voice::Kick, 4, DrumCell::hit(0.2, 0.3));
        pattern.set(Voice::Snare, 5, DrumCell::hit(0.6, -0.2));
        Playing {
            pattern,
            bassline: Bassline::parse("A1! - C2 . G1 . . . . . . . . . . .", 33).unwrap(),
            tonic: 33,
        }
    }

    fn lines(buf: &Buffer) -> Vec<String> {
        (0..buf.area.height)
            .map(|y| {
                (0..buf.area.width)
                    .map(|x| buf[(x, y)].symbol().to_string())
                    .collect::<String>()
            })
            .collect()
    }

    #[test]
    fn wide_grid_shows_velocity_timing_and_note_names() {
        let t = theme();
        let now = material();
        let shown = voices(&now, None);
        assert_eq!(shown, [Voice::Kick, Voice::Snare], "the rest fold away");
        let area = Rect::new(0, 0, width(2), height(shown.len()));
        let mut buf = Buffer::empty(area);
        Grid {
            now: &now,
            next: None,
            playhead: Some(4.5),
            voices: &shown,
            theme: &t,
        }
        .render(area, &mut buf);
        let l = lines(&buf);
        assert!(l[0].starts_with("   1.1     1.2     1.3"), "{:?}", l[0]);
        assert!(l[1].starts_with("BD █ · · · ▂›· · · "), "{:?}", l[1]);
        assert!(l[2].starts_with("SD · · · · · ▆‹· · "), "{:?}", l[2]);
        assert!(l[3].starts_with("BS ■━━━■ · ■ · · · · · "), "{:?}", l[3]);
        assert!(l[4].starts_with("   A1  C2  G1   "), "{:?}", l[4]);
        assert_eq!(l[1].chars().nth(35), Some('│'), "bar line");
        let head = buf[(3 + 8, 1)].style();
        assert!(
            head.add_modifier
                .contains(ratatui::style::Modifier::REVERSED)
        );
        assert!(
            buf[(3, 1)]
                .style()
                .add_modifier
                .contains(ratatui::style::Modifier::BOLD)
        );
    }

    #[test]
    fn narrow_grid_and_preview_marks() {
        let t = theme();
        let now = material();
        let mut next = now;
        next.pattern.set(Voice::Kick, 8, DrumCell::hit(0.9, 0.0));
        next.pattern.set(Voice::Snare, 5, DrumCell::default());
        assert_eq!(changes(&now, &next), 2);
        next.pattern.set(Voice::Crash, 0, DrumCell::hit(0.9, 0.0));
        let shown = voices(&now, Some(&next));
        assert_eq!(shown, [Voice::Kick, Voice::Snare, Voice::Crash]);
        let area = Rect::new(0, 0, width(1), height(shown.len()));
        let mut buf = Buffer::empty(area);
        Grid {
            now: &now,
            next: Some(&next),
            playhead: None,
            voices: &shown,
            theme: &t,
        }
        .render(area, &mut buf);
        let l = lines(&buf);
        assert!(l[0].starts_with("   1   2   3   4    1"), "{:?}", l[0]);
        assert!(l[1].starts_with("BD █···▂···+"), "{:?}", l[1]);
        assert!(l[2].starts_with("SD ·····▆"), "{:?}", l[2]);
        assert!(l[3].starts_with("CR +"), "{:?}", l[3]);
        assert!(
            buf[(3 + 5, 2)]
                .style()
                .add_modifier
                .contains(ratatui::style::Modifier::DIM)
        );
        assert!(
            buf[(3 + 8, 1)]
                .style()
                .add_modifier
                .contains(ratatui::style::Modifier::UNDERLINED)
        );
    }
}
