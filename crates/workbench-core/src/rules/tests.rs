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
    let src = include_str!("../../../../rules/rules.yaml");
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
    let wrapped = format!("rules:\n{}", src.replace('\n', "\n  "));
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
            "r.yaml:3:5: rules[0]: unknown field `triger`, expected one of `name`, `description`, `enabled`, `trigger`, `conditions`, `action`, `suppression`, `category`, `quiet_hours`; did you mean `trigger`?",
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
fn duplicate_names_point_at_the_second_rule_and_name_the_first() {
    let src = format!("{ONE}{}", &ONE["rules:\n".len()..]);
    assert_eq!(
        err(&src),
        "r.yaml:5:11: duplicate rule name `a`: first defined at line 2"
    );
}

#[test]
fn malformed_and_empty_files_are_errors() {
    assert_eq!(err(""), "r.yaml: rules file is empty");
    assert!(err("rules: [\n").starts_with("r.yaml:"));
    assert!(err("rules: 3\n").contains("invalid type"));
}

fn with_action(template: &str) -> String {
    format!(
        "rules:\n  - name: a\n    trigger: {{event_type: x}}\n    action: {{type: send, template_name: {template}, delivery_method: email}}\n"
    )
}

#[test]
fn names_are_letters_digits_and_marks_at_their_position() {
    assert_eq!(
        err(&with_action("\"A\\nB\"")),
        "r.yaml:4:41: rules[0].action.template_name: template name `A\\nB` contains the \
         control character `\\n`: names use only letters, digits, `_`, `-` and `.`"
    );
    let e = err(&format!(
        "{ONE}templates:\n  T: ok\n  \"bad\\tkey\": text\n"
    ));
    assert!(
        e.starts_with(
            "r.yaml:7:3: templates: template name `bad\\tkey` contains the control character `\\t`"
        ),
        "{e}"
    );
    let e = err(
        "rules:\n  - name: \"two words\"\n    trigger: {event_type: x}\n    action: {type: send, template_name: T, delivery_method: email}\n",
    );
    assert!(
        e.starts_with("r.yaml:2:11: rules[0].name: rule name `two words` contains a space"),
        "{e}"
    );
    let long = "N".repeat(300);
    let e = err(&with_action(&long));
    assert!(
        e.contains("is 300 characters long; the limit is 256"),
        "{e}"
    );
    assert!(!e.contains(&long), "a long name is cut: {e}");
    assert!(load(&with_action(&"N".repeat(256))).is_ok());
    let e = err(
        "rules:\n  - name: a\n    trigger: {event_type: \"x\\ey\"}\n    action: {type: send, template_name: T, delivery_method: email}\n",
    );
    assert!(
        e.starts_with("r.yaml:3:27: rules[0].trigger.event_type: event type `x\\u{1b}y` contains"),
        "{e}"
    );
    assert!(!e.contains('\u{1b}'));
}

fn nested(levels: usize) -> String {
    let mut cond = "{field: properties.a, operator: exists}".to_string();
    for _ in 1..levels {
        cond = format!("{{not: {cond}}}");
    }
    format!(
        "rules:\n  - name: a\n    trigger: {{event_type: x}}\n    conditions: {cond}\n    action: {{type: send, template_name: T, delivery_method: email}}\n"
    )
}

#[test]
fn conditions_nest_at_most_32_levels() {
    let ok = load(&nested(32)).unwrap();
    assert_eq!(ok.rules[0].condition.as_ref().unwrap().depth(), 32);
    let e = err(&nested(33));
    assert!(e.starts_with("r.yaml:4:"), "{e}");
    assert!(
        e.contains("conditions nest 33 levels deep here; the limit is 32"),
        "{e}"
    );
}

#[test]
fn hostile_nesting_fails_fast_with_a_position() {
    let started = std::time::Instant::now();
    let flow = format!("rules: {}\n", "[".repeat(100_000));
    let e = err(&flow);
    assert!(e.starts_with("r.yaml:1:"), "{e}");
    assert!(e.contains("nesting deeper than 128 levels"), "{e}");
    let block = format!("rules:\n  {}x\n", "- ".repeat(20_000));
    let e = err(&block);
    assert!(e.starts_with("r.yaml:2:"), "{e}");
    assert!(e.contains("nesting deeper than 128 levels"), "{e}");
    let maps = (0..5_000).fold(String::new(), |m, i| m + &" ".repeat(i) + "k:\n");
    assert!(err(&maps).contains("nesting deeper than 128 levels"));
    assert!(
        started.elapsed().as_secs() < 5,
        "took {:?}",
        started.elapsed()
    );
}

#[test]
fn closed_sets_suggest_the_closest_name() {
    let cond = |op: &str| {
        format!(
            "rules:\n  - name: a\n    trigger: {{event_type: x}}\n    conditions: {{field: properties.a, operator: {op}, value: 1}}\n    action: {{type: send, template_name: T, delivery_method: email}}\n"
        )
    };
    assert!(err(&cond("equal")).ends_with("; did you mean `equals`?"));
    assert!(err(&cond("GTE")).ends_with("; did you mean `gte`?"));
    let e = err(
        "rules:\n  - name: a\n    trigger: {event_type: x}\n    action: {type: sned, template_name: T, delivery_method: emial}\n",
    );
    assert!(e.ends_with("did you mean `send`?"), "{e}");
    let e = err(
        "rules:\n  - name: a\n    trigger: {event_type: x}\n    action: {type: send, template_name: T, delivery_method: emial}\n",
    );
    assert!(
        e.ends_with("expected one of `email`, `sms`, `push`, `internal`; did you mean `email`?"),
        "{e}"
    );
    let e = err(&format!("{ONE}    suppression: {{mode: once_per_day}}\n"));
    assert!(e.ends_with("did you mean `once_per_calendar_day`?"), "{e}");
    let e = err(&format!("{ONE}    suppression: {{mode: [once_ever]}}\n"));
    assert!(
        e.contains(
            "invalid type: sequence, expected one of `none`, `once_ever`, `once_per_calendar_day`"
        ),
        "{e}"
    );
    let e = err(&format!("{ONE}templatse:\n  T: t\n"));
    assert!(e.ends_with("did you mean `templates`?"), "{e}");
}

#[test]
fn yaml_syntax_errors_in_plain_words() {
    let cases = [
        (
            format!("{ONE}    suppression:\n      mode: [once_per_calendar_day\n"),
            "r.yaml:7:1: unclosed `[`: a flow sequence started at line 6 column 13 was never closed",
        ),
        (
            "rules: {a: 1\n".to_string(),
            "r.yaml:2:1: unclosed `{`: a flow mapping started at line 1 column 8",
        ),
        (
            "rules:\n  - name: \"a\n".to_string(),
            "r.yaml:2:11: unclosed quote: the string started with \" at line 2 column 11 never ends",
        ),
        (
            "rules:\n  - name: a: b\n".to_string(),
            "r.yaml:2:12: unexpected `:`",
        ),
        (
            "rules:\n\t- name: a\n".to_string(),
            "r.yaml:2:2: a tab character where YAML needs spaces",
        ),
        (
            "rules:\n  - name: @a\n".to_string(),
            "r.yaml:2:11: `@` cannot start a plain value",
        ),
        (
            "rules:\n  - name: a\n   trigger: x\n".to_string(),
            "r.yaml:3:4: bad indentation",
        ),
    ];
    for (src, want) in cases {
        let e = err(&src);
        assert!(e.starts_with(want), "{src:?}\n got: {e}\nwant: {want}");
        assert!(!e.contains('\n'), "{e}");
    }
}
