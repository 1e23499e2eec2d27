//! `workbench diff`: changed decisions between two rule versions, grouped, with per-rule counts.

mod common;

use std::process::Command;

use common::{root, workbench, workbench_in};

fn once_ever_rules(dir: &std::path::Path) -> String {
    let rules = std::fs::read_to_string(root().join("rules/rules.yaml")).unwrap();
    let path = dir.join("new.yaml");
    std::fs::write(
        &path,
        rules.replace("mode: once_per_calendar_day", "mode: once_ever"),
    )
    .unwrap();
    path.display().to_string()
}

#[test]
fn diff_lists_changed_decisions_by_kind_with_rule_counts() {
    let dir = tempfile::tempdir().unwrap();
    let new = once_ever_rules(dir.path());
    let r = workbench(&[
        "diff",
        "scenarios/payment_failures.yaml",
        "--rules",
        &new,
        "--base",
        "rules/rules.yaml",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    insta::assert_snapshot!("diff_once_ever", r.stdout.replace(&new, "NEW"));
    let r = workbench(&[
        "diff",
        "scenarios",
        "--rules",
        &new,
        "--base",
        "rules/rules.yaml",
        "--fail-on-change",
    ]);
    assert_eq!(r.code, 1, "a change fails the guardrail");
    assert!(
        r.stdout.ends_with("7 of 46 decisions changed\n"),
        "{}",
        r.stdout
    );
    let same = workbench(&[
        "diff",
        "scenarios",
        "--base",
        "rules/rules.yaml",
        "--fail-on-change",
    ]);
    assert_eq!(same.code, 0);
    assert!(same.stdout.ends_with("0 of 46 decisions changed\n"));
}

#[test]
fn diff_as_json() {
    let dir = tempfile::tempdir().unwrap();
    let new = once_ever_rules(dir.path());
    let r = workbench(&[
        "diff",
        "scenarios/mixed_day.jsonl",
        "--rules",
        &new,
        "--base",
        "rules/rules.yaml",
        "--format",
        "json",
    ]);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["summary"]["changed"], 3);
    let g = &v["files"][0]["groups"][0];
    assert_eq!(
        g["label"],
        "insufficient_funds_email suppress: suppressed_once_per_calendar_day -> suppressed_once_ever"
    );
    assert_eq!(g["count"], 2);
    assert_eq!(
        g["events"][0]["before"]["reason_code"],
        "suppressed_once_per_calendar_day"
    );
    assert_eq!(
        g["events"][0]["after"]["reason_code"],
        "suppressed_once_ever"
    );
    assert_eq!(v["files"][0]["rules"][2]["before"]["allowed"], 2);
    assert_eq!(v["files"][0]["rules"][2]["after"]["allowed"], 1);
}

#[test]
fn base_from_git_shows_what_an_uncommitted_edit_does() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let git = |args: &[&str]| {
        let ok = Command::new("git")
            .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
            .args(args)
            .current_dir(d)
            .output()
            .unwrap();
        assert!(
            ok.status.success(),
            "{}",
            String::from_utf8_lossy(&ok.stderr)
        );
    };
    std::fs::copy(root().join("rules/rules.yaml"), d.join("rules.yaml")).unwrap();
    let scenario = std::fs::read_to_string(root().join("scenarios/payment_failures.yaml"))
        .unwrap()
        .replace("rules: ../rules/rules.yaml", "rules: rules.yaml");
    std::fs::write(d.join("s.yaml"), scenario).unwrap();
    git(&["init", "-q"]);
    git(&["add", "."]);
    git(&["commit", "-qm", "rules"]);
    let r = workbench_in(
        d,
        &["diff", "s.yaml", "--base", "git:HEAD", "--fail-on-change"],
    );
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let edited = std::fs::read_to_string(d.join("rules.yaml"))
        .unwrap()
        .replace("value: 3", "value: 4");
    std::fs::write(d.join("rules.yaml"), edited).unwrap();
    let r = workbench_in(
        d,
        &["diff", "s.yaml", "--base", "git:HEAD", "--fail-on-change"],
    );
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stdout
            .contains("(base git:HEAD:rules.yaml, new rules.yaml)"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .contains("high_risk_alert alert -> (no rule) none: 1 event"),
        "{}",
        r.stdout
    );
    let r = workbench_in(d, &["diff", "s.yaml", "--base", "git:nope"]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.starts_with("error: `git:nope`: fatal:"),
        "{}",
        r.stderr
    );
}
