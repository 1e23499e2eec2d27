//! Cost per event as histories grow (issue #15): the same stream size, users with about 10
//! prior events each against users with about 10,000, timing only the events after the
//! history is in. `cargo bench --bench history`; `BENCH_PRIOR` (events before the timed
//! ones), `BENCH_TIMED`, `BENCH_REPEAT` scale it. Prints one table; see BENCHMARKS.md.

#[allow(dead_code)] // `run` times a whole run; this bench times part of one
mod common;

use std::time::{Duration, Instant};

use common::{env, generated, median};
use workbench::pipeline::Pipeline;
use workbench::provider::Discard;
use workbench::rules::RuleSet;
use workbench::runner;
use workbench::scenario::Scenario;
use workbench::store::SqliteStore;

/// One run of `scenario`: the time per event of the steps after the first `prior`.
fn timed(scenario: &Scenario, rules: &RuleSet, prior: usize) -> Duration {
    let store = SqliteStore::open_in_memory()
        .unwrap()
        .batched(runner::BATCH);
    let mut p = Pipeline::new(store, Discard);
    let mut from: Option<(usize, Instant)> = None;
    let n = scenario.len;
    runner::run(scenario, rules, &mut p, |done| {
        if from.is_none() && done >= prior {
            from = Some((done, Instant::now()));
        }
    })
    .unwrap();
    let (start, at) = from.expect("the run passes `prior`");
    at.elapsed() / u32::try_from((n - start).max(1)).unwrap_or(u32::MAX)
}

fn main() {
    let prior = env("BENCH_PRIOR", 200_000);
    let timed_events = env("BENCH_TIMED", 20_000);
    let repeat = env("BENCH_REPEAT", 3).max(1);
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let rules = RuleSet::load(&root.join("rules/rules.yaml")).expect("bundled rules load");
    let cases = [
        ("about 10", (prior / 10).max(1)),
        ("about 10,000", (prior / 10_000).max(1)),
    ];
    let scenarios: Vec<(tempfile::TempDir, Scenario)> = cases
        .iter()
        .map(|(_, users)| generated(prior + timed_events, *users))
        .collect();
    // Alternate the two so neither gets a warmer process.
    let mut times = vec![Vec::new(); cases.len()];
    for _ in 0..repeat {
        for (i, (_, s)) in scenarios.iter().enumerate() {
            times[i].push(timed(s, &rules, prior));
        }
    }
    println!();
    println!(
        "| prior events a user ({prior} events stored first) | users | µs per event after them, median of {repeat} | vs the first row |"
    );
    println!("|---|---:|---:|---:|");
    let first = median(&times[0]);
    for ((label, users), t) in cases.iter().zip(&times) {
        let m = median(t);
        println!(
            "| {label} | {users} | {:.2} | {:.2}x |",
            m.as_secs_f64() * 1e6,
            m.as_secs_f64() / first.as_secs_f64()
        );
    }
}
