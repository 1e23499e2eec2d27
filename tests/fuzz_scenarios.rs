//! Mutated bundled scenarios (byte flips, deletions, control characters, huge strings, deep
//! nesting, type swaps, extreme timestamps) never panic: they load and run, or fail with an
//! error that names the file and where in it; through `workbench run` they exit 0, 1 or 2 and
//! an exit 2 writes no report.

mod common;

use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use workbench::report::{self, Options};
use workbench::results::FileRun;
use workbench::rules::RuleSet;
use workbench::runner::run_scratch;
use workbench::scenario::{Scenario, ScenarioError};

use common::{root, workbench_in};

/// The bundled scenarios: (extension, content).
static BUNDLED: LazyLock<Vec<(&'static str, String)>> = LazyLock::new(|| {
    let mut files: Vec<PathBuf> = std::fs::read_dir(root().join("scenarios"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    files
        .iter()
        .map(|p| {
            let ext = if p.extension().unwrap() == "jsonl" {
                "jsonl"
            } else {
                "yaml"
            };
            (ext, std::fs::read_to_string(p).unwrap())
        })
        .collect()
});

static RULES: LazyLock<std::sync::Arc<RuleSet>> =
    LazyLock::new(|| std::sync::Arc::new(RuleSet::load(&root().join("rules/rules.yaml")).unwrap()));

const TIMESTAMPS: &[&str] = &[
    "0000-01-01T00:00:00Z",
    "1969-12-31T23:59:59Z",
    "1969-12-31T23:59:59.999999999Z",
    "1970-01-01T00:00:00Z",
    "1970-01-01T00:00:00+23:59",
    "9999-12-31T23:59:59Z",
    "9999-12-31T23:59:59.999999999Z",
    "9999-12-31T23:59:59-01:00",
    "2016-12-31T23:59:60Z",
    "2024-02-30T00:00:00Z",
    "+275760-09-13T00:00:00Z",
    "2024-01-01T00:00:00",
    "2024-01-01T00:00:00+99:99",
];

const KEYS: &[&str] = &[
    "name",
    "rules",
    "events",
    "user_id",
    "event_type",
    "event_timestamp",
    "received_at",
    "properties",
    "user_traits",
    "marketing_opt_in",
    "attempt_number",
    "failure_reason",
    "expect",
    "outcome",
    "matched_rule",
    "reason_contains",
];

/// A value of another type (or shape) for any key.
fn swaps(jsonl: bool, huge: &str, deep_seq: &str, deep_map: &str) -> Vec<String> {
    let mut v: Vec<String> = [
        "[]",
        "{}",
        "3",
        "-0",
        "1e400",
        "-1.5e308",
        "true",
        "null",
        "\"\"",
        "\"a\\nb\"",
        "\"\\u0000\"",
        "\"\\u0085\"",
    ]
    .iter()
    .map(std::string::ToString::to_string)
    .collect();
    if !jsonl {
        v.extend(["~", "!!binary aGk=", "&a x", "*a", "|\n  x", "? [a]"].map(String::from));
    }
    v.extend([
        format!("\"{huge}\""),
        deep_seq.to_string(),
        deep_map.to_string(),
    ]);
    v.extend(TIMESTAMPS.iter().map(|t| format!("\"{t}\"")));
    if !jsonl {
        v.extend(TIMESTAMPS.iter().map(std::string::ToString::to_string));
    }
    v
}

#[derive(Debug, Clone)]
enum Mutation {
    /// XOR the byte at (a fraction of the length) with a value.
    Flip(f64, u8),
    /// Delete up to n bytes from there.
    Delete(f64, usize),
    /// Insert a control character there.
    Control(f64, char),
    /// Replace the value of the n-th occurrence of a key with the i-th swap.
    Swap(usize, usize, usize),
    /// Insert a 100,000-character string there.
    Huge(f64),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let at = 0.0..1.0f64;
    let control = prop_oneof![
        (0u32..0x20).prop_map(|c| char::from_u32(c).unwrap()),
        Just('\u{7f}'),
        Just('\u{85}'),
        Just('\u{2028}'),
        Just('\u{feff}'),
    ];
    prop_oneof![
        (at.clone(), 1u8..=255).prop_map(|(a, x)| Mutation::Flip(a, x)),
        (at.clone(), 1usize..64).prop_map(|(a, n)| Mutation::Delete(a, n)),
        (at.clone(), control).prop_map(|(a, c)| Mutation::Control(a, c)),
        (0..KEYS.len(), 0usize..8, 0usize..64).prop_map(|(k, n, i)| Mutation::Swap(k, n, i)),
        at.prop_map(Mutation::Huge),
    ]
}

fn nested(depth: usize, open: &str, close: &str) -> String {
    format!("{}{}", open.repeat(depth), close.repeat(depth))
}

/// Apply `m` to a bundled file; the result need not be UTF-8.
fn apply(ext: &str, src: &str, m: &Mutation) -> Vec<u8> {
    let mut bytes = src.as_bytes().to_vec();
    // A fraction of a short file's length: exact enough, never negative.
    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        clippy::cast_precision_loss
    )]
    let index = |a: f64, len: usize| ((a * len as f64) as usize).min(len);
    let huge = "h".repeat(100_000);
    match *m {
        Mutation::Flip(a, x) => {
            let i = index(a, bytes.len() - 1);
            bytes[i] ^= x;
        }
        Mutation::Delete(a, n) => {
            let i = index(a, bytes.len());
            bytes.drain(i..(i + n).min(bytes.len()));
        }
        Mutation::Control(a, c) => {
            let i = index(a, bytes.len());
            let mut buf = [0; 4];
            bytes.splice(i..i, c.encode_utf8(&mut buf).bytes());
        }
        Mutation::Huge(a) => {
            let i = index(a, bytes.len());
            bytes.splice(i..i, huge.bytes());
        }
        Mutation::Swap(k, n, i) => {
            let jsonl = ext == "jsonl";
            let (seq, map) = if jsonl {
                (nested(10_000, "[", "]"), nested(10_000, "{\"a\":", "}"))
            } else {
                (nested(10_000, "[", "]"), nested(10_000, "{a: ", "}"))
            };
            let options = swaps(jsonl, &huge, &seq, &map);
            let key = if jsonl {
                format!("\"{}\":", KEYS[k])
            } else {
                format!("{}: ", KEYS[k])
            };
            let Some((start, _)) = src.match_indices(&key).nth(n) else {
                return bytes;
            };
            let from = start + key.len();
            let end = src[from..]
                .find([',', '}', '\n'])
                .map_or(src.len(), |e| from + e);
            bytes.splice(from..end, options[i % options.len()].bytes());
        }
    }
    bytes
}

