//! The `run` pipeline on a generated stream (default 1,000,000 events over 100,000 users),
//! against raw SQLite inserts of the same rows. `cargo bench --bench pipeline`;
//! `BENCH_EVENTS` / `BENCH_USERS` scale it, `BENCH_STORES=memory,file,scratch,sharded` picks
//! stores. Prints one table; see BENCHMARKS.md.

use std::path::Path;
use std::time::{Duration, Instant};

use rusqlite::{Connection, params};
use workbench::engine::Outcome;
use workbench::event::format_ts;
use workbench::generate::{GenSpec, generate};
use workbench::pipeline::Pipeline;
use workbench::provider::Discard;
use workbench::results::EventResult;
use workbench::rules::RuleSet;
use workbench::runner;
use workbench::scenario::Scenario;
use workbench::store::SqliteStore;

// As the `workbench` binary (src/main.rs), so the figures are what a run gets.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn peak_rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

fn main() {
    let events = env("BENCH_EVENTS", 1_000_000);
    let users = env("BENCH_USERS", 100_000);
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let rules = RuleSet::load(&root.join("rules/rules.yaml")).expect("bundled rules load");

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bench.jsonl");
    let t = Instant::now();
    let mut out = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    generate(
        GenSpec {
            users,
            events,
            seed: 42,
        },
        &mut out,
    )
    .unwrap();
    drop(out);
    let scenario = Scenario::load(&path).unwrap();
    println!(
        "generated and validated {events} events over {users} users in {:.1?}",
        t.elapsed()
    );

    let batch = runner::BATCH;
    let memory = || SqliteStore::open_in_memory().unwrap().batched(batch);
    let file = |name: &str| {
        SqliteStore::open(&dir.path().join(name))
            .unwrap()
            .batched(batch)
    };
    let stores = std::env::var("BENCH_STORES").unwrap_or_else(|_| "memory,file,sharded".into());
    let repeat = env("BENCH_REPEAT", 3).max(1);
    #[allow(clippy::cast_precision_loss)] // event counts far below 2^52
    let rate = |d: Duration| events as f64 / d.as_secs_f64();
    let median = |mut v: Vec<Duration>| {
        v.sort();
        v[v.len() / 2]
    };
    println!();
    println!(
        "| store | pipeline, median of {repeat} (events/s) | best | raw inserts, median (events/s) | pipeline cost vs raw (medians) |"
    );
    println!("|---|---:|---:|---:|---:|");
    let mut results = Vec::new();
    let mut rss_after_run = 0.0;
    for store in stores.split(',') {
        // `sharded`: `run`'s default, one scratch database per core (the baseline stays one
        // connection's raw inserts, into a scratch database).
        let shards = (store == "sharded").then(runner::default_shards);
        let (name, open): (&str, &dyn Fn(&str) -> SqliteStore) = match store {
            "memory" => ("in-memory", &|_| memory()),
            "sharded" => (
                "sharded scratch (one shard per core, vs one connection's raw inserts)",
                &|_| {
                    SqliteStore::open_scratch(runner::SCRATCH_MIB)
                        .unwrap()
                        .batched(batch)
                },
            ),
            "file" => ("file (WAL)", &file),
            "scratch" => ("scratch (256 MiB cache, spills to a file)", &|_| {
                SqliteStore::open_scratch(256).unwrap().batched(batch)
            }),
            other => panic!("unknown store `{other}`"),
        };
        // Alternate pipeline and baseline runs so neither gets a warmer process.
        let (mut ps, mut raws) = (Vec::new(), Vec::new());
        for i in 0..repeat {
            let _ = std::fs::remove_file(dir.path().join("p.db"));
            let _ = std::fs::remove_file(dir.path().join("b.db"));
            let (p, r) = match shards {
                Some(n) => sharded(&scenario, &rules, n),
                None => pipeline(&scenario, &rules, open("p.db")),
            };
            if i == 0 && rss_after_run == 0.0 {
                rss_after_run = peak_rss_mib();
            }
            ps.push(p);
            raws.push(baseline(&scenario, &r, open("b.db")));
            results = r;
        }
        let best = *ps.iter().min().unwrap();
        let (p, raw) = (median(ps), median(raws));
        println!(
            "| {name} | {:.0} | {:.0} | {:.0} | {:.2}x |",
            rate(p),
            rate(best),
            rate(raw),
            p.as_secs_f64() / raw.as_secs_f64()
        );
    }
    let outcomes = |o| results.iter().filter(|r| r.verdict.outcome == o).count();
    println!();
    println!(
        "outcomes: allow {}, suppress {}, alert {}, none {}",
        outcomes(Outcome::Allow),
        outcomes(Outcome::Suppress),
        outcomes(Outcome::Alert),
        outcomes(Outcome::None)
    );
    println!("peak RSS after the in-memory pipeline run: {rss_after_run:.0} MiB");
    println!(
        "peak RSS overall (the baseline holds every event): {:.0} MiB",
        peak_rss_mib()
    );
}

