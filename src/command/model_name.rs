//! The name of a rhythm model of the bank (`groove`, `dance`, or a model file's stem), as a
//! command and a scene carry it: a short inline string, so the AI's settings stay a plain
//! `Copy` value the composer reads every cycle.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use thiserror::Error;

/// Longest model name, in bytes.
pub const MAX_MODEL_NAME: usize = 32;

/// A model name: 1 to [`MAX_MODEL_NAME`] letters, digits, `-`, `_` or `.`; the empty name
/// is the bank's first model (the default).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct ModelName {
    bytes: [u8; MAX_MODEL_NAME],
    len: u8,
}

/// Why a model name was refused.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum ModelNameError {
    /// Longer than [`MAX_MODEL_NAME`] bytes.
    #[error("a model name is at most {MAX_MODEL_NAME} characters")]
    TooLong,
    /// A character other than a letter, digit, `-`, `_` or `.`.
    #[error("a model name is letters, digits, '-', '_' and '.'")]
    Character,
}

impl ModelName {
    /// The default: the bank's first model.
    pub const DEFAULT: ModelName = ModelName {
        bytes: [0; MAX_MODEL_NAME],
        len: 0,
    };

    /// A name from text.
    pub fn new(text: &str) -> Result<ModelName, ModelNameError> {
        if text.len() > MAX_MODEL_NAME {
            return Err(ModelNameError::TooLong);
        }
        if !text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        {
            return Err(ModelNameError::Character);
        }
        let mut bytes = [0; MAX_MODEL_NAME];
        bytes[..text.len()].copy_from_slice(text.as_bytes());
        Ok(ModelName {
            bytes,
            len: text.len() as u8,
        })
    }

    /// The name as text (empty for the default).
    pub fn as_str(&self) -> &str {
        // Only ASCII is ever stored (checked in `new`).
        std::str::from_utf8(&self.bytes[..usize::from(self.len)]).unwrap_or_default()
    }

    /// True for the default (the bank's first model).
    pub fn is_default(&self) -> bool {
        self.len == 0
    }
}

impl fmt::Display for ModelName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for ModelName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.as_str())
    }
}

impl Serialize for ModelName {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for ModelName {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        ModelName::new(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_short_plain_words() {
        assert_eq!(ModelName::new("dance").unwrap().as_str(), "dance");
        assert!(ModelName::new("").unwrap().is_default());
        assert_eq!(
            ModelName::new(&"x".repeat(33)),
            Err(ModelNameError::TooLong)
        );
        assert_eq!(ModelName::new("../up"), Err(ModelNameError::Character));
        assert_eq!(ModelName::new("a b"), Err(ModelNameError::Character));
    }
}
