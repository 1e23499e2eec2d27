//! Running a scenario through the pipeline and checking its expectations.

use std::collections::HashMap;

use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::pipeline::{Pipeline, PipelineError};
use crate::provider::Provider;
use crate::results::EventResult;
use crate::rules::{RuleSet, RulesError};
use crate::scenario::{Scenario, ScenarioError};
use crate::store::Store;

/// Events per commit in scenario runs (each event stays atomic; see `SqliteStore::batched`).
pub const BATCH: usize = 10_000;

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Scenario(#[from] ScenarioError),
    #[error(transparent)]
    Pipeline(#[from] PipelineError),
    #[error(transparent)]
    Rules(#[from] RulesError),
}

/// Run `scenario` in a fresh in-memory database, writing no messages.
pub fn run_scratch(scenario: &Scenario, rules: &RuleSet) -> Result<Vec<EventResult>, RunError> {
    let store = crate::store::SqliteStore::open_in_memory()
        .map_err(PipelineError::from)?
        .batched(BATCH);
    let mut pipeline = Pipeline::new(store, crate::provider::Discard);
    run(scenario, rules, &mut pipeline, |_| {})
}

/// Where each scheduled delivery's result is, until its line is written.
#[derive(Default)]
struct Held(HashMap<i64, usize>);

impl Held {
    /// Mark the results of `written` (event ids) as written at step `step`.
    fn written(&mut self, out: &mut [EventResult], written: &[i64], step: usize) {
        for id in written {
            if let Some(i) = self.0.remove(id) {
                out[i].written_at = Some(u32::try_from(step).unwrap_or(u32::MAX));
            }
        }
    }
}

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
    mut progress: impl FnMut(usize),
) -> Result<Vec<EventResult>, RunError> {
    let mut out: Vec<EventResult> = Vec::with_capacity(scenario.len);
    let mut types: HashMap<String, Arc<str>> = HashMap::new();
    let mut clock: Option<DateTime<Utc>> = None;
    let mut held = Held::default();
    for (i, step) in scenario.steps()?.enumerate() {
        let step = step?;
        let now = clock.map_or(step.received_at, |c| c.max(step.received_at));
        clock = Some(now);
        let due = pipeline.advance(rules, now)?;
        held.written(&mut out, &due, i);
        let event_type = if let Some(t) = types.get(&step.event.event_type) {
            t.clone()
        } else {
            let t: Arc<str> = step.event.event_type.as_str().into();
            types.insert(step.event.event_type.clone(), t.clone());
            t
        };
        let p = pipeline.process(rules, &step.event, step.received_at)?;
        let shadowed = p
            .decision
            .trace
            .shadowed()
            .map(|r| u16::try_from(r.rule).unwrap_or(u16::MAX))
            .collect();
        let verdict = p.decision.verdict;
        let written_at = match (verdict.delivers(), verdict.scheduled()) {
            // A replay records and writes nothing: its line is the original's.
            _ if p.replayed => None,
            (false, _) => None,
            (true, false) => Some(u32::try_from(i).unwrap_or(u32::MAX)),
            (true, true) => {
                held.0.insert(p.event_id, out.len());
                None
            }
        };
        let mismatches = step.expect.as_ref().map(|e| {
            let mut m = e.check(&verdict);
            for m in &mut m {
                m.line = u32::try_from(step.line_of(m.key)).unwrap_or(u32::MAX);
            }
            m
        });
        out.push(EventResult {
            step: u32::try_from(i).unwrap_or(u32::MAX),
            line: u32::try_from(step.line).unwrap_or(u32::MAX),
            name: step.name.map(String::into_boxed_str),
            event_type,
            user_id: step.event.user_id.into(),
            event_timestamp: step.event.event_timestamp,
            event_id: p.event_id,
            mismatches,
            verdict,
            shadowed,
            written_at,
            replayed: p.replayed,
        });
        let due = pipeline.advance(rules, now)?;
        held.written(&mut out, &due, i);
        if i % 1024 == 1023 {
            progress(i + 1);
        }
    }
    progress(out.len());
    let due = pipeline.advance(rules, DateTime::<Utc>::MAX_UTC)?;
    let end = out.len();
    held.written(&mut out, &due, end);
    pipeline.finish()?;
    Ok(out)
}
