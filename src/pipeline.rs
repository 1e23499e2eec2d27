//! The one pipeline every mode runs: event -> store -> history -> decide -> record ->
//! deliver. Each event's rows are written in one transaction; its message is delivered once
//! that transaction is durable, so a delivery is never written for rows that were lost. A
//! message that cannot be written yet (a full disk) is kept and written later, exactly once.

use std::collections::{BTreeMap, HashSet};

use chrono::{DateTime, Utc};

use crate::engine::{self, Decision, History, ResolvedZone, Verdict};
use crate::event::Event;
use crate::provider::{Message, Provider};
use crate::rules::RuleSet;
use crate::store::{DecisionRecord, Durability, Inserted, Store, StoreError, StoreTx};

#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    /// Nothing of the event (or of its open group) was recorded.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The events are recorded, but some messages are not written yet: they are kept and
    /// written by the next delivery or [`Pipeline::retry_unwritten`].
    #[error("cannot write a delivery to the messaging provider: {0}")]
    Deliver(#[source] std::io::Error),
    /// The event's idempotency key is stored with a different event: nothing was recorded.
    #[error(transparent)]
    Conflict(#[from] KeyConflict),
}

/// An idempotency key reused for a different event (SPEC §7.6).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "idempotency key `{key}` was already used by event {event_id} with a different {}: a \
     reused key must repeat its event exactly",
    fields.join(", ")
)]
pub struct KeyConflict {
    pub key: String,
    /// The stored event that holds the key.
    pub event_id: i64,
    /// Which of `event::IDENTITY_FIELDS` differ.
    pub fields: Vec<&'static str>,
}

pub struct Pipeline<S, P> {
    pub store: S,
    pub provider: P,
    /// Messages of events committed but not yet durable (stores that group commits).
    pending: Vec<Message>,
    /// Messages of durable events whose line could not be written yet, in the order they
    /// are due to be written.
    unwritten: BTreeMap<u64, Message>,
    /// The event ids of `unwritten`.
    unwritten_ids: HashSet<i64>,
    /// The next position in `unwritten`.
    seq: u64,
    /// The earliest `deliver_at` of the scheduled sends this pipeline knows of (its own
    /// decisions, and what the store said when last asked).
    next_due: Option<DateTime<Utc>>,
    /// Events whose line is written but not yet marked so in the store.
    unmarked: Vec<i64>,
    /// Why the last delivery attempt failed, while messages wait.
    delivery_error: Option<String>,
    /// Why recording that written lines are written failed, while that waits.
    mark_error: Option<String>,
}

/// Whether a delivery's line reached `messages.txt`.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    Delivered,
    /// Held by quiet hours: written when `deliver_at` comes.
    Scheduled,
    /// Recorded, and written as soon as the provider takes it.
    Pending,
}

/// What processing one event produced.
#[derive(Debug, Clone)]
pub struct Processed<'r> {
    pub event_id: i64,
    pub decision: Decision<'r>,
    /// A replay of a stored event (same idempotency key, same event: SPEC §7.6): nothing was
    /// recorded, `event_id` and the verdict are the stored ones.
    pub replayed: bool,
    /// For a replayed delivery: where its message stood when the replay read it.
    pub stored_delivery: Option<DeliveryStatus>,
}

