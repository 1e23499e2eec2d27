//! `workbench run` end to end: reports, exit codes, determinism, files it writes.

mod common;

use common::{root, workbench, workbench_in};

#[test]
fn bundled_scenarios_pass_with_a_text_report() {
    let r = workbench(&["run", "scenarios"]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.ends_with("147 passed, 0 failed\n"), "{}", r.stdout);
    insta::assert_snapshot!("run_text_bundled", r.stdout);
}

#[test]
fn json_and_junit_reports_are_byte_identical_across_runs() {
    for format in ["json", "junit", "text"] {
        let a = workbench(&["run", "scenarios", "--format", format]);
        let b = workbench(&["run", "scenarios", "--format", format]);
        assert_eq!(a.code, 0, "{}", a.stderr);
        assert_eq!(a.stdout, b.stdout, "{format} output differs between runs");
    }
    let json = workbench(&["run", "scenarios/payment_failures.yaml", "--format", "json"]);
    insta::assert_snapshot!("run_json_payment_failures", json.stdout);
    let junit = workbench(&["run", "scenarios/mixed_day.jsonl", "--format", "junit"]);
    insta::assert_snapshot!("run_junit_mixed_day", junit.stdout);
}

#[test]
fn json_report_parses_and_summarises() {
    let r = workbench(&["run", "scenarios", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["summary"]["files"], 7);
    assert_eq!(v["summary"]["passed"], 147);
    assert_eq!(v["summary"]["failed"], 0);
    let d = &v["files"][0]["decisions"][0];
    for key in [
        "index",
        "event_id",
        "user_id",
        "event_type",
        "event_timestamp",
        "matched_rule",
        "action_type",
        "template_name",
        "channel",
        "outcome",
        "reason",
        "reason_code",
        "expectation",
    ] {
        assert!(d.get(key).is_some(), "decision lacks `{key}`: {d}");
    }
}

#[test]
fn a_failed_expectation_exits_1_and_names_file_line_event_and_reason() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fail.yaml");
    std::fs::write(
        &path,
        format!(
            "rules: {}\nevents:\n  - user_id: u1\n    event_type: payment_failed\n    event_timestamp: 2024-01-15T10:30:00Z\n    properties: {{failure_reason: CARD_DECLINED, attempt_number: 1}}\n    expect: {{outcome: allow}}\n  - {{user_id: u1, event_type: x, event_timestamp: 2024-01-15T10:31:00Z, expect: {{outcome: none}}}}\n",
            root().join("rules/rules.yaml").display()
        ),
    )
    .unwrap();
    let p = path.to_str().unwrap();
    let r = workbench(&["run", p]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    // The line of the failing `expect` key, not the event's first line.
    let line = format!(
        "{p}:7: event #1 (user u1, payment_failed @ 2024-01-15T10:30:00Z): expected outcome allow, got none — insufficient_funds_email: properties.failure_reason equals INSUFFICIENT_FUNDS, got \"CARD_DECLINED\"; high_risk_alert: properties.attempt_number gte 3, got 1\n"
    );
    assert!(r.stdout.contains(&line), "{}", r.stdout);
    assert!(r.stdout.ends_with("1 passed, 1 failed\n"), "{}", r.stdout);
    let j = workbench(&["run", p, "--format", "junit"]);
    assert_eq!(j.code, 1);
    assert!(j.stdout.contains("failures=\"1\""), "{}", j.stdout);
}

#[test]
fn messages_and_db_are_written_when_asked() {
    let dir = tempfile::tempdir().unwrap();
    let messages = dir.path().join("messages.txt");
    let db = dir.path().join("scratch.db");
    let r = workbench(&[
        "run",
        "scenarios/payment_failures.yaml",
        "--messages",
        messages.to_str().unwrap(),
        "--db",
        db.to_str().unwrap(),
        "--output",
        dir.path().join("report.txt").to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stdout, "");
    let lines = std::fs::read_to_string(&messages).unwrap();
    insta::assert_snapshot!("messages_payment_failures", lines);
    let conn = rusqlite::Connection::open(&db).unwrap();
    let count = |t: &str| -> i64 {
        conn.query_row(&format!("SELECT count(*) FROM {t}"), [], |r| r.get(0))
            .unwrap()
    };
    assert_eq!(count("events"), 14);
    assert_eq!(count("decisions"), 14);
    assert_eq!(
        count("send_requests"),
        i64::try_from(lines.lines().count()).unwrap()
    );
    assert_eq!(count("suppressions"), 3);
    assert_eq!(count("user_traits"), 1);
    // Running again starts from a fresh database and appends to messages.txt.
    let again = workbench(&[
        "run",
        "scenarios/payment_failures.yaml",
        "--messages",
        messages.to_str().unwrap(),
        "--db",
        db.to_str().unwrap(),
    ]);
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert_eq!(count("events"), 14);
    let twice = std::fs::read_to_string(&messages).unwrap();
    assert_eq!(twice, format!("{lines}{lines}"));
}

#[test]
fn rules_flag_overrides_the_scenario_and_rules_path_env_is_a_fallback() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("r.yaml"),
        "rules:\n  - name: everything\n    trigger: {event_type: app_opened}\n    action: {type: send, template_name: HI, delivery_method: push}\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("s.jsonl"),
        "{\"user_id\":\"u\",\"event_type\":\"app_opened\",\"event_timestamp\":\"2024-01-01T00:00:00Z\",\"expect\":{\"matched_rule\":\"everything\"}}\n",
    )
    .unwrap();
    let r = workbench_in(dir.path(), &["run", "s.jsonl", "--rules", "r.yaml"]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_workbench"))
        .args(["run", "s.jsonl"])
        .current_dir(dir.path())
        .env("RULES_PATH", "r.yaml")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let r = workbench_in(dir.path(), &["run", "s.jsonl"]);
    assert_eq!(r.code, 2, "no rules/rules.yaml here");
    assert!(
        r.stderr.contains("rules/rules.yaml: no such file"),
        "{}",
        r.stderr
    );
}

#[test]
fn check_summarises_and_lints() {
    let r = workbench(&["check"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    insta::assert_snapshot!("check_bundled_rules", r.stdout);
    assert_eq!(workbench(&["check", "--deny-warnings"]).code, 1);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("r.yaml"),
        "rules:
  - name: any_failure
    trigger: {event_type: payment_failed}
    action: {type: send, template_name: SORRY, delivery_method: email}
  - name: big_failure
    trigger: {event_type: payment_failed}
    conditions:
      all:
        - {field: properties.amount, operator: gt, value: 500}
        - {field: properties.amount, operator: lt, value: 100}
    action: {type: alert, template_name: BIG, delivery_method: internal}
    suppression: {mode: once_per_calendar_day}
  - name: old_promo
    enabled: false
    trigger: {event_type: app_opened}
    action: {type: send, template_name: PROMO, delivery_method: push}
templates:
  SORRY: Sorry about that.
  PROMO: Try our new card.
",
    )
    .unwrap();
    let r = workbench_in(dir.path(), &["check", "r.yaml"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    insta::assert_snapshot!("check_lints", r.stdout);
}

#[test]
fn gen_is_deterministic_and_its_stream_runs() {
    let a = workbench(&["gen", "--users", "40", "--events", "500", "--seed", "3"]);
    let b = workbench(&["gen", "--users", "40", "--events", "500", "--seed", "3"]);
    assert_eq!(a.code, 0);
    assert_eq!(a.stdout, b.stdout);
    assert_eq!(a.stdout.lines().count(), 500);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("g.jsonl");
    let w = workbench(&[
        "gen",
        "--users",
        "40",
        "--events",
        "500",
        "--out",
        path.to_str().unwrap(),
    ]);
    assert_eq!(w.code, 0, "{}", w.stderr);
    let r = workbench(&["run", path.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.ends_with("0 passed, 0 failed\n"));
}

#[test]
fn a_50_mb_jsonl_scenario_just_runs() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.jsonl");
    let p = path.to_str().unwrap();
    let g = workbench(&["gen", "--users", "20000", "--events", "200000", "--out", p]);
    assert_eq!(g.code, 0, "{}", g.stderr);
    assert!(std::fs::metadata(&path).unwrap().len() > 50_000_000);
    let r = workbench(&["run", p]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.contains("big.jsonl: 200000 events"),
        "{}",
        r.stdout
    );
}

#[test]
fn min_coverage_fails_when_an_enabled_rule_never_matched() {
    let r = workbench(&["run", "scenarios/payment_failures.yaml", "--min-coverage"]);
    assert_eq!(r.code, 1, "{}", r.stdout);
    assert!(r.stdout.contains(
        "coverage rules/rules.yaml: 2 of 5 enabled rules matched; never matched: welcome_email (line 3), bank_link_nudge (line 20), payday_savings_push (line 70) — below the required 100%"
    ), "{}", r.stdout);
    let r = workbench(&[
        "run",
        "scenarios/payment_failures.yaml",
        "--min-coverage",
        "40",
    ]);
    assert_eq!(r.code, 0, "2 of 5 is 40%: {}", r.stdout);
    let r = workbench(&["run", "scenarios", "--min-coverage"]);
    assert_eq!(
        r.code, 0,
        "every rule matches somewhere in the bundled scenarios"
    );
    let j = workbench(&[
        "run",
        "scenarios/payment_failures.yaml",
        "--min-coverage",
        "--format",
        "junit",
    ]);
    assert_eq!(j.code, 1);
    assert!(
        j.stdout
            .contains("rule `welcome_email` (line 3) never matched"),
        "{}",
        j.stdout
    );
    let j = workbench(&["run", "scenarios/payment_failures.yaml", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&j.stdout).unwrap();
    assert_eq!(v["coverage"][0]["matched"], 2);
    assert_eq!(v["coverage"][0]["never_matched"][0][0], "welcome_email");
    assert_eq!(v["files"][0]["rule_stats"][3]["shadowed"], 2);
}

#[test]
fn db_with_several_scenarios_keeps_one_database_each() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("scratch.db");
    let r = workbench(&["run", "scenarios", "--db", db.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    for name in [
        "bank_link_nudge",
        "mixed_day",
        "payment_failures",
        "welcome_email",
    ] {
        let path = dir.path().join(format!("scratch.{name}.db"));
        let conn = rusqlite::Connection::open(&path).unwrap();
        let n: i64 = conn
            .query_row("SELECT count(*) FROM decisions", [], |r| r.get(0))
            .unwrap();
        assert!(n > 0, "{name}");
    }
    assert!(!db.exists());
}

#[test]
fn event_names_are_the_test_names_in_every_report() {
    let dir = tempfile::tempdir().unwrap();
    let rules = root().join("rules/rules.yaml");
    std::fs::write(
        dir.path().join("s.jsonl"),
        "{\"name\":\"opted-out signup gets nothing\",\"user_id\":\"u1\",\"event_type\":\"signup_completed\",\"event_timestamp\":\"2024-01-15T10:30:00Z\",\"expect\":{\"outcome\":\"allow\",\"matched_rule\":null}}\n",
    )
    .unwrap();
    let run = |format: &str| {
        let r = workbench_in(
            dir.path(),
            &[
                "run",
                "s.jsonl",
                "--rules",
                rules.to_str().unwrap(),
                "--format",
                format,
            ],
        );
        assert_eq!(r.code, 1, "{}", r.stderr);
        r.stdout
    };
    let text = run("text");
    assert!(
        text.contains(
            "s.jsonl:1: opted-out signup gets nothing: expected outcome allow, got none — "
        ),
        "{text}"
    );
    let v: serde_json::Value = serde_json::from_str(&run("json")).unwrap();
    let d = &v["files"][0]["decisions"][0];
    assert_eq!(d["name"], "opted-out signup gets nothing");
    assert_eq!(d["mismatches"][0]["got"], "none");
    assert_eq!(d["matched_rule"], serde_json::Value::Null);
    assert!(
        run("junit").contains("<testcase name=\"opted-out signup gets nothing\""),
        "junit"
    );
}

/// Two files under quiet hours 21:00–08:00 in Oslo: one holds the late send until 08:00
/// (CEST by then), the other drops it; the morning send goes out in both.
#[test]
fn held_and_dropped_sends_in_every_report() {
    let dir = tempfile::tempdir().unwrap();
    for mode in ["hold", "drop"] {
        let rules = format!(
            "timezone: Europe/Oslo\nquiet_hours: {{start: \"21:00\", end: \"08:00\", mode: {mode}}}\n\
             rules:\n  - name: cart_reminder\n    trigger: {{event_type: cart_abandoned}}\n    \
             action: {{type: send, template_name: CART_REMINDER, delivery_method: email}}\n"
        );
        std::fs::write(dir.path().join(format!("{mode}.rules.yaml")), rules).unwrap();
        let late = if mode == "hold" {
            "{outcome: allow, reason_code: scheduled, deliver_at: 2025-03-30T06:00:00Z}"
        } else {
            "{outcome: suppress, reason_code: suppressed_quiet_hours}"
        };
        let scenario = format!(
            "rules: {mode}.rules.yaml\nevents:\n  - name: late cart\n    user_id: u_ola\n    \
             event_type: cart_abandoned\n    event_timestamp: 2025-03-29T22:00:00Z\n    \
             expect: {late}\n  - user_id: u_ola\n    event_type: cart_abandoned\n    \
             event_timestamp: 2025-03-30T07:00:00Z\n    expect: {{outcome: allow, reason_code: sent}}\n"
        );
        std::fs::write(dir.path().join(format!("{mode}.yaml")), scenario).unwrap();
    }
    let run = |format: &str| {
        let args = ["run", "hold.yaml", "drop.yaml", "--format", format];
        let r = workbench_in(dir.path(), &args);
        assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
        r.stdout
    };
    let text = run("text");
    assert!(
        text.contains("late cart: allow  scheduled → 2025-03-30T06:00:00Z"),
        "{text}"
    );
    insta::assert_snapshot!("run_text_quiet_hours", text);
    let json = run("json");
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let d = &v["files"][0]["decisions"];
    assert_eq!(d[0]["deliver_at"], "2025-03-30T06:00:00Z");
    assert_eq!(d[0]["delivery_status"], "delivered");
    assert_eq!(
        v["files"][1]["decisions"][0]["delivery_status"],
        serde_json::Value::Null
    );
    insta::assert_snapshot!("run_json_quiet_hours", json);
    insta::assert_snapshot!("run_junit_quiet_hours", run("junit"));
}
