//! The scene file format (versioned), with validation inside deserialization so that every
//! refused value is reported at its position in the file.

use std::path::{Path, PathBuf};

use ron::extensions::Extensions;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::SceneError;
use super::include::{check_inside, check_record_inside, included_message, outside_allowed};
use crate::audio::params::{BassTimbre, DrumTimbre, Effects, Mix, Params, within};
use crate::audio::plan::CyclePlan;
use crate::command::{KeyMode, ModelName};
use crate::files::{SCENE_LIMIT, read_bounded};
use crate::loops::LoopSet;
use crate::pattern::{Bassline, DrumCell, DrumPattern, Key, STEPS, Scale, Voice, grid};

/// The scene format version this build writes and reads.
pub const SCENE_VERSION: u32 = 1;

/// One written drum row (see [`crate::pattern::grid`] for the syntax).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Grid(pub [DrumCell; STEPS]);

impl Serialize for Grid {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&grid::format_row(&self.0))
    }
}

impl<'de> Deserialize<'de> for Grid {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        grid::parse_row(&text)
            .map(Grid)
            .map_err(|e| serde::de::Error::custom(format!("in grid {text:?}: {e}")))
    }
}

/// Written grids per voice; voices left out stay silent.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[allow(missing_docs)]
pub struct DrumGrids {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kick: Option<Grid>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub snare: Option<Grid>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub closed_hat: Option<Grid>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub open_hat: Option<Grid>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub low_tom: Option<Grid>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mid_tom: Option<Grid>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub high_tom: Option<Grid>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub crash: Option<Grid>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ride: Option<Grid>,
}

impl DrumGrids {
    fn slot(&mut self, voice: Voice) -> &mut Option<Grid> {
        match voice {
            Voice::Kick => &mut self.kick,
            Voice::Snare => &mut self.snare,
            Voice::ClosedHat => &mut self.closed_hat,
            Voice::OpenHat => &mut self.open_hat,
            Voice::LowTom => &mut self.low_tom,
            Voice::MidTom => &mut self.mid_tom,
            Voice::HighTom => &mut self.high_tom,
            Voice::Crash => &mut self.crash,
            Voice::Ride => &mut self.ride,
        }
    }

    /// Writes (or with `None`, clears) one voice's row.
    pub fn set_row(&mut self, voice: Voice, cells: Option<[DrumCell; STEPS]>) {
        *self.slot(voice) = cells.map(Grid);
    }

    /// The grids as a pattern.
    pub fn pattern(&self) -> DrumPattern {
        let mut grids = *self;
        let mut p = DrumPattern::new();
        for voice in Voice::ALL {
            if let Some(Grid(cells)) = grids.slot(voice) {
                *p.row_mut(voice) = *cells;
            }
        }
        p
    }

    /// Grids for a pattern (voices without hits are left out).
    pub fn from_pattern(pattern: &DrumPattern) -> Self {
        let mut grids = DrumGrids::default();
        for voice in Voice::ALL {
            if pattern.count(voice) > 0 {
                *grids.slot(voice) = Some(Grid(*pattern.row(voice)));
            }
        }
        grids
    }
}

/// A written bassline with absolute note names (see [`Bassline`] for the syntax).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NoteLine(Bassline);

impl NoteLine {
    /// A line whose pitches are absolute MIDI notes (as `Bassline::parse(text, 0)` gives).
    pub fn from_absolute(line: Bassline) -> Self {
        NoteLine(line)
    }
}

impl Serialize for NoteLine {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0.format(0))
    }
}

impl<'de> Deserialize<'de> for NoteLine {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Bassline::parse(&text, 0)
            .map(NoteLine)
            .map_err(|e| serde::de::Error::custom(format!("in bassline: {e}")))
    }
}

/// The bass part: key, scale and an optional written line.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BassPart {
    /// Tonic of the set's key.
    pub key: Key,
    /// Octave of the tonic the bass plays around (1: A1 = 55 Hz).
    pub octave: i8,
    /// Scale that generated lines are kept in.
    pub scale: Scale,
    /// The written line; none means the bass is silent until a model writes one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<NoteLine>,
}

