use std::path::Path;

use super::*;

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
        include_str!("../../rules/rules.yaml"),
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
