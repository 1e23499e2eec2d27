//! `workbench serve` never lets concurrent requests beat a frequency cap: 64 clients posting
//! one user's marketing events at once, on SQLite and across two PostgreSQL instances on one
//! database, give at most `max` deliveries in the cap's window.

mod common;

use std::path::Path;
use std::sync::Arc;

use common::pg::PgDb;
use common::server::{Server, start_in};
use serde_json::Value;

const RULES: &str = "frequency_caps:
  - {name: marketing_per_day, max: 3, window: calendar_day, calendar: utc}
rules:
  - name: promo
    trigger: {event_type: promo_seen}
    action: {type: send, template_name: PROMO, delivery_method: email}
templates:
  PROMO: \"A deal for you\"
";

fn rules_file(dir: &Path) -> String {
    let path = dir.join("capped.yaml");
    std::fs::write(&path, RULES).unwrap();
    path.display().to_string()
}

/// 64 clients at once, one user, one UTC day: returns every answer.
fn race(servers: &[Arc<Server>]) -> Vec<(u16, Value)> {
    let handles: Vec<_> = (0..64)
        .map(|i| {
            let s = servers[i % servers.len()].clone();
            std::thread::spawn(move || {
                let body = format!(
                    r#"{{"user_id":"shared","event_type":"promo_seen","event_timestamp":"2025-05-01T{:02}:{:02}:00Z"}}"#,
                    i % 24,
                    i % 60
                );
                s.post("/events", &body)
            })
        })
        .collect();
    handles.into_iter().map(|h| h.join().unwrap()).collect()
}

fn check(results: &[(u16, Value)]) {
    assert!(results.iter().all(|(s, _)| *s == 200), "{results:?}");
    let allowed = results
        .iter()
        .filter(|(_, v)| v["outcome"] == "allow")
        .count();
    let capped = results
        .iter()
        .filter(|(_, v)| v["reason_code"] == "suppressed_frequency_cap")
        .count();
    assert_eq!((allowed, capped), (3, 61), "{results:?}");
}

#[test]
fn sixty_four_clients_never_beat_a_cap_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let rules = rules_file(dir.path());
    let db = format!("sqlite:///{}", dir.path().join("m.db").display());
    let s = start_in(
        dir,
        &[
            "--port",
            "0",
            "--database-url",
            &db,
            "--rules",
            &rules,
            "--messages",
            "messages.txt",
        ],
        &[],
    )
    .unwrap();
    let s = Arc::new(s);
    check(&race(std::slice::from_ref(&s)));
    assert_eq!(s.messages().len(), 3);
}

#[test]
fn sixty_four_clients_across_two_postgres_instances_never_beat_a_cap() {
    let Some(db) = PgDb::new() else {
        return;
    };
    let rules_dir = tempfile::tempdir().unwrap();
    let rules = rules_file(rules_dir.path());
    let instance = || {
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
            &[("DATABASE_URL", &db.url()), ("DATABASE_POOL_SIZE", "4")],
        )
        .unwrap()
    };
    let (a, b) = (Arc::new(instance()), Arc::new(instance()));
    check(&race(&[a.clone(), b.clone()]));
    assert_eq!(a.messages().len() + b.messages().len(), 3);
    let mut c = postgres::Client::connect(&db.url(), postgres::NoTls).unwrap();
    let n: i64 = c
        .query_one("SELECT count(*) FROM send_requests", &[])
        .unwrap()
        .get(0);
    assert_eq!(n, 3);
}
