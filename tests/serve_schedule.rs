//! Scheduled sends under `workbench serve` on SQLite: held by quiet hours, written by the
//! background scheduler when the service's clock (the `WORKBENCH_CLOCK_FILE` test hook)
//! reaches their `deliver_at`, exactly once, also across a SIGKILL and a restart.

mod common;

use std::time::Duration;

use common::quiet::{Quiet, event_id_of, line_time, lines_by_event, nudge, wait_until};
use common::server::{Server, count, start_in};
use serde_json::{Value, json};

/// `serve` on `m.db` and `messages.txt` in `dir`, with the quiet rules and clock of `q`.
fn start(q: &Quiet, dir: tempfile::TempDir) -> Server {
    let db = format!("sqlite:///{}", dir.path().join("m.db").display());
    let rules = q.rules().display().to_string();
    let (k, v) = q.env();
    start_in(
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
        &[(k, &v)],
    )
    .unwrap()
}

fn post(s: &Server, body: &str) -> Value {
    let (status, v) = s.post("/events", body);
    assert_eq!(status, 200, "{body}: {v}");
    v
}

fn health(s: &Server) -> Value {
    let (status, v) = s.get_json("/health");
    assert_eq!(status, 200, "{v}");
    v
}

const SETTLE: Duration = Duration::from_millis(800);
const LIMIT: Duration = Duration::from_secs(10);

#[test]
fn held_sends_are_written_once_when_the_clock_reaches_deliver_at() {
    let q = Quiet::new("2024-01-15T22:30:05Z");
    let s = start(&q, tempfile::tempdir().unwrap());
    let path = s.path().join("messages.txt");

    // 23:00 and 22:00 in Oslo: held until 08:00 Oslo (07:00Z).
    let a = post(&s, &nudge("ana", "2024-01-15T22:00:00Z", None));
    let b = post(&s, &nudge("bo", "2024-01-15T21:00:00Z", None));
    // 22:00 in New York: held until 08:00 New York (13:00Z); the user's next event, without a
    // zone of its own, is judged in the zone the user gave last.
    let c = post(
        &s,
        &nudge("cy", "2024-01-16T03:00:00Z", Some("America/New_York")),
    );
    let d = post(&s, &nudge("cy", "2024-01-16T04:00:00Z", None));
    // 13:00 in Oslo: sent at once.
    let e = post(&s, &nudge("dee", "2024-01-15T12:00:00Z", None));

    for (v, at) in [
        (&a, "2024-01-16T07:00:00Z"),
        (&b, "2024-01-16T07:00:00Z"),
        (&c, "2024-01-16T13:00:00Z"),
        (&d, "2024-01-16T13:00:00Z"),
    ] {
        assert_eq!(v["outcome"], "allow", "{v}");
        assert_eq!(v["reason_code"], "scheduled", "{v}");
        assert_eq!(v["delivery_status"], "scheduled", "{v}");
        assert_eq!(v["deliver_at"], at, "{v}");
    }
    assert_eq!(
        (&e["reason_code"], &e["delivery_status"], &e["deliver_at"]),
        (&json!("sent"), &json!("delivered"), &Value::Null),
        "{e}"
    );
    let id = |v: &Value| v["event_id"].as_i64().unwrap();
    let (a, b, c, d, e) = (id(&a), id(&b), id(&c), id(&d), id(&e));

    // The decision time is the service's clock.
    let (_, audit) = s.get_json("/audit/ana");
    let entry = &audit["decisions"][0];
    assert_eq!(entry["decision_timestamp"], "2024-01-15T22:30:05Z");
    assert_eq!(entry["delivery_status"], "scheduled");
    assert_eq!(entry["deliver_at"], "2024-01-16T07:00:00Z");
    assert_eq!(
        health(&s),
        json!({"status": "ok", "unwritten_messages": 0, "scheduled": 4, "overdue": 0})
    );
    // Nothing is written before it is due.
    std::thread::sleep(SETTLE);
    assert_eq!(
        lines_by_event(&path).keys().copied().collect::<Vec<_>>(),
        [e]
    );

    q.set_clock("2024-01-16T07:00:00Z");
    wait_until(LIMIT, "the 07:00Z sends", || {
        lines_by_event(&path).len() == 3
    });
    assert_eq!(
        health(&s),
        json!({"status": "ok", "unwritten_messages": 0, "scheduled": 2, "overdue": 0})
    );
    let (_, audit) = s.get_json("/audit/ana");
    assert_eq!(audit["decisions"][0]["delivery_status"], "delivered");
    assert_eq!(audit["decisions"][0]["reason_code"], "scheduled");
    let (_, audit) = s.get_json("/audit/cy");
    assert_eq!(audit["decisions"][0]["delivery_status"], "scheduled");

    q.set_clock("2024-01-16T13:00:00Z");
    wait_until(LIMIT, "the 13:00Z sends", || {
        lines_by_event(&path).len() == 5
    });
    std::thread::sleep(SETTLE);
    let lines = lines_by_event(&path);
    assert!(
        lines.values().all(|l| l.len() == 1),
        "a line twice: {lines:?}"
    );
    for (event, at) in [
        (a, "2024-01-16T07:00:00Z"),
        (b, "2024-01-16T07:00:00Z"),
        (c, "2024-01-16T13:00:00Z"),
        (d, "2024-01-16T13:00:00Z"),
        (e, "2024-01-15T12:00:00Z"),
    ] {
        assert_eq!(line_time(&lines[&event][0]), at, "{lines:?}");
    }
    // In due order: oldest deliver_at first, then the lower event id.
    let order: Vec<i64> = s.messages().iter().map(|l| event_id_of(l)).collect();
    assert_eq!(order, [e, a, b, c, d]);
    assert_eq!(
        health(&s),
        json!({"status": "ok", "unwritten_messages": 0, "scheduled": 0, "overdue": 0})
    );
    let conn = s.db();
    assert_eq!(
        count(
            &conn,
            "SELECT count(*) FROM send_requests WHERE delivered = 0"
        ),
        0
    );
    let (status, _) = s.stop();
    assert!(status.success(), "{status}");
}

