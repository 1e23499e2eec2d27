//! The service's single writer: a thread that owns the store and `messages.txt` and runs the
//! pipeline for every request, one event at a time (so no suppression can be raced), committing
//! the events that queued up together as one group before any of them is answered.

use std::sync::Arc;
use std::sync::mpsc::{Receiver, Sender, channel};
use std::thread::JoinHandle;

use chrono::Utc;
use tokio::sync::oneshot;

use crate::engine::Verdict;
use crate::event::Event;
use crate::pipeline::Pipeline;
use crate::provider::MessagesFile;
use crate::rules::RuleSet;
use crate::store::{AuditEntry, SqliteStore, Store};

/// The most events committed together.
const GROUP: usize = 512;

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

/// The handle requests talk to; cloning shares the writer.
#[derive(Clone)]
pub struct WriterHandle {
    tx: Sender<Job>,
}

pub struct Writer {
    pub handle: WriterHandle,
    thread: JoinHandle<()>,
}

impl Writer {
    pub fn start(pipeline: Pipeline<SqliteStore, MessagesFile>, rules: Arc<RuleSet>) -> Writer {
        let (tx, rx) = channel();
        let thread = std::thread::Builder::new()
            .name("writer".into())
            .spawn(move || run(pipeline, &rules, rx))
            .expect("the writer thread starts");
        Writer {
            handle: WriterHandle { tx },
            thread,
        }
    }

    /// Wait for every queued event to be committed and delivered (after the last handle is
    /// dropped).
    pub fn join(self) {
        drop(self.handle);
        let _ = self.thread.join();
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

fn run(mut pipeline: Pipeline<SqliteStore, MessagesFile>, rules: &RuleSet, rx: Receiver<Job>) {
    let mut done: Vec<Reply> = Vec::new();
    while let Ok(first) = rx.recv() {
        let mut job = Some(first);
        let mut taken = 0;
        while let Some(j) = job.take() {
            taken += 1;
            match j {
                Job::Process { event, reply } => {
                    match pipeline.process(rules, &event, Utc::now()) {
                        Ok(p) => done.push((
                            reply,
                            Decided {
                                event_id: p.event_id,
                                verdict: p.decision.verdict,
                            },
                        )),
                        Err(e) => {
                            // The store rolled back the whole open group: none of it was recorded.
                            let err = Unavailable(format!("event not recorded: {e}"));
                            fail(&mut done, &err);
                            let _ = reply.send(Err(err));
                        }
                    }
                }
                Job::Audit { user, limit, reply } => {
                    commit(&mut pipeline, &mut done);
                    let r = pipeline
                        .store
                        .audit(&user, limit)
                        .map_err(|e| Unavailable(e.to_string()));
                    let _ = reply.send(r);
                }
            }
            if taken < GROUP {
                job = rx.try_recv().ok();
            }
        }
        commit(&mut pipeline, &mut done);
    }
}

/// Commit the group and deliver its messages, then answer its requests.
fn commit(pipeline: &mut Pipeline<SqliteStore, MessagesFile>, done: &mut Vec<Reply>) {
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
