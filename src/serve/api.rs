//! The HTTP API of the seed README: `POST /events`, `GET /audit/{user_id}`, `GET /health`,
//! with its OpenAPI document.

use axum::Json;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, OpenApi, ToSchema};

use super::rejection;
use super::writer::{Unavailable, WriterHandle};
use crate::event::{Event, EventInput};
use crate::pipeline::DeliveryStatus;
use crate::store::AuditEntry;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "workbench: marketing messaging service",
        description = "Behavioural events in; rule-based, suppressed, audited messages out."
    ),
    paths(post_event, audit, health),
    components(schemas(
        EventBody,
        TraitsBody,
        DecisionResponse,
        AuditResponse,
        AuditEntry,
        HealthResponse,
        ValidationErrors,
        ValidationError
    ))
)]
pub struct ApiDoc;

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
    pub matched_rule: Option<String>,
    /// `send`, `alert` or `none`.
    pub action_type: String,
    pub template_name: Option<String>,
    pub channel: Option<String>,
    /// `allow`, `suppress`, `alert` or `none`.
    pub outcome: String,
    pub reason: String,
    pub reason_code: String,
    /// For a delivery: `delivered` once its `messages.txt` line is written, `pending` while
    /// the decision is recorded but the line waits (the service writes it as soon as it
    /// can, exactly once); null for other decisions.
    pub delivery_status: Option<DeliveryStatus>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditResponse {
    pub user_id: String,
    pub decisions: Vec<AuditEntry>,
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

fn unavailable(e: Unavailable) -> Response {
    tracing::error!(error = %e, "request failed");
    (
        StatusCode::SERVICE_UNAVAILABLE,
        Json(json!({"detail": e.0})),
    )
        .into_response()
}

/// Process one event through the pipeline.
#[utoipa::path(
    post,
    path = "/events",
    request_body = EventBody,
    responses(
        (status = 200, description = "The decision", body = DecisionResponse),
        (status = 408, description = "The body did not arrive within 10 s"),
        (status = 413, description = "Body over 1 MiB"),
        (status = 415, description = "A Content-Type that is not JSON"),
        (status = 422, description = "Invalid event", body = ValidationErrors),
        (status = 503, description = "Storage unavailable; the event was not recorded"),
    )
)]
pub async fn post_event(State(writer): State<WriterHandle>, body: Body) -> Response {
    let body = match rejection::read_body(body).await {
        Ok(b) => b,
        Err(resp) => return resp,
    };
    let input: EventInput = match rejection::parse_json(&body) {
        Ok(i) => i,
        Err(resp) => return resp,
    };
    let event = Event::from(input);
    match writer.process(event.clone()).await {
        Ok(d) => {
            let v = d.verdict;
            Json(DecisionResponse {
                event_id: d.event_id,
                user_id: event.user_id,
                event_type: event.event_type,
                matched_rule: v.matched_rule.map(|r| r.to_string()),
                action_type: v.action_type.to_string(),
                template_name: v.template_name.map(|t| t.to_string()),
                channel: v.channel.map(|c| c.to_string()),
                outcome: v.outcome.to_string(),
                reason: v.reason,
                reason_code: v.reason_code.to_string(),
                delivery_status: d.delivery,
            })
            .into_response()
        }
        Err(e) => unavailable(e),
    }
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct AuditQuery {
    /// Only the most recent N decisions.
    limit: Option<String>,
}

/// A user's decisions in processing order.
#[utoipa::path(
    get,
    path = "/audit/{user_id}",
    params(("user_id" = String, Path, description = "The user"), AuditQuery),
    responses(
        (status = 200, description = "The user's decisions (empty for an unknown user)", body = AuditResponse),
        (status = 422, description = "Invalid limit", body = ValidationErrors),
    )
)]
pub async fn audit(
    State(writer): State<WriterHandle>,
    Path(user_id): Path<String>,
    Query(q): Query<AuditQuery>,
) -> Response {
    let limit = match q.limit.as_deref().map(str::parse::<usize>) {
        None => None,
        Some(Ok(n)) => Some(n),
        Some(Err(_)) => {
            return rejection::invalid(
                vec![json!("query"), json!("limit")],
                "Input should be a non-negative integer",
                "int_parsing",
            );
        }
    };
    match writer.audit(user_id.clone(), limit).await {
        Ok(entries) => Json(AuditResponse {
            user_id,
            decisions: entries,
        })
        .into_response(),
        Err(e) => unavailable(e),
    }
}

/// Ready when the database answers, the last writes to the database and to the messages file
/// succeeded, and the rules are loaded.
#[utoipa::path(
    get,
    path = "/health",
    responses(
        (status = 200, body = HealthResponse),
        (status = 503, description = "The database does not answer, or the last write to it or to the messages file failed", body = HealthResponse),
    )
)]
pub async fn health(State(writer): State<WriterHandle>) -> Response {
    let state = writer.health.get();
    let down = |detail: String| {
        tracing::error!(detail = %detail, "unhealthy");
        (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(HealthResponse {
                status: "unavailable".into(),
                detail: Some(detail),
                unwritten_messages: state.unwritten,
            }),
        )
            .into_response()
    };
    if let Some(e) = &state.database {
        return down(format!("the last write to the database failed: {e}"));
    }
    if let Some(e) = &state.messages {
        return down(format!(
            "the last write to the messages file failed ({} deliveries wait): {e}",
            state.unwritten
        ));
    }
    match writer.audit(String::new(), Some(0)).await {
        Ok(_) => Json(HealthResponse {
            status: "ok".into(),
            detail: None,
            unwritten_messages: state.unwritten,
        })
        .into_response(),
        Err(e) => down(e.0),
    }
}
