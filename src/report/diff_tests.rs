//! Diff rendering with rule names far longer than any loader accepts.

use super::tests::{SCENARIO, rules_named, run};
use crate::diff::{compare, json, text};

#[test]
fn a_70000_character_rule_name_renders_in_both_formats() {
    let name = "n".repeat(70_000);
    let base = run(rules_named("placeholder"), SCENARIO);
    let new = run(rules_named(&name), SCENARIO);
    let diffs = [compare(&base, &new)];
    assert_eq!(diffs[0].changed(), 1);
    let text = text(&diffs);
    assert!(text.contains(&format!("placeholder allow -> {name} allow: 1 event")));
    let header = text.lines().find(|l| l.starts_with("  rule ")).unwrap();
    assert!(header.len() < 150, "the column is clamped: {header}");
    let v: serde_json::Value = serde_json::from_str(&json(&diffs)).unwrap();
    assert_eq!(v["files"][0]["rules"][0]["rule"], name.as_str());
}
