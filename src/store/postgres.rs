//! The PostgreSQL store (the `postgres` crate), for several service instances on one
//! database: every event's transaction first takes a per-user advisory lock, so events of one
//! user are processed one at a time across every instance and no suppression can be raced.

use ::postgres::error::SqlState;
use ::postgres::{Client, NoTls, Statement};
use chrono::{DateTime, Utc};

mod statements;
mod tx;

use statements::Statements;
pub use tx::PgTx;

use super::migrations::{EVENT_US_VERSION, MIGRATIONS, TIMEZONE_VERSION, zone_in_extra};
use super::{
    AuditEntry, AuditRow, Durability, Recorded, SendRequest, SendRow, Store, StoreError, micros,
    parse_ts,
};
use crate::event::{Event, Traits};

/// Serialises schema migrations of instances starting together.
const MIGRATION_LOCK: i64 = 0x776f_726b_6265_6e63;

pub struct PgStore {
    url: String,
    client: Option<Client>,
    stmts: Option<Statements>,
    outbox: String,
    group: Group,
}

/// Group commit: with `size > 1`, up to `size` events share one transaction, committed when
/// full and on `flush`, as in the SQLite store. An event that fails rolls back the whole open
/// group (the service then decides each of its events again on its own). The group holds the
/// advisory locks of every user it wrote; `Store::lock_users` takes a group's users' locks up
/// front, sorted, so two groups never wait on each other in a cycle.
#[derive(Debug)]
struct Group {
    size: usize,
    open: bool,
    pending: usize,
    /// The users whose advisory locks the open transaction holds.
    locked: std::collections::HashSet<String>,
}

/// Errors worth retrying: a serialization failure, a deadlock, a lost connection.
pub(super) fn is_transient(e: &::postgres::Error) -> bool {
    e.is_closed()
        || matches!(
            e.code(),
            Some(c) if *c == SqlState::T_R_SERIALIZATION_FAILURE
                || *c == SqlState::T_R_DEADLOCK_DETECTED
                || *c == SqlState::ADMIN_SHUTDOWN
                || *c == SqlState::CANNOT_CONNECT_NOW
        )
        || e.code().is_none()
}

impl PgStore {
    /// Connect and migrate. The connection is re-made on the next use if it drops.
    pub fn connect(url: &str) -> Result<PgStore, StoreError> {
        let mut store = PgStore {
            url: url.to_string(),
            client: None,
            stmts: None,
            outbox: String::new(),
            group: Group {
                size: 1,
                open: false,
                pending: 0,
                locked: std::collections::HashSet::new(),
            },
        };
        store.ensure()?;
        Ok(store)
    }

    /// Commit every `size` events instead of every event (see [`Group`]).
    #[must_use]
    pub fn batched(mut self, size: usize) -> PgStore {
        self.group.size = size.max(1);
        self
    }

    #[must_use]
    pub fn with_outbox(mut self, outbox: &str) -> PgStore {
        self.outbox = outbox.to_string();
        self
    }

    /// The client, connecting (and migrating) first when there is none or it closed.
    fn ensure(&mut self) -> Result<(&mut Client, &Statements), StoreError> {
        if self.client.as_ref().is_none_or(Client::is_closed) {
            // An open group died with its connection.
            self.group.end();
            self.client = None;
            let mut config: ::postgres::Config = self.url.parse()?;
            config.connect_timeout(std::time::Duration::from_secs(3));
            // A peer gone without a reset (a partition) is noticed in about a minute, not
            // after the kernel's two hours.
            config.keepalives(true);
            config.keepalives_idle(std::time::Duration::from_secs(30));
            let mut client = config.connect(NoTls)?;
            migrate(&mut client)?;
            // Bounded waits once migrated: a user's lock held by a stuck instance, a runaway
            // statement or an abandoned transaction fail the event (503) instead of filling
            // the pool for good.
            client.batch_execute(
                "SET lock_timeout = '10s'; SET statement_timeout = '30s';
                 SET idle_in_transaction_session_timeout = '60s'",
            )?;
            self.stmts = Some(Statements::prepare(&mut client)?);
            self.client = Some(client);
        }
        match (self.client.as_mut(), self.stmts.as_ref()) {
            (Some(c), Some(s)) => Ok((c, s)),
            _ => unreachable!("connected above"),
        }
    }

    /// The schema version the database is at.
    pub fn version(&mut self) -> Result<i64, StoreError> {
        let (c, _) = self.ensure()?;
        Ok(i64::from(
            c.query_one("SELECT version FROM schema_version", &[])?
                .get::<_, i32>(0),
        ))
    }
}

