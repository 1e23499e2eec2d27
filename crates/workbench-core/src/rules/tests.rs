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
            "high_risk_alert",
            "payday_savings_push"
        ]
    );
    assert_eq!(rules.rules[0].pos, Some(Pos { line: 3, column: 5 }));
    assert_eq!(rules.policy.timezone.name(), "Europe/London");
    assert!(rules.policy.quiet_hours.is_some());
    assert_eq!(rules.rules[4].calendar, CalendarBasis::User);
    let plan = rules.plan("payment_failed").unwrap();
    assert_eq!(plan.rules, vec![2, 3]);
    assert_eq!(
        rules.plan("link_bank_success").unwrap().prior_types,
        vec!["signup_completed"]
    );
    assert!(rules.text("WELCOME_EMAIL").starts_with("Welcome"));
    assert_eq!(
        rules.text("NO_SUCH_TEMPLATE"),
        "NO_SUCH_TEMPLATE",
        "SPEC §7.4"
    );
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

#[test]
fn a_file_with_every_time_key_loads_its_policy_and_rule_fields() {
    use crate::time::quiet::{QuietHours, QuietMode};
    use crate::time::zone::Zone;
    use chrono::NaiveTime;
    let src = r#"timezone: Europe/Oslo
quiet_hours:
  start: "21:00"
  end: "08:00"
  mode: hold
rules:
  - name: daily
    trigger: {event_type: x}
    action: {type: send, template_name: T, delivery_method: email}
    category: marketing
    suppression: {mode: once_per_calendar_day, calendar: user}
  - name: receipt
    trigger: {event_type: x}
    action: {type: send, template_name: T, delivery_method: sms}
    category: transactional
    quiet_hours: false
    suppression: {mode: once_per_calendar_day, calendar: utc}
  - name: risk
    trigger: {event_type: x}
    action: {type: alert, template_name: T, delivery_method: internal}
"#;
    let r = load(src).unwrap();
    let hm = |h, m| NaiveTime::from_hms_opt(h, m, 0).unwrap();
    assert_eq!(
        r.policy,
        Policy {
            timezone: Zone::parse("Europe/Oslo").unwrap(),
            quiet_hours: Some(QuietHours {
                start: hm(21, 0),
                end: hm(8, 0),
                mode: QuietMode::Hold,
            }),
            ..Policy::default()
        }
    );
    let fields = |i: usize| {
        let x = &r.rules[i];
        (x.category, x.quiet_hours, x.suppression, x.calendar)
    };
    assert_eq!(
        fields(0),
        (
            Some(Category::Marketing),
            true,
            Suppression::OncePerCalendarDay,
            CalendarBasis::User
        )
    );
    assert_eq!(
        fields(1),
        (
            Some(Category::Transactional),
            false,
            Suppression::OncePerCalendarDay,
            CalendarBasis::Utc
        )
    );
    assert_eq!(
        fields(2),
        (None, true, Suppression::None, CalendarBasis::Utc)
    );
    assert!(r.rules[0].quiet_hours_apply() && r.rules[0].uses_zone(&r.policy));
    assert!(!r.rules[1].quiet_hours_apply() && !r.rules[1].uses_zone(&r.policy));
    assert!(!r.rules[2].quiet_hours_apply() && !r.rules[2].uses_zone(&r.policy));
    assert!(r.plan("x").unwrap().needs_zone);
}

#[test]
fn time_keys_default_when_absent() {
    let r = load(ONE).unwrap();
    assert_eq!(r.policy, Policy::default());
    let rule = &r.rules[0];
    assert_eq!(rule.category, Some(Category::Marketing));
    assert!(rule.quiet_hours);
    assert_eq!(rule.calendar, CalendarBasis::Utc);
    // A wrapped list has no place for a policy; the defaults hold.
    let list = load(
        "- name: a\n  trigger: {event_type: x}\n  action: {type: send, template_name: T, delivery_method: email}\n",
    )
    .unwrap();
    assert_eq!(list.policy, Policy::default());
    // Unquoted `21:00` is a string in YAML 1.2, not sexagesimal 1260.
    let q = load(&format!(
        "{ONE}quiet_hours: {{start: 21:00, end: 07:30, mode: drop}}\n"
    ))
    .unwrap();
    assert_eq!(
        q.policy.quiet_hours.map(|h| h.to_string()),
        Some("21:00–07:30".into())
    );
}

