//! The SQLite store (rusqlite): in memory for scratch runs, a WAL file for kept databases.

use std::path::Path;

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, params};

use super::migrations::MIGRATIONS;
use super::{
    AuditEntry, DecisionRecord, Durability, Recorded, SendRequest, Store, StoreError, StoreTx,
};
use crate::engine::{Delivery, Outcome, PriorEvent, Window};
use crate::event::{Event, Timestamp, Traits, format_ts};

pub struct SqliteStore {
    conn: Connection,
    batch: Batch,
    /// Which messages file this store's deliveries go to (see `Store::undelivered`).
    outbox: String,
}

/// Group commit: with `size > 1`, `size` events share one transaction, committed when full
/// and on `flush`. Each event is still all-or-nothing: an event that fails rolls back the
/// whole open group, so no event is ever half-written, and nothing of the group was durable
/// (the pipeline delivers a group's messages only once it committed). Scenario runs use it;
/// the service commits every event (`size == 1`).
#[derive(Debug, Default)]
struct Batch {
    size: usize,
    open: bool,
    pending: usize,
}

impl SqliteStore {
    pub fn open_in_memory() -> Result<SqliteStore, StoreError> {
        SqliteStore::init(Connection::open_in_memory()?)
    }

    /// Open (creating if needed) a database file in WAL mode and migrate it.
    pub fn open(path: &Path) -> Result<SqliteStore, StoreError> {
        let conn = Connection::open(path)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        SqliteStore::init(conn)
    }

    fn init(conn: Connection) -> Result<SqliteStore, StoreError> {
        conn.pragma_update(None, "foreign_keys", "ON")?;
        // Savepoint journals stay in memory, and the page cache holds a busy working set.
        conn.pragma_update(None, "temp_store", "MEMORY")?;
        conn.pragma_update(None, "cache_size", -65_536)?;

        migrate(&conn)?;
        Ok(SqliteStore {
            conn,
            batch: Batch {
                size: 1,
                ..Batch::default()
            },
            outbox: String::new(),
        })
    }

    /// Name the messages file this store's deliveries are written to.
    pub fn with_outbox(mut self, outbox: &str) -> SqliteStore {
        self.outbox = outbox.to_string();
        self
    }

    /// Commit every `size` events instead of every event (see [`Batch`]).
    pub fn batched(mut self, size: usize) -> SqliteStore {
        self.batch.size = size.max(1);
        self
    }

    pub fn connection(&self) -> &Connection {
        &self.conn
    }

    /// The schema version this database is at.
    pub fn version(&self) -> Result<i64, StoreError> {
        Ok(self
            .conn
            .pragma_query_value(None, "user_version", |r| r.get(0))?)
    }
}

fn migrate(conn: &Connection) -> Result<(), StoreError> {
    let found: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    let known = MIGRATIONS.len() as i64;
    if found > known {
        return Err(StoreError::TooNew { found, known });
    }
    for (i, m) in MIGRATIONS.iter().enumerate().skip(found as usize) {
        let tx = conn.unchecked_transaction()?;
        tx.execute_batch(m.sqlite)?;
        tx.pragma_update(None, "user_version", i as i64 + 1)?;
        tx.commit()?;
    }
    Ok(())
}

impl Store for SqliteStore {
    type Tx<'a> = SqliteTx<'a>;

