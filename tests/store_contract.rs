//! The storage contract, run against both backends: SQLite and a real PostgreSQL server.

mod common;

use chrono::{DateTime, Utc};
use serde_json::json;
use workbench::engine::{Outcome, ReasonCode, Window, Zone};
use workbench::event::Event;
use workbench::pipeline::{DeliveryStatus, Pipeline};
use workbench::provider::Collect;
use workbench::rules::RuleSet;
use workbench::store::{Durability, PgStore, SendRequest, SqliteStore, Store, StoreTx};

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
        idempotency_key: None,
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
        .unwrap()
        .id();
    let b = tx
        .insert_event(
            &event("u", "signup_completed", "2024-01-02T10:00:00Z", json!({})),
            ts("2024-01-02T10:00:01Z"),
        )
        .unwrap()
        .id();
    let c = tx
        .insert_event(
            &event("v", "signup_completed", "2024-01-03T10:00:00Z", json!({})),
            ts("2024-01-03T10:00:01Z"),
        )
        .unwrap()
        .id();
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

/// An event whose traits name `zone` (or none).
fn zoned(user: &str, at: &str, zone: Option<&str>) -> Event {
    let traits = zone.map_or_else(|| json!({}), |z| json!({"timezone": z}));
    Event {
        user_id: user.into(),
        event_type: "nudge".into(),
        event_timestamp: ts(at),
        properties: serde_json::Map::new(),
        user_traits: serde_json::from_value(traits).ok(),
        idempotency_key: None,
    }
}

/// `latest_zone`: the user's latest earlier event, by arrival (not event time), whose
/// `user_traits.timezone` is a valid zone name spelled exactly; other names are skipped.
fn latest_zone_contract<S: Store>(store: &mut S) {
    let mut tx = store.begin().unwrap();
    let mut add = |user: &str, at: &str, zone: Option<&str>| {
        tx.insert_event(&zoned(user, at, zone), ts(at))
            .unwrap()
            .id()
    };
    let oslo = add("z", "2024-01-10T10:00:00Z", Some("Europe/Oslo"));
    let invalid = add("z", "2024-01-11T10:00:00Z", Some("Mars/Olympus_Mons"));
    let lowercase = add("z", "2024-01-12T10:00:00Z", Some("europe/london"));
    let none = add("z", "2024-01-13T10:00:00Z", None);
    // Arrives later, with an older event time: still the latest by arrival.
    let ny = add("z", "2024-01-01T10:00:00Z", Some("America/New_York"));
    let tokyo = add("y", "2024-01-14T10:00:00Z", Some("Asia/Tokyo"));
    add("z", "2024-01-14T11:00:00Z", Some("UTC+2"));
    let last = add("z", "2024-01-15T10:00:00Z", None);
    let zone = |name| Zone::parse(name).unwrap();
    assert_eq!(tx.latest_zone("z", oslo).unwrap(), None);
    for before in [invalid, lowercase, none, ny] {
        assert_eq!(
            tx.latest_zone("z", before).unwrap(),
            Some((oslo, zone("Europe/Oslo"))),
            "before {before}"
        );
    }
    assert_eq!(
        tx.latest_zone("z", last).unwrap(),
        Some((ny, zone("America/New_York"))),
        "neither another user's zone nor a later invalid name"
    );
    assert_eq!(tx.latest_zone("y", tokyo).unwrap(), None);
    assert_eq!(
        tx.latest_zone("y", last).unwrap(),
        Some((tokyo, zone("Asia/Tokyo")))
    );
    assert_eq!(tx.latest_zone("nobody", last).unwrap(), None);
    tx.commit().unwrap();
    store.flush().unwrap();
}

/// Quiet hours 21:00–08:00 (Europe/Oslo unless the event names a zone) that hold `nudge`.
fn quiet_rules() -> RuleSet {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("quiet.yaml");
    std::fs::write(&path, common::quiet::QUIET_RULES).unwrap();
    RuleSet::load(&path).unwrap()
}

