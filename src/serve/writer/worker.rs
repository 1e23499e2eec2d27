//! One writer thread: it takes jobs from the queue, decides and commits events in groups,
//! answers them once their group committed, and looks for due sends between groups.

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::mpsc::Receiver;
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::{
    DUE_EVERY, Decided, Health, Job, Mode, POLL, RETRY_EVERY, Refused, Reply, Schedule, Scheduled,
    SharedMessages, Unavailable, next,
};
use crate::event::Event;
use crate::pipeline::{DeliveryStatus, KeyConflict, Pipeline, PipelineError};
use crate::rules::RuleSet;
use crate::serve::clock::Clock;
use crate::store::{Store, StoreError};

/// One writer thread: its pipeline, and the events of its open group awaiting their answer.
pub(super) struct Worker<S> {
    /// This writer's place in [`Health`].
    pub(super) slot: usize,
    /// Whether other writers share the queue: then waiting for a job holds the queue's lock
    /// only briefly, so a writer with lines to retry always gets its turn.
    pub(super) shared: bool,
    pub(super) pipeline: Pipeline<S, SharedMessages>,
    pub(super) rules: Arc<RuleSet>,
    pub(super) mode: Mode,
    pub(super) health: Health,
    /// The open group's events with their answers, sent once the group commits (a conflict
    /// too: it may rest on an earlier event of the group).
    pub(super) done: Vec<(Reply, Box<Event>, Result<Decided, KeyConflict>)>,
    pub(super) clock: Clock,
    pub(super) schedule: Schedule,
}

impl<S: Store> Worker<S> {
    pub(super) fn run(&mut self, rx: &Mutex<Receiver<Job>>) {
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
