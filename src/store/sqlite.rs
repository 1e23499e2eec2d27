//! The SQLite store (rusqlite): in memory for scratch runs, a WAL file for kept databases.

use std::path::Path;

use rusqlite::{Connection, OptionalExtension, params};

mod migrate;
mod tx;

pub use tx::SqliteTx;

use chrono::{DateTime, Utc};

use super::{
    AuditEntry, AuditRow, Durability, Recorded, SendRequest, SendRow, Store, StoreError, micros,
    parse_ts,
};
use crate::event::{Event, Traits};
use migrate::migrate;

pub struct SqliteStore {
    conn: Connection,
    batch: Batch,
    /// Which messages file this store's deliveries go to (see `Store::undelivered`).
    outbox: String,
    /// The id the next inserted event takes, when the caller assigns ids (a sharded run).
    next_id: Option<i64>,
    /// A scratch database (`open_scratch`): written lines are not marked.
    scratch: bool,
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

    /// A private scratch database for one run, deleted when closed: it lives in SQLite's page
    /// cache up to `cache_mib` MiB and spills to a temporary file past that, so a run of any
    /// size holds at most about that much of it in memory (as fast as an in-memory database
    /// while it fits). Nothing is synced and nothing journaled (a journal of a big commit
    /// group would grow with the database): a failed event leaves it unusable, and a scratch
    /// run stops at its first failure anyway. Which lines were written is not recorded
    /// either: no one reads a scratch database's `delivered`.
    pub fn open_scratch(cache_mib: u32) -> Result<SqliteStore, StoreError> {
        let conn = Connection::open("")?;
        conn.pragma_update(None, "journal_mode", "OFF")?;
        conn.pragma_update(None, "synchronous", "OFF")?;
        let mut store = SqliteStore::init(conn)?;
        store.scratch = true;
        store
            .conn
            .pragma_update(None, "cache_size", -i64::from(cache_mib.max(1)) * 1024)?;
        Ok(store)
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
        // Every statement of an event's transaction stays prepared: rusqlite's default of 16
        // is fewer than the statements a run with every guard uses, and a statement evicted
        // from the cache is parsed again on each event.
        conn.set_prepared_statement_cache_capacity(64);
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
            next_id: None,
            scratch: false,
        })
    }

    /// Give the next event inserted id `id` (else the next free id, as always): a run
    /// sharded across databases numbers its events as one database would.
    pub fn assign_next_id(&mut self, id: i64) {
        self.next_id = Some(id);
    }

    /// Name the messages file this store's deliveries are written to.
    #[must_use]
    pub fn with_outbox(mut self, outbox: &str) -> SqliteStore {
        self.outbox = outbox.to_string();
        self
    }

    /// Commit every `size` events instead of every event (see [`Batch`]).
    #[must_use]
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

fn send_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<SendRow> {
    Ok(SendRow {
        event_id: r.get(0)?,
        user_id: r.get(1)?,
        event_timestamp: r.get(2)?,
        template_name: r.get(3)?,
        channel: r.get(4)?,
        reason: r.get(5)?,
        deliver_at: r.get(6)?,
        message_text: r.get(7)?,
    })
}

impl Store for SqliteStore {
    type Tx<'a> = SqliteTx<'a>;

    fn begin(&mut self) -> Result<SqliteTx<'_>, StoreError> {
        let SqliteStore {
            conn,
            batch,
            outbox,
            next_id,
            ..
        } = self;
        if !batch.open {
            conn.prepare_cached("BEGIN IMMEDIATE")?.execute([])?;
            batch.open = true;
        }
        Ok(SqliteTx {
            conn,
            batch,
            outbox,
            next_id: next_id.take(),
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
        if event_ids.is_empty() || self.scratch {
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
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {} FROM send_requests WHERE delivered = 0 AND claimed = 1 AND outbox = ?1 ORDER BY id",
            SendRow::COLUMNS
        ))?;
        let rows = stmt.query_map([&self.outbox], send_row)?;
        rows.map(|row| row?.parse()).collect()
    }

