use std::path::Path;

use serde_json::json;

use super::*;
use crate::event::Event;

fn lints(src: &str) -> Vec<(LintKind, Option<usize>, String)> {
    let rules = RuleSet::from_yaml(Path::new("r.yaml"), src).unwrap();
    lint(&rules)
        .into_iter()
        .map(|w| (w.kind, w.line, w.message))
        .collect()
}

fn rule(name: &str, cond: &str) -> String {
    format!(
        "  - name: {name}\n    trigger: {{event_type: payment_failed}}\n{cond}    action: {{type: send, template_name: T, delivery_method: email}}\n"
    )
}

const TEMPLATES: &str = "templates:\n  T: text\n";

#[test]
fn the_bundled_rules_overlap_where_expected() {
    let rules = RuleSet::from_yaml(
        Path::new("rules/rules.yaml"),
        include_str!("../../../../rules/rules.yaml"),
    )
    .unwrap();
    let w = lint(&rules);
    assert_eq!(w.len(), 1, "{w:?}");
    assert_eq!(w[0].kind, LintKind::Overlap);
    assert_eq!(w[0].line, Some(53));
    assert_eq!(
        w[0].message,
        "rules `insufficient_funds_email` (line 36) and `high_risk_alert` (line 53) overlap: \
         `payment_failed` with `properties.failure_reason equals INSUFFICIENT_FUNDS` and \
         `properties.attempt_number gte 3` goes to `insufficient_funds_email`, never to `high_risk_alert`"
    );
}

#[test]
fn a_rule_after_a_broader_one_can_never_match() {
    let src = format!(
        "rules:\n{}{}{}{TEMPLATES}",
        rule(
            "a",
            "    conditions: {field: properties.r, operator: equals, value: X}\n"
        ),
        rule(
            "b",
            "    conditions: {all: [{field: properties.r, operator: equals, value: X}, {field: properties.n, operator: gt, value: 1}]}\n"
        ),
        rule("c", ""),
    );
    let w = lints(&src);
    assert_eq!(w[0].0, LintKind::Unreachable);
    assert_eq!(w[0].1, Some(6));
    assert!(w[0].2.starts_with("rule `b` (line 6) can never match: the earlier rule `a` (line 2) for `payment_failed` needs only `properties.r equals X`"), "{}", w[0].2);
    // `c` has no conditions: it overlaps `a` and `b`, but nothing before it is broader.
    assert!(
        w.iter()
            .any(|(k, l, _)| *k == LintKind::Overlap && *l == Some(10)),
        "{w:?}"
    );
    let src = format!(
        "rules:\n{}{}{TEMPLATES}",
        rule("a", ""),
        rule(
            "b",
            "    conditions: {field: properties.r, operator: exists}\n"
        )
    );
    let w = lints(&src);
    assert_eq!(w.len(), 1);
    assert!(
        w[0].2
            .contains("`a` (line 2) for `payment_failed` has no conditions"),
        "{w:?}"
    );
}

#[test]
fn contradictions_in_one_all() {
    let cases = [
        (
            "[{field: properties.r, operator: equals, value: A}, {field: properties.r, operator: equals, value: B}]",
            true,
        ),
        (
            "[{field: properties.n, operator: gt, value: 5}, {field: properties.n, operator: lt, value: 3}]",
            true,
        ),
        (
            "[{field: properties.n, operator: gte, value: 3}, {field: properties.n, operator: lte, value: 3}]",
            false,
        ),
        (
            "[{field: properties.n, operator: gt, value: 3}, {field: properties.n, operator: lte, value: 3}]",
            true,
        ),
        (
            "[{field: properties.r, operator: equals, value: A}, {field: properties.r, operator: not_equals, value: A}]",
            true,
        ),
        (
            "[{field: properties.r, operator: exists}, {field: properties.r, operator: not_exists}]",
            true,
        ),
        (
            "[{field: properties.r, operator: in, value: [A, B]}, {field: properties.r, operator: equals, value: C}]",
            true,
        ),
        (
            "[{field: properties.r, operator: equals, value: 3}, {field: properties.r, operator: gte, value: 3}]",
            false,
        ),
        (
            "[{field: properties.r, operator: equals, value: A}, {field: properties.s, operator: equals, value: B}]",
            false,
        ),
    ];
    for (all, contradictory) in cases {
        let src = format!(
            "rules:\n{}{TEMPLATES}",
            rule("a", &format!("    conditions: {{all: {all}}}\n"))
        );
        let w = lints(&src);
        let found = w.iter().any(|(k, _, m)| {
            *k == LintKind::Contradiction
                && m.starts_with("rule `a` (line 2): contradictory conditions: `")
        });
        assert_eq!(found, contradictory, "{all}: {w:?}");
    }
}

