//! The engine's user-time guards: the rule's suppression in the user's calendar, then quiet
//! hours (SPEC §7.2, §7.3 rows 3 and 6), decided through `lookups` and `decide` as the
//! pipeline does.

use std::path::Path;

use serde_json::json;

use super::*;

const RULES: &str = r#"
timezone: Europe/London
quiet_hours: {start: "21:00", end: "08:00", mode: MODE}
rules:
  - name: daily_push
    trigger: {event_type: tick}
    action: {type: send, template_name: PUSH, delivery_method: push}
    suppression: {mode: once_per_calendar_day, calendar: user}
  - name: utc_daily
    trigger: {event_type: tock}
    action: {type: send, template_name: TOCK, delivery_method: email}
    suppression: {mode: once_per_calendar_day}
  - name: receipt
    trigger: {event_type: paid}
    category: transactional
    action: {type: send, template_name: RECEIPT, delivery_method: email}
  - name: loud
    trigger: {event_type: shout}
    quiet_hours: false
    action: {type: send, template_name: SHOUT, delivery_method: sms}
  - name: once
    trigger: {event_type: hello}
    action: {type: send, template_name: HELLO, delivery_method: email}
    suppression: {mode: once_ever}
  - name: cx
    trigger: {event_type: risk}
    action: {type: alert, template_name: CX, delivery_method: internal}
"#;

fn rules(mode: &str) -> RuleSet {
    RuleSet::from_yaml(Path::new("r.yaml"), &RULES.replace("MODE", mode)).unwrap()
}

fn at(ts: &str) -> DateTime<Utc> {
    ts.parse().unwrap()
}

fn ev(event_type: &str, ts: &str, zone: Option<&str>) -> Event {
    Event {
        user_id: "u1".into(),
        event_type: event_type.into(),
        event_timestamp: at(ts),
        properties: serde_json::Map::new(),
        user_traits: serde_json::from_value(json!({ "timezone": zone })).ok(),
        idempotency_key: None,
    }
}

/// Decide `e` as the pipeline would, with at most one earlier delivery of every template
/// looked up (`earlier`, if it falls in the window) and the user's earlier zone.
fn decide_with<'r>(
    r: &'r RuleSet,
    e: &Event,
    earlier_zone: Option<(i64, Zone)>,
    earlier: Option<Delivery>,
) -> Decision<'r> {
    let zone = resolve_zone(r, e, earlier_zone);
    let l = lookups(r, e, zone.zone);
    let history = History {
        priors: Vec::new(),
        deliveries: l
            .deliveries
            .iter()
            .map(|(t, w)| {
                let hit = earlier.filter(|d| {
                    let (from, to) = w.range();
                    from.is_none_or(|f| d.event_timestamp >= f)
                        && to.is_none_or(|t| d.event_timestamp < t)
                });
                (*t, *w, hit)
            })
            .collect(),
        caps: Vec::new(),
        zone,
    };
    decide(r, e, &history)
}

fn delivery(id: i64, ts: &str) -> Delivery {
    Delivery {
        event_id: id,
        event_timestamp: at(ts),
    }
}

#[test]
fn a_user_calendar_day_is_the_local_day_not_the_utc_one() {
    let r = rules("hold");
    // Auckland (UTC+13 in January): 10:00Z on the 15th is 23:00 local on the 15th, 12:00Z is
    // 01:00 local on the 16th: two local days, one UTC day.
    let e = ev("tick", "2025-01-15T12:00:00Z", Some("Pacific/Auckland"));
    let d = decide_with(&r, &e, None, Some(delivery(1, "2025-01-15T10:00:00Z")));
    assert_eq!(d.verdict.outcome, Outcome::Allow);
    assert!(
        d.verdict
            .reason
            .contains("first PUSH for this user on 2025-01-16 in Pacific/Auckland"),
        "{}",
        d.verdict.reason
    );
    // The UTC rule sees one day.
    let e = ev("tock", "2025-01-15T12:00:00Z", Some("Pacific/Auckland"));
    let d = decide_with(&r, &e, None, Some(delivery(1, "2025-01-15T10:00:00Z")));
    assert_eq!(
        d.verdict.reason_code,
        ReasonCode::SuppressedOncePerCalendarDay
    );
    assert_eq!(
        d.verdict.reason,
        "TOCK already sent on 2025-01-15 (UTC) at 10:00:00Z for event 1"
    );
    // Same local day, different UTC days: suppressed, naming local and UTC times.
    let e = ev("tick", "2025-01-16T10:30:00Z", Some("Pacific/Auckland"));
    let d = decide_with(&r, &e, None, Some(delivery(2, "2025-01-15T12:00:00Z")));
    assert_eq!(
        d.verdict.reason_code,
        ReasonCode::SuppressedOncePerCalendarDay
    );
    assert_eq!(
        d.verdict.reason,
        "PUSH already sent on 2025-01-16 at 01:00:00 local in Pacific/Auckland \
         (user_traits.timezone) for event 2 (2025-01-15T12:00:00Z)"
    );
}

