//! The cost of the guards across rules: the `run` pipeline on one generated stream with the
//! bundled seed rules (`rules/rules.yaml`), with `rules/growth.yaml` (consent, holdout, a
//! daily cap, Liquid templates, quiet hours), and with growth.yaml without its cap (the cap
//! lookup's cost), alternating in one process. `cargo bench --bench guards`;
//! `BENCH_EVENTS`, `BENCH_USERS`, `BENCH_REPEAT` scale it. See BENCHMARKS.md.

mod common;

use std::path::Path;
use std::time::Duration;

use common::{env, generated, median, run};
use workbench::rules::RuleSet;

/// growth.yaml without its `frequency_caps:` block.
fn without_caps(src: &str) -> String {
    let mut out = String::new();
    let mut skipping = false;
    for line in src.lines() {
        if line.starts_with("frequency_caps:") {
            skipping = true;
            continue;
        }
        if skipping && (line.starts_with("  ") || line.is_empty()) {
            continue;
        }
        skipping = false;
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
    let seed = RuleSet::load(&root.join("rules/rules.yaml")).unwrap();
    let growth_src = std::fs::read_to_string(root.join("rules/growth.yaml")).unwrap();
    let growth = RuleSet::from_yaml(Path::new("growth.yaml"), &growth_src).unwrap();
    let uncapped =
        RuleSet::from_yaml(Path::new("uncapped.yaml"), &without_caps(&growth_src)).unwrap();
    assert!(uncapped.policy.frequency_caps.is_empty() && !growth.policy.frequency_caps.is_empty());

    let (_dir, scenario) = generated(events, users);

    let run = |rules: &RuleSet| run(&scenario, rules);
    let sets: [(&str, &RuleSet); 3] = [
        ("rules/rules.yaml (the seed rules, user time)", &seed),
        ("rules/growth.yaml without its cap", &uncapped),
        ("rules/growth.yaml (every guard)", &growth),
    ];
    let mut times: Vec<Vec<Duration>> = vec![Vec::new(); sets.len()];
    let mut stops = String::new();
    for _ in 0..repeat {
        for (i, (_, rules)) in sets.iter().enumerate() {
            let (t, results) = run(rules);
            times[i].push(t);
            if i == 2 {
                stops = workbench::results::guard_stops(&results)
                    .iter()
                    .map(|(g, n)| format!("{g} {n}"))
                    .collect::<Vec<_>>()
                    .join(", ");
            }
        }
    }
    #[allow(clippy::cast_precision_loss)] // event counts far below 2^52
    let rate = |d: Duration| events as f64 / d.as_secs_f64();
    let base = median(&times[0]);
    println!(
        "{events} events over {users} users, in-memory store, median of {repeat}, alternating"
    );
    println!();
    println!("| rules | events/s | cost vs the seed rules |");
    println!("|---|---:|---:|");
    for (i, (name, _)) in sets.iter().enumerate() {
        let t = median(&times[i]);
        println!(
            "| {name} | {:.0} | {:.2}x |",
            rate(t),
            t.as_secs_f64() / base.as_secs_f64()
        );
    }
    let (capped, uncapped) = (median(&times[2]), median(&times[1]));
    #[allow(clippy::cast_precision_loss)]
    let per_event = (capped.as_secs_f64() - uncapped.as_secs_f64()) / events as f64 * 1e6;
    println!();
    println!("the cap's cost: {per_event:.2} µs per event (growth.yaml with vs without its cap)");
    println!("stopped by, with every guard: {stops}");
}
