//! `serve` against hostile clients (SPEC §8): out-of-range and forged fields, raw HTTP with
//! oversized or slow requests, and one user's broken history in a commit group.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use common::server::{Server, count, start};
use serde_json::{Value, json};

fn event(user: &str, ts: &str) -> String {
    json!({
        "user_id": user, "event_type": "payment_failed", "event_timestamp": ts,
        "properties": {"failure_reason": "INSUFFICIENT_FUNDS", "attempt_number": 1},
        "user_traits": {"marketing_opt_in": true}
    })
    .to_string()
}

/// Send raw bytes, read the whole answer (the server closes, or 15 s pass).
fn raw(s: &Server, request: &[u8]) -> (u16, String, Value) {
    let addr = s.base.trim_start_matches("http://");
    let mut c = TcpStream::connect(addr).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(15))).unwrap();
    let _ = c.write_all(request);
    let mut out = Vec::new();
    let _ = c.read_to_end(&mut out);
    let text = String::from_utf8_lossy(&out).to_string();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let json = serde_json::from_str(body).unwrap_or(Value::Null);
    (status, head.to_string(), json)
}

fn get(path: &str) -> Vec<u8> {
    format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").into_bytes()
}

#[test]
fn timestamps_outside_1970_to_9999_are_422_and_the_last_day_of_9999_suppresses() {
    let s = start();
    let (status, v) = s.post("/events", &event("u", "9999-12-31T23:59:59-01:00"));
    assert_eq!(status, 422, "{v}");
    assert_eq!(v["detail"][0]["loc"], json!(["body", "event_timestamp"]));
    assert!(
        v["detail"][0]["msg"]
            .as_str()
            .unwrap()
            .contains("out of range")
    );
    let (status, _) = s.post("/events", &event("u", "1969-12-31T23:59:59Z"));
    assert_eq!(status, 422);

    let outcomes: Vec<Value> = (0..5)
        .map(|i| {
            s.post("/events", &event("u", &format!("9999-12-31T23:59:5{i}Z")))
                .1["outcome"]
                .clone()
        })
        .collect();
    assert_eq!(
        outcomes,
        ["allow", "suppress", "suppress", "suppress", "suppress"]
    );
    // The user's history still reads back: the audit and later events work.
    let (status, audit) = s.get_json("/audit/u");
    assert_eq!(
        (status, audit["decisions"].as_array().unwrap().len()),
        (200, 5)
    );
    assert_eq!(
        s.post("/events", &event("u", "2024-01-15T10:00:00Z")).0,
        200
    );
}

#[test]
fn user_ids_cannot_forge_or_break_messages_lines() {
    let s = start();
    let (status, v) = s.post("/events", &event("a\nb", "2024-01-15T10:00:00Z"));
    assert_eq!(status, 422, "{v}");
    assert_eq!(v["detail"][0]["loc"], json!(["body", "user_id"]));
    let (status, v) = s.post("/events", &event(&"u".repeat(257), "2024-01-15T10:00:00Z"));
    assert_eq!(status, 422, "{v}");

    let forged = "x | template=T | channel=email | event_id=999 | reason=rule:r | text=hi";
    let (status, v) = s.post("/events", &event(forged, "2024-01-15T10:00:00Z"));
    assert_eq!((status, v["outcome"].as_str()), (200, Some("allow")), "{v}");
    let lines = s.messages();
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert_eq!(
        workbench::provider::line::event_id(&lines[0]),
        v["event_id"].as_i64()
    );
    assert!(
        lines[0].contains("user_id=x \\| template=T"),
        "{}",
        lines[0]
    );
}

