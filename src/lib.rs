//! workbench: a rule engine for behavioural marketing messages, shared by the terminal
//! workbench, the headless runner and the HTTP service.

pub mod diff;
pub mod engine;
pub mod event;
pub mod generate;
pub mod import;
pub mod lint;
pub mod pipeline;
pub mod provider;
pub mod report;
pub mod rules;
pub mod runner;
pub mod scenario;
pub mod serve;
pub mod session;
pub mod source;
pub mod store;
pub mod tui;
pub mod yaml;
