//! A run sharded by user across worker threads, each with its own scratch database, merged
//! in arrival order. Users are independent (every lookup the engine asks for is one user's,
//! before one event id), so a shard decides its users' events exactly as one database would,
//! given the same event ids: the merge numbers the events as one database would, keeps the
//! held sends of every shard on the simulated clock of SPEC §7.5, and writes `messages.txt`
//! itself, so results, reports and lines are byte-identical to a one-shard run.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

use chrono::{DateTime, Utc};

use super::{ResultSink, RunError, SCRATCH_BATCH, event_result, interned};
use crate::pipeline::{Pipeline, PipelineError};
use crate::provider::{Discard, Message, Provider};
use crate::results::EventResult;
use crate::rules::RuleSet;
use crate::scenario::{Scenario, Step};
use crate::store::{SqliteStore, micros};

/// Steps dispatched at a time, and chunks in flight (so shards work while the merge runs).
const CHUNK: usize = 1024;
const DEPTH: usize = 4;

/// The shard of `user` among `shards`: a stable hash (FNV-1a), the same on every run and
/// machine.
pub fn shard_of(user: &str, shards: usize) -> usize {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in user.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    usize::try_from(h % u64::try_from(shards.max(1)).unwrap_or(1)).unwrap_or(0)
}

/// One event for a shard: its step, and the id it takes (`None`: a replay of an earlier
/// event's idempotency key, which takes none).
struct Job {
    at: u32,
    id: Option<i64>,
    step: Step,
}

type Decided = Result<Vec<EventResult>, RunError>;

/// A shard: decide each job in a scratch database of its own, answer each batch in order.
/// After the last batch, one more (empty) answer says the database committed.
/// Its database is handed back when all went well (the workbench re-explains events from it).
fn shard(
    rules: &RuleSet,
    cache_mib: u32,
    jobs: &Receiver<Vec<Job>>,
    out: &SyncSender<Decided>,
) -> Option<SqliteStore> {
    let store = match SqliteStore::open_scratch(cache_mib) {
        Ok(s) => s.batched(SCRATCH_BATCH),
        Err(e) => {
            let _ = out.send(Err(PipelineError::from(e).into()));
            return None;
        }
    };
    let mut pipeline = Pipeline::new(store, Discard);
    let mut types = HashMap::new();
    for batch in jobs {
        let decided: Decided = batch
            .into_iter()
            .map(|job| {
                if let Some(id) = job.id {
                    pipeline.store.assign_next_id(id);
                }
                let event_type = interned(&mut types, &job.step.event.event_type);
                let p = pipeline.process(rules, &job.step.event, job.step.received_at)?;
                Ok(event_result(job.step, job.at, p, event_type))
            })
            .collect();
        let failed = decided.is_err();
        if out.send(decided).is_err() || failed {
            return None;
        }
    }
    let finished = pipeline.finish();
    let ok = finished.is_ok();
    let _ = out.send(finished.map(|()| Vec::new()).map_err(Into::into));
    ok.then_some(pipeline.store)
}

/// The merge's state: the simulated clock, every shard's held sends, the event ids.
struct Merge<'a, P: ?Sized, O> {
    rules: &'a RuleSet,
    provider: &'a mut P,
    out: &'a mut O,
    clock: Option<DateTime<Utc>>,
    /// Held sends by (`deliver_at`, event id) — the order they are claimed in — with their
    /// step and message.
    held: BTreeMap<(i64, i64), (u32, Message)>,
    next_id: i64,
    keys: HashSet<String>,
}

impl<P: Provider + ?Sized, O: ResultSink> Merge<'_, P, O> {
    /// The id event `step` takes; `None` for a replay.
    fn id_for(&mut self, step: &Step) -> Option<i64> {
        if let Some(key) = &step.event.idempotency_key
            && !self.keys.insert(key.clone())
        {
            return None;
        }
        self.next_id += 1;
        Some(self.next_id - 1)
    }

    fn deliver(&mut self, m: &Message) -> Result<(), RunError> {
        self.provider
            .deliver(m)
            .map_err(|e| PipelineError::Deliver(e).into())
    }

    /// Write every held send due at `now`, oldest first; they count as written at step `at`.
    fn advance(&mut self, now: DateTime<Utc>, at: usize) -> Result<(), RunError> {
        let now = micros(now);
        while let Some(entry) = self.held.first_entry() {
            if entry.key().0 > now {
                break;
            }
            let (step, m) = entry.remove();
            self.deliver(&m)?;
            self.out
                .written(step, u32::try_from(at).unwrap_or(u32::MAX))?;
        }
        Ok(())
    }

    /// Take the result of step `at`, which arrived at `received_at`, as `run` does.
    fn take(
        &mut self,
        mut r: EventResult,
        received_at: DateTime<Utc>,
        at: usize,
    ) -> Result<(), RunError> {
        let now = self.clock.map_or(received_at, |c| c.max(received_at));
        self.clock = Some(now);
        self.advance(now, at)?;
        let v = &r.verdict;
        if v.delivers() && !r.replayed {
            let m = Message::for_verdict(self.rules, r.event_timestamp, &r.user_id, r.event_id, v);
            match (m, v.deliver_at) {
                (Some(m), Some(due)) => {
                    self.held.insert((micros(due), r.event_id), (r.step, m));
                }
                (Some(m), None) => {
                    self.deliver(&m)?;
                    r.written_at = Some(r.step);
                }
                (None, _) => {}
            }
        }
        self.out.push(r)?;
        self.advance(now, at)
    }
}

