//! Bad input never panics: each case gives a clear one-line error naming where, and exit 2.

mod common;

use std::path::Path;

use common::{root, workbench, workbench_in};

fn rules_abs() -> String {
    root().join("rules/rules.yaml").display().to_string()
}

/// Write `content` to `name` in a temp dir and `run` it; returns stderr after checking exit 2.
fn run_bad_scenario(name: &str, content: &[u8]) -> String {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(name), content).unwrap();
    let r = workbench_in(dir.path(), &["run", name, "--rules", &rules_abs()]);
    assert_bad(&r, name)
}

fn assert_bad(r: &common::Run, what: &str) -> String {
    assert_eq!(r.code, 2, "{what}: stdout={} stderr={}", r.stdout, r.stderr);
    assert!(!r.stderr.contains("panicked"), "{what}: {}", r.stderr);
    assert_eq!(r.stdout, "", "{what}: nothing is half-run");
    assert_eq!(
        r.stderr.lines().count(),
        1,
        "{what}: one line: {}",
        r.stderr
    );
    assert!(r.stderr.starts_with("error: "), "{}", r.stderr);
    r.stderr.clone()
}

fn run_bad_rules(content: &[u8]) -> String {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("r.yaml"), content).unwrap();
    let scenario = root().join("scenarios/mixed_day.jsonl");
    let r = workbench_in(
        dir.path(),
        &["run", scenario.to_str().unwrap(), "--rules", "r.yaml"],
    );
    let err = assert_bad(&r, "rules");
    let c = workbench_in(dir.path(), &["check", "r.yaml"]);
    assert_eq!(c.code, 2);
    assert_eq!(c.stderr, err, "check and run report the same error");
    err
}

const EVENT: &str = "  - {user_id: u1, event_type: x, event_timestamp: 2024-01-15T10:30:00Z}\n";

#[test]
fn scenario_errors() {
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("s.yaml", b"events: [\n".to_vec(), "error: s.yaml:2:1: "),
        ("s.yaml", format!("events:\n{EVENT}  - {{user_id: u1, evnt_type: x}}\n").into_bytes(),
            "error: s.yaml:3:19: events[1]: unknown field `evnt_type`, expected one of"),
        ("s.jsonl", b"{\"user_id\":7,\"event_type\":\"x\",\"event_timestamp\":\"2024-01-15T10:30:00Z\"}\n".to_vec(),
            "error: s.jsonl:1:12: field `user_id`: invalid type: integer `7`, expected a non-empty string"),
        ("s.yaml", b"events:\n  - {user_id: \"\", event_type: x, event_timestamp: 2024-01-15T10:30:00Z}\n".to_vec(),
            "error: s.yaml:2:15: events[0].user_id: must be a non-empty string"),
        ("s.yaml", b"events:\n  - {user_id: u1, event_type: x, event_timestamp: 2024-01-15T10:30:00}\n".to_vec(),
            "error: s.yaml:2:51: events[0].event_timestamp: timestamp `2024-01-15T10:30:00` has no UTC offset: add `Z` or an offset like `+02:00`"),
        ("s.yaml", b"".to_vec(), "error: s.yaml: scenario file is empty"),
        ("s.yaml", b"  \n\n".to_vec(), "error: s.yaml: scenario file is empty"),
        ("s.yaml", b"events:\n  - {user_id: \"u\xff\"}\n".to_vec(), "error: s.yaml: line 2: not valid UTF-8"),
        ("s.jsonl", b"{\"user_id\":\"u\",\"event_type\":\"x\",\"event_timestamp\":\"2024-01-15T10:30:00Z\"}\n{\"user_id\":\"u\",\"event_type\":\"x\"}\n".to_vec(),
            "error: s.jsonl:2:32: missing field `event_timestamp`"),
        ("s.jsonl", b"{\"user_id\":\"u\",\"event_type\":\"x\",\"event_timestamp\":\"2024-01-15T10:30:00Z\",\"expect\":{\"outcome\":\"sent\"}}\n".to_vec(),
            "error: s.jsonl:1:99: field `expect.outcome`: unknown variant `sent`, expected one of `allow`, `suppress`, `alert`, `none`"),
        ("s.jsonl", b"{\"user_id\":\"u\",".to_vec(), "error: s.jsonl:1:15: invalid JSON: EOF while parsing a value"),
        ("s.txt", b"whatever".to_vec(), "error: s.txt: unknown scenario format"),
        // SPEC §8: timestamps in 1970..9999 after normalisation to UTC, ids without control
        // characters and at most 256 characters.
        ("s.yaml", b"events:\n  - {user_id: u1, event_type: x, event_timestamp: 9999-12-31T23:59:59-01:00}\n".to_vec(),
            "error: s.yaml:2:51: events[0].event_timestamp: timestamp `9999-12-31T23:59:59-01:00` is out of range: it must fall in 1970-01-01T00:00:00Z .. 9999-12-31T23:59:59Z (UTC)"),
        ("s.jsonl", b"{\"user_id\":\"u\",\"event_type\":\"x\",\"event_timestamp\":\"1969-12-31T23:59:59Z\"}\n".to_vec(),
            "error: s.jsonl:1:72: field `event_timestamp`: timestamp `1969-12-31T23:59:59Z` is out of range"),
        ("s.yaml", b"events:\n  - {user_id: \"a\\nb\", event_type: x, event_timestamp: 2024-01-15T10:30:00Z}\n".to_vec(),
            "error: s.yaml:2:15: events[0].user_id: contains the control character \\u{a}; control characters are not allowed"),
        ("s.jsonl", b"{\"user_id\":\"a\\nb\",\"event_type\":\"x\",\"event_timestamp\":\"2024-01-15T10:30:00Z\"}\n".to_vec(),
            "error: s.jsonl:1:17: field `user_id`: contains the control character \\u{a}; control characters are not allowed"),
        ("s.yaml", format!("events:\n  - {{user_id: {}, event_type: x, event_timestamp: 2024-01-15T10:30:00Z}}\n", "u".repeat(257)).into_bytes(),
            "error: s.yaml:2:15: events[0].user_id: is 257 characters long; the limit is 256"),
        ("s.jsonl", format!("{{\"user_id\":\"{}\",\"event_type\":\"x\",\"event_timestamp\":\"2024-01-15T10:30:00Z\"}}\n", "u".repeat(257)).into_bytes(),
            "error: s.jsonl:1:270: field `user_id`: is 257 characters long; the limit is 256"),
        ("s.yaml", format!("events:\n{EVENT}  - {{name: \"a\\u0007b\", user_id: u, event_type: x, event_timestamp: 2024-01-15T10:30:00Z}}\n").into_bytes(),
            "error: s.yaml:3:12: events[1].name: contains the control character \\u{7}"),
    ];
    for (name, content, want) in cases {
        let err = run_bad_scenario(name, &content);
        assert!(err.starts_with(want), "want {want}\n got {err}");
    }
}