impl Default for BassPart {
    fn default() -> Self {
        BassPart {
            key: Key::new(9),
            octave: 1,
            scale: Scale::Minor,
            line: None,
        }
    }
}

impl BassPart {
    /// MIDI note of the tonic in the bass octave.
    pub fn tonic_midi(&self) -> u8 {
        self.key.root_midi(self.octave)
    }

    /// The line with pitches relative to the tonic.
    pub fn bassline(&self) -> Bassline {
        match self.line {
            Some(NoteLine(abs)) => abs.transposed(-(self.tonic_midi() as i8)),
            None => Bassline::default(),
        }
    }

    /// Sets the line from pitches relative to the tonic.
    pub fn set_bassline(&mut self, line: &Bassline) {
        self.line = Some(NoteLine(line.transposed(self.tonic_midi() as i8)));
    }
}

/// Drum machine and bass synth sound.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Sound {
    /// Drum machine.
    pub drums: DrumTimbre,
    /// Bass synth.
    pub bass: BassTimbre,
}

fn cycles<'de, D: Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
    let v = u32::deserialize(d)?;
    if v > 64 {
        return Err(serde::de::Error::custom(format!(
            "{v} is out of range 0..64"
        )));
    }
    Ok(v)
}

/// How the AI composes: where it sits in the rhythm model's latent plane, how dense the kick
/// and hats are asked to be, and when it writes new cycles.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Ai {
    /// Latent x, −3..3.
    #[serde(deserialize_with = "within::<_, -3, 3>")]
    pub x: f32,
    /// Latent y, −3..3.
    #[serde(deserialize_with = "within::<_, -3, 3>")]
    pub y: f32,
    /// Kick density in standard deviations of the training set, −3 (sparse) ..3 (busy).
    #[serde(deserialize_with = "within::<_, -3, 3>")]
    pub kick: f32,
    /// Hi-hat density, −3..3.
    #[serde(deserialize_with = "within::<_, -3, 3>")]
    pub hats: f32,
    /// Onset threshold, 0..1 (lower: more hits).
    #[serde(deserialize_with = "within::<_, 0, 1>")]
    pub threshold: f32,
    /// How much of the model's micro-timing plays, 0 (quantised) ..1.
    #[serde(deserialize_with = "within::<_, 0, 1>")]
    pub timing: f32,
    /// Write a new cycle every N cycles (0: only when asked).
    #[serde(deserialize_with = "cycles")]
    pub every: u32,
    /// Latent drift per cycle, 0..1 (0: stay).
    #[serde(deserialize_with = "within::<_, 0, 1>")]
    pub walk: f32,
    /// Random jitter of the latent point at each new cycle, 0..1.
    #[serde(deserialize_with = "within::<_, 0, 1>")]
    pub noise: f32,
    /// Temperature of the bass's rhythm (rest, hold or a new note at each step), 0 (the
    /// most likely) ..2.
    #[serde(deserialize_with = "within::<_, 0, 2>")]
    pub temperature: f32,
    /// Temperature of the bass's notes, 0 (the most likely: a pedal) ..2; 1 follows the
    /// model's own spread.
    #[serde(deserialize_with = "within::<_, 0, 2>")]
    pub pitch_temperature: f32,
    /// Keep the drums as they are.
    pub lock_drums: bool,
    /// Keep the bassline as it is.
    pub lock_bass: bool,
    /// Freeze everything: no new cycles at all.
    pub hold: bool,
    /// The feedback loop: the rhythm loop that best fits what plays now pulls the latent
    /// point towards its pattern's encoding at each new cycle.
    pub feedback: bool,
    /// How far the feedback pulls the point each time, 0 (not at all) ..1 (all the way).
    #[serde(deserialize_with = "within::<_, 0, 1>")]
    pub feedback_amount: f32,
    /// The rhythm model of the bank the AI writes with (`groove`, `dance`, a model file's
    /// name); unset: the bank's first.
    #[serde(skip_serializing_if = "ModelName::is_default")]
    pub model: ModelName,
}

