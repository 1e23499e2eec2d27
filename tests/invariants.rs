//! Property tests over generated streams: suppression is never beaten, every event gets
//! exactly one decision, and reported outcomes match the rows written.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use chrono::{DateTime, Duration, Utc};
use proptest::prelude::*;
use serde_json::{Map, Value, json};
use workbench::engine::Outcome;
use workbench::event::Event;
use workbench::pipeline::Pipeline;
use workbench::provider::Collect;
use workbench::rules::{RuleSet, Suppression};
use workbench::store::SqliteStore;

fn rules() -> RuleSet {
    RuleSet::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("rules/rules.yaml")).unwrap()
}

fn arb_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        (0i64..6).prop_map(|n| json!(n)),
        (0i32..6).prop_map(|n| json!(f64::from(n))),
        (0i64..6).prop_map(|n| json!(n.to_string())),
        Just(json!(true)),
        Just(Value::Null),
    ]
}

fn arb_event() -> impl Strategy<Value = (Event, i64)> {
    let types = prop::sample::select(vec![
        "signup_completed",
        "link_bank_success",
        "payment_failed",
        "payment_failed",
        "payment_initiated",
        "app_opened",
    ]);
    let reasons =
        prop::sample::select(vec!["INSUFFICIENT_FUNDS", "CARD_DECLINED", "NETWORK_ERROR"]);
    (
        0u8..4,
        types,
        0i64..(4 * 24 * 60),
        reasons,
        arb_value(),
        prop::option::of(any::<bool>()),
        0i64..120,
    )
        .prop_map(|(user, t, minute, reason, attempt, opt_in, late)| {
            let base: DateTime<Utc> = "2025-10-01T00:00:00Z".parse().unwrap();
            let ts = base + Duration::minutes(minute);
            let mut props = Map::new();
            props.insert("failure_reason".into(), json!(reason));
            props.insert("attempt_number".into(), attempt);
            let traits =
                opt_in.map(|b| serde_json::from_value(json!({"marketing_opt_in": b})).unwrap());
            (
                Event {
                    user_id: format!("u{user}"),
                    event_type: t.into(),
                    event_timestamp: ts,
                    properties: props,
                    user_traits: traits,
                    idempotency_key: None,
                },
                late,
            )
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn suppression_holds_and_every_event_is_decided_once(
        stream in prop::collection::vec(arb_event(), 1..120)
    ) {
        let rules = rules();
        let mut pipeline = Pipeline::new(SqliteStore::open_in_memory().unwrap(), Collect::default());
        let mut outcomes: HashMap<Outcome, usize> = HashMap::new();
        let mut delivered: Vec<(String, String, DateTime<Utc>)> = Vec::new();
        let mut arrival: DateTime<Utc> = "2025-10-01T00:00:00Z".parse().unwrap();
        for (event, late) in &stream {
            arrival += Duration::minutes(*late);
            let p = pipeline.process(&rules, event, arrival).unwrap();
            *outcomes.entry(p.decision.verdict.outcome).or_default() += 1;
            if p.decision.verdict.delivers() {
                delivered.push((
                    event.user_id.clone(),
                    p.decision.verdict.template_name.clone().unwrap().to_string(),
                    event.event_timestamp,
                ));
            }
        }

        let mode: HashMap<&str, Suppression> =
            rules.rules.iter().map(|r| (&*r.action.template, r.suppression)).collect();
        let mut ever = HashSet::new();
        let mut daily = HashSet::new();
        for (user, template, ts) in &delivered {
            match mode[template.as_str()] {
                Suppression::OnceEver => prop_assert!(ever.insert((user, template)),
                    "{template} delivered twice ever to {user}"),
                Suppression::OncePerCalendarDay => prop_assert!(daily.insert((user, template, ts.date_naive())),
                    "{template} delivered twice to {user} on {}", ts.date_naive()),
                Suppression::None => {}
            }
        }

        let conn = pipeline.store.connection();
        let count = |sql: &str| -> usize {
            usize::try_from(conn.query_row(sql, [], |r| r.get::<_, i64>(0)).unwrap()).unwrap()
        };
        let n = stream.len();
        prop_assert_eq!(count("SELECT count(*) FROM events"), n);
        prop_assert_eq!(count("SELECT count(*) FROM decisions"), n);
        prop_assert_eq!(count("SELECT count(DISTINCT event_id) FROM decisions"), n);
        let get = |o| outcomes.get(&o).copied().unwrap_or(0);
        prop_assert_eq!(count("SELECT count(*) FROM send_requests"), get(Outcome::Allow) + get(Outcome::Alert));
        prop_assert_eq!(count("SELECT count(*) FROM suppressions"), get(Outcome::Suppress));
        prop_assert_eq!(pipeline.provider.0.len(), delivered.len());
        for o in [Outcome::Allow, Outcome::Suppress, Outcome::Alert, Outcome::None] {
            let sql = format!("SELECT count(*) FROM decisions WHERE outcome = '{o}'");
            prop_assert_eq!(count(&sql), get(o));
        }
    }

    #[test]
    fn the_same_stream_gives_the_same_decisions(stream in prop::collection::vec(arb_event(), 1..60)) {
        let rules = rules();
        let run = || {
            let mut p = Pipeline::new(SqliteStore::open_in_memory().unwrap(), Collect::default());
            let at: DateTime<Utc> = "2025-10-01T00:00:00Z".parse().unwrap();
            let verdicts: Vec<_> = stream
                .iter()
                .map(|(e, _)| p.process(&rules, e, at).unwrap().decision.verdict)
                .collect();
            (verdicts, p.provider.0)
        };
        prop_assert_eq!(run(), run());
    }
}
