use std::path::Path;

use chrono::NaiveDate;
use serde_json::json;

use super::*;
use crate::rules::RuleSet;

fn rules() -> RuleSet {
    RuleSet::from_yaml(
        Path::new("rules.yaml"),
        include_str!("../../../../rules/rules.yaml"),
    )
    .unwrap()
}

#[allow(clippy::needless_pass_by_value)] // fixtures are built inline with `json!`
fn ev(event_type: &str, ts: &str, props: serde_json::Value, traits: serde_json::Value) -> Event {
    Event {
        user_id: "u1".into(),
        event_type: event_type.into(),
        event_timestamp: ts.parse().unwrap(),
        properties: props.as_object().cloned().unwrap_or_default(),
        user_traits: serde_json::from_value(traits).ok(),
        idempotency_key: None,
    }
}

fn at(ts: &str) -> DateTime<Utc> {
    ts.parse().unwrap()
}

#[test]
fn lookups_follow_the_trigger() {
    let r = rules();
    let e = ev(
        "payment_failed",
        "2024-01-15T10:30:00Z",
        json!({}),
        json!(null),
    );
    let l = lookups(&r, &e, Zone::UTC);
    assert!(l.prior_types.is_empty());
    let day = NaiveDate::from_ymd_opt(2024, 1, 15).unwrap();
    assert_eq!(
        l.deliveries,
        vec![(
            "INSUFFICIENT_FUNDS_EMAIL",
            Window::utc_day(day.and_hms_opt(0, 0, 0).unwrap().and_utc())
        )]
    );
    let e = ev("mystery", "2024-01-15T10:30:00Z", json!({}), json!(null));
    assert_eq!(lookups(&r, &e, Zone::UTC).deliveries, vec![]);
}

#[test]
fn first_match_wins_and_later_matches_are_shadowed() {
    let r = rules();
    let e = ev(
        "payment_failed",
        "2024-01-15T10:30:00Z",
        json!({"failure_reason": "INSUFFICIENT_FUNDS", "attempt_number": 4}),
        json!(null),
    );
    let d = decide(&r, &e, &History::default());
    assert_eq!(
        d.verdict.matched_rule.as_deref(),
        Some("insufficient_funds_email")
    );
    assert_eq!(d.verdict.outcome, Outcome::Allow);
    assert_eq!(d.verdict.reason_code, ReasonCode::Sent);
    assert_eq!(
        d.trace.shadowed().map(|r| r.name).collect::<Vec<_>>(),
        ["high_risk_alert"]
    );
    assert_eq!(
        d.verdict.reason,
        "insufficient_funds_email matched (also matched, not acted on: high_risk_alert); \
         send by email: first INSUFFICIENT_FUNDS_EMAIL for this user on 2024-01-15 (UTC)"
    );
}

#[test]
fn a_suppressed_match_never_falls_through() {
    let r = rules();
    let e = ev(
        "payment_failed",
        "2024-01-15T18:00:00Z",
        json!({"failure_reason": "INSUFFICIENT_FUNDS", "attempt_number": 5}),
        json!(null),
    );
    let day = Window::utc_day(e.event_timestamp);
    let h = History {
        priors: vec![],
        deliveries: vec![(
            "INSUFFICIENT_FUNDS_EMAIL",
            day,
            Some(Delivery {
                event_id: 123,
                event_timestamp: at("2024-01-15T10:41:00Z"),
            }),
        )],
        ..History::default()
    };
    let d = decide(&r, &e, &h);
    assert_eq!(d.verdict.outcome, Outcome::Suppress);
    assert_eq!(
        d.verdict.matched_rule.as_deref(),
        Some("insufficient_funds_email")
    );
    assert_eq!(
        d.verdict.reason_code,
        ReasonCode::SuppressedOncePerCalendarDay
    );
    assert_eq!(
        d.verdict.reason,
        "INSUFFICIENT_FUNDS_EMAIL already sent on 2024-01-15 (UTC) at 10:41:00Z for event 123"
    );
    assert_eq!(d.trace.suppression.unwrap().earlier.unwrap().event_id, 123);
}

