//! Running a scenario through the pipeline and checking its expectations.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::pipeline::{Pipeline, PipelineError, Processed};
use crate::provider::Provider;
use crate::results::EventResult;
use crate::rules::{RuleSet, RulesError};
use crate::scenario::{Scenario, ScenarioError, Step};
use crate::store::Store;

/// Events per commit in scenario runs (each event stays atomic; see `SqliteStore::batched`).
pub const BATCH: usize = 10_000;

/// Events per commit on a scratch database (`SqliteStore::open_scratch`), which journals
/// nothing: each commit walks the pages cached since the last, so fewer commits cost less.
pub const SCRATCH_BATCH: usize = 50_000;

/// Memory for a run's scratch databases, in MiB, shared by its shards, unless the run says
/// otherwise (`--scratch-memory`): past it, they spill to temporary files. The 10M-event month
/// of issue #15 peaks at ~740 MiB of resident memory with 600 (and runs 1.3x faster than with
/// 256, which spilled twice the pages): 512 keeps a run well under 1 GiB.
pub const SCRATCH_MIB: u32 = 512;

/// Shards for a run that names none: one per core, at most 8 (users are independent, and
/// the output does not depend on the number).
pub fn default_shards() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get().clamp(1, 8))
}

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Scenario(#[from] ScenarioError),
    #[error(transparent)]
    Pipeline(#[from] PipelineError),
    #[error(transparent)]
    Rules(#[from] RulesError),
    /// Where the results go could not take them.
    #[error("cannot keep the results: {0}")]
    Results(#[from] std::io::Error),
}

/// Where a run's results go, in step order as they are decided.
pub trait ResultSink {
    /// The result of the next step.
    fn push(&mut self, r: EventResult) -> std::io::Result<()>;
    /// The held message of step `step` was written at step `at` (see
    /// [`EventResult::written_at`]).
    fn written(&mut self, step: u32, at: u32) -> std::io::Result<()>;
}

impl ResultSink for Vec<EventResult> {
    fn push(&mut self, r: EventResult) -> std::io::Result<()> {
        Vec::push(self, r);
        Ok(())
    }

    fn written(&mut self, step: u32, at: u32) -> std::io::Result<()> {
        if let Some(r) = self.get_mut(step as usize) {
            r.written_at = Some(at);
        }
        Ok(())
    }
}

/// Run `scenario` on fresh scratch databases, one shard per core (`diff` runs it twice),
/// writing no messages: the results of a one-database run.
pub fn run_scratch(scenario: &Scenario, rules: &RuleSet) -> Result<Vec<EventResult>, RunError> {
    let mut results = Vec::new();
    shard::run_sharded(
        scenario,
        rules,
        default_shards(),
        SCRATCH_MIB,
        &mut crate::provider::Discard,
        |_| {},
        &mut results,
    )?;
    Ok(results)
}

/// The step of each scheduled delivery, by event id, until its line is written.
#[derive(Default)]
struct Held(HashMap<i64, u32>);

impl Held {
    /// Mark the results of `written` (event ids) as written at step `step`.
    fn written(
        &mut self,
        out: &mut impl ResultSink,
        written: &[i64],
        step: usize,
    ) -> std::io::Result<()> {
        for id in written {
            if let Some(i) = self.0.remove(id) {
                out.written(i, u32::try_from(step).unwrap_or(u32::MAX))?;
            }
        }
        Ok(())
    }
}

mod shard;

pub use shard::{run_sharded, run_sharded_keep, shard_of};

/// Run every step of `scenario` in order; `progress` is told how many are done.
///
/// Scheduled deliveries follow the simulated clock of SPEC §7.5: the latest arrival seen so
/// far (`received_at`, else the event's timestamp). Before each event the clock moves to its
/// arrival and what is due is delivered; right after it, what is already due (a late
/// arrival) is; at the end, everything left.
pub fn run<S: Store, P: Provider>(
    scenario: &Scenario,
    rules: &RuleSet,
    pipeline: &mut Pipeline<S, P>,
    progress: impl FnMut(usize),
) -> Result<Vec<EventResult>, RunError> {
    let mut out: Vec<EventResult> = Vec::with_capacity(scenario.len);
    run_into(scenario, rules, pipeline, progress, &mut out)?;
    Ok(out)
}

/// [`run`], handing each result to `out` as it is decided instead of keeping them all.
/// Returns how many steps ran. A streamed scenario is parsed as it runs (a second thread for
/// parsing measured no faster on two busy cores, and its allocations freed on another thread
/// cost more): a line that does not parse stops the run with its error, and a file with no
/// event is an error too.
pub fn run_into<S: Store, P: Provider>(
    scenario: &Scenario,
    rules: &RuleSet,
    pipeline: &mut Pipeline<S, P>,
    progress: impl FnMut(usize),
    out: &mut impl ResultSink,
) -> Result<usize, RunError> {
    let n = run_steps(scenario.steps()?, rules, pipeline, progress, out)?;
    if n == 0 && scenario.is_streamed() {
        return Err(scenario.empty_error().into());
    }
    Ok(n)
}

/// One name shared by every event of its type.
pub(crate) fn interned(types: &mut HashMap<String, Arc<str>>, name: &str) -> Arc<str> {
    if let Some(t) = types.get(name) {
        return t.clone();
    }
    let t: Arc<str> = name.into();
    types.insert(name.to_string(), t.clone());
    t
}

/// The result of `step` (the `at`-th) as `p` decided it; `written_at` is the caller's.
pub(crate) fn event_result(
    step: Step,
    at: u32,
    p: Processed<'_>,
    event_type: Arc<str>,
) -> EventResult {
    let shadowed = p
        .decision
        .trace
        .shadowed()
        .map(|r| u16::try_from(r.rule).unwrap_or(u16::MAX))
        .collect();
    let verdict = p.decision.verdict;
    let mismatches = step.expect.as_ref().map(|e| {
        let mut m = e.check(&verdict);
        for m in &mut m {
            m.line = u32::try_from(step.line_of(m.key)).unwrap_or(u32::MAX);
        }
        m
    });
    EventResult {
        step: at,
        line: u32::try_from(step.line).unwrap_or(u32::MAX),
        name: step.name.map(String::into_boxed_str),
        event_type,
        user_id: step.event.user_id.into(),
        event_timestamp: step.event.event_timestamp,
        event_id: p.event_id,
        mismatches,
        verdict,
        shadowed,
        written_at: None,
        replayed: p.replayed,
    }
}

fn run_steps<S: Store, P: Provider>(
    steps: impl Iterator<Item = Result<Step, ScenarioError>>,
    rules: &RuleSet,
    pipeline: &mut Pipeline<S, P>,
    mut progress: impl FnMut(usize),
    out: &mut impl ResultSink,
) -> Result<usize, RunError> {
    let mut types: HashMap<String, Arc<str>> = HashMap::new();
    let mut clock: Option<DateTime<Utc>> = None;
    let mut held = Held::default();
    let mut count = 0;
    for (i, step) in steps.enumerate() {
        let step = step?;
        let at = u32::try_from(i).unwrap_or(u32::MAX);
        let now = clock.map_or(step.received_at, |c| c.max(step.received_at));
        clock = Some(now);
        let due = pipeline.advance(rules, now)?;
        held.written(out, &due, i)?;
        let event_type = interned(&mut types, &step.event.event_type);
        let p = pipeline.process(rules, &step.event, step.received_at)?;
        let mut r = event_result(step, at, p, event_type);
        r.written_at = match (r.verdict.delivers(), r.verdict.scheduled()) {
            // A replay records and writes nothing: its line is the original's.
            _ if r.replayed => None,
            (false, _) => None,
            (true, false) => Some(at),
            (true, true) => {
                held.0.insert(r.event_id, at);
                None
            }
        };
        out.push(r)?;
        let due = pipeline.advance(rules, now)?;
        held.written(out, &due, i)?;
        count = i + 1;
        if i % 1024 == 1023 {
            progress(count);
        }
    }
    progress(count);
    let due = pipeline.advance(rules, DateTime::<Utc>::MAX_UTC)?;
    held.written(out, &due, count)?;
    pipeline.finish()?;
    Ok(count)
}
