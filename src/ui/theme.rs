//! Colour themes: `themes/*.ron` (shipped ones are built in), chosen with `--theme NAME`.
//!
//! A theme file names a style for every element of the screen. A style is
//! `(fg: "COLOUR", bg: "COLOUR", bold: true, dim: true, reversed: true, underlined: true)`,
//! every field optional; a colour is a name (`red`, `lightblue`, `darkgray`, `reset`),
//! `#rrggbb` or an index 0–255. `NO_COLOR` (any non-empty value) strips every colour and
//! keeps the modifiers, so the shipped `mono` theme is the default then.

use std::path::{Path, PathBuf};
use std::str::FromStr;

use ratatui::style::{Color, Modifier, Style};
use serde::Deserialize;
use thiserror::Error;

/// The shipped themes: name and file text.
pub const SHIPPED: &[(&str, &str)] = &[
    ("dark", include_str!("../../themes/dark.ron")),
    ("light", include_str!("../../themes/light.ron")),
    ("mono", include_str!("../../themes/mono.ron")),
];

/// Why a theme could not be used.
#[derive(Debug, Error)]
pub enum ThemeError {
    /// Neither a shipped theme, a user theme nor a file.
    #[error("unknown theme {name:?} (shipped: {known}; or give a .ron file)")]
    Unknown {
        /// What was asked for.
        name: String,
        /// The shipped names.
        known: String,
    },
    /// The file could not be read.
    #[error("theme {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        source: crate::files::ReadError,
    },
    /// The file is not a valid theme.
    #[error("theme {name}: {source}")]
    Parse {
        /// The theme's name or file.
        name: String,
        /// Where and what (line:col from RON).
        source: Box<ron::error::SpannedError>,
    },
    /// A colour that is neither a name, `#rrggbb` nor an index.
    #[error("theme {name}: {role}: {text:?} is not a colour")]
    Colour {
        /// The theme's name or file.
        name: String,
        /// The element whose style names it.
        role: &'static str,
        /// What was written.
        text: String,
    },
    /// An empty list of training-set styles.
    #[error("theme {name}: styles: give at least one style")]
    NoStyles {
        /// The theme's name or file.
        name: String,
    },
}

/// One style as written in a theme file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct StyleDef {
    fg: String,
    bg: String,
    bold: bool,
    dim: bool,
    reversed: bool,
    underlined: bool,
}

/// The colour `text` names, none when empty; `name` and `role` tell where it is written.
fn color(name: &str, role: &'static str, text: &str) -> Result<Option<Color>, ThemeError> {
    if text.is_empty() {
        return Ok(None);
    }
    Color::from_str(text)
        .map(Some)
        .map_err(|_| ThemeError::Colour {
            name: name.into(),
            role,
            text: text.into(),
        })
}

impl StyleDef {
    fn style(&self, name: &str, role: &'static str) -> Result<Style, ThemeError> {
        let mut s = Style::default();
        if let Some(c) = color(name, role, &self.fg)? {
            s = s.fg(c);
        }
        if let Some(c) = color(name, role, &self.bg)? {
            s = s.bg(c);
        }
        for (on, m) in [
            (self.bold, Modifier::BOLD),
            (self.dim, Modifier::DIM),
            (self.reversed, Modifier::REVERSED),
            (self.underlined, Modifier::UNDERLINED),
        ] {
            if on {
                s = s.add_modifier(m);
            }
        }
        Ok(s)
    }
}

fn strip(style: Style) -> Style {
    Style {
        fg: None,
        bg: None,
        ..style
    }
}

