//! The storage interface the pipeline writes through, and its records. One transaction per
//! event; implementations: SQLite (`sqlite`).

mod migrations;
pub mod postgres;
pub mod sqlite;

use std::sync::Arc;

use chrono::{DateTime, Utc};

pub use postgres::PgStore;
pub use sqlite::SqliteStore;

use crate::engine::{
    DecisionAction, Delivery, Outcome, PriorEvent, ReasonCode, Verdict, Window, Zone,
};
use crate::event::Event;
use crate::pipeline::DeliveryStatus;
use crate::rules::{Cap, Category, Channel};

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

impl StoreError {
    /// A failure that a retry of the same transaction may not meet again: a dropped
    /// connection, a serialization failure, a deadlock, a server shutting down.
    pub fn is_transient(&self) -> bool {
        match self {
            StoreError::Postgres(e) => postgres::is_transient(e),
            _ => false,
        }
    }
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

    /// Before a commit group's first event: lock these users for the group, in an order
    /// every store on the database shares (for stores that serialise users with locks).
    fn lock_users(&mut self, _users: &[&str]) -> Result<(), StoreError> {
        Ok(())
    }

    /// Record that these events' messages reached the provider.
    fn mark_delivered(&mut self, event_ids: &[i64]) -> Result<(), StoreError>;

    /// Send requests whose message may not have reached the provider (a crash in between).
    fn undelivered(&mut self) -> Result<Vec<SendRequest>, StoreError>;

    /// Claim the scheduled sends due at `now` (`deliver_at <= now`) that no one has claimed,
    /// for this store's outbox, at most `limit`, oldest `deliver_at` first (ties: lower event
    /// id). Claimed once across every store on the database. `Pending` when the claim sits in
    /// an open commit group (deliver only once that is durable).
    fn claim_due(
        &mut self,
        now: DateTime<Utc>,
        limit: usize,
    ) -> Result<(Vec<SendRequest>, Durability), StoreError>;

    /// The earliest `deliver_at` of the unclaimed scheduled sends, if any.
    fn next_due(&mut self) -> Result<Option<DateTime<Utc>>, StoreError>;

    /// Unclaimed scheduled sends: how many, and how many of them are due at `now`.
    fn scheduled_counts(&mut self, now: DateTime<Utc>) -> Result<(u64, u64), StoreError>;

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

/// What inserting an event did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Inserted {
    /// A new event row, with its id.
    New(i64),
    /// Nothing: an event with the same idempotency key is already stored (SPEC §7.6), under
    /// this id and with this fingerprint.
    Existing { event_id: i64, fingerprint: String },
}

impl Inserted {
    /// The id of the event row the key names (new or existing).
    pub fn id(&self) -> i64 {
        match self {
            Inserted::New(id) | Inserted::Existing { event_id: id, .. } => *id,
        }
    }
}

/// One event's transaction: everything written in it lands together or not at all.
pub trait StoreTx {
    /// Insert the event, unless its idempotency key is already stored: then nothing is
    /// written and the stored event is named. The key's unique index decides, so that two
    /// transactions with one key (on any connection or instance) store one event.
    fn insert_event(
        &mut self,
        event: &Event,
        created_at: DateTime<Utc>,
    ) -> Result<Inserted, StoreError>;

    /// The stored decision of event `id` (for a replay: SPEC §7.6).
    fn stored_decision(&mut self, id: i64) -> Result<Option<AuditEntry>, StoreError>;

    /// A stored event as it was received (traits included), for explaining it later.
    fn load_event(&mut self, id: i64) -> Result<Option<Event>, StoreError>;

    /// The user's latest event stored before event `before` that named a valid zone.
    fn latest_zone(
        &mut self,
        user_id: &str,
        before: i64,
    ) -> Result<Option<(i64, Zone)>, StoreError>;

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

