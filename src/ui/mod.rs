//! The full-screen interface: ratatui + crossterm, drawn from engine snapshots.
//!
//! The screen never blocks the engine: it reads the latest [`Snapshot`] (a lock-free load),
//! sends [`crate::command::Command`]s down the engine's channel and drains its notices. It
//! redraws at most [`FRAME`]⁻¹ times a second and only when something changed.
//!
//! - [`app`]: screen state and keys → commands; [`layers`]: drawing; [`input`]: the
//!   terminal's events, and whether it hung up;
//! - [`keymap`]: keys → command text, defaults plus the user's `keymap.ron`;
//! - [`theme`]: `themes/*.ron`; [`prompt`]: the `:` line; [`help`]: the `?` overlay;
//! - [`widgets`]: pure widgets (grid, pad, loops, mixer, transport).

pub mod app;
pub mod help;
pub mod input;
pub mod keymap;
pub mod layers;
pub mod prompt;
pub mod theme;
pub mod widgets;

use std::io::{self, IsTerminal};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use ratatui::DefaultTerminal;
use ratatui::crossterm::event::{self, Event, KeyEventKind};

use self::input::Input;

pub use app::App;

use crate::engine::live::EngineHandle;
use crate::snapshot::Snapshot;

/// The shortest time between two frames (about 30 per second).
pub const FRAME: Duration = Duration::from_millis(33);

/// True when stdin and stdout are terminals, so the full screen can be used.
pub fn can_run() -> bool {
    io::stdin().is_terminal() && io::stdout().is_terminal()
}

/// Raw mode and the alternate screen; the terminal is given back on drop (quietly: a terminal
/// that hung up cannot take it back), and by ratatui's panic hook on a panic.
struct Screen {
    terminal: DefaultTerminal,
}

impl Screen {
    fn enter() -> io::Result<Screen> {
        let terminal = ratatui::try_init()?;
        // Clicks and drags on the latent pad; a terminal without mouse reporting just
        // never sends them.
        let _ = ratatui::crossterm::execute!(io::stdout(), event::EnableMouseCapture);
        Ok(Screen { terminal })
    }
}

impl Drop for Screen {
    fn drop(&mut self) {
        let _ = ratatui::crossterm::execute!(io::stdout(), event::DisableMouseCapture);
        let _ = self.terminal.show_cursor();
        let _ = ratatui::try_restore();
    }
}

/// Runs the screen until the performer quits, `stop` is set (a signal), the terminal hangs up
/// or the engine ends. A hang-up ends it like `quit`: nothing more is drawn.
pub fn run(engine: &EngineHandle, stop: &AtomicBool, mut app: App) -> io::Result<()> {
    let mut screen = Screen::enter()?;
    let done = Arc::new(AtomicBool::new(false));
    let events = input::spawn(Arc::clone(&done), FRAME);
    let result = show(&mut screen, engine, stop, &mut app, &events);
    done.store(true, Ordering::Relaxed);
    if !input::hung_up() {
        return result;
    }
    input::leave_hung_up_terminal();
    Ok(())
}