/// `claim_due`, `next_due`, `scheduled_counts`: held sends are claimed once they are due, by
/// one store only (`other` is another connection to the same database, for another messages
/// file), oldest `deliver_at` first and then the lower event id; a claimed row is never
/// claimed again, and one not yet due stays.
fn claim_due_contract<S: Store, T: Store>(store: S, other: &mut T) {
    let rules = quiet_rules();
    let mut p = Pipeline::new(store, Collect::default());
    let mut held = |user: &str, at: &str, zone: Option<&str>| {
        let done = p.process(&rules, &zoned(user, at, zone), ts(at)).unwrap();
        (done.event_id, done.decision.verdict)
    };
    // 22:00 in New York: due at 13:00Z.
    let (late, v) = held("c", "2024-01-16T03:00:00Z", Some("America/New_York"));
    assert_eq!(v.reason_code, ReasonCode::Scheduled);
    assert_eq!(v.deliver_at, Some(ts("2024-01-16T13:00:00Z")));
    // 23:00 and 00:00 in Oslo: due at 07:00Z.
    let (a, _) = held("a", "2024-01-15T22:00:00Z", None);
    let (b, v) = held("b", "2024-01-15T23:00:00Z", None);
    assert_eq!(v.deliver_at, Some(ts("2024-01-16T07:00:00Z")));
    // A day earlier, decided last: due first.
    let (first, v) = held("d", "2024-01-14T22:00:00Z", None);
    assert_eq!(v.deliver_at, Some(ts("2024-01-15T07:00:00Z")));
    // 13:00 in Oslo: sent at once, never claimed.
    let (now, v) = held("e", "2024-01-15T12:00:00Z", None);
    assert_eq!((v.reason_code, v.deliver_at), (ReasonCode::Sent, None));
    p.finish().unwrap();
    let written: Vec<i64> = p
        .provider
        .0
        .iter()
        .map(|l| common::quiet::event_id_of(l))
        .collect();
    assert_eq!(written, [now], "held sends have no line when decided");
    let status = |p: &mut Pipeline<S, Collect>, user: &str| {
        p.store.audit(user, None).unwrap()[0].delivery_status
    };
    assert_eq!(status(&mut p, "a"), Some(DeliveryStatus::Scheduled));
    assert_eq!(status(&mut p, "e"), Some(DeliveryStatus::Delivered));

    let s = &mut p.store;
    assert_eq!(s.next_due().unwrap(), Some(ts("2024-01-15T07:00:00Z")));
    assert_eq!(
        s.scheduled_counts(ts("2024-01-15T06:59:59Z")).unwrap(),
        (4, 0)
    );
    assert_eq!(
        s.scheduled_counts(ts("2024-01-16T07:00:00Z")).unwrap(),
        (4, 3)
    );
    let ids = |(rows, durability): (Vec<SendRequest>, Durability)| -> Vec<i64> {
        assert_eq!(durability, Durability::Durable);
        rows.iter().map(|r| r.event_id).collect()
    };
    let none: [i64; 0] = [];
    assert_eq!(
        ids(s.claim_due(ts("2024-01-15T06:59:59Z"), 10).unwrap()),
        none
    );
    let morning = ts("2024-01-16T07:00:00Z");
    let (rows, _) = s.claim_due(morning, 2).unwrap();
    assert_eq!(
        rows.iter().map(|r| r.event_id).collect::<Vec<_>>(),
        [first, a]
    );
    assert_eq!(rows[1].deliver_at, Some(morning));
    assert_eq!(rows[1].user_id, "a");
    assert_eq!(&*rows[1].template_name, "NUDGE_EMAIL");
    assert_eq!(&*rows[1].rule, "nudge");
    // Claimed rows are not claimed again, by this store or another.
    assert_eq!(ids(other.claim_due(morning, 10).unwrap()), [b]);
    assert_eq!(ids(s.claim_due(morning, 10).unwrap()), none);
    assert_eq!(ids(other.claim_due(morning, 10).unwrap()), none);
    assert_eq!(s.scheduled_counts(morning).unwrap(), (1, 0));
    assert_eq!(s.next_due().unwrap(), Some(ts("2024-01-16T13:00:00Z")));
    // A claim is the claimer's to write: until marked, each store's recovery finds its own.
    let mut mine: Vec<i64> = s
        .undelivered()
        .unwrap()
        .iter()
        .map(|r| r.event_id)
        .collect();
    mine.sort_unstable();
    let mut want = vec![first, a];
    want.sort_unstable();
    assert_eq!(mine, want);
    let theirs: Vec<i64> = other
        .undelivered()
        .unwrap()
        .iter()
        .map(|r| r.event_id)
        .collect();
    assert_eq!(theirs, [b]);
    s.mark_delivered(&[first, a]).unwrap();
    assert!(s.undelivered().unwrap().is_empty());

    assert_eq!(
        ids(s.claim_due(ts("2024-01-17T00:00:00Z"), 10).unwrap()),
        [late]
    );
    assert_eq!(s.next_due().unwrap(), None);
    assert_eq!(
        s.scheduled_counts(ts("2024-01-17T00:00:00Z")).unwrap(),
        (0, 0)
    );
    assert_eq!(
        status(&mut p, "c"),
        Some(DeliveryStatus::Scheduled),
        "claimed, not written"
    );
}

#[test]
fn sqlite_store_contract() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = SqliteStore::open(&dir.path().join("c.db")).unwrap();
    events_and_lookups(&mut s);
    pipeline_contract(SqliteStore::open(&dir.path().join("d.db")).unwrap());
    pipeline_contract(SqliteStore::open_in_memory().unwrap().batched(2));
    latest_zone_contract(&mut SqliteStore::open(&dir.path().join("e.db")).unwrap());
    let f = dir.path().join("f.db");
    let one = SqliteStore::open(&f).unwrap().with_outbox("one.txt");
    let mut two = SqliteStore::open(&f).unwrap().with_outbox("two.txt");
    claim_due_contract(one, &mut two);
}

#[test]
fn postgres_store_contract() {
    let Some(db) = common::pg::PgDb::new() else {
        return;
    };
    let mut s = PgStore::connect(&db.url()).unwrap();
    // Both backends migrate to the same, latest version.
    let known = SqliteStore::open_in_memory().unwrap().version().unwrap();
    assert_eq!(s.version().unwrap(), known);
    events_and_lookups(&mut s);
    let db2 = common::pg::PgDb::new().unwrap();
    pipeline_contract(PgStore::connect(&db2.url()).unwrap());
    let db3 = common::pg::PgDb::new().unwrap();
    latest_zone_contract(&mut PgStore::connect(&db3.url()).unwrap());
    let db4 = common::pg::PgDb::new().unwrap();
    let one = PgStore::connect(&db4.url()).unwrap().with_outbox("one.txt");
    let mut two = PgStore::connect(&db4.url()).unwrap().with_outbox("two.txt");
    claim_due_contract(one, &mut two);
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
    let known = SqliteStore::open_in_memory().unwrap().version().unwrap();
    assert!(
        err.contains(&format!(
            "schema version 99 is newer than this binary knows ({known})"
        )),
        "{err}"
    );
}
