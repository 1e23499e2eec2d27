use super::*;

fn load(src: &str) -> Result<RuleSet, RulesError> {
    RuleSet::from_yaml(Path::new("r.yaml"), src)
}

fn err(src: &str) -> String {
    load(src).unwrap_err().to_string()
}

const ONE: &str = "rules:
  - name: a
    trigger: {event_type: x}
    action: {type: send, template_name: T, delivery_method: email}
";

#[test]
fn the_bundled_rules_load() {
    let src = include_str!("../../rules/rules.yaml");
    let rules = load(src).unwrap();
    let names: Vec<&str> = rules.rules.iter().map(|r| &*r.name).collect();
    assert_eq!(
        names,
        [
            "welcome_email",
            "bank_link_nudge",
            "insufficient_funds_email",
            "high_risk_alert"
        ]
    );
    assert_eq!(rules.rules[0].pos, Some(Pos { line: 3, column: 5 }));
    let plan = rules.plan("payment_failed").unwrap();
    assert_eq!(plan.rules, vec![2, 3]);
    assert_eq!(
        rules.plan("link_bank_success").unwrap().prior_types,
        vec!["signup_completed"]
    );
    assert!(rules.text("WELCOME_EMAIL").starts_with("Welcome"));
}

#[test]
fn the_seed_readme_format_loads_unchanged() {
    let src = r#"
- name: "insufficient_funds_email"
  description: "Send insufficient funds email once per calendar day"
  enabled: true
  trigger:
    event_type: "payment_failed"
  conditions:
    all:
      - field: "properties.failure_reason"
        operator: "equals"
        value: "INSUFFICIENT_FUNDS"
  action:
    type: "send"
    template_name: "INSUFFICIENT_FUNDS_EMAIL"
    delivery_method: "email"
  suppression:
    mode: "once_per_calendar_day"
"#;
    let rules = load(src).unwrap();
    assert_eq!(rules.rules[0].suppression, Suppression::OncePerCalendarDay);
    let wrapped = format!("rules:\n{}", src.replace("\n", "\n  "));
    assert_eq!(load(&wrapped).unwrap().rules.len(), 1);
}

#[test]
fn defaults_apply() {
    let r = load(ONE).unwrap();
    assert!(r.rules[0].enabled);
    assert_eq!(r.rules[0].suppression, Suppression::None);
    assert_eq!(r.rules[0].condition, None);
}

#[test]
fn nested_conditions_parse() {
    let src = "rules:
  - name: a
    trigger: {event_type: x}
    conditions:
      any:
        - not: {field: properties.a.b, operator: exists}
        - all:
            - {field: user_traits.tier, operator: in, value: [gold, silver]}
            - {prior_event: {event_type: signup_completed, hours: 1.5}}
    action: {type: send, template_name: T, delivery_method: push}
";
    let r = load(src).unwrap();
    let Some(Condition::Any(kids)) = &r.rules[0].condition else {
        panic!()
    };
    assert!(matches!(kids[0], Condition::Not(_)));
}

#[test]
fn errors_name_file_line_column_and_what_is_wrong() {
    let cases: &[(&str, &str)] = &[
        (
            "rules:\n  - name: a\n    trigger: {event_type: x}\n    action: {type: send, template_name: T, delivery_method: fax}\n",
            "r.yaml:4:61: rules[0].action.delivery_method: unknown variant `fax`, expected one of `email`, `sms`, `push`, `internal`",
        ),
        (
            "rules:\n  - name: a\n    trigger: {event_type: x}\n    action: {type: alert, template_name: T, delivery_method: email}\n",
            "r.yaml:2:5: rules[0]: rule `a`: an `alert` action must use delivery_method `internal`, got `email`",
        ),
        (
            "rules:\n  - name: a\n    triger: {event_type: x}\n",
            "r.yaml:3:5: rules[0]: unknown field `triger`, expected one of `name`, `description`, `enabled`, `trigger`, `conditions`, `action`, `suppression`",
        ),
    ];
    for (src, want) in cases {
        assert_eq!(&err(src), want);
    }
}

#[test]
fn each_invalid_rule_is_refused() {
    let base = |cond: &str| {
        format!(
            "rules:\n  - name: a\n    trigger: {{event_type: x}}\n    conditions: {cond}\n    action: {{type: send, template_name: T, delivery_method: email}}\n"
        )
    };
    let cases = [
        (
            "{field: properties.a, operator: eq, value: 1}",
            "unknown variant `eq`, expected one of `equals`",
        ),
        ("{field: properties.a, operator: equals}", "needs a `value`"),
        (
            "{field: properties.a, operator: in, value: 3}",
            "needs a list `value`",
        ),
        (
            "{field: properties.a, operator: gt, value: abc}",
            "needs a number `value`",
        ),
        (
            "{field: props.a, operator: gt, value: 1}",
            "must start with `properties.`",
        ),
        (
            "{prior_event: {event_type: s, hours: 0}}",
            "must be a positive number",
        ),
        (
            "{prior_event: {event_type: s, hours: -2}}",
            "must be a positive number",
        ),
        (
            "{field: properties.a, operator: exists, all: []}",
            "exactly one of",
        ),
        ("{all: []}", "at least one condition"),
        ("{}", "needs one of"),
    ];
    for (cond, want) in cases {
        let e = err(&base(cond));
        assert!(e.starts_with("r.yaml:4:"), "{e}");
        assert!(e.contains(want), "{cond}: {e}");
    }
    let e = err(
        "rules:\n  - name: a\n    trigger: {event_type: x}\n    action: {type: send, template_name: T, delivery_method: email}\n    suppression: {mode: twice}\n",
    );
    assert!(
        e.contains("expected one of `none`, `once_ever`, `once_per_calendar_day`"),
        "{e}"
    );
    let e = err("rules:\n  - name: a\n    trigger: {event_type: x}\n    action: {kind: send}\n");
    assert!(e.contains("unknown field `kind`"), "{e}");
    let e = err("rules:\n  - name: a\n    trigger: {event_type: x}\n");
    assert!(e.contains("missing field `action`"), "{e}");
}

#[test]
fn duplicate_names_point_at_the_second_rule() {
    let src = format!("{ONE}{}", &ONE["rules:\n".len()..]);
    assert_eq!(
        err(&src),
        "r.yaml:5:11: duplicate rule name `a` (rule #2 repeats rule #1)"
    );
}

#[test]
fn malformed_and_empty_files_are_errors() {
    assert_eq!(err(""), "r.yaml: rules file is empty");
    assert!(err("rules: [\n").starts_with("r.yaml:"));
    assert!(err("rules: 3\n").contains("invalid type"));
}
