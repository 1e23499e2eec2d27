//! `workbench serve` end to end: the binary on port 0 with a temporary database, driven over
//! HTTP: every endpoint, each 4xx, configuration precedence, a bad rules file, concurrency,
//! SIGKILL and SIGTERM.

mod common;

use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::server::{agent, count, rules_abs, start, start_in};
use serde_json::{Value, json};

const README_EXAMPLE: &str = r#"{
  "user_id": "user_12345",
  "event_type": "payment_failed",
  "event_timestamp": "2024-01-15T10:30:00Z",
  "properties": {"failure_reason": "INSUFFICIENT_FUNDS", "attempt_number": 1, "amount": 29.99, "currency": "USD"},
  "user_traits": {"email": "john.doe@example.com", "country": "US", "marketing_opt_in": true, "risk_segment": "low"}
}"#;

#[test]
fn the_readme_example_and_every_endpoint() {
    let s = start();
    let (status, v) = s.post("/events/", README_EXAMPLE);
    assert_eq!(status, 200, "{v}");
    assert_eq!(
        v,
        json!({
            "event_id": 1, "user_id": "user_12345", "event_type": "payment_failed",
            "matched_rule": "insufficient_funds_email", "action_type": "send",
            "template_name": "INSUFFICIENT_FUNDS_EMAIL", "channel": "email", "outcome": "allow",
            "reason": "insufficient_funds_email matched; send by email: first INSUFFICIENT_FUNDS_EMAIL for this user on 2024-01-15 (UTC)",
            "reason_code": "sent", "deliver_at": null,
            "message_text": "Your payment didn't go through because the balance was too low. Top up and we'll retry, with no fee.",
            "delivery_status": "delivered", "replayed": false
        })
    );
    let (status, v) = s.post("/events", README_EXAMPLE);
    assert_eq!(status, 200, "no redirect for /events either");
    assert_eq!(v["outcome"], "suppress");
    assert_eq!(v["reason_code"], "suppressed_once_per_calendar_day");

    let (status, audit) = s.get_json("/audit/user_12345");
    assert_eq!(status, 200);
    assert_eq!(audit["user_id"], "user_12345");
    let d = audit["decisions"].as_array().unwrap();
    assert_eq!(d.len(), 2);
    for key in [
        "event_id",
        "event_type",
        "event_timestamp",
        "matched_rule",
        "action_type",
        "template_name",
        "channel",
        "outcome",
        "reason",
        "reason_code",
        "decision_timestamp",
        "deliver_at",
        "delivery_status",
    ] {
        assert!(d[0].get(key).is_some(), "audit entry lacks {key}");
    }
    assert_eq!(
        (d[0]["event_id"].clone(), d[1]["event_id"].clone()),
        (json!(1), json!(2))
    );
    assert_eq!(d[0]["event_timestamp"], "2024-01-15T10:30:00Z");
    let (_, last) = s.get_json("/audit/user_12345?limit=1");
    assert_eq!(last["decisions"].as_array().unwrap().len(), 1);
    assert_eq!(last["decisions"][0]["event_id"], 2);
    let (status, none) = s.get_json("/audit/nobody");
    assert_eq!(
        (status, none),
        (200, json!({"user_id": "nobody", "decisions": []}))
    );

    assert_eq!(
        s.get_json("/health"),
        (
            200,
            json!({"status": "ok", "unwritten_messages": 0, "scheduled": 0, "overdue": 0})
        )
    );
    let (status, doc) = s.get_json("/openapi.json");
    assert_eq!(status, 200);
    assert!(doc["paths"]["/events"]["post"].is_object(), "{doc}");
    assert!(doc["paths"]["/audit/{user_id}"]["get"].is_object());
    // The scheduling fields are documented.
    let schemas = &doc["components"]["schemas"];
    for (schema, field) in [
        ("DecisionResponse", "deliver_at"),
        ("DecisionResponse", "delivery_status"),
        ("AuditEntryBody", "deliver_at"),
        ("AuditEntryBody", "delivery_status"),
        ("HealthResponse", "scheduled"),
        ("HealthResponse", "overdue"),
    ] {
        assert!(
            schema_has(schemas, &schemas[schema], field),
            "{schema} lacks {field}: {}",
            schemas[schema]
        );
    }
    let (status, _) = s.get("/docs/");
    assert_eq!(status, 200);
    let (_, html) = s.get("/docs/index.html");
    assert!(html.to_lowercase().contains("swagger"), "{html}");

    assert_eq!(s.messages().len(), 1);
    assert!(s.messages()[0].contains("| event_id=1 | reason=rule:insufficient_funds_email |"));
    assert!(
        s.log.lock().unwrap().iter().any(|l| l.contains("/events")),
        "request logs"
    );
}

