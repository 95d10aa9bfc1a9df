//! Files from others are data: a session log shared by someone else replays to the outputs
//! the user names and nothing else — its `save`, `load` and `record` lines are events, never
//! carried out — and every header value out of bounds is refused in one line naming the file
//! and line, at once.

use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use ubiq::command::parse;
use ubiq::engine::session::{
    Action, ENTRY_SLACK_SECONDS, Entry, MAX_FRAME_SECONDS, MAX_LEAD_SECONDS, MAX_RECORDED_SECONDS,
    MAX_SAMPLE_RATE, MIN_SAMPLE_RATE, SessionLog,
};
use ubiq::model::registry::Models;
use ubiq::model::rng::Rng;
use ubiq::scene::library::default_scene;

fn replay(dir: &Path, log: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ubiq"))
        .env("XDG_DATA_HOME", dir.join("data"))
        .env("XDG_CONFIG_HOME", dir.join("config"))
        .current_dir(dir)
        .arg("replay")
        .arg(log)
        .arg("--out")
        .arg(dir.join("out.wav"))
        .output()
        .expect("ubiq runs")
}

/// A short log (half a second at 48 kHz) with these commands after the start.
fn log_with(lines: &[String]) -> SessionLog {
    let mut entries = vec![Entry {
        frame: 0,
        action: Action::Start,
    }];
    entries.extend(lines.iter().enumerate().map(|(i, l)| Entry {
        frame: 1_000 * (i as u64 + 1),
        action: Action::Command(parse(l).unwrap()),
    }));
    SessionLog {
        sample_rate: 48_000,
        seed: 1,
        scene: default_scene(),
        record_from: 0,
        end: 24_000,
        start_lead: 0,
        entries,
    }
}

#[test]
fn a_shared_log_that_saves_and_records_replays_without_touching_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let victim = dir.path().join("victim.txt");
    std::fs::write(&victim, "the user's own words").unwrap();
    let log = dir.path().join("shared.log");
    let text = log_with(&[
        format!("save {}", victim.display()),
        format!("save {}", dir.path().join("planted.ron").display()),
        "record start planted".to_string(),
        "record stop".to_string(),
    ])
    .to_text();
    std::fs::write(&log, text).unwrap();
    let out = replay(dir.path(), &log);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(
        std::fs::read_to_string(&victim).unwrap(),
        "the user's own words"
    );
    let mut names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n != "data" && n != "config")
        .collect();
    names.sort();
    assert_eq!(names, ["out.wav", "shared.log", "victim.txt"]);
}

#[test]
fn every_bad_header_value_is_refused_in_one_line_naming_the_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let good = log_with(&["mute bass".to_string()]).to_text();
    for (from, to, line) in [
        ("sample_rate 48000", "sample_rate 0", 2),
        ("sample_rate 48000", "sample_rate 4294967295", 2),
        ("sample_rate 48000", "sample_rate 1000000", 2),
        ("record_from 0", "record_from 99999999999", 5),
        ("end 24000", "end 18446744073709551615", 6),
        ("end 24000", "end 1209600000", 6),
        ("start_lead 0", "start_lead 48001", 7),
        ("start_lead 0", "start_lead -1", 7),
        ("1000 mute", "99999999999 mute", 9),
    ] {
        let log = dir.path().join("bad.log");
        std::fs::write(&log, good.replacen(from, to, 1)).unwrap();
        let began = Instant::now();
        let out = replay(dir.path(), &log);
        assert!(
            began.elapsed() < Duration::from_secs(20),
            "{to}: took {:?}",
            began.elapsed()
        );
        assert!(!out.status.success(), "{to}: {out:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        let err = err.trim_end();
        assert_eq!(err.lines().count(), 1, "{to}: {err}");
        assert!(
            err.contains(&format!("{}:{line}: ", log.display())),
            "{to}: {err}"
        );
        assert!(!dir.path().join("out.wav").exists(), "{to}");
    }
}

#[test]
fn a_shared_set_list_that_saves_renders_without_writing_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let victim = dir.path().join("victim.txt");
    std::fs::write(&victim, "mine").unwrap();
    let scene = dir.path().join("set.ron");
    std::fs::write(
        &scene,
        format!(
            "Scene(tempo: 240, sections: [(bars: 2, commands: [\"save {}\", \"tempo 200\"])])",
            victim.display()
        ),
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_ubiq"))
        .args(["render", "--bars", "4", "--no-ai", "--out"])
        .arg(dir.path().join("out.wav"))
        .arg(&scene)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("reads or writes a file: a set list cannot"),
        "{stderr}"
    );
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "mine");
}

