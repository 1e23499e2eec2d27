//! The PostgreSQL store (the `postgres` crate), for several service instances on one
//! database: every event's transaction first takes a per-user advisory lock, so events of one
//! user are processed one at a time across every instance and no suppression can be raced.

use ::postgres::error::SqlState;
use ::postgres::{Client, NoTls, Statement, Transaction};
use chrono::{DateTime, Utc};

mod statements;

use statements::Statements;

use super::migrations::{EVENT_US_VERSION, MIGRATIONS};
use super::{
    AuditEntry, DecisionRecord, Durability, Recorded, SendRequest, Store, StoreError, StoreTx,
    micros, parse_ts,
};
use crate::engine::{Delivery, Outcome, PriorEvent, Window};
use crate::event::{Event, Traits, format_ts};

/// Serialises schema migrations of instances starting together.
const MIGRATION_LOCK: i64 = 0x776f_726b_6265_6e63;

pub struct PgStore {
    url: String,
    client: Option<Client>,
    stmts: Option<Statements>,
    outbox: String,
}

/// Errors worth retrying: a serialization failure, a deadlock, a lost connection.
pub fn is_transient(e: &StoreError) -> bool {
    match e {
        StoreError::Postgres(e) => {
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
        _ => false,
    }
}

impl PgStore {
    /// Connect and migrate. The connection is re-made on the next use if it drops.
    pub fn connect(url: &str) -> Result<PgStore, StoreError> {
        let mut store = PgStore {
            url: url.to_string(),
            client: None,
            stmts: None,
            outbox: String::new(),
        };
        store.ensure()?;
        Ok(store)
    }

    pub fn with_outbox(mut self, outbox: &str) -> PgStore {
        self.outbox = outbox.to_string();
        self
    }

    /// The client, connecting (and migrating) first when there is none or it closed.
    fn ensure(&mut self) -> Result<(&mut Client, &Statements), StoreError> {
        if self.client.as_ref().is_none_or(Client::is_closed) {
            self.client = None;
            let mut config: ::postgres::Config = self.url.parse()?;
            config.connect_timeout(std::time::Duration::from_secs(3));
            let mut client = config.connect(NoTls)?;
            migrate(&mut client)?;
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
        Ok(c.query_one("SELECT version FROM schema_version", &[])?
            .get::<_, i32>(0) as i64)
    }
}

fn migrate(c: &mut Client) -> Result<(), StoreError> {
    let mut tx = c.transaction()?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])?;
    tx.batch_execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")?;
    let found: i64 = match tx.query_opt("SELECT version FROM schema_version", &[])? {
        Some(r) => r.get::<_, i32>(0) as i64,
        None => {
            tx.execute("INSERT INTO schema_version VALUES (0)", &[])?;
            0
        }
    };
    let known = MIGRATIONS.len() as i64;
    if found > known {
        return Err(StoreError::TooNew { found, known });
    }
    for (i, m) in MIGRATIONS.iter().enumerate().skip(found as usize) {
        tx.batch_execute(m.postgres)?;
        if i + 1 == EVENT_US_VERSION {
            let rows = tx.query(
                "SELECT id, event_timestamp FROM send_requests WHERE event_us IS NULL",
                &[],
            )?;
            let update = tx.prepare("UPDATE send_requests SET event_us = $2 WHERE id = $1")?;
            for r in rows {
                let id: i64 = r.get(0);
                tx.execute(&update, &[&id, &micros(parse_ts(r.get(1))?)])?;
            }
        }
        tx.execute("UPDATE schema_version SET version = $1", &[&(i as i32 + 1)])?;
    }
    tx.commit()?;
    Ok(())
}

impl Store for PgStore {
    type Tx<'a> = PgTx<'a>;