/// Whether an OpenAPI object schema has `field`, directly or through `allOf` and `$ref`
/// (flattened structs), looked up in `schemas`.
fn schema_has(schemas: &Value, schema: &Value, field: &str) -> bool {
    if let Some(name) = schema["$ref"]
        .as_str()
        .and_then(|r| r.strip_prefix("#/components/schemas/"))
    {
        return schema_has(schemas, &schemas[name], field);
    }
    schema["properties"].get(field).is_some()
        || schema["allOf"]
            .as_array()
            .is_some_and(|parts| parts.iter().any(|p| schema_has(schemas, p, field)))
}

#[test]
fn client_errors_are_4xx_with_a_json_body_naming_the_field() {
    let s = start();
    let valid = |extra: &str| {
        format!(
            r#"{{"user_id":"u","event_type":"payment_failed","event_timestamp":"2024-01-15T10:30:00Z"{extra}}}"#
        )
    };
    let cases: Vec<(String, Value)> = vec![
        ("{not json".into(), json!(["body", 2])),
        (
            r#"{"event_type":"x","event_timestamp":"2024-01-15T10:30:00Z"}"#.into(),
            json!(["body", "user_id"]),
        ),
        (
            r#"{"user_id":"","event_type":"x","event_timestamp":"2024-01-15T10:30:00Z"}"#.into(),
            json!(["body", "user_id"]),
        ),
        (
            r#"{"user_id":"u","event_type":3,"event_timestamp":"2024-01-15T10:30:00Z"}"#.into(),
            json!(["body", "event_type"]),
        ),
        (
            r#"{"user_id":"u","event_type":"x","event_timestamp":"2024-01-15T10:30:00"}"#.into(),
            json!(["body", "event_timestamp"]),
        ),
        (
            valid(r#","user_traits":{"marketing_opt_in":"yes"}"#),
            json!(["body", "user_traits", "marketing_opt_in"]),
        ),
    ];
    for (body, loc) in cases {
        let (status, v) = s.post("/events", &body);
        assert_eq!(status, 422, "{body}: {v}");
        assert_eq!(v["detail"][0]["loc"], loc, "{body}: {v}");
        assert!(v["detail"][0]["msg"].is_string() && v["detail"][0]["type"].is_string());
    }
    let (status, v) = s.post(
        "/events",
        &format!(r#"{{"pad":"{}"}}"#, "x".repeat(1 << 20)),
    );
    assert_eq!(status, 413, "{v}");
    assert!(v["detail"].is_string());
    let (status, v) = s.post(
        "/events",
        &valid(r#","properties":{"attempt_number":"3","failure_reason":5}"#),
    );
    assert_eq!(status, 200, "wrong-typed properties are not an error: {v}");
    assert_eq!(v["outcome"], "none");
    let (status, v) = s.get_json("/audit/u?limit=abc");
    assert_eq!(status, 422);
    assert_eq!(v["detail"][0]["loc"], json!(["query", "limit"]));
    assert_eq!(s.get("/nope").0, 404);
}

#[test]
fn configuration_flags_beat_env_beat_dotenv() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        common::root().join("rules/rules.yaml"),
        dir.path().join("r.yaml"),
    )
    .unwrap();
    std::fs::write(
        dir.path().join(".env"),
        "API_PORT=0\nMESSAGES_PATH=from_dotenv.txt\nRULES_PATH=r.yaml\nDATABASE_URL=sqlite:///./dotenv.db\n",
    )
    .unwrap();
    let s = start_in(
        dir,
        &["--database-url", "sqlite:///./flag.db"],
        &[("MESSAGES_PATH", "from_env.txt")],
    )
    .unwrap();
    let (status, _) = s.post("/events", README_EXAMPLE);
    assert_eq!(status, 200);
    let (_, dir) = s.stop();
    assert!(dir.path().join("from_env.txt").exists(), "env beats .env");
    assert!(!dir.path().join("from_dotenv.txt").exists());
    assert!(dir.path().join("flag.db").exists(), "a flag beats .env");
    assert!(!dir.path().join("dotenv.db").exists());
}

#[test]
fn a_bad_rules_file_stops_the_start_with_its_position() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("r.yaml"), "rules:\n  - name: a\n    trigger: {event_type: x}\n    action: {type: alert, template_name: T, delivery_method: sms}\n").unwrap();
    let err = start_in(dir, &["--port", "0", "--rules", "r.yaml"], &[])
        .err()
        .unwrap();
    assert!(err.contains("exit status: 2"), "{err}");
    assert!(
        err.contains(
            "r.yaml:2:5: rules[0]: rule `a`: an `alert` action must use delivery_method `internal`"
        ),
        "{err}"
    );
    let dir = tempfile::tempdir().unwrap();
    let err = start_in(
        dir,
        &[
            "--port",
            "0",
            "--database-url",
            "mysql://x",
            "--rules",
            &rules_abs(),
        ],
        &[],
    )
    .err()
    .unwrap();
    assert!(
        err.contains("DATABASE_URL: `mysql://x` is not supported"),
        "{err}"
    );
}