impl Default for Ai {
    fn default() -> Self {
        Ai {
            x: 0.0,
            y: 0.0,
            kick: 0.0,
            hats: 0.0,
            threshold: 0.5,
            timing: 1.0,
            every: 0,
            walk: 0.0,
            noise: 0.0,
            // The bass model's defaults (`model::bass::infer::DEFAULT_TEMPERATURE` and
            // `DEFAULT_PITCH_TEMPERATURE`).
            temperature: 0.1,
            pitch_temperature: 1.0,
            lock_drums: false,
            lock_bass: false,
            hold: false,
            feedback: false,
            feedback_amount: 0.5,
            model: ModelName::DEFAULT,
        }
    }
}

/// One loop set in a scene.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LoopSlot {
    /// The set plays.
    pub on: bool,
    /// The loop the performer fixed (by name); none: the AI picks the best fit each cycle.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pick: Option<String>,
    /// How a pitched set's picks meet the set's key: `match` (loops in the key or its
    /// relative first) or `free` (by fit alone).
    #[serde(skip_serializing_if = "KeyMode::is_match")]
    pub key: KeyMode,
}

/// The loop sets: which play, and which loop where the performer fixed one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[allow(missing_docs)]
pub struct LoopsPart {
    pub music: LoopSlot,
    pub ambient: LoopSlot,
    pub voice: LoopSlot,
    pub rhythm: LoopSlot,
    /// Candidates the AI ranks and shows per set, 1..16.
    #[serde(deserialize_with = "candidates")]
    pub candidates: u32,
    /// Bars of a phrase, 4, 8, 16 or 32: a set's loop changes on a phrase's first bar
    /// (earlier only when the performer asks, or when its fit falls clearly below the best
    /// candidate's).
    #[serde(deserialize_with = "phrase")]
    pub phrase: u32,
}

impl Default for LoopsPart {
    fn default() -> Self {
        LoopsPart {
            music: LoopSlot::default(),
            ambient: LoopSlot::default(),
            voice: LoopSlot::default(),
            rhythm: LoopSlot::default(),
            candidates: 5,
            phrase: DEFAULT_PHRASE,
        }
    }
}

impl LoopsPart {
    /// Whether any set plays.
    pub fn any_on(&self) -> bool {
        LoopSet::ALL.into_iter().any(|s| self.slot(s).on)
    }

    /// The slot of `set`.
    pub fn slot(&self, set: LoopSet) -> &LoopSlot {
        match set {
            LoopSet::Music => &self.music,
            LoopSet::Ambient => &self.ambient,
            LoopSet::Voice => &self.voice,
            LoopSet::Rhythm => &self.rhythm,
        }
    }

    /// The mutable slot of `set`.
    pub fn slot_mut(&mut self, set: LoopSet) -> &mut LoopSlot {
        match set {
            LoopSet::Music => &mut self.music,
            LoopSet::Ambient => &mut self.ambient,
            LoopSet::Voice => &mut self.voice,
            LoopSet::Rhythm => &mut self.rhythm,
        }
    }
}

/// Bars of a phrase unless a scene or `phrase N` says otherwise.
pub const DEFAULT_PHRASE: u32 = 8;
/// The phrase lengths a set can have, in bars.
pub const PHRASES: [u32; 4] = [4, 8, 16, 32];

fn phrase<'de, D: Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
    let v = u32::deserialize(d)?;
    if !PHRASES.contains(&v) {
        return Err(serde::de::Error::custom(format!(
            "a phrase is 4, 8, 16 or 32 bars, not {v}"
        )));
    }
    Ok(v)
}

fn candidates<'de, D: Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
    let v = u32::deserialize(d)?;
    if !(1..=16).contains(&v) {
        return Err(serde::de::Error::custom(format!(
            "{v} is out of range 1..16"
        )));
    }
    Ok(v)
}

/// A command line of a section, checked when the scene is read.
#[derive(Debug, Clone, PartialEq)]
pub struct CommandLine(pub crate::command::Command);

impl Serialize for CommandLine {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0.to_string())
    }
}

impl<'de> Deserialize<'de> for CommandLine {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        match crate::command::parse(&text) {
            Ok(crate::command::Command::Quit) => Err(serde::de::Error::custom(
                "in command \"quit\": a section cannot quit the set",
            )),
            Ok(cmd) => Ok(CommandLine(cmd)),
            Err(e) => Err(serde::de::Error::custom(format!(
                "in command {text:?}: {e}"
            ))),
        }
    }
}