#[test]
fn missing_text_disabled_and_suppressed_alerts() {
    let src = "rules:
  - name: quiet
    enabled: false
    trigger: {event_type: x}
    action: {type: send, template_name: NOPE, delivery_method: sms}
  - name: loud
    trigger: {event_type: payment_failed}
    action: {type: alert, template_name: T, delivery_method: internal}
    suppression: {mode: once_ever}
templates:
  T: text
";
    let w = lints(src);
    let kinds: Vec<_> = w.iter().map(|(k, l, _)| (*k, *l)).collect();
    assert_eq!(
        kinds,
        [
            (LintKind::Disabled, Some(2)),
            (LintKind::MissingText, Some(2)),
            (LintKind::SuppressedAlert, Some(6)),
        ]
    );
    assert_eq!(
        w[1].2,
        "rule `quiet` (line 2): template `NOPE` has no text under `templates:`"
    );
}

#[allow(clippy::needless_pass_by_value)] // fixtures are built inline with `json!`
fn event(event_type: &str, props: serde_json::Value, traits: serde_json::Value) -> Event {
    Event {
        user_id: "u".into(),
        event_type: event_type.into(),
        event_timestamp: chrono::DateTime::UNIX_EPOCH,
        properties: props.as_object().cloned().unwrap_or_default(),
        user_traits: serde_json::from_value(traits).ok(),
        idempotency_key: None,
    }
}

fn lints_with(src: &str, events: &[Event]) -> Vec<(LintKind, String)> {
    let rules = RuleSet::from_yaml(Path::new("r.yaml"), src).unwrap();
    let mut facts = Facts::for_rules(&rules);
    facts.files = 1;
    for e in events {
        facts.observe(e);
    }
    lint_with(&rules, &facts)
        .warnings
        .into_iter()
        .map(|w| (w.kind, w.message))
        .collect()
}

#[test]
fn a_trigger_nothing_sends_is_reported_with_the_closest_known_type() {
    let src = "rules:
  - name: hi
    trigger: {event_type: signup_complete}
    action: {type: send, template_name: T, delivery_method: email}
  - name: opened
    trigger: {event_type: app_opened}
    conditions: {prior_event: {event_type: app_open, hours: 1}}
    action: {type: send, template_name: T, delivery_method: email}
templates:
  T: text
";
    let w = lints_with(src, &[event("app_opened", json!({}), json!({}))]);
    let unknown: Vec<&String> = w
        .iter()
        .filter(|(k, _)| *k == LintKind::UnknownEventType)
        .map(|(_, m)| m)
        .collect();
    assert_eq!(unknown.len(), 2, "{w:?}");
    assert_eq!(
        unknown[0],
        "rule `hi` (line 2): trigger `signup_complete` is not a known event type and no event of \
         the 1 scenario file has it, so it never fires; did you mean `signup_completed`?"
    );
    assert!(
        unknown[1].contains("prior_event `app_open`"),
        "{}",
        unknown[1]
    );
    assert!(
        unknown[1].ends_with("did you mean `app_opened`?"),
        "{}",
        unknown[1]
    );
}

