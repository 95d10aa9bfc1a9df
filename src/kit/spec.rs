//! What a kit file says: for each voice, its velocity layers of samples and how it plays.
//! `kit.ron` reads straight into it; a Hydrogen `drumkit.xml` is converted to it.
//!
//! ```ron
//! Kit(
//!     name: "sonic-pi",
//!     voices: {
//!         kick: (samples: ["bd_haus.flac"], level_db: -1.0),
//!         snare: (layers: [
//!             (samples: ["snare_soft.flac"]),
//!             (from: 0.6, samples: ["snare_hard_1.flac", "snare_hard_2.flac"]),
//!         ]),
//!         closed_hat: (samples: ["hat_closed.flac"], choke: 1),
//!         open_hat: (samples: ["hat_open.flac"], choke: 1, decay: 0.8),
//!     },
//! )
//! ```

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

use super::KitError;
use crate::pattern::Voice;

/// Most velocity layers a voice may have.
pub const MAX_LAYERS: usize = 16;
/// Most samples a layer may take turns with.
pub const MAX_ROUND_ROBIN: usize = 32;

/// A kit as its file describes it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename = "Kit", deny_unknown_fields)]
pub struct KitSpec {
    /// The kit's name (default: its folder's).
    #[serde(default)]
    pub name: String,
    /// How each voice plays; a voice not named is silent.
    pub voices: BTreeMap<Voice, VoiceSpec>,
}

/// How one voice plays.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct VoiceSpec {
    /// Samples of a single layer, played in turn (a shorthand for one layer from 0).
    pub samples: Vec<String>,
    /// Velocity layers.
    pub layers: Vec<LayerSpec>,
    /// Pitch in semitones, −24..24.
    pub tune: f32,
    /// Seconds in which a hit fades to −60 dB, 0.01..30 (none: it plays to the end).
    pub decay: Option<f32>,
    /// Level in dB, −60..12.
    pub level_db: f32,
    /// Choke group: a hit silences the hits of every voice of its group.
    pub choke: Option<u8>,
}

/// One velocity layer.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LayerSpec {
    /// Lowest velocity (0..1) that plays it.
    #[serde(default)]
    pub from: f32,
    /// Its samples (files in the kit's folder), played in turn.
    pub samples: Vec<String>,
    /// Its gain in dB, −60..12.
    #[serde(default)]
    pub gain_db: f32,
}

impl VoiceSpec {
    /// The voice's layers by rising velocity (the `samples` shorthand first, from 0).
    pub fn all_layers(&self) -> Vec<LayerSpec> {
        let mut layers = self.layers.clone();
        if !self.samples.is_empty() {
            layers.insert(
                0,
                LayerSpec {
                    from: 0.0,
                    samples: self.samples.clone(),
                    gain_db: 0.0,
                },
            );
        }
        layers.sort_by(|a, b| a.from.total_cmp(&b.from));
        layers
    }
}

fn within(what: &str, v: f32, lo: f32, hi: f32) -> Result<(), String> {
    if (lo..=hi).contains(&v) {
        Ok(())
    } else {
        Err(format!("{what} {v} is outside {lo}..{hi}"))
    }
}

impl KitSpec {
    /// Parses `kit.ron` text; errors name `path` with line and column.
    pub fn from_ron(text: &str, path: &Path) -> Result<KitSpec, KitError> {
        let spec: KitSpec = ron::Options::default()
            .with_default_extension(ron::extensions::Extensions::IMPLICIT_SOME)
            .from_str(text)
            .map_err(|e| {
                KitError::at(
                    path,
                    e.span.start.line,
                    e.span.start.col,
                    crate::text::cut(&crate::text::escape(&e.code.to_string()), 200),
                )
            })?;
        spec.check().map_err(|m| KitError::at(path, 0, 0, m))?;
        Ok(spec)
    }

    /// Refuses values out of range, empty layers and too many of anything: the message names
    /// the voice.
    pub fn check(&self) -> Result<(), String> {
        for (voice, v) in &self.voices {
            let at = |m: String| format!("{}: {m}", voice.name());
            within("tune", v.tune, -24.0, 24.0).map_err(at)?;
            within("level_db", v.level_db, -60.0, 12.0).map_err(at)?;
            if let Some(d) = v.decay {
                within("decay", d, 0.01, 30.0).map_err(at)?;
            }
            let layers = v.all_layers();
            if layers.len() > MAX_LAYERS {
                return Err(at(format!(
                    "{} layers (at most {MAX_LAYERS})",
                    layers.len()
                )));
            }
            for layer in &layers {
                within("from", layer.from, 0.0, 1.0).map_err(at)?;
                within("gain_db", layer.gain_db, -60.0, 12.0).map_err(at)?;
                if layer.samples.is_empty() {
                    return Err(at("a layer without samples".into()));
                }
                if layer.samples.len() > MAX_ROUND_ROBIN {
                    return Err(at(format!(
                        "{} samples in a layer (at most {MAX_ROUND_ROBIN})",
                        layer.samples.len()
                    )));
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_kit_file_reads_with_its_layers_in_velocity_order() {
        let text = r#"Kit(
            name: "test",
            voices: {
                kick: (samples: ["k.wav"], level_db: -2),
                snare: (layers: [(from: 0.6, samples: ["h1.wav", "h2.wav"], gain_db: 1), (samples: ["s.wav"])]),
                open_hat: (samples: ["o.wav"], choke: 1, decay: 0.5, tune: -3),
            },
        )"#;
        let spec = KitSpec::from_ron(text, Path::new("kit.ron")).unwrap();
        assert_eq!(spec.name, "test");
        assert_eq!(spec.voices.len(), 3);
        let snare = spec.voices[&Voice::Snare].all_layers();
        assert_eq!(snare[0].samples, ["s.wav"]);
        assert_eq!(snare[1].samples, ["h1.wav", "h2.wav"]);
        let hat = &spec.voices[&Voice::OpenHat];
        assert_eq!((hat.choke, hat.decay, hat.tune), (Some(1), Some(0.5), -3.0));
    }

    #[test]
    fn bad_kit_files_are_refused_naming_the_line_or_the_voice() {
        for (text, expected) in [
            (
                "Kit(voices: {kick: (samples: [\"k.wav\"], tune: 40)})",
                "kit.ron: kick: tune 40 is outside -24..24",
            ),
            (
                "Kit(voices: {\n  bongo: (samples: [\"b.wav\"])})",
                "kit.ron:2:",
            ),
            (
                "Kit(voices: {snare: (layers: [(samples: [])])})",
                "kit.ron: snare: a layer without samples",
            ),
            ("Kit(voices: {kick: (sample: [\"k.wav\"])})", "kit.ron:1:"),
            (
                "Kit(voices: {kick: (samples: [\"k.wav\"], decay: 0)})",
                "kit.ron: kick: decay 0 is outside",
            ),
        ] {
            let e = KitSpec::from_ron(text, Path::new("kit.ron"))
                .unwrap_err()
                .to_string();
            assert!(e.starts_with(expected), "{e:?} for {text}");
            assert!(!e.contains('\n'), "{e:?}");
        }
    }
}
