//! Idempotency keys (SPEC §7.6): a replay records nothing and answers the stored decision; a
//! reuse with a different event is a conflict. Against both stores, over HTTP (SQLite and two
//! PostgreSQL instances), and in scenario files.

mod common;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use workbench::event::Event;
use workbench::pipeline::{Pipeline, PipelineError};
use workbench::provider::Collect;
use workbench::rules::RuleSet;
use workbench::store::{PgStore, SqliteStore, Store};

use common::pg::PgDb;
use common::server::{Server, agent, count, rules_abs, start, start_in};

fn ts(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

fn signup(user: &str, key: Option<&str>, traits: Value) -> Event {
    Event {
        user_id: user.into(),
        event_type: "signup_completed".into(),
        event_timestamp: ts("2024-03-01T10:00:00Z"),
        properties: json!({"a": 1, "b": {"x": 1, "y": 2}})
            .as_object()
            .cloned()
            .unwrap(),
        user_traits: serde_json::from_value(traits).ok(),
        idempotency_key: key.map(String::from),
    }
}

fn rules() -> RuleSet {
    RuleSet::load(&common::root().join("rules/rules.yaml")).unwrap()
}

/// A second event with the same key is a replay (same id, stored decision, nothing recorded);
/// a different event under it is a conflict; later events' ids are not shifted.
fn replay_contract<S: Store>(store: S, count_events: impl Fn(&mut S) -> i64) {
    let rules = rules();
    let mut p = Pipeline::new(store, Collect::default());
    let at = ts("2024-03-01T10:00:01Z");
    let first = p
        .process(
            &rules,
            &signup(
                "u",
                Some("k-1"),
                json!({"marketing_opt_in": true, "plan": "x"}),
            ),
            at,
        )
        .unwrap();
    assert!(!first.replayed);
    let (first_id, first_verdict) = (first.event_id, first.decision.verdict.clone());
    assert!(first_verdict.delivers(), "{first_verdict:?}");
    // The same event, its objects' keys in another order, later: a replay.
    let mut again = signup(
        "u",
        Some("k-1"),
        json!({"plan": "x", "marketing_opt_in": true}),
    );
    again.properties = json!({"b": {"y": 2, "x": 1}, "a": 1})
        .as_object()
        .cloned()
        .unwrap();
    let replay = p
        .process(&rules, &again, ts("2024-03-02T10:00:00Z"))
        .unwrap();
    assert!(replay.replayed);
    assert_eq!(replay.event_id, first_id);
    assert_eq!(replay.decision.verdict, first_verdict);
    // A different event under the key: refused, naming what differs.
    let mut other = signup(
        "v",
        Some("k-1"),
        json!({"marketing_opt_in": true, "plan": "x"}),
    );
    other.properties.insert("a".into(), json!(2));
    match p.process(&rules, &other, at) {
        Err(PipelineError::Conflict(c)) => {
            assert_eq!((c.key.as_str(), c.event_id), ("k-1", first_id));
            assert_eq!(c.fields, vec!["user_id", "properties"]);
            let text = c.to_string();
            assert!(
                text.contains("`k-1`") && text.contains("user_id, properties"),
                "{text}"
            );
        }
        other => panic!("expected a conflict, got {other:?}"),
    }
    // The next event takes the next id: nothing was recorded in between.
    let next = p
        .process(&rules, &signup("w", None, json!({})), at)
        .unwrap();
    assert_eq!(next.event_id, first_id + 1);
    p.finish().unwrap();
    assert_eq!(p.provider.0.len(), 1, "{:?}", p.provider.0);
    assert_eq!(count_events(&mut p.store), 2);
}

#[test]
fn sqlite_replays_and_conflicts() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("i.db");
    let n = |_: &mut SqliteStore| {
        count(
            &rusqlite::Connection::open(&path).unwrap(),
            "SELECT count(*) FROM events",
        )
    };
    replay_contract(SqliteStore::open(&path).unwrap(), n);
    // In a commit group, a replay of an event of the same open group is found too.
    replay_contract(SqliteStore::open_in_memory().unwrap().batched(100), |s| {
        s.connection()
            .query_row("SELECT count(*) FROM events", [], |r| r.get(0))
            .unwrap()
    });
}

