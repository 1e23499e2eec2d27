//! A scenario run kept for exploring (the TUI, `explain`): every result, indexes by user and
//! delivery, and the scratch database that re-explains any event.

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
use crate::runner::{self, RunError, shard_of};
use crate::scenario::{Scenario, ScenarioError};
use crate::store::{SqliteStore, StoreError};

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
    pub rows: Vec<EventResult>,
    /// Rows whose decision delivered a message, in order.
    pub delivered: Vec<u32>,
    /// Each user's rows, in order.
    pub by_user: HashMap<Box<str>, Vec<u32>>,
    pub counts: OutcomeCounts,
    /// Expectations (passed, failed).
    pub expectations: (usize, usize),
    /// Each shard's scratch database (see `runner::shard_of`).
    stores: Vec<SqliteStore>,
}

impl Session {
    /// Load the scenario and its rules, and run it in a fresh in-memory database.
    pub fn load(
        scenario: &Path,
        rules_flag: Option<&Path>,
        progress: impl FnMut(usize),
    ) -> Result<Session, SessionError> {
        let p = RulesCache::new(rules_flag).plan(scenario)?;
        Session::run(p.scenario, p.rules_path, p.rules, progress)
    }

    /// Run on a thread per core (at most 8).
    pub fn run(
        scenario: Scenario,
        rules_path: PathBuf,
        rules: Arc<RuleSet>,
        progress: impl FnMut(usize),
    ) -> Result<Session, SessionError> {
        Session::run_sharded(
            scenario,
            rules_path,
            rules,
            runner::default_shards(),
            progress,
        )
    }

    /// Users are independent: decided on `shards` threads, each with its own scratch
    /// database, merged into the rows one database would give.
    pub fn run_sharded(
        scenario: Scenario,
        rules_path: PathBuf,
        rules: Arc<RuleSet>,
        shards: usize,
        progress: impl FnMut(usize),
    ) -> Result<Session, SessionError> {
        let mut rows = Vec::new();
        let (_, stores) = runner::run_sharded_keep(
            &scenario,
            &rules,
            shards,
            runner::SCRATCH_MIB,
            &mut Discard,
            progress,
            &mut rows,
        )?;
        let mut delivered = Vec::new();
        let mut by_user: HashMap<Box<str>, Vec<u32>> = HashMap::new();
        let mut counts = OutcomeCounts::default();
        let mut expectations = (0, 0);
        for (i, r) in rows.iter().enumerate() {
            let i = u32::try_from(i).unwrap_or(u32::MAX);
            if r.verdict.delivers() {
                delivered.push(i);
            }
            match by_user.get_mut(&r.user_id) {
                Some(v) => v.push(i),
                None => {
                    by_user.insert(r.user_id.clone(), vec![i]);
                }
            }
            counts.add(r.verdict.outcome);
            match r.passed() {
                Some(true) => expectations.0 += 1,
                Some(false) => expectations.1 += 1,
                None => {}
            }
        }
        Ok(Session {
            rules_path,
            rules,
            scenario,
            rows,
            delivered,
            by_user,
            counts,
            expectations,
            stores,
        })
    }

    /// Re-decide row `row` as of when it was processed, with its full trace.
    pub fn explain(&mut self, row: u32) -> Result<Option<(Event, Decision<'_>)>, StoreError> {
        let Some(r) = self.rows.get(row as usize) else {
            return Ok(None);
        };
        let (id, store) = (r.event_id, shard_of(&r.user_id, self.stores.len()));
        pipeline::explain(&mut self.stores[store], &self.rules, id)
    }

    /// The zone row `row`'s event is in (SPEC §7.2), looked up in the store whether or not its
    /// decision needed one.
    pub fn zone_of(&mut self, row: u32) -> Result<Option<ResolvedZone>, StoreError> {
        let Some(r) = self.rows.get(row as usize) else {
            return Ok(None);
        };
        let (id, store) = (r.event_id, shard_of(&r.user_id, self.stores.len()));
        pipeline::zone_of(&mut self.stores[store], &self.rules, id)
    }

    /// The `messages.txt` line a delivering row wrote.
    pub fn message_line(&self, row: u32) -> Option<String> {
        let r = self.rows.get(row as usize)?;
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
