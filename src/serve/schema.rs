//! The HTTP API's own types (request documentation, responses, errors), built from the
//! engine's and the store's with `From`: text only here, at the edge.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::writer::Decided;
use crate::engine::Verdict;
use crate::event::{Event, format_ts};
use crate::pipeline::DeliveryStatus;
use crate::store::AuditEntry;

/// A behavioural event (documentation of the body; parsing is `EventInput`).
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct EventBody {
    #[schema(example = "user_12345")]
    user_id: String,
    #[schema(example = "payment_failed")]
    event_type: String,
    /// RFC 3339 with `Z` or an offset; normalised to UTC.
    #[schema(example = "2024-01-15T10:30:00Z", format = DateTime)]
    event_timestamp: String,
    #[schema(value_type = Option<Object>)]
    properties: Option<serde_json::Map<String, serde_json::Value>>,
    user_traits: Option<TraitsBody>,
    /// 1 to 128 printable characters: the event is processed at most once under this key
    /// (SPEC §7.6). The `Idempotency-Key` header, when sent, wins over it.
    #[schema(example = "order-8812-payment")]
    idempotency_key: Option<String>,
}

/// User traits: the four known ones, and any other key.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct TraitsBody {
    email: Option<String>,
    country: Option<String>,
    marketing_opt_in: Option<bool>,
    risk_segment: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct DecisionResponse {
    pub event_id: i64,
    pub user_id: String,
    pub event_type: String,
    #[serde(flatten)]
    pub decision: VerdictBody,
    /// For a delivery: `delivered` once its `messages.txt` line is written, `scheduled`
    /// while quiet hours hold it (its line is written at `deliver_at`), `pending` while the
    /// decision is recorded but the line waits (the service writes it as soon as it can,
    /// exactly once); null for other decisions.
    pub delivery_status: Option<DeliveryStatus>,
    /// True when the event's idempotency key was already processed with this same event: the
    /// decision is the stored one (`event_id` the original's), and nothing was recorded or
    /// written again (SPEC §7.6).
    #[serde(default)]
    pub replayed: bool,
}

/// 409: the idempotency key was used by a different event (SPEC §7.6).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ConflictResponse {
    /// Names the key and the fields that differ.
    pub detail: String,
    pub idempotency_key: String,
    /// The stored event that holds the key.
    pub event_id: i64,
    /// Which of `user_id`, `event_type`, `event_timestamp`, `properties`, `user_traits`
    /// differ from the stored event.
    pub differs: Vec<String>,
}

/// A decision's fields, as the API writes them.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct VerdictBody {
    pub matched_rule: Option<String>,
    /// `send`, `alert` or `none`.
    pub action_type: String,
    pub template_name: Option<String>,
    pub channel: Option<String>,
    /// `allow`, `suppress`, `alert` or `none`.
    pub outcome: String,
    pub reason: String,
    pub reason_code: String,
    /// For a send held by quiet hours (`reason_code` `scheduled`): when its line is due, in
    /// UTC; null for every other decision.
    #[schema(format = DateTime)]
    pub deliver_at: Option<String>,
    /// The delivered text: the template's Liquid text rendered for the event (an alert whose
    /// template does not render carries its raw text); null on decisions that are not
    /// deliveries, and on deliveries recorded before the text was kept.
    pub message_text: Option<String>,
}

impl From<Verdict> for VerdictBody {
    fn from(v: Verdict) -> Self {
        VerdictBody {
            matched_rule: v.matched_rule.map(|r| r.to_string()),
            action_type: v.action_type.to_string(),
            template_name: v.template_name.map(|t| t.to_string()),
            channel: v.channel.map(|c| c.to_string()),
            outcome: v.outcome.to_string(),
            reason: v.reason,
            reason_code: v.reason_code.to_string(),
            deliver_at: v.deliver_at.map(format_ts),
            message_text: v.message_text,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditResponse {
    pub user_id: String,
    pub decisions: Vec<AuditEntryBody>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct HealthResponse {
    /// `ok`, or `unavailable` with the cause in `detail`.
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// Deliveries recorded whose `messages.txt` line waits to be written.
    #[serde(default)]
    pub unwritten_messages: usize,
    /// Sends held by quiet hours that no instance has claimed yet, across the database; null
    /// when the database was not asked (it is `unavailable`).
    #[serde(default)]
    pub scheduled: Option<u64>,
    /// Of `scheduled`, those already due at the service's clock: claimed and written within
    /// moments by a running instance (a lasting count means none is delivering; not an error
    /// by itself).
    #[serde(default)]
    pub overdue: Option<u64>,
}

/// FastAPI's validation error shape.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ValidationErrors {
    pub detail: Vec<ValidationError>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ValidationError {
    /// Where: `["body", "event_timestamp"]`, `["query", "limit"]`.
    #[schema(value_type = Vec<Object>)]
    pub loc: Vec<serde_json::Value>,
    pub msg: String,
    #[serde(rename = "type")]
    pub kind: String,
}

impl DecisionResponse {
    pub fn new(event: &Event, d: Decided) -> DecisionResponse {
        DecisionResponse {
            event_id: d.event_id,
            user_id: event.user_id.clone(),
            event_type: event.event_type.clone(),
            decision: d.verdict.into(),
            delivery_status: d.delivery,
            replayed: d.replayed,
        }
    }
}

/// One decision of a user's audit (SPEC §5).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AuditEntryBody {
    pub event_id: i64,
    pub event_type: String,
    #[schema(format = DateTime)]
    pub event_timestamp: String,
    #[serde(flatten)]
    pub decision: VerdictBody,
    #[schema(format = DateTime)]
    pub decision_timestamp: String,
    /// As in the decision: `delivered`, `scheduled` or `pending` for a delivery, as it stands
    /// now; null for other decisions.
    pub delivery_status: Option<DeliveryStatus>,
}

impl From<AuditEntry> for AuditEntryBody {
    fn from(e: AuditEntry) -> Self {
        AuditEntryBody {
            event_id: e.event_id,
            event_type: e.event_type,
            event_timestamp: format_ts(e.event_timestamp),
            decision: e.verdict.into(),
            decision_timestamp: format_ts(e.decision_timestamp),
            delivery_status: e.delivery_status,
        }
    }
}
