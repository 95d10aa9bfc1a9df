//! The screen, layer by layer: the main view (transport, grid, pad, loops, mixer, status and
//! key hints), then the command line, the help overlay and the quit question on top.
//!
//! Two layouts: compact from 80×24 (grid across the width; pad, loops and mixer below) and
//! wide from 140×36 (the playing and the next cycle side by side, a large pad).

use ratatui::Frame;
use ratatui::layout::{Alignment, Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

use super::app::{App, Focus};
use super::help::Help;
use super::keymap::{Action, UiAction};
use super::widgets::grid::{self, Grid};
use super::widgets::loops::{self, Loops};
use super::widgets::mixer::Mixer;
use super::widgets::pad::{LatentPad, Slider};
use super::widgets::transport::Transport;
use crate::command::Command;
use crate::command::spec::scale_name;
use crate::snapshot::Snapshot;

/// The smallest screen the full interface fits.
pub const MIN_SIZE: (u16, u16) = (80, 24);
/// From this size on the wide layout is used.
pub const WIDE_SIZE: (u16, u16) = (140, 36);
/// Half the side of the latent plane shown.
const LATENT_RANGE: f32 = 3.0;

fn panel<'a>(app: &App, focus: Focus, title: String) -> Block<'a> {
    let t = &app.theme;
    let border = if app.focus == focus {
        t.border_focus
    } else {
        t.border
    };
    Block::default()
        .borders(Borders::ALL)
        .border_style(border)
        .title(Span::styled(title, t.title))
}

/// Draws the whole screen for a snapshot.
pub fn draw(app: &App, snap: &Snapshot, frame: &mut Frame) {
    let area = frame.area();
    let t = &app.theme;
    frame.render_widget(Block::default().style(t.base), area);
    let [top, body, status, bottom] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(0),
        Constraint::Length(1),
        Constraint::Length(1),
    ])
    .areas(area);
    frame.render_widget(Transport { snap, theme: t }, top);
    if area.width < MIN_SIZE.0 || area.height < MIN_SIZE.1 {
        let msg = format!(
            "ubiq needs {}×{} (this is {}×{}); the music goes on",
            MIN_SIZE.0, MIN_SIZE.1, area.width, area.height
        );
        let y = body.y + body.height / 2;
        frame.render_widget(
            Paragraph::new(Span::styled(msg, t.error)).alignment(Alignment::Center),
            Rect::new(body.x, y, body.width, 1.min(body.height)),
        );
    } else if area.width >= WIDE_SIZE.0 && area.height >= WIDE_SIZE.1 {
        wide(app, snap, frame, body);
    } else {
        compact(app, snap, frame, body);
    }
    status_line(app, frame, status);
    bottom_line(app, frame, bottom);
    if let Some(scroll) = app.help {
        let popup = centered(area, 90, area.height.saturating_sub(2));
        frame.render_widget(
            Help {
                keymap: &app.keymap,
                scroll,
                theme: t,
            },
            popup,
        );
    }
    if app.confirm_quit {
        let popup = centered(area, 36, 3);
        frame.render_widget(Clear, popup);
        frame.render_widget(
            Paragraph::new(Line::from(vec![
                Span::styled("Quit ubiq? ", t.title),
                Span::styled("y", t.accent),
                Span::styled(" quit · any key stays", t.base),
            ]))
            .alignment(Alignment::Center)
            .block(
                Block::default()
                    .borders(Borders::ALL)
                    .border_style(t.border_focus)
                    .style(t.popup),
            ),
            popup,
        );
    }
}

fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let w = width.min(area.width);
    let h = height.min(area.height);
    Rect::new(
        area.x + (area.width - w) / 2,
        area.y + (area.height - h) / 2,
        w,
        h,
    )
}

fn grid_title(snap: &Snapshot, label: &str) -> String {
    let n = grid::changes(&snap.playing, &queued(snap));
    let next = if n == 0 {
        "next: same".to_string()
    } else {
        format!("next: {n} changes")
    };
    let locked = snap.locked();
    let locked = if locked.is_empty() {
        String::new()
    } else {
        format!(" · locked: {}", locked.join(" "))
    };
    format!(
        " {label} · {} {} · {next}{locked} ",
        snap.key,
        scale_name(snap.scale)
    )
}

fn queued(snap: &Snapshot) -> crate::performance::Playing {
    crate::performance::Playing {
        pattern: snap.pattern,
        bassline: snap.bassline,
        tonic: snap.tonic,
    }
}

