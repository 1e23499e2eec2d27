//! The storage contract, run against both backends: SQLite and a real PostgreSQL server.

mod common;

use chrono::{DateTime, Utc};
use serde_json::json;
use workbench::engine::{Outcome, Window};
use workbench::event::Event;
use workbench::pipeline::Pipeline;
use workbench::provider::Collect;
use workbench::rules::RuleSet;
use workbench::store::{PgStore, SqliteStore, Store, StoreTx};

fn ts(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

#[allow(clippy::needless_pass_by_value)] // fixtures are built inline with `json!`
fn event(user: &str, kind: &str, at: &str, props: serde_json::Value) -> Event {
    Event {
        user_id: user.into(),
        event_type: kind.into(),
        event_timestamp: ts(at),
        properties: props.as_object().cloned().unwrap_or_default(),
        user_traits: serde_json::from_value(
            json!({"email": "a@b", "marketing_opt_in": true, "tier": 2}),
        )
        .ok(),
    }
}

fn rules() -> RuleSet {
    RuleSet::load(&common::root().join("rules/rules.yaml")).unwrap()
}

/// Stored events come back as sent; lookups see only what came before.
fn events_and_lookups<S: Store>(store: &mut S) {
    let mut tx = store.begin().unwrap();
    let a = tx
        .insert_event(
            &event(
                "u",
                "signup_completed",
                "2024-01-01T10:00:00Z",
                json!({"x": {"y": 1}}),
            ),
            ts("2024-01-01T10:00:01Z"),
        )
        .unwrap();
    let b = tx
        .insert_event(
            &event("u", "signup_completed", "2024-01-02T10:00:00Z", json!({})),
            ts("2024-01-02T10:00:01Z"),
        )
        .unwrap();
    let c = tx
        .insert_event(
            &event("v", "signup_completed", "2024-01-03T10:00:00Z", json!({})),
            ts("2024-01-03T10:00:01Z"),
        )
        .unwrap();
    assert!(a < b && b < c);
    let back = tx.load_event(a).unwrap().unwrap();
    assert_eq!(
        back,
        event(
            "u",
            "signup_completed",
            "2024-01-01T10:00:00Z",
            json!({"x": {"y": 1}})
        )
    );
    assert_eq!(tx.load_event(9_999_999).unwrap(), None);
    assert_eq!(
        tx.latest_prior("u", "signup_completed", c)
            .unwrap()
            .unwrap()
            .event_id,
        b
    );
    assert_eq!(
        tx.latest_prior("u", "signup_completed", b)
            .unwrap()
            .unwrap()
            .event_id,
        a
    );
    assert_eq!(tx.latest_prior("u", "signup_completed", a).unwrap(), None);
    assert_eq!(tx.latest_prior("u", "other", c).unwrap(), None);
    assert!(
        tx.find_delivery("u", "T", Window::Ever, c)
            .unwrap()
            .is_none()
    );
    tx.commit().unwrap();
    store.flush().unwrap();
}

/// The pipeline on the store: decisions, deliveries, suppression windows, audit, outbox.
fn pipeline_contract<S: Store>(store: S) {
    let rules = rules();
    let mut p = Pipeline::new(store, Collect::default());
    let pf = |at: &str| {
        event(
            "w",
            "payment_failed",
            at,
            json!({"failure_reason": "INSUFFICIENT_FUNDS", "attempt_number": 1}),
        )
    };
    let o1 = p
        .process(
            &rules,
            &pf("2024-02-01T09:00:00Z"),
            ts("2024-02-01T09:00:00Z"),
        )
        .unwrap();
    let o2 = p
        .process(
            &rules,
            &pf("2024-02-01T23:59:59Z"),
            ts("2024-02-02T00:00:00Z"),
        )
        .unwrap();
    let o3 = p
        .process(
            &rules,
            &pf("2024-02-02T00:00:00Z"),
            ts("2024-02-02T00:00:01Z"),
        )
        .unwrap();
    p.finish().unwrap();
    assert_eq!(o1.decision.verdict.outcome, Outcome::Allow);
    assert_eq!(o2.decision.verdict.outcome, Outcome::Suppress);
    assert_eq!(o3.decision.verdict.outcome, Outcome::Allow, "a new UTC day");
    assert_eq!(p.provider.0.len(), 2);
    let audit = p.store.audit("w", None).unwrap();
    assert_eq!(
        audit
            .iter()
            .map(|a| a.verdict.outcome.as_str())
            .collect::<Vec<_>>(),
        ["allow", "suppress", "allow"]
    );
    assert_eq!(
        audit[1].decision_timestamp.to_rfc3339(),
        "2024-02-02T00:00:00+00:00"
    );
    let last = p.store.audit("w", Some(1)).unwrap();
    assert_eq!(last.len(), 1);
    assert_eq!(last[0].event_id, o3.event_id);
    assert!(p.store.audit("nobody", None).unwrap().is_empty());
    assert!(
        p.store.undelivered().unwrap().is_empty(),
        "delivered lines are marked"
    );
    let mut seen = Vec::new();
    p.store
        .recorded(Some("w"), &mut |r| {
            seen.push((r.event_id, r.decision.verdict.outcome));
            Ok(())
        })
        .unwrap();
    assert_eq!(seen.len(), 3);
    assert_eq!(seen[0], (o1.event_id, workbench::engine::Outcome::Allow));
}

#[test]
fn sqlite_store_contract() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = SqliteStore::open(&dir.path().join("c.db")).unwrap();
    events_and_lookups(&mut s);
    pipeline_contract(SqliteStore::open(&dir.path().join("d.db")).unwrap());
    pipeline_contract(SqliteStore::open_in_memory().unwrap().batched(2));
}

#[test]
fn postgres_store_contract() {
    let Some(db) = common::pg::PgDb::new() else {
        return;
    };
    let mut s = PgStore::connect(&db.url()).unwrap();
    assert_eq!(s.version().unwrap(), 4);
    events_and_lookups(&mut s);
    let db2 = common::pg::PgDb::new().unwrap();
    pipeline_contract(PgStore::connect(&db2.url()).unwrap());
}

#[test]
fn postgres_refuses_a_newer_schema() {
    let Some(db) = common::pg::PgDb::new() else {
        return;
    };
    drop(PgStore::connect(&db.url()).unwrap());
    let mut c = postgres::Client::connect(&db.url(), postgres::NoTls).unwrap();
    c.batch_execute("UPDATE schema_version SET version = 99")
        .unwrap();
    let err = PgStore::connect(&db.url()).err().unwrap().to_string();
    assert!(
        err.contains("schema version 99 is newer than this binary knows (4)"),
        "{err}"
    );
}
