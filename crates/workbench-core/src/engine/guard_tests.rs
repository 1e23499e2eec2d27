//! Consent and the holdout group (SPEC §7.3, rows 1 and 2): what stops a send, in which
//! order, and what the reason names.

use std::path::Path;

use serde_json::json;

use super::*;
use crate::rules::policy::fnv1a64;

const RULES: &str = r#"
consent:
  marketing: user_traits.marketing_opt_in
  transactional: user_traits.service_ok
holdout: {percent: PCT, salt: "2025-q4"}
rules:
  - name: promo
    trigger: {event_type: tick}
    action: {type: send, template_name: PROMO, delivery_method: email}
    suppression: {mode: once_ever}
  - name: receipt
    trigger: {event_type: paid}
    category: transactional
    action: {type: send, template_name: RECEIPT, delivery_method: email}
  - name: cx
    trigger: {event_type: risk}
    action: {type: alert, template_name: CX, delivery_method: internal}
"#;

fn rules(percent: u8) -> RuleSet {
    RuleSet::from_yaml(
        Path::new("r.yaml"),
        &RULES.replace("PCT", &percent.to_string()),
    )
    .unwrap()
}

fn ev(user: &str, event_type: &str, traits: &serde_json::Value) -> Event {
    Event {
        user_id: user.into(),
        event_type: event_type.into(),
        event_timestamp: "2025-10-10T12:00:00Z".parse().unwrap(),
        properties: serde_json::Map::new(),
        user_traits: serde_json::from_value(traits.clone()).ok(),
        idempotency_key: None,
    }
}

fn decide_fresh<'r>(r: &'r RuleSet, e: &Event) -> Decision<'r> {
    decide(r, e, &History::default())
}

/// A user whose holdout bucket (salt `2025-q4`) is below / not below `percent`.
fn user_in(percent: u64, inside: bool) -> String {
    (0..10_000)
        .map(|i| format!("u{i}"))
        .find(|u| (fnv1a64(format!("2025-q4:{u}").as_bytes()) % 100 < percent) == inside)
        .unwrap()
}

#[test]
fn consent_needs_the_trait_exactly_true_on_this_event() {
    let r = rules(0);
    let out = user_in(0, false);
    for (traits, got) in [
        (json!({"marketing_opt_in": false}), "false"),
        (json!({"email": "a@b.c"}), "missing"),
        (json!(null), "missing"),
    ] {
        let d = decide_fresh(&r, &ev(&out, "tick", &traits));
        assert_eq!(
            (d.verdict.outcome, d.verdict.reason_code),
            (Outcome::Suppress, ReasonCode::SuppressedNoConsent),
            "{traits}"
        );
        assert_eq!(
            d.verdict.reason,
            format!(
                "promo matched; stopped by consent: marketing needs \
                 user_traits.marketing_opt_in exactly true, got {got}"
            )
        );
        assert!(!d.verdict.delivers());
    }
    let d = decide_fresh(&r, &ev(&out, "tick", &json!({"marketing_opt_in": true})));
    assert_eq!(d.verdict.reason_code, ReasonCode::Sent);
    // Each category reads its own trait; any trait may carry consent, typed or not.
    let d = decide_fresh(&r, &ev(&out, "paid", &json!({"marketing_opt_in": true})));
    assert_eq!(d.verdict.reason_code, ReasonCode::SuppressedNoConsent);
    let d = decide_fresh(&r, &ev(&out, "paid", &json!({"service_ok": "yes"})));
    assert!(
        d.verdict
            .reason
            .ends_with("transactional needs user_traits.service_ok exactly true, got \"yes\""),
        "{}",
        d.verdict.reason
    );
    let d = decide_fresh(&r, &ev(&out, "paid", &json!({"service_ok": true})));
    assert_eq!(d.verdict.reason_code, ReasonCode::Sent);
}

