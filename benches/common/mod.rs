//! What the in-process benchmarks share: their knobs, one generated stream, one timed run of
//! the pipeline, medians.

use std::time::{Duration, Instant};

use workbench::generate::{GenSpec, generate};
use workbench::pipeline::Pipeline;
use workbench::provider::Discard;
use workbench::results::EventResult;
use workbench::rules::RuleSet;
use workbench::runner;
use workbench::scenario::Scenario;
use workbench::store::SqliteStore;

/// A `BENCH_*` knob, or its default.
pub fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// `workbench gen --events EVENTS --users USERS --seed 42`, loaded; the directory holds it.
pub fn generated(events: usize, users: usize) -> (tempfile::TempDir, Scenario) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bench.jsonl");
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
    (dir, scenario)
}

/// One `run` of `scenario` through the pipeline on an in-memory store, timed.
pub fn run(scenario: &Scenario, rules: &RuleSet) -> (Duration, Vec<EventResult>) {
    let store = SqliteStore::open_in_memory()
        .unwrap()
        .batched(runner::BATCH);
    let mut p = Pipeline::new(store, Discard);
    let t = Instant::now();
    let results = runner::run(scenario, rules, &mut p, |_| {}).unwrap();
    (t.elapsed(), results)
}

pub fn median(times: &[Duration]) -> Duration {
    let mut v = times.to_vec();
    v.sort();
    v[v.len() / 2]
}