#[test]
fn sends_due_while_killed_are_written_once_after_the_restart() {
    let q = Quiet::new("2024-01-15T22:30:05Z");
    let mut s = start(&q, tempfile::tempdir().unwrap());
    let path = s.path().join("messages.txt");
    let mut held = Vec::new();
    for i in 0..8 {
        let v = post(
            &s,
            &nudge(
                &format!("k{i}"),
                &format!("2024-01-15T2{}:00:00Z", i % 3),
                None,
            ),
        );
        assert_eq!(v["delivery_status"], "scheduled", "{v}");
        held.push(v["event_id"].as_i64().unwrap());
    }
    let now = post(&s, &nudge("day", "2024-01-15T12:00:00Z", None));
    let now = now["event_id"].as_i64().unwrap();
    assert_eq!(health(&s)["scheduled"], 8);

    s.child.kill().unwrap();
    s.child.wait().unwrap();
    let dir = s.dir.take().unwrap();
    drop(s);
    assert_eq!(
        lines_by_event(&path).keys().copied().collect::<Vec<_>>(),
        [now]
    );
    // One of them as a crash between its claim and its line leaves it: claimed for this
    // messages file, not written. The restart's recovery writes it; the scheduler the rest.
    let conn = rusqlite::Connection::open(dir.path().join("m.db")).unwrap();
    let outbox: String = conn
        .query_row(
            "SELECT outbox FROM send_requests WHERE id = ?1",
            [now],
            |r| r.get(0),
        )
        .unwrap();
    conn.execute(
        "UPDATE send_requests SET claimed = 1, outbox = ?1 WHERE id = ?2",
        rusqlite::params![outbox, held[3]],
    )
    .unwrap();
    drop(conn);

    // Restarted after every deliver_at has passed.
    q.set_clock("2024-01-16T09:00:00Z");
    let mut s = start(&q, dir);
    wait_until(LIMIT, "the sends due while stopped", || {
        lines_by_event(&path).len() == 9
    });
    std::thread::sleep(SETTLE);
    let lines = lines_by_event(&path);
    assert!(
        lines.values().all(|l| l.len() == 1),
        "a line twice: {lines:?}"
    );
    for id in &held {
        assert_eq!(
            line_time(&lines[id][0]),
            "2024-01-16T07:00:00Z",
            "{lines:?}"
        );
    }
    assert_eq!(health(&s)["scheduled"], 0);

    // Killed and restarted again: nothing is written twice.
    s.child.kill().unwrap();
    s.child.wait().unwrap();
    let dir = s.dir.take().unwrap();
    drop(s);
    let s = start(&q, dir);
    std::thread::sleep(SETTLE);
    let lines = lines_by_event(&path);
    assert_eq!(lines.len(), 9);
    assert!(
        lines.values().all(|l| l.len() == 1),
        "a line twice: {lines:?}"
    );
    let conn = s.db();
    assert_eq!(
        count(
            &conn,
            "SELECT count(*) FROM send_requests WHERE delivered = 0"
        ),
        0
    );
}

#[test]
fn a_clock_file_that_is_not_an_instant_stops_the_start() {
    let q = Quiet::new("not a time");
    let dir = tempfile::tempdir().unwrap();
    let rules = q.rules().display().to_string();
    let (k, v) = q.env();
    let err = start_in(dir, &["--port", "0", "--rules", &rules], &[(k, &v)])
        .err()
        .unwrap();
    assert!(err.contains("exit status: 2"), "{err}");
    assert!(
        err.contains("WORKBENCH_CLOCK_FILE `") && err.contains("is not an RFC 3339 instant"),
        "{err}"
    );
}
