//! workbench-core: the pure core of the workbench. Rules and events parsed into validated
//! types, the engine that decides an event with its full trace, scenarios and their
//! expectations, lints and rule-version diffs. No database, terminal, clock or network here:
//! the `workbench` crate runs this core through its stores, its TUI, its runner and its
//! HTTP service.

#[macro_use]
mod names;

pub mod diff;
pub mod engine;
pub mod event;
pub mod explain;
pub mod fmt;
pub mod generate;
pub mod lint;
pub mod results;
pub mod rules;
pub mod scenario;
pub mod source;
pub mod time;
pub mod yaml;