#[test]
fn postgres_replays_and_conflicts() {
    let Some(db) = PgDb::new() else {
        return;
    };
    let url = db.url();
    replay_contract(PgStore::connect(&url).unwrap(), |_| {
        let mut c = postgres::Client::connect(&url, postgres::NoTls).unwrap();
        c.query_one("SELECT count(*) FROM events", &[])
            .unwrap()
            .get(0)
    });
}

const BODY: &str = r#"{"user_id":"ana","event_type":"signup_completed","event_timestamp":"2024-03-01T10:00:00Z","user_traits":{"marketing_opt_in":true},"idempotency_key":"body-key"}"#;

fn post_keyed(s: &Server, key: Option<&str>, body: &str) -> (u16, Value) {
    let mut req = agent()
        .post(format!("{}/events", s.base))
        .header("content-type", "application/json");
    if let Some(k) = key {
        req = req.header("Idempotency-Key", k);
    }
    let mut r = req.send(body).unwrap();
    let status = r.status().as_u16();
    let text = r.body_mut().read_to_string().unwrap();
    (status, serde_json::from_str(&text).unwrap())
}

#[test]
fn serve_replays_with_the_stored_decision_and_refuses_conflicts() {
    let s = start();
    let (status, first) = post_keyed(&s, Some("hdr-1"), BODY);
    assert_eq!(status, 200, "{first}");
    assert_eq!(first["replayed"], false);
    assert_eq!(first["delivery_status"], "delivered");
    // The header won: the body's key is still free, the header's is taken.
    let (_, by_body) = post_keyed(&s, None, BODY);
    assert_eq!(by_body["replayed"], false, "{by_body}");
    assert_ne!(by_body["event_id"], first["event_id"]);
    let (status, replay) = post_keyed(&s, Some("hdr-1"), BODY);
    assert_eq!(status, 200, "{replay}");
    assert_eq!(replay["replayed"], true);
    for field in [
        "event_id",
        "matched_rule",
        "outcome",
        "reason",
        "reason_code",
        "template_name",
        "channel",
        "delivery_status",
    ] {
        assert_eq!(replay[field], first[field], "{field}: {replay} vs {first}");
    }
    let (_, body_replay) = post_keyed(&s, None, BODY);
    assert_eq!(body_replay["replayed"], true);
    assert_eq!(body_replay["event_id"], by_body["event_id"]);
    // The second event (suppressed: ana was welcomed) wrote none; replays write none.
    assert_eq!(s.messages().len(), 1, "{:?}", s.messages());

    // The same key on a different event: 409 naming the key and what differs.
    let other = BODY.replace("2024-03-01T10:00:00Z", "2024-03-02T10:00:00Z");
    let (status, conflict) = post_keyed(&s, Some("hdr-1"), &other);
    assert_eq!(status, 409, "{conflict}");
    let detail = conflict["detail"].as_str().unwrap();
    assert!(
        detail.contains("`hdr-1`") && detail.contains("event_timestamp"),
        "{detail}"
    );
    assert_eq!(conflict["differs"], json!(["event_timestamp"]));
    assert_eq!(conflict["event_id"], first["event_id"]);

    // A bad header: 422 naming it.
    for bad in ["x".repeat(129), String::new()] {
        let (status, v) = post_keyed(&s, Some(&bad), BODY);
        assert_eq!(status, 422, "{v}");
        assert_eq!(
            v["detail"][0]["loc"],
            json!(["header", "idempotency-key"]),
            "{v}"
        );
    }
    // A bad body key: 422 naming the field.
    let (status, v) = s.post("/events", &BODY.replace("body-key", ""));
    assert_eq!(status, 422, "{v}");
    assert_eq!(
        v["detail"][0]["loc"],
        json!(["body", "idempotency_key"]),
        "{v}"
    );

    let (_, doc) = s.get_json("/openapi.json");
    let schemas = &doc["components"]["schemas"];
    // (`DecisionResponse` flattens the verdict: an `allOf`.)
    assert!(
        schemas["DecisionResponse"]
            .to_string()
            .contains("\"replayed\"")
    );
    assert!(
        schemas["EventBody"]
            .to_string()
            .contains("\"idempotency_key\"")
    );
    assert!(doc["paths"]["/events"]["post"]["responses"]["409"].is_object());
    assert!(
        doc["paths"]["/events"]["post"]
            .to_string()
            .contains("Idempotency-Key")
    );
    assert!(schemas["ConflictResponse"].is_object());
    let (_, audit) = s.get_json("/audit/ana");
    assert_eq!(audit["decisions"].as_array().unwrap().len(), 2, "{audit}");
    assert_eq!(s.messages().len(), 1);
    assert_eq!(count(&s.db(), "SELECT count(*) FROM events"), 2);
}

