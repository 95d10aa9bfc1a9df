//! The short soak (CI): an accelerated performance with the AI, the feedback loop and the
//! shipped loop library, and a performer who gives a few random valid and invalid commands and
//! scene reloads every cycle. No panic, no missed boundary, flat memory. The long one runs on
//! demand: `ubiq soak --cycles 10000` (see docs/PERFORMANCE.md).

use std::path::Path;

use ubiq::loops::library::Library;
use ubiq::model::registry::Models;

#[test]
fn a_careless_performer_cannot_take_the_music_down() {
    let (models, problems) = Models::embedded();
    assert!(problems.is_empty(), "{problems:?}");
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("loops");
    let mut models = models.with_library(Some(Library::open(&root)));
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.ron");
    std::fs::write(&good, "Scene(tempo: 150, ai: (every: 1))").unwrap();
    let broken = dir.path().join("broken.ron");
    std::fs::write(&broken, "Scene(tempo: 150, drums: (kick: \"x.?\"))").unwrap();
    let files = [good.display().to_string(), broken.display().to_string()];
    let report = ubiq::soak::run(&mut models, 120, 3.0, 16_000, 7, &files);
    eprintln!("{report:?}");
    assert_eq!(report.cycles, 120);
    assert_eq!(report.late_plans, 0, "a cycle missed its boundary");
    assert!(report.taken > 150, "{} inputs taken", report.taken);
    assert!(report.refused > 20, "{} refused", report.refused);
    assert!(
        report.rss_end_kib < report.rss_start_kib + 16 * 1024,
        "memory grew from {} to {} KiB",
        report.rss_start_kib,
        report.rss_end_kib
    );
}
