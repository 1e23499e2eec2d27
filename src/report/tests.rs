//! Reports rendered through the library: huge names, failure lines, typed JSON values.

use std::path::Path;
use std::sync::Arc;

use super::*;
use crate::rules::RuleSet;
use crate::runner::run_scratch;
use crate::scenario::Scenario;

const RULES: &str = "rules:
  - name: placeholder
    trigger: {event_type: x}
    action: {type: send, template_name: T, delivery_method: email}
";

/// The rules above with their one rule renamed (no loader would accept such a name).
pub(crate) fn rules_named(name: &str) -> RuleSet {
    let r = RuleSet::from_yaml(Path::new("r.yaml"), RULES).unwrap();
    let mut rules = r.rules;
    rules[0].name = name.into();
    RuleSet::new(rules, r.templates)
}

pub(crate) fn run(rules: RuleSet, scenario: &str) -> FileRun {
    let scenario = Scenario::from_yaml(Path::new("s.yaml"), scenario).unwrap();
    let results = run_scratch(&scenario, &rules).unwrap();
    FileRun {
        scenario,
        rules_path: "r.yaml".into(),
        rules: Arc::new(rules),
        results,
    }
}

pub(crate) const SCENARIO: &str = "events:
  - user_id: u1
    event_type: x
    event_timestamp: 2024-01-15T10:30:00Z
    expect:
      outcome: allow
      matched_rule: null
  - name: unknown types match nothing
    user_id: u1
    event_type: y
    event_timestamp: 2024-01-15T10:31:00Z
    expect: {outcome: none, matched_rule: placeholder}
";

#[test]
fn a_70000_character_rule_name_renders_in_every_format() {
    let name = "n".repeat(70_000);
    let runs = [run(rules_named(&name), SCENARIO)];
    let opts = Options::default();
    let text = text(&runs, &opts);
    assert!(
        text.contains(&format!("  {name}        1")),
        "row of the long rule"
    );
    let header = text.lines().find(|l| l.starts_with("  rule ")).unwrap();
    assert!(header.len() < 120, "the column is clamped: {header}");
    let v: serde_json::Value = serde_json::from_str(&json(&runs, &opts)).unwrap();
    assert_eq!(v["files"][0]["rule_stats"][0]["rule"], name.as_str());
    assert!(junit(&runs, &opts).contains(&name));
}

#[test]
fn failure_lines_point_at_the_failing_key_and_use_the_event_name() {
    let runs = [run(rules_named("placeholder"), SCENARIO)];
    let text = text(&runs, &Options::default());
    assert!(
        text.contains("s.yaml:7: event #1 (user u1, x @ 2024-01-15T10:30:00Z): expected matched_rule null, got placeholder — "),
        "{text}"
    );
    assert!(
        text.contains(
            "s.yaml:12: unknown types match nothing: expected matched_rule placeholder, got null — "
        ),
        "{text}"
    );
    let junit = junit(&runs, &Options::default());
    assert!(
        junit.contains("testcase name=\"unknown types match nothing\""),
        "{junit}"
    );
    assert!(
        junit.contains("s.yaml:12: unknown types match nothing"),
        "{junit}"
    );
}

#[test]
fn json_mismatches_keep_json_types_and_lines() {
    let runs = [run(rules_named("placeholder"), SCENARIO)];
    let v: serde_json::Value = serde_json::from_str(&json(&runs, &Options::default())).unwrap();
    let d = &v["files"][0]["decisions"];
    assert_eq!(d[0]["line"], 2);
    assert!(d[0].get("name").is_none());
    let m = &d[0]["mismatches"][0];
    assert_eq!(
        (&m["key"], &m["expected"], &m["got"], &m["line"]),
        (
            &"matched_rule".into(),
            &serde_json::Value::Null,
            &"placeholder".into(),
            &7.into()
        )
    );
    assert_eq!(d[1]["name"], "unknown types match nothing");
    let m = &d[1]["mismatches"][0];
    assert_eq!(
        (&m["expected"], &m["got"]),
        (&"placeholder".into(), &serde_json::Value::Null)
    );
}