    fn claim_due(
        &mut self,
        now: DateTime<Utc>,
        limit: usize,
    ) -> Result<(Vec<SendRequest>, Durability), StoreError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        // One statement: atomic on its own, or part of the open commit group.
        let mut stmt = self.conn.prepare_cached(&format!(
            "UPDATE send_requests SET outbox = ?1, claimed = 1
             WHERE id IN (SELECT id FROM send_requests
                          WHERE claimed = 0 AND deliver_us <= ?2
                          ORDER BY deliver_us, id LIMIT ?3)
             RETURNING {}, deliver_us",
            SendRow::COLUMNS
        ))?;
        let mut rows = stmt
            .query_map(params![self.outbox, micros(now), limit], |r| {
                Ok((r.get::<_, i64>(8)?, send_row(r)?))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        rows.sort_by_key(|(us, row)| (*us, row.event_id));
        let claimed = rows
            .into_iter()
            .map(|(_, row)| row.parse())
            .collect::<Result<_, _>>()?;
        let durability = if self.batch.open {
            Durability::Pending
        } else {
            Durability::Durable
        };
        Ok((claimed, durability))
    }

    fn next_due(&mut self) -> Result<Option<DateTime<Utc>>, StoreError> {
        let us: Option<i64> = self
            .conn
            .prepare_cached("SELECT MIN(deliver_us) FROM send_requests WHERE claimed = 0")?
            .query_row([], |r| r.get(0))?;
        Ok(us.and_then(DateTime::from_timestamp_micros))
    }

    fn scheduled_counts(&mut self, now: DateTime<Utc>) -> Result<(u64, u64), StoreError> {
        let (all, due): (i64, i64) = self
            .conn
            .prepare_cached(
                "SELECT COUNT(*), COUNT(*) FILTER (WHERE deliver_us <= ?1) FROM send_requests
                 WHERE claimed = 0",
            )?
            .query_row([micros(now)], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok((
            u64::try_from(all).unwrap_or(0),
            u64::try_from(due).unwrap_or(0),
        ))
    }

    fn recorded(
        &mut self,
        user: Option<&str>,
        each: &mut dyn FnMut(Recorded) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT {}, e.created_at
             FROM events e JOIN decisions d ON d.id = e.id
                 LEFT JOIN send_requests s ON s.id = d.id
             WHERE ?1 IS NULL OR e.user_id = ?1
             ORDER BY e.id",
            AuditRow::COLUMNS
        ))?;
        let mut rows = stmt.query([user])?;
        while let Some(r) = rows.next()? {
            let row = audit_row(r)?;
            let event = load_event(&self.conn, row.event_id)?;
            each(Recorded::from_row(row, &r.get::<_, String>(14)?, event)?)?;
        }
        Ok(())
    }

    fn audit(
        &mut self,
        user_id: &str,
        limit: Option<usize>,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        let limit = limit.map_or(-1, |l| i64::try_from(l).unwrap_or(i64::MAX));
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT * FROM (
                SELECT {} FROM {}
                WHERE d.id IN (SELECT id FROM events WHERE user_id = ?1)
                ORDER BY d.id DESC LIMIT ?2
             ) ORDER BY 1",
            AuditRow::COLUMNS,
            AuditRow::FROM
        ))?;
        let rows = stmt.query_map(params![user_id, limit], audit_row)?;
        rows.map(|row| row?.parse()).collect()
    }
}

pub(super) fn audit_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<AuditRow> {
    Ok(AuditRow {
        event_id: r.get(0)?,
        event_type: r.get(1)?,
        event_timestamp: r.get(2)?,
        matched_rule: r.get(3)?,
        action_type: r.get(4)?,
        template_name: r.get(5)?,
        channel: r.get(6)?,
        outcome: r.get(7)?,
        reason: r.get(8)?,
        reason_code: r.get(9)?,
        created_at: r.get(10)?,
        deliver_at: r.get(11)?,
        delivered: r.get(12)?,
        message_text: r.get(13)?,
    })
}

impl Drop for SqliteStore {
    fn drop(&mut self) {
        let _ = self.flush();
    }
}

fn load_event(conn: &Connection, id: i64) -> Result<Option<Event>, StoreError> {
    let row = conn
        .prepare_cached(
            "SELECT e.user_id, e.event_type, e.event_timestamp, e.properties,
                    t.id, t.email, t.country, t.marketing_opt_in, t.risk_segment, t.extra,
                    e.idempotency_key
             FROM events e LEFT JOIN user_traits t ON t.id = e.id
             WHERE e.id = ?1",
        )?
        .query_row([id], |r| {
            Ok((
                (
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, Option<String>>(10)?,
                ),
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
    let Some(((user_id, event_type, idempotency_key), (ts, props), traits)) = row else {
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
        event_timestamp: parse_ts(&ts)?,
        properties: json(&props)?,
        user_traits,
        idempotency_key,
    }))
}

#[cfg(test)]
mod tests;