    /// The user's deliveries that `cap` counts inside `window`, before event `before`, at
    /// most `cap.max` of them, earliest first.
    fn cap_deliveries(
        &mut self,
        user_id: &str,
        cap: &Cap,
        window: Window,
        before: i64,
    ) -> Result<Vec<Delivery>, StoreError>;

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
pub(crate) fn parse_ts(s: &str) -> Result<DateTime<Utc>, StoreError> {
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(s) {
        return Ok(t.with_timezone(&Utc));
    }
    let offset = s
        .strip_suffix('Z')
        .map_or_else(|| s.to_string(), |rest| format!("{rest}+00:00"));
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

/// A suppression window as a half-open range of [`micros`]: a day is
/// `[its first instant, the next day's first instant)`.
pub fn window_micros(window: Window) -> (i64, i64) {
    let (start, end) = window.range();
    (start.map_or(i64::MIN, micros), end.map_or(i64::MAX, micros))
}

/// A stored delivery row (`event_id`, `event_timestamp`) as the engine's [`Delivery`].
pub(crate) fn delivery(event_id: i64, event_timestamp: &str) -> Result<Delivery, StoreError> {
    Ok(Delivery {
        event_id,
        event_timestamp: parse_ts(event_timestamp)?,
    })
}

/// A cap's categories and channels as `,a,b,` lists, matched with `instr`/`strpos` so one
/// prepared statement serves every cap; `None` categories means every category.
pub(crate) fn cap_lists(cap: &Cap) -> (Option<String>, String) {
    let list = |items: Vec<&str>| format!(",{},", items.join(","));
    (
        cap.categories
            .as_ref()
            .map(|cs| list(cs.iter().map(|c| c.as_str()).collect())),
        list(cap.channels.iter().map(|c| c.as_str()).collect()),
    )
}

/// What the pipeline writes for a decided event.
#[derive(Debug, Clone, Copy)]
pub struct DecisionRecord<'a> {
    pub event_id: i64,
    pub event: &'a Event,
    pub verdict: &'a Verdict,
    pub decided_at: DateTime<Utc>,
    /// The winning rule's category (caps count by it); `None` for alerts and no match.
    pub category: Option<Category>,
}

/// A stored send request, as needed to write its message again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendRequest {
    pub event_id: i64,
    pub user_id: String,
    pub event_timestamp: DateTime<Utc>,
    pub template_name: Arc<str>,
    pub channel: Channel,
    pub rule: Arc<str>,
    /// When a held send is due; `None` for immediate ones.
    pub deliver_at: Option<DateTime<Utc>>,
    /// The text rendered when the event was decided; `None` for rows from before migration 6.
    pub message_text: Option<String>,
}

/// What a decided event writes, as the columns' values: built once here for both backends.
pub(crate) struct RecordRows<'a> {
    pub user_id: &'a str,
    pub event_id: i64,
    pub event_type: &'a str,
    pub event_timestamp: String,
    pub event_us: i64,
    pub matched_rule: Option<&'a str>,
    pub action_type: &'static str,
    pub outcome: &'static str,
    pub reason: &'a str,
    pub reason_code: &'static str,
    pub template_name: Option<&'a str>,
    pub channel: Option<&'static str>,
    pub decided_at: String,
    pub deliver_at: Option<String>,
    pub deliver_us: Option<i64>,
    pub category: Option<&'static str>,
    pub message_text: Option<&'a str>,
    pub also: AlsoWrite<'a>,
}

/// The row a decision writes besides itself, by outcome (SPEC §4.5).
pub(crate) enum AlsoWrite<'a> {
    /// A delivery: its send request, `reason` as the seed's schema writes it (`rule:NAME`).
    Send {
        template: &'a str,
        channel: &'static str,
        reason: String,
    },
    Suppression {
        template: &'a str,
    },
    Nothing,
}

impl<'a> RecordRows<'a> {
    pub(crate) fn new(rec: &DecisionRecord<'a>) -> RecordRows<'a> {
        let v = rec.verdict;
        let e = rec.event;
        let template = v.template_name.as_deref();
        let channel = v.channel.map(Channel::as_str);
        let also = match (v.outcome, template, channel) {
            (Outcome::Allow | Outcome::Alert, Some(template), Some(channel)) => AlsoWrite::Send {
                template,
                channel,
                reason: format!("rule:{}", v.matched_rule.as_deref().unwrap_or_default()),
            },
            (Outcome::Suppress, Some(template), _) => AlsoWrite::Suppression { template },
            _ => AlsoWrite::Nothing,
        };
        RecordRows {
            user_id: &e.user_id,
            event_id: rec.event_id,
            event_type: &e.event_type,
            event_timestamp: crate::event::format_ts(e.event_timestamp),
            event_us: micros(e.event_timestamp),
            matched_rule: v.matched_rule.as_deref(),
            action_type: v.action_type.as_str(),
            outcome: v.outcome.as_str(),
            reason: &v.reason,
            reason_code: v.reason_code.as_str(),
            template_name: template,
            channel,
            decided_at: crate::event::format_ts(rec.decided_at),
            deliver_at: v.deliver_at.map(crate::event::format_ts),
            deliver_us: v.deliver_at.map(micros),
            category: rec.category.map(Category::as_str),
            message_text: v.message_text.as_deref(),
            also,
        }
    }
}

/// A stored event as it arrived, with the decision made for it.
#[derive(Debug, Clone, PartialEq)]
pub struct Recorded {
    pub event_id: i64,
    pub event: Event,
    pub created_at: DateTime<Utc>,
    pub decision: AuditEntry,
}

/// One line of a user's audit (SPEC §5): the stored decision for an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    pub event_id: i64,
    pub event_type: String,
    pub event_timestamp: DateTime<Utc>,
    pub verdict: Verdict,
    pub decision_timestamp: DateTime<Utc>,
    /// For deliveries: whether the line is written, scheduled, or waiting to be written.
    pub delivery_status: Option<DeliveryStatus>,
}

