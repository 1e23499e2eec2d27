use std::path::Path;

use chrono::{DateTime, Utc};
use serde_json::json;

use super::*;
use crate::engine::{Decision, Delivery, History, PriorEvent, decide};
use crate::event::Event;

fn rules() -> RuleSet {
    RuleSet::from_yaml(
        Path::new("rules.yaml"),
        include_str!("../../../../rules/rules.yaml"),
    )
    .unwrap()
}

fn at(ts: &str) -> DateTime<Utc> {
    ts.parse().unwrap()
}

fn ev(event_type: &str, ts: &str, props: serde_json::Value) -> Event {
    Event {
        user_id: "u_jo".into(),
        event_type: event_type.into(),
        event_timestamp: at(ts),
        properties: match props {
            serde_json::Value::Object(m) => m,
            _ => serde_json::Map::new(),
        },
        user_traits: None,
        idempotency_key: None,
    }
}

fn result(event_id: i64, e: &Event, d: &Decision<'_>) -> EventResult {
    EventResult {
        written_at: None,
        replayed: false,
        step: 0,
        line: 1,
        name: None,
        user_id: e.user_id.as_str().into(),
        event_type: e.event_type.as_str().into(),
        event_timestamp: e.event_timestamp,
        event_id,
        verdict: d.verdict.clone(),
        mismatches: None,
        shadowed: Box::new([]),
    }
}

fn prior(event_id: i64, ts: &str) -> History<'static> {
    History {
        priors: vec![(
            "signup_completed",
            Some(PriorEvent {
                event_id,
                event_timestamp: at(ts),
            }),
        )],
        deliveries: vec![],
        ..History::default()
    }
}

#[test]
fn a_failed_prior_event_reads_as_workbench_explain_prints_it() {
    let r = rules();
    let e = ev("link_bank_success", "2025-10-05T11:00:00Z", json!({}));
    let d = decide(&r, &e, &prior(10, "2025-10-01T10:00:00Z"));
    assert_eq!(
        plain(&rule_match(&r, &d)),
        "✗ welcome_email  ≠ trigger signup_completed  line 3\n\
         ✗ bank_link_nudge  conditions failed  line 20\n    \
         ✗ prior signup_completed within 24h  event #10 at 2025-10-01T10:00:00Z, 97h before\n\
         ✗ insufficient_funds_email  ≠ trigger payment_failed  line 36\n\
         ✗ high_risk_alert  ≠ trigger payment_failed  line 53\n\
         ✗ payday_savings_push  ≠ trigger salary_received  line 70\n"
    );
    assert_eq!(
        plain(&suppression(&result(11, &e, &d), &d)),
        "no rule matched: nothing to suppress\n\
         ⇒ none: bank_link_nudge: prior signup_completed within 24h, \
         got signup_completed 97h before (event 10)\n"
    );
}

#[test]
fn a_later_prior_event_is_worded_alike_in_the_pane_and_the_reason() {
    let r = rules();
    let e = ev("link_bank_success", "2025-10-05T11:00:00Z", json!({}));
    let d = decide(&r, &e, &prior(12, "2025-10-05T12:30:00Z"));
    let text = plain(&rule_match(&r, &d));
    assert!(text.contains(", 1.5h after this one\n"), "{text}");
    assert!(
        d.verdict
            .reason
            .ends_with("1.5h after this event (event 12)"),
        "{}",
        d.verdict.reason
    );
    assert_eq!(hours_apart(24.0, "this one"), "24h before");
    assert_eq!(hours_apart(-0.25, "this one"), "0.25h after this one");
}

#[test]
fn the_winner_its_shadow_and_a_suppressing_delivery() {
    let r = rules();
    let e = ev(
        "payment_failed",
        "2024-01-15T18:00:00Z",
        json!({"failure_reason": "INSUFFICIENT_FUNDS", "attempt_number": 5}),
    );
    let h = History {
        priors: vec![],
        deliveries: vec![(
            "INSUFFICIENT_FUNDS_EMAIL",
            Window::utc_day(e.event_timestamp),
            Some(Delivery {
                event_id: 123,
                event_timestamp: at("2024-01-15T10:41:00Z"),
            }),
        )],
        ..History::default()
    };
    let d = decide(&r, &e, &h);
    let lines = rule_match(&r, &d);
    assert_eq!(
        plain(&lines[2..]),
        "✓ insufficient_funds_email  WINNER  line 36\n    \
         ✓ all of\n      \
         ✓ properties.failure_reason equals INSUFFICIENT_FUNDS  actual \"INSUFFICIENT_FUNDS\"\n\
         ◐ high_risk_alert  also matched (shadowed)  line 53\n    \
         ✓ all of\n      \
         ✓ properties.attempt_number gte 3  actual 5\n\
         ✗ payday_savings_push  ≠ trigger salary_received  line 70\n"
    );
    assert_eq!(lines[2].spans[0].style, Style::Winner);
    assert_eq!(lines[2].spans[2].style, Style::Dim);
    assert_eq!(lines[5].spans[0].style, Style::Shadowed);
    assert_eq!(lines[3].spans[1].style, Style::Pass);

    let supp = suppression(&result(124, &e, &d), &d);
    assert_eq!(
        plain(&supp),
        "mode once_per_calendar_day   key (u_jo, INSUFFICIENT_FUNDS_EMAIL)\n\
         window 2024-01-15 (UTC)\n\
         earlier delivery: event #123 at 2024-01-15T10:41:00Z\n\
         ⇒ suppress: INSUFFICIENT_FUNDS_EMAIL already sent on 2024-01-15 (UTC) at 10:41:00Z \
         for event 123\n"
    );
    assert_eq!(supp[2].spans[1].style, Style::Outcome(Outcome::Suppress));
    assert_eq!(supp[3].spans[0].style, Style::Outcome(Outcome::Suppress));
}

