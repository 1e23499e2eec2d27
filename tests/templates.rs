//! Liquid templates through the real pipeline and store (SPEC §7.3 row 5, §7.4): the line in
//! messages.txt carries the rendered text, a scheduled send keeps the text rendered when its
//! event was decided, and the audit reads it back.

use std::path::Path;

use chrono::{DateTime, Utc};
use serde_json::json;
use workbench::engine::ReasonCode;
use workbench::event::Event;
use workbench::pipeline::Pipeline;
use workbench::provider::Collect;
use workbench::rules::RuleSet;
use workbench::store::{SqliteStore, Store};

const RULES: &str = r#"
timezone: Europe/Oslo
quiet_hours: {start: "22:00", end: "08:00", mode: hold}
rules:
  - name: promo
    trigger: {event_type: tick}
    action: {type: send, template_name: PROMO, delivery_method: email}
  - name: cx
    trigger: {event_type: risk}
    action: {type: alert, template_name: CX, delivery_method: internal}
templates:
  PROMO: "Hi {{ user_traits.first_name | default: 'there' }}, {{ properties.pct }}% off for {{ user_id }}"
  CX: "CX: {{ user_id }} at {{ properties.where }}"
"#;

fn ev(event_type: &str, ts: &str, props: &serde_json::Value, traits: &serde_json::Value) -> Event {
    Event {
        user_id: "u1".into(),
        event_type: event_type.into(),
        event_timestamp: ts.parse().unwrap(),
        properties: props.as_object().unwrap().clone(),
        user_traits: serde_json::from_value(traits.clone()).ok(),
        idempotency_key: None,
    }
}

fn text(line: &str) -> &str {
    line.split(" | text=").nth(1).unwrap()
}

#[test]
fn messages_carry_the_rendered_text_and_a_scheduled_send_keeps_it() {
    let rules = RuleSet::from_yaml(Path::new("r.yaml"), RULES).unwrap();
    let mut p = Pipeline::new(SqliteStore::open_in_memory().unwrap(), Collect::default());
    let at: DateTime<Utc> = "2025-10-11T12:00:00Z".parse().unwrap();
    let mut run = |e: &Event| p.process(&rules, e, at).unwrap().decision.verdict;
    // 12:00 in Oslo: sent now.
    let v = run(&ev(
        "tick",
        "2025-10-10T10:00:00Z",
        &json!({"pct": 10}),
        &json!({"first_name": "Ada"}),
    ));
    assert_eq!(v.reason_code, ReasonCode::Sent);
    assert_eq!(v.message_text.as_deref(), Some("Hi Ada, 10% off for u1"));
    // 23:00 in Oslo: held until 08:00, rendered now (no first name: the default).
    let v = run(&ev(
        "tick",
        "2025-10-10T21:00:00Z",
        &json!({"pct": 20}),
        &json!({}),
    ));
    assert_eq!(v.reason_code, ReasonCode::Scheduled);
    assert_eq!(v.message_text.as_deref(), Some("Hi there, 20% off for u1"));
    // No `pct`: the send does not render.
    let v = run(&ev("tick", "2025-10-10T11:00:00Z", &json!({}), &json!({})));
    assert_eq!(v.reason_code, ReasonCode::SuppressedRenderError);
    assert!(
        v.reason.ends_with("unknown variable properties.pct"),
        "{}",
        v.reason
    );
    // An alert that does not render goes out with the raw text.
    let v = run(&ev("risk", "2025-10-10T11:30:00Z", &json!({}), &json!({})));
    assert_eq!(v.reason_code, ReasonCode::Alerted);
    p.finish().unwrap();
    let due = p
        .deliver_due(&rules, "2025-10-11T06:00:00Z".parse().unwrap())
        .unwrap();
    assert_eq!(due, [2]);
    p.finish().unwrap();
    let lines: Vec<&str> = p.provider.0.iter().map(|l| text(l)).collect();
    assert_eq!(
        lines,
        [
            "Hi Ada, 10% off for u1",
            "CX: {{ user_id }} at {{ properties.where }}",
            "Hi there, 20% off for u1",
        ]
    );
    let audit = p.store.audit("u1", None).unwrap();
    let texts: Vec<Option<&str>> = audit
        .iter()
        .map(|a| a.verdict.message_text.as_deref())
        .collect();
    assert_eq!(
        texts,
        [
            Some("Hi Ada, 10% off for u1"),
            Some("Hi there, 20% off for u1"),
            None,
            Some("CX: {{ user_id }} at {{ properties.where }}"),
        ]
    );
}
