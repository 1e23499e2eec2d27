//! Property tests of user time over generated streams (SPEC §7.2, §7.3, §7.5): a
//! `calendar: user` rule never delivers twice in one local day of the deciding event's zone,
//! a held send is never due inside quiet hours nor before its event, and every delivery's
//! line is written exactly once, a scheduled one with its `deliver_at`.

use std::collections::HashMap;
use std::path::Path;

use chrono::{DateTime, Duration, Utc};
use proptest::prelude::*;
use serde_json::json;
use workbench::engine::Calendar;
use workbench::event::{Event, format_ts};
use workbench::pipeline::Pipeline;
use workbench::provider::Collect;
use workbench::rules::RuleSet;
use workbench::store::SqliteStore;

const RULES: &str = r#"
timezone: America/New_York
quiet_hours: {start: "21:30", end: "07:45", mode: hold}
rules:
  - name: daily
    trigger: {event_type: tick}
    action: {type: send, template_name: DAILY, delivery_method: push}
    suppression: {mode: once_per_calendar_day, calendar: user}
  - name: receipt
    trigger: {event_type: paid}
    category: transactional
    action: {type: send, template_name: RECEIPT, delivery_method: email}
"#;

fn arb_zone() -> impl Strategy<Value = Option<&'static str>> {
    prop::sample::select(vec![
        Some("Europe/Oslo"),
        Some("America/New_York"),
        Some("Asia/Kolkata"),
        Some("Pacific/Auckland"),
        Some("Pacific/Chatham"),
        Some("UTC"),
        Some("Mars/Olympus"),
        None,
    ])
}

/// Events around the DST changes of 2025 (March and late October/early November).
fn arb_event() -> impl Strategy<Value = (Event, i64)> {
    (
        0u8..4,
        prop::sample::select(vec!["tick", "tick", "tick", "paid"]),
        prop::sample::select(vec!["2025-03-28T00:00:00Z", "2025-10-24T00:00:00Z"]),
        0i64..(12 * 24 * 60),
        arb_zone(),
        0i64..600,
    )
        .prop_map(|(user, t, base, minute, zone, late)| {
            let base: DateTime<Utc> = base.parse().unwrap();
            (
                Event {
                    user_id: format!("u{user}"),
                    event_type: t.into(),
                    event_timestamp: base + Duration::minutes(minute),
                    properties: serde_json::Map::new(),
                    user_traits: serde_json::from_value(json!({ "timezone": zone })).ok(),
                    idempotency_key: None,
                },
                late,
            )
        })
}

struct Delivered {
    event_id: i64,
    user: String,
    at: DateTime<Utc>,
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn local_days_quiet_hours_and_scheduled_lines_hold(
        stream in prop::collection::vec(arb_event(), 1..80)
    ) {
        let rules = RuleSet::from_yaml(Path::new("r.yaml"), RULES).unwrap();
        let quiet = rules.policy.quiet_hours.unwrap();
        let mut p = Pipeline::new(SqliteStore::open_in_memory().unwrap(), Collect::default());
        let mut clock: Option<DateTime<Utc>> = None;
        let mut daily: Vec<Delivered> = Vec::new();
        let mut deliveries: HashMap<i64, Option<DateTime<Utc>>> = HashMap::new();
        for (event, late) in &stream {
            // Arrival is the event's time plus a delay; the clock never goes back.
            let arrival = event.event_timestamp + Duration::minutes(*late);
            let now = clock.map_or(arrival, |c| c.max(arrival));
            clock = Some(now);
            p.advance(&rules, now).unwrap();
            let done = p.process(&rules, event, arrival).unwrap();
            p.advance(&rules, now).unwrap();
            let v = &done.decision.verdict;
            if let Some(at) = v.deliver_at {
                let zone = done.decision.trace.zone.clone().unwrap().zone;
                prop_assert!(at >= event.event_timestamp, "due before its event");
                prop_assert!(!quiet.is_quiet(zone, at), "due inside quiet hours: {at} in {zone}");
            }
            if v.delivers() {
                deliveries.insert(done.event_id, v.deliver_at);
            }
            if v.delivers() && event.event_type == "tick" {
                let zone = done.decision.trace.zone.clone().unwrap().zone;
                let window = zone.window(Calendar::Day, event.event_timestamp);
                for d in daily.iter().filter(|d| d.user == event.user_id) {
                    prop_assert!(!window.contains(d.at),
                        "DAILY twice to {} on {window}: events {} and {}", d.user, d.event_id, done.event_id);
                }
                daily.push(Delivered {
                    event_id: done.event_id,
                    user: event.user_id.clone(),
                    at: event.event_timestamp,
                });
            }
        }
        p.advance(&rules, DateTime::<Utc>::MAX_UTC).unwrap();
        p.finish().unwrap();

        // Every delivery's line exactly once, a scheduled one stamped with its deliver_at.
        let mut seen: HashMap<i64, usize> = HashMap::new();
        for line in &p.provider.0 {
            let id = workbench::provider::line::event_id(line).unwrap();
            *seen.entry(id).or_default() += 1;
            if let Some(Some(at)) = deliveries.get(&id) {
                prop_assert!(line.starts_with(&format_ts(*at)), "{line}");
            }
        }
        prop_assert_eq!(seen.len(), deliveries.len());
        prop_assert!(seen.values().all(|n| *n == 1), "a line written twice: {seen:?}");
    }
}