    fn begin(&mut self) -> Result<PgTx<'_>, StoreError> {
        let outbox = self.outbox.clone();
        let (client, stmts) = self.ensure()?;
        Ok(PgTx {
            tx: client.transaction()?,
            stmts,
            outbox,
        })
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
            "SELECT event_id, user_id, event_timestamp, template_name, channel, reason
             FROM send_requests WHERE NOT delivered AND outbox = $1 ORDER BY id",
            &[&outbox],
        )?;
        rows.into_iter()
            .map(|r| {
                Ok(SendRequest {
                    event_id: r.get(0),
                    user_id: r.get(1),
                    event_timestamp: parse_ts(r.get(2))?,
                    template_name: r.get(3),
                    channel: r.get(4),
                    reason: r.get(5),
                })
            })
            .collect()
    }

    fn recorded(
        &mut self,
        user: Option<&str>,
        each: &mut dyn FnMut(Recorded) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let (c, stmts) = self.ensure()?;
        let rows = c.query(
            "SELECT e.id, e.created_at, d.event_type, d.event_timestamp, d.matched_rule,
                    d.action_type, d.template_name, d.channel, d.outcome, d.reason,
                    d.reason_code, d.created_at
             FROM events e JOIN decisions d ON d.id = e.id
             WHERE $1::TEXT IS NULL OR e.user_id = $1
             ORDER BY e.id",
            &[&user],
        )?;
        for r in rows {
            let event_id: i64 = r.get(0);
            let decision = entry(&r);
            let event = load_event(c, &stmts.load_event, event_id)?
                .ok_or_else(|| StoreError::Corrupt(format!("decision {event_id} has no event")))?;
            each(Recorded {
                event_id,
                event,
                created_at: parse_ts(r.get(1))?,
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
        let (c, _) = self.ensure()?;
        let limit = limit.map(|l| l as i64);
        let rows = c.query(
            "SELECT * FROM (
                SELECT id, event_id, event_type, event_timestamp, matched_rule, action_type,
                       template_name, channel, outcome, reason, reason_code, created_at
                FROM decisions WHERE id IN (SELECT id FROM events WHERE user_id = $1)
                ORDER BY id DESC LIMIT $2
             ) d ORDER BY id",
            &[&user_id, &limit],
        )?;
        Ok(rows.iter().map(entry).collect())
    }
}

/// An audit entry from columns (id, _, event_type, event_timestamp, matched_rule, action_type,
/// template_name, channel, outcome, reason, reason_code, created_at).
fn entry(r: &::postgres::Row) -> AuditEntry {
    AuditEntry {
        event_id: r.get(0),
        event_type: r.get(2),
        event_timestamp: r.get(3),
        matched_rule: r.get(4),
        action_type: r.get(5),
        template_name: r.get(6),
        channel: r.get(7),
        outcome: r.get(8),
        reason: r.get(9),
        reason_code: r.get(10),
        decision_timestamp: r.get(11),
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
        event_timestamp: parse_ts(r.get(2))?,
        properties: json(r.get(3))?,
        user_traits,
    }))
}

pub struct PgTx<'a> {
    tx: Transaction<'a>,
    stmts: &'a Statements,
    outbox: String,
}

impl StoreTx for PgTx<'_> {
    fn insert_event(&mut self, e: &Event, created_at: DateTime<Utc>) -> Result<i64, StoreError> {
        // Events of one user run one at a time, on every instance.
        self.tx.execute(&self.stmts.lock, &[&e.user_id])?;
        let props = serde_json::to_string(&e.properties).expect("json map serialises");
        let row = self.tx.query_one(
            &self.stmts.insert_event,
            &[
                &e.user_id,
                &e.event_type,
                &format_ts(e.event_timestamp),
                &props,
                &format_ts(created_at),
            ],
        )?;
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
        Ok(id)
    }

    fn load_event(&mut self, id: i64) -> Result<Option<Event>, StoreError> {
        load_event(&mut self.tx, &self.stmts.load_event, id)
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
                event_timestamp: parse_ts(r.get(1))?,
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
        let (from, to) = window.micros_range();
        let row = self.tx.query_opt(
            &self.stmts.find_delivery,
            &[&user_id, &template, &from, &to, &before],
        )?;
        row.map(|r| {
            Ok(Delivery {
                event_id: r.get(0),
                event_timestamp: parse_ts(r.get(1))?,
            })
        })
        .transpose()
    }

    fn record(&mut self, rec: &DecisionRecord<'_>) -> Result<(), StoreError> {
        let v = rec.verdict;
        let e = rec.event;
        let at = format_ts(rec.decided_at);
        let event_ts = format_ts(e.event_timestamp);
        let rule = v.matched_rule.as_deref();
        let template = v.template_name.as_deref();
        let channel = v.channel.map(|c| c.as_str());
        self.tx.execute(
            &self.stmts.insert_decision,
            &[
                &e.user_id,
                &rec.event_id,
                &e.event_type,
                &event_ts,
                &rule,
                &v.action_type.as_str(),
                &v.outcome.as_str(),
                &v.reason,
                &v.reason_code.as_str(),
                &template,
                &channel,
                &at,
            ],
        )?;
        match (v.outcome, template, channel) {
            (Outcome::Allow | Outcome::Alert, Some(t), Some(c)) => {
                let reason = format!("rule:{}", rule.unwrap_or_default());
                self.tx.execute(
                    &self.stmts.insert_send,
                    &[
                        &e.user_id,
                        &rec.event_id,
                        &event_ts,
                        &t,
                        &c,
                        &reason,
                        &at,
                        &self.outbox,
                        &micros(e.event_timestamp),
                    ],
                )?;
            }
            (Outcome::Suppress, Some(t), _) => {
                self.tx.execute(
                    &self.stmts.insert_suppression,
                    &[&e.user_id, &rec.event_id, &t, &v.reason, &at],
                )?;
            }
            _ => {}
        }
        Ok(())
    }

    fn commit(self) -> Result<Durability, StoreError> {
        match self.tx.commit() {
            Ok(()) => Ok(Durability::Durable),
            // The server answered: the transaction is rolled back, a retry is safe.
            Err(e) if e.code().is_some() => Err(e.into()),
            Err(e) => Err(StoreError::CommitUnknown(e.to_string())),
        }
    }
}