#[test]
fn the_holdout_keeps_its_bucket_of_marketing_sends_only() {
    let r = rules(10);
    let yes = json!({"marketing_opt_in": true, "service_ok": true});
    let held = user_in(10, true);
    let d = decide_fresh(&r, &ev(&held, "tick", &yes));
    assert_eq!(d.verdict.reason_code, ReasonCode::SuppressedHoldout);
    let bucket = fnv1a64(format!("2025-q4:{held}").as_bytes()) % 100;
    assert_eq!(
        d.verdict.reason,
        format!(
            "promo matched; stopped by holdout: bucket {bucket} of 100 (salt `2025-q4`) is \
             below the 10% holdout"
        )
    );
    // Transactional sends and alerts are never held out.
    assert_eq!(
        decide_fresh(&r, &ev(&held, "paid", &yes))
            .verdict
            .reason_code,
        ReasonCode::Sent
    );
    assert_eq!(
        decide_fresh(&r, &ev(&held, "risk", &yes))
            .verdict
            .reason_code,
        ReasonCode::Alerted
    );
    let free = user_in(10, false);
    let d = decide_fresh(&r, &ev(&free, "tick", &yes));
    assert_eq!(d.verdict.reason_code, ReasonCode::Sent);
    assert_eq!(d.trace.guards.len(), 2, "both guards traced as passed");
    assert!(d.trace.guards.iter().all(guards::GuardTrace::passed));
    // 0% holds out no one, 100% everyone.
    assert_eq!(
        decide_fresh(&rules(0), &ev(&held, "tick", &yes))
            .verdict
            .reason_code,
        ReasonCode::Sent
    );
    assert_eq!(
        decide_fresh(&rules(100), &ev(&free, "tick", &yes))
            .verdict
            .reason_code,
        ReasonCode::SuppressedHoldout
    );
}

#[test]
fn consent_comes_first_then_holdout_then_the_rules_suppression() {
    let r = rules(100);
    let no = json!({"marketing_opt_in": false});
    let d = decide_fresh(&r, &ev("u1", "tick", &no));
    assert_eq!(d.verdict.reason_code, ReasonCode::SuppressedNoConsent);
    assert_eq!(d.trace.guards.len(), 1, "holdout is not reached");
    // A held-out send is stopped before once_ever looks at the earlier delivery.
    let earlier = Delivery {
        event_id: 1,
        event_timestamp: "2024-01-01T00:00:00Z".parse().unwrap(),
    };
    let h = History {
        deliveries: vec![("PROMO", Window::Ever, Some(earlier))],
        ..History::default()
    };
    let d = decide(
        &r,
        &ev("u1", "tick", &json!({"marketing_opt_in": true})),
        &h,
    );
    assert_eq!(d.verdict.reason_code, ReasonCode::SuppressedHoldout);
    let none_held = rules(0);
    let d = decide(
        &none_held,
        &ev("u1", "tick", &json!({"marketing_opt_in": true})),
        &h,
    );
    assert_eq!(d.verdict.reason_code, ReasonCode::SuppressedOnceEver);
}

const CAPPED: &str = r"
timezone: Europe/Oslo
frequency_caps:
  - name: marketing_per_day
    max: 2
    window: calendar_day
    categories: [marketing]
  - name: sms_per_week
    max: 1
    window: calendar_week
    calendar: utc
    channels: [sms]
rules:
  - name: promo
    trigger: {event_type: tick}
    action: {type: send, template_name: PROMO, delivery_method: email}
  - name: nudge
    trigger: {event_type: nudge}
    action: {type: send, template_name: NUDGE, delivery_method: sms}
  - name: receipt
    trigger: {event_type: paid}
    category: transactional
    action: {type: send, template_name: RECEIPT, delivery_method: email}
  - name: cx
    trigger: {event_type: risk}
    action: {type: alert, template_name: CX, delivery_method: internal}
";

fn capped() -> RuleSet {
    RuleSet::from_yaml(Path::new("r.yaml"), CAPPED).unwrap()
}

/// Decide with every cap lookup answered by `found` (filtered to the cap's window).
fn decide_capped<'r>(r: &'r RuleSet, e: &Event, found: &[Delivery]) -> Decision<'r> {
    let zone = resolve_zone(r, e, None);
    let l = lookups(r, e, zone.zone);
    let caps = l
        .caps
        .iter()
        .map(|(c, w)| {
            let (from, to) = w.range();
            let max = r.policy.frequency_caps[*c].max as usize;
            let hits: Vec<Delivery> = found
                .iter()
                .filter(|d| {
                    from.is_none_or(|f| d.event_timestamp >= f)
                        && to.is_none_or(|t| d.event_timestamp < t)
                })
                .take(max)
                .copied()
                .collect();
            (*c, *w, hits)
        })
        .collect();
    let history = History {
        caps,
        zone,
        ..History::default()
    };
    decide(r, e, &history)
}