fn pipeline(
    scenario: &Scenario,
    rules: &RuleSet,
    store: SqliteStore,
) -> (Duration, Vec<EventResult>) {
    let mut p = Pipeline::new(store, Discard);
    let t = Instant::now();
    let results = runner::run(scenario, rules, &mut p, |_| {}).unwrap();
    (t.elapsed(), results)
}

fn sharded(scenario: &Scenario, rules: &RuleSet, shards: usize) -> (Duration, Vec<EventResult>) {
    let mut results = Vec::new();
    let t = Instant::now();
    runner::run_sharded(
        scenario,
        rules,
        shards,
        runner::SCRATCH_MIB,
        &mut Discard,
        |_| {},
        &mut results,
    )
    .unwrap();
    (t.elapsed(), results)
}

/// The same rows, inserted with prepared statements in transactions of 10,000 events.
#[allow(clippy::needless_pass_by_value)] // the store is this run's own, dropped with it
fn baseline(scenario: &Scenario, results: &[EventResult], store: SqliteStore) -> Duration {
    // Parsed before the clock starts: the baseline measures SQLite alone.
    let events: Vec<_> = scenario
        .steps()
        .unwrap()
        .map(|s| s.unwrap().event)
        .collect();
    let conn: &Connection = store.connection();
    let t = Instant::now();
    for chunk in results.chunks(10_000) {
        let tx = conn.unchecked_transaction().unwrap();
        {
            let mut ev = tx.prepare_cached("INSERT INTO events (user_id, event_type, event_timestamp, properties, created_at) VALUES (?1, ?2, ?3, ?4, ?5)").unwrap();
            let mut tr = tx.prepare_cached("INSERT INTO user_traits (id, event_id, email, country, marketing_opt_in, risk_segment, extra) VALUES (?1, ?1, ?2, ?3, ?4, ?5, ?6)").unwrap();
            let mut de = tx.prepare_cached("INSERT INTO decisions (id, user_id, event_id, event_type, event_timestamp, matched_rule, action_type, outcome, reason, reason_code, template_name, channel, created_at) VALUES (?2, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)").unwrap();
            let mut se = tx.prepare_cached("INSERT INTO send_requests (id, user_id, event_id, event_timestamp, template_name, channel, reason, created_at) VALUES (?2, ?1, ?2, ?3, ?4, ?5, ?6, ?7)").unwrap();
            let mut su = tx.prepare_cached("INSERT INTO suppressions (id, user_id, event_id, template_name, suppression_reason, created_at) VALUES (?2, ?1, ?2, ?3, ?4, ?5)").unwrap();
            for r in chunk {
                let e = &events[r.step as usize];
                let v = &r.verdict;
                let ts = format_ts(e.event_timestamp);
                let props = serde_json::to_string(&e.properties).unwrap();
                ev.execute(params![e.user_id, e.event_type, ts, props, ts])
                    .unwrap();
                let id = tx.last_insert_rowid();
                if let Some(t) = &e.user_traits {
                    let extra = serde_json::to_string(&t.extra).unwrap();
                    tr.execute(params![
                        id,
                        t.email,
                        t.country,
                        t.marketing_opt_in,
                        t.risk_segment,
                        extra
                    ])
                    .unwrap();
                }
                de.execute(params![
                    e.user_id,
                    id,
                    e.event_type,
                    ts,
                    v.matched_rule,
                    v.action_type.as_str(),
                    v.outcome.as_str(),
                    v.reason,
                    v.reason_code.as_str(),
                    v.template_name,
                    v.channel.map(workbench::rules::Channel::as_str),
                    ts
                ])
                .unwrap();
                match v.outcome {
                    Outcome::Allow | Outcome::Alert => {
                        se.execute(params![
                            e.user_id,
                            id,
                            ts,
                            v.template_name,
                            v.channel.map(workbench::rules::Channel::as_str),
                            format!("rule:{}", v.matched_rule.as_deref().unwrap_or_default()),
                            ts
                        ])
                        .unwrap();
                    }
                    Outcome::Suppress => {
                        su.execute(params![e.user_id, id, v.template_name, v.reason, ts])
                            .unwrap();
                    }
                    Outcome::None => {}
                }
            }
        }
        tx.commit().unwrap();
    }
    t.elapsed()
}