#[test]
fn alerts_and_once_ever() {
    let r = rules();
    let e = ev(
        "payment_failed",
        "2024-01-15T10:30:00Z",
        json!({"attempt_number": 3.0}),
        json!(null),
    );
    let d = decide(&r, &e, &History::default());
    assert_eq!(
        (d.verdict.outcome, d.verdict.reason_code),
        (Outcome::Alert, ReasonCode::Alerted)
    );
    assert_eq!(d.verdict.channel, Some(crate::rules::Channel::Internal));

    let e = ev(
        "signup_completed",
        "2024-01-15T10:30:00Z",
        json!({}),
        json!({"marketing_opt_in": true}),
    );
    let h = History {
        priors: vec![],
        deliveries: vec![(
            "WELCOME_EMAIL",
            Window::Ever,
            Some(Delivery {
                event_id: 1,
                event_timestamp: at("2023-12-01T09:00:00Z"),
            }),
        )],
        ..History::default()
    };
    let d = decide(&r, &e, &h);
    assert_eq!(d.verdict.reason_code, ReasonCode::SuppressedOnceEver);
    assert_eq!(
        d.verdict.reason,
        "WELCOME_EMAIL already sent once ever, on 2023-12-01 (UTC) at 09:00:00Z for event 1"
    );
}

#[test]
fn no_match_reasons_name_the_failed_condition_and_actual_value() {
    let r = rules();
    let e = ev(
        "payment_failed",
        "2024-01-15T10:30:00Z",
        json!({"failure_reason": "CARD_DECLINED", "attempt_number": "3"}),
        json!(null),
    );
    let d = decide(&r, &e, &History::default());
    assert_eq!(d.verdict.outcome, Outcome::None);
    assert_eq!(
        d.verdict.reason,
        "insufficient_funds_email: properties.failure_reason equals INSUFFICIENT_FUNDS, got \"CARD_DECLINED\"; \
         high_risk_alert: properties.attempt_number gte 3, got \"3\" (string, type mismatch)"
    );
    let e = ev(
        "signup_completed",
        "2024-01-15T10:30:00Z",
        json!({}),
        json!({"email": "a@b"}),
    );
    assert_eq!(
        decide(&r, &e, &History::default()).verdict.reason,
        "welcome_email: user_traits.marketing_opt_in equals true, got missing"
    );
    let e = ev("app_opened", "2024-01-15T10:30:00Z", json!({}), json!(null));
    assert_eq!(
        decide(&r, &e, &History::default()).verdict.reason,
        "no rule handles event type `app_opened`"
    );
}

fn nudge(link_at: &str, signup_at: Option<&str>) -> Decision<'static> {
    let r: &'static RuleSet = Box::leak(Box::new(rules()));
    let e = ev("link_bank_success", link_at, json!({}), json!(null));
    let h = History {
        priors: vec![(
            "signup_completed",
            signup_at.map(|s| PriorEvent {
                event_id: 7,
                event_timestamp: at(s),
            }),
        )],
        deliveries: vec![("BANK_LINK_NUDGE_SMS", Window::Ever, None)],
        ..History::default()
    };
    decide(r, &e, &h)
}

#[test]
fn prior_event_window_is_inclusive_at_exactly_24_hours() {
    let d = nudge("2024-01-16T10:00:00Z", Some("2024-01-15T10:00:00Z"));
    assert_eq!(d.verdict.outcome, Outcome::Allow);
    let d = nudge("2024-01-16T10:00:01Z", Some("2024-01-15T10:00:00Z"));
    assert_eq!(d.verdict.outcome, Outcome::None);
    assert_eq!(
        d.verdict.reason,
        "bank_link_nudge: prior signup_completed within 24h, got signup_completed 24h before (event 7)"
    );
    let d = nudge("2024-01-15T10:00:00Z", Some("2024-01-15T10:00:00Z"));
    assert_eq!(
        d.verdict.outcome,
        Outcome::Allow,
        "0 hours is inside the window"
    );
    let d = nudge("2024-01-15T09:00:00Z", Some("2024-01-15T10:00:00Z"));
    assert_eq!(
        d.verdict.outcome,
        Outcome::None,
        "a signup stamped later does not count"
    );
    assert!(
        d.verdict.reason.contains("1h after this event"),
        "{}",
        d.verdict.reason
    );
    let d = nudge("2024-01-15T09:00:00Z", None);
    assert!(
        d.verdict.reason.ends_with("got none"),
        "{}",
        d.verdict.reason
    );
}

