//! Hydrogen drum kits (`drumkit.xml`, the format of Hydrogen 0.9 and 1.x) as a [`KitSpec`].
//!
//! Each instrument becomes the voice its MIDI note names in General MIDI (`midiOutNote`), or
//! else the voice its name suggests ("Kick", "Snare", "Hat Open", …); the first instrument of
//! a voice plays it. Its layers become velocity layers (layers of the same velocity range take
//! turns), `volume` × `gain` its level, a layer's `pitch` its tune, and `muteGroup` its choke
//! group. Hydrogen's envelope and filter settings are not read: the samples play as recorded.

use std::collections::BTreeMap;
use std::path::Path;

use roxmltree::{Document, Node, ParsingOptions};

use super::KitError;
use super::spec::{KitSpec, LayerSpec, VoiceSpec};
use crate::midifile::drum_map::DrumMap;
use crate::pattern::Voice;

/// Most XML nodes a kit file may hold (a big kit has a few thousand).
const NODES_LIMIT: u32 = 200_000;

/// The voice an instrument's name suggests.
fn voice_by_name(name: &str) -> Option<Voice> {
    let n = name.to_ascii_lowercase();
    let has = |words: &[&str]| words.iter().any(|w| n.contains(w));
    Some(if has(&["kick", "bass drum", "bd"]) {
        Voice::Kick
    } else if has(&["snare", "clap", "rim", "sd"]) {
        Voice::Snare
    } else if has(&["hat", "hh"]) {
        if has(&["open"]) {
            Voice::OpenHat
        } else {
            Voice::ClosedHat
        }
    } else if has(&["tom"]) {
        if has(&["low", "floor", "lo "]) {
            Voice::LowTom
        } else if has(&["high", "hi "]) {
            Voice::HighTom
        } else {
            Voice::MidTom
        }
    } else if has(&["crash", "splash", "china"]) {
        Voice::Crash
    } else if has(&["ride"]) {
        Voice::Ride
    } else {
        return None;
    })
}

fn child<'a>(node: Node<'a, 'a>, name: &str) -> Option<Node<'a, 'a>> {
    node.children().find(|c| c.tag_name().name() == name)
}

fn text<'a>(node: Node<'a, 'a>, name: &str) -> Option<&'a str> {
    child(node, name).and_then(|c| c.text()).map(str::trim)
}

fn number(node: Node, name: &str, default: f32) -> f32 {
    text(node, name)
        .and_then(|t| t.parse::<f32>().ok())
        .filter(|v| v.is_finite())
        .unwrap_or(default)
}

/// One Hydrogen layer: its file and velocity range, gain and pitch.
struct HydrogenLayer {
    file: String,
    min: f32,
    gain: f32,
    pitch: f32,
}

/// The layers of an instrument: those of its first component (Hydrogen 1.x), its own
/// (0.9), or its single `filename` (older kits).
fn layers(instrument: Node) -> Vec<HydrogenLayer> {
    let holder = child(instrument, "instrumentComponent").unwrap_or(instrument);
    let mut out: Vec<HydrogenLayer> = holder
        .children()
        .filter(|c| c.tag_name().name() == "layer")
        .filter_map(|l| {
            Some(HydrogenLayer {
                file: text(l, "filename")?.to_string(),
                min: number(l, "min", 0.0).clamp(0.0, 1.0),
                gain: number(l, "gain", 1.0),
                pitch: number(l, "pitch", 0.0),
            })
        })
        .collect();
    if out.is_empty()
        && let Some(file) = text(instrument, "filename")
    {
        out.push(HydrogenLayer {
            file: file.to_string(),
            min: 0.0,
            gain: 1.0,
            pitch: 0.0,
        });
    }
    out
}

/// Gain as dB, within the range a kit file allows.
fn db(gain: f32) -> f32 {
    (20.0 * gain.max(1e-3).log10()).clamp(-60.0, 12.0)
}

