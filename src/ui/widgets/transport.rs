//! The transport line: play state, tempo, position, countdown to the next cycle, deadline
//! misses, DSP load, MIDI and the audio output.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget};

use crate::pattern::STEPS;
use crate::snapshot::{Snapshot, bar_beat};
use crate::ui::theme::Theme;

/// Seconds until the next cycle starts.
pub fn seconds_to_next_cycle(step: f64, bpm: f32) -> f64 {
    if bpm <= 0.0 {
        return 0.0;
    }
    (STEPS as f64 - step).max(0.0) * 15.0 / f64::from(bpm)
}

/// The transport line of a snapshot.
pub struct Transport<'a> {
    /// What to show.
    pub snap: &'a Snapshot,
    /// Styles.
    pub theme: &'a Theme,
}

impl Widget for Transport<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let t = self.theme;
        let s = self.snap;
        let st = &s.status;
        let started = st.frame > 0;
        let playing_bpm = if started { st.tempo_bpm } else { s.tempo_bpm };
        let sep = || Span::styled(" · ", t.dim);
        let mut spans = vec![
            match (started, st.playing) {
                (true, true) => Span::styled("▶ ", t.ok),
                (true, false) => Span::styled("■ ", t.dim),
                (false, _) => Span::styled("◌ ", t.dim),
            },
            Span::styled(s.scene.clone(), t.title),
            sep(),
            Span::styled(format!("{playing_bpm:.1}"), t.accent),
        ];
        if (s.tempo_bpm - playing_bpm).abs() >= 0.05 {
            spans.push(Span::styled(format!("→{:.1}", s.tempo_bpm), t.preview_add));
        }
        spans.push(Span::styled(" BPM", t.dim));
        let (bar, beat, six) = bar_beat(st.step);
        spans.extend([
            sep(),
            Span::styled(format!("{bar}.{beat}.{six}"), t.accent),
            sep(),
            Span::styled("next ", t.dim),
            Span::styled(
                format!("{:.1}s", seconds_to_next_cycle(st.step, playing_bpm)),
                t.base,
            ),
            sep(),
            Span::styled("late ", t.dim),
            Span::styled(
                st.late_plans.to_string(),
                if st.late_plans > 0 { t.error } else { t.base },
            ),
        ]);
        if let Some(xruns) = s.xruns().filter(|&n| n > 0) {
            spans.extend([sep(), Span::styled(format!("xruns {xruns}"), t.error)]);
        }
        if let Some(loudness) = s.loudness {
            let lufs = loudness
                .short_term_lufs
                .map_or("–".to_string(), |l| format!("{l:.1}"));
            let (peak, hot) = loudness
                .true_peak_dbtp
                .map_or(("–".to_string(), false), |p| {
                    (format!("{p:.1}"), p > -1.0)
                });
            spans.extend([
                sep(),
                Span::styled(lufs, t.base),
                Span::styled(" LUFS ", t.dim),
                Span::styled("TP ", t.dim),
                Span::styled(peak, if hot { t.error } else { t.base }),
            ]);
        }
        if s.ai_ms > 0.0 {
            spans.extend([
                sep(),
                Span::styled("AI ", t.dim),
                Span::styled(format!("{:.1}ms", s.ai_ms), t.base),
            ]);
        }
        if let Some(kit) = &s.kit {
            spans.extend([
                sep(),
                Span::styled("kit ", t.dim),
                Span::styled(
                    crate::text::cut(&crate::text::escape(kit), 24).into_owned(),
                    t.base,
                ),
            ]);
        }
        if let Some(record) = &s.deck.record {
            let secs = s.deck.position_s.max(0.0) as u32;
            spans.extend([
                sep(),
                Span::styled("deck ", t.dim),
                Span::styled(
                    if s.deck.playing { "▶ " } else { "■ " },
                    if s.deck.playing { t.ok } else { t.dim },
                ),
                Span::styled(
                    format!(
                        "{} {}:{:02}",
                        crate::text::escape(record),
                        secs / 60,
                        secs % 60
                    ),
                    t.base,
                ),
            ]);
            if s.deck.rate != 0.0 {
                spans.push(Span::styled(format!(" {:+.1}%", s.deck.rate), t.dim));
            }
        }
        spans.extend([
            sep(),
            Span::styled("DSP ", t.dim),
            Span::styled(
                if st.dsp_load > 0.0 {
                    format!("{:.0}%", st.dsp_load * 100.0)
                } else {
                    "–".to_string()
                },
                if st.dsp_load > 0.8 { t.error } else { t.base },
            ),
            sep(),
            Span::styled(
                format!("MIDI: {}", s.midi),
                if s.midi == "off" { t.dim } else { t.base },
            ),
            sep(),
            Span::styled(s.output.clone(), t.dim),
        ]);
        Paragraph::new(Line::from(spans))
            .style(t.base)
            .render(area, buf);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::performance::Performance;
    use crate::scene::library::default_scene;
    use crate::snapshot::Loudness;

    #[test]
    fn positions_and_countdown() {
        assert_eq!(bar_beat(0.0), (1, 1, 1));
        assert_eq!(bar_beat(5.5), (1, 2, 2));
        assert_eq!(bar_beat(31.9), (2, 4, 4));
        assert!((seconds_to_next_cycle(16.0, 120.0) - 2.0).abs() < 1e-9);
        assert_eq!(seconds_to_next_cycle(3.0, 0.0), 0.0);
    }

    #[test]
    fn shows_tempo_change_position_and_health() {
        let perf = Performance::new(default_scene());
        let mut snap = Snapshot::of(&perf, Default::default(), perf.queued(), "silent", None);
        snap.status.frame = 1000;
        snap.status.playing = true;
        snap.status.step = 16.0;
        snap.status.tempo_bpm = 120.0;
        snap.status.late_plans = 2;
        snap.status.xruns = 3;
        snap.tempo_bpm = 128.0;
        let area = Rect::new(0, 0, 120, 1);
        let theme = Theme::shipped("mono").unwrap();
        let render = |snap: &Snapshot| {
            let mut buf = Buffer::empty(area);
            Transport {
                snap,
                theme: &theme,
            }
            .render(area, &mut buf);
            (0..area.width)
                .map(|x| buf[(x, 0)].symbol())
                .collect::<String>()
        };
        let line = render(&snap);
        assert!(
            line.starts_with(
                "▶ ubiq · 120.0→128.0 BPM · 2.1.1 · next 2.0s · late 2 · xruns 3 · DSP – · MIDI: off · silent"
            ),
            "{line}"
        );
        // Without a device there is nothing to under-run.
        snap.silent = true;
        let line = render(&snap);
        assert!(!line.contains("xruns"), "{line}");
        // The loudness meter, where the stage meters: short-term LUFS and true peak.
        snap.loudness = Some(Loudness {
            short_term_lufs: Some(-14.24),
            true_peak_dbtp: Some(-1.04),
        });
        let line = render(&snap);
        assert!(line.contains("late 2 · -14.2 LUFS TP -1.0 · DSP"), "{line}");
        snap.loudness = Some(Loudness::default());
        let line = render(&snap);
        assert!(line.contains("late 2 · – LUFS TP – · DSP"), "{line}");
    }
}
