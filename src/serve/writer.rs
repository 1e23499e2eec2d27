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

use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, TryRecvError, channel};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use tokio::sync::oneshot;

use super::clock::Clock;

mod schedule;
mod worker;

use schedule::Schedule;
use worker::Worker;

use crate::engine::Verdict;
use crate::event::Event;
use crate::pipeline::{DeliveryStatus, KeyConflict, Pipeline};
use crate::provider::{Message, MessagesFile, Provider};
use crate::rules::RuleSet;
use crate::store::{AuditEntry, Store};

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