#[test]
fn thirty_concurrent_replays_of_one_key_store_one_event_and_write_one_line() {
    let s = start();
    let base = s.base.clone();
    let answers: Vec<(u16, Value)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..30)
            .map(|_| {
                let base = base.clone();
                scope.spawn(move || {
                    let mut r = agent()
                        .post(format!("{base}/events"))
                        .header("content-type", "application/json")
                        .header("Idempotency-Key", "same")
                        .send(BODY)
                        .unwrap();
                    let status = r.status().as_u16();
                    let v: Value =
                        serde_json::from_str(&r.body_mut().read_to_string().unwrap()).unwrap();
                    (status, v)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert!(answers.iter().all(|(s, _)| *s == 200), "{answers:?}");
    let ids: std::collections::BTreeSet<i64> = answers
        .iter()
        .map(|(_, v)| v["event_id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids.len(), 1, "{ids:?}");
    let fresh = answers
        .iter()
        .filter(|(_, v)| v["replayed"] == false)
        .count();
    assert_eq!(fresh, 1, "{answers:?}");
    assert_eq!(count(&s.db(), "SELECT count(*) FROM events"), 1);
    assert_eq!(s.messages().len(), 1, "{:?}", s.messages());
}

fn pg_instance(db: &PgDb) -> Server {
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
        &[("DATABASE_URL", &db.url()), ("DATABASE_POOL_SIZE", "4")],
    )
    .unwrap()
}

#[test]
fn two_postgres_instances_replaying_one_key_store_one_event() {
    let Some(db) = PgDb::new() else {
        return;
    };
    let (a, b) = (pg_instance(&db), pg_instance(&db));
    let bases = [a.base.clone(), b.base.clone()];
    // Two keys: one replayed by all, one reused with other users (conflicts across users,
    // whose transactions the per-user lock does not serialise).
    let answers: Vec<(u16, Value)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..24)
            .map(|i| {
                let base = bases[i % 2].clone();
                scope.spawn(move || {
                    let (key, body) = if i % 3 == 0 {
                        ("cross", BODY.replace("\"ana\"", &format!("\"u{i}\"")))
                    } else {
                        ("same", BODY.to_string())
                    };
                    let mut r = agent()
                        .post(format!("{base}/events"))
                        .header("content-type", "application/json")
                        .header("Idempotency-Key", key)
                        .send(&body)
                        .unwrap();
                    let status = r.status().as_u16();
                    let v: Value =
                        serde_json::from_str(&r.body_mut().read_to_string().unwrap()).unwrap();
                    (status, v)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let same: Vec<&Value> = answers
        .iter()
        .enumerate()
        .filter(|(i, _)| i % 3 != 0)
        .map(|(_, (status, v))| {
            assert_eq!(*status, 200, "{v}");
            v
        })
        .collect();
    let ids: std::collections::BTreeSet<i64> = same
        .iter()
        .map(|v| v["event_id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids.len(), 1, "{ids:?}");
    assert_eq!(same.iter().filter(|v| v["replayed"] == false).count(), 1);
    let cross: Vec<u16> = answers
        .iter()
        .enumerate()
        .filter(|(i, _)| i % 3 == 0)
        .map(|(_, (status, _))| *status)
        .collect();
    assert_eq!(cross.iter().filter(|s| **s == 200).count(), 1, "{cross:?}");
    assert_eq!(cross.iter().filter(|s| **s == 409).count(), cross.len() - 1);
    let mut c = postgres::Client::connect(&db.url(), postgres::NoTls).unwrap();
    let n: i64 = c
        .query_one(
            "SELECT count(*) FROM events WHERE idempotency_key IN ('same', 'cross')",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(n, 2);
    let lines = a.messages().len() + b.messages().len();
    assert_eq!(lines, 2, "one line per stored event");
}

#[test]
fn scenarios_replay_and_refuse_a_conflicting_key_naming_both_lines() {
    let dir = tempfile::tempdir().unwrap();
    let ok = dir.path().join("replay.yaml");
    std::fs::write(
        &ok,
        r"name: replay
events:
  - user_id: ana
    event_type: signup_completed
    event_timestamp: 2024-03-01T10:00:00Z
    user_traits: {marketing_opt_in: true, plan: gold}
    idempotency_key: k1
    expect: {outcome: allow}
  - user_id: bo
    event_type: signup_completed
    event_timestamp: 2024-03-01T11:00:00Z
    user_traits: {marketing_opt_in: true}
  - user_id: ana
    event_type: signup_completed
    event_timestamp: 2024-03-01T12:00:00+02:00
    user_traits: {plan: gold, marketing_opt_in: true}
    idempotency_key: k1
    received_at: 2024-03-02T10:00:00Z
    expect: {outcome: allow}
",
    )
    .unwrap();
    let run = common::workbench(&["run", ok.to_str().unwrap(), "--format", "json"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let v: Value = serde_json::from_str(&run.stdout).unwrap();
    let d = &v["files"][0]["decisions"];
    assert_eq!(d[2]["event_id"], d[0]["event_id"], "{d}");
    assert_eq!(d[2]["replayed"], true, "{d}");
    assert!(d[0].get("replayed").is_none(), "{d}");
    assert_eq!(d[2]["outcome"], d[0]["outcome"]);
    assert_eq!(
        d[1]["event_id"].as_i64(),
        d[0]["event_id"].as_i64().map(|i| i + 1)
    );

    let bad = dir.path().join("conflict.yaml");
    std::fs::write(
        &bad,
        ok_text_with_conflict(&std::fs::read_to_string(&ok).unwrap()),
    )
    .unwrap();
    let run = common::workbench(&["run", bad.to_str().unwrap()]);
    assert_ne!(run.code, 0);
    // At the second use's key (its value), naming the first's line.
    let at = format!("{}:17:22:", bad.display());
    assert!(run.stderr.contains(&at), "{}", run.stderr);
    assert!(
        run.stderr.contains("`k1`")
            && run.stderr.contains("line 7")
            && run.stderr.contains("user_id"),
        "{}",
        run.stderr
    );

    let jsonl = dir.path().join("c.jsonl");
    std::fs::write(
        &jsonl,
        concat!(
            r#"{"user_id":"a","event_type":"x","event_timestamp":"2024-03-01T10:00:00Z","idempotency_key":"j"}"#,
            "\n",
            r#"{"user_id":"a","event_type":"x","event_timestamp":"2024-03-01T10:00:00Z","idempotency_key":"j"}"#,
            "\n",
            r#"{"user_id":"a","event_type":"y","event_timestamp":"2024-03-01T10:00:00Z","idempotency_key":"j"}"#,
            "\n",
        ),
    )
    .unwrap();
    let run = common::workbench(&["run", jsonl.to_str().unwrap()]);
    assert_ne!(run.code, 0);
    let at = format!("{}:3:", jsonl.display());
    assert!(run.stderr.contains(&at), "{}", run.stderr);
    assert!(
        run.stderr.contains("line 1") && run.stderr.contains("event_type"),
        "{}",
        run.stderr
    );
}

/// The replay scenario with its third event made another user's.
fn ok_text_with_conflict(text: &str) -> String {
    let mut lines: Vec<&str> = text.lines().collect();
    lines[12] = "  - user_id: carl";
    lines.join("\n") + "\n"
}
