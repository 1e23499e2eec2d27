//! `serve` on a file system that fills up. The process' file-size limit (`RLIMIT_FSIZE`,
//! lowered and raised again from outside with `prlimit`) stands in for a full disk: a write
//! past it fails with `EFBIG` as one on a full disk fails with `ENOSPC`. First under
//! `messages.txt`, then under the database.

mod common;

use std::process::Command;
use std::time::{Duration, Instant};

use common::server::{Server, count, start};
use serde_json::json;

fn event(user: &str) -> String {
    json!({
        "user_id": user, "event_type": "payment_failed", "event_timestamp": "2024-01-15T10:00:00Z",
        "properties": {"failure_reason": "INSUFFICIENT_FUNDS", "attempt_number": 1},
        "user_traits": {"marketing_opt_in": true}
    })
    .to_string()
}

fn prlimit(s: &Server, soft: &str) -> bool {
    if let Ok(status) = Command::new("prlimit")
        .args([
            "--pid",
            &s.child.id().to_string(),
            &format!("--fsize={soft}:unlimited"),
        ])
        .status()
    {
        assert!(status.success(), "prlimit failed");
        true
    } else {
        eprintln!("SKIPPED: the disk-full tests need `prlimit` (util-linux)");
        false
    }
}

fn size(s: &Server, file: &str) -> u64 {
    std::fs::metadata(s.path().join(file)).map_or(0, |m| m.len())
}

fn wait_until(what: &str, mut f: impl FnMut() -> bool) {
    let started = Instant::now();
    while !f() {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "timed out: {what}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_full_messages_file_answers_pending_and_writes_every_line_once_when_space_returns() {
    let dir = tempfile::tempdir().unwrap();
    // 1 MiB of earlier deliveries, so the limit below falls on messages.txt first.
    let text = "x".repeat(160);
    let filler = (0..4000).fold(String::new(), |f, i| {
        f + &format!(
            "2024-01-01T00:00:00Z | user_id=old | template=T | channel=email | event_id={} | reason=rule:r | text={text}\n",
            900_000 + i
        )
    });
    std::fs::write(dir.path().join("messages.txt"), &filler).unwrap();
    let s = common::server::start_sqlite(dir);
    if !prlimit(&s, &(size(&s, "messages.txt") + 1000).to_string()) {
        return;
    }

    let mut statuses = Vec::new();
    for i in 0..20 {
        let (status, v) = s.post("/events", &event(&format!("u{i}")));
        assert_eq!((status, v["outcome"].as_str()), (200, Some("allow")), "{v}");
        statuses.push(v["delivery_status"].as_str().unwrap().to_string());
    }
    let pending = statuses.iter().filter(|s| *s == "pending").count();
    assert!(pending > 0 && pending < 20, "{statuses:?}");
    assert!(statuses[..20 - pending].iter().all(|s| s == "delivered"));
    let (status, health) = s.get_json("/health");
    assert_eq!(status, 503, "{health}");
    assert!(
        health["detail"].as_str().unwrap().contains("messages file"),
        "{health}"
    );
    assert_eq!(health["unwritten_messages"], pending);
    let bytes = std::fs::read(s.path().join("messages.txt")).unwrap();
    assert!(
        bytes.ends_with(b"\n"),
        "a torn line is left in messages.txt"
    );

    // The decision was recorded: sending it again is a duplicate, not a new delivery.
    let (_, again) = s.post("/events", &event("u19"));
    assert_eq!(again["outcome"], "suppress", "{again}");

    assert!(prlimit(&s, "unlimited"));
    wait_until("every pending line is written", || {
        s.messages().len() == 4000 + 20
    });
    let mut ids: Vec<i64> = s
        .messages()
        .iter()
        .map(|l| workbench::provider::line::event_id(l).expect("a whole line"))
        .filter(|id| *id < 900_000)
        .collect();
    ids.sort_unstable();
    let allowed: Vec<i64> = (1..=20).collect();
    assert_eq!(ids, allowed, "one line per delivery");
    assert_eq!(
        s.get_json("/health"),
        (
            200,
            json!({"status": "ok", "unwritten_messages": 0, "scheduled": 0, "overdue": 0})
        )
    );
    assert_eq!(
        count(
            &s.db(),
            "SELECT count(*) FROM send_requests WHERE delivered = 0"
        ),
        0
    );
}

#[test]
fn a_full_database_disk_records_nothing_says_so_and_recovers_without_a_restart() {
    let s = start();
    for i in 0..3 {
        assert_eq!(s.post("/events", &event(&format!("before{i}"))).0, 200);
    }
    let biggest = ["m.db", "m.db-wal", "messages.txt"]
        .iter()
        .map(|f| size(&s, f))
        .max()
        .unwrap();
    if !prlimit(&s, &(biggest + 100).to_string()) {
        return;
    }
    for i in 0..3 {
        let (status, v) = s.post("/events", &event(&format!("during{i}")));
        assert_eq!(status, 503, "{v}");
        assert!(
            v["detail"].as_str().unwrap().contains("not recorded"),
            "{v}"
        );
    }
    let (status, health) = s.get_json("/health");
    assert_eq!(status, 503, "{health}");
    assert!(
        health["detail"].as_str().unwrap().contains("database"),
        "{health}"
    );

    assert!(prlimit(&s, "unlimited"));
    let (status, v) = s.post("/events", &event("after"));
    assert_eq!(
        (status, v["delivery_status"].as_str()),
        (200, Some("delivered")),
        "{v}"
    );
    assert_eq!(s.get_json("/health").0, 200);
    let db = s.db();
    assert_eq!(count(&db, "SELECT count(*) FROM events"), 4);
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM events WHERE user_id LIKE 'during%'"
        ),
        0
    );
    assert_eq!(s.messages().len(), 4);
}
