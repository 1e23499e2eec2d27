//! Guard 5 (SPEC §7.3, §7.4): the template renders for the event, after the caps and before
//! quiet hours; an alert that does not render goes out with its raw text.

use std::path::Path;

use serde_json::json;

use super::*;

const RULES: &str = r#"
timezone: Europe/Oslo
quiet_hours: {start: "21:00", end: "08:00", mode: hold}
frequency_caps:
  - name: marketing_per_day
    max: 1
    window: calendar_day
    categories: [marketing]
rules:
  - name: promo
    trigger: {event_type: tick}
    action: {type: send, template_name: PROMO, delivery_method: email}
  - name: receipt
    trigger: {event_type: paid}
    category: transactional
    action: {type: send, template_name: RECEIPT, delivery_method: email}
  - name: cx
    trigger: {event_type: risk}
    action: {type: alert, template_name: CX, delivery_method: internal}
  - name: plain
    trigger: {event_type: plain}
    action: {type: send, template_name: NO_TEXT, delivery_method: sms}
templates:
  PROMO: "Hi {{ user_traits.first_name }}, {{ properties.amount }} off"
  RECEIPT: "Thanks {{ user_traits.first_name | default: 'there' }} for {{ properties.amount | divided_by: properties.split }}"
  CX: "CX: {{ user_id }} failed {{ properties.count }} times"
"#;

fn rules() -> RuleSet {
    RuleSet::from_yaml(Path::new("r.yaml"), RULES).unwrap()
}

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

/// Decide with every cap lookup answered by `found`.
fn decide_with<'r>(r: &'r RuleSet, e: &Event, found: &[Delivery]) -> Decision<'r> {
    let zone = resolve_zone(r, e, None);
    let l = lookups(r, e, zone.zone);
    let caps = l
        .caps
        .iter()
        .map(|(c, w)| (*c, *w, found.to_vec()))
        .collect();
    decide(
        r,
        e,
        &History {
            caps,
            zone,
            ..History::default()
        },
    )
}

const DAY: &str = "2025-10-10T10:00:00Z"; // 12:00 in Oslo
const NIGHT: &str = "2025-10-10T21:30:00Z"; // 23:30 in Oslo

#[test]
fn a_send_carries_its_rendered_text() {
    let r = rules();
    let e = ev(
        "tick",
        DAY,
        &json!({"amount": 10}),
        &json!({"first_name": "Ada"}),
    );
    let d = decide_with(&r, &e, &[]);
    assert_eq!(d.verdict.reason_code, ReasonCode::Sent);
    assert_eq!(d.verdict.message_text.as_deref(), Some("Hi Ada, 10 off"));
}

#[test]
fn a_send_that_does_not_render_is_suppressed_naming_the_variable() {
    let r = rules();
    let e = ev("tick", DAY, &json!({"amount": 10}), &json!({}));
    let d = decide_with(&r, &e, &[]);
    assert_eq!(
        (d.verdict.outcome, d.verdict.reason_code),
        (Outcome::Suppress, ReasonCode::SuppressedRenderError)
    );
    assert_eq!(
        d.verdict.reason,
        "promo matched; template PROMO does not render: unknown variable user_traits.first_name"
    );
    assert_eq!(d.verdict.message_text, None);
    assert_eq!(
        ReasonCode::SuppressedRenderError.as_str(),
        "suppressed_render_error"
    );
}

#[test]
fn a_filter_error_is_a_render_error_and_default_covers_a_missing_trait() {
    let r = rules();
    let e = ev("paid", DAY, &json!({"amount": 10, "split": 0}), &json!({}));
    let d = decide_with(&r, &e, &[]);
    assert_eq!(d.verdict.reason_code, ReasonCode::SuppressedRenderError);
    assert_eq!(
        d.verdict.reason,
        "receipt matched; template RECEIPT does not render: filter `divided_by : properties[\"split\"]` fails: Can't divide by zero"
    );
    let e = ev("paid", DAY, &json!({"amount": 10, "split": 2}), &json!({}));
    let d = decide_with(&r, &e, &[]);
    assert_eq!(
        d.verdict.message_text.as_deref(),
        Some("Thanks there for 5")
    );
}

#[test]
fn the_caps_come_before_the_render() {
    let r = rules();
    let e = ev("tick", DAY, &json!({}), &json!({}));
    let one = [Delivery {
        event_id: 1,
        event_timestamp: "2025-10-10T08:00:00Z".parse().unwrap(),
    }];
    let d = decide_with(&r, &e, &one);
    assert_eq!(d.verdict.reason_code, ReasonCode::SuppressedFrequencyCap);
    assert_eq!(d.verdict.message_text, None);
}

#[test]
fn the_render_comes_before_quiet_hours() {
    let r = rules();
    let bad = ev("tick", NIGHT, &json!({"amount": 10}), &json!({}));
    let d = decide_with(&r, &bad, &[]);
    assert_eq!(d.verdict.reason_code, ReasonCode::SuppressedRenderError);
    assert_eq!(d.verdict.deliver_at, None);
    assert!(d.trace.quiet.is_none(), "quiet hours were not reached");
    let good = ev(
        "tick",
        NIGHT,
        &json!({"amount": 10}),
        &json!({"first_name": "Ada"}),
    );
    let d = decide_with(&r, &good, &[]);
    assert_eq!(d.verdict.reason_code, ReasonCode::Scheduled);
    assert_eq!(d.verdict.message_text.as_deref(), Some("Hi Ada, 10 off"));
}

#[test]
fn an_alert_that_does_not_render_goes_out_with_its_raw_text() {
    let r = rules();
    let d = decide_with(&r, &ev("risk", DAY, &json!({"count": 3}), &json!({})), &[]);
    assert_eq!(d.verdict.reason_code, ReasonCode::Alerted);
    assert_eq!(
        d.verdict.message_text.as_deref(),
        Some("CX: u1 failed 3 times")
    );
    let d = decide_with(&r, &ev("risk", DAY, &json!({}), &json!({})), &[]);
    assert_eq!(d.verdict.reason_code, ReasonCode::Alerted);
    assert_eq!(
        d.verdict.message_text.as_deref(),
        Some("CX: {{ user_id }} failed {{ properties.count }} times")
    );
}

#[test]
fn a_template_without_text_is_its_name() {
    let r = rules();
    let d = decide_with(&r, &ev("plain", DAY, &json!({}), &json!({})), &[]);
    assert_eq!(d.verdict.reason_code, ReasonCode::Sent);
    assert_eq!(d.verdict.message_text.as_deref(), Some("NO_TEXT"));
}
