//! Learn targets: what `midi learn …` may bind a controller to, checked against the command
//! table.

use thiserror::Error;

use super::spec::{self, ArgKind};
use super::{Command, CommandError, Param, parse};

/// A learn target checked against the command table: what `midi learn …` maps.
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    /// Command text (without the swept value for ranged targets).
    pub command: String,
    /// Range of the swept value; `None` for a complete command fired by a key.
    pub range: Option<(f32, f32)>,
}

/// Why text cannot be learnt.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum TargetError {
    /// Neither a complete command nor one missing only a trailing number.
    #[error("cannot map {}: {reason}", crate::text::quote(.text))]
    Invalid {
        /// The text.
        text: String,
        /// Why.
        reason: String,
    },
}

impl Target {
    /// Checks `text`: a complete command (`toggle drums`, fired by a key) or one that lacks
    /// only its last, numeric argument (`filter`, `gain bass`, `set kick.tune`: swept by a knob
    /// across that argument's range).
    pub fn parse(text: &str) -> Result<Target, TargetError> {
        let text = text.trim();
        let invalid = |reason: String| TargetError::Invalid {
            text: text.into(),
            reason,
        };
        if let Ok(cmd) = parse(text) {
            if cmd == Command::Quit {
                return Err(invalid("quit cannot be mapped".into()));
            }
            return Ok(Target {
                command: text.into(),
                range: None,
            });
        }
        let words: Vec<&str> = text.split_whitespace().collect();
        let Some(first) = words.first() else {
            return Err(invalid("nothing to map".into()));
        };
        let spec = spec::find(first).ok_or_else(|| invalid(format!("no command {first:?}")))?;
        let given = words.len() - 1;
        if given + 1 != spec.args.len() {
            return Err(invalid(format!("usage: {}", spec.usage())));
        }
        let ArgKind::Number { min, max } = spec.args[given].kind else {
            return Err(invalid(format!(
                "{} does not end in a number",
                spec.usage()
            )));
        };
        let range = if min == f32::MIN {
            let param = words
                .get(1)
                .and_then(|w| Param::from_name(w))
                .ok_or_else(|| invalid("unknown parameter".into()))?;
            param.range()
        } else {
            (min, max)
        };
        parse(&format!("{text} {}", range.0)).map_err(|e: CommandError| invalid(e.to_string()))?;
        Ok(Target {
            command: text.into(),
            range: Some(range),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_take_ranges_from_the_command_table() {
        let t = Target::parse("filter").unwrap();
        assert_eq!(t.range, Some((-1.0, 1.0)));
        let t = Target::parse("gain bass").unwrap();
        assert_eq!(t.range, Some((-60.0, 12.0)));
        let t = Target::parse("set kick.tune").unwrap();
        assert_eq!(
            t.range,
            Some(Param::from_name("kick.tune").unwrap().range())
        );
        let t = Target::parse("toggle drums").unwrap();
        assert_eq!(t.range, None);
        assert!(Target::parse("gain").is_err());
        assert!(Target::parse("quit").is_err());
        assert!(Target::parse("load").is_err());
    }
}