/// What recording an event came to.
enum Recording<'r> {
    New(i64, Decision<'r>),
    Replay(i64, Decision<'r>, Option<DeliveryStatus>),
    Conflict(KeyConflict),
}

impl<S: Store, P: Provider> Pipeline<S, P> {
    pub fn new(store: S, provider: P) -> Self {
        Pipeline {
            store,
            provider,
            pending: Vec::new(),
            unwritten: BTreeMap::new(),
            unwritten_ids: HashSet::new(),
            seq: 0,
            next_due: None,
            unmarked: Vec::new(),
            delivery_error: None,
            mark_error: None,
        }
    }

    /// Where the message of event `event_id`, just decided as `v`, stands: `None` when it
    /// delivers none.
    pub fn delivery_status(&self, event_id: i64, v: &Verdict) -> Option<DeliveryStatus> {
        if !v.delivers() {
            None
        } else if v.scheduled() {
            Some(DeliveryStatus::Scheduled)
        } else if self.unwritten_ids.contains(&event_id) {
            Some(DeliveryStatus::Pending)
        } else {
            Some(DeliveryStatus::Delivered)
        }
    }

    /// Messages recorded but not yet written.
    pub fn unwritten(&self) -> usize {
        self.unwritten.len()
    }

    /// Why messages are waiting, if they are.
    pub fn delivery_error(&self) -> Option<&str> {
        self.delivery_error.as_deref()
    }

    /// Why written lines are not yet recorded as written, if they are not.
    pub fn mark_error(&self) -> Option<&str> {
        self.mark_error.as_deref()
    }

    /// Whether delivery work waits: lines to write, or written lines to record.
    pub fn has_backlog(&self) -> bool {
        !self.unwritten.is_empty() || !self.unmarked.is_empty()
    }

    /// Try again to write the messages that could not be written. `Ok` when none is left.
    pub fn retry_unwritten(&mut self) -> Result<(), PipelineError> {
        self.deliver_pending()
    }

    /// Process one event that arrived at `received_at` (the clock is the caller's).
    pub fn process<'r>(
        &mut self,
        rules: &'r RuleSet,
        event: &Event,
        received_at: DateTime<Utc>,
    ) -> Result<Processed<'r>, PipelineError> {
        let (recording, durability) = match self.record(rules, event, received_at) {
            Ok(done) => done,
            Err(e) => {
                // The store rolled back the event and, if it groups commits, its whole group.
                self.pending.clear();
                return Err(e.into());
            }
        };
        let (event_id, decision) = match recording {
            Recording::New(id, decision) => (id, decision),
            Recording::Replay(event_id, decision, stored_delivery) => {
                // Nothing new to deliver; the commit may have completed a group, though.
                if durability == Durability::Durable {
                    let _ = self.deliver_pending();
                }
                return Ok(Processed {
                    event_id,
                    decision,
                    replayed: true,
                    stored_delivery,
                });
            }
            Recording::Conflict(conflict) => {
                if durability == Durability::Durable {
                    let _ = self.deliver_pending();
                }
                return Err(conflict.into());
            }
        };
        let v = &decision.verdict;
        if let Some(at) = v.deliver_at {
            // Held: the store keeps it until it is due (`deliver_due`).
            self.next_due = Some(self.next_due.map_or(at, |d| d.min(at)));
        } else if let Some(m) =
            Message::for_verdict(rules, event.event_timestamp, &event.user_id, event_id, v)
        {
            self.pending.push(m);
        }
        if durability == Durability::Durable {
            // The event is recorded whatever happens to its line: a message that cannot be
            // written now is kept, and `finish` says so.
            let _ = self.deliver_pending();
        }
        Ok(Processed {
            event_id,
            decision,
            replayed: false,
            stored_delivery: None,
        })
    }

    /// Deliver every scheduled send due at `now` that no one has claimed: oldest
    /// `deliver_at` first (ties: lower event id). Returns the event ids claimed, in order.
    pub fn deliver_due(
        &mut self,
        rules: &RuleSet,
        now: DateTime<Utc>,
    ) -> Result<Vec<i64>, PipelineError> {
        const CLAIM: usize = 10_000;
        let mut claimed = Vec::new();
        loop {
            let (due, durability) = match self.store.claim_due(now, CLAIM) {
                Ok(done) => done,
                Err(e) => {
                    self.pending.clear();
                    return Err(e.into());
                }
            };
            let more = due.len() == CLAIM;
            claimed.extend(due.iter().map(|r| r.event_id));
            self.pending
                .extend(due.iter().map(|r| Message::for_request(rules, r)));
            if durability == Durability::Durable {
                self.deliver_pending()?;
            }
            if !more {
                break;
            }
        }
        self.next_due = self.store.next_due()?;
        Ok(claimed)
    }

    /// Move a scenario's simulated clock to `now`: deliver what is due, asking the store only
    /// when something this pipeline knows of is due (a run is the database's only writer).
    pub fn advance(
        &mut self,
        rules: &RuleSet,
        now: DateTime<Utc>,
    ) -> Result<Vec<i64>, PipelineError> {
        if self.next_due.is_some_and(|d| d <= now) {
            self.deliver_due(rules, now)
        } else {
            Ok(Vec::new())
        }
    }

    /// Make everything processed so far durable, then deliver what is still pending.
    pub fn finish(&mut self) -> Result<(), PipelineError> {
        if let Err(e) = self.store.flush() {
            // The open group was not committed: its messages must never be delivered.
            self.pending.clear();
            return Err(e.into());
        }

        self.deliver_pending()
    }

    fn record<'r>(
        &mut self,
        rules: &'r RuleSet,
        event: &Event,
        received_at: DateTime<Utc>,
    ) -> Result<(Recording<'r>, Durability), StoreError> {
        let mut tx = self.store.begin()?;
        let event_id = match tx.insert_event(event, received_at)? {
            Inserted::New(id) => id,
            Inserted::Existing {
                event_id,
                fingerprint,
            } => {
                // Nothing was written: the transaction ends without a change (a rollback
                // would also end a commit group's other events).
                let recording = replay(&mut tx, rules, event, event_id, &fingerprint)?;
                return Ok((recording, tx.commit()?));
            }
        };
        let history = history(&mut tx, rules, event, event_id)?;
        let decision = engine::decide(rules, event, &history);
        let category = decision
            .trace
            .winner()
            .and_then(|w| rules.rules[w.rule].category);
        tx.record(&DecisionRecord {
            event_id,
            event,
            verdict: &decision.verdict,
            decided_at: received_at,
            category,
        })?;
        let durability = tx.commit()?;
        Ok((Recording::New(event_id, decision), durability))
    }

    /// Write the messages of durable events: those that waited first, in event order, then
    /// the new ones. The first that fails stops the rest (a full disk fails them all), which
    /// wait for the next attempt.
    fn deliver_pending(&mut self) -> Result<(), PipelineError> {
        for m in self.pending.drain(..) {
            self.unwritten_ids.insert(m.event_id);
            self.unwritten.insert(self.seq, m);
            self.seq += 1;
        }
        // A durable provider writes each line in `deliver`; a buffered one in `flush`, all
        // of them or none (a failed append is cut back and dropped): either way the lines
        // taken are the ones that count as written once `flush` succeeds.
        let mut failed = None;
        let mut taken = Vec::new();
        for (id, m) in &self.unwritten {
            if let Err(e) = self.provider.deliver(m) {
                failed = Some(e);
                break;
            }
            taken.push(*id);
        }
        match self.provider.flush() {
            Ok(()) => {
                for seq in taken {
                    if let Some(m) = self.unwritten.remove(&seq) {
                        self.unwritten_ids.remove(&m.event_id);
                        self.unmarked.push(m.event_id);
                    }
                }
            }
            Err(e) => failed = failed.or(Some(e)),
        }
        self.delivery_error = failed.as_ref().map(ToString::to_string);
        if !self.unmarked.is_empty() {
            // The events are recorded and their lines written whatever happens here: a failure
            // is never the events' (which must not be decided again). Marking is retried with
            // the next delivery, and the start-up repair finds the lines in messages.txt.
            match self.store.mark_delivered(&self.unmarked) {
                Ok(()) => {
                    self.unmarked.clear();
                    self.mark_error = None;
                }
                Err(e) => self.mark_error = Some(e.to_string()),
            }
        }
        match failed {
            Some(e) => Err(PipelineError::Deliver(e)),
            None => Ok(()),
        }
    }

    /// After a crash: write the messages of committed send requests that never reached the
    /// provider (`written` says which event ids the provider already has). Returns how many
    /// were missing; those that cannot be written yet wait, as after any failed write.
    pub fn recover(
        &mut self,
        rules: &RuleSet,
        written: impl Fn(i64) -> bool,
    ) -> Result<usize, PipelineError> {
        let open = self.store.undelivered()?;
        let mut count = 0;
        for req in &open {
            if written(req.event_id) {
                self.unmarked.push(req.event_id);
                continue;
            }
            self.pending.push(Message::for_request(rules, req));
            count += 1;
        }
        // Written now if the provider takes them; otherwise (a full disk at start) they wait
        // like any other line, and the service starts anyway.
        let _ = self.deliver_pending();
        Ok(count)
    }
}

