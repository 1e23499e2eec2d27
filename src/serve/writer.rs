//! The service's writers: threads that own a store connection each and run the pipeline for
//! every request. SQLite has one writer, one event at a time (so no suppression can be
//! raced), committing the events that queued up together as one group before any of them is
//! answered. PostgreSQL has a pool of writers, one transaction per event, serialised per user
//! by the store's advisory lock; transient failures are retried.
//!
//! The writers are also the scheduler: scheduled sends (held by quiet hours) are claimed and
//! written when due on the service's clock. Every [`DUE_EVERY`], one writer of the instance
//! that is between commit groups (idle, or right after committing one) asks the store for the
//! earliest unclaimed `deliver_at` and, when that is due, calls [`Pipeline::deliver_due`]. A
//! claim is one statement of its own, never inside an open group, so it is durable before
//! its line is written; each due row is claimed by exactly one
//! store across every instance on the database (PostgreSQL: `FOR UPDATE SKIP LOCKED`; SQLite:
//! one writer per database file), and a claimed row whose line a crash left unwritten is
//! written at the next start by `Pipeline::recover`. Sends that fell due while the service was
//! stopped are claimed by the first look, right after the start.

use std::collections::VecDeque;
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, TryRecvError, channel};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use tokio::sync::oneshot;

use super::clock::Clock;

use crate::engine::Verdict;
use crate::event::Event;
use crate::pipeline::{DeliveryStatus, KeyConflict, Pipeline, PipelineError};
use crate::provider::{Message, MessagesFile, Provider};
use crate::rules::RuleSet;
use crate::store::{AuditEntry, Store, StoreError};

/// What a processed event returns to its request.
#[derive(Debug, Clone)]
pub struct Decided {
    pub event_id: i64,
    pub verdict: Verdict,
    /// For a delivery: whether its line is written yet.
    pub delivery: Option<DeliveryStatus>,
    /// A replay of a stored event (SPEC §7.6): its stored decision, nothing recorded.
    pub replayed: bool,
    /// For a replayed delivery: where its message stood when the replay read it.
    stored_delivery: Option<DeliveryStatus>,
}

/// Why an event got no decision.
#[derive(Debug, Clone, thiserror::Error)]
pub enum Refused {
    /// The service failed: the event was not recorded.
    #[error(transparent)]
    Unavailable(#[from] Unavailable),
    /// The event reused a stored event's idempotency key (SPEC §7.6): nothing recorded.
    #[error(transparent)]
    Conflict(#[from] KeyConflict),
}

/// The last write attempts' failures, for `GET /health`: set while the last attempt to write
/// to the database or to the messages file failed, cleared by the next that succeeds. Each
/// writer keeps its own state (one writer's success never hides another's failure), and so
/// does the scheduler (its last look for due sends); `get` sums them up.
#[derive(Debug, Clone, Default)]
pub struct Health(Arc<Mutex<Vec<HealthState>>>);

#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct HealthState {
    pub database: Option<String>,
    pub messages: Option<String>,
    /// Deliveries recorded but not yet written to the messages file.
    pub unwritten: usize,
}

impl Health {
    pub fn get(&self) -> HealthState {
        let all = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        HealthState {
            database: all.iter().find_map(|h| h.database.clone()),
            messages: all.iter().find_map(|h| h.messages.clone()),
            unwritten: all.iter().map(|h| h.unwritten).sum(),
        }
    }

    fn update(&self, writer: usize, f: impl FnOnce(&mut HealthState)) {
        let mut all = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if all.len() <= writer {
            all.resize(writer + 1, HealthState::default());
        }
        f(&mut all[writer]);
    }
}

/// A failure of the service, not of the request: the event was not recorded.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub struct Unavailable(pub String);

enum Job {
    Process {
        event: Box<Event>,
        reply: Reply,
    },
    Audit {
        user: String,
        limit: Option<usize>,
        reply: oneshot::Sender<Result<Vec<AuditEntry>, Unavailable>>,
    },
    /// `Store::scheduled_counts` at the clock's now (and a check that the database answers).
    Scheduled {
        reply: oneshot::Sender<Result<Scheduled, Unavailable>>,
    },
}

/// Scheduled sends not yet claimed: how many, and how many of them are due already.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scheduled {
    pub scheduled: u64,
    pub overdue: u64,
}

