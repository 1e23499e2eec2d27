//! PostgreSQL stopped and restarted under `workbench serve`: 503s while it is down, no lost or
//! doubled deliveries, and the service back without a restart. The server it stops is a
//! throwaway cluster of this test's own; it never touches any other (with `WORKBENCH_PG` set it
//! is skipped, saying so).

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use common::pg::PgDb;
use common::pg::dedicated_cluster;
use common::server::{rules_abs, start_in};
use serde_json::Value;

#[test]
fn the_service_rides_out_a_database_outage() {
    let Some(mut cluster) = dedicated_cluster("the_service_rides_out_a_database_outage") else {
        return;
    };
    let db = PgDb::on(&cluster.url());
    let server = Arc::new(
        start_in(
            tempfile::tempdir().unwrap(),
            &[
                "--port",
                "0",
                "--rules",
                &rules_abs(),
                "--messages",
                "messages.txt",
            ],
            &[("DATABASE_URL", &db.url()), ("DATABASE_POOL_SIZE", "2")],
        )
        .unwrap(),
    );
    let running = Arc::new(AtomicBool::new(true));
    let senders: Vec<_> = (0..4)
        .map(|t| {
            let (server, running) = (server.clone(), running.clone());
            std::thread::spawn(move || {
                let mut seen: Vec<(u16, Value)> = Vec::new();
                let mut i = 0;
                while running.load(Ordering::Relaxed) {
                    let body = format!(
                        r#"{{"user_id":"o{t}-{}","event_type":"signup_completed","event_timestamp":"2024-06-01T10:00:00Z","user_traits":{{"marketing_opt_in":true}}}}"#,
                        i % 40
                    );
                    seen.push(server.post("/events", &body));
                    i += 1;
                    std::thread::sleep(Duration::from_millis(5));
                }
                seen
            })
        })
        .collect();

    std::thread::sleep(Duration::from_millis(500));
    cluster.stop();
    std::thread::sleep(Duration::from_millis(1500));
    let (status, body) = server.get("/health");
    assert_eq!(status, 503, "health reports the database down: {body}");
    let down = Instant::now();
    cluster
        .restart()
        .expect("the test's own cluster starts again");
    let back = loop {
        if server.get("/health").0 == 200 {
            break Instant::now();
        }
        assert!(
            down.elapsed() < Duration::from_secs(30),
            "the service did not come back"
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    std::thread::sleep(Duration::from_millis(500));
    running.store(false, Ordering::Relaxed);
    let results: Vec<(u16, Value)> = senders
        .into_iter()
        .flat_map(|s| s.join().unwrap())
        .collect();
    let _ = back;

    let unavailable = results.iter().filter(|(s, _)| *s == 503).count();
    assert!(unavailable > 0, "requests during the outage got 503");
    assert!(
        results.iter().all(|(s, _)| *s == 200 || *s == 503),
        "never a 500"
    );
    assert!(
        results.iter().rev().take(4).any(|(s, _)| *s == 200),
        "answering again after"
    );
    for (s, v) in results.iter().filter(|(s, _)| *s == 503) {
        assert!(v["detail"].is_string(), "{s}: a JSON body: {v}");
    }

    let allowed: Vec<i64> = results
        .iter()
        .filter(|(s, v)| *s == 200 && v["outcome"] == "allow")
        .map(|(_, v)| v["event_id"].as_i64().unwrap())
        .collect();
    let mut c = postgres::Client::connect(&db.url(), postgres::NoTls).unwrap();
    let sent: Vec<i64> = c
        .query("SELECT event_id FROM send_requests ORDER BY event_id", &[])
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    for id in &allowed {
        assert!(
            sent.contains(id),
            "answered delivery {id} is in the database"
        );
    }
    let per_user: i64 = c
        .query_one("SELECT coalesce(max(n), 0) FROM (SELECT count(*) AS n FROM send_requests GROUP BY user_id) x", &[])
        .unwrap()
        .get(0);
    assert!(per_user <= 1, "a welcome email at most once per user");
    let lines = server.messages();
    let mut ids: Vec<i64> = lines
        .iter()
        .filter_map(|l| l.split(" | ").find_map(|f| f.strip_prefix("event_id=")))
        .map(|id| id.parse().unwrap())
        .collect();
    ids.sort_unstable();
    assert_eq!(ids, sent, "every delivery in messages.txt exactly once");
}
