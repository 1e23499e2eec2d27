//! `workbench check` end to end: hostile rules files fail fast with exit 2, lints against
//! scenarios, counts, and the scenarios it looks at by default.

mod common;

use std::fmt::Write as _;
use std::path::Path;
use std::time::{Duration, Instant};

use common::{Run, workbench, workbench_in};

const ONE_RULE: &str = "rules:
  - name: hi
    trigger: {event_type: signup_complete}
    conditions: {field: user_traits.marketing_opt_in, operator: equals, value: \"true\"}
    action: {type: send, template_name: T, delivery_method: email}
templates:
  T: Hello.
";

const SCENARIO: &str = "events:
  - user_id: u1
    event_type: signup_completed
    event_timestamp: 2025-01-01T00:00:00Z
    user_traits: {marketing_opt_in: true}
";

fn timed(dir: &Path, args: &[&str]) -> (Run, Duration) {
    let started = Instant::now();
    let r = workbench_in(dir, args);
    (r, started.elapsed())
}

fn assert_invalid_fast(r: &Run, took: Duration, want: &str) {
    assert_eq!(r.code, 2, "{}{}", r.stdout, r.stderr);
    assert!(r.stderr.contains(want), "{}", r.stderr);
    assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
    assert!(took < Duration::from_secs(10), "took {took:?}");
}

#[test]
fn devices_are_refused_at_once_as_rules_and_from_a_scenario() {
    let dir = tempfile::tempdir().unwrap();
    let (r, took) = timed(dir.path(), &["check", "/dev/zero"]);
    assert_invalid_fast(&r, took, "/dev/zero: is not a regular file");
    std::fs::write(
        dir.path().join("s.yaml"),
        format!("rules: /dev/zero\n{SCENARIO}"),
    )
    .unwrap();
    let (r, took) = timed(dir.path(), &["run", "s.yaml"]);
    assert_invalid_fast(
        &r,
        took,
        "s.yaml:1:8: rules `/dev/zero`: is not a regular file",
    );
}

#[test]
fn hostile_nesting_and_names_fail_fast_with_a_position() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            format!("rules: {}\n", "[".repeat(100_000)),
            "flow.yaml:1:",
            "nesting deeper than 128 levels",
        ),
        (
            format!("rules:\n  {}x\n", "- ".repeat(20_000)),
            "block.yaml:2:",
            "nesting deeper than 128 levels",
        ),
        (
            ONE_RULE.replace("template_name: T,", "template_name: \"T\\nX\","),
            "name.yaml:5:",
            "template name `T\\nX` contains the control character `\\n`",
        ),
    ];
    for (i, (src, at, want)) in cases.iter().enumerate() {
        let name = ["flow.yaml", "block.yaml", "name.yaml"][i];
        std::fs::write(dir.path().join(name), src).unwrap();
        let (r, took) = timed(dir.path(), &["check", name]);
        assert_invalid_fast(&r, took, want);
        assert!(
            r.stderr.starts_with(&format!("error: {at}")),
            "{}",
            r.stderr
        );
    }
}

#[test]
fn lints_against_given_scenarios_find_what_cannot_fire() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("r.yaml"), ONE_RULE).unwrap();
    std::fs::create_dir(dir.path().join("events")).unwrap();
    std::fs::write(dir.path().join("events/s.yaml"), SCENARIO).unwrap();
    let r = workbench_in(dir.path(), &["check", "r.yaml", "--scenarios", "events"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert_eq!(
        lines[0],
        "r.yaml: ok, 1 rule, 1 enabled; by trigger: signup_complete 1; against 1 scenario file and 1 event"
    );
    assert!(
        lines[1].ends_with("so it never fires; did you mean `signup_completed`?"),
        "{}",
        r.stdout
    );
    assert!(
        lines[2].contains("`user_traits.marketing_opt_in equals \"true\"` never holds"),
        "{}",
        r.stdout
    );
    assert_eq!(lines.last(), Some(&"2 warnings"));
    let r = workbench_in(
        dir.path(),
        &[
            "check",
            "r.yaml",
            "--scenarios",
            "events/s.yaml",
            "--deny-warnings",
        ],
    );
    assert_eq!(r.code, 1);
    let r = workbench_in(dir.path(), &["check", "r.yaml", "--scenarios", "nope.yaml"]);
    assert_eq!(r.code, 2, "{}", r.stdout);
    assert!(r.stderr.starts_with("error: nope.yaml: "), "{}", r.stderr);
}

#[test]
fn the_scenarios_beside_the_rules_directory_are_the_default() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("rules")).unwrap();
    std::fs::create_dir_all(dir.path().join("scenarios")).unwrap();
    std::fs::write(dir.path().join("rules/rules.yaml"), ONE_RULE).unwrap();
    std::fs::write(dir.path().join("scenarios/s.yaml"), SCENARIO).unwrap();
    let r = workbench_in(dir.path(), &["check"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout
            .lines()
            .next()
            .unwrap()
            .ends_with("against 1 scenario file and 1 event")
    );
    assert!(r.stdout.contains("never holds"), "{}", r.stdout);
    let r = workbench_in(dir.path(), &["check", "--no-scenarios"]);
    assert!(!r.stdout.contains("against"), "{}", r.stdout);
    assert!(!r.stdout.contains("never holds"), "{}", r.stdout);
    assert!(r.stdout.contains("no scenario was checked"), "{}", r.stdout);
}

#[test]
fn the_bundled_rules_raise_no_new_warning_against_the_bundled_scenarios() {
    let r = workbench(&["check"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.ends_with("\n1 warning\n"), "{}", r.stdout);
}

#[test]
fn ten_thousand_rules_with_one_trigger_check_in_seconds() {
    let dir = tempfile::tempdir().unwrap();
    let mut src = String::from("rules:\n");
    for i in 0..10_000 {
        let _ = write!(
            src,
            "  - name: r{i}\n    trigger: {{event_type: payment_failed}}\n    conditions: {{field: properties.attempt_number, operator: equals, value: {i}}}\n    action: {{type: send, template_name: T, delivery_method: email}}\n"
        );
    }
    src.push_str("templates:\n  T: text\n");
    std::fs::write(dir.path().join("r.yaml"), src).unwrap();
    let (r, took) = timed(dir.path(), &["check", "r.yaml"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stdout.lines().count(), 1, "{}", r.stdout);
    assert!(took < Duration::from_secs(30), "took {took:?}");
}