/// `event` came with the idempotency key of stored event `event_id` (whose fingerprint is
/// `fingerprint`): a replay when it is the same event, answered with the stored decision (and
/// the trace of deciding it again as of then), else a conflict naming what differs.
fn replay<'r, T: StoreTx>(
    tx: &mut T,
    rules: &'r RuleSet,
    event: &Event,
    event_id: i64,
    fingerprint: &str,
) -> Result<Recording<'r>, StoreError> {
    let corrupt = |what: &str| StoreError::Corrupt(format!("event {event_id} has no {what}"));
    if fingerprint != event.fingerprint() {
        let stored = tx.load_event(event_id)?.ok_or_else(|| corrupt("row"))?;
        let fields = stored.differing_fields(event);
        // Fields that all agree (a fingerprint from another version) make a replay.
        if !fields.is_empty() {
            return Ok(Recording::Conflict(KeyConflict {
                key: event.idempotency_key.clone().unwrap_or_default(),
                event_id,
                fields,
            }));
        }
    }
    let stored = tx
        .stored_decision(event_id)?
        .ok_or_else(|| corrupt("decision"))?;
    let history = history(tx, rules, event, event_id)?;
    let mut decision = engine::decide(rules, event, &history);
    decision.verdict = stored.verdict;
    Ok(Recording::Replay(
        event_id,
        decision,
        stored.delivery_status,
    ))
}