    fn begin(&mut self) -> Result<SqliteTx<'_>, StoreError> {
        let SqliteStore {
            conn,
            batch,
            outbox,
        } = self;
        if !batch.open {
            conn.prepare_cached("BEGIN IMMEDIATE")?.execute([])?;
            batch.open = true;
        }
        Ok(SqliteTx {
            conn,
            batch,
            outbox,
            done: false,
        })
    }

    fn flush(&mut self) -> Result<(), StoreError> {
        if self.batch.open {
            self.batch.commit(&self.conn)?;
        }
        Ok(())
    }

    fn mark_delivered(&mut self, event_ids: &[i64]) -> Result<(), StoreError> {
        if event_ids.is_empty() {
            return Ok(());
        }
        let tx = self.conn.unchecked_transaction()?;
        {
            let mut stmt =
                tx.prepare_cached("UPDATE send_requests SET delivered = 1 WHERE id = ?1")?;
            for id in event_ids {
                stmt.execute([id])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    fn undelivered(&mut self) -> Result<Vec<SendRequest>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT event_id, user_id, event_timestamp, template_name, channel, reason
             FROM send_requests WHERE delivered = 0 AND outbox = ?1 ORDER BY id",
        )?;
        let rows = stmt.query_map([&self.outbox], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, String>(5)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (event_id, user_id, ts, template_name, channel, reason) = row?;
            out.push(SendRequest {
                event_id,
                user_id,
                event_timestamp: parse_ts(ts)?,
                template_name,
                channel,
                reason,
            });
        }
        Ok(out)
    }

    fn recorded(
        &mut self,
        user: Option<&str>,
        each: &mut dyn FnMut(Recorded) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT e.id, e.created_at, d.event_type, d.event_timestamp, d.matched_rule,
                    d.action_type, d.template_name, d.channel, d.outcome, d.reason, d.reason_code,
                    d.created_at
             FROM events e JOIN decisions d ON d.id = e.id
             WHERE ?1 IS NULL OR e.user_id = ?1
             ORDER BY e.id",
        )?;
        let mut rows = stmt.query([user])?;
        while let Some(r) = rows.next()? {
            let event_id: i64 = r.get(0)?;
            let created_at = parse_ts(r.get(1)?)?;
            let decision = entry(r)?;
            let event = load_event(&self.conn, event_id)?
                .ok_or_else(|| StoreError::Corrupt(format!("decision {event_id} has no event")))?;
            each(Recorded {
                event_id,
                event,
                created_at,
                decision,
            })?;
        }
        Ok(())
    }

    fn audit(
        &mut self,
        user_id: &str,
        limit: Option<usize>,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        let limit = limit.map_or(-1, |l| l as i64);
        let mut stmt = self.conn.prepare_cached(
            "SELECT * FROM (
                SELECT id, event_id, event_type, event_timestamp, matched_rule, action_type,
                       template_name, channel, outcome, reason, reason_code, created_at
                FROM decisions
                WHERE id IN (SELECT id FROM events WHERE user_id = ?1)
                ORDER BY id DESC LIMIT ?2
             ) ORDER BY id",
        )?;
        let rows = stmt.query_map(params![user_id, limit], entry)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

impl Drop for SqliteStore {
    fn drop(&mut self) {
        let _ = self.flush();
    }
}

pub struct SqliteTx<'a> {
    conn: &'a Connection,
    batch: &'a mut Batch,
    outbox: &'a str,
    done: bool,
}

/// An audit entry from columns (id, _, event_type, event_timestamp, matched_rule, action_type,
/// template_name, channel, outcome, reason, reason_code, created_at).
fn entry(r: &rusqlite::Row<'_>) -> rusqlite::Result<AuditEntry> {
    Ok(AuditEntry {
        event_id: r.get(0)?,
        event_type: r.get(2)?,
        event_timestamp: r.get(3)?,
        matched_rule: r.get(4)?,
        action_type: r.get(5)?,
        template_name: r.get(6)?,
        channel: r.get(7)?,
        outcome: r.get(8)?,
        reason: r.get(9)?,
        reason_code: r.get(10)?,
        decision_timestamp: r.get(11)?,
    })
}

fn load_event(conn: &Connection, id: i64) -> Result<Option<Event>, StoreError> {
    let row = conn
        .prepare_cached(
            "SELECT e.user_id, e.event_type, e.event_timestamp, e.properties,
                    t.id, t.email, t.country, t.marketing_opt_in, t.risk_segment, t.extra
             FROM events e LEFT JOIN user_traits t ON t.id = e.id
             WHERE e.id = ?1",
        )?
        .query_row([id], |r| {
            Ok((
                (r.get::<_, String>(0)?, r.get::<_, String>(1)?),
                (r.get::<_, String>(2)?, r.get::<_, String>(3)?),
                r.get::<_, Option<i64>>(4)?.map(|_| -> rusqlite::Result<_> {
                    Ok((
                        r.get::<_, Option<String>>(5)?,
                        r.get::<_, Option<String>>(6)?,
                        r.get::<_, Option<bool>>(7)?,
                        r.get::<_, Option<String>>(8)?,
                        r.get::<_, String>(9)?,
                    ))
                }),
            ))
        })
        .optional()?;
    let Some(((user_id, event_type), (ts, props), traits)) = row else {
        return Ok(None);
    };
    let json = |s: &str| {
        serde_json::from_str(s).map_err(|e| StoreError::Corrupt(format!("event {id}: {e}")))
    };
    let user_traits = match traits.transpose()? {
        None => None,
        Some((email, country, marketing_opt_in, risk_segment, extra)) => Some(Traits {
            email,
            country,
            marketing_opt_in,
            risk_segment,
            extra: json(&extra)?,
        }),
    };
    Ok(Some(Event {
        user_id,
        event_type,
        event_timestamp: parse_ts(ts)?,
        properties: json(&props)?,
        user_traits,
    }))
}

