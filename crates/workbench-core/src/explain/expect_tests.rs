use std::path::Path;

use super::*;
use crate::engine::{History, decide};
use crate::explain::plain;
use crate::rules::RuleSet;
use crate::scenario::Scenario;

const RULES: &str = "rules:
  - name: welcome
    trigger: {event_type: signup}
    action: {type: send, template_name: HELLO, delivery_method: email}
";

const SCENARIO: &str = r#"events:
  - user_id: u
    event_type: signup
    event_timestamp: 2025-10-01T10:00:00Z
    expect:
      outcome: allow
      matched_rule: welcome
      reason_contains: "nothing like this"
  - user_id: u
    event_type: signup
    event_timestamp: 2025-10-01T11:00:00Z
    expect: {outcome: allow, channel: email}
  - user_id: u
    event_type: signup
    event_timestamp: 2025-10-01T12:00:00Z
"#;

/// Step `i` decided with no history, checked as the runner checks it.
fn row(s: &Scenario, i: usize) -> EventResult {
    let rules = RuleSet::from_yaml(Path::new("r.yaml"), RULES).unwrap();
    let step = s.step(i).unwrap();
    let d = decide(&rules, &step.event, &History::default());
    let mismatches = step.expect.as_ref().map(|e| {
        let mut m = e.check(&d.verdict);
        for x in &mut m {
            x.line = u32::try_from(step.line_of(x.key)).unwrap();
        }
        m
    });
    EventResult {
        step: u32::try_from(i).unwrap(),
        line: u32::try_from(step.line).unwrap(),
        name: None,
        user_id: "u".into(),
        event_type: "signup".into(),
        event_timestamp: step.event.event_timestamp,
        event_id: i64::try_from(i).unwrap() + 1,
        verdict: d.verdict.clone(),
        mismatches,
        shadowed: Box::new([]),
        written_at: None,
        replayed: false,
    }
}

#[test]
fn every_key_is_listed_held_or_expected_and_got_with_its_line() {
    let s = Scenario::from_yaml(Path::new("s.yaml"), SCENARIO).unwrap();
    let r = row(&s, 0);
    let text = plain(&expectations("s.yaml", &r, s.step(0), false));
    assert_eq!(
        text,
        "✗ 1 expectation failed  s.yaml:2\n  ✗ expected reason_contains \"nothing like this\", \
         got \"welcome matched; send by email: HELLO has no suppression\"  line 8\n  ✓ outcome \
         allow  line 6\n  ✓ matched_rule welcome  line 7\n"
    );
}

#[test]
fn held_expectations_take_one_line_unless_shown_in_full() {
    let s = Scenario::from_yaml(Path::new("s.yaml"), SCENARIO).unwrap();
    let r = row(&s, 1);
    assert_eq!(
        plain(&expectations("s.yaml", &r, s.step(1), false)),
        "✓ 2 expectations met  s.yaml:9\n"
    );
    assert_eq!(
        plain(&expectations("s.yaml", &r, s.step(1), true)),
        "✓ expectations met  s.yaml:9\n  ✓ outcome allow  line 12\n  ✓ channel email  line 12\n"
    );
    // A streamed scenario knows only what failed: nothing here.
    assert_eq!(
        plain(&expectations("s.jsonl", &r, None, false)),
        "✓ expectations met  s.jsonl:9\n"
    );
    assert!(expectations("s.yaml", &row(&s, 2), s.step(2), true).is_empty());
}
