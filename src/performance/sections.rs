//! The set list: a scene's sections, played in order from the first cycle. The performance
//! counts cycles; when a section starts, the driver (live engine or offline run) loads its
//! scene file and applies its commands, logged like a performer's changes, so a replay
//! follows them from the log.

use super::{Outcome, Performance};
use crate::command::Command;
use crate::scene::{Scene, SceneError};

/// Where the set list is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SectionPos {
    /// Index of the section that plays.
    pub index: usize,
    /// Cycles of it played so far.
    pub cycles: u32,
}

/// A section as the front ends show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SectionView {
    /// Its name (or its number when it has none).
    pub name: String,
    /// Its index, 0-based.
    pub index: usize,
    /// Sections in the set list.
    pub count: usize,
    /// Cycles left in it, this one included.
    pub cycles_left: u32,
}

impl Performance {
    /// Starts the set list at its first section (when the scene has one): the outcome asks
    /// the driver to carry the section out.
    pub fn start_sections(&mut self) -> Outcome {
        if self.scene.sections.is_empty() {
            self.composer.section = None;
            return Outcome::default();
        }
        self.composer.section = Some(SectionPos::default());
        Outcome {
            section: Some(0),
            ..Outcome::default()
        }
    }

    /// Counts one cycle of the set list; when the section is over, the next one starts (the
    /// first again with `repeat`, else the last goes on).
    pub(super) fn advance_sections(&mut self) -> Option<usize> {
        let sections = &self.scene.sections;
        let pos = self.composer.section.as_mut()?;
        if sections.is_empty() {
            self.composer.section = None;
            return None;
        }
        pos.index = pos.index.min(sections.len() - 1);
        pos.cycles += 1;
        if pos.cycles < sections[pos.index].bars / 2 {
            return None;
        }
        let next = if pos.index + 1 < sections.len() {
            pos.index + 1
        } else if self.scene.repeat {
            0
        } else {
            return None;
        };
        *pos = SectionPos {
            index: next,
            cycles: 0,
        };
        Some(next)
    }

    /// The section that plays, for displays.
    pub fn section_view(&self) -> Option<SectionView> {
        let pos = self.composer.section?;
        let s = self.scene.sections.get(pos.index)?;
        Some(SectionView {
            name: if s.name.is_empty() {
                format!("section {}", pos.index + 1)
            } else {
                s.name.clone()
            },
            index: pos.index,
            count: self.scene.sections.len(),
            cycles_left: (s.bars / 2).saturating_sub(pos.cycles),
        })
    }

    /// What section `index` does when it starts: its scene (read now, keeping this scene's
    /// set list) and its commands. A scene file that does not read is returned as the error,
    /// with the commands still to apply.
    pub fn section_start(&self, index: usize) -> (Result<Option<Scene>, SceneError>, Vec<Command>) {
        let Some(section) = self.scene.sections.get(index) else {
            return (Ok(None), Vec::new());
        };
        let commands = section.commands.iter().map(|c| c.0.clone()).collect();
        let scene = match &section.scene {
            None => Ok(None),
            Some(path) => Scene::read_include(path).map(|mut s| {
                s.sections = self.scene.sections.clone();
                s.repeat = self.scene.repeat;
                Some(s)
            }),
        };
        (scene, commands)
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::model::registry::Models;

    #[test]
    fn sections_follow_their_bar_counts_and_repeat() {
        let scene = Scene::from_ron(
            r#"Scene(sections: [
                (name: "intro", bars: 4, commands: ["mute bass"]),
                (name: "main", bars: 2, commands: ["unmute bass", "tempo 130"]),
            ], repeat: true)"#,
            Path::new("set.ron"),
        )
        .unwrap();
        let mut perf = Performance::new(scene);
        assert_eq!(perf.start_sections().section, Some(0));
        let mut models = Models::none();
        let starts: Vec<Option<usize>> = (1..=7)
            .map(|k| perf.tick(k, &mut models, None).section)
            .collect();
        assert_eq!(
            starts,
            [None, Some(1), Some(0), None, Some(1), Some(0), None]
        );
        let view = perf.section_view().unwrap();
        assert_eq!((view.name.as_str(), view.cycles_left), ("intro", 1));
        let (scene, commands) = perf.section_start(1);
        assert!(scene.unwrap().is_none());
        assert_eq!(commands.len(), 2);
    }

    #[test]
    fn bad_sections_are_refused_where_they_are_written() {
        let e = Scene::from_ron("Scene(\n sections: [(bars: 3)])", Path::new("s.ron")).unwrap_err();
        assert_eq!(e.line, 2, "{e}");
        assert!(e.message.contains("3 bars"), "{e}");
        let e = Scene::from_ron(
            "Scene(sections: [\n (bars: 4, commands: [\"tempo 999\"])])",
            Path::new("s.ron"),
        )
        .unwrap_err();
        assert_eq!(e.line, 2, "{e}");
        assert!(e.message.contains("tempo 999"), "{e}");
        let e = Scene::from_ron(
            "Scene(sections: [(bars: 4, commands: [\"quit\"])])",
            Path::new("s.ron"),
        )
        .unwrap_err();
        assert!(e.message.contains("cannot quit"), "{e}");
    }
}
