use super::*;

fn all(s: &Scenario) -> Vec<Step> {
    s.steps().unwrap().map(Result::unwrap).collect()
}

fn yaml(src: &str) -> Result<Scenario, ScenarioError> {
    Scenario::from_yaml(Path::new("dir/s.yaml"), src)
}

#[test]
fn yaml_steps_know_their_lines_and_arrival() {
    let s = yaml(
        "name: demo
rules: ../rules/rules.yaml
events:
  - user_id: u1
    event_type: signup_completed
    event_timestamp: 2024-01-15T10:30:00+02:00
    expect: {outcome: allow}
  - {user_id: u2, event_type: x, event_timestamp: 2024-01-15T10:30:00Z, received_at: 2024-01-16T00:00:00Z}
",
    )
    .unwrap();
    assert_eq!(s.rules.as_deref(), Some(Path::new("rules/rules.yaml")));
    let steps = all(&s);
    assert_eq!(steps[0].line, 4);
    assert_eq!(steps[1].line, 8);
    assert_eq!(
        crate::event::format_ts(steps[0].event.event_timestamp),
        "2024-01-15T08:30:00Z"
    );
    assert_eq!(steps[0].received_at, steps[0].event.event_timestamp);
    assert_eq!(
        crate::event::format_ts(steps[1].received_at),
        "2024-01-16T00:00:00Z"
    );
}

#[test]
fn yaml_errors_name_position_and_field() {
    let e = yaml(
        "events:\n  - user_id: u1\n    event_type: x\n    event_timestamp: 2024-01-15T10:30:00\n",
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.starts_with("dir/s.yaml:4:22: events[0].event_timestamp: timestamp"),
        "{e}"
    );
    assert!(e.contains("no UTC offset"), "{e}");
    let e = yaml("events:\n  - user_id: u1\n    event_type: x\n    event_timestamp: 2024-01-15T10:30:00Z\n    expect: {outcome: sent}\n")
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("expected one of `allow`, `suppress`, `alert`, `none`"),
        "{e}"
    );
    let e = yaml("event:\n  - user_id: u1\n").unwrap_err().to_string();
    assert!(e.contains("unknown field `event`"), "{e}");
}

#[test]
fn jsonl_errors_name_the_line_and_field() {
    let src = "{\"user_id\":\"u1\",\"event_type\":\"x\",\"event_timestamp\":\"2024-01-15T10:30:00Z\"}\n\n{\"user_id\":\"u1\",\"event_type\":\"x\",\"event_timestamp\":\"2024-01-15\"}\n";
    let e = Scenario::from_jsonl(Path::new("s.jsonl"), src)
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("s.jsonl:3:"), "{e}");
    assert!(e.contains("field `event_timestamp`"), "{e}");
    let e = Scenario::from_jsonl(Path::new("s.jsonl"), "{\"user_id\": 5}\n")
        .unwrap_err()
        .to_string();
    assert!(e.contains("field `user_id`: invalid type"), "{e}");
    let e = Scenario::from_jsonl(Path::new("s.jsonl"), "{\"user_id\": \"u\"} trailing\n")
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("s.jsonl:1:"), "{e}");
    let ok = Scenario::from_jsonl(Path::new("s.jsonl"), &src[..src.find('\n').unwrap()]).unwrap();
    assert_eq!(all(&ok)[0].line, 1);
}

#[test]
fn events_carry_an_optional_name_and_expect_key_lines() {
    let s = yaml(
        "events:
  - name: first signup
    user_id: u1
    event_type: signup_completed
    event_timestamp: 2024-01-15T10:30:00Z
    expect:
      outcome: allow
      reason_code: sent
  - {user_id: u2, event_type: x, event_timestamp: 2024-01-15T10:30:00Z, expect: {outcome: none}}
",
    )
    .unwrap();
    let steps = all(&s);
    assert_eq!(steps[0].name.as_deref(), Some("first signup"));
    assert_eq!(
        (steps[0].line_of("outcome"), steps[0].line_of("reason_code")),
        (7, 8)
    );
    assert_eq!(steps[0].line_of("channel"), 2, "a key not given: the event");
    assert_eq!(
        (steps[1].name.as_deref(), steps[1].line_of("outcome")),
        (None, 9)
    );
    let src = "{\"name\":\"n1\",\"user_id\":\"u\",\"event_type\":\"x\",\"event_timestamp\":\"2024-01-15T10:30:00Z\",\"expect\":{\"outcome\":\"none\"}}\n";
    let j = Scenario::from_jsonl(Path::new("s.jsonl"), src).unwrap();
    let step = &all(&j)[0];
    assert_eq!(
        (step.name.as_deref(), step.line_of("outcome")),
        (Some("n1"), 1)
    );
}

#[test]
fn bad_names_are_rejected_with_their_position() {
    let event = |name: &str| {
        format!(
            "events:\n  - {{name: {name}, user_id: u, event_type: x, event_timestamp: 2024-01-15T10:30:00Z}}\n"
        )
    };
    let e = yaml(&event(&"n".repeat(257))).unwrap_err().to_string();
    assert!(
        e.starts_with("dir/s.yaml:2:12: events[0].name: is 257 characters long"),
        "{e}"
    );
    let e = yaml(&event("\"a\\tb\"")).unwrap_err().to_string();
    assert!(
        e.contains("events[0].name: contains the control character"),
        "{e}"
    );
    assert!(yaml(&event(&"n".repeat(256))).is_ok());
    let e = Scenario::from_jsonl(
        Path::new("s.jsonl"),
        "{\"name\":\"a\\nb\",\"user_id\":\"u\",\"event_type\":\"x\",\"event_timestamp\":\"2024-01-15T10:30:00Z\"}",
    )
    .unwrap_err()
    .to_string();
    assert!(e.starts_with("s.jsonl:1:"), "{e}");
    assert!(
        e.contains("field `name`: contains the control character"),
        "{e}"
    );
}

#[test]
fn deep_nesting_is_refused_quickly_with_its_position() {
    let deep = |n: usize| {
        format!(
            "events:\n  - {{user_id: u, event_type: x, event_timestamp: 2024-01-15T10:30:00Z, properties: {{a: {}{}}}}}\n",
            "[".repeat(n),
            "]".repeat(n)
        )
    };
    let start = std::time::Instant::now();
    let e = yaml(&deep(100_000)).unwrap_err().to_string();
    assert!(start.elapsed().as_secs() < 5, "{:?}", start.elapsed());
    assert!(e.starts_with("dir/s.yaml:2:"), "{e}");
    assert!(
        e.ends_with(": nesting deeper than 128 levels of mappings and lists"),
        "{e}"
    );
    // The document, `events`, the event and `properties` are 4 levels: the 125th bracket (the
    // first is in column 88) is the 129th.
    let e = yaml(&deep(150)).unwrap_err().to_string();
    assert_eq!(
        e,
        format!(
            "dir/s.yaml:2:{}: nesting deeper than 128 levels of mappings and lists",
            88 + 124
        )
    );
    assert_eq!(all(&yaml(&deep(100)).unwrap())[0].event.properties.len(), 1);
}
