//! The one pipeline every mode runs: event -> store -> history -> decide -> record ->
//! deliver. Each event's rows are written in one transaction; its message is delivered once
//! that transaction is durable, so a delivery is never written for rows that were lost.

use chrono::{DateTime, Utc};

use crate::engine::{self, Decision, History};
use crate::event::Event;
use crate::provider::{Message, Provider};
use crate::rules::{Channel, RuleSet};
use crate::store::{DecisionRecord, Durability, Store, StoreError, StoreTx};

#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot write a delivery to the messaging provider: {0}")]
    Deliver(#[source] std::io::Error),
}

pub struct Pipeline<S, P> {
    pub store: S,
    pub provider: P,
    /// Messages of events committed but not yet durable (stores that group commits).
    pending: Vec<Message>,
}

/// What processing one event produced.
#[derive(Debug, Clone)]
pub struct Processed<'r> {
    pub event_id: i64,
    pub decision: Decision<'r>,
}

impl<S: Store, P: Provider> Pipeline<S, P> {
    pub fn new(store: S, provider: P) -> Self {
        Pipeline {
            store,
            provider,
            pending: Vec::new(),
        }
    }

    /// Process one event that arrived at `received_at` (the clock is the caller's).
    pub fn process<'r>(
        &mut self,
        rules: &'r RuleSet,
        event: &Event,
        received_at: DateTime<Utc>,
    ) -> Result<Processed<'r>, PipelineError> {
        let (event_id, decision, durability) = match self.record(rules, event, received_at) {
            Ok(done) => done,
            Err(e) => {
                // The store rolled back the event and, if it groups commits, its whole group.
                self.pending.clear();
                return Err(e.into());
            }
        };
        let v = &decision.verdict;
        if let Some(m) =
            Message::for_verdict(rules, event.event_timestamp, &event.user_id, event_id, v)
        {
            self.pending.push(m);
        }
        if durability == Durability::Durable {
            self.deliver_pending()?;
        }
        Ok(Processed { event_id, decision })
    }

    /// Make everything processed so far durable, then deliver what is still pending.
    pub fn finish(&mut self) -> Result<(), PipelineError> {
        if let Err(e) = self.store.flush() {
            // The open group was not committed: its messages must never be delivered.
            self.pending.clear();
            return Err(e.into());
        }

        self.deliver_pending()?;
        self.provider.flush().map_err(PipelineError::Deliver)
    }

    fn record<'r>(
        &mut self,
        rules: &'r RuleSet,
        event: &Event,
        received_at: DateTime<Utc>,
    ) -> Result<(i64, Decision<'r>, Durability), StoreError> {
        let mut tx = self.store.begin()?;
        let event_id = tx.insert_event(event, received_at)?;
        let history = history(&mut tx, rules, event, event_id)?;
        let decision = engine::decide(rules, event, &history);
        tx.record(&DecisionRecord {
            event_id,
            event,
            verdict: &decision.verdict,
            decided_at: received_at,
        })?;
        let durability = tx.commit()?;
        Ok((event_id, decision, durability))
    }

    fn deliver_pending(&mut self) -> Result<(), PipelineError> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let mut ids = Vec::with_capacity(self.pending.len());
        for m in self.pending.drain(..) {
            self.provider.deliver(&m).map_err(PipelineError::Deliver)?;
            ids.push(m.event_id);
        }
        self.provider.flush().map_err(PipelineError::Deliver)?;
        self.store.mark_delivered(&ids)?;
        Ok(())
    }

    /// After a crash: write the messages of committed send requests that never reached the
    /// provider (`written` says which event ids the provider already has). Returns how many
    /// were written.
    pub fn recover(
        &mut self,
        rules: &RuleSet,
        written: impl Fn(i64) -> bool,
    ) -> Result<usize, PipelineError> {
        let open = self.store.undelivered()?;
        let mut count = 0;
        for req in &open {
            if written(req.event_id) {
                continue;
            }
            let channel = Channel::parse(&req.channel).ok_or_else(|| {
                StoreError::Corrupt(format!(
                    "send request {}: channel `{}`",
                    req.event_id, req.channel
                ))
            })?;
            let rule = req.reason.strip_prefix("rule:").unwrap_or(&req.reason);
            let m = Message {
                event_timestamp: req.event_timestamp,
                user_id: req.user_id.clone(),
                template: req.template_name.as_str().into(),
                channel: channel.as_str(),
                event_id: req.event_id,
                rule: rule.into(),
                text: rules.text(&req.template_name).to_string(),
            };
            self.provider.deliver(&m).map_err(PipelineError::Deliver)?;
            count += 1;
        }
        self.provider.flush().map_err(PipelineError::Deliver)?;
        let ids: Vec<i64> = open.iter().map(|r| r.event_id).collect();
        self.store.mark_delivered(&ids)?;
        Ok(count)
    }
}

/// The history `event` needs, as it stood before event `event_id`.
fn history<'r, T: StoreTx>(
    tx: &mut T,
    rules: &'r RuleSet,
    event: &Event,
    event_id: i64,
) -> Result<History<'r>, StoreError> {
    let lookups = engine::lookups(rules, event);
    let user = event.user_id.as_str();
    let mut history = History::default();
    for t in lookups.prior_types {
        let found = tx.latest_prior(user, t, event_id)?;
        history.priors.push((t, found));
    }
    for (t, w) in lookups.deliveries {
        let found = tx.find_delivery(user, t, w, event_id)?;
        history.deliveries.push((t, w, found));
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