#[test]
fn hours_print_like_people_write_them() {
    assert_eq!(fmt_hours(24.0), "24");
    assert_eq!(fmt_hours(1.5), "1.5");
    assert_eq!(fmt_hours(24.000_277), "24");
    assert_eq!(fmt_hours(0.25), "0.25");
}

#[test]
fn the_same_decision_ignores_only_the_wording() {
    let base = Verdict {
        matched_rule: Some("r".into()),
        action_type: DecisionAction::Send,
        template_name: Some("T".into()),
        channel: Some(crate::rules::Channel::Email),
        outcome: Outcome::Allow,
        reason: "first T".into(),
        reason_code: ReasonCode::Sent,
        deliver_at: None,
        message_text: Some("Hi".into()),
    };
    assert!(base.same_decision(&base.clone()));
    let reworded = Verdict {
        reason: "worded otherwise".into(),
        message_text: Some("Hi there".into()),
        ..base.clone()
    };
    assert!(
        base.same_decision(&reworded),
        "the reason's wording may differ"
    );
    let changes: [fn(&mut Verdict); 7] = [
        |v| v.deliver_at = Some("2024-01-16T08:00:00Z".parse().unwrap()),
        |v| v.matched_rule = Some("other".into()),
        |v| v.action_type = DecisionAction::Alert,
        |v| v.template_name = Some("U".into()),
        |v| v.channel = Some(crate::rules::Channel::Sms),
        |v| v.outcome = Outcome::Suppress,
        |v| v.reason_code = ReasonCode::SuppressedOnceEver,
    ];
    for change in changes {
        let mut other = base.clone();
        change(&mut other);
        assert!(!base.same_decision(&other), "{other:?}");
        assert!(!other.same_decision(&base), "{other:?}");
    }
}

#[test]
fn a_rule_without_suppression_never_looks_at_earlier_deliveries() {
    let r = rules();
    let e = ev(
        "payment_failed",
        "2024-01-15T10:30:00Z",
        json!({"failure_reason": "CARD_DECLINED", "attempt_number": 3}),
        json!(null),
    );
    // Even a history claiming the alert went out before cannot suppress `none`.
    let earlier = Delivery {
        event_id: 1,
        event_timestamp: at("2024-01-15T09:00:00Z"),
    };
    let history = History {
        priors: vec![],
        deliveries: vec![("HIGH_RISK_ALERT", Window::Ever, Some(earlier))],
        ..History::default()
    };
    let d = decide(&r, &e, &history);
    assert_eq!(d.verdict.matched_rule.as_deref(), Some("high_risk_alert"));
    assert_eq!(
        (d.verdict.outcome, d.verdict.reason_code),
        (Outcome::Alert, ReasonCode::Alerted)
    );
}

#[test]
fn only_the_rules_own_template_and_window_suppress() {
    let r = rules();
    let e = ev(
        "signup_completed",
        "2024-01-15T10:30:00Z",
        json!({}),
        json!({"marketing_opt_in": true}),
    );
    let earlier = Some(Delivery {
        event_id: 1,
        event_timestamp: at("2024-01-14T09:00:00Z"),
    });
    let day = Window::utc_day("2024-01-15T00:00:00Z".parse().unwrap());
    // Another template ever, and this template in another window: neither is this one.
    let history = History {
        priors: vec![],
        deliveries: vec![
            ("BANK_LINK_NUDGE_SMS", Window::Ever, earlier),
            ("WELCOME_EMAIL", day, earlier),
            ("WELCOME_EMAIL", Window::Ever, None),
        ],
        ..History::default()
    };
    assert_eq!(decide(&r, &e, &history).verdict.outcome, Outcome::Allow);
    let history = History {
        priors: vec![],
        deliveries: vec![("WELCOME_EMAIL", Window::Ever, earlier)],
        ..History::default()
    };
    let d = decide(&r, &e, &history);
    assert_eq!(
        (d.verdict.outcome, d.verdict.reason_code),
        (Outcome::Suppress, ReasonCode::SuppressedOnceEver)
    );
}
