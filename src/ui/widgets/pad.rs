//! The latent pad: the rhythm model's 2-D plane with the training set mapped on it (dots
//! coloured by style), the current position, its trail and the feedback target; and the
//! sliders for kick and hats density.

use ratatui::buffer::Buffer;
use ratatui::layout::{Alignment, Rect};
use ratatui::style::Color;
use ratatui::symbols::Marker;
use ratatui::text::{Line, Span};
use ratatui::widgets::canvas::{Canvas, Line as Segment, Points};
use ratatui::widgets::{Paragraph, Widget};

use crate::ui::theme::Theme;

/// A training pattern placed on the latent plane (the rhythm model's latent map's points).
pub use crate::model::rhythm::latent_map::MapPoint;

/// The pad's inputs. With no `position` there is no model, and the pad says so (`empty`).
pub struct LatentPad<'a> {
    /// The training set's map.
    pub map: &'a [MapPoint],
    /// The current latent position.
    pub position: Option<(f32, f32)>,
    /// Earlier positions, oldest first.
    pub trail: &'a [(f32, f32)],
    /// Where the feedback loop pulls (the encoded pattern of the best-fitting rhythm loop).
    pub target: Option<(f32, f32)>,
    /// Half the side of the plane shown (about 3 for the rhythm VAE).
    pub range: f32,
    /// What to say when there is no position.
    pub empty: &'a str,
    /// Styles.
    pub theme: &'a Theme,
}

fn color(style: ratatui::style::Style) -> Color {
    style.fg.unwrap_or(Color::Reset)
}

impl Widget for LatentPad<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let t = self.theme;
        if area.width < 3 || area.height < 2 {
            return;
        }
        let Some((px, py)) = self.position else {
            let row = Rect::new(area.x, area.y + area.height / 2, area.width, 1);
            Paragraph::new(Span::styled(self.empty, t.dim))
                .alignment(Alignment::Center)
                .render(row, buf);
            return;
        };
        let r = f64::from(self.range.max(0.1));
        let mut by_style: Vec<(u16, Vec<(f64, f64)>)> = Vec::new();
        for p in self.map {
            let xy = (f64::from(p.x), f64::from(p.y));
            match by_style.iter_mut().find(|(s, _)| *s == p.style) {
                Some((_, v)) => v.push(xy),
                None => by_style.push((p.style, vec![xy])),
            }
        }
        let trail: Vec<(f64, f64)> = self
            .trail
            .iter()
            .map(|&(x, y)| (f64::from(x), f64::from(y)))
            .collect();
        Canvas::default()
            .marker(Marker::Braille)
            .background_color(t.base.bg.unwrap_or(Color::Reset))
            .x_bounds([-r, r])
            .y_bounds([-r, r])
            .paint(|ctx| {
                let axis = color(t.border);
                ctx.draw(&Segment::new(-r, 0.0, r, 0.0, axis));
                ctx.draw(&Segment::new(0.0, -r, 0.0, r, axis));
                for (style, coords) in &by_style {
                    ctx.draw(&Points::new(coords, color(t.style_color(*style))));
                }
                ctx.layer();
                ctx.draw(&Points::new(&trail, color(t.trail)));
                if let Some((x, y)) = self.target {
                    ctx.print(f64::from(x), f64::from(y), Span::styled("◎", t.target));
                }
                ctx.print(f64::from(px), f64::from(py), Span::styled("●", t.position));
            })
            .render(area, buf);
        let caption = Line::from(vec![
            Span::styled("z ", t.dim),
            Span::styled(format!("{px:+.2} {py:+.2}"), t.accent),
        ]);
        Paragraph::new(caption)
            .alignment(Alignment::Right)
            .render(Rect::new(area.x, area.bottom() - 1, area.width, 1), buf);
    }
}

/// A horizontal slider 0..1 with a label and a value in words.
pub struct Slider<'a> {
    /// Name (`kick`).
    pub label: &'a str,
    /// Position 0..1 (None: nothing to show).
    pub value: Option<f32>,
    /// The value in words.
    pub text: &'a str,
    /// Styles.
    pub theme: &'a Theme,
}

impl Widget for Slider<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let t = self.theme;
        let label = format!("{:<5}", self.label);
        let text_w = self.text.chars().count() + 1;
        let track_w = usize::from(area.width).saturating_sub(label.len() + 2 + text_w);
        let mut spans = vec![Span::styled(label, t.base), Span::styled("▕", t.dim)];
        let filled = self
            .value
            .map_or(0, |v| (v.clamp(0.0, 1.0) * track_w as f32).round() as usize);
        spans.push(Span::styled("█".repeat(filled), t.slider));
        spans.push(Span::styled("·".repeat(track_w - filled), t.dim));
        spans.push(Span::styled("▏", t.dim));
        spans.push(Span::styled(format!(" {}", self.text), t.accent));
        Paragraph::new(Line::from(spans)).render(area, buf);
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
    fn pad_places_position_target_and_map() {
        let theme = Theme::shipped("dark").unwrap();
        let map = [
            MapPoint {
                x: -3.0,
                y: 3.0,
                style: 1,
            },
            MapPoint {
                x: 3.0,
                y: -3.0,
                style: 2,
            },
        ];
        let area = Rect::new(0, 0, 21, 11);
        let mut buf = Buffer::empty(area);
        LatentPad {
            map: &map,
            position: Some((0.0, 0.0)),
            trail: &[(1.5, 1.5)],
            target: Some((-1.5, -1.5)),
            range: 3.0,
            empty: "no model loaded",
            theme: &theme,
        }
        .render(area, &mut buf);
        assert_eq!(buf[(10, 5)].symbol(), "●");
        assert_eq!(buf[(5, 7)].symbol(), "◎");
        assert_eq!(buf[(0, 0)].fg, color(theme.style_color(1)), "style 1 dot");
        assert_eq!(buf[(20, 10)].fg, color(theme.style_color(2)), "style 2 dot");
        assert_eq!(buf[(15, 2)].fg, color(theme.trail));
        assert_ne!(buf[(0, 0)].fg, buf[(20, 10)].fg);
        assert!(
            lines(&buf)[10].ends_with("z +0.00 +0.00"),
            "{:?}",
            lines(&buf)
        );
    }

    #[test]
    fn pad_without_a_model_says_so() {
        let theme = Theme::shipped("mono").unwrap();
        let area = Rect::new(0, 0, 21, 5);
        let mut buf = Buffer::empty(area);
        LatentPad {
            map: &[],
            position: None,
            trail: &[],
            target: None,
            range: 3.0,
            empty: "no model loaded",
            theme: &theme,
        }
        .render(area, &mut buf);
        assert_eq!(lines(&buf)[2], "   no model loaded   ");
        assert!(!lines(&buf).concat().contains('●'));
    }

    #[test]
    fn slider_fills_its_share() {
        let theme = Theme::shipped("mono").unwrap();
        let area = Rect::new(0, 0, 24, 1);
        let mut buf = Buffer::empty(area);
        Slider {
            label: "kick",
            value: Some(0.5),
            text: "8 hits",
            theme: &theme,
        }
        .render(area, &mut buf);
        assert_eq!(lines(&buf)[0], "kick ▕█████·····▏ 8 hits");
    }
}
