//! The guards across rules through the real pipeline and store (SPEC §7.3): a cap counts
//! deliveries by their event time whatever the arrival order, scheduled ones included;
//! consent and the holdout stop sends before anything is recorded as a delivery.

use std::path::Path;

use serde_json::json;
use workbench::engine::ReasonCode;
use workbench::event::Event;
use workbench::pipeline::Pipeline;
use workbench::provider::Collect;
use workbench::rules::RuleSet;
use workbench::store::SqliteStore;

const RULES: &str = r#"
timezone: Europe/Oslo
consent: {marketing: user_traits.marketing_opt_in}
quiet_hours: {start: "22:00", end: "08:00", mode: hold}
frequency_caps:
  - {name: marketing_per_day, max: 2, window: calendar_day, categories: [marketing]}
rules:
  - name: promo
    trigger: {event_type: tick}
    action: {type: send, template_name: PROMO, delivery_method: email}
"#;

fn ev(ts: &str, opt_in: bool) -> Event {
    Event {
        user_id: "u1".into(),
        event_type: "tick".into(),
        event_timestamp: ts.parse().unwrap(),
        properties: serde_json::Map::new(),
        user_traits: serde_json::from_value(json!({"marketing_opt_in": opt_in})).ok(),
        idempotency_key: None,
    }
}

#[test]
fn caps_count_by_event_time_in_any_arrival_order_scheduled_ones_included() {
    let rules = RuleSet::from_yaml(Path::new("r.yaml"), RULES).unwrap();
    let mut p = Pipeline::new(SqliteStore::open_in_memory().unwrap(), Collect::default());
    let at = "2025-10-11T12:00:00Z".parse().unwrap();
    let mut code = |ts: &str, opt_in: bool| {
        p.process(&rules, &ev(ts, opt_in), at)
            .unwrap()
            .decision
            .verdict
            .reason_code
    };
    // 23:00 in Oslo on the 10th: held until 08:00, and it counts for the 10th at once.
    assert_eq!(code("2025-10-10T21:00:00Z", true), ReasonCode::Scheduled);
    // No consent: stopped, and not a delivery.
    assert_eq!(
        code("2025-10-10T10:00:00Z", false),
        ReasonCode::SuppressedNoConsent
    );
    // Arrives later but is stamped earlier the same local day: the second of two.
    assert_eq!(code("2025-10-10T06:00:00Z", true), ReasonCode::Sent);
    // The third of the 10th (Oslo) is capped, whatever its arrival.
    assert_eq!(
        code("2025-10-10T12:00:00Z", true),
        ReasonCode::SuppressedFrequencyCap
    );
    // 22:30Z on the 10th is 00:30 on the 11th in Oslo: a new day (and quiet: held).
    assert_eq!(code("2025-10-10T22:30:00Z", true), ReasonCode::Scheduled);
    let v = p
        .process(&rules, &ev("2025-10-10T15:00:00Z", true), at)
        .unwrap()
        .decision
        .verdict;
    assert_eq!(v.reason_code, ReasonCode::SuppressedFrequencyCap);
    assert!(
        v.reason.ends_with(
            "capped by marketing_per_day: 2 of max 2 in 2025-10-10 (Europe/Oslo), events 3, 1"
        ),
        "earliest event time first: {}",
        v.reason
    );
}
