//! workbench: a rule engine for behavioural marketing messages, shared by the terminal
//! workbench, the headless runner and the HTTP service. The pure core (rules, events, the
//! engine, scenarios, lints, diffs) is the `workbench-core` crate, re-exported here; this
//! crate adds storage, the pipeline, delivery and the three front ends.

pub use workbench_core::{
    diff, engine, event, explain, generate, lint, results, rules, scenario, source, time, yaml,
};

pub mod diff_base;
pub mod diff_run;
pub mod import;
pub mod pin;
pub mod pipeline;
pub mod plan;
pub mod provider;
pub mod report;
pub mod runner;
pub mod serve;
pub mod session;
pub mod store;
pub mod tui;
pub mod why_not;
