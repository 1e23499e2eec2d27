//! `workbench run` in one pass with bounded memory: its streamed reports are byte-identical
//! to the reports of the same run kept in memory, and invalid input found mid-run leaves no
//! output behind.

mod common;

use std::path::Path;
use std::sync::Arc;

use common::{root, workbench};
use workbench::generate::{GenSpec, Mix, Shape, generate_shaped};
use workbench::pipeline::Pipeline;
use workbench::provider::Collect;
use workbench::report::{self, Options};
use workbench::results::FileRun;
use workbench::rules::RuleSet;
use workbench::runner;
use workbench::scenario::Scenario;
use workbench::store::SqliteStore;

/// Every report of `scenario`, and its `messages.txt`, as the in-memory path makes them.
fn in_memory(scenario: &Path, rules: &Path) -> (Vec<String>, String) {
    let scenario = Scenario::load(scenario).unwrap();
    let rules = Arc::new(RuleSet::load(rules).unwrap());
    let store = SqliteStore::open_in_memory()
        .unwrap()
        .batched(runner::BATCH);
    let mut pipeline = Pipeline::new(store, Collect::default());
    let results = runner::run(&scenario, &rules, &mut pipeline, |_| {}).unwrap();
    let lines: String = pipeline
        .provider
        .0
        .iter()
        .flat_map(|l| [l.as_str(), "\n"])
        .collect();
    let runs = [FileRun {
        scenario,
        rules_path: rules_arg(),
        rules,
        results,
    }];
    let opts = Options::default();
    let reports = vec![
        report::text(&runs, &opts),
        report::json(&runs, &opts),
        report::junit(&runs, &opts),
    ];
    (reports, lines)
}

fn rules_arg() -> std::path::PathBuf {
    root().join("rules/rules.yaml")
}

/// Every report of `scenario` from `workbench run`, and its `messages.txt`.
fn streamed(scenario: &Path) -> (Vec<String>, String) {
    let dir = tempfile::tempdir().unwrap();
    let messages = dir.path().join("messages.txt");
    let rules = rules_arg();
    let reports = ["text", "json", "junit"]
        .iter()
        .map(|format| {
            let r = workbench(&[
                "run",
                scenario.to_str().unwrap(),
                "--rules",
                rules.to_str().unwrap(),
                "--format",
                format,
                "--messages",
                messages.to_str().unwrap(),
                "--scratch-memory",
                "1",
            ]);
            assert!(r.code <= 1, "{}", r.stderr);
            r.stdout
        })
        .collect();
    let all = std::fs::read_to_string(&messages).unwrap();
    // Three runs appended the same lines.
    assert_eq!(all.len() % 3, 0);
    (reports, all[..all.len() / 3].to_string())
}

#[test]
fn streamed_reports_match_the_in_memory_ones_on_the_bundled_scenarios() {
    for entry in std::fs::read_dir(root().join("scenarios")).unwrap() {
        let path = entry.unwrap().path();
        let (want, want_lines) = in_memory(&path, &rules_arg());
        let (got, got_lines) = streamed(&path);
        for (w, g) in want.iter().zip(&got) {
            assert_eq!(w, g, "{}", path.display());
        }
        assert_eq!(want_lines, got_lines, "{}", path.display());
    }
}

#[test]
fn streamed_reports_match_the_in_memory_ones_on_a_generated_stream() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("gen.jsonl");
    let mut out = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    let spec = GenSpec {
        users: 2_000,
        events: 30_000,
        seed: 5,
    };
    let shape = Shape {
        days: 10,
        mix: Mix::Active,
    };
    generate_shaped(spec, shape, &mut out).unwrap();
    drop(out);
    let (want, want_lines) = in_memory(&path, &rules_arg());
    let (got, got_lines) = streamed(&path);
    assert!(want[1].contains("\"scheduled\"") || want[0].contains("held"));
    for (w, g) in want.iter().zip(&got) {
        assert!(w == g, "reports differ");
    }
    assert!(want_lines == got_lines, "messages differ");
}

#[test]
fn an_invalid_line_found_mid_run_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("late.jsonl");
    let good = r#"{"user_id":"u1","event_type":"signup_completed","event_timestamp":"2025-01-01T10:00:00Z"}"#;
    let mut text = format!("{good}\n").repeat(3);
    text.push_str("{\"user_id\":\"u1\",\"event_type\":\"x\"}\n");
    std::fs::write(&path, text).unwrap();
    let messages = dir.path().join("messages.txt");
    std::fs::write(&messages, "an earlier line\n").unwrap();
    let report = dir.path().join("report.json");
    let r = workbench(&[
        "run",
        path.to_str().unwrap(),
        "--format",
        "json",
        "--output",
        report.to_str().unwrap(),
        "--messages",
        messages.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains(&format!("{}:4", path.display())),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("event_timestamp"), "{}", r.stderr);
    assert!(!report.exists());
    assert_eq!(
        std::fs::read_to_string(&messages).unwrap(),
        "an earlier line\n"
    );
    // Nothing else was left in the directory.
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(left.len(), 2, "{left:?}");
}

#[test]
fn an_empty_jsonl_file_is_still_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("empty.jsonl");
    std::fs::write(&path, "\n\n").unwrap();
    let r = workbench(&["run", path.to_str().unwrap()]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("scenario file is empty"), "{}", r.stderr);
}

/// `workbench run` on `scenario` with `shards` shards: (exit code, JSON report, messages).
fn sharded(scenario: &Path, shards: &str) -> (i32, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let messages = dir.path().join("messages.txt");
    let report = dir.path().join("report.json");
    // Each scenario with its own rules (the bundled guards use every guard).
    let r = workbench(&[
        "run",
        scenario.to_str().unwrap(),
        "--format",
        "json",
        "--output",
        report.to_str().unwrap(),
        "--messages",
        messages.to_str().unwrap(),
        "--shards",
        shards,
    ]);
    assert!(r.code <= 1, "{}", r.stderr);
    (
        r.code,
        std::fs::read_to_string(&report).unwrap(),
        std::fs::read_to_string(&messages).unwrap_or_default(),
    )
}

#[test]
fn a_sharded_run_is_byte_identical_to_one_shard_on_the_bundled_scenarios() {
    for entry in std::fs::read_dir(root().join("scenarios")).unwrap() {
        let path = entry.unwrap().path();
        let one = sharded(&path, "1");
        for shards in ["2", "3"] {
            assert!(
                sharded(&path, shards) == one,
                "{} differs with {shards} shards",
                path.display()
            );
        }
    }
}

#[test]
fn a_sharded_run_is_byte_identical_to_one_shard_on_200k_generated_events() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("gen.jsonl");
    let mut out = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    let spec = GenSpec {
        users: 20_000,
        events: 200_000,
        seed: 9,
    };
    let shape = Shape {
        days: 30,
        mix: Mix::Active,
    };
    generate_shaped(spec, shape, &mut out).unwrap();
    drop(out);
    let one = sharded(&path, "1");
    assert!(one.1.contains("\"scheduled\"") || one.1.contains("T08:00:00Z"));
    let two = sharded(&path, "2");
    assert!(one.0 == two.0, "exit codes differ");
    assert!(one.2 == two.2, "messages.txt differs");
    assert!(one.1 == two.1, "the JSON reports differ");
}