#[test]
fn concurrent_same_day_events_for_one_user_deliver_exactly_once() {
    let s = Arc::new(start());
    let clients = 24;
    let handles: Vec<_> = (0..clients)
        .map(|i| {
            let s = s.clone();
            std::thread::spawn(move || {
                let body = format!(
                    r#"{{"user_id":"racer","event_type":"payment_failed","event_timestamp":"2024-03-01T{:02}:{:02}:00Z","properties":{{"failure_reason":"INSUFFICIENT_FUNDS","attempt_number":1}}}}"#,
                    i % 24,
                    i % 60
                );
                s.post("/events", &body)
            })
        })
        .collect();
    let results: Vec<(u16, Value)> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    assert!(results.iter().all(|(st, _)| *st == 200), "{results:?}");
    let allowed = results
        .iter()
        .filter(|(_, v)| v["outcome"] == "allow")
        .count();
    assert_eq!(allowed, 1, "exactly one delivery: {results:?}");
    let conn = s.db();
    assert_eq!(
        count(
            &conn,
            "SELECT count(*) FROM send_requests WHERE user_id = 'racer'"
        ),
        1
    );
    assert_eq!(
        count(
            &conn,
            "SELECT count(*) FROM suppressions WHERE user_id = 'racer'"
        ),
        clients - 1
    );
    assert_eq!(s.messages().len(), 1);
}

#[test]
fn every_answered_delivery_survives_sigkill_exactly_once() {
    let mut s = start();
    let mut allowed = 0;
    for i in 0..60 {
        let body = format!(
            r#"{{"user_id":"k{}","event_type":"payment_failed","event_timestamp":"2024-03-0{}T10:00:00Z","properties":{{"failure_reason":"INSUFFICIENT_FUNDS","attempt_number":{}}}}}"#,
            i % 7,
            1 + i % 3,
            1 + i % 4
        );
        let (status, v) = s.post("/events", &body);
        assert_eq!(status, 200);
        if v["outcome"] == "allow" || v["outcome"] == "alert" {
            allowed += 1;
        }
    }
    s.child.kill().unwrap();
    s.child.wait().unwrap();
    let conn = s.db();
    assert_eq!(count(&conn, "SELECT count(*) FROM decisions"), 60);
    assert_eq!(count(&conn, "SELECT count(*) FROM send_requests"), allowed);
    let lines = s.messages();
    assert_eq!(i64::try_from(lines.len()).unwrap(), allowed);
    let mut ids: Vec<&str> = lines.iter().filter_map(|l| l.split(" | ").nth(4)).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(i64::try_from(ids.len()).unwrap(), allowed, "no line twice");
}