#[test]
fn a_value_of_a_type_the_field_never_has_is_reported() {
    let src = "rules:
  - name: w
    trigger: {event_type: signup_completed}
    conditions:
      all:
        - {field: user_traits.marketing_opt_in, operator: equals, value: \"true\"}
        - {field: properties.n, operator: gte, value: 3}
        - {field: properties.tags, operator: contains, value: vip}
        - {field: properties.plan, operator: in, value: [1, gold]}
    action: {type: send, template_name: T, delivery_method: email}
templates:
  T: text
";
    let events = [
        event(
            "signup_completed",
            json!({"n": "3", "tags": ["vip"], "plan": "gold"}),
            json!({"marketing_opt_in": true}),
        ),
        event(
            "signup_completed",
            json!({"n": "4"}),
            json!({"marketing_opt_in": false}),
        ),
    ];
    let w = lints_with(src, &events);
    let found: Vec<&String> = w
        .iter()
        .filter(|(k, _)| *k == LintKind::TypeMismatch)
        .map(|(_, m)| m)
        .collect();
    assert_eq!(found.len(), 2, "{w:?}");
    assert_eq!(
        found[0],
        "rule `w` (line 2): `user_traits.marketing_opt_in equals \"true\"` never holds: \
         `user_traits.marketing_opt_in` is a boolean in every `signup_completed` event of the \
         scenarios that has it (2 events)"
    );
    assert!(found[1].contains("`properties.n gte 3` never holds: `properties.n` is a string"));
    // Without scenarios there is no evidence, so no warning.
    let rules = RuleSet::from_yaml(Path::new("r.yaml"), src).unwrap();
    assert!(
        lint(&rules)
            .iter()
            .all(|w| w.kind != LintKind::TypeMismatch)
    );
}

#[test]
fn ten_thousand_rules_on_one_trigger_lint_fast_and_the_index_finds_real_overlaps() {
    let mut src = String::from("rules:\n");
    for i in 0..10_000 {
        src.push_str(&rule(
            &format!("r{i}"),
            &format!("    conditions: {{field: properties.n, operator: equals, value: {i}}}\n"),
        ));
    }
    src.push_str(&rule(
        "same",
        "    conditions: {field: properties.n, operator: equals, value: 7}\n",
    ));
    src.push_str(&rule("any", ""));
    src.push_str(TEMPLATES);
    let rules = RuleSet::from_yaml(Path::new("r.yaml"), &src).unwrap();
    let started = std::time::Instant::now();
    let w = lint_with(&rules, &Facts::for_rules(&rules));
    assert!(
        started.elapsed().as_secs() < 10,
        "took {:?}",
        started.elapsed()
    );
    assert!(w.notes.is_empty());
    let kinds: Vec<(LintKind, &str)> = w
        .warnings
        .iter()
        .map(|w| (w.kind, &w.message[..w.message.find(" (line").unwrap()]))
        .collect();
    // `same` can never match (r7 wants the same); `any` overlaps every rule before it.
    assert_eq!(kinds[0], (LintKind::Unreachable, "rule `same`"));
    assert_eq!(kinds.len(), 1 + 10_001, "{:?}", &kinds[..3]);
}

#[test]
fn the_pair_budget_stops_the_overlap_lint_with_a_note() {
    let mut src = String::from("rules:\n");
    for i in 0..10 {
        src.push_str(&rule(
            &format!("r{i}"),
            &format!("    conditions: {{field: properties.p{i}, operator: exists}}\n"),
        ));
    }
    src.push_str(TEMPLATES);
    let rules = RuleSet::from_yaml(Path::new("r.yaml"), &src).unwrap();
    let (mut warnings, mut notes) = (Vec::new(), Vec::new());
    pairs::pairs_within(&rules, 20, &mut warnings, &mut notes);
    assert_eq!(warnings.len(), 20, "every pair overlaps");
    assert_eq!(
        notes,
        [
            "overlap lint stopped after comparing 20 pairs of rules: later rules (from line 26 on) \
          were not compared with every earlier rule"
        ]
    );
    let (mut warnings, mut notes) = (Vec::new(), Vec::new());
    pairs::pairs_within(&rules, 45, &mut warnings, &mut notes);
    assert_eq!((warnings.len(), notes.len()), (45, 0));
}
