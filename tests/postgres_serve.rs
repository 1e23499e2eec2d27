//! `workbench serve` on PostgreSQL: two instances on one database, against a real server (the
//! test binary's throwaway cluster, or `WORKBENCH_PG`).

mod common;

use std::sync::Arc;

use common::pg::PgDb;
use common::quiet::{Quiet, line_time, lines_by_event, nudge, wait_until};
use common::server::{Server, rules_abs, start_in};
use serde_json::Value;

/// An instance on `db` with the quiet rules and the clock of `q`.
fn scheduling_instance(db: &PgDb, q: &Quiet) -> Server {
    let rules = q.rules().display().to_string();
    let (k, v) = q.env();
    start_in(
        tempfile::tempdir().unwrap(),
        &[
            "--port",
            "0",
            "--rules",
            &rules,
            "--messages",
            "messages.txt",
        ],
        &[
            ("DATABASE_URL", &db.url()),
            ("DATABASE_POOL_SIZE", "4"),
            (k, &v),
        ],
    )
    .unwrap()
}

#[test]
fn two_instances_deliver_each_scheduled_send_once_between_them() {
    let Some(db) = PgDb::new() else {
        return;
    };
    let q = Quiet::new("2024-01-15T12:00:00Z");
    let a = scheduling_instance(&db, &q);
    let b = scheduling_instance(&db, &q);
    // Five nights of held sends (23:00 in Oslo: due at 07:00Z the next morning), posted to
    // either instance.
    let nights = 5;
    let per_night = 8;
    let mut due = std::collections::BTreeMap::new();
    for night in 0..nights {
        for i in 0..per_night {
            let s = if i % 2 == 0 { &a } else { &b };
            let body = nudge(
                &format!("n{night}-{i}"),
                &format!("2024-01-{}T22:{i:02}:00Z", 15 + night),
                None,
            );
            let (status, v) = s.post("/events", &body);
            assert_eq!(status, 200, "{v}");
            assert_eq!(v["delivery_status"], "scheduled", "{v}");
            due.insert(
                v["event_id"].as_i64().unwrap(),
                format!("2024-01-{}T07:00:00Z", 16 + night),
            );
        }
    }
    let total = nights * per_night;
    for s in [&a, &b] {
        let (status, h) = s.get_json("/health");
        assert_eq!(status, 200, "{h}");
        assert_eq!(
            (h["scheduled"].as_u64(), h["overdue"].as_u64()),
            (Some(total), Some(0))
        );
    }
    assert!(a.messages().is_empty() && b.messages().is_empty());

    // Morning after morning: both instances look for due sends every 250 ms.
    for night in 0..nights {
        q.set_clock(&format!("2024-01-{}T07:00:00Z", 16 + night));
        std::thread::sleep(std::time::Duration::from_millis(300));
    }
    let files = [a.path().join("messages.txt"), b.path().join("messages.txt")];
    let written = || -> usize { files.iter().map(|f| lines_by_event(f).len()).sum() };
    wait_until(
        std::time::Duration::from_secs(15),
        "every scheduled line",
        || written() >= usize::try_from(total).unwrap(),
    );
    std::thread::sleep(std::time::Duration::from_millis(800));
    let (in_a, in_b) = (lines_by_event(&files[0]), lines_by_event(&files[1]));
    for (id, at) in &due {
        let lines: Vec<&String> = in_a
            .get(id)
            .into_iter()
            .chain(in_b.get(id))
            .flatten()
            .collect();
        assert_eq!(lines.len(), 1, "event {id}: {lines:?}");
        assert_eq!(line_time(lines[0]), at);
    }
    assert_eq!(in_a.len() + in_b.len(), due.len());
    let (_, h) = b.get_json("/health");
    assert_eq!(
        (h["scheduled"].as_u64(), h["overdue"].as_u64()),
        (Some(0), Some(0))
    );
    let mut c = postgres::Client::connect(&db.url(), postgres::NoTls).unwrap();
    let undelivered: i64 = c
        .query_one(
            "SELECT count(*) FROM send_requests WHERE NOT delivered",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(undelivered, 0);
}

#[test]
fn the_sends_a_killed_instance_held_are_delivered_by_another() {
    let Some(db) = PgDb::new() else {
        return;
    };
    let q = Quiet::new("2024-01-15T23:00:00Z");
    let mut a = scheduling_instance(&db, &q);
    let mut ids = Vec::new();
    for i in 0..6 {
        let (status, v) = a.post(
            "/events",
            &nudge(&format!("k{i}"), &format!("2024-01-15T22:{i:02}:00Z"), None),
        );
        assert_eq!(
            (status, &v["delivery_status"]),
            (200, &Value::from("scheduled"))
        );
        ids.push(v["event_id"].as_i64().unwrap());
    }
    a.child.kill().unwrap();
    a.child.wait().unwrap();
    let b = scheduling_instance(&db, &q);
    q.set_clock("2024-01-16T07:00:00Z");
    let file = b.path().join("messages.txt");
    wait_until(
        std::time::Duration::from_secs(10),
        "the killed instance's sends",
        || lines_by_event(&file).len() == ids.len(),
    );
    std::thread::sleep(std::time::Duration::from_millis(800));
    let lines = lines_by_event(&file);
    assert_eq!(lines.keys().copied().collect::<Vec<_>>(), ids);
    assert!(lines.values().all(|l| l.len() == 1), "{lines:?}");
    assert!(a.messages().is_empty());
}

fn instance(db: &PgDb) -> Server {
    let dir = tempfile::tempdir().unwrap();
    start_in(
        dir,
        &[
            "--port",
            "0",
            "--rules",
            &rules_abs(),
            "--messages",
            "messages.txt",
        ],
        &[("DATABASE_URL", &db.url()), ("DATABASE_POOL_SIZE", "4")],
    )
    .unwrap()
}

#[test]
fn two_instances_never_beat_suppression_together() {
    let Some(db) = PgDb::new() else {
        return;
    };
    let a = Arc::new(instance(&db));
    let b = Arc::new(instance(&db));
    assert_eq!(a.get_json("/health").0, 200);
    let clients = 32;
    let handles: Vec<_> = (0..clients)
        .map(|i| {
            let s = if i % 2 == 0 { a.clone() } else { b.clone() };
            std::thread::spawn(move || {
                let body = format!(
                    r#"{{"user_id":"shared","event_type":"payment_failed","event_timestamp":"2024-05-01T{:02}:{:02}:00Z","properties":{{"failure_reason":"INSUFFICIENT_FUNDS","attempt_number":1}}}}"#,
                    i % 24,
                    i % 60
                );
                s.post("/events", &body)
            })
        })
        .collect();
    let results: Vec<(u16, Value)> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    assert!(results.iter().all(|(s, _)| *s == 200), "{results:?}");
    assert_eq!(
        results
            .iter()
            .filter(|(_, v)| v["outcome"] == "allow")
            .count(),
        1,
        "{results:?}"
    );

    let mut c = postgres::Client::connect(&db.url(), postgres::NoTls).unwrap();
    let mut n = |sql: &str| -> i64 { c.query_one(sql, &[]).unwrap().get(0) };
    assert_eq!(n("SELECT count(*) FROM send_requests"), 1);
    assert_eq!(n("SELECT count(*) FROM decisions"), clients);
    assert_eq!(n("SELECT count(*) FROM suppressions"), clients - 1);
    assert_eq!(
        a.messages().len() + b.messages().len(),
        1,
        "one line across both instances"
    );

    // The audit is the same from either instance, in processing order.
    let (_, from_a) = a.get_json("/audit/shared");
    let (_, from_b) = b.get_json("/audit/shared");
    assert_eq!(from_a, from_b);
    assert_eq!(
        from_a["decisions"].as_array().unwrap().len(),
        usize::try_from(clients).unwrap()
    );

    // And the history exports from PostgreSQL like from SQLite.
    let r = common::workbench(&["import", "--db", &db.url(), "--user", "shared"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stdout.lines().count(), usize::try_from(clients).unwrap());
}

#[test]
fn a_postgres_url_that_does_not_answer_stops_the_start() {
    let dir = tempfile::tempdir().unwrap();
    let err = start_in(
        dir,
        &["--port", "0", "--rules", &rules_abs()],
        &[(
            "DATABASE_URL",
            "postgres://postgres:secret@127.0.0.1:1/none",
        )],
    )
    .err()
    .unwrap();
    assert!(
        err.contains("database `postgres://postgres:***@127.0.0.1:1/none`"),
        "{err}"
    );
    // Said once, on one line starting `error:` (its causes are not repeated).
    let lines: Vec<&str> = err.lines().filter(|l| l.contains("127.0.0.1:1")).collect();
    assert_eq!(lines.len(), 1, "{err}");
    assert_eq!(lines[0].matches("error: database").count(), 1, "{err}");
    assert_eq!(lines[0].matches("Connection refused").count(), 1, "{err}");
}
