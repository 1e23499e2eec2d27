use super::*;
use crate::store::migrations::MIGRATIONS;
use crate::store::{Durability, StoreTx};

#[test]
fn migrates_fresh_and_refuses_newer_schemas() {
    let s = SqliteStore::open_in_memory().unwrap();
    assert_eq!(
        s.version().unwrap(),
        i64::try_from(MIGRATIONS.len()).unwrap()
    );
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
        properties: serde_json::Map::default(),
        user_traits: None,
        idempotency_key: None,
    }
}

#[test]
fn an_uncommitted_event_leaves_nothing_behind() {
    let at = "2024-01-15T10:30:00Z".parse().unwrap();
    let put = |s: &mut SqliteStore, user: &str| -> Durability {
        let mut tx = s.begin().unwrap();
        tx.insert_event(&event(user), at).unwrap().id();
        tx.commit().unwrap()
    };
    let fail = |s: &mut SqliteStore| {
        let mut tx = s.begin().unwrap();
        tx.insert_event(&event("b"), at).unwrap().id();
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

#[test]
fn windows_hold_on_the_last_day_of_9999() {
    use crate::engine::Window;
    let mut s = SqliteStore::open_in_memory().unwrap();
    let mut e = event("u");
    e.event_timestamp = "9999-12-31T23:59:59Z".parse().unwrap();
    let mut tx = s.begin().unwrap();
    let id = tx.insert_event(&e, e.event_timestamp).unwrap().id();
    tx.conn
        .execute(
            "INSERT INTO send_requests (id, user_id, event_id, event_timestamp, template_name,
                channel, reason, created_at, event_us)
             VALUES (?1, 'u', ?1, '9999-12-31T23:59:59Z', 'T', 'email', 'rule:r', 'x', ?2)",
            params![id, micros(e.event_timestamp)],
        )
        .unwrap();
    let day = Window::utc_day(e.event_timestamp);
    let found = tx.find_delivery("u", "T", day, id + 1).unwrap();
    assert_eq!(found.map(|d| d.event_id), Some(id));
    let before = Window::utc_day("9999-12-30T00:00:00Z".parse().unwrap());
    assert_eq!(tx.find_delivery("u", "T", before, id + 1).unwrap(), None);
}

#[test]
fn a_database_poisoned_before_the_limits_is_migrated_and_readable() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.db");
    {
        // A version-2 database holding what older binaries accepted: a year past 9999.
        let conn = Connection::open(&path).unwrap();
        for m in &MIGRATIONS[..2] {
            conn.execute_batch(m.sqlite).unwrap();
        }
        conn.pragma_update(None, "user_version", 2).unwrap();
        conn.execute_batch(
            "INSERT INTO events VALUES (1, 'u', 'x', '+10000-01-01T00:59:59Z', '{}', '+10000-01-01T00:59:59Z');
             INSERT INTO send_requests VALUES (1, 'u', 1, '+10000-01-01T00:59:59Z', 'T', 'email',
                'rule:r', '2024-01-01T00:00:00Z', 0, '');
             INSERT INTO events VALUES (2, 'u', 'x', '2024-01-15T10:30:00.25Z', '{}', '2024-01-15T10:30:00Z');
             INSERT INTO send_requests VALUES (2, 'u', 2, '2024-01-15T10:30:00.25Z', 'T', 'email',
                'rule:r', '2024-01-15T10:30:00Z', 1, '');",
        )
        .unwrap();
    }
    let mut s = SqliteStore::open(&path).unwrap();
    assert_eq!(
        s.version().unwrap(),
        i64::try_from(MIGRATIONS.len()).unwrap()
    );
    let us: Vec<i64> = s
        .connection()
        .prepare("SELECT event_us FROM send_requests ORDER BY id")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(us, [253_402_304_399_000_000, 1_705_314_600_250_000]);
    let undelivered = s.undelivered().unwrap();
    assert_eq!(undelivered.len(), 1);
    let mut tx = s.begin().unwrap();
    assert!(tx.load_event(1).unwrap().is_some());
}