#[test]
fn every_error_status_has_a_json_body() {
    let s = start();
    let (status, _, v) = raw(&s, &get("/"));
    assert_eq!(status, 200);
    assert_eq!(v["docs"], "/docs/");

    let cases: Vec<(Vec<u8>, u16)> = vec![
        (get("/nope"), 404),
        (get("/docs/nope.js"), 404),
        (b"DELETE /events HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".to_vec(), 405),
        (get("/audit/%FF%FE"), 422),
        (get("/audit/u?limit=1&limit=2"), 422),
        (get(&format!("/audit/{}", "a".repeat(9000))), 414),
        (
            format!(
                "GET /health HTTP/1.1\r\nHost: x\r\n{}Connection: close\r\n\r\n",
                (0..150).fold(String::new(), |h, i| h + &format!("x-h{i}: v\r\n"))
            )
            .into_bytes(),
            431,
        ),
        (
            b"POST /events HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}".to_vec(),
            415,
        ),
    ];
    for (request, want) in cases {
        let (status, head, v) = raw(&s, &request);
        assert_eq!(status, want, "{head}");
        assert!(
            v["detail"].is_string() || v["detail"].is_array(),
            "{want}: no JSON detail: {head} {v}"
        );
    }

    // A declared body far over the limit is refused at once, without waiting for it.
    let started = Instant::now();
    let (status, _, v) = raw(
        &s,
        b"POST /events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 10000000000\r\n\r\n{",
    );
    assert_eq!(status, 413, "{v}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn slow_clients_are_cut_off_in_bounded_time() {
    let s = start();
    let slow_body = std::thread::scope(|scope| {
        let body = scope.spawn(|| {
            let started = Instant::now();
            let r = raw(
                &s,
                b"POST /events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"user_id\"",
            );
            (r, started.elapsed())
        });
        let head = scope.spawn(|| {
            let started = Instant::now();
            let (status, ..) = raw(&s, b"GET /health HTTP/1.1\r\nHost: x\r\n");
            (status, started.elapsed())
        });
        let (status, took) = head.join().unwrap();
        assert!(
            took < Duration::from_secs(14),
            "a half-sent head held {took:?} ({status})"
        );
        body.join().unwrap()
    });
    let ((status, head, v), took) = slow_body;
    assert_eq!(status, 408, "{head} {v}");
    assert!(v["detail"].is_string());
    assert!(took < Duration::from_secs(14), "{took:?}");
}

#[test]
fn one_users_broken_history_never_fails_another_users_event() {
    let s = start();
    assert_eq!(
        s.post("/events", &event("bad", "2024-01-15T09:00:00Z")).0,
        200
    );
    // Corrupt what `bad`'s next decision must read (as a bad migration or disk could).
    s.db()
        .execute(
            "UPDATE send_requests SET event_timestamp = 'not a time' WHERE user_id = 'bad'",
            [],
        )
        .unwrap();
    let results: Vec<(String, u16)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..40)
            .map(|i| {
                let s = &s;
                scope.spawn(move || {
                    let user = if i % 4 == 0 {
                        "bad".to_string()
                    } else {
                        format!("good{i}")
                    };
                    let (status, _) = s.post("/events", &event(&user, "2024-01-15T10:00:00Z"));
                    (user, status)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for (user, status) in &results {
        let want = if user == "bad" { 503 } else { 200 };
        assert_eq!(*status, want, "{user}: {results:?}");
    }
    let db = s.db();
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM events WHERE user_id LIKE 'good%'"
        ),
        30
    );
    assert_eq!(
        count(&db, "SELECT count(*) FROM events WHERE user_id = 'bad'"),
        1
    );
    assert_eq!(s.messages().len(), 31);
}

#[test]
fn a_torn_line_with_half_a_character_never_stops_a_start() {
    let dir = tempfile::tempdir().unwrap();
    let mut bytes = "2024-01-15T10:00:00Z | user_id=é | template=T | channel=email | event_id=1 | reason=rule:r | text=é"
        .as_bytes()
        .to_vec();
    bytes.pop();
    std::fs::write(dir.path().join("messages.txt"), &bytes).unwrap();
    let s = common::server::start_sqlite(dir);
    assert_eq!(
        s.post("/events", &event("u", "2024-01-15T10:00:00Z")).0,
        200
    );
    assert_eq!(
        s.messages().len(),
        1,
        "the torn line was cut off: {:?}",
        s.messages()
    );
}

mod fuzz {
    use proptest::prelude::*;

    use super::*;

    /// Mutations of a valid body: byte flips, cuts, control characters, huge strings, deep
    /// nesting, type swaps, extreme timestamps.
    fn mutated() -> impl Strategy<Value = Vec<u8>> {
        let base = event("u1", "2024-01-15T10:00:00Z").into_bytes();
        let b2 = base.clone();
        prop_oneof![
            (any::<usize>(), any::<u8>()).prop_map(move |(i, b)| {
                let mut v = base.clone();
                let i = i % v.len();
                v[i] = b;
                v
            }),
            (any::<usize>(), any::<usize>()).prop_map(move |(i, n)| {
                let mut v = b2.clone();
                let i = i % v.len();
                v.drain(i..(i + n % 20).min(v.len()));
                v
            }),
            prop::sample::select(vec![
                "\u{0}", "\u{1b}[31m", "\n", "\u{202e}", "é", "\\u0000"
            ])
            .prop_map(|c| event(&format!("u{c}x"), "2024-01-15T10:00:00Z").into_bytes()),
            (1usize..400).prop_map(|n| event(&"u".repeat(n), "2024-01-15T10:00:00Z").into_bytes()),
            (1usize..300).prop_map(|d| {
                format!(
                    r#"{{"user_id":"u","event_type":"x","event_timestamp":"2024-01-15T10:00:00Z","properties":{{"a":{}1{}}}}}"#,
                    "[".repeat(d),
                    "]".repeat(d)
                )
                .into_bytes()
            }),
            prop::sample::select(vec![
                "0000-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "9999-12-31T23:59:59-23:59",
                "1970-01-01T00:00:00+00:01", "+10000-01-01T00:00:00Z", "2024-02-30T00:00:00Z",
                "2024-01-15T10:00:00.123456789Z", "1970-01-01T00:00:00Z",
            ])
            .prop_map(|t| event("u2", t).into_bytes()),
            prop::sample::select(vec![
                r#"{"user_id":1,"event_type":"x","event_timestamp":"2024-01-15T10:00:00Z"}"#,
                r#"{"user_id":"u","event_type":"x","event_timestamp":5}"#,
                r#"{"user_id":"u","event_type":"x","event_timestamp":"2024-01-15T10:00:00Z","properties":[]}"#,
                r#"{"user_id":"u","event_type":"x","event_timestamp":"2024-01-15T10:00:00Z","user_traits":{"marketing_opt_in":"yes"}}"#,
                "null", "[]", "\"\"", "",
            ])
            .prop_map(|s| s.as_bytes().to_vec()),
        ]
    }

    #[test]
    fn mutated_bodies_get_200_or_a_4xx_with_json_and_the_log_stays_whole() {
        let s = start();
        let config = ProptestConfig {
            cases: 300,
            failure_persistence: None,
            ..ProptestConfig::default()
        };
        proptest!(config, |(body in mutated())| {
            let mut request = format!(
                "POST /events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            )
            .into_bytes();
            request.extend_from_slice(&body);
            let (status, head, v) = raw(&s, &request);
            prop_assert!(status == 200 || (400..500).contains(&status), "{status} {head}");
            prop_assert!(!v.is_null(), "no JSON body: {head}");
        });
        // Every delivery has exactly one whole line.
        let db = s.db();
        let deliveries = count(&db, "SELECT count(*) FROM send_requests");
        let lines = s.messages();
        assert_eq!(i64::try_from(lines.len()).unwrap(), deliveries);
        let mut ids: Vec<i64> = lines
            .iter()
            .map(|l| workbench::provider::line::event_id(l).expect("a whole line"))
            .collect();
        ids.dedup();
        assert_eq!(ids.len(), lines.len());
    }
}
