//! Scene errors that point at the file, line and column.

use std::fmt;
use std::path::{Path, PathBuf};

/// A scene that could not be read, with where the problem is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SceneError {
    /// The file (or `<scene>` for text that came from elsewhere).
    pub path: PathBuf,
    /// 1-based line (0 when the problem is not at a place in the text).
    pub line: usize,
    /// 1-based column.
    pub col: usize,
    /// What is wrong.
    pub message: String,
}

impl SceneError {
    /// An error at a position of `path`.
    pub fn at(path: &Path, line: usize, col: usize, message: impl Into<String>) -> Self {
        SceneError {
            path: path.to_path_buf(),
            line,
            col,
            message: message.into(),
        }
    }
}

impl fmt::Display for SceneError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}: {}", self.path.display(), self.message)
        } else {
            write!(
                f,
                "{}:{}:{}: {}",
                self.path.display(),
                self.line,
                self.col,
                self.message
            )
        }
    }
}

impl std::error::Error for SceneError {}