/// How writers work.
#[derive(Debug, Clone, Copy)]
pub struct Mode {
    /// The most events committed together (1: a transaction per event).
    pub group: usize,
    /// Attempts after a transient failure (only for an event alone in its group, where a
    /// retry loses nothing else).
    pub retries: u32,
    /// Take a group's jobs at once and lock their users up front (`Store::lock_users`),
    /// instead of growing the group while it runs.
    pub lock_ahead: bool,
}

/// The handle requests talk to; cloning shares the writers.
#[derive(Clone)]
pub struct WriterHandle {
    tx: Sender<Job>,
    pub health: Health,
}

pub struct Writer {
    pub handle: WriterHandle,
    threads: Vec<JoinHandle<()>>,
}

/// `messages.txt` shared by the writers of one instance.
#[derive(Clone)]
pub struct SharedMessages(Arc<Mutex<MessagesFile>>);

impl SharedMessages {
    pub fn new(file: MessagesFile) -> SharedMessages {
        SharedMessages(Arc::new(Mutex::new(file)))
    }
}

impl Provider for SharedMessages {
    fn deliver(&mut self, m: &Message) -> std::io::Result<()> {
        let mut f = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        f.deliver(m)?;
        f.flush()
    }
}

impl Writer {
    /// One writer thread per pipeline, all serving one queue.
    pub fn start<S: Store + Send + 'static>(
        pipelines: Vec<Pipeline<S, SharedMessages>>,
        rules: &Arc<RuleSet>,
        mode: Mode,
        clock: &Clock,
    ) -> Writer {
        let (tx, rx) = channel();
        let rx = Arc::new(Mutex::new(rx));
        let health = Health::default();
        let schedule = Schedule::new(pipelines.len());
        let n = pipelines.len();
        let threads = pipelines
            .into_iter()
            .enumerate()
            .map(|(i, pipeline)| {
                let (rules, rx) = (rules.clone(), rx.clone());
                let mut w = Worker {
                    slot: i,
                    shared: n > 1,
                    pipeline,
                    rules,
                    mode,
                    health: health.clone(),
                    done: Vec::new(),
                    clock: clock.clone(),
                    schedule: schedule.clone(),
                };
                std::thread::Builder::new()
                    .name(format!("writer-{i}"))
                    .spawn(move || w.run(&rx))
                    .expect("a writer thread starts")
            })
            .collect();
        Writer {
            handle: WriterHandle { tx, health },
            threads,
        }
    }

    /// Wait for every queued event to be committed and delivered (after the last handle is
    /// dropped).
    pub fn join(self) {
        drop(self.handle);
        for t in self.threads {
            let _ = t.join();
        }
    }
}

impl WriterHandle {
    pub async fn process(&self, event: Event) -> Result<Decided, Refused> {
        let (reply, rx) = oneshot::channel();
        self.send(Job::Process {
            event: Box::new(event),
            reply,
        })?;
        rx.await.map_err(|_| stopped())?
    }

    pub async fn audit(
        &self,
        user: String,
        limit: Option<usize>,
    ) -> Result<Vec<AuditEntry>, Unavailable> {
        let (reply, rx) = oneshot::channel();
        self.send(Job::Audit { user, limit, reply })?;
        rx.await.map_err(|_| stopped())?
    }

    /// The scheduled sends not yet claimed; an error when the database does not answer.
    pub async fn scheduled(&self) -> Result<Scheduled, Unavailable> {
        let (reply, rx) = oneshot::channel();
        self.send(Job::Scheduled { reply })?;
        rx.await.map_err(|_| stopped())?
    }

    fn send(&self, job: Job) -> Result<(), Unavailable> {
        self.tx.send(job).map_err(|_| stopped())
    }
}

fn stopped() -> Unavailable {
    Unavailable("the writer has stopped".into())
}

type Reply = oneshot::Sender<Result<Decided, Refused>>;

/// How long an idle writer waits before writing waiting messages again.
const RETRY_EVERY: Duration = Duration::from_millis(500);
/// How long a writer sharing the queue waits for a job with the queue's lock held.
const POLL: Duration = Duration::from_millis(50);
/// How often an instance looks for scheduled sends that are due.
pub const DUE_EVERY: Duration = Duration::from_millis(250);