/// A scenario file that is not a regular file, and a scenario whose `rules:` names a device.
#[cfg(unix)]
#[test]
fn special_files_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(
        d.join("s.yaml"),
        format!("rules: /dev/zero\nevents:\n{EVENT}"),
    )
    .unwrap();
    let r = workbench_in(d, &["run", "s.yaml"]);
    assert_eq!(
        assert_bad(&r, "rules: /dev/zero"),
        "error: s.yaml:1:8: rules `/dev/zero`: is not a regular file (a device, a pipe or a socket)\n"
    );
    let r = workbench_in(d, &["diff", "s.yaml", "--base", &rules_abs()]);
    assert!(assert_bad(&r, "diff").starts_with("error: s.yaml:1:8: rules `/dev/zero`:"));
    std::os::unix::fs::symlink("/dev/zero", d.join("z.yaml")).unwrap();
    let r = workbench_in(d, &["run", "z.yaml", "--rules", &rules_abs()]);
    assert_eq!(
        assert_bad(&r, "symlink to a device"),
        "error: z.yaml: is not a regular file (a device, a pipe or a socket)\n"
    );
    let fifo = d.join("f.jsonl");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status();
    if made.is_ok_and(|s| s.success()) {
        let r = workbench_in(d, &["run", "f.jsonl", "--rules", &rules_abs()]);
        assert_eq!(
            assert_bad(&r, "fifo"),
            "error: f.jsonl: is not a regular file (a device, a pipe or a socket)\n"
        );
    }
    std::fs::create_dir(d.join("sub")).unwrap();
    std::os::unix::fs::symlink(d.join("sub"), d.join("dir.yaml")).unwrap();
    let r = workbench_in(d, &["run", "dir.yaml", "--rules", &rules_abs()]);
    assert!(assert_bad(&r, "symlink to a directory").contains("directory holds no"));
}

#[test]
fn rules_errors() {
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (b"rules:\n  - name: a\n    trigger: {event_type: x\n".to_vec(), "error: r.yaml:4:1: "),
        (b"rules:\n  - name: a\n    trigger: {event_type: x}\n    action: {type: send, template_name: T, delivery_method: email}\n    colour: red\n".to_vec(),
            "error: r.yaml:5:5: rules[0]: unknown field `colour`"),
        (b"rules:\n  - name: a\n    enabled: maybe\n".to_vec(), "error: r.yaml:3:14: rules[0].enabled: invalid type: string \"maybe\", expected a boolean"),
        (b"".to_vec(), "error: r.yaml: rules file is empty"),
        (b"rules:\n  - name: \xff\n".to_vec(), "error: r.yaml: line 2: not valid UTF-8"),
    ];
    for (content, want) in cases {
        let err = run_bad_rules(&content);
        assert!(err.starts_with(want), "want {want}\n got {err}");
    }
}

#[test]
fn missing_files_and_directories() {
    let r = workbench(&["run", "scenarios/nope.yaml"]);
    assert_eq!(
        assert_bad(&r, "missing"),
        "error: scenarios/nope.yaml: no such file\n"
    );
    let r = workbench(&["run", "scenarios", "--rules", "rules"]);
    assert_eq!(
        assert_bad(&r, "rules dir"),
        "error: rules: is a directory, not a file\n"
    );
    let r = workbench(&["check", "rules/missing.yaml"]);
    assert_eq!(
        assert_bad(&r, "check missing"),
        "error: rules/missing.yaml: no such file\n"
    );
    let empty = tempfile::tempdir().unwrap();
    let r = workbench(&["run", empty.path().to_str().unwrap()]);
    assert!(assert_bad(&r, "empty dir").contains("directory holds no"));
    let r = workbench(&["run", "scenarios", "--format", "xml"]);
    assert_eq!(r.code, 2, "clap usage errors exit 2 too");
}

#[test]
fn one_bad_file_among_good_ones_runs_nothing() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        root().join("scenarios/mixed_day.jsonl"),
        dir.path().join("a.jsonl"),
    )
    .unwrap();
    std::fs::write(dir.path().join("b.yaml"), "events: 3\n").unwrap();
    let messages = dir.path().join("m.txt");
    let r = workbench_in(
        dir.path(),
        &["run", ".", "--rules", &rules_abs(), "--messages", "m.txt"],
    );
    assert!(assert_bad(&r, "mixed").contains("b.yaml:1:9"));
    assert!(
        !Path::new(&messages).exists() || std::fs::read_to_string(&messages).unwrap().is_empty()
    );
}