/// One section of a set list: it lasts `bars` bars; when it starts, its scene file (if any)
/// takes over and its commands apply, from the next cycle.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Section {
    /// A name for displays.
    #[serde(default)]
    pub name: String,
    /// Length in bars: a whole number of two-bar cycles, 2..1024 (required).
    #[serde(deserialize_with = "section_bars")]
    pub bars: u32,
    /// A scene file that takes over when the section starts (a relative path is taken from
    /// this scene file's folder); its own sections are ignored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scene: Option<PathBuf>,
    /// Commands applied when the section starts, after its scene.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub commands: Vec<CommandLine>,
}

fn waypoints<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<(f32, f32)>, D::Error> {
    let points = Vec::<(f32, f32)>::deserialize(d)?;
    if let Some((x, y)) = points
        .iter()
        .find(|(x, y)| !(-3.0..=3.0).contains(x) || !(-3.0..=3.0).contains(y))
    {
        return Err(serde::de::Error::custom(format!(
            "waypoint ({x}, {y}) is outside the latent plane −3..3"
        )));
    }
    Ok(points)
}

fn section_bars<'de, D: Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
    let v = u32::deserialize(d)?;
    if !(2..=1024).contains(&v) || v % 2 != 0 {
        return Err(serde::de::Error::custom(format!(
            "{v} bars is not a whole number of two-bar cycles in 2..1024"
        )));
    }
    Ok(v)
}

/// The deck: a record the DJ mixes in (its level, pan and sends are the `deck` mixer track).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DeckPart {
    /// The audio file on the deck (wav, flac or ogg; a relative path is taken from the scene
    /// file's folder).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<PathBuf>,
    /// The record plays.
    pub playing: bool,
    /// Pitch in percent, −8..8 (a turntable's fader).
    #[serde(deserialize_with = "within::<_, -8, 8>")]
    pub rate: f32,
}

fn version<'de, D: Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
    let v = u32::deserialize(d)?;
    if v == 0 || v > SCENE_VERSION {
        return Err(serde::de::Error::custom(format!(
            "scene version {v} is not supported (this ubiq reads version {SCENE_VERSION})"
        )));
    }
    Ok(v)
}

/// A whole scene.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields, rename = "Scene")]
pub struct Scene {
    /// Format version (1).
    #[serde(deserialize_with = "version")]
    pub version: u32,
    /// A name for displays.
    pub name: String,
    /// Tempo in BPM, 40..240.
    #[serde(deserialize_with = "within::<_, 40, 240>")]
    pub tempo: f32,
    /// Swing in percent, 50 (straight) ..75.
    #[serde(deserialize_with = "within::<_, 50, 75>")]
    pub swing: f32,
    /// Written drum grids.
    pub drums: DrumGrids,
    /// The bass part.
    pub bass: BassPart,
    /// Drum and bass sound.
    pub sound: Sound,
    /// Mixer.
    pub mix: Mix,
    /// Send effects.
    pub effects: Effects,
    /// How the AI composes.
    pub ai: Ai,
    /// A latent path: at each new cycle its policy writes, the point moves to the next of
    /// these (x, y) waypoints, in turn, before the feedback loop and the walk move it on.
    #[serde(skip_serializing_if = "Vec::is_empty", deserialize_with = "waypoints")]
    pub path: Vec<(f32, f32)>,
    /// The loop sets.
    pub loops: LoopsPart,
    /// The deck.
    pub deck: DeckPart,
    /// The drum kit: a folder of samples (relative to the scene's folder, and inside it), a
    /// kit's name in `kits/`, or `synth` (the synthesized voices; also when not given).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kit: Option<PathBuf>,
    /// A set list: sections played in order from the first cycle.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub sections: Vec<Section>,
    /// After the last section, start again from the first (else the last one goes on).
    pub repeat: bool,
}

impl Default for Scene {
    fn default() -> Self {
        Scene {
            version: SCENE_VERSION,
            name: String::new(),
            tempo: 120.0,
            swing: 50.0,
            drums: DrumGrids::default(),
            bass: BassPart::default(),
            sound: Sound::default(),
            mix: Mix::default(),
            effects: Effects::default(),
            ai: Ai::default(),
            path: Vec::new(),
            loops: LoopsPart::default(),
            deck: DeckPart::default(),
            kit: None,
            sections: Vec::new(),
            repeat: false,
        }
    }
}