/// The columns both backends read for a send request, as text: mapped to a [`SendRequest`]
/// in one place.
pub(crate) struct SendRow {
    pub event_id: i64,
    pub user_id: String,
    pub event_timestamp: String,
    pub template_name: String,
    pub channel: String,
    pub reason: String,
    pub deliver_at: Option<String>,
    pub message_text: Option<String>,
}

impl SendRow {
    pub(crate) const COLUMNS: &'static str = "event_id, user_id, event_timestamp, \
        template_name, channel, reason, deliver_at, message_text";

    pub(crate) fn parse(self) -> Result<SendRequest, StoreError> {
        let id = self.event_id;
        Ok(SendRequest {
            event_id: id,
            user_id: self.user_id,
            event_timestamp: parse_ts(&self.event_timestamp)?,
            template_name: self.template_name.into(),
            channel: parse_column(id, "channel", &self.channel, Channel::parse)?,
            rule: self
                .reason
                .strip_prefix("rule:")
                .unwrap_or(&self.reason)
                .into(),
            deliver_at: self.deliver_at.as_deref().map(parse_ts).transpose()?,
            message_text: self.message_text,
        })
    }
}

/// The columns both backends read for an audit entry, as text: mapped to an [`AuditEntry`]
/// in one place.
pub(crate) struct AuditRow {
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
    pub created_at: String,
    pub deliver_at: Option<String>,
    /// The send request's `delivered`, when the decision has one.
    pub delivered: Option<bool>,
    pub message_text: Option<String>,
}

impl AuditRow {
    /// The columns in the order the backends read them, from `decisions d LEFT JOIN
    /// send_requests s ON s.id = d.id` (see [`AuditRow::FROM`]).
    pub(crate) const COLUMNS: &'static str = "d.id, d.event_type, d.event_timestamp, \
        d.matched_rule, d.action_type, d.template_name, d.channel, d.outcome, d.reason, \
        d.reason_code, d.created_at, d.deliver_at, s.delivered, d.message_text";
    pub(crate) const FROM: &'static str = "decisions d LEFT JOIN send_requests s ON s.id = d.id";

    pub(crate) fn parse(self) -> Result<AuditEntry, StoreError> {
        let id = self.event_id;
        Ok(AuditEntry {
            event_id: id,
            event_type: self.event_type,
            event_timestamp: parse_ts(&self.event_timestamp)?,
            verdict: Verdict {
                matched_rule: self.matched_rule.map(Into::into),
                action_type: parse_column(
                    id,
                    "action_type",
                    &self.action_type,
                    DecisionAction::parse,
                )?,
                template_name: self.template_name.map(Into::into),
                channel: self
                    .channel
                    .map(|c| parse_column(id, "channel", &c, Channel::parse))
                    .transpose()?,
                outcome: parse_column(id, "outcome", &self.outcome, Outcome::parse)?,
                reason: self.reason,
                reason_code: parse_column(id, "reason_code", &self.reason_code, ReasonCode::parse)?,
                deliver_at: self.deliver_at.as_deref().map(parse_ts).transpose()?,
                message_text: self.message_text,
            },
            decision_timestamp: parse_ts(&self.created_at)?,
            delivery_status: self
                .delivered
                .map(|written| match (written, &self.deliver_at) {
                    (true, _) => DeliveryStatus::Delivered,
                    (false, Some(_)) => DeliveryStatus::Scheduled,
                    (false, None) => DeliveryStatus::Pending,
                }),
        })
    }
}

impl Recorded {
    /// A `recorded` row: the decision's columns, the event's arrival, and the event (`None`
    /// when its row is missing, which only a corrupt database has).
    pub(crate) fn from_row(
        row: AuditRow,
        created_at: &str,
        event: Option<Event>,
    ) -> Result<Recorded, StoreError> {
        let decision = row.parse()?;
        let event_id = decision.event_id;
        Ok(Recorded {
            event_id,
            event: event
                .ok_or_else(|| StoreError::Corrupt(format!("decision {event_id} has no event")))?,
            created_at: parse_ts(created_at)?,
            decision,
        })
    }
}

fn parse_column<T>(
    id: i64,
    column: &str,
    text: &str,
    parse: fn(&str) -> Option<T>,
) -> Result<T, StoreError> {
    parse(text).ok_or_else(|| StoreError::Corrupt(format!("event {id}: {column} `{text}`")))
}