#[test]
fn a_delivery_lost_between_commit_and_write_is_written_once_at_start() {
    let s = start();
    let (_, v) = s.post("/events", README_EXAMPLE);
    assert_eq!(v["outcome"], "allow");
    let (status, dir) = s.stop();
    assert!(status.success(), "graceful stop exits 0: {status}");
    // Simulate a crash after the commit, before the line was written.
    let conn = rusqlite::Connection::open(dir.path().join("m.db")).unwrap();
    conn.execute("UPDATE send_requests SET delivered = 0", [])
        .unwrap();
    std::fs::write(dir.path().join("messages.txt"), "").unwrap();
    drop(conn);
    let db = format!("sqlite:///{}", dir.path().join("m.db").display());
    let args = [
        "--port",
        "0",
        "--database-url",
        db.as_str(),
        "--rules",
        &rules_abs(),
        "--messages",
        "messages.txt",
    ];
    let s = start_in(dir, &args, &[]).unwrap();
    assert_eq!(s.messages().len(), 1, "recovered at start");
    let (_, dir) = s.stop();
    // And a restart with nothing lost writes nothing again.
    let s = start_in(dir, &args, &[]).unwrap();
    assert_eq!(s.messages().len(), 1);
}

#[test]
fn sigterm_finishes_in_flight_requests() {
    let s = Arc::new(start());
    let stop = Instant::now() + Duration::from_millis(400);
    let workers: Vec<_> = (0..8)
        .map(|w| {
            let s = s.clone();
            std::thread::spawn(move || {
                let mut ok = 0;
                let mut i = 0;
                while Instant::now() < stop {
                    let body = format!(
                        r#"{{"user_id":"t{w}-{i}","event_type":"signup_completed","event_timestamp":"2024-03-01T10:00:00Z","user_traits":{{"marketing_opt_in":true}}}}"#
                    );
                    match agent()
                        .post(format!("{}/events", s.base))
                        .header("content-type", "application/json")
                        .send(body.as_str())
                    {
                        Ok(r) if r.status() == 200 => ok += 1,
                        _ => break,
                    }
                    i += 1;
                }
                ok
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(200));
    let _ = Command::new("kill")
        .args(["-TERM", &s.child.id().to_string()])
        .status();
    let answered: i64 = workers.into_iter().map(|w| w.join().unwrap()).sum();
    let s = Arc::try_unwrap(s).ok().unwrap();
    let (status, dir) = s.stop();
    assert!(status.success(), "{status}");
    let conn = rusqlite::Connection::open(dir.path().join("m.db")).unwrap();
    assert!(count(&conn, "SELECT count(*) FROM decisions") >= answered);
    let lines = std::fs::read_to_string(dir.path().join("messages.txt")).unwrap();
    assert_eq!(
        i64::try_from(lines.lines().count()).unwrap(),
        count(&conn, "SELECT count(*) FROM send_requests")
    );
}

#[test]
fn import_replays_a_service_database_as_a_scenario() {
    let s = start();
    let bodies = [
        r#"{"user_id":"ana","event_type":"signup_completed","event_timestamp":"2024-03-01T09:00:00Z","user_traits":{"marketing_opt_in":true,"plan":"gold"}}"#,
        r#"{"user_id":"ana","event_type":"link_bank_success","event_timestamp":"2024-03-01T12:00:00+02:00"}"#,
        r#"{"user_id":"ana","event_type":"payment_failed","event_timestamp":"2024-03-02T09:00:00Z","properties":{"failure_reason":"INSUFFICIENT_FUNDS","attempt_number":1}}"#,
        r#"{"user_id":"ana","event_type":"payment_failed","event_timestamp":"2024-03-02T10:00:00Z","properties":{"failure_reason":"INSUFFICIENT_FUNDS","attempt_number":2}}"#,
        r#"{"user_id":"bo","event_type":"payment_failed","event_timestamp":"2024-03-02T10:00:00Z","properties":{"failure_reason":"CARD_DECLINED","attempt_number":3}}"#,
    ];
    for b in bodies {
        assert_eq!(s.post("/events", b).0, 200);
    }
    let (_, dir) = s.stop();
    let db = dir.path().join("m.db");
    let out = dir.path().join("history.jsonl");
    let r = common::workbench(&[
        "import",
        "--db",
        db.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stderr, "exported 5 events\n");
    let text = std::fs::read_to_string(&out).unwrap();
    let first: Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    assert_eq!(
        first["user_traits"],
        json!({"marketing_opt_in": true, "plan": "gold"})
    );
    assert_eq!(first["expect"]["outcome"], "allow");
    assert_eq!(first["expect"]["matched_rule"], "welcome_email");
    assert!(first["received_at"].is_string());

    // The replay with the same rules reproduces every decision the service made.
    let run = common::workbench(&["run", out.to_str().unwrap()]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert!(
        run.stdout.ends_with("5 passed, 0 failed\n"),
        "{}",
        run.stdout
    );
    // New rules show where they would differ; diff takes it as any scenario.
    let rules = std::fs::read_to_string(common::root().join("rules/rules.yaml")).unwrap();
    let new = dir.path().join("new.yaml");
    std::fs::write(
        &new,
        rules.replacen("mode: once_per_calendar_day", "mode: none", 1),
    )
    .unwrap();
    let run = common::workbench(&[
        "run",
        out.to_str().unwrap(),
        "--rules",
        new.to_str().unwrap(),
    ]);
    assert_eq!(run.code, 1);
    assert!(
        run.stdout.contains("expected outcome suppress, got allow"),
        "{}",
        run.stdout
    );
    let diff = common::workbench(&[
        "diff",
        out.to_str().unwrap(),
        "--rules",
        new.to_str().unwrap(),
        "--base",
        "rules/rules.yaml",
    ]);
    assert!(
        diff.stdout
            .contains("insufficient_funds_email suppress -> allow: 1 event"),
        "{}",
        diff.stdout
    );

    let one = common::workbench(&[
        "import",
        "--db",
        &format!("sqlite:///{}", db.display()),
        "--user",
        "bo",
    ]);
    assert_eq!(one.stdout.lines().count(), 1, "{}", one.stderr);
    let later = common::workbench(&[
        "import",
        "--db",
        db.to_str().unwrap(),
        "--since",
        "2999-01-01T00:00:00Z",
    ]);
    assert_eq!((later.code, later.stdout.as_str()), (0, ""));
    let missing = common::workbench(&["import", "--db", "nope.db"]);
    assert_eq!(missing.code, 2);
    assert!(
        missing.stderr.contains("`nope.db`: no such database file"),
        "{}",
        missing.stderr
    );
}

#[test]
fn logs_off_a_terminal_are_plain_text_and_a_busy_port_is_one_lowercase_error() {
    // Without NO_COLOR: stderr is a pipe, so no colour codes.
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite:///{}", dir.path().join("m.db").display());
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_workbench"))
        .args(["serve", "--port", "0", "--database-url", &db, "--rules"])
        .arg(common::server::rules_abs())
        .current_dir(dir.path())
        .env_remove("NO_COLOR")
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let mut lines = std::io::BufRead::lines(std::io::BufReader::new(stderr));
    let first = lines.next().unwrap().unwrap();
    let _ = child.kill();
    let _ = child.wait();
    assert!(first.contains("listening on http://"), "{first}");
    assert!(
        !first.contains('\u{1b}'),
        "colour codes in a piped log: {first:?}"
    );

    // A port that is taken: one `error:` line, lowercase like every other error.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_workbench"))
        .args(["serve", "--port", &port, "--database-url", &db, "--rules"])
        .arg(common::server::rules_abs())
        .current_dir(dir.path())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    let line = err.lines().find(|l| l.contains("cannot listen")).unwrap();
    assert!(
        line.starts_with("error: cannot listen on 127.0.0.1:"),
        "{err}"
    );
}