fn migrate(c: &mut Client) -> Result<(), StoreError> {
    let mut tx = c.transaction()?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])?;
    tx.batch_execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")?;
    let found: i64 = if let Some(r) = tx.query_opt("SELECT version FROM schema_version", &[])? {
        i64::from(r.get::<_, i32>(0))
    } else {
        tx.execute("INSERT INTO schema_version VALUES (0)", &[])?;
        0
    };
    let known = i64::try_from(MIGRATIONS.len()).unwrap_or(i64::MAX);
    if found > known {
        return Err(StoreError::TooNew { found, known });
    }
    for (i, m) in MIGRATIONS
        .iter()
        .enumerate()
        .skip(usize::try_from(found).unwrap_or(usize::MAX))
    {
        tx.batch_execute(m.postgres)?;
        if i + 1 == EVENT_US_VERSION {
            let rows = tx.query(
                "SELECT id, event_timestamp FROM send_requests WHERE event_us IS NULL",
                &[],
            )?;
            let update = tx.prepare("UPDATE send_requests SET event_us = $2 WHERE id = $1")?;
            for r in rows {
                let id: i64 = r.get(0);
                tx.execute(&update, &[&id, &micros(parse_ts(r.get::<_, &str>(1))?)])?;
            }
        }
        if i + 1 == TIMEZONE_VERSION {
            let rows = tx.query(
                "SELECT id, extra FROM user_traits WHERE extra LIKE '%\"timezone\"%'",
                &[],
            )?;
            let update = tx.prepare("UPDATE events SET timezone = $2 WHERE id = $1")?;
            for r in rows {
                let id: i64 = r.get(0);
                if let Some(zone) = zone_in_extra(r.get::<_, &str>(1)) {
                    tx.execute(&update, &[&id, &zone])?;
                }
            }
        }
        let version = i32::try_from(i + 1).unwrap_or(i32::MAX);
        tx.execute("UPDATE schema_version SET version = $1", &[&version])?;
    }
    tx.commit()?;
    Ok(())
}

impl Store for PgStore {
    type Tx<'a> = PgTx<'a>;

