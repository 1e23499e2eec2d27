//! A scenario run kept for exploring (the TUI, `explain`): every result (on disk, see
//! `rows`), each user's rows, and the scratch databases that re-explain any event.

mod rows;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::engine::{Decision, ResolvedZone};
use crate::event::Event;
use crate::pipeline;
use crate::plan::{PlanError, RulesCache};
use crate::provider::{Discard, Message};
use crate::results::{EventResult, OutcomeCounts};
use crate::rules::{RuleSet, RulesError};
use crate::runner::ResultSink;
use crate::runner::{self, RunError, shard_of};
use crate::scenario::{Scenario, ScenarioError};
use crate::store::{SqliteStore, StoreError};

pub use rows::{Decisions, Rows, RowsWriter, Sent};

/// The scratch databases' page cache while a session runs, shared by the shards, by default:
/// less than `run`'s, because a session also keeps about 25 bytes per event in memory (see
/// `rows`), and a month of 10 million events stays under 1 GiB.
pub const SCRATCH_MIB: u32 = 384;

/// What a session's run may use: threads, and the scratch databases' page cache (past it they
/// spill to their temporary files).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    pub shards: usize,
    pub scratch_mib: u32,
}

impl Default for Budget {
    fn default() -> Budget {
        Budget {
            shards: runner::default_shards(),
            scratch_mib: SCRATCH_MIB,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error(transparent)]
    Plan(#[from] PlanError),
    #[error(transparent)]
    Rules(#[from] RulesError),
    #[error(transparent)]
    Scenario(#[from] ScenarioError),
    #[error(transparent)]
    Run(#[from] RunError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

pub struct Session {
    pub rules_path: PathBuf,
    pub rules: Arc<RuleSet>,
    pub scenario: Scenario,
    pub rows: Arc<Rows>,
    /// Each user's rows, in order.
    pub by_user: HashMap<Box<str>, Vec<u32>>,
    pub counts: OutcomeCounts,
    /// Expectations (passed, failed).
    pub expectations: (usize, usize),
    /// Each shard's scratch database (see `runner::shard_of`).
    stores: Vec<SqliteStore>,
}

impl Session {
    /// Load the scenario and its rules, and run it with the default budget.
    pub fn load(
        scenario: &Path,
        rules_flag: Option<&Path>,
        progress: impl FnMut(usize),
    ) -> Result<Session, SessionError> {
        Session::load_with(scenario, rules_flag, Budget::default(), progress)
    }

    pub fn load_with(
        scenario: &Path,
        rules_flag: Option<&Path>,
        budget: Budget,
        progress: impl FnMut(usize),
    ) -> Result<Session, SessionError> {
        let p = RulesCache::new(rules_flag).plan(scenario)?;
        Session::run_with(p.scenario, p.rules_path, p.rules, budget, progress)
    }

    /// Run with the default budget: a thread per core (at most 8).
    pub fn run(
        scenario: Scenario,
        rules_path: PathBuf,
        rules: Arc<RuleSet>,
        progress: impl FnMut(usize),
    ) -> Result<Session, SessionError> {
        Session::run_with(scenario, rules_path, rules, Budget::default(), progress)
    }

    /// Users are independent: decided on `budget.shards` threads, each with its own scratch
    /// database, merged into the rows one database would give.
    pub fn run_with(
        scenario: Scenario,
        rules_path: PathBuf,
        rules: Arc<RuleSet>,
        budget: Budget,
        progress: impl FnMut(usize),
    ) -> Result<Session, SessionError> {
        let mut sink = Indexed {
            rows: RowsWriter::new().map_err(RunError::Results)?,
            by_user: HashMap::new(),
            counts: OutcomeCounts::default(),
            expectations: (0, 0),
        };
        let (_, stores) = runner::run_sharded_keep(
            &scenario,
            &rules,
            budget.shards,
            budget.scratch_mib,
            &mut Discard,
            progress,
            &mut sink,
        )?;
        Ok(Session {
            rules_path,
            rules,
            scenario,
            rows: Arc::new(sink.rows.finish().map_err(RunError::Results)?),
            by_user: sink.by_user,
            counts: sink.counts,
            expectations: sink.expectations,
            stores,
        })
    }

    /// Row `row` in full.
    pub fn row(&self, row: u32) -> Option<Arc<EventResult>> {
        self.rows.get(row)
    }

    /// Re-decide row `row` as of when it was processed, with its full trace.
    pub fn explain(&mut self, row: u32) -> Result<Option<(Event, Decision<'_>)>, StoreError> {
        let Some(r) = self.rows.get(row) else {
            return Ok(None);
        };
        let (id, store) = (r.event_id, shard_of(&r.user_id, self.stores.len()));
        pipeline::explain(&mut self.stores[store], &self.rules, id)
    }

    /// The zone row `row`'s event is in (SPEC §7.2), looked up in the store whether or not its
    /// decision needed one.
    pub fn zone_of(&mut self, row: u32) -> Result<Option<ResolvedZone>, StoreError> {
        let Some(r) = self.rows.get(row) else {
            return Ok(None);
        };
        let (id, store) = (r.event_id, shard_of(&r.user_id, self.stores.len()));
        pipeline::zone_of(&mut self.stores[store], &self.rules, id)
    }

    /// The `messages.txt` line a delivering row wrote.
    pub fn message_line(&self, row: u32) -> Option<String> {
        let r = self.rows.get(row)?;
        Message::for_verdict(
            &self.rules,
            r.event_timestamp,
            &r.user_id,
            r.event_id,
            &r.verdict,
        )
        .map(|m| m.line())
    }
}

/// The rows as they arrive, with each user's rows, the counts and the expectations.
struct Indexed {
    rows: RowsWriter,
    by_user: HashMap<Box<str>, Vec<u32>>,
    counts: OutcomeCounts,
    expectations: (usize, usize),
}

impl ResultSink for Indexed {
    fn push(&mut self, r: EventResult) -> std::io::Result<()> {
        let i = u32::try_from(self.rows.len()).unwrap_or(u32::MAX);
        match self.by_user.get_mut(&r.user_id) {
            Some(v) => v.push(i),
            None => {
                self.by_user.insert(r.user_id.clone(), vec![i]);
            }
        }
        self.counts.add(r.verdict.outcome);
        match r.passed() {
            Some(true) => self.expectations.0 += 1,
            Some(false) => self.expectations.1 += 1,
            None => {}
        }
        self.rows.push(r)
    }

    fn written(&mut self, step: u32, at: u32) -> std::io::Result<()> {
        self.rows.written(step, at)
    }
}