fn sent(id: i64, ts: &str) -> Delivery {
    Delivery {
        event_id: id,
        event_timestamp: ts.parse().unwrap(),
    }
}

#[test]
fn a_cap_stops_the_send_that_would_exceed_it_in_the_users_day() {
    let r = capped();
    let mut e = ev("u1", "tick", &json!({}));
    e.event_timestamp = "2025-10-10T21:30:00Z".parse().unwrap(); // 23:30 in Oslo
    let two = [
        sent(3, "2025-10-09T22:30:00Z"),
        sent(5, "2025-10-10T08:00:00Z"),
    ];
    let d = decide_capped(&r, &e, &two);
    assert_eq!(
        (d.verdict.outcome, d.verdict.reason_code),
        (Outcome::Suppress, ReasonCode::SuppressedFrequencyCap)
    );
    assert_eq!(
        d.verdict.reason,
        "promo matched; capped by marketing_per_day: 2 of max 2 in 2025-10-10 (Europe/Oslo), \
         events 3, 5"
    );
    // 22:30Z on the 9th is 00:30 on the 10th in Oslo, but 21:30Z on the 9th is the 9th.
    let one = [
        sent(3, "2025-10-09T21:30:00Z"),
        sent(5, "2025-10-10T08:00:00Z"),
    ];
    let d = decide_capped(&r, &e, &one);
    assert_eq!(d.verdict.reason_code, ReasonCode::Sent);
    assert!(!d.trace.caps[0].stopped());
    // Transactional sends and alerts are not covered by a marketing cap.
    let mut paid = ev("u1", "paid", &json!({}));
    paid.event_timestamp = e.event_timestamp;
    assert_eq!(
        decide_capped(&r, &paid, &two).verdict.reason_code,
        ReasonCode::Sent
    );
    let mut risk = ev("u1", "risk", &json!({}));
    risk.event_timestamp = e.event_timestamp;
    assert_eq!(
        decide_capped(&r, &risk, &two).verdict.reason_code,
        ReasonCode::Alerted
    );
}

#[test]
fn each_cap_covers_its_channels_in_its_own_calendar() {
    let r = capped();
    let mut e = ev("u1", "nudge", &json!({}));
    e.event_timestamp = "2025-10-12T23:30:00Z".parse().unwrap(); // a Sunday in UTC
    // Monday 2025-10-06 is the UTC week's first day: one SMS that week caps it.
    let d = decide_capped(&r, &e, &[sent(9, "2025-10-06T00:00:00Z")]);
    assert_eq!(d.verdict.reason_code, ReasonCode::SuppressedFrequencyCap);
    assert!(
        d.verdict
            .reason
            .ends_with("capped by sms_per_week: 1 of max 1 in week of 2025-10-06 (UTC), event 9"),
        "{}",
        d.verdict.reason
    );
    // The email promo is not an SMS: only the daily marketing cap covers it.
    let mut promo = ev("u1", "tick", &json!({}));
    promo.event_timestamp = e.event_timestamp;
    let d = decide_capped(&r, &promo, &[sent(9, "2025-10-06T00:00:00Z")]);
    assert_eq!(d.verdict.reason_code, ReasonCode::Sent);
    assert_eq!(d.trace.caps.len(), 1);
}

#[test]
fn caps_are_looked_up_only_for_a_send_that_can_pass_consent_and_the_holdout() {
    let r = RuleSet::from_yaml(
        Path::new("r.yaml"),
        &format!("consent: {{marketing: user_traits.marketing_opt_in}}\n{CAPPED}"),
    )
    .unwrap();
    let lookups_for = |traits: serde_json::Value| {
        let e = ev("u1", "tick", &traits);
        lookups(&r, &e, Zone::UTC).caps.len()
    };
    assert_eq!(lookups_for(json!({"marketing_opt_in": true})), 1);
    assert_eq!(
        lookups_for(json!({"marketing_opt_in": false})),
        0,
        "no consent: the count is never needed"
    );
}