/// What a log that reads may cost: its header within the documented bounds, so a replay
/// renders at most [`MAX_FRAME_SECONDS`] of audio and keeps at most
/// [`MAX_RECORDED_SECONDS`]; and a replay of its first frames (a full one may last hours)
/// runs without a panic and gives the log's length.
fn replays_within_bounds(log: &mut SessionLog, what: &str) {
    let rate = u64::from(log.sample_rate);
    assert!(
        (MIN_SAMPLE_RATE..=MAX_SAMPLE_RATE).contains(&log.sample_rate),
        "{what}: rate {rate}"
    );
    assert!(log.record_from <= log.end, "{what}");
    assert!(
        u64::from(log.start_lead) <= MAX_LEAD_SECONDS * rate,
        "{what}: lead {}",
        log.start_lead
    );
    assert!(
        log.end <= MAX_FRAME_SECONDS * rate,
        "{what}: end {}",
        log.end
    );
    assert!(
        log.end - log.record_from <= MAX_RECORDED_SECONDS * rate,
        "{what}: {} frames kept",
        log.end - log.record_from
    );
    for e in &log.entries {
        assert!(
            e.frame <= log.end + ENTRY_SLACK_SECONDS * rate,
            "{what}: entry at {}",
            e.frame
        );
    }
    // Records on the deck would be read from this machine's disk: their bounds are tested
    // above (`a_record_is_read_only_from_a_regular_file_of_bounded_size`).
    log.entries
        .retain(|e| !matches!(e.action, Action::Deck(Some(_))));
    log.end = log.end.min(4096);
    log.record_from = log.record_from.min(log.end);
    let played = log.replay(&mut Models::none());
    assert_eq!(
        played.samples.len() as u64,
        2 * (log.end - log.record_from),
        "{what}"
    );
}

/// The logs the `session_log` fuzz target starts from and a sample of what 10 minutes of
/// fuzzing found (`fuzz/corpus/session_log/found-*`), and thousands of their mutations with
/// extreme header values, cut lines and swapped lines: each is refused in one line naming the
/// file and line, or reads and replays within its bounds.
#[test]
fn any_log_the_fuzzer_finds_replays_within_bounds_or_is_refused() {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/session_log");
    let mut seeds: Vec<(String, String)> = std::fs::read_dir(&corpus)
        .expect("the fuzz corpus is in the repository")
        .map(|e| {
            let path = e.unwrap().path();
            let bytes = std::fs::read(&path).unwrap();
            (
                path.display().to_string(),
                String::from_utf8_lossy(&bytes).into_owned(),
            )
        })
        .collect();
    seeds.sort();
    assert!(
        seeds.len() >= 5,
        "{} logs in {}",
        seeds.len(),
        corpus.display()
    );
    let extremes = [
        "0",
        "1",
        "7999",
        "384001",
        "4294967295",
        "4294967296",
        "18446744073709551615",
        "99999999999",
        "-1",
        "1e9",
        "",
    ];
    let mut rng = Rng::new(20);
    let (mut read, mut refused) = (0, 0);
    let mut check = |text: &str, what: &str| match SessionLog::parse(text, Path::new("shared.log"))
    {
        Ok(mut log) => {
            read += 1;
            replays_within_bounds(&mut log, what);
        }
        Err(e) => {
            refused += 1;
            let message = e.to_string();
            assert!(message.starts_with("shared.log:"), "{what}: {message}");
            assert_eq!(message.lines().count(), 1, "{what}: {message}");
        }
    };
    // About 4,000 mutations in all, spread over the logs.
    let per_log = (4000 / seeds.len()).max(20);
    for (name, text) in &seeds {
        check(text, name);
        for case in 0..per_log {
            let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
            if lines.is_empty() {
                break;
            }
            match rng.below(4) {
                // A header or entry value replaced by an extreme one.
                0 | 1 => {
                    let i = rng.below(lines.len().min(8));
                    let key = lines[i].split(' ').next().unwrap_or_default().to_string();
                    lines[i] = format!("{key} {}", extremes[rng.below(extremes.len())]);
                }
                // A line cut short.
                2 => {
                    let i = rng.below(lines.len());
                    let cut = rng.below(lines[i].len() + 1);
                    lines[i] = lines[i].chars().take(cut).collect();
                }
                // Two lines swapped.
                _ => {
                    let (a, b) = (rng.below(lines.len()), rng.below(lines.len()));
                    lines.swap(a, b);
                }
            }
            check(&lines.join("\n"), &format!("{name}, mutation {case}"));
        }
    }
    assert!(read > 0 && refused > 0, "{read} read, {refused} refused");
}
