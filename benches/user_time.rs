//! The cost of user time: the `run` pipeline on one generated stream with the bundled rules
//! (zones, quiet hours, a `calendar: user` rule) next to the same rules with user time taken
//! out, alternating in one process; then the scheduler delivering 100,000 due held sends to a
//! messages file. `cargo bench --bench user_time`; `BENCH_EVENTS`, `BENCH_USERS`,
//! `BENCH_REPEAT`, `BENCH_DUE` scale it. See BENCHMARKS.md.

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use common::{env, generated, median, run};
use workbench::event::Event;
use workbench::pipeline::Pipeline;
use workbench::provider::MessagesFile;
use workbench::rules::RuleSet;
use workbench::runner;
use workbench::store::SqliteStore;

/// The bundled rules without user time: no `timezone:`, no `quiet_hours:`, UTC days.
fn without_user_time(src: &str) -> String {
    let mut out = String::new();
    let mut skipping = false;
    for line in src.lines() {
        if line.starts_with("timezone:") || line.starts_with("quiet_hours:") {
            skipping = line.starts_with("quiet_hours:");
            continue;
        }
        if skipping && line.starts_with("  ") {
            continue;
        }
        skipping = false;
        if line.trim() == "calendar: user" {
            continue;
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

fn main() {
    let events = env("BENCH_EVENTS", 300_000);
    let users = env("BENCH_USERS", 30_000);
    let repeat = env("BENCH_REPEAT", 5).max(1);
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let src = std::fs::read_to_string(root.join("rules/rules.yaml")).unwrap();
    let with = RuleSet::from_yaml(Path::new("rules.yaml"), &src).unwrap();
    let without = RuleSet::from_yaml(Path::new("plain.yaml"), &without_user_time(&src)).unwrap();
    assert!(with.policy.quiet_hours.is_some() && without.policy.quiet_hours.is_none());

    let (dir, scenario) = generated(events, users);

    let run = |rules: &RuleSet| run(&scenario, rules);
    let (mut a, mut b) = (Vec::new(), Vec::new());
    let mut scheduled = 0;
    for _ in 0..repeat {
        let (t, r) = run(&without);
        a.push(t);
        let (t, r2) = run(&with);
        b.push(t);
        scheduled = r2.iter().filter(|r| r.verdict.scheduled()).count();
        drop(r);
    }
    #[allow(clippy::cast_precision_loss)] // event counts far below 2^52
    let rate = |d: Duration| events as f64 / d.as_secs_f64();
    let (a, b) = (median(&a), median(&b));
    println!(
        "{events} events over {users} users, in-memory store, median of {repeat}, alternating"
    );
    println!();
    println!("| rules | events/s | cost vs without user time |");
    println!("|---|---:|---:|");
    println!(
        "| bundled rules without user time | {:.0} | 1.00x |",
        rate(a)
    );
    println!(
        "| bundled rules (zones, quiet hours, calendar: user) | {:.0} | {:.2}x |",
        rate(b),
        b.as_secs_f64() / a.as_secs_f64()
    );
    println!("({scheduled} sends held by quiet hours in the run with user time)");

    scheduler(&with, dir.path(), env("BENCH_DUE", 100_000), repeat);
}

/// Hold `n` sends (one user each, at 23:00 London time), then time `deliver_due` writing
/// them all to a messages file, oldest first.
fn scheduler(rules: &RuleSet, dir: &Path, n: usize, repeat: usize) {
    let night: DateTime<Utc> = "2025-01-15T23:00:00Z".parse().unwrap();
    let mut times = Vec::new();
    for round in 0..repeat {
        let db = dir.join(format!("due{round}.db"));
        let messages = dir.join(format!("due{round}.txt"));
        let store = SqliteStore::open(&db).unwrap().batched(runner::BATCH);
        let provider = MessagesFile::append(&messages, false).unwrap();
        let mut p = Pipeline::new(store, provider);
        for i in 0..n {
            let e = Event {
                user_id: format!("u{i}"),
                event_type: "salary_received".into(),
                event_timestamp: night,
                properties: serde_json::Map::new(),
                user_traits: serde_json::from_value(serde_json::json!({"marketing_opt_in": true}))
                    .ok(),
                idempotency_key: None,
            };
            let d = p.process(rules, &e, night).unwrap();
            assert!(d.decision.verdict.scheduled());
        }
        p.finish().unwrap();
        let t = Instant::now();
        let due = p
            .deliver_due(rules, "2025-01-16T09:00:00Z".parse().unwrap())
            .unwrap();
        p.finish().unwrap();
        times.push(t.elapsed());
        assert_eq!(due.len(), n);
        let lines = std::fs::read_to_string(&messages).unwrap().lines().count();
        assert_eq!(lines, n);
    }
    times.sort();
    let t = times[times.len() / 2];
    #[allow(clippy::cast_precision_loss)]
    let rate = n as f64 / t.as_secs_f64();
    println!();
    println!(
        "scheduler: {n} due held sends claimed and written to messages.txt (SQLite file, WAL) in {t:.2?}, median of {repeat}: {rate:.0} messages/s"
    );
}
