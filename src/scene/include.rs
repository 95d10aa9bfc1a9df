//! What a scene may read besides itself: the scene files its sections include and the
//! deck's record, inside the folder of the set (unless the performer allows more), and error
//! messages that quote nothing from a file but a short piece of the line being parsed.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

use super::SceneError;

/// Set once at start by `--allow-outside-set`.
static OUTSIDE_ALLOWED: AtomicBool = AtomicBool::new(false);

/// Lets a set include scene files and play records outside its folder (the performer's
/// `--allow-outside-set`, for this process).
pub fn allow_outside_set(allow: bool) {
    OUTSIDE_ALLOWED.store(allow, Ordering::Relaxed);
}

/// Whether reads outside the folder of the set are allowed.
pub(super) fn outside_allowed() -> bool {
    OUTSIDE_ALLOWED.load(Ordering::Relaxed)
}

/// Refuses an `include` that is not inside the folder of `set` (both with links resolved),
/// unless `allow_outside`. The error names the include.
pub(super) fn check_inside(
    set: &Path,
    include: &Path,
    allow_outside: bool,
) -> Result<(), SceneError> {
    if allow_outside {
        return Ok(());
    }
    let folder = match set.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let cannot = |e: std::io::Error| SceneError::at(include, 0, 0, format!("cannot read: {e}"));
    let folder = folder.canonicalize().map_err(cannot)?;
    let target = include.canonicalize().map_err(cannot)?;
    if target.starts_with(&folder) {
        Ok(())
    } else {
        Err(SceneError::at(
            include,
            0,
            0,
            format!(
                "refused: outside the folder of the set ({}); --allow-outside-set allows it",
                folder.display()
            ),
        ))
    }
}

/// Refuses a deck record named by the scene file `set` (or a scene it includes) that is not
/// inside the folder of `set`, like [`check_inside`]. A record that does not exist passes:
/// the deck reports it when it loads, and there is nothing to read.
pub(super) fn check_record_inside(
    set: &Path,
    record: &Path,
    allow_outside: bool,
) -> Result<(), SceneError> {
    if record.symlink_metadata().is_err() {
        return Ok(());
    }
    check_inside(set, record, allow_outside)
}

/// Longest message (in characters) shown for an error in the file being parsed.
const MESSAGE_CHARS: usize = 240;

/// RON's message for an error in the file being parsed, control characters escaped and cut
/// to a short line (it may quote a name or value of the offending line).
pub(super) fn own_message(code: &ron::Error) -> String {
    let text = code.to_string();
    let mut out: String = text
        .chars()
        .flat_map(|c| {
            let escaped: Vec<char> = if c.is_control() {
                c.escape_default().collect()
            } else {
                vec![c]
            };
            escaped
        })
        .take(MESSAGE_CHARS + 1)
        .collect();
    if out.chars().count() > MESSAGE_CHARS {
        out = out.chars().take(MESSAGE_CHARS - 1).collect();
        out.push('…');
    }
    out
}

/// What is wrong in an included file, in words that quote nothing from it (no name, value
/// or character found there): the include may not be a scene at all.
pub(super) fn included_message(code: &ron::Error) -> String {
    use ron::Error as E;
    let of = |outer: &Option<String>| {
        outer
            .as_ref()
            .map(|o| format!(" of `{o}`"))
            .unwrap_or_default()
    };
    let detail = match code {
        E::ExpectedDifferentStructName { expected, .. } => format!("expected `{expected}`"),
        E::InvalidValueForType { expected, .. } => format!("expected {expected}"),
        E::NoSuchEnumVariant { outer, .. } => format!("unknown variant{}", of(outer)),
        E::NoSuchStructField { outer, .. } => format!("unknown field{}", of(outer)),
        E::InvalidIdentifier(_) | E::SuggestRawIdentifier(_) | E::ExpectedStructName(_) => {
            "invalid identifier".to_string()
        }
        E::NoSuchExtension(_) => "unknown RON extension".to_string(),
        E::UnexpectedChar(_) => "unexpected character".to_string(),
        E::InvalidIntegerDigit { base, .. } => format!("invalid digit for base {base}"),
        E::Message(_) | E::Io(_) => "invalid value".to_string(),
        other => own_message(other),
    };
    format!("not a scene: {detail}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn includes_inside_the_folder_pass_and_others_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let set_dir = dir.path().join("set");
        std::fs::create_dir(&set_dir).unwrap();
        let set = set_dir.join("set.ron");
        let inside = set_dir.join("drop.ron");
        let outside = dir.path().join("secret.ron");
        for f in [&set, &inside, &outside] {
            std::fs::write(f, "Scene()").unwrap();
        }
        assert!(check_inside(&set, &inside, false).is_ok());
        let e = check_inside(&set, &outside, false).unwrap_err();
        assert_eq!(e.path, outside);
        assert!(e.message.contains("outside the folder of the set"), "{e}");
        let dotted = set_dir.join("..").join("secret.ron");
        assert!(check_inside(&set, &dotted, false).is_err());
        assert!(check_inside(&set, &outside, true).is_ok());
        #[cfg(unix)]
        {
            let link = set_dir.join("link.ron");
            std::os::unix::fs::symlink(&outside, &link).unwrap();
            assert!(check_inside(&set, &link, false).is_err());
        }
    }

    #[test]
    fn a_record_outside_the_folder_is_refused_and_a_missing_one_left_to_the_deck() {
        let dir = tempfile::tempdir().unwrap();
        let set_dir = dir.path().join("set");
        std::fs::create_dir(&set_dir).unwrap();
        let set = set_dir.join("set.ron");
        let outside = dir.path().join("private.wav");
        std::fs::write(&outside, "RIFF").unwrap();
        let e = check_record_inside(&set, &outside, false).unwrap_err();
        assert_eq!(e.path, outside);
        assert!(check_record_inside(&set, &outside, true).is_ok());
        assert!(check_record_inside(&set, &set_dir.join("missing.wav"), false).is_ok());
    }

    #[test]
    fn messages_about_an_include_quote_nothing_from_it() {
        let e = ron::Options::default()
            .from_str::<crate::scene::Scene>("root:x:0:0:root:/root:/bin/bash")
            .unwrap_err();
        let m = included_message(&e.code);
        assert!(!m.contains("root"), "{m}");
        assert!(m.starts_with("not a scene"), "{m}");
    }

    #[test]
    fn own_messages_are_one_short_line() {
        let long = "x\u{1b}[2J".repeat(100);
        let m = own_message(&ron::Error::Message(long));
        assert!(m.chars().count() <= MESSAGE_CHARS, "{m}");
        assert!(!m.contains('\u{1b}'), "{m}");
    }
}