/// The scheduler of one instance, shared by its writers: the first writer between groups
/// once [`DUE_EVERY`] has passed looks next (never at the same time as another writer of the
/// instance, which would only find the rows already claimed). Its health has a slot of its
/// own in [`Health`], after the writers': whichever writer looks next clears a failure.
#[derive(Debug, Clone)]
struct Schedule {
    state: Arc<Mutex<ScheduleState>>,
    /// Its place in [`Health`].
    slot: usize,
}

#[derive(Debug, Default)]
struct ScheduleState {
    last: Option<Instant>,
    /// Why the last look failed, while it fails.
    error: Option<String>,
}

impl Schedule {
    fn new(slot: usize) -> Schedule {
        Schedule {
            state: Arc::default(),
            slot,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, ScheduleState> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Whether it is this caller's turn to look; if so, the period starts again.
    fn take(&self) -> bool {
        let mut state = self.lock();
        if state.last.is_some_and(|t| t.elapsed() < DUE_EVERY) {
            return false;
        }
        state.last = Some(Instant::now());
        true
    }

    /// Record how the last look went, saying so in the log when that changes.
    fn outcome(&self, health: &Health, error: Option<String>) {
        let mut state = self.lock();
        match (&state.error, &error) {
            (None, Some(e)) => {
                tracing::warn!(error = %e, "cannot claim the scheduled sends that are due");
            }
            (Some(_), None) => tracing::info!("scheduled sends are claimed again"),
            _ => {}
        }
        state.error.clone_from(&error);
        health.update(self.slot, |h| h.database = error);
    }
}

/// The next job: waits for one (at most `wait`, when given); with `wait == Some(ZERO)` only
/// takes one already queued. `Err` when every handle is gone.
fn next(rx: &Mutex<Receiver<Job>>, wait: Option<Duration>) -> Result<Option<Job>, ()> {
    let rx = rx.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    match wait {
        None => rx.recv().map(Some).map_err(|_| ()),
        Some(d) if d.is_zero() => match rx.try_recv() {
            Ok(j) => Ok(Some(j)),
            Err(TryRecvError::Empty) => Ok(None),
            Err(TryRecvError::Disconnected) => Err(()),
        },
        Some(d) => match rx.recv_timeout(d) {
            Ok(j) => Ok(Some(j)),
            Err(RecvTimeoutError::Timeout) => Ok(None),
            Err(RecvTimeoutError::Disconnected) => Err(()),
        },
    }
}

/// One writer thread: its pipeline, and the events of its open group awaiting their answer.
struct Worker<S> {
    /// This writer's place in [`Health`].
    slot: usize,
    /// Whether other writers share the queue: then waiting for a job holds the queue's lock
    /// only briefly, so a writer with lines to retry always gets its turn.
    shared: bool,
    pipeline: Pipeline<S, SharedMessages>,
    rules: Arc<RuleSet>,
    mode: Mode,
    health: Health,
    /// The open group's events with their answers, sent once the group commits (a conflict
    /// too: it may rest on an earlier event of the group).
    done: Vec<(Reply, Box<Event>, Result<Decided, KeyConflict>)>,
    clock: Clock,
    schedule: Schedule,
}

impl<S: Store> Worker<S> {
    fn run(&mut self, rx: &Mutex<Receiver<Job>>) {
        let mut last_retry = std::time::Instant::now();
        loop {
            // Between groups: the time to deliver what is due.
            self.deliver_due();
            let wait = if self.shared { POLL } else { DUE_EVERY };
            let first = match next(rx, Some(wait)) {
                Ok(Some(j)) => j,
                Ok(None) => {
                    if last_retry.elapsed() >= RETRY_EVERY {
                        self.retry_unwritten();
                        last_retry = std::time::Instant::now();
                    }
                    std::thread::yield_now();
                    continue;
                }
                Err(()) => break,
            };
            if self.mode.lock_ahead {
                self.locked_group(first, rx);
            } else {
                let mut job = Some(first);
                let mut taken = 0;
                while let Some(j) = job.take() {
                    taken += 1;
                    self.job(j);
                    if taken < self.mode.group {
                        job = next(rx, Some(Duration::ZERO)).ok().flatten();
                    }
                }
            }
            self.commit();
        }
        // Shutting down: every message recorded gets its line if the provider takes it.
        self.retry_unwritten();
    }

    /// A group whose users are locked before its first event (PostgreSQL): the jobs queued
    /// now, up to the group's size, with the users of each run of events locked in the
    /// store's order first. A failed lock leaves each event to take its own.
    fn locked_group(&mut self, first: Job, rx: &Mutex<Receiver<Job>>) {
        let mut jobs = VecDeque::from([first]);
        while jobs.len() < self.mode.group {
            match next(rx, Some(Duration::ZERO)) {
                Ok(Some(j)) => jobs.push_back(j),
                _ => break,
            }
        }
        while let Some(job) = jobs.pop_front() {
            if let Job::Process { event, .. } = &job
                && self.done.is_empty()
            {
                let users: Vec<&str> = std::iter::once(event.user_id.as_str())
                    .chain(jobs.iter().map_while(|j| match j {
                        Job::Process { event, .. } => Some(event.user_id.as_str()),
                        _ => None,
                    }))
                    .collect();
                if let Err(e) = self.pipeline.store.lock_users(&users) {
                    tracing::warn!(error = %e, "locking a group's users failed");
                }
            }
            self.job(job);
        }
    }

    fn job(&mut self, job: Job) {
        match job {
            Job::Process { event, reply } => match self.process(&event) {
                Ok(decided) => self.done.push((reply, event, Ok(decided))),
                Err(PipelineError::Conflict(c)) => self.done.push((reply, event, Err(c))),
                Err(e) if self.done.is_empty() => {
                    let _ = reply.send(Err(self.failed(&e).into()));
                }
                Err(_) => {
                    // The store rolled back the open group with this event: the others are
                    // not to blame. Each is decided again and committed on its own.
                    self.one_by_one();
                    self.alone(event, reply);
                }
            },
            Job::Audit { user, limit, reply } => {
                self.commit();
                let retries = self.mode.retries;
                let store = &mut self.pipeline.store;
                let r = with_retries(retries, || store.audit(&user, limit).map_err(Into::into));
                let _ = reply.send(r.map_err(|e| self.failed(&e)));
            }
            Job::Scheduled { reply } => {
                self.commit();
                let (retries, now) = (self.mode.retries, self.clock.now());
                let store = &mut self.pipeline.store;
                let r = with_retries(retries, || store.scheduled_counts(now).map_err(Into::into));
                let r = r.map(|(scheduled, overdue)| Scheduled { scheduled, overdue });
                let _ = reply.send(r.map_err(|e| self.failed(&e)));
            }
        }
    }

    /// Claim and write the scheduled sends due at the clock's now, when it is this writer's
    /// turn (see [`Schedule`]). Only between groups: a claim inside an open group would be
    /// rolled back with it.
    fn deliver_due(&mut self) {
        if !self.done.is_empty() || !self.schedule.take() {
            return;
        }
        let error = match self.look(self.clock.now()) {
            Ok(ids) => {
                if !ids.is_empty() {
                    tracing::info!(count = ids.len(), "scheduled sends delivered");
                }
                None
            }
            // Claimed and recorded; their lines wait like any other (see `delivered`).
            Err(PipelineError::Deliver(_)) => None,
            Err(e) => Some(e.to_string()),
        };
        self.schedule.outcome(&self.health, error);
        self.delivered();
    }

    /// Claim and write what is due at `now`. Only a read when nothing is due (most looks):
    /// an empty claim would be a write transaction every [`DUE_EVERY`], and its success would
    /// say nothing about whether writes succeed.
    fn look(&mut self, now: DateTime<Utc>) -> Result<Vec<i64>, PipelineError> {
        if self.pipeline.store.next_due()?.is_none_or(|d| d > now) {
            return Ok(Vec::new());
        }
        let ids = self.pipeline.deliver_due(&self.rules, now)?;
        // Claims are made outside any group, so they are durable at once and `finish` has
        // nothing to commit; it only writes what a claim could have left pending.
        self.pipeline.finish()?;
        Ok(ids)
    }

    fn process(&mut self, event: &Event) -> Result<Decided, PipelineError> {
        let (pipeline, rules, clock) = (&mut self.pipeline, &self.rules, &self.clock);
        let retries = if self.done.is_empty() {
            self.mode.retries
        } else {
            0
        };
        with_retries(retries, || {
            pipeline
                .process(rules, event, clock.now())
                .map(|p| Decided {
                    event_id: p.event_id,
                    verdict: p.decision.verdict,
                    delivery: None,
                    replayed: p.replayed,
                    stored_delivery: p.stored_delivery,
                })
        })
    }

    /// Commit the open group and write its messages, then answer its requests.
    fn commit(&mut self) {
        if self.done.is_empty() {
            return;
        }
        match self.pipeline.finish() {
            Ok(()) | Err(PipelineError::Deliver(_)) => {
                self.health.update(self.slot, |h| h.database = None);
                self.delivered();
                for (reply, _, decided) in self.done.drain(..) {
                    let answer = decided.map(|mut d| {
                        let now = self.pipeline.delivery_status(d.event_id, &d.verdict);
                        d.delivery = match now {
                            // A replay's line may have been written since (a held send).
                            _ if d.replayed && now != Some(DeliveryStatus::Pending) => {
                                d.stored_delivery
                            }
                            _ => now,
                        };
                        d
                    });
                    let _ = reply.send(answer.map_err(Refused::Conflict));
                }
            }
            // Whether a group whose commit failed this way was recorded is unknown: deciding
            // its events again could record them twice.
            Err(e)
                if self.done.len() == 1
                    || matches!(e, PipelineError::Store(StoreError::CommitUnknown(_))) =>
            {
                let err = self.failed(&e);
                for (reply, ..) in self.done.drain(..) {
                    let _ = reply.send(Err(err.clone().into()));
                }
            }
            Err(_) => self.one_by_one(),
        }
    }

    /// Decide and commit each event of the open group (rolled back) on its own.
    fn one_by_one(&mut self) {
        for (reply, event, _) in std::mem::take(&mut self.done) {
            self.alone(event, reply);
        }
    }

    fn alone(&mut self, event: Box<Event>, reply: Reply) {
        match self.process(&event) {
            Ok(decided) => {
                self.done.push((reply, event, Ok(decided)));
                self.commit();
            }
            Err(PipelineError::Conflict(c)) => {
                self.done.push((reply, event, Err(c)));
                self.commit();
            }
            Err(e) => {
                let _ = reply.send(Err(self.failed(&e).into()));
            }
        }
    }

    fn retry_unwritten(&mut self) {
        if !self.pipeline.has_backlog() {
            return;
        }
        let _ = self.pipeline.retry_unwritten();
        self.delivered();
    }

    /// Publish how delivery stands.
    fn delivered(&self) {
        let error = self.pipeline.delivery_error().map(str::to_string);
        let unwritten = self.pipeline.unwritten();
        if let Some(e) = &error {
            tracing::warn!(error = %e, unwritten, "messages wait for the messages file");
        }
        let mark = self.pipeline.mark_error().map(str::to_string);
        if let Some(e) = &mark {
            tracing::warn!(error = %e, "written lines wait to be recorded as written");
        }
        self.health.update(self.slot, |h| {
            h.messages = error;
            h.unwritten = unwritten;
            if let Some(e) = mark {
                h.database = Some(e);
            }
        });
    }

    /// The answer for an event that was not recorded (or whose commit is in doubt).
    fn failed(&self, e: &PipelineError) -> Unavailable {
        self.health
            .update(self.slot, |h| h.database = Some(e.to_string()));
        Unavailable(match e {
            PipelineError::Store(StoreError::CommitUnknown(_)) => e.to_string(),
            _ => format!("event not recorded: {e}"),
        })
    }
}

/// Run `f`, again after a transient failure (a dropped connection, a serialization failure),
/// up to `retries` times with a growing pause.
fn with_retries<T>(
    retries: u32,
    mut f: impl FnMut() -> Result<T, PipelineError>,
) -> Result<T, PipelineError> {
    let mut attempt = 0;
    loop {
        match f() {
            Err(PipelineError::Store(e)) if attempt < retries && e.is_transient() => {
                attempt += 1;
                tracing::warn!(error = %e, attempt, "transient storage failure, retrying");
                std::thread::sleep(Duration::from_millis(50 << attempt));
            }
            other => return other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_look_per_period_whose_failure_shows_until_a_look_succeeds() {
        let health = Health::default();
        let schedule = Schedule::new(2);
        assert!(schedule.take(), "the first look is at once");
        assert!(!schedule.clone().take(), "one look per period per instance");
        schedule.outcome(&health, Some("database down".into()));
        assert_eq!(health.get().database.as_deref(), Some("database down"));
        std::thread::sleep(DUE_EVERY);
        assert!(schedule.take());
        schedule.outcome(&health, None);
        assert_eq!(health.get(), HealthState::default());
    }
}
