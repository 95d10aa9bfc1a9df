//! Readable grid strings for drum rows: `"x...x...X...x..."`.
//!
//! One character per step: `.` `-` or `_` rest, `o` ghost (0.4), `x` hit (0.75), `X` accent
//! (1.0), `1`–`9` velocity n/9. A hit may be prefixed by `<` (a quarter step early) or `>`
//! (a quarter step late). Spaces and `|` are ignored, so bars can be marked:
//! `"x...x...|x...x..."`. Sixteen steps are repeated to fill both bars.

use thiserror::Error;

use super::{DrumCell, STEPS, STEPS_PER_BAR};

/// Why a grid string was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum GridError {
    /// A character that is not part of the grid syntax.
    #[error("unexpected {found:?} at character {at} (use . x X o 1-9 < > | and spaces)")]
    BadChar {
        /// The offending character.
        found: char,
        /// Its 1-based position in the string.
        at: usize,
    },
    /// A timing mark not followed by a hit.
    #[error("timing mark {mark:?} at character {at} must be followed by a hit")]
    DanglingMark {
        /// `<` or `>`.
        mark: char,
        /// Its 1-based position in the string.
        at: usize,
    },
    /// Neither 16 nor 32 steps.
    #[error("a grid has 16 or 32 steps, this one has {0}")]
    Length(usize),
}

/// Velocity written as `o`.
pub const GHOST_VELOCITY: f32 = 0.4;
/// Velocity written as `x`.
pub const NORMAL_VELOCITY: f32 = 0.75;
/// Velocity written as `X`.
pub const ACCENT_VELOCITY: f32 = 1.0;
/// Offset written as `<` (negative) or `>` (positive), in steps.
pub const MARK_OFFSET: f32 = 0.25;

/// Parses a grid string into 32 cells.
pub fn parse_row(text: &str) -> Result<[DrumCell; STEPS], GridError> {
    let mut cells = [DrumCell::default(); STEPS];
    let mut n = 0usize;
    let mut mark: Option<(char, usize)> = None;
    for (i, ch) in text.chars().enumerate() {
        let at = i + 1;
        let cell = match ch {
            ' ' | '|' => continue,
            '<' | '>' => {
                if let Some((m, pos)) = mark {
                    return Err(GridError::DanglingMark { mark: m, at: pos });
                }
                mark = Some((ch, at));
                continue;
            }
            '.' | '-' | '_' => {
                if let Some((m, pos)) = mark {
                    return Err(GridError::DanglingMark { mark: m, at: pos });
                }
                DrumCell::default()
            }
            'o' => DrumCell::hit(GHOST_VELOCITY, 0.0),
            'x' => DrumCell::hit(NORMAL_VELOCITY, 0.0),
            'X' => DrumCell::hit(ACCENT_VELOCITY, 0.0),
            '1'..='9' => DrumCell::hit(f32::from(ch as u8 - b'0') / 9.0, 0.0),
            found => return Err(GridError::BadChar { found, at }),
        };
        let offset = match mark.take() {
            Some(('<', _)) => -MARK_OFFSET,
            Some(_) => MARK_OFFSET,
            None => 0.0,
        };
        if n < STEPS {
            cells[n] = DrumCell { offset, ..cell };
        }
        n += 1;
    }
    if let Some((m, pos)) = mark {
        return Err(GridError::DanglingMark { mark: m, at: pos });
    }
    match n {
        STEPS_PER_BAR => {
            let (first, second) = cells.split_at_mut(STEPS_PER_BAR);
            second.copy_from_slice(first);
            Ok(cells)
        }
        STEPS => Ok(cells),
        other => Err(GridError::Length(other)),
    }
}

/// Writes 32 cells as a grid string with a `|` between the bars.
pub fn format_row(cells: &[DrumCell; STEPS]) -> String {
    let mut out = String::with_capacity(STEPS + 8);
    for (i, cell) in cells.iter().enumerate() {
        if i == STEPS_PER_BAR {
            out.push('|');
        }
        if !cell.hit {
            out.push('.');
            continue;
        }
        if cell.offset <= -MARK_OFFSET / 2.0 {
            out.push('<');
        } else if cell.offset >= MARK_OFFSET / 2.0 {
            out.push('>');
        }
        out.push(velocity_char(cell.velocity));
    }
    out
}

/// The grid character of a velocity: the one that reads back to exactly it when there is one
/// (`X`, `x`, `o`, or a digit `1`–`9` for ninths), else the nearest of `X`, `x`, `o`.
fn velocity_char(velocity: f32) -> char {
    for (level, ch) in [
        (ACCENT_VELOCITY, 'X'),
        (NORMAL_VELOCITY, 'x'),
        (GHOST_VELOCITY, 'o'),
    ] {
        if velocity == level {
            return ch;
        }
    }
    let ninths = (velocity * 9.0).round().clamp(1.0, 9.0) as u8;
    if f32::from(ninths) / 9.0 == velocity {
        return char::from(b'0' + ninths);
    }
    if velocity >= (ACCENT_VELOCITY + NORMAL_VELOCITY) / 2.0 {
        'X'
    } else if velocity >= (NORMAL_VELOCITY + GHOST_VELOCITY) / 2.0 {
        'x'
    } else {
        'o'
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_written_from_text_read_back_the_same() {
        for text in [
            "6...X.......X..x|x...X.......X..x",
            "<o..>9..1.5.X..x..|.........o..<x...",
        ] {
            let row = parse_row(text).unwrap();
            assert_eq!(parse_row(&format_row(&row)).unwrap(), row, "{text}");
        }
    }

    #[test]
    fn sixteen_steps_repeat() {
        let row = parse_row("x...o...X...9...").unwrap();
        assert!(row[0].hit && row[16].hit);
        assert_eq!(row[4].velocity, GHOST_VELOCITY);
        assert_eq!(row[24].velocity, 1.0);
        assert!(!row[1].hit);
    }

    #[test]
    fn marks_and_separators() {
        let row = parse_row("<x... ...>X|x... .... x... .... x... ....").unwrap();
        assert_eq!(row[0].offset, -MARK_OFFSET);
        assert_eq!(row[7].offset, MARK_OFFSET);
        assert_eq!(format_row(&row).chars().filter(|&c| c == '|').count(), 1);
    }

    #[test]
    fn round_trip_of_written_grids() {
        let text = "<x..o...X...>x....|x...x...X...xx.x";
        assert_eq!(format_row(&parse_row(text).unwrap()), text);
    }

    #[test]
    fn errors_name_the_position() {
        assert_eq!(
            parse_row("x..q"),
            Err(GridError::BadChar { found: 'q', at: 4 })
        );
        assert_eq!(parse_row("x..."), Err(GridError::Length(4)));
        assert_eq!(
            parse_row("x.<.x..........."),
            Err(GridError::DanglingMark { mark: '<', at: 3 })
        );
    }
}
