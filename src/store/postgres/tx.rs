//! The PostgreSQL store's per-event transaction, and group commit across events.

use ::postgres::Client;
use ::postgres::error::SqlState;
use chrono::{DateTime, Utc};

use super::statements::Statements;
use super::{Group, audit_row, load_event};
use crate::engine::{Delivery, PriorEvent, Window, Zone, own_zone};
use crate::event::{Event, format_ts};
use crate::rules::Cap;
use crate::store::{
    AlsoWrite, AuditEntry, DecisionRecord, Durability, Inserted, RecordRows, StoreError, StoreTx,
    cap_lists, delivery, parse_ts, window_micros,
};

pub struct PgTx<'a> {
    pub(super) tx: &'a mut Client,
    pub(super) stmts: &'a Statements,
    pub(super) outbox: &'a str,
    pub(super) group: &'a mut Group,
    pub(super) done: bool,
}

impl Group {
    /// End the open group's transaction with `COMMIT`. A serialization failure or a deadlock
    /// rolled it back: a retry is safe. Any other failure at `COMMIT` (a server shutting
    /// down, a dropped connection) leaves it unknown whether the group was recorded.
    pub(super) fn commit(&mut self, client: &mut Client) -> Result<(), StoreError> {
        self.end();
        match client.batch_execute("COMMIT") {
            Ok(()) => Ok(()),
            Err(e)
                if e.code().is_some_and(|c| {
                    *c == SqlState::T_R_SERIALIZATION_FAILURE
                        || *c == SqlState::T_R_DEADLOCK_DETECTED
                }) =>
            {
                Err(e.into())
            }
            Err(e) => Err(StoreError::CommitUnknown(e.to_string())),
        }
    }

    pub(super) fn end(&mut self) {
        self.open = false;
        self.pending = 0;
        self.locked.clear();
    }
}

impl Drop for PgTx<'_> {
    /// An event that did not commit leaves nothing behind (nor does the rest of its group).
    fn drop(&mut self) {
        if self.done {
            return;
        }
        self.group.end();
        let _ = self.tx.batch_execute("ROLLBACK");
    }
}

impl PgTx<'_> {
    /// Take the advisory locks of those of `users` the group does not hold yet, in one
    /// statement, in ascending key order (`Store::lock_users`).
    pub(super) fn lock_users(&mut self, users: &[&str]) -> Result<(), StoreError> {
        let fresh: Vec<&str> = users
            .iter()
            .copied()
            .filter(|u| !self.group.locked.contains(*u))
            .collect();
        if !fresh.is_empty() {
            self.tx.execute(&self.stmts.lock_sorted, &[&fresh])?;
            self.group
                .locked
                .extend(fresh.into_iter().map(str::to_string));
        }
        Ok(())
    }

    /// The stored event with idempotency key `key`, if any (committed, or this
    /// transaction's).
    fn keyed(&mut self, key: &str) -> Result<Option<Inserted>, StoreError> {
        let row = self.tx.query_opt(&self.stmts.keyed, &[&key])?;
        Ok(row.map(|r| Inserted::Existing {
            event_id: r.get(0),
            fingerprint: r.get::<_, Option<String>>(1).unwrap_or_default(),
        }))
    }
}

