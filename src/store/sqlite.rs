//! The SQLite store (rusqlite): in memory for scratch runs, a WAL file for kept databases.

use std::path::Path;

use rusqlite::{Connection, OptionalExtension, params};

mod tx;

pub use tx::SqliteTx;

use super::migrations::{EVENT_US_VERSION, MIGRATIONS};
use super::{AuditEntry, Recorded, SendRequest, Store, StoreError, micros, parse_ts};
use crate::event::{Event, Traits};

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
        if i + 1 == EVENT_US_VERSION {
            backfill_event_us(&tx)?;
        }
        tx.pragma_update(None, "user_version", i as i64 + 1)?;
        tx.commit()?;
    }
    Ok(())
}

fn backfill_event_us(conn: &Connection) -> Result<(), StoreError> {
    let rows: Vec<(i64, String)> = conn
        .prepare("SELECT id, event_timestamp FROM send_requests WHERE event_us IS NULL")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    let mut update = conn.prepare("UPDATE send_requests SET event_us = ?2 WHERE id = ?1")?;
    for (id, ts) in rows {
        update.execute(params![id, micros(parse_ts(ts)?)])?;
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

#[cfg(test)]
mod tests;
