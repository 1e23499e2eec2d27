//! The storage interface the pipeline writes through, and its records. One transaction per
//! event; implementations: SQLite (`sqlite`).

mod migrations;
pub mod postgres;
pub mod sqlite;

use chrono::{DateTime, Utc};
use serde::Serialize;

pub use postgres::PgStore;
pub use sqlite::SqliteStore;

use crate::engine::{Delivery, PriorEvent, Verdict, Window};
use crate::event::Event;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("sqlite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("postgres: {0}")]
    Postgres(#[from] ::postgres::Error),
    #[error(
        "database schema version {found} is newer than this binary knows ({known}); upgrade workbench"
    )]
    TooNew { found: i64, known: i64 },
    /// The connection was lost while committing: the event may or may not be stored, so it
    /// is never retried (a retry could record it twice).
    #[error(
        "the database connection was lost while committing; the event may have been recorded: {0}"
    )]
    CommitUnknown(String),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
}

/// A store of events and decisions that hands out per-event transactions.
pub trait Store {
    type Tx<'a>: StoreTx
    where
        Self: 'a;

    fn begin(&mut self) -> Result<Self::Tx<'_>, StoreError>;

    /// Make every committed event durable (for stores that group commits).
    fn flush(&mut self) -> Result<(), StoreError> {
        Ok(())
    }

    /// Record that these events' messages reached the provider.
    fn mark_delivered(&mut self, event_ids: &[i64]) -> Result<(), StoreError>;

    /// Send requests whose message may not have reached the provider (a crash in between).
    fn undelivered(&mut self) -> Result<Vec<SendRequest>, StoreError>;

    /// Every stored event with its decision in arrival order (one user's, when given).
    fn recorded(
        &mut self,
        user: Option<&str>,
        each: &mut dyn FnMut(Recorded) -> Result<(), StoreError>,
    ) -> Result<(), StoreError>;

    /// A user's decisions in processing order; with `limit`, only the most recent ones.
    fn audit(&mut self, user_id: &str, limit: Option<usize>)
    -> Result<Vec<AuditEntry>, StoreError>;
}

/// One event's transaction: everything written in it lands together or not at all.
pub trait StoreTx {
    fn insert_event(&mut self, event: &Event, created_at: DateTime<Utc>)
    -> Result<i64, StoreError>;

    /// A stored event as it was received (traits included), for explaining it later.
    fn load_event(&mut self, id: i64) -> Result<Option<Event>, StoreError>;

    /// The user's latest event of `event_type` stored before event `before`.
    fn latest_prior(
        &mut self,
        user_id: &str,
        event_type: &str,
        before: i64,
    ) -> Result<Option<PriorEvent>, StoreError>;

    /// The first delivery of `template` to the user inside `window`, before event `before`.
    fn find_delivery(
        &mut self,
        user_id: &str,
        template: &str,
        window: Window,
        before: i64,
    ) -> Result<Option<Delivery>, StoreError>;

    /// Write the decision and, by outcome, its send request or suppression.
    fn record(&mut self, rec: &DecisionRecord<'_>) -> Result<(), StoreError>;

    /// Commit the event. `Pending` means it is atomic but not yet durable: the store groups
    /// commits, and a later `flush` (or a full group) makes it durable.
    fn commit(self) -> Result<Durability, StoreError>;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    Durable,
    Pending,
}

/// A stored timestamp back to a UTC time. Accepts the years past 9999 that databases written
/// before the input limits of SPEC §8 may hold (`+10000-01-01T00:59:59Z`), so that such a
/// database stays readable.
pub(crate) fn parse_ts(s: String) -> Result<DateTime<Utc>, StoreError> {
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(&s) {
        return Ok(t.with_timezone(&Utc));
    }
    let offset = s
        .strip_suffix('Z')
        .map_or_else(|| s.clone(), |rest| format!("{rest}+00:00"));
    chrono::DateTime::parse_from_str(&offset, "%Y-%m-%dT%H:%M:%S%.f%:z")
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| StoreError::Corrupt(format!("timestamp `{s}`: {e}")))
}

/// The stored, comparable form of an instant: microseconds since 1970-01-01T00:00:00Z. Every
/// instant SPEC §8 accepts (up to 9999-12-31T23:59:59.999999Z) compares correctly as an
/// integer, which text forms of different widths (`+10000-…` vs `9999-…`) do not.
pub fn micros(t: DateTime<Utc>) -> i64 {
    t.timestamp_micros()
}

impl Window {
    /// The window as a half-open range of [`micros`]: a UTC day is `[midnight, next midnight)`.
    pub fn micros_range(self) -> (i64, i64) {
        match self {
            Window::Ever => (i64::MIN, i64::MAX),
            Window::Day(d) => {
                let start = d.and_time(chrono::NaiveTime::MIN).and_utc();
                let end = d
                    .checked_add_days(chrono::Days::new(1))
                    .map_or(i64::MAX, |n| {
                        n.and_time(chrono::NaiveTime::MIN)
                            .and_utc()
                            .timestamp_micros()
                    });
                (start.timestamp_micros(), end)
            }
        }
    }
}

/// What the pipeline writes for a decided event.
#[derive(Debug, Clone, Copy)]
pub struct DecisionRecord<'a> {
    pub event_id: i64,
    pub event: &'a Event,
    pub verdict: &'a Verdict,
    pub decided_at: DateTime<Utc>,
}

/// A stored send request, as needed to write its message again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendRequest {
    pub event_id: i64,
    pub user_id: String,
    pub event_timestamp: DateTime<Utc>,
    pub template_name: String,
    pub channel: String,
    /// `rule:NAME`, as in messages.txt.
    pub reason: String,
}

/// A stored event as it arrived, with the decision made for it.
#[derive(Debug, Clone, PartialEq)]
pub struct Recorded {
    pub event_id: i64,
    pub event: Event,
    pub created_at: DateTime<Utc>,
    pub decision: AuditEntry,
}

/// One line of a user's audit (SPEC §5), as `GET /audit/{user_id}` returns it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct AuditEntry {
    pub event_id: i64,
    pub event_type: String,
    pub event_timestamp: String,
    pub matched_rule: Option<String>,
    pub action_type: String,
    pub template_name: Option<String>,
    pub channel: Option<String>,
    pub outcome: String,
    pub reason: String,
    pub reason_code: String,
    pub decision_timestamp: String,
}
