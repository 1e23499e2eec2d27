//! Property tests of the guards across rules (SPEC §7.3): a frequency cap is never exceeded
//! in any of its windows, whatever the arrival order; holdout membership is stable and its
//! share of users is near `percent`.

use std::collections::HashMap;
use std::path::Path;

use chrono::{DateTime, Duration, Utc};
use proptest::prelude::*;
use serde_json::json;
use workbench::engine::{Calendar, Zone};
use workbench::event::Event;
use workbench::pipeline::Pipeline;
use workbench::provider::Collect;
use workbench::rules::RuleSet;
use workbench::rules::policy::Holdout;
use workbench::store::SqliteStore;

const RULES: &str = r"
timezone: UTC
frequency_caps:
  - {name: daily, max: 2, window: calendar_day, categories: [marketing]}
  - {name: weekly_sms, max: 3, window: calendar_week, calendar: utc, channels: [sms]}
rules:
  - name: email_promo
    trigger: {event_type: a}
    action: {type: send, template_name: A, delivery_method: email}
  - name: sms_promo
    trigger: {event_type: b}
    action: {type: send, template_name: B, delivery_method: sms}
  - name: receipt
    trigger: {event_type: c}
    category: transactional
    action: {type: send, template_name: C, delivery_method: sms}
";

/// Each user keeps one zone, so "a window" means the same local days for all their events.
const ZONES: [&str; 4] = ["Pacific/Auckland", "America/New_York", "Europe/Oslo", "UTC"];

fn arb_event() -> impl Strategy<Value = (u8, &'static str, i64)> {
    (
        0u8..4,
        prop::sample::select(vec!["a", "a", "b", "b", "c"]),
        0i64..(10 * 24 * 60),
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn caps_are_never_exceeded_in_any_window_whatever_the_arrival_order(
        stream in prop::collection::vec(arb_event(), 1..120)
    ) {
        let rules = RuleSet::from_yaml(Path::new("r.yaml"), RULES).unwrap();
        let mut p = Pipeline::new(SqliteStore::open_in_memory().unwrap(), Collect::default());
        let base: DateTime<Utc> = "2025-03-27T00:00:00Z".parse().unwrap();
        // The stream is in arrival order; its timestamps are not.
        let mut sent: Vec<(u8, &str, DateTime<Utc>)> = Vec::new();
        for (user, t, minute) in &stream {
            let ts = base + Duration::minutes(*minute);
            let e = Event {
                user_id: format!("u{user}"),
                event_type: (*t).into(),
                event_timestamp: ts,
                properties: serde_json::Map::new(),
                user_traits: serde_json::from_value(json!({"timezone": ZONES[*user as usize]})).ok(),
                idempotency_key: None,
            };
            let v = p.process(&rules, &e, base).unwrap().decision.verdict;
            if v.delivers() {
                sent.push((*user, *t, ts));
            }
        }
        // Every local day of each user's zone holds at most 2 marketing sends; every UTC ISO
        // week at most 3 marketing SMS (the transactional SMS counts for neither).
        let mut daily: HashMap<(u8, chrono::NaiveDate), usize> = HashMap::new();
        let mut weekly: HashMap<(u8, chrono::NaiveDate), usize> = HashMap::new();
        for (user, t, ts) in &sent {
            if *t == "c" {
                continue;
            }
            let zone = Zone::parse(ZONES[*user as usize]).unwrap();
            let day = zone.window(Calendar::Day, *ts).first;
            let n = daily.entry((*user, day)).or_default();
            *n += 1;
            prop_assert!(*n <= 2, "u{user}: {n} marketing sends on {day}");
            if *t == "b" {
                let week = Zone::UTC.window(Calendar::Week, *ts).first;
                let n = weekly.entry((*user, week)).or_default();
                *n += 1;
                prop_assert!(*n <= 3, "u{user}: {n} SMS in the week of {week}");
            }
        }
    }

    #[test]
    fn holdout_membership_is_stable_and_near_its_percent(
        percent in 0u8..=100,
        salt in "[a-z0-9-]{0,12}",
    ) {
        let h = Holdout { percent, salt: salt.clone() };
        let again = Holdout { percent, salt };
        let n = 100_000u32;
        let mut held = 0u32;
        for i in 0..n {
            let user = format!("user_{i}");
            let b = h.bucket(&user);
            prop_assert_eq!(b, again.bucket(&user), "the same user, the same bucket");
            prop_assert!(b < 100);
            if b < percent {
                held += 1;
            }
        }
        let share = f64::from(held) / f64::from(n) * 100.0;
        prop_assert!((share - f64::from(percent)).abs() < 1.0,
            "{share:.2}% held out for percent {percent}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

    /// Replaying events (the same idempotency key and body) never changes what is recorded:
    /// the same rows and lines as the stream without the replays, and each replay answers the
    /// original's decision.
    #[test]
    fn replays_never_change_counts(
        stream in prop::collection::vec(arb_event(), 1..60),
        replays in prop::collection::vec((any::<prop::sample::Index>(), any::<bool>()), 0..30),
    ) {
        let rules = RuleSet::from_yaml(Path::new("r.yaml"), RULES).unwrap();
        let base: DateTime<Utc> = "2025-03-27T00:00:00Z".parse().unwrap();
        let event = |i: usize| {
            let (user, t, minute) = stream[i];
            Event {
                user_id: format!("u{user}"),
                event_type: t.into(),
                event_timestamp: base + Duration::minutes(minute),
                properties: serde_json::Map::new(),
                user_traits: None,
                idempotency_key: Some(format!("k{i}")),
            }
        };
        // Plain: each event once. Replayed: each event once, then replays of earlier ones
        // interleaved (a replay right after its event, or at the end).
        let mut order: Vec<usize> = Vec::new();
        let mut tail: Vec<usize> = Vec::new();
        for i in 0..stream.len() {
            order.push(i);
            for (idx, now) in &replays {
                if idx.index(stream.len()) == i {
                    if *now { order.push(i) } else { tail.push(i) }
                }
            }
        }
        order.extend(tail);
        let run = |order: &[usize]| {
            let mut p = Pipeline::new(SqliteStore::open_in_memory().unwrap(), Collect::default());
            let mut first: HashMap<usize, (i64, workbench::engine::Verdict)> = HashMap::new();
            for &i in order {
                let done = p.process(&rules, &event(i), base).unwrap();
                let v = done.decision.verdict.clone();
                if let Some((id, stored)) = first.get(&i) {
                    assert!(done.replayed, "event {i} replayed");
                    assert_eq!((done.event_id, &v), (*id, stored));
                } else {
                    assert!(!done.replayed);
                    first.insert(i, (done.event_id, v));
                }
            }
            p.finish().unwrap();
            let conn = p.store.connection();
            let count = |sql: &str| conn.query_row(sql, [], |r| r.get::<_, i64>(0)).unwrap();
            (
                count("SELECT count(*) FROM events"),
                count("SELECT count(*) FROM decisions"),
                count("SELECT count(*) FROM send_requests"),
                p.provider.0.clone(),
            )
        };
        let plain: Vec<usize> = (0..stream.len()).collect();
        prop_assert_eq!(run(&plain), run(&order));
    }
}