#[test]
fn the_audit_ends_at_the_selected_row_and_keeps_the_last_max() {
    let r = rules();
    let e = ev("link_bank_success", "2025-10-05T11:00:00Z", json!({}));
    let d = decide(&r, &e, &History::default());
    let results: Vec<EventResult> = (0..5).map(|i| result(i + 1, &e, &d)).collect();
    let user_rows = [0, 2, 3, 4];
    let lines = audit(|i| results.get(i as usize), &user_rows, 3, 2);
    assert_eq!(
        plain(&lines),
        "#3     link_bank_success  none     -\n\
         #4     link_bank_success  none     -\n"
    );
    assert_eq!(lines[0].style, Style::Plain);
    assert_eq!(lines[1].style, Style::Selected);
    assert!(audit(|i| results.get(i as usize), &user_rows, 3, 0).is_empty());
    assert!(audit(|i| results.get(i as usize), &[], 3, usize::MAX).is_empty());
}

#[test]
fn the_baseline_shows_only_when_the_decision_differs() {
    let r = rules();
    let e = ev("link_bank_success", "2025-10-05T11:00:00Z", json!({}));
    let none = decide(&r, &e, &History::default()).verdict;
    let sent = decide(&r, &e, &prior(10, "2025-10-05T10:00:00Z")).verdict;
    assert!(baseline(None, &sent).is_empty());
    assert!(baseline(Some(&sent), &sent).is_empty());
    let lines = baseline(Some(&none), &sent);
    assert_eq!(lines.len(), 3);
    assert!(
        lines[0]
            .to_string()
            .starts_with("Δ baseline none     (no rule) — ")
    );
    assert!(
        lines[1]
            .to_string()
            .starts_with("Δ now      allow    bank_link_nudge — bank_link_nudge matched")
    );
    assert_eq!(lines[1].spans[1].style, Style::Outcome(Outcome::Allow));
    assert_eq!(lines[2].to_string(), "");
}

#[test]
fn the_suppression_pane_lists_the_guards_in_order() {
    let r = RuleSet::from_yaml(
        Path::new("g.yaml"),
        "consent: {marketing: user_traits.marketing_opt_in}\n\
         holdout: {percent: 0, salt: s}\n\
         frequency_caps:\n  - {name: daily, max: 1, window: calendar_day, calendar: utc}\n\
         rules:\n  - name: promo\n    trigger: {event_type: tick}\n    \
         action: {type: send, template_name: PROMO, delivery_method: email}\n",
    )
    .unwrap();
    let mut e = ev("tick", "2025-10-10T12:00:00Z", json!({}));
    e.user_traits = serde_json::from_value(json!({"marketing_opt_in": true})).ok();
    let zone = crate::engine::resolve_zone(&r, &e, None);
    let l = crate::engine::lookups(&r, &e, zone.zone);
    let earlier = Delivery {
        event_id: 4,
        event_timestamp: at("2025-10-10T08:00:00Z"),
    };
    let h = History {
        caps: l
            .caps
            .iter()
            .map(|(c, w)| (*c, *w, vec![earlier]))
            .collect(),
        zone,
        ..History::default()
    };
    let d = decide(&r, &e, &h);
    assert_eq!(
        plain(&suppression(&result(5, &e, &d), &d)),
        "✓ consent marketing needs user_traits.marketing_opt_in exactly true, got true\n\
         ✓ holdout bucket 7 of 100 (salt `s`) is not below the 0% holdout\n\
         mode none   key (u_jo, PROMO)\n\
         never suppressed\n\
         ✗ cap daily: 1 of max 1 in 2025-10-10 (UTC), event 4\n\
         ⇒ suppress: promo matched; capped by daily: 1 of max 1 in 2025-10-10 (UTC), event 4\n"
    );
    // Under the cap: the template renders (a template without text is its name).
    let h = History {
        caps: l.caps.iter().map(|(c, w)| (*c, *w, Vec::new())).collect(),
        zone: crate::engine::resolve_zone(&r, &e, None),
        ..History::default()
    };
    let d = decide(&r, &e, &h);
    let text = plain(&suppression(&result(5, &e, &d), &d));
    assert!(
        text.contains("✓ cap daily: 0 of max 1 in 2025-10-10 (UTC)\n⇒ allow: ")
            && text.ends_with("\nmessage PROMO\n"),
        "{text}"
    );
    // Stopped by consent: the guards so far, and no suppression to show.
    e.user_traits = serde_json::from_value(json!({"marketing_opt_in": false})).ok();
    let d = decide(&r, &e, &History::default());
    assert_eq!(
        plain(&suppression(&result(5, &e, &d), &d)),
        "✗ consent marketing needs user_traits.marketing_opt_in exactly true, got false\n\
         ⇒ suppress: promo matched; stopped by consent: marketing needs \
         user_traits.marketing_opt_in exactly true, got false\n"
    );
}
