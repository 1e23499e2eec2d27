//! `workbench diff`: changed decisions between two rule versions, grouped, with per-rule counts.

mod common;

use std::fmt::Write as _;
use std::process::Command;

use common::{root, workbench, workbench_in};

fn once_ever_rules(dir: &std::path::Path) -> String {
    let rules = std::fs::read_to_string(root().join("rules/rules.yaml")).unwrap();
    let path = dir.join("new.yaml");
    std::fs::write(
        &path,
        rules.replacen("mode: once_per_calendar_day", "mode: once_ever", 1),
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
        r.stdout.ends_with("7 of 147 decisions changed\n"),
        "{}",
        r.stdout
    );
    let same = workbench(&[
        "diff",
        "scenarios",
        "--rules",
        "rules/rules.yaml",
        "--base",
        "rules/rules.yaml",
        "--fail-on-change",
    ]);
    assert_eq!(same.code, 0);
    assert!(same.stdout.ends_with("0 of 147 decisions changed\n"));
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
    let default = workbench_in(d, &["diff", "s.yaml", "--fail-on-change"]);
    assert_eq!(
        default.code, 1,
        "no --base means git:HEAD: {}",
        default.stderr
    );
    assert_eq!(default.stdout, r.stdout);
    std::fs::copy(d.join("rules.yaml"), d.join("untracked.yaml")).unwrap();
    let r = workbench_in(d, &["diff", "s.yaml", "--rules", "untracked.yaml"]);
    assert_eq!(r.code, 2);
    assert_eq!(
        r.stderr,
        "error: no `--base` given and `untracked.yaml` is not in git HEAD: pass --base PATH\n"
    );
    let r = workbench_in(d, &["diff", "s.yaml", "--base", "git:nope"]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.starts_with("error: `git:nope`: fatal:"),
        "{}",
        r.stderr
    );
}

/// A git repository in a temp dir with the bundled rules and two scenarios using them.
fn repo_with_two_scenarios() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::copy(root().join("rules/rules.yaml"), d.join("rules.yaml")).unwrap();
    for name in ["a.yaml", "b.yaml"] {
        let scenario = std::fs::read_to_string(root().join("scenarios/payment_failures.yaml"))
            .unwrap()
            .replace("rules: ../rules/rules.yaml", "rules: rules.yaml");
        std::fs::write(d.join(name), scenario).unwrap();
    }
    dir
}

#[test]
fn without_base_outside_git_the_error_says_to_pass_one() {
    let dir = repo_with_two_scenarios();
    let out = Command::new(env!("CARGO_BIN_EXE_workbench"))
        .args(["diff", "a.yaml"])
        .current_dir(dir.path())
        .env("GIT_CEILING_DIRECTORIES", dir.path().parent().unwrap())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(out.stdout, b"");
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "error: no `--base` given and `rules.yaml` is not in git HEAD: pass --base PATH\n"
    );
}

#[cfg(unix)]
#[test]
fn each_git_revision_is_read_once() {
    use std::os::unix::fs::PermissionsExt;
    let dir = repo_with_two_scenarios();
    let d = dir.path();
    let real = Command::new("sh")
        .args(["-c", "command -v git"])
        .output()
        .unwrap();
    let real = String::from_utf8(real.stdout).unwrap();
    let bin = d.join("bin");
    std::fs::create_dir(&bin).unwrap();
    let log = d.join("git.log");
    let shim = bin.join("git");
    std::fs::write(
        &shim,
        format!(
            "#!/bin/sh\necho \"$*\" >> '{}'\nexec '{}' \"$@\"\n",
            log.display(),
            real.trim()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&shim, std::fs::Permissions::from_mode(0o755)).unwrap();
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
    git(&["init", "-q"]);
    git(&["add", "."]);
    git(&["commit", "-qm", "rules"]);
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = Command::new(env!("CARGO_BIN_EXE_workbench"))
        .args(["diff", "a.yaml", "b.yaml"])
        .current_dir(d)
        .env("PATH", path)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).ends_with("0 of 28 decisions changed\n"));
    let calls = std::fs::read_to_string(&log).unwrap();
    assert_eq!(
        calls.lines().count(),
        1,
        "one `git show` for both scenarios: {calls}"
    );
}

#[test]
fn diff_names_the_guard_behind_each_change() {
    let dir = tempfile::tempdir().unwrap();
    let rules = "rules:\n  - name: promo\n    trigger: {event_type: tick}\n    \
                 action: {type: send, template_name: PROMO, delivery_method: email}\n";
    std::fs::write(dir.path().join("base.yaml"), rules).unwrap();
    std::fs::write(
        dir.path().join("new.yaml"),
        format!(
            "{rules}frequency_caps:\n  - {{name: one_a_day, max: 1, window: calendar_day, calendar: utc}}\n"
        ),
    )
    .unwrap();
    let mut events = String::from("events:\n");
    for (user, hour) in [
        ("a", 9),
        ("a", 10),
        ("a", 11),
        ("b", 9),
        ("b", 10),
        ("c", 9),
    ] {
        let _ = writeln!(
            events,
            "  - {{user_id: {user}, event_type: tick, event_timestamp: 2025-10-10T{hour:02}:00:00Z}}"
        );
    }
    std::fs::write(dir.path().join("s.yaml"), events).unwrap();
    let r = workbench_in(
        dir.path(),
        &[
            "diff",
            "s.yaml",
            "--base",
            "base.yaml",
            "--rules",
            "new.yaml",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout
            .contains("  2 users newly capped by one_a_day (3 events)\n"),
        "{}",
        r.stdout
    );
    let j = workbench_in(
        dir.path(),
        &[
            "diff",
            "s.yaml",
            "--base",
            "base.yaml",
            "--rules",
            "new.yaml",
            "--format",
            "json",
        ],
    );
    let v: serde_json::Value = serde_json::from_str(&j.stdout).unwrap();
    assert_eq!(
        v["files"][0]["guards"][0],
        serde_json::json!({"label": "newly capped by one_a_day", "users": 2, "events": 3})
    );
}
