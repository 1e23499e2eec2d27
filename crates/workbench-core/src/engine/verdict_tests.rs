//! What a verdict says about itself: whether it delivers, the guard that stopped it, whether it
//! is scheduled, and how its codes read and serialise.

use serde_json::Value;

use super::*;

fn verdict(outcome: Outcome, reason_code: ReasonCode, reason: &str) -> Verdict {
    Verdict {
        matched_rule: Some("r".into()),
        action_type: DecisionAction::Send,
        template_name: Some("T".into()),
        channel: Some(Channel::Email),
        outcome,
        reason: reason.into(),
        reason_code,
        deliver_at: None,
        message_text: None,
    }
}

#[test]
fn only_allow_and_alert_deliver() {
    let delivers = |o| verdict(o, ReasonCode::Sent, "").delivers();
    assert!(delivers(Outcome::Allow));
    assert!(delivers(Outcome::Alert));
    assert!(!delivers(Outcome::Suppress));
    assert!(!delivers(Outcome::None));
}

#[test]
fn each_suppression_names_the_guard_that_stopped_it() {
    let cases = [
        (ReasonCode::SuppressedNoConsent, Some("consent")),
        (ReasonCode::SuppressedHoldout, Some("holdout")),
        (ReasonCode::SuppressedOnceEver, Some("once_ever")),
        (
            ReasonCode::SuppressedOncePerCalendarDay,
            Some("once_per_calendar_day"),
        ),
        (ReasonCode::SuppressedQuietHours, Some("quiet hours")),
        (ReasonCode::SuppressedRenderError, Some("template")),
        (ReasonCode::Sent, None),
        (ReasonCode::Scheduled, None),
        (ReasonCode::Alerted, None),
        (ReasonCode::NoMatch, None),
    ];
    for (code, want) in cases {
        let v = verdict(Outcome::Suppress, code, "r matched; whatever");
        assert_eq!(v.stopped_by().as_deref(), want, "{code:?}");
    }
}

#[test]
fn a_cap_is_named_from_the_reason() {
    let capped = |reason: &str| {
        verdict(
            Outcome::Suppress,
            ReasonCode::SuppressedFrequencyCap,
            reason,
        )
        .stopped_by()
    };
    assert_eq!(
        capped("r matched; capped by marketing_per_day: 2 of max 2 in 2025-10-10 (UTC)").as_deref(),
        Some("cap marketing_per_day")
    );
    // A reason without the cap's name still says a cap stopped it.
    assert_eq!(capped("r matched").as_deref(), Some("cap ?"));
    assert_eq!(capped("r matched; capped by x").as_deref(), Some("cap ?"));
}

#[test]
fn scheduled_means_a_deliver_at() {
    let mut v = verdict(Outcome::Allow, ReasonCode::Sent, "");
    assert!(!v.scheduled());
    v.deliver_at = Some("2026-01-06T06:00:00Z".parse().unwrap());
    assert!(v.scheduled());
}

#[test]
fn the_action_of_a_decision_is_the_rules() {
    assert_eq!(DecisionAction::from(ActionType::Send), DecisionAction::Send);
    assert_eq!(
        DecisionAction::from(ActionType::Alert),
        DecisionAction::Alert
    );
}

#[test]
fn a_verdict_serialises_its_codes_and_deliver_at() {
    let mut v = verdict(Outcome::Allow, ReasonCode::Scheduled, "held");
    v.deliver_at = Some("2026-01-06T06:00:00Z".parse().unwrap());
    let json = serde_json::to_value(&v).unwrap();
    assert_eq!(json["outcome"], "allow");
    assert_eq!(json["reason_code"], "scheduled");
    assert_eq!(json["action_type"], "send");
    assert_eq!(json["deliver_at"], "2026-01-06T06:00:00Z");
    v.deliver_at = None;
    assert_eq!(serde_json::to_value(&v).unwrap()["deliver_at"], Value::Null);
}