/// [`run_into`](super::run_into) across `shards` worker threads, each with a scratch database
/// of `cache_mib / shards` MiB (see `SqliteStore::open_scratch`); lines go to `provider`.
/// Same results, same lines, in the same order, as a one-shard run.
pub fn run_sharded<P: Provider + ?Sized, O: ResultSink>(
    scenario: &Scenario,
    rules: &RuleSet,
    shards: usize,
    cache_mib: u32,
    provider: &mut P,
    progress: impl FnMut(usize),
    out: &mut O,
) -> Result<usize, RunError> {
    run_sharded_keep(scenario, rules, shards, cache_mib, provider, progress, out).map(|r| r.0)
}

/// [`run_sharded`], keeping each shard's scratch database: the one holding user `u` is
/// `stores[shard_of(u, stores.len())]`, and it knows each of their events by the id a
/// one-shard run gives it.
pub fn run_sharded_keep<P: Provider + ?Sized, O: ResultSink>(
    scenario: &Scenario,
    rules: &RuleSet,
    shards: usize,
    cache_mib: u32,
    provider: &mut P,
    mut progress: impl FnMut(usize),
    out: &mut O,
) -> Result<(usize, Vec<SqliteStore>), RunError> {
    let shards = shards.clamp(1, 64);
    let per_shard = cache_mib / u32::try_from(shards).unwrap_or(1);
    let (count, stores) = std::thread::scope(|scope| -> Result<_, RunError> {
        let mut steps = scenario.steps()?;
        let mut jobs = Vec::with_capacity(shards);
        let mut answers = Vec::with_capacity(shards);
        let mut workers = Vec::with_capacity(shards);
        for _ in 0..shards {
            let (job_tx, job_rx) = sync_channel::<Vec<Job>>(DEPTH + 1);
            let (out_tx, out_rx) = sync_channel::<Decided>(DEPTH + 1);
            workers.push(scope.spawn(move || shard(rules, per_shard, &job_rx, &out_tx)));
            jobs.push(job_tx);
            answers.push(out_rx);
        }
        let mut merge = Merge {
            rules,
            provider: &mut *provider,
            out: &mut *out,
            clock: None,
            held: BTreeMap::new(),
            next_id: 1,
            keys: HashSet::new(),
        };
        let gone = || {
            RunError::Pipeline(PipelineError::Deliver(std::io::Error::other(
                "a shard stopped",
            )))
        };
        let mut inflight: VecDeque<Vec<(usize, DateTime<Utc>)>> = VecDeque::new();
        let mut ended = false;
        let mut count = 0;
        loop {
            while !ended && inflight.len() < DEPTH {
                let mut order = Vec::with_capacity(CHUNK);
                let mut batches: Vec<Vec<Job>> = (0..shards).map(|_| Vec::new()).collect();
                for step in steps.by_ref().take(CHUNK) {
                    let step = step?;
                    let s = shard_of(&step.event.user_id, shards);
                    let at = u32::try_from(
                        count + inflight.iter().map(Vec::len).sum::<usize>() + order.len(),
                    )
                    .unwrap_or(u32::MAX);
                    order.push((s, step.received_at));
                    batches[s].push(Job {
                        at,
                        id: merge.id_for(&step),
                        step,
                    });
                }
                ended = order.len() < CHUNK;
                if order.is_empty() {
                    break;
                }
                for (s, batch) in batches.into_iter().enumerate() {
                    if !batch.is_empty() {
                        jobs[s].send(batch).map_err(|_| gone())?;
                    }
                }
                inflight.push_back(order);
            }
            let Some(order) = inflight.pop_front() else {
                break;
            };
            let mut got: Vec<VecDeque<EventResult>> =
                (0..shards).map(|_| VecDeque::new()).collect();
            for s in 0..shards {
                if order.iter().any(|(o, _)| *o == s) {
                    got[s] = answers[s].recv().map_err(|_| gone())??.into();
                }
            }
            for (s, received_at) in order {
                let r = got[s].pop_front().ok_or_else(gone)?;
                merge.take(r, received_at, count)?;
                count += 1;
            }
            merge.provider.flush().map_err(PipelineError::Deliver)?;
            progress(count);
        }
        drop(jobs);
        for a in &answers {
            a.recv().map_err(|_| gone())??;
        }
        merge.advance(DateTime::<Utc>::MAX_UTC, count)?;
        merge.provider.flush().map_err(PipelineError::Deliver)?;
        let stores = workers
            .into_iter()
            .map(|w| w.join().ok().flatten().ok_or_else(gone))
            .collect::<Result<Vec<_>, _>>()?;
        Ok((count, stores))
    })?;
    if count == 0 && scenario.is_streamed() {
        return Err(scenario.empty_error().into());
    }
    Ok((count, stores))
}