/// The screen's loop: events to commands, notices, a frame when something changed.
fn show(
    screen: &mut Screen,
    engine: &EngineHandle,
    stop: &AtomicBool,
    app: &mut App,
    events: &Receiver<Input>,
) -> io::Result<()> {
    let mut drawn: Option<Arc<Snapshot>> = None;
    let mut dirty = true;
    let mut last_frame = Instant::now() - FRAME;
    while !app.should_quit() && !stop.load(Ordering::Relaxed) && !engine.is_finished() {
        let wait = FRAME.saturating_sub(last_frame.elapsed());
        let first = match events.recv_timeout(wait) {
            Ok(input) => Some(input),
            Err(RecvTimeoutError::Timeout) => None,
            Err(RecvTimeoutError::Disconnected) => return Ok(()),
        };
        for input in first.into_iter().chain(events.try_iter()) {
            match input {
                Input::Gone => return Ok(()),
                Input::Event(Event::Key(key)) if key.kind != KeyEventKind::Release => {
                    if let Some(cmd) = app.handle_key(key) {
                        engine.command(cmd);
                    }
                }
                Input::Event(Event::Mouse(mouse)) => {
                    if let Some(cmd) = app.handle_mouse(mouse) {
                        engine.command(cmd);
                    }
                }
                Input::Event(Event::Resize(..)) => {}
                Input::Event(_) => continue,
            }
            dirty = true;
        }
        for notice in engine.notices() {
            app.notice(notice);
            dirty = true;
        }
        if last_frame.elapsed() < FRAME || stop.load(Ordering::Relaxed) {
            continue;
        }
        let snap = engine.snapshot();
        let changed = drawn.as_ref().is_none_or(|d| **d != *snap);
        if dirty || changed {
            screen
                .terminal
                .draw(|frame| layers::draw(app, &snap, frame))?;
            last_frame = Instant::now();
            drawn = Some(snap);
            dirty = false;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;
    use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

    use super::keymap::Keymap;
    use super::theme::Theme;
    use super::*;
    use crate::performance::Performance;
    use crate::scene::library::default_scene;
    use crate::snapshot::Notice;

    /// A snapshot of the default scene a few bars in, with a change queued for the next cycle.
    fn snapshot() -> Snapshot {
        let mut perf = Performance::new(default_scene());
        let playing = perf.queued();
        for line in [
            "grid kick X..x..x.X...x...X..x..x.X...x.x.",
            "gain bass -6",
            "filter -0.3",
        ] {
            perf.apply(&crate::command::parse(line).unwrap()).unwrap();
        }
        let mut status = crate::audio::Status {
            frame: 480_000,
            cycle: 3,
            step: 9.5,
            tempo_bpm: 122.0,
            dsp_load: 0.0,
            master_peak: 0.5,
            playing: true,
            ..Default::default()
        };
        status.track_peaks = [0.7, 0.2, 0.0, 0.0, 0.0, 0.0, 0.0];
        Snapshot::of(
            &perf,
            status,
            playing,
            "silent (--audio none)",
            Some(Notice {
                ok: true,
                text: "filter -0.3".into(),
            }),
        )
    }

    fn screen(app: &App, w: u16, h: u16) -> Terminal<TestBackend> {
        draw(app, &snapshot(), w, h)
    }

    fn draw(app: &App, snap: &Snapshot, w: u16, h: u16) -> Terminal<TestBackend> {
        let mut term = Terminal::new(TestBackend::new(w, h)).unwrap();
        term.draw(|f| layers::draw(app, snap, f)).unwrap();
        term
    }

    /// A snapshot with the models and the shipped loop library at work: the AI composed at a
    /// latent point, the music and rhythm sets rank their loops, the feedback loop heard the
    /// cycle before.
    fn ai_snapshot() -> Snapshot {
        use crate::loops::library::Library;
        use crate::model::registry::Models;
        let (models, problems) = Models::embedded();
        assert!(problems.is_empty(), "{problems:?}");
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("loops");
        let mut models = models.with_library(Some(Library::open(&root)));
        let mut perf = Performance::new(default_scene());
        for line in [
            "loop music on",
            "loop rhythm on",
            "feedback on",
            "z 0.8 -0.6",
        ] {
            perf.apply_with(&crate::command::parse(line).unwrap(), &mut models)
                .unwrap();
        }
        let played = crate::engine::render::render_scene(
            perf.scene(),
            &crate::engine::render::RenderOptions {
                bars: 2,
                sample_rate: 16_000,
                seed: 1,
            },
        );
        let heard = crate::loops::audio::mix_down(&played, 2);
        let (turn, ranked) = perf.listen(&mut models, &heard).unwrap();
        perf.heard(ranked);
        perf.tick(1, &mut models, Some(&turn));
        let playing = perf.queued();
        let status = crate::audio::Status {
            frame: 480_000,
            cycle: 1,
            step: 20.0,
            tempo_bpm: 122.0,
            master_peak: 0.4,
            playing: true,
            ..Default::default()
        };
        let mut snap = Snapshot::of(&perf, status, playing, "silent (--audio none)", None);
        snap.composing = true;
        snap.latent_map = models.latent_map(perf.scene().ai.model);
        snap.library = true;
        // Each set plays its second candidate and plays its first next, so both marks show.
        for view in &mut snap.loops {
            view.playing = view.candidates.get(1).map(|c| c.name.clone());
            view.wanted = view.candidates.first().map(|c| c.name.clone());
        }
        snap
    }

    fn app() -> App {
        App::new(Keymap::default(), Theme::shipped("dark").unwrap(), None)
    }

    fn text(term: &Terminal<TestBackend>) -> String {
        let buf = term.backend().buffer();
        (0..buf.area.height)
            .map(|y| {
                (0..buf.area.width)
                    .map(|x| buf[(x, y)].symbol())
                    .collect::<String>()
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    #[test]
    fn compact_80x24() {
        let term = screen(&app(), 80, 24);
        let s = text(&term);
        for part in [
            "grid",
            "latent",
            "loops",
            "mixer",
            "no model loaded",
            "MIDI: off",
            "BD",
            "BS",
            "locked: drums",
        ] {
            assert!(s.contains(part), "{part} missing:\n{s}");
        }
        insta::assert_snapshot!("compact_80x24", term.backend());
    }

    #[test]
    fn p_without_a_record_says_so_in_one_line() {
        let mut a = app();
        let cmd = a
            .handle_key(KeyEvent::new(KeyCode::Char('p'), KeyModifiers::NONE))
            .expect("p sends a command");
        assert_eq!(cmd.to_string(), "deck toggle");
        let mut perf = Performance::new(default_scene());
        let err = perf.apply(&cmd).unwrap_err().to_string();
        a.notice(Notice::refused(err.clone()));
        let s = text(&screen(&a, 80, 24));
        let status = s.lines().nth(22).unwrap();
        assert_eq!(
            status.trim_end().trim_end_matches("[grid]").trim_end(),
            format!("✗ {err}")
        );
        assert!(err.contains("no record on the deck"), "{err}");
    }

    #[test]
    fn wide_160x48() {
        let term = screen(&app(), 160, 48);
        let s = text(&term);
        assert!(s.contains(" now ") && s.contains(" next cycle "), "{s}");
        insta::assert_snapshot!("wide_160x48", term.backend());
    }

    #[test]
    fn with_the_ai_at_work() {
        let snap = ai_snapshot();
        let music = &snap.loops[0];
        assert!(music.on && music.candidates.len() >= 5);
        let term = draw(&app(), &snap, 80, 24);
        let s = text(&term);
        for part in ["music", "rhythm", "feedback", "▶", "›"] {
            assert!(s.contains(part), "{part} missing:\n{s}");
        }
        assert!(
            !s.contains("no model loaded") && !s.contains("no loop library"),
            "{s}"
        );
        // At 80×24 the loop panel lists at least three candidates, each with its score, and
        // what the feedback loop heard.
        let listed = snap
            .loops
            .iter()
            .flat_map(|l| &l.candidates)
            .filter(|c| {
                let score = format!(" {:.2}│", c.score);
                s.lines().any(|l| l.contains(&c.name) && l.contains(&score))
            })
            .count();
        assert!(listed >= 3, "{listed} candidates with scores:\n{s}");
        let heard = snap.feedback.as_ref().unwrap();
        assert!(
            s.contains(&format!("feedback↺{} {:.2}", heard.loop_name, heard.score)),
            "{s}"
        );
        insta::assert_snapshot!("ai_80x24", term.backend());
        insta::assert_snapshot!("ai_160x48", draw(&app(), &snap, 160, 48).backend());
    }

    #[test]
    fn help_overlay_and_prompt() {
        let mut a = app();
        a.handle_key(KeyEvent::new(KeyCode::Char('?'), KeyModifiers::NONE));
        insta::assert_snapshot!("help_80x24", screen(&a, 80, 24).backend());
        let mut a = app();
        for c in ":mute ".chars() {
            a.handle_key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE));
        }
        a.handle_key(KeyEvent::new(KeyCode::Tab, KeyModifiers::NONE));
        let term = screen(&a, 80, 24);
        let s = text(&term);
        assert!(s.contains(":mute drums"), "{s}");
        assert!(s.contains("mute drums   mute bass"), "{s}");
        insta::assert_snapshot!("prompt_80x24", term.backend());
    }

    /// `--rhythm-model FILE` shows FILE's latent map (`FILE.map.ron` beside it), not the
    /// embedded model's: the registry loads it with the model, the snapshot carries it, the
    /// pad draws it; a model file without a map shows no map.
    #[test]
    fn the_pad_draws_the_latent_map_of_the_loaded_model() {
        use crate::model::registry::ModelPaths;
        use crate::model::rhythm::infer::{EMBEDDED_META, EMBEDDED_WEIGHTS};
        use crate::model::rhythm::latent_map::{LatentMap, MapPoint, map_path};
        let dir = tempfile::tempdir().unwrap();
        let weights = dir.path().join("mine.bpk");
        std::fs::write(&weights, EMBEDDED_WEIGHTS).unwrap();
        std::fs::write(weights.with_extension("json"), EMBEDDED_META).unwrap();
        let paths = ModelPaths {
            rhythm: Some(weights.clone()),
            ..ModelPaths::default()
        };
        let loaded_map = || {
            let (models, problems) = paths.load_models();
            assert!(problems.is_empty(), "{problems:?}");
            models.latent_map(crate::command::ModelName::DEFAULT)
        };
        assert_eq!(loaded_map(), None, "no map file beside the model, no map");
        // One point in the top-left corner of the plane.
        let mine = LatentMap {
            styles: vec!["mine".into()],
            points: vec![MapPoint {
                x: -2.9,
                y: 2.9,
                style: 0,
            }],
        };
        std::fs::write(map_path(&weights), mine.to_ron().unwrap()).unwrap();
        let map = loaded_map().expect("the map beside the model is loaded with it");
        assert_eq!(*map, mine);
        // Cells of the pad's top-left quadrant (off the axes) with braille dots in them.
        let dotted = |latent_map| {
            let mut snap = snapshot();
            snap.composing = true;
            snap.latent_map = latent_map;
            let a = app();
            let term = draw(&a, &snap, 160, 48);
            let (area, _) = a.pad.get().expect("the pad was drawn");
            let buf = term.backend().buffer();
            let mut cells = Vec::new();
            for y in area.y..area.y + area.height / 2 - 1 {
                for x in area.x..area.x + area.width / 2 - 1 {
                    let c = buf[(x, y)].symbol().chars().next().unwrap_or(' ');
                    if ('\u{2801}'..='\u{28ff}').contains(&c) {
                        cells.push((x - area.x, y - area.y));
                    }
                }
            }
            cells
        };
        let own = dotted(Some(map));
        assert!(
            !own.is_empty() && own.iter().all(|&(x, y)| x <= 1 && y <= 1),
            "{own:?}"
        );
        assert!(dotted(None).is_empty());
        let embedded = dotted(Some(std::sync::Arc::new(LatentMap::embedded().unwrap())));
        assert!(embedded.len() > 10, "{embedded:?}");
    }

    #[test]
    fn a_click_on_the_pad_puts_the_ai_there() {
        use ratatui::crossterm::event::{MouseButton, MouseEvent, MouseEventKind};
        let mut a = app();
        let snap = ai_snapshot();
        let _ = draw(&a, &snap, 80, 24);
        let (area, _) = a.pad.get().expect("the pad was drawn");
        let click = |column, row, kind| MouseEvent {
            kind,
            column,
            row,
            modifiers: KeyModifiers::NONE,
        };
        let down = MouseEventKind::Down(MouseButton::Left);
        // The top-left corner is near (−3, 3), the bottom-right near (3, −3).
        let Some(crate::command::Command::Z(x, y)) = a.handle_mouse(click(area.x, area.y, down))
        else {
            panic!("a click on the pad moves the AI");
        };
        assert!(x < -2.5 && y >= 1.9, "{x} {y}");
        let drag = MouseEventKind::Drag(MouseButton::Left);
        let right = area.x + area.width - 1;
        let bottom = area.y + area.height - 1;
        let Some(crate::command::Command::Z(x, y)) = a.handle_mouse(click(right, bottom, drag))
        else {
            panic!("a drag moves it too");
        };
        assert!(x > 2.5 && y <= -1.9, "{x} {y}");
        assert!(
            a.handle_mouse(click(0, 0, down)).is_none(),
            "outside the pad"
        );
    }

    #[test]
    fn quit_question_and_small_terminal() {
        let mut a = app();
        a.handle_key(KeyEvent::new(KeyCode::Char('q'), KeyModifiers::NONE));
        let s = text(&screen(&a, 80, 24));
        assert!(s.contains("Quit ubiq?"), "{s}");
        let s = text(&screen(&app(), 60, 12));
        assert!(s.contains("ubiq needs 80×24 (this is 60×12)"), "{s}");
    }

    #[test]
    fn every_size_from_tiny_to_huge_draws() {
        for (w, h) in [
            (1, 1),
            (20, 5),
            (79, 23),
            (80, 24),
            (100, 30),
            (139, 35),
            (140, 36),
            (300, 90),
        ] {
            let _ = screen(&app(), w, h);
        }
    }

    #[test]
    fn mono_theme_has_no_colour() {
        let a = App::new(Keymap::default(), Theme::shipped("mono").unwrap(), None);
        let term = screen(&a, 80, 24);
        let buf = term.backend().buffer();
        assert!(
            buf.content()
                .iter()
                .all(|c| c.fg == ratatui::style::Color::Reset
                    && c.bg == ratatui::style::Color::Reset)
        );
    }
}