/// Each invalid time key, with the exact error: the position is the offending value's.
#[test]
fn invalid_time_keys_are_refused_at_their_value() {
    let qh = |body: &str| format!("{ONE}quiet_hours: {body}\n");
    let rule = |extra: &str| format!("{ONE}{extra}");
    let not_a_time = "is not a time of day: write `HH:MM`, 24-hour, e.g. `21:00`";
    let cases: Vec<(String, String)> = vec![
        (
            format!("timezone: Europe/Olso\n{ONE}"),
            "r.yaml:1:11: timezone: `Europe/Olso` is not an IANA time zone name (e.g. \
             `Europe/Oslo`, `UTC`); did you mean `Europe/Oslo`?"
                .into(),
        ),
        (
            format!("timezone: europe/oslo\n{ONE}"),
            "r.yaml:1:11: timezone: `europe/oslo` is not an IANA time zone name (e.g. \
             `Europe/Oslo`, `UTC`); did you mean `Europe/Oslo`?"
                .into(),
        ),
        (
            format!("{ONE}timezone: Local\n"),
            "r.yaml:5:11: timezone: `Local` is not an IANA time zone name (e.g. \
             `Europe/Oslo`, `UTC`)"
                .into(),
        ),
        (
            format!("{ONE}timezone: utc\n"),
            "r.yaml:5:11: timezone: `utc` is not an IANA time zone name (e.g. \
             `Europe/Oslo`, `UTC`); did you mean `UTC`?"
                .into(),
        ),
        (
            qh(r#"{start: "24:00", end: "08:00", mode: hold}"#),
            format!("r.yaml:5:22: quiet_hours.start: `24:00` {not_a_time}"),
        ),
        (
            qh(r#"{start: "9:00", end: "08:00", mode: hold}"#),
            format!("r.yaml:5:22: quiet_hours.start: `9:00` {not_a_time}"),
        ),
        (
            qh(r#"{start: "21:00", end: "21:00:00", mode: hold}"#),
            format!("r.yaml:5:36: quiet_hours.end: `21:00:00` {not_a_time}"),
        ),
        (
            qh(r#"{start: 2100, end: "08:00", mode: hold}"#),
            format!("r.yaml:5:22: quiet_hours.start: `2100` {not_a_time}"),
        ),
        (
            format!("{ONE}quiet_hours:\n  start: \"21:00\"\n  end: 8\n  mode: hold\n"),
            format!("r.yaml:7:8: quiet_hours.end: `8` {not_a_time}"),
        ),
        (
            qh(r#"{start: "21:00", end: "08:00", mode: later}"#),
            "r.yaml:5:51: quiet_hours.mode: unknown variant `later`, expected `hold` or `drop`"
                .into(),
        ),
        (
            qh(r#"{start: "21:00", end: "08:00", mode: hold, strat: x}"#),
            "r.yaml:5:57: quiet_hours: unknown field `strat`, expected one of `start`, `end`, \
             `mode`; did you mean `start`?"
                .into(),
        ),
        (
            format!(
                "{ONE}quiet_hours:\n  start: \"21:00\"\n  end: \"08:00\"\n  mode: hold\n  days: [sat]\n"
            ),
            "r.yaml:9:3: quiet_hours: unknown field `days`, expected one of `start`, `end`, `mode`"
                .into(),
        ),
        (
            qh(r#"{start: "21:00", end: "08:00"}"#),
            "r.yaml:5:14: quiet_hours: missing field `mode`".into(),
        ),
        (
            qh("true"),
            "r.yaml:5:14: quiet_hours: invalid type: boolean `true`, expected a quiet_hours \
             mapping"
                .into(),
        ),
        (
            rule("    category: promo\n"),
            "r.yaml:5:15: rules[0].category: unknown variant `promo`, expected `marketing` or \
             `transactional`"
                .into(),
        ),
        (
            rule("    quiet_hours: no\n"),
            "r.yaml:5:18: rules[0].quiet_hours: invalid type: string \"no\", expected a boolean"
                .into(),
        ),
        (
            rule("    suppression: {mode: once_per_calendar_day, calendar: local}\n"),
            "r.yaml:5:58: rules[0].suppression.calendar: unknown variant `local`, expected \
             `utc` or `user`"
                .into(),
        ),
    ];
    for (src, want) in &cases {
        assert_eq!(&err(src), want, "{src}");
    }
}

const ALERT: &str = "rules:
  - name: a
    trigger: {event_type: x}
    action: {type: alert, template_name: T, delivery_method: internal}
";

/// Errors about one key that only show once the whole mapping is read point at that key's
/// value, in flow and block style alike.
#[test]
fn cross_key_errors_point_at_the_key_that_breaks_the_mapping() {
    let cases: Vec<(String, &str)> = vec![
        (
            format!("{ONE}quiet_hours: {{start: \"21:00\", end: \"21:00\", mode: hold}}\n"),
            "r.yaml:5:36: quiet_hours.end: `start` and `end` are both `21:00`: the window would \
             be empty or the whole day; give two different times",
        ),
        (
            format!("{ONE}quiet_hours:\n  start: \"00:00\"\n  end: \"00:00\"\n  mode: drop\n"),
            "r.yaml:7:8: quiet_hours.end: `start` and `end` are both `00:00`: the window would \
             be empty or the whole day; give two different times",
        ),
        (
            format!("{ALERT}    category: marketing\n"),
            "r.yaml:5:15: rules[0].category: rule `a`: an `alert` has no category, got \
             `marketing`; categories are for `send` actions",
        ),
        (
            format!("{ONE}    suppression: {{mode: once_ever, calendar: user}}\n"),
            "r.yaml:5:46: rules[0].suppression.calendar: rule `a`: `calendar: user` needs mode \
             `once_per_calendar_day`, got `once_ever`",
        ),
        (
            format!("{ONE}    suppression:\n      calendar: utc\n"),
            "r.yaml:6:17: rules[0].suppression.calendar: rule `a`: `calendar: utc` needs mode \
             `once_per_calendar_day`, got `none`",
        ),
    ];
    for (src, want) in &cases {
        assert_eq!(&err(src), want, "{src}");
    }
}

#[test]
fn consent_and_holdout_load_strictly() {
    let ok = load(&format!(
        "{ONE}consent: {{marketing: user_traits.marketing_opt_in}}\nholdout: {{percent: 10, salt: \"2025-q4\"}}\n"
    ))
    .unwrap();
    assert_eq!(
        ok.policy.consent[&Category::Marketing].to_string(),
        "user_traits.marketing_opt_in"
    );
    assert_eq!(ok.policy.holdout.as_ref().unwrap().percent, 10);
    let cases: Vec<(String, &str)> = vec![
        (
            format!("{ONE}holdout: {{percent: 101, salt: s}}\n"),
            "r.yaml:5:20: holdout.percent: `percent` is 0..100, got 101",
        ),
        (
            format!("{ONE}holdout: {{percent: 10}}\n"),
            "r.yaml:5:10: holdout: missing field `salt`",
        ),
        (
            format!("{ONE}consent: {{marketing: marketing_opt_in}}\n"),
            "r.yaml:5:22: consent.marketing: consent is read from a trait: write \
             `user_traits.NAME`, got `marketing_opt_in`",
        ),
        (
            format!("{ONE}consent: {{promo: user_traits.x}}\n"),
            "r.yaml:5:11: consent: unknown variant `promo`, expected `marketing` or \
             `transactional`",
        ),
    ];
    for (src, want) in &cases {
        assert_eq!(&err(src), want, "{src}");
    }
}

#[test]
fn frequency_caps_load_strictly() {
    let ok = load(&format!(
        "{ONE}frequency_caps:\n  - {{name: daily, max: 2, window: calendar_day}}\n"
    ))
    .unwrap();
    let cap = &ok.policy.frequency_caps[0];
    assert_eq!(
        (cap.max, cap.calendar, cap.categories.is_none()),
        (2, CalendarBasis::User, true)
    );
    assert_eq!(
        cap.channels,
        vec![Channel::Email, Channel::Sms, Channel::Push],
        "every channel but internal by default"
    );
    let cases: Vec<(String, &str)> = vec![
        (
            format!("{ONE}frequency_caps:\n  - {{name: d, max: 0, window: calendar_day}}\n"),
            "r.yaml:6:20: frequency_caps[0].max: cap `d`: `max` is at least 1, got 0",
        ),
        (
            format!("{ONE}frequency_caps:\n  - {{name: d, max: 1, window: daily}}\n"),
            "r.yaml:6:31: frequency_caps[0].window: unknown variant `daily`, expected one of \
             `calendar_day`, `calendar_week`, `calendar_month`",
        ),
        (
            format!(
                "{ONE}frequency_caps:\n  - {{name: d, max: 1, window: calendar_day}}\n  - {{name: d, max: 2, window: calendar_week}}\n"
            ),
            "r.yaml:7:12: duplicate frequency cap name `d`: first defined at line 6",
        ),
        (
            format!(
                "{ONE}frequency_caps:\n  - {{name: d, max: 1, window: calendar_day, channels: []}}\n"
            ),
            "r.yaml:6:55: frequency_caps[0].channels: cap `d`: `channels` is empty; leave it out \
             to cap every channel",
        ),
    ];
    for (src, want) in &cases {
        assert_eq!(&err(src), want, "{src}");
    }
}

#[test]
fn a_template_that_is_not_liquid_is_a_load_error_at_its_text() {
    assert_eq!(
        err(&format!("{ONE}templates:\n  T: \"Hi {{{{ user_id\"\n")),
        "r.yaml:6:6: templates.T: the text is not valid Liquid: line 1, column 7 of the text: \
         expected Literal"
    );
    assert_eq!(
        err(&format!(
            "{ONE}templates:\n  A: fine\n  T: |\n    Hi\n    {{{{ user_id | nosuch }}}}\n"
        )),
        "r.yaml:8:5: templates.T: the text is not valid Liquid: unknown filter `nosuch`"
    );
}

#[test]
fn a_variable_no_event_has_is_no_load_error() {
    let rules = load(&format!(
        "{ONE}templates:\n  T: \"Hi {{{{ user_traits.first_name }}}} {{{{ nowhere.at_all }}}}\"\n"
    ))
    .unwrap();
    assert!(rules.templates.contains_key("T"));
}
