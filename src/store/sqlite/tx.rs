//! The SQLite store's per-event transaction, and group commit.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, params};

use super::{Batch, audit_row, load_event};
use crate::engine::{Delivery, PriorEvent, Window, Zone, own_zone};
use crate::event::{Event, format_ts};
use crate::rules::Cap;
use crate::store::{
    AlsoWrite, AuditEntry, AuditRow, DecisionRecord, Durability, Inserted, RecordRows, StoreError,
    StoreTx, cap_lists, delivery, parse_ts, window_micros,
};

pub struct SqliteTx<'a> {
    pub(super) conn: &'a Connection,
    pub(super) batch: &'a mut Batch,
    pub(super) outbox: &'a str,
    /// The id the event inserted in this transaction takes (`None`: the next free one).
    pub(super) next_id: Option<i64>,
    pub(super) done: bool,
}

impl Batch {
    pub(super) fn commit(&mut self, conn: &Connection) -> Result<(), StoreError> {
        self.open = false;
        self.pending = 0;
        if let Err(e) = conn
            .prepare_cached("COMMIT")
            .and_then(|mut s| s.execute([]))
        {
            // A failed COMMIT can leave the transaction open: end it, nothing was written.
            let _ = conn.execute_batch("ROLLBACK");
            return Err(e.into());
        }
        Ok(())
    }
}

impl Drop for SqliteTx<'_> {
    /// An event that did not commit leaves nothing behind (nor does the rest of its group).
    fn drop(&mut self) {
        if self.done {
            return;
        }
        self.batch.open = false;
        self.batch.pending = 0;
        let _ = self.conn.execute_batch("ROLLBACK");
    }
}

impl SqliteTx<'_> {
    /// The stored event with idempotency key `key`, if any.
    fn keyed(&mut self, key: &str) -> Result<Option<Inserted>, StoreError> {
        Ok(self
            .conn
            .prepare_cached("SELECT id, idempotency_fp FROM events WHERE idempotency_key = ?1")?
            .query_row([key], |r| {
                Ok(Inserted::Existing {
                    event_id: r.get(0)?,
                    fingerprint: r.get::<_, Option<String>>(1)?.unwrap_or_default(),
                })
            })
            .optional()?)
    }
}

