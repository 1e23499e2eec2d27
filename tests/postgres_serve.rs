//! `workbench serve` on PostgreSQL: two instances on one database, against a real server (the
//! test binary's throwaway cluster, or `WORKBENCH_PG`).

mod common;

use std::sync::Arc;

use common::pg::PgDb;
use common::server::{Server, rules_abs, start_in};
use serde_json::Value;

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