/// A scenario error names the file it is about and where in it.
fn assert_located(e: &ScenarioError, path: &Path) {
    let text = e.to_string();
    assert_eq!(e.file, path, "{}", short(&text));
    assert!(!text.contains('\n'), "one line: {}", short(&text));
    assert!(
        e.pos.is_some() || e.message.starts_with("line ") || e.message == "scenario file is empty",
        "no position: {}",
        short(&text)
    );
}

fn short(s: &str) -> String {
    s.chars().take(300).collect()
}

/// Load (from memory and from a file), run and report; panics only on a real defect. Whether
/// the scenario loaded.
fn check(dir: &Path, ext: &str, bytes: &[u8]) -> bool {
    let path = dir.join(format!("s.{ext}"));
    std::fs::write(&path, bytes).unwrap();
    if let Ok(text) = std::str::from_utf8(bytes) {
        let mem = match ext {
            "jsonl" => Scenario::from_jsonl(&path, text),
            _ => Scenario::from_yaml(&path, text),
        };
        if let Err(e) = &mem {
            assert_located(e, &path);
        }
    }
    let scenario = match Scenario::load(&path) {
        Ok(s) => s,
        Err(e) => {
            assert_located(&e, &path);
            return false;
        }
    };
    let results = run_scratch(&scenario, &RULES).expect("a loaded scenario runs");
    assert_eq!(results.len(), scenario.len);
    let runs = [FileRun {
        scenario,
        rules_path: "rules/rules.yaml".into(),
        rules: RULES.clone(),
        results,
    }];
    let opts = Options::default();
    let _ = report::text(&runs, &opts);
    serde_json::from_str::<serde_json::Value>(&report::json(&runs, &opts)).unwrap();
    let _ = report::junit(&runs, &opts);
    true
}

