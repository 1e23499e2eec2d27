//! Per trigger, what the engine must look up: the zone, the caps, earlier deliveries; and
//! loading a rules file from disk.

use std::io::Write as _;

use super::*;
use crate::event::Event;

fn load(src: &str) -> RuleSet {
    RuleSet::from_yaml(Path::new("r.yaml"), src).unwrap()
}

fn plan<'a>(rules: &'a RuleSet, trigger: &str) -> &'a TriggerPlan {
    rules.plan(trigger).unwrap()
}

/// One send rule on trigger `x` with `extra` keys, under the policy `head`.
fn one(head: &str, extra: &str) -> RuleSet {
    load(&format!(
        "{head}
rules:
  - name: a
    trigger: {{event_type: x}}
    action: {{type: send, template_name: T, delivery_method: email}}
{extra}"
    ))
}

#[test]
fn a_local_calendar_needs_the_zone_and_a_utc_one_does_not() {
    let user = one(
        "",
        "    suppression: {mode: once_per_calendar_day, calendar: user}\n",
    );
    assert!(plan(&user, "x").needs_zone);
    assert!(user.rules[0].uses_zone(&user.policy));
    let utc = one("", "    suppression: {mode: once_per_calendar_day}\n");
    assert!(!plan(&utc, "x").needs_zone);
    assert!(!utc.rules[0].uses_zone(&utc.policy));
    let ever = one("", "    suppression: {mode: once_ever}\n");
    assert!(!plan(&ever, "x").needs_zone);
    assert!(!one("", "").rules[0].uses_zone(&Policy::default()));
}

#[test]
fn quiet_hours_need_the_zone_of_every_send_and_no_alert() {
    let quiet = "quiet_hours: {start: \"22:00\", end: \"07:00\", mode: hold}";
    let marketing = one(quiet, "");
    assert!(plan(&marketing, "x").needs_zone);
    assert!(marketing.rules[0].uses_zone(&marketing.policy));
    // Exempt, but its reason names its local time against the window.
    let transactional = one(quiet, "    category: transactional\n");
    assert!(plan(&transactional, "x").needs_zone);
    assert!(!transactional.rules[0].uses_zone(&transactional.policy));
    let alert = load(&format!(
        "{quiet}
rules:
  - name: a
    trigger: {{event_type: x}}
    action: {{type: alert, template_name: T, delivery_method: internal}}
"
    ));
    assert!(!plan(&alert, "x").needs_zone);
    assert!(!alert.rules[0].uses_zone(&alert.policy));
}

#[test]
fn a_cap_in_the_users_calendar_needs_the_zone_and_a_utc_cap_does_not() {
    let cap = |calendar: &str| {
        format!(
            "frequency_caps:\n  - {{name: c, max: 1, window: calendar_day, calendar: {calendar}}}"
        )
    };
    let user = one(&cap("user"), "");
    assert!(plan(&user, "x").needs_zone);
    assert_eq!(plan(&user, "x").caps, vec![0]);
    let utc = one(&cap("utc"), "");
    assert!(!plan(&utc, "x").needs_zone);
    assert_eq!(plan(&utc, "x").caps, vec![0]);
}

#[test]
fn a_plan_lists_each_cap_once_and_only_the_caps_that_cover_its_sends() {
    let r = load(
        "frequency_caps:
  - {name: sms_only, max: 1, window: calendar_day, channels: [sms]}
  - {name: every, max: 3, window: calendar_week}
rules:
  - name: a
    trigger: {event_type: x}
    action: {type: send, template_name: A, delivery_method: email}
  - name: b
    trigger: {event_type: x}
    action: {type: send, template_name: B, delivery_method: push}
  - name: c
    trigger: {event_type: y}
    action: {type: send, template_name: C, delivery_method: sms}
",
    );
    let x = plan(&r, "x");
    assert_eq!(x.caps, vec![1]);
    // The SMS cap, in the user's calendar, covers no send of `x`: no zone needed for it.
    assert!(x.needs_zone, "`every` counts in the user's calendar");
    assert_eq!(plan(&r, "y").caps, vec![0, 1]);
    let utc_every = load(
        "frequency_caps:
  - {name: sms_only, max: 1, window: calendar_day, channels: [sms]}
  - {name: every, max: 3, window: calendar_week, calendar: utc}
rules:
  - name: a
    trigger: {event_type: x}
    action: {type: send, template_name: A, delivery_method: email}
",
    );
    assert!(!plan(&utc_every, "x").needs_zone);
}

#[test]
fn an_event_with_a_zone_of_its_own_needs_no_earlier_one() {
    let r = one(
        "",
        "    suppression: {mode: once_per_calendar_day, calendar: user}\n",
    );
    let ev = |traits: serde_json::Value| Event {
        user_id: "u".into(),
        event_type: "x".into(),
        event_timestamp: chrono::DateTime::UNIX_EPOCH,
        properties: serde_json::Map::new(),
        user_traits: serde_json::from_value(traits).ok(),
        idempotency_key: None,
    };
    let needs = |e: &Event| crate::engine::needs_earlier_zone(&r, e);
    assert!(needs(&ev(serde_json::json!({}))));
    assert!(needs(&ev(serde_json::json!({"timezone": "Mars/Base"}))));
    assert!(!needs(&ev(serde_json::json!({"timezone": "Asia/Tokyo"}))));
    let mut other = ev(serde_json::json!({}));
    other.event_type = "y".into();
    assert!(!needs(&other), "no rule of `y` uses time");
}

#[test]
fn a_rules_file_loads_from_disk() {
    let mut f = tempfile::NamedTempFile::new().unwrap();
    f.write_all(
        b"rules:\n  - name: a\n    trigger: {event_type: x}\n    \
          action: {type: send, template_name: T, delivery_method: email}\n",
    )
    .unwrap();
    let r = RuleSet::load(f.path()).unwrap();
    assert_eq!(r.rules.len(), 1);
    assert_eq!(&*r.rules[0].name, "a");
    let missing = RuleSet::load(Path::new("/nonexistent/rules.yaml")).unwrap_err();
    assert!(matches!(missing, RulesError::Read { .. }), "{missing:?}");
}