/// The history `event` needs, as it stood before event `event_id`.
fn history<'r, T: StoreTx>(
    tx: &mut T,
    rules: &'r RuleSet,
    event: &Event,
    event_id: i64,
) -> Result<History<'r>, StoreError> {
    let user = event.user_id.as_str();
    let earlier = if engine::needs_earlier_zone(rules, event) {
        tx.latest_zone(user, event_id)?
    } else {
        None
    };
    let zone = engine::resolve_zone(rules, event, earlier);
    let lookups = engine::lookups(rules, event, zone.zone);
    let mut history = History {
        zone,
        ..History::default()
    };
    for t in lookups.prior_types {
        let found = tx.latest_prior(user, t, event_id)?;
        history.priors.push((t, found));
    }
    for (t, w) in lookups.deliveries {
        let found = tx.find_delivery(user, t, w, event_id)?;
        history.deliveries.push((t, w, found));
    }
    for (c, w) in lookups.caps {
        let found = tx.cap_deliveries(user, &rules.policy.frequency_caps[c], w, event_id)?;
        history.caps.push((c, w, found));
    }
    Ok(history)
}

/// Decide a stored event again as of when it was processed (the same history), for its
/// full explanation. Writes nothing.
pub fn explain<'r, S: Store>(
    store: &mut S,
    rules: &'r RuleSet,
    event_id: i64,
) -> Result<Option<(Event, Decision<'r>)>, StoreError> {
    store.flush()?;
    // A read-only look: the transaction is dropped, so nothing is committed.
    let mut tx = store.begin()?;
    let Some(event) = tx.load_event(event_id)? else {
        return Ok(None);
    };
    let history = history(&mut tx, rules, &event, event_id)?;
    let decision = engine::decide(rules, &event, &history);
    Ok(Some((event, decision)))
}

/// The zone stored event `event_id` is in (SPEC §7.2) — its own valid
/// `user_traits.timezone`, else the user's latest earlier one, else the file's default —
/// whether or not its decision needed one: for showing its local time. Writes nothing.
pub fn zone_of<S: Store>(
    store: &mut S,
    rules: &RuleSet,
    event_id: i64,
) -> Result<Option<ResolvedZone>, StoreError> {
    store.flush()?;
    let mut tx = store.begin()?;
    let Some(event) = tx.load_event(event_id)? else {
        return Ok(None);
    };
    let earlier = match engine::own_zone(&event) {
        Some(_) => None,
        None => tx.latest_zone(&event.user_id, event_id)?,
    };
    Ok(Some(engine::resolve_zone(rules, &event, earlier)))
}

#[cfg(test)]
mod tests;