impl StoreTx for PgTx<'_> {
    fn insert_event(
        &mut self,
        e: &Event,
        created_at: DateTime<Utc>,
    ) -> Result<Inserted, StoreError> {
        // Events of one user run one at a time, on every instance. A group that locked its
        // users up front (`Store::lock_users`) holds this one already.
        if !self.group.locked.contains(&e.user_id) {
            self.tx.execute(&self.stmts.lock, &[&e.user_id])?;
            self.group.locked.insert(e.user_id.clone());
        }
        // A replay (same user, so after the lock) finds its event here without taking an id
        // from the sequence, so later events' ids are not shifted.
        if let Some(key) = &e.idempotency_key
            && let Some(found) = self.keyed(key)?
        {
            return Ok(found);
        }
        let fingerprint = e.idempotency_key.as_ref().map(|_| e.fingerprint());
        let props = serde_json::to_string(&e.properties).expect("json map serialises");
        // The unique index is the guard: the same key inserted meanwhile by another user's
        // transaction (not serialised by the lock) makes this insert wait for it, then do
        // nothing if it committed.
        let row = self.tx.query_opt(
            &self.stmts.insert_event,
            &[
                &e.user_id,
                &e.event_type,
                &format_ts(e.event_timestamp),
                &props,
                &format_ts(created_at),
                &own_zone(e).map(Zone::name),
                &e.idempotency_key,
                &fingerprint,
            ],
        )?;
        let Some(row) = row else {
            let key = e.idempotency_key.as_deref().unwrap_or_default();
            return self.keyed(key)?.ok_or_else(|| {
                StoreError::Corrupt(format!(
                    "idempotency key `{key}` conflicts but is not found"
                ))
            });
        };
        let id: i64 = row.get(0);
        if let Some(t) = &e.user_traits {
            let extra = serde_json::to_string(&t.extra).expect("json map serialises");
            self.tx.execute(
                &self.stmts.insert_traits,
                &[
                    &id,
                    &t.email,
                    &t.country,
                    &t.marketing_opt_in,
                    &t.risk_segment,
                    &extra,
                ],
            )?;
        }
        Ok(Inserted::New(id))
    }

    fn stored_decision(&mut self, id: i64) -> Result<Option<AuditEntry>, StoreError> {
        let row = self.tx.query_opt(&self.stmts.stored_decision, &[&id])?;
        row.map(|r| audit_row(&r).parse()).transpose()
    }

    fn load_event(&mut self, id: i64) -> Result<Option<Event>, StoreError> {
        load_event(&mut *self.tx, &self.stmts.load_event, id)
    }

    fn latest_zone(
        &mut self,
        user_id: &str,
        before: i64,
    ) -> Result<Option<(i64, Zone)>, StoreError> {
        let row = self
            .tx
            .query_opt(&self.stmts.latest_zone, &[&user_id, &before])?;
        Ok(row.and_then(|r| Zone::parse(r.get::<_, &str>(1)).map(|z| (r.get(0), z))))
    }

    fn latest_prior(
        &mut self,
        user_id: &str,
        event_type: &str,
        before: i64,
    ) -> Result<Option<PriorEvent>, StoreError> {
        let row = self
            .tx
            .query_opt(&self.stmts.latest_prior, &[&user_id, &event_type, &before])?;
        row.map(|r| {
            Ok(PriorEvent {
                event_id: r.get(0),
                event_timestamp: parse_ts(r.get::<_, &str>(1))?,
            })
        })
        .transpose()
    }

    fn find_delivery(
        &mut self,
        user_id: &str,
        template: &str,
        window: Window,
        before: i64,
    ) -> Result<Option<Delivery>, StoreError> {
        let (from, to) = window_micros(window);
        let row = self.tx.query_opt(
            &self.stmts.find_delivery,
            &[&user_id, &template, &from, &to, &before],
        )?;
        row.map(|r| delivery(r.get(0), r.get(1))).transpose()
    }

    fn cap_deliveries(
        &mut self,
        user_id: &str,
        cap: &Cap,
        window: Window,
        before: i64,
    ) -> Result<Vec<Delivery>, StoreError> {
        let (from, to) = window_micros(window);
        let (categories, channels) = cap_lists(cap);
        let rows = self.tx.query(
            &self.stmts.cap_deliveries,
            &[
                &user_id,
                &from,
                &to,
                &before,
                &categories,
                &channels,
                &i64::from(cap.max),
            ],
        )?;
        rows.iter().map(|r| delivery(r.get(0), r.get(1))).collect()
    }

    fn record(&mut self, rec: &DecisionRecord<'_>) -> Result<(), StoreError> {
        let r = RecordRows::new(rec);
        self.tx.execute(
            &self.stmts.insert_decision,
            &[
                &r.user_id,
                &r.event_id,
                &r.event_type,
                &r.event_timestamp,
                &r.matched_rule,
                &r.action_type,
                &r.outcome,
                &r.reason,
                &r.reason_code,
                &r.template_name,
                &r.channel,
                &r.decided_at,
                &r.deliver_at,
                &r.message_text,
            ],
        )?;
        match &r.also {
            AlsoWrite::Send {
                template,
                channel,
                reason,
            } => {
                self.tx.execute(
                    &self.stmts.insert_send,
                    &[
                        &r.user_id,
                        &r.event_id,
                        &r.event_timestamp,
                        template,
                        channel,
                        reason,
                        &r.decided_at,
                        &self.outbox,
                        &r.event_us,
                        &r.deliver_at,
                        &r.deliver_us,
                        &r.category,
                        &r.message_text,
                    ],
                )?;
            }
            AlsoWrite::Suppression { template } => {
                self.tx.execute(
                    &self.stmts.insert_suppression,
                    &[&r.user_id, &r.event_id, template, &r.reason, &r.decided_at],
                )?;
            }
            AlsoWrite::Nothing => {}
        }
        Ok(())
    }

    fn commit(mut self) -> Result<Durability, StoreError> {
        self.done = true;
        self.group.pending += 1;
        if self.group.pending < self.group.size {
            return Ok(Durability::Pending);
        }
        self.group.commit(self.tx)?;
        Ok(Durability::Durable)
    }
}
