//! The mixer: a level meter, fader, mute / solo and sends per track; the master with its
//! meter and the DJ filter; the send effects.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget};

use crate::audio::params::{Params, Track};
use crate::ui::theme::Theme;

/// The meter's floor in dB.
const FLOOR_DB: f32 = -48.0;

/// A linear peak as a share 0..1 of the meter (−48 dB … 0 dB).
pub fn meter_fill(peak: f32) -> f32 {
    if peak <= 0.0 {
        return 0.0;
    }
    let db = 20.0 * peak.log10();
    ((db - FLOOR_DB) / -FLOOR_DB).clamp(0.0, 1.0)
}

/// A level 0..1 with two decimals and no leading zero (`.25`, `1.00`).
fn fraction(v: f32) -> String {
    let s = format!("{v:.2}");
    s.strip_prefix('0').map_or(s.clone(), str::to_string)
}

/// The DJ filter knob in words.
pub fn filter_text(knob: f32) -> String {
    if knob.abs() < 0.005 {
        "open".into()
    } else if knob < 0.0 {
        format!("LP {:.0}%", -knob * 100.0)
    } else {
        format!("HP {:.0}%", knob * 100.0)
    }
}

/// The mixer's state.
pub struct Mixer<'a> {
    /// Effective settings (solo applied to the mutes).
    pub params: &'a Params,
    /// The soloed track.
    pub solo: Option<Track>,
    /// Peak level per track, linear.
    pub peaks: [f32; Track::COUNT],
    /// Master peak, linear.
    pub master_peak: f32,
    /// Styles.
    pub theme: &'a Theme,
}

impl Mixer<'_> {
    fn meter(&self, peak: f32, width: usize) -> Vec<Span<'static>> {
        let t = self.theme;
        let lit = (meter_fill(peak) * width as f32).round() as usize;
        (0..width)
            .map(|i| {
                let db_at = FLOOR_DB * (1.0 - (i as f32 + 1.0) / width as f32);
                if i < lit {
                    let style = if db_at > -3.0 {
                        t.meter_high
                    } else if db_at > -12.0 {
                        t.meter_mid
                    } else {
                        t.meter_low
                    };
                    Span::styled("█", style)
                } else {
                    Span::styled("·", t.dim)
                }
            })
            .collect()
    }
}

impl Widget for Mixer<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let t = self.theme;
        let w = usize::from(area.width);
        let wide = w >= 44;
        // name(7) meter gain(6) flags(4) [sends(14)]
        let fixed = 7 + 6 + 4 + if wide { 14 } else { 0 };
        let meter_w = w.saturating_sub(fixed).clamp(3, 24);
        let mut lines = Vec::new();
        for track in Track::ALL {
            let m = self.params.mix.track(track);
            let mut spans = vec![Span::styled(format!("{:<7}", track.name()), t.base)];
            spans.extend(self.meter(self.peaks[track.index()], meter_w));
            spans.push(Span::styled(format!("{:>6.1}", m.gain_db), t.accent));
            spans.push(Span::raw(" "));
            spans.push(if m.mute {
                Span::styled("M", t.muted)
            } else {
                Span::styled("·", t.dim)
            });
            spans.push(if self.solo == Some(track) {
                Span::styled("S", t.solo)
            } else {
                Span::styled("·", t.dim)
            });
            spans.push(Span::raw(" "));
            if wide {
                spans.push(Span::styled(
                    format!("d{:.2} r{:.2}", m.delay_send, m.reverb_send),
                    t.dim,
                ));
            }
            lines.push(Line::from(spans));
        }
        let mut master = vec![Span::styled(format!("{:<7}", "master"), t.title)];
        master.extend(self.meter(self.master_peak, meter_w));
        master.push(Span::styled(
            format!("{:>6.1}", self.params.mix.master_db),
            t.accent,
        ));
        lines.push(Line::from(master));
        if !wide {
            let sends: Vec<String> = Track::ALL
                .iter()
                .map(|&tr| {
                    let m = self.params.mix.track(tr);
                    format!(
                        "{} {}/{}",
                        &tr.name()[..2],
                        fraction(m.delay_send),
                        fraction(m.reverb_send)
                    )
                })
                .collect();
            lines.push(Line::from(Span::styled(
                format!("d/r {}", sends.join(" ")),
                t.dim,
            )));
        }
        let fx = &self.params.effects;
        lines.push(Line::from(vec![
            Span::styled("filter ", t.dim),
            Span::styled(filter_text(self.params.mix.filter), t.accent),
            Span::styled("  delay ", t.dim),
            Span::styled(
                format!("{:.0}/16 fb{:.2}", fx.delay_steps, fx.delay_feedback),
                t.base,
            ),
        ]));
        lines.push(Line::from(vec![
            Span::styled("reverb ", t.dim),
            Span::styled(format!("size {:.2}", fx.reverb_size), t.base),
            Span::styled("  return ", t.dim),
            Span::styled(format!("{:.1} dB", fx.return_db), t.base),
        ]));
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
    fn meter_scale() {
        assert_eq!(meter_fill(0.0), 0.0);
        assert_eq!(meter_fill(1.0), 1.0);
        assert!((meter_fill(10f32.powf(-24.0 / 20.0)) - 0.5).abs() < 1e-4);
        assert_eq!(filter_text(0.0), "open");
        assert_eq!(filter_text(-0.5), "LP 50%");
        assert_eq!(filter_text(0.25), "HP 25%");
    }

    #[test]
    fn tracks_show_level_gain_mute_and_solo() {
        let mut params = Params::default();
        params.mix.bass.mute = true;
        params.mix.filter = -0.4;
        let theme = Theme::shipped("mono").unwrap();
        let area = Rect::new(0, 0, 30, 10);
        let mut buf = Buffer::empty(area);
        Mixer {
            params: &params,
            solo: Some(Track::Drums),
            peaks: [1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
            master_peak: 10f32.powf(-24.0 / 20.0),
            theme: &theme,
        }
        .render(area, &mut buf);
        let l = lines(&buf);
        assert_eq!(l[0], format!("drums  {}   0.0 ·S ", "█".repeat(13)));
        assert_eq!(l[1], format!("bass   {}  -3.0 M· ", "·".repeat(13)));
        assert_eq!(l[2], format!("music  {}  -6.0 ·· ", "·".repeat(13)));
        assert_eq!(l[6], format!("deck   {}   0.0 ·· ", "·".repeat(13)));
        assert_eq!(
            l[7],
            format!("master {}{}   0.0    ", "█".repeat(7), "·".repeat(6))
        );
        assert!(l[8].starts_with("d/r dr .00/.10 ba .00/.05"), "{}", l[8]);
        assert!(l[9].starts_with("filter LP 40%  delay 3/16"), "{}", l[9]);
        assert!(
            buf[(27, 1)]
                .style()
                .add_modifier
                .contains(ratatui::style::Modifier::REVERSED)
        );
    }
}
