//! The one pipeline every mode runs: event -> store -> history -> decide -> record ->
//! deliver. Each event's rows are written in one transaction; the message is delivered after
//! the commit.

use chrono::{DateTime, Utc};

use crate::engine::{self, Decision, History};
use crate::event::Event;
use crate::provider::{Message, Provider};
use crate::rules::RuleSet;
use crate::store::{DecisionRecord, Store, StoreError, StoreTx};

#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot write the delivery for event {event_id}: {source}")]
    Deliver {
        event_id: i64,
        source: std::io::Error,
    },
}

pub struct Pipeline<S, P> {
    pub store: S,
    pub provider: P,
}

/// What processing one event produced.
#[derive(Debug, Clone)]
pub struct Processed<'r> {
    pub event_id: i64,
    pub decision: Decision<'r>,
}

impl<S: Store, P: Provider> Pipeline<S, P> {
    pub fn new(store: S, provider: P) -> Self {
        Pipeline { store, provider }
    }

    /// Process one event that arrived at `received_at` (the clock is the caller's).
    pub fn process<'r>(
        &mut self,
        rules: &'r RuleSet,
        event: &Event,
        received_at: DateTime<Utc>,
    ) -> Result<Processed<'r>, PipelineError> {
        let mut tx = self.store.begin()?;
        let event_id = tx.insert_event(event, received_at)?;
        let lookups = engine::lookups(rules, event);
        let user = event.user_id.as_str();
        let mut history = History::default();
        for t in lookups.prior_types {
            history
                .priors
                .push((t, tx.latest_prior(user, t, event_id)?));
        }
        for (t, w) in lookups.deliveries {
            history
                .deliveries
                .push((t, w, tx.find_delivery(user, t, w, event_id)?));
        }
        let decision = engine::decide(rules, event, &history);
        tx.record(&DecisionRecord {
            event_id,
            event,
            verdict: &decision.verdict,
            decided_at: received_at,
        })?;
        tx.commit()?;
        self.deliver(rules, event, event_id, &decision)?;
        Ok(Processed { event_id, decision })
    }

    /// Make everything processed so far durable: the store's open batch and the provider.
    pub fn finish(&mut self) -> Result<(), PipelineError> {
        self.store.flush()?;
        self.provider
            .flush()
            .map_err(|source| PipelineError::Deliver {
                event_id: 0,
                source,
            })
    }

    fn deliver(
        &mut self,
        rules: &RuleSet,
        event: &Event,
        event_id: i64,
        decision: &Decision<'_>,
    ) -> Result<(), PipelineError> {
        let v = &decision.verdict;
        let (true, Some(rule), Some(template), Some(channel)) =
            (v.delivers(), &v.matched_rule, &v.template_name, v.channel)
        else {
            return Ok(());
        };
        let message = Message {
            event_timestamp: event.event_timestamp,
            user_id: &event.user_id,
            template,
            channel: channel.as_str(),
            event_id,
            rule,
            text: rules.text(template),
        };
        self.provider
            .deliver(&message)
            .map_err(|source| PipelineError::Deliver { event_id, source })?;
        Ok(())
    }
}
