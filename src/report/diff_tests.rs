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

#[derive(Debug)]
struct Lost;

impl crate::diff::Changes for Lost {
    fn change(&self, _: u32) -> Option<crate::diff::Change> {
        None
    }
}

#[test]
fn a_change_that_cannot_be_read_back_is_an_error_in_both_formats() {
    let base = run(rules_named("placeholder"), SCENARIO);
    let new = run(rules_named("renamed"), SCENARIO);
    let mut d = compare(&base, &new);
    assert_eq!(d.changed(), 1);
    d.changes = Box::new(Lost);
    let diffs = [d];
    let err = crate::diff::write_text(&diffs, &mut Vec::new()).unwrap_err();
    assert_eq!(err.to_string(), "cannot read back changed event 0");
    let err = crate::diff::write_json(&diffs, &mut Vec::new()).unwrap_err();
    assert!(
        err.to_string().contains("cannot read back changed event 0"),
        "{err}"
    );
}
