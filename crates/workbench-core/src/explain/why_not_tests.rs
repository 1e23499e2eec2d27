use std::path::Path;

use serde_json::json;

use super::*;
use crate::engine::{Delivery, History, Window, decide};
use crate::event::Event;
use crate::explain::plain;

const RULES: &str = r"rules:
  - name: big_spender
    trigger: {event_type: purchase}
    conditions:
      all:
        - {field: properties.amount, operator: gte, value: 100}
        - {field: properties.currency, operator: equals, value: GBP}
    action: {type: send, template_name: THANKS, delivery_method: email}
    suppression: {mode: once_ever}
  - name: any_purchase
    trigger: {event_type: purchase}
    action: {type: send, template_name: RECEIPT, delivery_method: email}
  - name: thanks_again
    trigger: {event_type: refund}
    action: {type: send, template_name: THANKS, delivery_method: sms}
  - name: old_thanks
    enabled: false
    trigger: {event_type: login}
    action: {type: send, template_name: THANKS, delivery_method: push}
";

fn rules() -> RuleSet {
    RuleSet::from_yaml(Path::new("r.yaml"), RULES).unwrap()
}

fn event(event_type: &str, props: &serde_json::Value) -> Event {
    Event {
        user_id: "u".into(),
        event_type: event_type.into(),
        event_timestamp: "2025-10-01T10:00:00Z".parse().unwrap(),
        properties: props.as_object().cloned().unwrap_or_default(),
        user_traits: None,
        idempotency_key: None,
    }
}

/// The answer for one event decided with `history`.
fn ask(target: &str, e: &Event, history: &History<'_>) -> (Answer, String) {
    let rules = rules();
    let target = Target::resolve(&rules, target).unwrap();
    let d = decide(&rules, e, history);
    let row = EventResult {
        step: 0,
        line: 1,
        name: None,
        user_id: "u".into(),
        event_type: e.event_type.as_str().into(),
        event_timestamp: e.event_timestamp,
        event_id: 7,
        verdict: d.verdict.clone(),
        mismatches: None,
        shadowed: Box::new([]),
        written_at: None,
        replayed: false,
    };
    let trace = target
        .needs_trace(&rules, &e.event_type)
        .then_some(&d.trace);
    answer(&rules, &target, &row, trace)
}

#[test]
fn a_rule_name_wins_over_a_template_and_a_template_covers_every_rule_using_it() {
    let r = rules();
    let t = Target::resolve(&r, "any_purchase").unwrap();
    assert_eq!((t.rules, t.template), (vec![1], None));
    let t = Target::resolve(&r, "THANKS").unwrap();
    assert_eq!(t.rules, vec![0, 2, 3]);
    assert_eq!(t.label, "template THANKS");
    assert_eq!(
        Target::resolve(&r, "THANX").unwrap_err(),
        "no rule or template `THANX`; did you mean `THANKS`?"
    );
    assert!(t.needs_trace(&r, "purchase"));
    assert!(
        !t.needs_trace(&r, "login"),
        "its only login rule is disabled"
    );
    assert!(!t.needs_trace(&r, "signup"));
}

#[test]
fn each_answer_names_what_stopped_the_target() {
    let none = History::default();
    let big = json!({"amount": 150, "currency": "GBP"});
    assert_eq!(
        ask("THANKS", &event("purchase", &big), &none),
        (
            Answer::Delivered,
            "big_spender won: THANKS by email".to_string()
        )
    );
    assert_eq!(
        ask(
            "THANKS",
            &event("purchase", &json!({"amount": 150, "currency": "EUR"})),
            &none
        ),
        (
            Answer::ConditionFailed,
            "big_spender: properties.currency equals GBP failed, saw \"EUR\"".to_string()
        )
    );
    assert_eq!(
        ask(
            "THANKS",
            &event("purchase", &json!({"currency": "GBP"})),
            &none
        ),
        (
            Answer::ConditionFailed,
            "big_spender: properties.amount gte 100 failed, saw missing".to_string()
        )
    );
    let (a, why) = ask("any_purchase", &event("purchase", &big), &none);
    assert_eq!(a, Answer::Shadowed);
    assert_eq!(
        why,
        "any_purchase matched, but big_spender won first (allow: sent)"
    );
    assert_eq!(
        ask("THANKS", &event("signup", &json!({})), &none),
        (
            Answer::TriggerMiss,
            "trigger wants login or purchase or refund".to_string()
        )
    );
    assert_eq!(
        ask("old_thanks", &event("login", &json!({})), &none),
        (Answer::Disabled, "old_thanks is disabled".to_string())
    );
    let sent = History {
        deliveries: vec![(
            "THANKS",
            Window::Ever,
            Some(Delivery {
                event_id: 3,
                event_timestamp: "2025-09-01T10:00:00Z".parse().unwrap(),
            }),
        )],
        ..History::default()
    };
    let (a, why) = ask("THANKS", &event("purchase", &big), &sent);
    assert_eq!(a, Answer::Stopped);
    assert!(
        why.starts_with("big_spender won, then suppressed_once_ever: "),
        "{why}"
    );
}