#[test]
fn quiet_hours_drop_or_hold_a_marketing_send_at_its_local_time() {
    // 22:30 in Oslo (CET), 21:30Z.
    let e = ev("tick", "2025-03-29T21:30:00Z", Some("Europe/Oslo"));
    let drop = rules("drop");
    let d = decide_with(&drop, &e, None, None);
    assert_eq!(
        (
            d.verdict.outcome,
            d.verdict.reason_code,
            d.verdict.deliver_at
        ),
        (Outcome::Suppress, ReasonCode::SuppressedQuietHours, None)
    );
    assert_eq!(
        d.verdict.reason,
        "daily_push matched; dropped by quiet hours 21:00–08:00: 22:30 local in Europe/Oslo \
         (user_traits.timezone)"
    );
    assert!(!d.verdict.delivers());
    let hold = rules("hold");
    let d = decide_with(&hold, &e, None, None);
    // Held until 08:00 local, after the spring-forward night: 08:00 CEST is 06:00Z.
    assert_eq!(
        (
            d.verdict.outcome,
            d.verdict.reason_code,
            d.verdict.deliver_at
        ),
        (
            Outcome::Allow,
            ReasonCode::Scheduled,
            Some(at("2025-03-30T06:00:00Z"))
        )
    );
    assert!(d.verdict.delivers() && d.verdict.scheduled());
    assert!(
        d.verdict.reason.ends_with(
            "held by quiet hours 21:00–08:00 (22:30 local), deliver at 2025-03-30T06:00:00Z"
        ),
        "{}",
        d.verdict.reason
    );
    let q = d.trace.quiet.unwrap();
    assert!(q.quiet && q.applies && q.stopped());
    assert_eq!(d.trace.zone.unwrap().zone.name(), "Europe/Oslo");
}

#[test]
fn the_window_bounds_are_exact() {
    let r = rules("drop");
    let code = |ts: &str| {
        decide_with(&r, &ev("tick", ts, Some("Europe/Oslo")), None, None)
            .verdict
            .reason_code
    };
    // Oslo in October is UTC+2: 21:00 local is 19:00Z, 08:00 local is 06:00Z.
    assert_eq!(code("2025-10-10T18:59:59Z"), ReasonCode::Sent);
    assert_eq!(
        code("2025-10-10T19:00:00Z"),
        ReasonCode::SuppressedQuietHours
    );
    assert_eq!(
        code("2025-10-11T05:59:59Z"),
        ReasonCode::SuppressedQuietHours
    );
    assert_eq!(code("2025-10-11T06:00:00Z"), ReasonCode::Sent);
}

#[test]
fn transactional_opted_out_and_alert_rules_ignore_quiet_hours() {
    let r = rules("drop");
    let night = "2025-10-10T23:30:00Z"; // 01:30 in Oslo
    let d = decide_with(&r, &ev("paid", night, Some("Europe/Oslo")), None, None);
    assert_eq!(d.verdict.reason_code, ReasonCode::Sent);
    assert!(d.verdict.reason.ends_with(
        "01:30 local in Europe/Oslo (user_traits.timezone) is in quiet hours 21:00–08:00, \
         but transactional sends ignore them"
    ));
    let d = decide_with(&r, &ev("shout", night, Some("Europe/Oslo")), None, None);
    assert_eq!(d.verdict.reason_code, ReasonCode::Sent);
    assert!(
        d.verdict
            .reason
            .ends_with("but the rule says `quiet_hours: false`")
    );
    let d = decide_with(&r, &ev("risk", night, Some("Europe/Oslo")), None, None);
    assert_eq!(
        (d.verdict.outcome, d.verdict.reason_code),
        (Outcome::Alert, ReasonCode::Alerted)
    );
    assert!(d.trace.quiet.is_none(), "quiet hours never look at alerts");
}

#[test]
fn the_rules_own_suppression_comes_before_quiet_hours() {
    let r = rules("drop");
    let e = ev("hello", "2025-10-10T23:30:00Z", Some("Europe/Oslo"));
    let d = decide_with(&r, &e, None, Some(delivery(1, "2024-01-01T12:00:00Z")));
    assert_eq!(d.verdict.reason_code, ReasonCode::SuppressedOnceEver);
    assert!(d.trace.quiet.is_none());
}

#[test]
fn the_zone_falls_back_to_the_users_earlier_one_then_the_files() {
    let r = rules("hold");
    let oslo = Zone::parse("Europe/Oslo").unwrap();
    let e = ev("tick", "2025-10-10T20:00:00Z", Some("Mars/Olympus"));
    assert!(needs_earlier_zone(&r, &e));
    let d = decide_with(&r, &e, Some((7, oslo)), None);
    assert_eq!(
        d.verdict.reason_code,
        ReasonCode::Scheduled,
        "22:00 in Oslo"
    );
    assert!(
        d.verdict
            .reason
            .contains("in Europe/Oslo (from event 7; `Mars/Olympus` is not a time zone)"),
        "{}",
        d.verdict.reason
    );
    // No zone anywhere: London, the file's default (20:00Z is 21:00 BST).
    let e = ev("tick", "2025-07-01T20:00:00Z", None);
    let d = decide_with(&r, &e, None, None);
    assert_eq!(d.verdict.deliver_at, Some(at("2025-07-02T07:00:00Z")));
    assert!(
        d.verdict
            .reason
            .contains("Europe/London (the rules file's default)")
    );
    // A valid zone of its own needs no lookup.
    assert!(!needs_earlier_zone(
        &r,
        &ev("tick", "2025-07-01T20:00:00Z", Some("Asia/Tokyo"))
    ));
}

#[test]
fn a_file_without_user_time_looks_up_no_zone() {
    let r = RuleSet::from_yaml(
        Path::new("r.yaml"),
        "rules:\n  - name: a\n    trigger: {event_type: tick}\n    action: {type: send, \
         template_name: T, delivery_method: email}\n    suppression: {mode: once_per_calendar_day}\n",
    )
    .unwrap();
    let e = ev("tick", "2025-07-01T23:00:00Z", None);
    assert!(!needs_earlier_zone(&r, &e));
    let d = decide_with(&r, &e, None, None);
    assert!(d.trace.zone.is_none() && d.trace.quiet.is_none());
    assert_eq!(
        d.verdict.reason,
        "a matched; send by email: first T for this user on 2025-07-01 (UTC)"
    );
}
