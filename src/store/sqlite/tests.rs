use super::*;
use crate::store::{Durability, StoreTx};

#[test]
fn migrates_fresh_and_refuses_newer_schemas() {
    let s = SqliteStore::open_in_memory().unwrap();
    assert_eq!(s.version().unwrap(), MIGRATIONS.len() as i64);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("x.db");
    {
        let s = SqliteStore::open(&path).unwrap();
        s.connection()
            .pragma_update(None, "user_version", 99)
            .unwrap();
    }
    match SqliteStore::open(&path) {
        Err(StoreError::TooNew { found: 99, .. }) => {}
        other => panic!("expected TooNew, got {:?}", other.err()),
    }
}

fn event(user: &str) -> Event {
    Event {
        user_id: user.into(),
        event_type: "x".into(),
        event_timestamp: "2024-01-15T10:30:00Z".parse().unwrap(),
        properties: Default::default(),
        user_traits: None,
    }
}

#[test]
fn an_uncommitted_event_leaves_nothing_behind() {
    let at = "2024-01-15T10:30:00Z".parse().unwrap();
    let put = |s: &mut SqliteStore, user: &str| -> Durability {
        let mut tx = s.begin().unwrap();
        tx.insert_event(&event(user), at).unwrap();
        tx.commit().unwrap()
    };
    let fail = |s: &mut SqliteStore| {
        let mut tx = s.begin().unwrap();
        tx.insert_event(&event("b"), at).unwrap();
        // dropped without commit: an error happened mid-event
    };

    let mut plain = SqliteStore::open_in_memory().unwrap();
    assert_eq!(put(&mut plain, "a"), Durability::Durable);
    fail(&mut plain);
    assert_eq!(put(&mut plain, "c"), Durability::Durable);
    assert_eq!(users(&plain), ["a", "c"]);

    // In a group, a failure discards the whole open group, which was never durable.
    let mut grouped = SqliteStore::open_in_memory().unwrap().batched(2);
    assert_eq!(put(&mut grouped, "a"), Durability::Pending);
    assert_eq!(put(&mut grouped, "a2"), Durability::Durable);
    assert_eq!(put(&mut grouped, "x"), Durability::Pending);
    fail(&mut grouped);
    assert_eq!(put(&mut grouped, "c"), Durability::Pending);
    grouped.flush().unwrap();
    assert_eq!(users(&grouped), ["a", "a2", "c"]);
}

fn users(s: &SqliteStore) -> Vec<String> {
    s.connection()
        .prepare("SELECT user_id FROM events ORDER BY id")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}