impl Scene {
    /// Parses scene text; errors name `path` with line and column.
    pub fn from_ron(text: &str, path: &Path) -> Result<Scene, SceneError> {
        Scene::parse(text, path, super::include::own_message)
    }

    /// Parses scene text with errors worded by `message`.
    fn parse(
        text: &str,
        path: &Path,
        message: fn(&ron::Error) -> String,
    ) -> Result<Scene, SceneError> {
        let options = ron::Options::default().with_default_extension(Extensions::IMPLICIT_SOME);
        let mut scene: Scene = options.from_str(text).map_err(|e| {
            SceneError::at(path, e.span.start.line, e.span.start.col, message(&e.code))
        })?;
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            let resolve = |f: &mut PathBuf| {
                if f.is_relative() {
                    *f = dir.join(&*f);
                }
            };
            if let Some(file) = &mut scene.deck.file {
                resolve(file);
            }
            // A kit folder beside the scene; else the name of a kit in `kits/`.
            if let Some(kit) = &mut scene.kit
                && kit.is_relative()
                && dir.join(&*kit).is_dir()
            {
                resolve(kit);
            }
            for section in &mut scene.sections {
                if let Some(file) = &mut section.scene {
                    resolve(file);
                }
            }
        }
        if scene.name.is_empty() {
            scene.name = path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
        }
        Ok(scene)
    }

    /// Reads a scene file, and checks the scene files its sections include.
    pub fn load(path: &Path) -> Result<Scene, SceneError> {
        let bytes = Scene::read_bytes(path)?;
        Scene::from_ron_checked(Scene::text_of(&bytes, path)?, path)
    }

    /// The bytes of a scene file (a regular file of at most [`SCENE_LIMIT`]), or an error
    /// naming it.
    pub(super) fn read_bytes(path: &Path) -> Result<Vec<u8>, SceneError> {
        read_bounded(path, SCENE_LIMIT).map_err(|e| SceneError::at(path, 0, 0, e.to_string()))
    }

    /// The text of a scene file read as `bytes`, or an error that names the file and the line
    /// and column of the first byte that is not UTF-8.
    pub fn text_of<'a>(bytes: &'a [u8], path: &Path) -> Result<&'a str, SceneError> {
        std::str::from_utf8(bytes).map_err(|e| {
            let good = &bytes[..e.valid_up_to()];
            let line = 1 + good.iter().filter(|&&b| b == b'\n').count();
            let line_start = good.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
            let col = 1 + String::from_utf8_lossy(&good[line_start..]).chars().count();
            SceneError::at(path, line, col, "not UTF-8 text")
        })
    }

    /// Parses scene text like [`Scene::from_ron`] and checks the scene files its sections
    /// include: each inside the folder of `path` (unless allowed by
    /// [`super::allow_outside_set`]), and each a scene. The deck's records and the kit
    /// folders, its own and its includes', must be inside that folder too (a kit's name in
    /// `kits/` is no folder of the set).
    pub fn from_ron_checked(text: &str, path: &Path) -> Result<Scene, SceneError> {
        let scene = Scene::from_ron(text, path)?;
        let record_inside = |s: &Scene| {
            if let Some(record) = &s.deck.file {
                check_record_inside(path, record, outside_allowed())?;
            }
            match &s.kit {
                Some(kit) if kit.components().count() > 1 => {
                    check_record_inside(path, kit, outside_allowed())
                }
                _ => Ok(()),
            }
        };
        record_inside(&scene)?;
        for include in scene.includes() {
            if include == path {
                return Err(SceneError::at(
                    path,
                    0,
                    0,
                    "a section includes this file itself",
                ));
            }
            check_inside(path, include, outside_allowed())?;
            record_inside(&Scene::read_include(include)?)?;
        }
        Ok(scene)
    }

    /// Reads a scene file a section includes (its own sections are not followed); its errors
    /// quote nothing from it.
    pub fn read_include(path: &Path) -> Result<Scene, SceneError> {
        let bytes = Scene::read_bytes(path)?;
        Scene::include_from_ron(Scene::text_of(&bytes, path)?, path)
    }

    /// Parses the text of a scene file a section includes; its errors quote nothing from it.
    pub fn include_from_ron(text: &str, path: &Path) -> Result<Scene, SceneError> {
        Scene::parse(text, path, included_message)
    }

    /// The scene files the sections include.
    pub fn includes(&self) -> impl Iterator<Item = &Path> {
        self.sections.iter().filter_map(|s| s.scene.as_deref())
    }

    /// The scene as pretty RON.
    pub fn to_ron(&self) -> String {
        let config = ron::ser::PrettyConfig::new()
            .struct_names(true)
            .depth_limit(3)
            .indentor("    ")
            .extensions(Extensions::IMPLICIT_SOME);
        // Serializing plain data with string keys cannot fail.
        ron::ser::to_string_pretty(self, config).unwrap_or_default()
    }

    /// Writes the scene atomically (a crash never leaves half a file).
    pub fn save(&self, path: &Path) -> std::io::Result<()> {
        crate::files::write_atomic(path, self.to_ron().as_bytes())
    }

    /// Sound, mixer and effect settings for the audio thread.
    pub fn params(&self) -> Params {
        Params {
            drums: self.sound.drums,
            bass: self.sound.bass,
            mix: self.mix,
            effects: self.effects,
        }
    }

    /// The cycle this scene plays, compiled for the audio thread.
    pub fn plan(&self) -> CyclePlan {
        CyclePlan::new(
            &self.drums.pattern(),
            &self.bass.bassline(),
            self.bass.tonic_midi(),
            self.tempo,
            self.swing,
        )
    }

    /// Length of one cycle (two bars) in frames at `sample_rate`.
    pub fn cycle_frames(&self, sample_rate: u32) -> f64 {
        f64::from(sample_rate) * 60.0 / f64::from(self.tempo) * 8.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = r#"Scene(
    tempo: 128,
    swing: 56,
    drums: (
        kick: "X...x...X...x...",
        closed_hat: "..x...x...x...x>x",
    ),
    bass: (key: "C", octave: 2, line: "C2 . C2! - . Eb2 . . G1 . . . C2 . . ."),
    mix: (bass: (gain_db: -6, mute: true)),
)"#;

    #[test]
    fn reads_and_round_trips() {
        let scene = Scene::from_ron(TEXT, Path::new("x.ron")).unwrap();
        assert_eq!(scene.name, "x");
        assert_eq!(scene.tempo, 128.0);
        assert!(scene.mix.bass.mute);
        assert_eq!(scene.drums.pattern().count(Voice::Kick), 8);
        assert_eq!(scene.bass.tonic_midi(), 36);
        assert_eq!(
            scene.bass.bassline().pitches().collect::<Vec<_>>()[..4],
            [0, 0, 3, -5]
        );
        let again = Scene::from_ron(&scene.to_ron(), Path::new("x.ron")).unwrap();
        assert_eq!(again, scene);
    }

    #[test]
    fn errors_point_at_the_value() {
        let bad = TEXT.replace("tempo: 128", "tempo: 300");
        let e = Scene::from_ron(&bad, Path::new("p/set.ron")).unwrap_err();
        assert_eq!((e.line, e.path.as_path()), (2, Path::new("p/set.ron")));
        assert!(e.to_string().starts_with("p/set.ron:2:"), "{e}");
        assert!(e.message.contains("out of range"), "{e}");

        let bad = TEXT.replace("X...x...X...x...", "X...x...X...y...");
        let e = Scene::from_ron(&bad, Path::new("s.ron")).unwrap_err();
        assert_eq!(e.line, 5);
        assert!(e.message.contains("'y'"), "{e}");

        let bad = TEXT.replace("closed_hat", "closed_hta");
        let e = Scene::from_ron(&bad, Path::new("s.ron")).unwrap_err();
        assert_eq!(e.line, 6);
        assert!(e.message.contains("closed_hta"), "{e}");

        let bad = TEXT.replace("G1 .", "Q1 .");
        let e = Scene::from_ron(&bad, Path::new("s.ron")).unwrap_err();
        assert_eq!(e.line, 8);
    }
}
