//! How `decide` combines the guards: what each stage records in the trace, and what a stop
//! at one stage leaves out of the verdict (the caps after a suppression, the text of a
//! dropped send, `deliver_at` of a send that is not held).

use std::path::Path;

use serde_json::json;

use super::*;

const RULES: &str = r#"
timezone: Europe/Oslo
quiet_hours: {start: "22:00", end: "07:00", mode: MODE}
frequency_caps:
  - {name: one_a_day, max: 1, window: calendar_day}
templates:
  PROMO: "Hi {{ user_id }}"
rules:
  - name: promo
    trigger: {event_type: tick}
    action: {type: send, template_name: PROMO, delivery_method: email}
    suppression: {mode: once_ever}
  - name: receipt
    trigger: {event_type: paid}
    category: transactional
    action: {type: send, template_name: RECEIPT, delivery_method: email}
"#;

fn rules(mode: &str) -> RuleSet {
    RuleSet::from_yaml(Path::new("r.yaml"), &RULES.replace("MODE", mode)).unwrap()
}

fn ev(event_type: &str, ts: &str) -> Event {
    Event {
        user_id: "u1".into(),
        event_type: event_type.into(),
        event_timestamp: ts.parse().unwrap(),
        properties: serde_json::Map::new(),
        user_traits: serde_json::from_value(json!({})).ok(),
        idempotency_key: None,
    }
}

fn sent(id: i64, ts: &str) -> Delivery {
    Delivery {
        event_id: id,
        event_timestamp: ts.parse().unwrap(),
    }
}

/// The history the pipeline would hand over: `earlier` for the rule's own suppression and
/// `counted` for every cap.
fn history<'r>(
    r: &'r RuleSet,
    e: &Event,
    earlier: Option<Delivery>,
    counted: &[Delivery],
) -> History<'r> {
    let zone = resolve_zone(r, e, None);
    let l = lookups(r, e, zone.zone);
    History {
        priors: Vec::new(),
        deliveries: l
            .deliveries
            .iter()
            .map(|(t, w)| (*t, *w, earlier))
            .collect(),
        caps: l
            .caps
            .iter()
            .map(|(c, w)| (*c, *w, counted.to_vec()))
            .collect(),
        zone,
    }
}

#[test]
fn a_send_its_own_suppression_stops_never_counts_the_caps() {
    let r = rules("hold");
    let e = ev("tick", "2026-01-05T12:00:00Z");
    let full = [sent(1, "2026-01-05T09:00:00Z")];
    let h = history(&r, &e, Some(sent(1, "2026-01-05T09:00:00Z")), &full);
    let d = decide(&r, &e, &h);
    assert_eq!(d.verdict.reason_code, ReasonCode::SuppressedOnceEver);
    assert!(d.trace.caps.is_empty(), "{:?}", d.trace.caps);
    assert_eq!(
        d.verdict.reason,
        "PROMO already sent once ever, on 2026-01-05 (UTC) at 09:00:00Z for event 1"
    );
    assert_eq!(d.verdict.message_text, None);
    // Without the earlier delivery the same full cap stops it, and the trace shows the cap.
    let h = history(&r, &e, None, &full);
    let d = decide(&r, &e, &h);
    assert_eq!(d.verdict.reason_code, ReasonCode::SuppressedFrequencyCap);
    assert_eq!(d.trace.caps.len(), 1);
    assert_eq!(
        d.verdict.reason,
        "promo matched; capped by one_a_day: 1 of max 1 in 2026-01-05 (Europe/Oslo), event 1"
    );
    assert_eq!(d.verdict.stopped_by().as_deref(), Some("cap one_a_day"));
}

#[test]
fn a_send_dropped_by_quiet_hours_carries_no_text() {
    let r = rules("drop");
    let e = ev("tick", "2026-01-05T22:30:00Z"); // 23:30 in Oslo
    let d = decide(&r, &e, &history(&r, &e, None, &[]));
    assert_eq!(
        (d.verdict.outcome, d.verdict.reason_code),
        (Outcome::Suppress, ReasonCode::SuppressedQuietHours)
    );
    assert_eq!(d.verdict.message_text, None);
    assert_eq!(d.verdict.deliver_at, None);
    assert_eq!(
        d.verdict.reason,
        "promo matched; dropped by quiet hours 22:00–07:00: 23:30 local in Europe/Oslo (the \
         rules file's default)"
    );
    let q = d.trace.quiet.unwrap();
    assert!(q.quiet && q.applies && q.stopped());
    assert_eq!(q.deliver_at, None, "a dropped send is never delivered");
    // By day the same send goes out with its text.
    let e = ev("tick", "2026-01-05T12:00:00Z");
    let d = decide(&r, &e, &history(&r, &e, None, &[]));
    assert_eq!(d.verdict.message_text.as_deref(), Some("Hi u1"));
}

#[test]
fn only_a_held_send_has_a_deliver_at_in_its_trace() {
    let r = rules("hold");
    let quiet_trace = |e: &Event| {
        let d = decide(&r, e, &history(&r, e, None, &[]));
        (d.verdict.deliver_at, d.trace.quiet.unwrap())
    };
    // Held: inside the window, subject to it.
    let (at, q) = quiet_trace(&ev("tick", "2026-01-05T22:30:00Z"));
    let six = "2026-01-06T06:00:00Z".parse().ok();
    assert_eq!((at, q.deliver_at), (six, six));
    assert!(q.stopped());
    // Outside the window, subject to it: nothing to hold.
    let (at, q) = quiet_trace(&ev("tick", "2026-01-05T12:00:00Z"));
    assert!(!q.quiet && q.applies && !q.stopped());
    assert_eq!((at, q.deliver_at), (None, None));
    // Inside the window, exempt (transactional): not held either.
    let (at, q) = quiet_trace(&ev("paid", "2026-01-05T22:30:00Z"));
    assert!(q.quiet && !q.applies && !q.stopped());
    assert_eq!((at, q.deliver_at), (None, None));
}