/// Reads `drumkit.xml` text; errors name `path` (with line and column for bad XML).
pub fn parse(text_in: &str, path: &Path) -> Result<KitSpec, KitError> {
    let options = ParsingOptions {
        allow_dtd: false,
        nodes_limit: NODES_LIMIT,
        ..ParsingOptions::default()
    };
    let doc = Document::parse_with_options(text_in, options).map_err(|e| {
        let pos = e.pos();
        KitError::at(path, pos.row as usize, pos.col as usize, e.to_string())
    })?;
    let root = doc.root_element();
    if root.tag_name().name() != "drumkit_info" {
        return Err(KitError::at(
            path,
            0,
            0,
            "not a Hydrogen drum kit (no drumkit_info)",
        ));
    }
    let name = text(root, "name").unwrap_or_default().to_string();
    let list = child(root, "instrumentList")
        .ok_or_else(|| KitError::at(path, 0, 0, "no instrumentList"))?;
    let mut voices = BTreeMap::new();
    for instrument in list
        .children()
        .filter(|c| c.tag_name().name() == "instrument")
    {
        let label = text(instrument, "name").unwrap_or_default();
        let by_note = text(instrument, "midiOutNote")
            .and_then(|t| t.parse::<u8>().ok())
            .and_then(|n| DrumMap::GeneralMidi.voice(n));
        let Some(voice) = by_note.or_else(|| voice_by_name(label)) else {
            continue;
        };
        if voices.contains_key(&voice) {
            continue;
        }
        let found = layers(instrument);
        let Some(first) = found.first() else {
            continue;
        };
        let tune = first.pitch.clamp(-24.0, 24.0);
        // Layers that start at the same velocity take turns.
        let mut by_start: Vec<LayerSpec> = Vec::new();
        for l in &found {
            match by_start.iter_mut().find(|s| s.from == l.min) {
                Some(s) => s.samples.push(l.file.clone()),
                None => by_start.push(LayerSpec {
                    from: l.min,
                    samples: vec![l.file.clone()],
                    gain_db: db(l.gain),
                }),
            }
        }
        let muted = text(instrument, "isMuted") == Some("true");
        let level = number(instrument, "volume", 1.0) * number(instrument, "gain", 1.0);
        let choke = text(instrument, "muteGroup")
            .and_then(|t| t.parse::<i32>().ok())
            .and_then(|g| u8::try_from(g).ok());
        voices.insert(
            voice,
            VoiceSpec {
                layers: by_start,
                tune,
                level_db: if muted { -60.0 } else { db(level) },
                choke,
                ..VoiceSpec::default()
            },
        );
    }
    let spec = KitSpec { name, voices };
    spec.check().map_err(|m| KitError::at(path, 0, 0, m))?;
    Ok(spec)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A Hydrogen 1.x kit: a kick by its MIDI note with two velocity layers, hats by name in
    /// one mute group, a snare with two layers that take turns, and an instrument of no voice.
    pub(crate) const KIT: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<drumkit_info xmlns="http://www.hydrogen-music.org/drumkit">
 <name>Test Kit</name>
 <instrumentList>
  <instrument>
   <id>0</id><name>Big One</name><volume>1</volume><gain>0.5</gain>
   <muteGroup>-1</muteGroup><midiOutNote>36</midiOutNote>
   <instrumentComponent><component_id>0</component_id><gain>1</gain>
    <layer><filename>kick_soft.wav</filename><min>0</min><max>0.5</max><gain>1</gain><pitch>0</pitch></layer>
    <layer><filename>kick_hard.wav</filename><min>0.5</min><max>1</max><gain>1</gain><pitch>0</pitch></layer>
   </instrumentComponent>
  </instrument>
  <instrument>
   <id>1</id><name>Snare</name><volume>1</volume><gain>1</gain><muteGroup>-1</muteGroup>
   <layer><filename>sn1.wav</filename><min>0</min><max>1</max><gain>1</gain><pitch>2</pitch></layer>
   <layer><filename>sn2.wav</filename><min>0</min><max>1</max><gain>1</gain><pitch>2</pitch></layer>
  </instrument>
  <instrument>
   <id>2</id><name>Hat Closed</name><volume>1</volume><gain>1</gain><muteGroup>1</muteGroup>
   <layer><filename>hh.wav</filename><min>0</min><max>1</max><gain>1</gain><pitch>0</pitch></layer>
  </instrument>
  <instrument>
   <id>3</id><name>Hat Open</name><volume>1</volume><gain>1</gain><muteGroup>1</muteGroup>
   <layer><filename>oh.wav</filename><min>0</min><max>1</max><gain>1</gain><pitch>0</pitch></layer>
  </instrument>
  <instrument>
   <id>4</id><name>Cowbell</name><volume>1</volume><gain>1</gain><muteGroup>-1</muteGroup>
   <layer><filename>cow.wav</filename><min>0</min><max>1</max><gain>1</gain><pitch>0</pitch></layer>
  </instrument>
 </instrumentList>
</drumkit_info>"#;

    #[test]
    fn a_hydrogen_kit_becomes_voices_layers_and_choke_groups() {
        let spec = parse(KIT, Path::new("drumkit.xml")).unwrap();
        assert_eq!(spec.name, "Test Kit");
        assert_eq!(
            spec.voices.keys().copied().collect::<Vec<_>>(),
            [Voice::Kick, Voice::Snare, Voice::ClosedHat, Voice::OpenHat]
        );
        let kick = &spec.voices[&Voice::Kick];
        assert_eq!(kick.layers.len(), 2);
        assert_eq!(
            (kick.layers[1].from, &kick.layers[1].samples[0][..]),
            (0.5, "kick_hard.wav")
        );
        assert!((kick.level_db + 6.02).abs() < 0.01, "{}", kick.level_db);
        let snare = &spec.voices[&Voice::Snare];
        assert_eq!(snare.layers[0].samples, ["sn1.wav", "sn2.wav"]);
        assert_eq!(snare.tune, 2.0);
        assert_eq!(spec.voices[&Voice::OpenHat].choke, Some(1));
        assert_eq!(spec.voices[&Voice::Kick].choke, None);
    }

    #[test]
    fn bad_xml_is_refused_naming_the_line() {
        let e = parse("<drumkit_info>\n<name>x</nam>", Path::new("k/drumkit.xml")).unwrap_err();
        assert!(e.to_string().starts_with("k/drumkit.xml:2:"), "{e}");
        let e = parse("<song/>", Path::new("drumkit.xml")).unwrap_err();
        assert_eq!(
            e.to_string(),
            "drumkit.xml: not a Hydrogen drum kit (no drumkit_info)"
        );
        let dtd = "<!DOCTYPE x [<!ENTITY a \"aaaa\">]><drumkit_info/>";
        assert!(parse(dtd, Path::new("drumkit.xml")).is_err());
    }
}