macro_rules! roles {
    ($($(#[doc = $doc:expr])* $name:ident,)*) => {
        /// The style of every element of the screen.
        #[derive(Debug, Clone, PartialEq)]
        pub struct Theme {
            /// The theme's name.
            pub name: String,
            $($(#[doc = $doc])* pub $name: Style,)*
            /// Colours of the training-set styles on the latent pad (by style id, wrapping).
            pub styles: Vec<Style>,
        }

        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct ThemeFile {
            name: String,
            $($name: StyleDef,)*
            styles: Vec<StyleDef>,
        }

        impl ThemeFile {
            /// The theme; `name` (the theme's name or file) goes into errors.
            fn into_theme(self, name: &str) -> Result<Theme, ThemeError> {
                let styles = self
                    .styles
                    .iter()
                    .map(|s| s.style(name, "styles"))
                    .collect::<Result<Vec<_>, _>>()?;
                if styles.is_empty() {
                    return Err(ThemeError::NoStyles { name: name.into() });
                }
                Ok(Theme {
                    name: self.name,
                    $($name: self.$name.style(name, stringify!($name))?,)*
                    styles,
                })
            }
        }

        impl Theme {
            /// The same theme without colours (modifiers kept), for `NO_COLOR`.
            pub fn without_colors(mut self) -> Theme {
                $(self.$name = strip(self.$name);)*
                for s in &mut self.styles {
                    *s = strip(*s);
                }
                self
            }
        }
    };
}

roles! {
    /// Text and background of the whole screen.
    base,
    /// Secondary text: labels, units, empty grid cells.
    dim,
    /// Panel titles.
    title,
    /// Panel borders.
    border,
    /// The border of the focused panel.
    border_focus,
    /// Values that matter (tempo, position).
    accent,
    /// The playhead column of the grid.
    playhead,
    /// Grid cells on a beat.
    beat,
    /// Soft hits (velocity below 0.45).
    hit_soft,
    /// Medium hits.
    hit_mid,
    /// Loud hits (velocity 0.8 and up).
    hit_loud,
    /// A hit the next cycle adds.
    preview_add,
    /// A hit the next cycle drops.
    preview_drop,
    /// Micro-timing mark of an early hit.
    early,
    /// Micro-timing mark of a late hit.
    late,
    /// Bass note starts and names.
    bass_note,
    /// Bass holds.
    bass_hold,
    /// Meter below −12 dB.
    meter_low,
    /// Meter from −12 to −3 dB.
    meter_mid,
    /// Meter from −3 dB up.
    meter_high,
    /// Muted tracks.
    muted,
    /// Soloed tracks.
    solo,
    /// Good news in the status line.
    ok,
    /// Errors and warnings.
    error,
    /// The current latent position.
    position,
    /// The latent trail.
    trail,
    /// The feedback target.
    target,
    /// Slider fill.
    slider,
    /// The prompt line.
    prompt,
    /// Pop-up windows (help, quit).
    popup,
}

impl Theme {
    /// Reads a theme from RON text; `name` is used in messages.
    pub fn parse(name: &str, text: &str) -> Result<Theme, ThemeError> {
        let file: ThemeFile = ron::from_str(text).map_err(|source| ThemeError::Parse {
            name: name.to_string(),
            source: Box::new(source),
        })?;
        file.into_theme(name)
    }

    /// A shipped theme by name.
    pub fn shipped(name: &str) -> Option<Theme> {
        SHIPPED
            .iter()
            .find(|(n, _)| *n == name)
            .and_then(|(n, text)| Theme::parse(n, text).ok())
    }

    /// The default theme: `dark`, or `mono` under `NO_COLOR`.
    pub fn default_for(no_color: bool) -> Theme {
        let name = if no_color { "mono" } else { "dark" };
        let theme = Theme::shipped(name).expect("the shipped themes parse (a test checks them)");
        if no_color {
            theme.without_colors()
        } else {
            theme
        }
    }

    /// Resolves `--theme NAME`: a shipped name, a theme in `config_dir/themes/NAME.ron`, or
    /// a path to a `.ron` file. Colours are stripped when `no_color`.
    pub fn load(
        name: Option<&str>,
        config_dir: Option<&Path>,
        no_color: bool,
    ) -> Result<Theme, ThemeError> {
        let Some(name) = name else {
            return Ok(Theme::default_for(no_color));
        };
        let theme = if let Some(t) = Theme::shipped(name) {
            t
        } else {
            let user = config_dir.map(|d| d.join("themes").join(format!("{name}.ron")));
            let path = match user {
                Some(p) if p.is_file() => p,
                _ if name.ends_with(".ron") || name.contains(std::path::MAIN_SEPARATOR) => {
                    PathBuf::from(name)
                }
                _ => {
                    return Err(ThemeError::Unknown {
                        name: name.to_string(),
                        known: SHIPPED
                            .iter()
                            .map(|(n, _)| *n)
                            .collect::<Vec<_>>()
                            .join(", "),
                    });
                }
            };
            let text = crate::files::read_text_bounded(&path, crate::files::SMALL_LIMIT).map_err(
                |source| ThemeError::Read {
                    path: path.clone(),
                    source,
                },
            )?;
            Theme::parse(&path.display().to_string(), &text)?
        };
        Ok(if no_color {
            theme.without_colors()
        } else {
            theme
        })
    }

    /// The colour of a training-set style id on the pad.
    pub fn style_color(&self, id: u16) -> Style {
        self.styles[usize::from(id) % self.styles.len()]
    }
}

/// True when the `NO_COLOR` convention asks for no colour.
pub fn no_color_requested() -> bool {
    std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_themes_load_and_differ() {
        let themes: Vec<Theme> = SHIPPED
            .iter()
            .map(|(n, text)| Theme::parse(n, text).unwrap_or_else(|e| panic!("{e}")))
            .collect();
        assert_eq!(themes.len(), 3);
        assert_ne!(themes[0], themes[1]);
        for (t, (n, _)) in themes.iter().zip(SHIPPED) {
            assert_eq!(t.name, *n);
        }
        let mono = &themes[2];
        assert!(mono.base.fg.is_none_or(|c| c == Color::Reset));
    }

    #[test]
    fn no_color_strips_colours_and_keeps_modifiers() {
        let t = Theme::load(Some("dark"), None, true).unwrap();
        assert!(t.hit_loud.fg.is_none() && t.playhead.bg.is_none());
        assert_eq!(Theme::default_for(true).name, "mono");
        let dark = Theme::shipped("dark").unwrap();
        assert_eq!(
            t.without_colors().hit_loud.add_modifier,
            dark.hit_loud.add_modifier
        );
    }

    #[test]
    fn bad_themes_are_reported() {
        let err = Theme::load(Some("nope"), None, false).unwrap_err();
        assert!(err.to_string().contains("dark, light, mono"), "{err}");
        let broken = SHIPPED[0].1.replacen("\"#", "\"#zz", 1);
        let err = Theme::parse("x", &broken).unwrap_err().to_string();
        assert!(err.contains("is not a colour"), "{err}");
        let err = Theme::parse("x", "(name: \"x\")").unwrap_err().to_string();
        assert!(err.starts_with("theme x: "), "{err}");
    }

    #[test]
    fn user_theme_files_load() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("themes")).unwrap();
        let text = SHIPPED[1].1.replace("name: \"light\"", "name: \"mine\"");
        std::fs::write(dir.path().join("themes/mine.ron"), &text).unwrap();
        let t = Theme::load(Some("mine"), Some(dir.path()), false).unwrap();
        assert_eq!(t.name, "mine");
        let file = dir.path().join("other.ron");
        std::fs::write(&file, &text).unwrap();
        let t = Theme::load(file.to_str(), None, false).unwrap();
        assert_eq!(t.name, "mine");
    }
}
