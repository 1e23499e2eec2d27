//! PostgreSQL group commit (issue #15): events share a transaction, a group's users are
//! locked up front in one order, and a failed event takes its whole group with it.

mod common;

use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use workbench::event::Event;
use workbench::pipeline::Pipeline;
use workbench::provider::Collect;
use workbench::rules::RuleSet;
use workbench::store::{Durability, PgStore, Store, StoreTx};

fn ts(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

fn event(user: &str, at: &str) -> Event {
    Event {
        user_id: user.into(),
        event_type: "signup_completed".into(),
        event_timestamp: ts(at),
        properties: serde_json::Map::new(),
        user_traits: serde_json::from_value(serde_json::json!({"marketing_opt_in": true})).ok(),
        idempotency_key: None,
    }
}

fn count(url: &str, table: &str) -> i64 {
    let mut c = postgres::Client::connect(url, postgres::NoTls).unwrap();
    c.query_one(&format!("SELECT COUNT(*) FROM {table}"), &[])
        .unwrap()
        .get(0)
}

#[test]
fn a_group_is_one_transaction_made_durable_when_full_or_flushed() {
    let Some(db) = common::pg::PgDb::new() else {
        return;
    };
    let rules = RuleSet::load(&common::root().join("rules/rules.yaml")).unwrap();
    let store = PgStore::connect(&db.url()).unwrap().batched(3);
    let mut p = Pipeline::new(store, Collect::default());
    for (user, at) in [("a", "2024-01-01T10:00:00Z"), ("b", "2024-01-01T10:00:01Z")] {
        let out = p.process(&rules, &event(user, at), ts(at)).unwrap();
        assert_eq!(
            out.decision.verdict.template_name.as_deref(),
            Some("WELCOME_EMAIL")
        );
    }
    // Not committed yet: another connection sees nothing, and nothing was delivered.
    assert_eq!(count(&db.url(), "events"), 0);
    assert!(p.provider.0.is_empty(), "{:?}", p.provider.0);
    p.finish().unwrap();
    assert_eq!(count(&db.url(), "events"), 2);
    assert_eq!(count(&db.url(), "decisions"), 2);
    assert_eq!(p.provider.0.len(), 2);

    // The third event of a group of three commits the group itself.
    for (i, user) in ["c", "d", "e"].into_iter().enumerate() {
        let at = format!("2024-01-01T11:00:0{i}Z");
        p.process(&rules, &event(user, &at), ts(&at)).unwrap();
    }
    assert_eq!(count(&db.url(), "events"), 5);
}

#[test]
fn an_event_that_fails_rolls_back_its_whole_group() {
    let Some(db) = common::pg::PgDb::new() else {
        return;
    };
    let mut store = PgStore::connect(&db.url()).unwrap().batched(10);
    let mut tx = store.begin().unwrap();
    tx.insert_event(
        &event("a", "2024-01-01T10:00:00Z"),
        ts("2024-01-01T10:00:00Z"),
    )
    .unwrap();
    assert_eq!(tx.commit().unwrap(), Durability::Pending);
    {
        let mut tx = store.begin().unwrap();
        tx.insert_event(
            &event("b", "2024-01-01T10:00:01Z"),
            ts("2024-01-01T10:00:01Z"),
        )
        .unwrap();
        // Dropped without committing: the event failed.
    }
    store.flush().unwrap();
    assert_eq!(
        count(&db.url(), "events"),
        0,
        "the group went with its failed event"
    );

    // The store goes on with a fresh group.
    let mut tx = store.begin().unwrap();
    tx.insert_event(
        &event("c", "2024-01-01T10:00:02Z"),
        ts("2024-01-01T10:00:02Z"),
    )
    .unwrap();
    tx.commit().unwrap();
    store.flush().unwrap();
    assert_eq!(count(&db.url(), "events"), 1);
}

/// Two groups holding the same users, listed in opposite orders, on two connections at the
/// same moment: each takes its users' locks in the one sorted order, so one waits for the
/// other instead of both waiting on each other (PostgreSQL would abort one with a deadlock).
#[test]
fn groups_that_share_users_in_opposite_orders_never_deadlock() {
    let Some(db) = common::pg::PgDb::new() else {
        return;
    };
    let users: Vec<String> = (0..200).map(|i| format!("user-{i}")).collect();
    let barrier = Arc::new(Barrier::new(2));
    let started = Instant::now();
    let workers: Vec<_> = [false, true]
        .into_iter()
        .map(|reverse| {
            let (url, barrier) = (db.url(), barrier.clone());
            let mut users = users.clone();
            if reverse {
                users.reverse();
            }
            // Each worker reports its failure instead of panicking, so neither is left
            // waiting on the other.
            std::thread::spawn(move || -> Result<(), String> {
                let mut store = PgStore::connect(&url).unwrap().batched(usize::MAX);
                barrier.wait();
                let names: Vec<&str> = users.iter().map(String::as_str).collect();
                store.lock_users(&names).map_err(|e| e.to_string())?;
                for user in &users {
                    let mut tx = store.begin().map_err(|e| e.to_string())?;
                    let at = "2024-01-01T10:00:00Z";
                    tx.insert_event(&event(user, at), ts(at))
                        .map_err(|e| e.to_string())?;
                    tx.commit().map_err(|e| e.to_string())?;
                }
                store.flush().map_err(|e| e.to_string())
            })
        })
        .collect();
    for w in workers {
        assert_eq!(w.join().unwrap(), Ok(()), "a group failed");
    }
    assert_eq!(count(&db.url(), "events"), 400);
    // Well under PostgreSQL's lock_timeout (10 s), which a wait cycle would run into.
    assert!(started.elapsed() < Duration::from_secs(10));
}