    fn begin(&mut self) -> Result<PgTx<'_>, StoreError> {
        self.ensure()?;
        let PgStore {
            client,
            stmts,
            outbox,
            group,
            ..
        } = self;
        let (Some(client), Some(stmts)) = (client.as_mut(), stmts.as_ref()) else {
            unreachable!("connected above")
        };
        if !group.open {
            client.batch_execute("BEGIN")?;
            group.open = true;
        }
        Ok(PgTx {
            tx: client,
            stmts,
            outbox,
            group,
            done: false,
        })
    }

    fn flush(&mut self) -> Result<(), StoreError> {
        if !self.group.open {
            return Ok(());
        }
        if let Some(client) = self.client.as_mut() {
            self.group.commit(client)
        } else {
            self.group.end();
            Err(StoreError::CommitUnknown(
                "the connection closed with a commit group open".into(),
            ))
        }
    }

    fn lock_users(&mut self, users: &[&str]) -> Result<(), StoreError> {
        let mut tx = self.begin()?;
        // A failed lock drops `tx` undone, which rolls the group back.
        tx.lock_users(users)?;
        // Not committed: the group stays open for its events.
        tx.done = true;
        Ok(())
    }

    fn mark_delivered(&mut self, event_ids: &[i64]) -> Result<(), StoreError> {
        if event_ids.is_empty() {
            return Ok(());
        }
        let (c, _) = self.ensure()?;
        c.execute(
            "UPDATE send_requests SET delivered = TRUE WHERE id = ANY($1)",
            &[&event_ids],
        )?;
        Ok(())
    }

    fn undelivered(&mut self) -> Result<Vec<SendRequest>, StoreError> {
        let outbox = self.outbox.clone();
        let (c, _) = self.ensure()?;
        let rows = c.query(
            &format!(
                "SELECT {} FROM send_requests WHERE NOT delivered AND claimed AND outbox = $1 ORDER BY id",
                SendRow::COLUMNS
            ),
            &[&outbox],
        )?;
        rows.iter().map(|r| send_row(r).parse()).collect()
    }

    fn claim_due(
        &mut self,
        now: DateTime<Utc>,
        limit: usize,
    ) -> Result<(Vec<SendRequest>, Durability), StoreError> {
        let outbox = self.outbox.clone();
        let (c, _) = self.ensure()?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        // Rows another instance is claiming are skipped, not waited for: each due row is
        // claimed by exactly one instance.
        let rows = c.query(
            &format!(
                "UPDATE send_requests SET outbox = $1, claimed = TRUE
                 WHERE id IN (SELECT id FROM send_requests
                              WHERE NOT claimed AND deliver_us <= $2
                              ORDER BY deliver_us, id LIMIT $3
                              FOR UPDATE SKIP LOCKED)
                 RETURNING {}, deliver_us",
                SendRow::COLUMNS
            ),
            &[&outbox, &micros(now), &limit],
        )?;
        let mut rows: Vec<(i64, SendRow)> = rows.iter().map(|r| (r.get(8), send_row(r))).collect();
        rows.sort_by_key(|(us, row)| (*us, row.event_id));
        let claimed = rows
            .into_iter()
            .map(|(_, row)| row.parse())
            .collect::<Result<_, _>>()?;
        Ok((claimed, Durability::Durable))
    }

    fn next_due(&mut self) -> Result<Option<DateTime<Utc>>, StoreError> {
        let (c, _) = self.ensure()?;
        let us: Option<i64> = c
            .query_one(
                "SELECT MIN(deliver_us) FROM send_requests WHERE NOT claimed",
                &[],
            )?
            .get(0);
        Ok(us.and_then(DateTime::from_timestamp_micros))
    }

    fn scheduled_counts(&mut self, now: DateTime<Utc>) -> Result<(u64, u64), StoreError> {
        let (c, _) = self.ensure()?;
        let r = c.query_one(
            "SELECT COUNT(*), COUNT(*) FILTER (WHERE deliver_us <= $1) FROM send_requests
             WHERE NOT claimed",
            &[&micros(now)],
        )?;
        let count = |i: usize| u64::try_from(r.get::<_, i64>(i)).unwrap_or(0);
        Ok((count(0), count(1)))
    }

    fn recorded(
        &mut self,
        user: Option<&str>,
        each: &mut dyn FnMut(Recorded) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let (c, stmts) = self.ensure()?;
        let rows = c.query(
            &format!(
                "SELECT {}, e.created_at
                 FROM events e JOIN decisions d ON d.id = e.id
                 LEFT JOIN send_requests s ON s.id = d.id
                 WHERE $1::TEXT IS NULL OR e.user_id = $1
                 ORDER BY e.id",
                AuditRow::COLUMNS
            ),
            &[&user],
        )?;
        for r in rows {
            let row = audit_row(&r);
            let event = load_event(c, &stmts.load_event, row.event_id)?;
            each(Recorded::from_row(row, r.get::<_, &str>(14), event)?)?;
        }
        Ok(())
    }

    fn audit(
        &mut self,
        user_id: &str,
        limit: Option<usize>,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        let (c, _) = self.ensure()?;
        let limit = limit.map(|l| i64::try_from(l).unwrap_or(i64::MAX));
        let rows = c.query(
            &format!(
                "SELECT * FROM (
                    SELECT {} FROM {}
                    WHERE d.id IN (SELECT id FROM events WHERE user_id = $1)
                    ORDER BY d.id DESC LIMIT $2
                 ) a ORDER BY 1",
                AuditRow::COLUMNS,
                AuditRow::FROM
            ),
            &[&user_id, &limit],
        )?;
        rows.iter().map(|r| audit_row(r).parse()).collect()
    }
}

fn audit_row(r: &::postgres::Row) -> AuditRow {
    AuditRow {
        event_id: r.get(0),
        event_type: r.get(1),
        event_timestamp: r.get(2),
        matched_rule: r.get(3),
        action_type: r.get(4),
        template_name: r.get(5),
        channel: r.get(6),
        outcome: r.get(7),
        reason: r.get(8),
        reason_code: r.get(9),
        created_at: r.get(10),
        deliver_at: r.get(11),
        delivered: r.get(12),
        message_text: r.get(13),
    }
}

fn send_row(r: &::postgres::Row) -> SendRow {
    SendRow {
        event_id: r.get(0),
        user_id: r.get(1),
        event_timestamp: r.get(2),
        template_name: r.get(3),
        channel: r.get(4),
        reason: r.get(5),
        deliver_at: r.get(6),
        message_text: r.get(7),
    }
}

fn load_event<C: ::postgres::GenericClient>(
    c: &mut C,
    stmt: &Statement,
    id: i64,
) -> Result<Option<Event>, StoreError> {
    let Some(r) = c.query_opt(stmt, &[&id])? else {
        return Ok(None);
    };
    let json = |s: String| {
        serde_json::from_str(&s).map_err(|e| StoreError::Corrupt(format!("event {id}: {e}")))
    };
    let user_traits = match r.get::<_, Option<i64>>(4) {
        None => None,
        Some(_) => Some(Traits {
            email: r.get(5),
            country: r.get(6),
            marketing_opt_in: r.get(7),
            risk_segment: r.get(8),
            extra: json(r.get(9))?,
        }),
    };
    Ok(Some(Event {
        user_id: r.get(0),
        event_type: r.get(1),
        event_timestamp: parse_ts(r.get::<_, &str>(2))?,
        properties: json(r.get(3))?,
        user_traits,
        idempotency_key: r.get(10),
    }))
}