impl StoreTx for SqliteTx<'_> {
    fn insert_event(
        &mut self,
        e: &Event,
        created_at: DateTime<Utc>,
    ) -> Result<Inserted, StoreError> {
        let fingerprint = e.idempotency_key.as_ref().map(|_| e.fingerprint());
        if let Some(key) = &e.idempotency_key
            && let Some(found) = self.keyed(key)?
        {
            return Ok(found);
        }
        let props = serde_json::to_string(&e.properties).expect("json map serialises");
        // The unique index is the guard: a key inserted since the look above (another
        // connection) makes this insert do nothing.
        let inserted = self
            .conn
            .prepare_cached(
                "INSERT INTO events (id, user_id, event_type, event_timestamp, properties,
                    created_at, timezone, idempotency_key, idempotency_fp)
                 VALUES (?9, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
                 ON CONFLICT (idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING",
            )?
            .execute(params![
                e.user_id,
                e.event_type,
                format_ts(e.event_timestamp),
                props,
                format_ts(created_at),
                own_zone(e).map(Zone::name),
                e.idempotency_key,
                fingerprint,
                self.next_id
            ])?;
        if inserted == 0 {
            let key = e.idempotency_key.as_deref().unwrap_or_default();
            return self.keyed(key)?.ok_or_else(|| {
                StoreError::Corrupt(format!(
                    "idempotency key `{key}` conflicts but is not found"
                ))
            });
        }
        let id = self.conn.last_insert_rowid();
        if let Some(t) = &e.user_traits {
            let extra = serde_json::to_string(&t.extra).expect("json map serialises");
            self.conn
                .prepare_cached(
                    "INSERT INTO user_traits
                       (id, event_id, email, country, marketing_opt_in, risk_segment, extra)
                     VALUES (?1, ?1, ?2, ?3, ?4, ?5, ?6)",
                )?
                .execute(params![
                    id,
                    t.email,
                    t.country,
                    t.marketing_opt_in,
                    t.risk_segment,
                    extra
                ])?;
        }
        Ok(Inserted::New(id))
    }

    fn stored_decision(&mut self, id: i64) -> Result<Option<AuditEntry>, StoreError> {
        self.conn
            .prepare_cached(&format!(
                "SELECT {} FROM {} WHERE d.id = ?1",
                AuditRow::COLUMNS,
                AuditRow::FROM
            ))?
            .query_row([id], audit_row)
            .optional()?
            .map(AuditRow::parse)
            .transpose()
    }

    fn load_event(&mut self, id: i64) -> Result<Option<Event>, StoreError> {
        load_event(self.conn, id)
    }

    fn latest_zone(
        &mut self,
        user_id: &str,
        before: i64,
    ) -> Result<Option<(i64, Zone)>, StoreError> {
        let row: Option<(i64, String)> = self
            .conn
            .prepare_cached(
                "SELECT id, timezone FROM events
                 WHERE user_id = ?1 AND id < ?2 AND timezone IS NOT NULL
                 ORDER BY id DESC LIMIT 1",
            )?
            .query_row(params![user_id, before], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        // A name stored as valid stays valid unless the tz database drops it: then it is
        // passed over, like any name that is not a zone.
        Ok(row.and_then(|(id, name)| Zone::parse(&name).map(|z| (id, z))))
    }

    fn latest_prior(
        &mut self,
        user_id: &str,
        event_type: &str,
        before: i64,
    ) -> Result<Option<PriorEvent>, StoreError> {
        let row: Option<(i64, String)> = self
            .conn
            .prepare_cached(
                "SELECT id, event_timestamp FROM events
                 WHERE user_id = ?1 AND event_type = ?2 AND id < ?3
                 ORDER BY id DESC LIMIT 1",
            )?
            .query_row(params![user_id, event_type, before], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .optional()?;
        row.map(|(event_id, ts)| {
            Ok(PriorEvent {
                event_id,
                event_timestamp: parse_ts(&ts)?,
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
        // The first by id, picked here: `ORDER BY id LIMIT 1` made SQLite sort the window's
        // rows in a temporary b-tree on every lookup (16 % of a run's time, `perf`), and a
        // window holds a row or two (its suppression stops the rest).
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, event_id, event_timestamp FROM send_requests
             WHERE user_id = ?1 AND template_name = ?2
               AND event_us >= ?3 AND event_us < ?4 AND event_id < ?5",
        )?;
        let mut rows = stmt.query(params![user_id, template, from, to, before])?;
        let mut row: Option<(i64, i64, String)> = None;
        while let Some(r) = rows.next()? {
            let id: i64 = r.get(0)?;
            if row.as_ref().is_none_or(|(first, _, _)| id < *first) {
                row = Some((id, r.get(1)?, r.get(2)?));
            }
        }
        let row = row.map(|(_, event_id, ts)| (event_id, ts));
        row.map(|(event_id, ts)| delivery(event_id, &ts))
            .transpose()
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
        // The index (user_id, event_us) orders ties by id, which is the event id: no sort.
        let rows: Vec<(i64, String)> = self
            .conn
            .prepare_cached(
                "SELECT event_id, event_timestamp FROM send_requests
                 WHERE user_id = ?1 AND event_us >= ?2 AND event_us < ?3 AND event_id < ?4
                   AND category IS NOT NULL
                   AND (?5 IS NULL OR instr(?5, ',' || category || ',') > 0)
                   AND instr(?6, ',' || channel || ',') > 0
                 ORDER BY event_us LIMIT ?7",
            )?
            .query_map(
                params![user_id, from, to, before, categories, channels, cap.max],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?
            .collect::<Result<_, _>>()?;
        rows.into_iter()
            .map(|(event_id, ts)| delivery(event_id, &ts))
            .collect()
    }

    fn record(&mut self, rec: &DecisionRecord<'_>) -> Result<(), StoreError> {
        let r = RecordRows::new(rec);
        self.conn
            .prepare_cached(
                "INSERT INTO decisions (id, user_id, event_id, event_type, event_timestamp,
                    matched_rule, action_type, outcome, reason, reason_code, template_name,
                    channel, created_at, deliver_at, message_text)
                 VALUES (?2, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
            )?
            .execute(params![
                r.user_id,
                r.event_id,
                r.event_type,
                r.event_timestamp,
                r.matched_rule,
                r.action_type,
                r.outcome,
                r.reason,
                r.reason_code,
                r.template_name,
                r.channel,
                r.decided_at,
                r.deliver_at,
                r.message_text
            ])?;
        match &r.also {
            AlsoWrite::Send {
                template,
                channel,
                reason,
            } => {
                self.conn
                    .prepare_cached(
                        "INSERT INTO send_requests (id, user_id, event_id, event_timestamp,
                            template_name, channel, reason, created_at, outbox, event_us,
                            deliver_at, deliver_us, claimed, category, message_text)
                         VALUES (?2, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?11 IS NULL,
                            ?12, ?13)",
                    )?
                    .execute(params![
                        r.user_id,
                        r.event_id,
                        r.event_timestamp,
                        template,
                        channel,
                        reason,
                        r.decided_at,
                        self.outbox,
                        r.event_us,
                        r.deliver_at,
                        r.deliver_us,
                        r.category,
                        r.message_text
                    ])?;
            }
            AlsoWrite::Suppression { template } => {
                self.conn
                    .prepare_cached(
                        "INSERT INTO suppressions (id, user_id, event_id, template_name,
                            suppression_reason, created_at)
                         VALUES (?2, ?1, ?2, ?3, ?4, ?5)",
                    )?
                    .execute(params![
                        r.user_id,
                        r.event_id,
                        template,
                        r.reason,
                        r.decided_at
                    ])?;
            }
            AlsoWrite::Nothing => {}
        }
        Ok(())
    }

    fn commit(mut self) -> Result<Durability, StoreError> {
        self.batch.pending += 1;
        let durable = self.batch.pending >= self.batch.size;
        if durable {
            self.batch.commit(self.conn)?;
        }
        self.done = true;
        Ok(if durable {
            Durability::Durable
        } else {
            Durability::Pending
        })
    }
}