#[test]
fn the_summary_counts_each_answer() {
    let r = rules();
    let t = Target::resolve(&r, "THANKS").unwrap();
    let line = summary(
        "u_jo",
        &t,
        &[Answer::TriggerMiss, Answer::Delivered, Answer::TriggerMiss],
    );
    assert_eq!(
        plain(&[line]),
        "why not template THANKS for u_jo: 3 events: 1 delivered, 2 missed the trigger\n"
    );
}

const COMBINATORS: &str = r#"timezone: UTC
quiet_hours: {start: "21:00", end: "08:00", mode: hold}
rules:
  - name: either
    trigger: {event_type: a}
    conditions:
      any:
        - {field: properties.x, operator: equals, value: 1}
        - {field: properties.y, operator: equals, value: 2}
    action: {type: send, template_name: T, delivery_method: email}
  - name: never_vip
    trigger: {event_type: b}
    conditions:
      not: {field: user_traits.risk_segment, operator: equals, value: vip}
    action: {type: send, template_name: T, delivery_method: push}
"#;

fn combinators(target: &str, e: &Event, replayed: bool) -> (Answer, String) {
    let rules = RuleSet::from_yaml(Path::new("c.yaml"), COMBINATORS).unwrap();
    let target = Target::resolve(&rules, target).unwrap();
    let d = decide(&rules, e, &History::default());
    let row = EventResult {
        step: 0,
        line: 1,
        name: None,
        user_id: "u".into(),
        event_type: e.event_type.as_str().into(),
        event_timestamp: e.event_timestamp,
        event_id: 3,
        verdict: d.verdict.clone(),
        mismatches: None,
        shadowed: Box::new([]),
        written_at: None,
        replayed,
    };
    let needs = target.needs_trace_for(&rules, &row);
    answer(&rules, &target, &row, needs.then_some(&d.trace))
}

#[test]
fn combinators_name_their_first_failure_and_held_or_replayed_sends_say_so() {
    let (a, why) = combinators("either", &event("a", &json!({"x": 0, "y": 0})), false);
    assert_eq!(a, Answer::ConditionFailed);
    assert_eq!(
        why,
        "either: none of 2 held; first: properties.x equals 1 failed, saw 0"
    );
    let mut vip = event("b", &json!({}));
    vip.user_traits = Some(crate::event::Traits {
        risk_segment: Some("vip".into()),
        ..crate::event::Traits::default()
    });
    assert_eq!(
        combinators("never_vip", &vip, false),
        (
            Answer::ConditionFailed,
            "never_vip: not: user_traits.risk_segment equals vip (saw \"vip\") held".to_string()
        )
    );
    // 10:00 UTC is outside quiet hours; 22:00 is inside: held until 08:00.
    assert_eq!(
        combinators("T", &event("a", &json!({"x": 1})), false).0,
        Answer::Delivered
    );
    let mut late = event("a", &json!({"y": 2}));
    late.event_timestamp = "2025-10-01T22:00:00Z".parse().unwrap();
    assert_eq!(
        combinators("T", &late, false),
        (
            Answer::Scheduled,
            "either won; held by quiet hours until 2025-10-02T08:00:00Z".to_string()
        )
    );
    assert_eq!(
        combinators("T", &event("a", &json!({"x": 1})), true),
        (
            Answer::Stopped,
            "a replay of event #3: nothing new is sent".to_string()
        )
    );
}
