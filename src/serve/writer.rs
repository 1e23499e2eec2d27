//! The service's writers: threads that own a store connection each and run the pipeline for
//! every request. SQLite has one writer, one event at a time (so no suppression can be
//! raced), committing the events that queued up together as one group before any of them is
//! answered. PostgreSQL has a pool of writers, one transaction per event, serialised per user
//! by the store's advisory lock; transient failures are retried.

use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use chrono::Utc;
use tokio::sync::oneshot;

use crate::engine::Verdict;
use crate::event::Event;
use crate::pipeline::{Pipeline, PipelineError};
use crate::provider::{Message, MessagesFile, Provider};
use crate::rules::RuleSet;
use crate::store::postgres::is_transient;
use crate::store::{AuditEntry, Store, StoreError};

/// What a processed event returns to its request.
#[derive(Debug, Clone)]
pub struct Decided {
    pub event_id: i64,
    pub verdict: Verdict,
}

/// A failure of the service, not of the request: the event was not recorded.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub struct Unavailable(pub String);

enum Job {
    Process {
        event: Box<Event>,
        reply: oneshot::Sender<Result<Decided, Unavailable>>,
    },
    Audit {
        user: String,
        limit: Option<usize>,
        reply: oneshot::Sender<Result<Vec<AuditEntry>, Unavailable>>,
    },
}

/// How writers work.
#[derive(Debug, Clone, Copy)]
pub struct Mode {
    /// The most events committed together (1: a transaction per event).
    pub group: usize,
    /// Attempts after a transient failure (only with `group == 1`, where a retry is safe).
    pub retries: u32,
}

/// The handle requests talk to; cloning shares the writers.
#[derive(Clone)]
pub struct WriterHandle {
    tx: Sender<Job>,
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
        let mut f = self.0.lock().unwrap_or_else(|p| p.into_inner());
        f.deliver(m)?;
        f.flush()
    }
}

impl Writer {
    /// One writer thread per pipeline, all serving one queue.
    pub fn start<S: Store + Send + 'static>(
        pipelines: Vec<Pipeline<S, SharedMessages>>,
        rules: Arc<RuleSet>,
        mode: Mode,
    ) -> Writer {
        let (tx, rx) = channel();
        let rx = Arc::new(Mutex::new(rx));
        let threads = pipelines
            .into_iter()
            .enumerate()
            .map(|(i, pipeline)| {
                let (rules, rx) = (rules.clone(), rx.clone());
                std::thread::Builder::new()
                    .name(format!("writer-{i}"))
                    .spawn(move || run(pipeline, &rules, &rx, mode))
                    .expect("a writer thread starts")
            })
            .collect();
        Writer {
            handle: WriterHandle { tx },
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
    pub async fn process(&self, event: Event) -> Result<Decided, Unavailable> {
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

    fn send(&self, job: Job) -> Result<(), Unavailable> {
        self.tx.send(job).map_err(|_| stopped())
    }
}

fn stopped() -> Unavailable {
    Unavailable("the writer has stopped".into())
}

type Reply = (oneshot::Sender<Result<Decided, Unavailable>>, Decided);

/// The next job: waits for one; with `wait == false` only takes one already queued.
fn next(rx: &Mutex<Receiver<Job>>, wait: bool) -> Option<Job> {
    let rx = rx.lock().unwrap_or_else(|p| p.into_inner());
    if wait {
        rx.recv().ok()
    } else {
        rx.try_recv().ok()
    }
}

fn run<S: Store>(
    mut pipeline: Pipeline<S, SharedMessages>,
    rules: &RuleSet,
    rx: &Mutex<Receiver<Job>>,
    mode: Mode,
) {
    let mut done: Vec<Reply> = Vec::new();
    while let Some(first) = next(rx, true) {
        let mut job = Some(first);
        let mut taken = 0;
        while let Some(j) = job.take() {
            taken += 1;
            match j {
                Job::Process { event, reply } => {
                    match process(&mut pipeline, rules, &event, mode) {
                        Ok(decided) => done.push((reply, decided)),
                        Err(e) => {
                            // The store rolled back the whole open group: none of it was
                            // recorded (but for a commit whose answer was lost: it says so).
                            let err = Unavailable(match &e {
                                PipelineError::Store(StoreError::CommitUnknown(_)) => e.to_string(),
                                _ => format!("event not recorded: {e}"),
                            });
                            fail(&mut done, &err);
                            let _ = reply.send(Err(err));
                        }
                    }
                }
                Job::Audit { user, limit, reply } => {
                    commit(&mut pipeline, &mut done);
                    let r = with_retries(mode, || {
                        pipeline.store.audit(&user, limit).map_err(Into::into)
                    })
                    .map_err(|e| Unavailable(e.to_string()));
                    let _ = reply.send(r);
                }
            }
            if taken < mode.group {
                job = next(rx, false);
            }
        }
        commit(&mut pipeline, &mut done);
    }
}

fn process<S: Store>(
    pipeline: &mut Pipeline<S, SharedMessages>,
    rules: &RuleSet,
    event: &Event,
    mode: Mode,
) -> Result<Decided, PipelineError> {
    with_retries(mode, || {
        pipeline.process(rules, event, Utc::now()).map(|p| Decided {
            event_id: p.event_id,
            verdict: p.decision.verdict,
        })
    })
}

/// Run `f`, again after a transient failure (a dropped connection, a serialization failure),
/// up to `mode.retries` times with a growing pause.
fn with_retries<T>(
    mode: Mode,
    mut f: impl FnMut() -> Result<T, PipelineError>,
) -> Result<T, PipelineError> {
    let mut attempt = 0;
    loop {
        match f() {
            Err(PipelineError::Store(e))
                if mode.group == 1 && attempt < mode.retries && is_transient(&e) =>
            {
                attempt += 1;
                tracing::warn!(error = %e, attempt, "transient storage failure, retrying");
                std::thread::sleep(Duration::from_millis(50 << attempt));
            }
            other => return other,
        }
    }
}

/// Commit the group and deliver its messages, then answer its requests.
fn commit<S: Store>(pipeline: &mut Pipeline<S, SharedMessages>, done: &mut Vec<Reply>) {
    if done.is_empty() {
        return;
    }
    match pipeline.finish() {
        Ok(()) => {
            for (reply, decided) in done.drain(..) {
                let _ = reply.send(Ok(decided));
            }
        }
        Err(e) => fail(done, &Unavailable(format!("event not recorded: {e}"))),
    }
}

fn fail(done: &mut Vec<Reply>, err: &Unavailable) {
    for (reply, _) in done.drain(..) {
        let _ = reply.send(Err(err.clone()));
    }
}