fn compact(app: &App, snap: &Snapshot, frame: &mut Frame, body: Rect) {
    let next = queued(snap);
    let voices = grid::voices(&snap.playing, Some(&next));
    let [grid_area, lower] = Layout::vertical([
        Constraint::Length(grid::height(voices.len()) + 2),
        Constraint::Min(0),
    ])
    .areas(body);
    let block = panel(app, Focus::Grid, grid_title(snap, "grid"));
    let inner = block.inner(grid_area);
    frame.render_widget(block, grid_area);
    frame.render_widget(
        Grid {
            now: &snap.playing,
            next: Some(&next),
            playhead: Some(snap.status.step),
            voices: &voices,
            theme: &app.theme,
        },
        inner,
    );
    let [pad, loops, mixer] = Layout::horizontal([
        Constraint::Percentage(33),
        Constraint::Percentage(30),
        Constraint::Percentage(37),
    ])
    .areas(lower);
    draw_pad(app, snap, frame, pad);
    draw_loops(app, snap, frame, loops);
    draw_mixer(app, snap, frame, mixer);
}

fn wide(app: &App, snap: &Snapshot, frame: &mut Frame, body: Rect) {
    let next = queued(snap);
    // Both grids show the same rows, so they line up.
    let voices = grid::voices(&snap.playing, Some(&next));
    let [grids, lower] = Layout::vertical([
        Constraint::Length(grid::height(voices.len()) + 2),
        Constraint::Min(0),
    ])
    .areas(body);
    let [now_area, next_area] =
        Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)]).areas(grids);
    let block = panel(app, Focus::Grid, grid_title(snap, "now"));
    let inner = block.inner(now_area);
    frame.render_widget(block, now_area);
    frame.render_widget(
        Grid {
            now: &snap.playing,
            next: None,
            playhead: Some(snap.status.step),
            voices: &voices,
            theme: &app.theme,
        },
        inner,
    );
    let block = panel(app, Focus::Grid, " next cycle ".to_string());
    let inner = block.inner(next_area);
    frame.render_widget(block, next_area);
    frame.render_widget(
        Grid {
            now: &next,
            next: None,
            playhead: None,
            voices: &voices,
            theme: &app.theme,
        },
        inner,
    );
    let [pad, right] =
        Layout::horizontal([Constraint::Percentage(45), Constraint::Percentage(55)]).areas(lower);
    let [loops, mixer] =
        Layout::vertical([Constraint::Percentage(50), Constraint::Percentage(50)]).areas(right);
    draw_pad(app, snap, frame, pad);
    draw_loops(app, snap, frame, loops);
    draw_mixer(app, snap, frame, mixer);
}

fn draw_pad(app: &App, snap: &Snapshot, frame: &mut Frame, area: Rect) {
    let t = &app.theme;
    let block = panel(app, Focus::Pad, " latent ".to_string());
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let [canvas, kick, hats] = Layout::vertical([
        Constraint::Min(1),
        Constraint::Length(1),
        Constraint::Length(1),
    ])
    .areas(inner);
    let ai = &snap.ai;
    app.pad
        .set(snap.composing.then_some((canvas, LATENT_RANGE)));
    let map = match &snap.latent_map {
        Some(map) if snap.composing => &map.points[..],
        _ => &[],
    };
    frame.render_widget(
        LatentPad {
            map,
            position: snap.composing.then_some((ai.x, ai.y)),
            trail: &snap.trail,
            target: snap.feedback.as_ref().map(|f| (f.target[0], f.target[1])),
            range: LATENT_RANGE,
            empty: "no model loaded",
            theme: t,
        },
        canvas,
    );
    for (label, level, row) in [("kick", ai.kick, kick), ("hats", ai.hats, hats)] {
        let text = format!("{level:+.2}");
        frame.render_widget(
            Slider {
                label,
                value: snap
                    .composing
                    .then_some(((level + 3.0) / 6.0).clamp(0.0, 1.0)),
                text: &text,
                theme: t,
            },
            row,
        );
    }
}