fn runner(cases: u32) -> TestRunner {
    TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    })
}

#[test]
fn mutated_scenarios_load_or_fail_with_a_position() {
    let dir = tempfile::tempdir().unwrap();
    let strategy = (0..BUNDLED.len(), mutation(), prop::option::of(mutation()));
    runner(160)
        .run(&strategy, |(file, m1, m2)| {
            let (ext, src) = &BUNDLED[file];
            let mut bytes = apply(ext, src, &m1);
            if let (Some(m2), Ok(text)) = (m2, std::str::from_utf8(&bytes)) {
                bytes = apply(ext, text, &m2);
            }
            check(dir.path(), ext, &bytes);
            Ok(())
        })
        .unwrap();
}

/// Every extreme timestamp on `event_timestamp` and `received_at` of every file; every type
/// swap on every key of one YAML and one JSON Lines file.
#[test]
fn every_extreme_timestamp_and_type_swap() {
    let dir = tempfile::tempdir().unwrap();
    let (mut loaded, mut refused) = (0, 0);
    let mut try_one = |ext: &str, bytes: &[u8]| {
        if check(dir.path(), ext, bytes) {
            loaded += 1;
        } else {
            refused += 1;
        }
    };
    let stamps = |k: &str| KEYS.iter().position(|key| *key == k).unwrap();
    for (ext, src) in BUNDLED.iter() {
        let n = swaps(*ext == "jsonl", "", "", "").len();
        for key in [stamps("event_timestamp"), stamps("received_at")] {
            for i in n - TIMESTAMPS.len() * if *ext == "jsonl" { 1 } else { 2 }..n {
                try_one(ext, &apply(ext, src, &Mutation::Swap(key, 0, i)));
            }
        }
    }
    for file in ["jsonl", "yaml"] {
        let (ext, src) = BUNDLED.iter().rev().find(|(e, _)| *e == file).unwrap();
        let n = swaps(*ext == "jsonl", "", "", "").len();
        for key in 0..KEYS.len() {
            for i in 0..n {
                try_one(ext, &apply(ext, src, &Mutation::Swap(key, 0, i)));
            }
        }
    }
    // Both happen: extreme but valid timestamps and harmless swaps load and run.
    assert!(
        loaded > 50 && refused > 50,
        "{loaded} loaded, {refused} refused"
    );
}

/// Through the binary: exit 0, 1 or 2, never a panic; an exit 2 writes no report at all.
#[test]
fn the_binary_exits_0_1_or_2_and_writes_no_half_report() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let rules = root().join("rules/rules.yaml");
    let strategy = (0..BUNDLED.len(), mutation(), 0..3usize);
    runner(16)
        .run(&strategy, |(file, m, format)| {
            let (ext, src) = &BUNDLED[file];
            let name = format!("s.{ext}");
            std::fs::write(d.join(&name), apply(ext, src, &m)).unwrap();
            let report = d.join("report.out");
            let _ = std::fs::remove_file(&report);
            let format = ["text", "json", "junit"][format];
            let args = [
                "run",
                &name,
                "--rules",
                rules.to_str().unwrap(),
                "--format",
                format,
            ];
            let to_file = workbench_in(d, &[&args[..], &["--output", "report.out"]].concat());
            let to_stdout = workbench_in(d, &args);
            for r in [&to_file, &to_stdout] {
                assert!(
                    matches!(r.code, 0..=2),
                    "exit {}: {}",
                    r.code,
                    short(&r.stderr)
                );
                assert!(!r.stderr.contains("panicked"), "{}", short(&r.stderr));
            }
            assert_eq!(to_file.code, to_stdout.code);
            if to_file.code == 2 {
                assert!(!report.exists(), "no report on exit 2");
                assert_eq!(to_stdout.stdout, "", "nothing on stdout on exit 2");
                assert_eq!(
                    to_stdout.stderr.lines().count(),
                    1,
                    "{}",
                    short(&to_stdout.stderr)
                );
                assert!(to_stdout.stderr.starts_with("error: "));
            } else {
                let written = std::fs::read_to_string(&report).unwrap();
                assert_eq!(written, to_stdout.stdout, "the same report either way");
                if format == "text" {
                    assert!(written.ends_with(" failed\n"), "{}", short(&written));
                }
            }
            Ok(())
        })
        .unwrap();
}
