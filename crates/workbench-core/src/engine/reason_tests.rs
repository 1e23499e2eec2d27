//! The wording of reasons where the bundled scenarios do not reach: the "only disabled ones"
//! no-match, the first failing condition inside `all` and under `not`, a UTC day named as
//! such when the decision also used a zone, the first send of a `once_ever` rule, and why an
//! internal send at night was not held.

use std::path::Path;

use serde_json::json;

use super::*;

const RULES: &str = r#"
quiet_hours: {start: "22:00", end: "07:00", mode: hold}
timezone: Europe/Oslo
rules:
  - name: old_login
    enabled: false
    trigger: {event_type: login}
    action: {type: send, template_name: OLD, delivery_method: email}
  - name: both
    trigger: {event_type: buy}
    conditions:
      all:
        - {field: properties.amount, operator: gte, value: 10}
        - {field: properties.currency, operator: equals, value: EUR}
    action: {type: send, template_name: BOTH, delivery_method: email}
  - name: not_vip
    trigger: {event_type: view}
    conditions:
      not: {field: properties.tier, operator: equals, value: vip}
    action: {type: send, template_name: VIEW, delivery_method: push}
  - name: daily
    trigger: {event_type: tick}
    action: {type: send, template_name: DAILY, delivery_method: email}
    suppression: {mode: once_per_calendar_day}
  - name: risk
    trigger: {event_type: risk}
    action: {type: send, template_name: RISK, delivery_method: internal}
  - name: once
    trigger: {event_type: hello}
    action: {type: send, template_name: HELLO, delivery_method: email}
    suppression: {mode: once_ever}
"#;

fn rules() -> RuleSet {
    RuleSet::from_yaml(Path::new("r.yaml"), RULES).unwrap()
}

fn ev(event_type: &str, props: &serde_json::Value) -> Event {
    Event {
        user_id: "u".into(),
        event_type: event_type.into(),
        event_timestamp: "2026-01-05T12:00:00Z".parse().unwrap(),
        properties: props.as_object().cloned().unwrap_or_default(),
        user_traits: None,
        idempotency_key: None,
    }
}

/// The reason with the history the pipeline would look up, `earlier` the rule's own delivery.
fn reason(e: &Event, earlier: Option<Delivery>) -> String {
    let r = rules();
    let zone = resolve_zone(&r, e, None);
    let l = lookups(&r, e, zone.zone);
    let h = History {
        priors: Vec::new(),
        deliveries: l
            .deliveries
            .iter()
            .map(|(t, w)| (*t, *w, earlier))
            .collect(),
        caps: Vec::new(),
        zone,
    };
    decide(&r, e, &h).verdict.reason
}

#[test]
fn an_event_type_only_a_disabled_rule_handles_says_so() {
    assert_eq!(
        reason(&ev("login", &json!({})), None),
        "no enabled rule handles event type `login` (only disabled ones)"
    );
    assert_eq!(
        reason(&ev("logout", &json!({})), None),
        "no rule handles event type `logout`"
    );
}

#[test]
fn the_first_condition_that_failed_is_named_not_one_that_held() {
    assert_eq!(
        reason(&ev("buy", &json!({"amount": 12, "currency": "GBP"})), None),
        "both: properties.currency equals EUR, got \"GBP\""
    );
    assert_eq!(
        reason(&ev("view", &json!({"tier": "vip"})), None),
        "not_vip: not (properties.tier equals vip) held"
    );
}

#[test]
fn a_utc_day_is_named_utc_even_when_the_decision_used_a_zone() {
    let earlier = Delivery {
        event_id: 4,
        event_timestamp: "2026-01-05T08:00:00Z".parse().unwrap(),
    };
    assert_eq!(
        reason(&ev("tick", &json!({})), Some(earlier)),
        "DAILY already sent on 2026-01-05 (UTC) at 08:00:00Z for event 4"
    );
    assert_eq!(
        reason(&ev("tick", &json!({})), None),
        concat!(
            "daily matched; send by email: first DAILY for this user on 2026-01-05 (UTC)",
            "; 13:00 local in Europe/Oslo (the rules file's default) is outside quiet hours 22:00–07:00"
        )
    );
}

#[test]
fn a_first_once_ever_send_says_ever() {
    assert_eq!(
        reason(&ev("hello", &json!({})), None),
        concat!(
            "once matched; send by email: first HELLO ever for this user",
            "; 13:00 local in Europe/Oslo (the rules file's default) is outside quiet hours 22:00–07:00"
        )
    );
}

#[test]
fn an_internal_send_at_night_says_why_quiet_hours_did_not_hold_it() {
    let mut e = ev("risk", &json!({}));
    e.event_timestamp = "2026-01-05T22:30:00Z".parse().unwrap();
    assert_eq!(
        reason(&e, None),
        "risk matched; send by internal: RISK has no suppression; 23:30 local in Europe/Oslo \
         (the rules file's default) is in quiet hours 22:00–07:00, but internal sends ignore them"
    );
}