fn draw_loops(app: &App, snap: &Snapshot, frame: &mut Frame, area: Rect) {
    let title = if snap.library {
        format!(" loops · phrase {}/{} ", snap.phrase_left, snap.phrase)
    } else {
        " loops ".to_string()
    };
    let block = panel(app, Focus::Loops, title);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let candidates: Vec<Vec<loops::Candidate>> = snap
        .loops
        .iter()
        .map(|l| {
            l.candidates
                .iter()
                .map(|c| loops::Candidate {
                    name: &c.name,
                    score: c.score,
                    semitones: c.semitones,
                })
                .collect()
        })
        .collect();
    let index = |list: &[loops::Candidate], name: Option<&str>| {
        name.and_then(|n| list.iter().position(|c| c.name == n))
    };
    let sets: Vec<loops::LoopSet> = if snap.library {
        snap.loops
            .iter()
            .zip(&candidates)
            .map(|(l, list)| loops::LoopSet {
                name: l.set.name(),
                on: l.on,
                picked: l.pick.is_some(),
                candidates: list,
                playing: index(list, l.playing.as_deref()),
                next: index(list, l.wanted.as_deref()),
            })
            .collect()
    } else {
        Vec::new()
    };
    let heard = snap.feedback.as_ref().map(|f| loops::Candidate {
        name: &f.loop_name,
        score: f.score,
        semitones: 0,
    });
    frame.render_widget(
        Loops {
            sets: &sets,
            feedback_on: snap.ai.feedback,
            feedback: heard.as_ref(),
            empty: "no loop library loaded",
            theme: &app.theme,
        },
        inner,
    );
}

fn draw_mixer(app: &App, snap: &Snapshot, frame: &mut Frame, area: Rect) {
    let block = panel(app, Focus::Mixer, " mixer ".to_string());
    let inner = block.inner(area);
    frame.render_widget(block, area);
    frame.render_widget(
        Mixer {
            params: &snap.params,
            solo: snap.solo,
            peaks: snap.status.track_peaks,
            master_peak: snap.status.master_peak,
            theme: &app.theme,
        },
        inner,
    );
}

fn status_line(app: &App, frame: &mut Frame, area: Rect) {
    let t = &app.theme;
    let offered = app.prompt.as_ref().map_or(&[][..], |p| p.completions());
    let line = if !offered.is_empty() {
        Line::from(Span::styled(offered.join("  "), t.dim))
    } else {
        match &app.status {
            Some(n) if n.ok => Line::from(vec![
                Span::styled("✓ ", t.ok),
                Span::styled(n.text.clone(), t.base),
            ]),
            Some(n) => Line::from(vec![
                Span::styled("✗ ", t.error),
                Span::styled(n.text.clone(), t.error),
            ]),
            None => Line::from(Span::styled("? help · : command", t.dim)),
        }
    };
    frame.render_widget(Paragraph::new(line), area);
    let focus = format!("[{}]", app.focus.title());
    let w = focus.len() as u16;
    if area.width > w {
        frame.render_widget(
            Paragraph::new(Span::styled(focus, t.dim)).alignment(Alignment::Right),
            Rect::new(area.right() - w, area.y, w, 1),
        );
    }
}

/// Key hints generated from the keymap (keys grouped by what they do): help, the command
/// line and quit first, then commands, then focus.
pub fn hints(app: &App) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    let mut entries: Vec<_> = app.keymap.entries().collect();
    let rank = |a: &Action| match a {
        Action::Ui(UiAction::Help) => 0,
        Action::Ui(UiAction::Prompt) => 1,
        Action::Command(Command::Quit) => 2,
        Action::Command(_) => 3,
        Action::Ui(_) => 4,
    };
    entries.sort_by_key(|(_, b)| (rank(&b.action), b.text.clone()));
    for (key, binding) in entries {
        match out.iter_mut().find(|(_, text)| *text == binding.text) {
            Some((keys, _)) => {
                keys.push(' ');
                keys.push_str(&key.to_string());
            }
            None => out.push((key.to_string(), binding.text.clone())),
        }
    }
    out
}

fn bottom_line(app: &App, frame: &mut Frame, area: Rect) {
    let t = &app.theme;
    if let Some(prompt) = &app.prompt {
        frame.render_widget(
            Paragraph::new(Line::from(vec![
                Span::styled(":", t.prompt),
                Span::styled(prompt.text().to_string(), t.prompt),
            ])),
            area,
        );
        frame.set_cursor_position((area.x + 1 + prompt.cursor_column(), area.y));
        return;
    }
    let mut spans = Vec::new();
    for (keys, text) in hints(app) {
        spans.push(Span::styled(keys, t.accent));
        spans.push(Span::styled(format!(" {text}  "), t.dim));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}