impl Batch {
    fn commit(&mut self, conn: &Connection) -> Result<(), StoreError> {
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

fn parse_ts(s: String) -> Result<DateTime<Utc>, StoreError> {
    Timestamp::parse(&s)
        .map(|t| t.0)
        .map_err(StoreError::Corrupt)
}

impl StoreTx for SqliteTx<'_> {
    fn insert_event(&mut self, e: &Event, created_at: DateTime<Utc>) -> Result<i64, StoreError> {
        let props = serde_json::to_string(&e.properties).expect("json map serialises");
        self.conn
            .prepare_cached(
                "INSERT INTO events (user_id, event_type, event_timestamp, properties, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )?
            .execute(params![
                e.user_id,
                e.event_type,
                format_ts(e.event_timestamp),
                props,
                format_ts(created_at)
            ])?;
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
        Ok(id)
    }

    fn load_event(&mut self, id: i64) -> Result<Option<Event>, StoreError> {
        load_event(self.conn, id)
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
                event_timestamp: parse_ts(ts)?,
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
        let (from, to) = window.text_range();
        let row: Option<(i64, String)> = self
            .conn
            .prepare_cached(
                "SELECT event_id, event_timestamp FROM send_requests
                 WHERE user_id = ?1 AND template_name = ?2
                   AND event_timestamp >= ?3 AND event_timestamp < ?4 AND event_id < ?5
                 ORDER BY id LIMIT 1",
            )?
            .query_row(params![user_id, template, from, to, before], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .optional()?;
        row.map(|(event_id, ts)| {
            Ok(Delivery {
                event_id,
                event_timestamp: parse_ts(ts)?,
            })
        })
        .transpose()
    }

    fn record(&mut self, rec: &DecisionRecord<'_>) -> Result<(), StoreError> {
        let v = rec.verdict;
        let e = rec.event;
        let at = format_ts(rec.decided_at);
        let event_ts = format_ts(e.event_timestamp);
        self.conn
            .prepare_cached(
                "INSERT INTO decisions (id, user_id, event_id, event_type, event_timestamp,
                    matched_rule, action_type, outcome, reason, reason_code, template_name,
                    channel, created_at)
                 VALUES (?2, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
            )?
            .execute(params![
                e.user_id,
                rec.event_id,
                e.event_type,
                event_ts,
                v.matched_rule,
                v.action_type.as_str(),
                v.outcome.as_str(),
                v.reason,
                v.reason_code.as_str(),
                v.template_name,
                v.channel.map(|c| c.as_str()),
                at
            ])?;
        match (v.outcome, &v.template_name, v.channel) {
            (Outcome::Allow | Outcome::Alert, Some(t), Some(c)) => {
                self.conn
                    .prepare_cached(
                        "INSERT INTO send_requests (id, user_id, event_id, event_timestamp,
                            template_name, channel, reason, created_at, outbox)
                         VALUES (?2, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                    )?
                    .execute(params![
                        e.user_id,
                        rec.event_id,
                        event_ts,
                        t,
                        c.as_str(),
                        // as in messages.txt; the decision holds the full reason
                        format!("rule:{}", v.matched_rule.as_deref().unwrap_or_default()),
                        at,
                        self.outbox
                    ])?;
            }
            (Outcome::Suppress, Some(t), _) => {
                self.conn
                    .prepare_cached(
                        "INSERT INTO suppressions (id, user_id, event_id, template_name,
                            suppression_reason, created_at)
                         VALUES (?2, ?1, ?2, ?3, ?4, ?5)",
                    )?
                    .execute(params![e.user_id, rec.event_id, t, v.reason, at])?;
            }
            _ => {}
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

#[cfg(test)]
mod tests;
