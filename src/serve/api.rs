//! The HTTP API of the seed README: `POST /events`, `GET /audit/{user_id}`, `GET /health`,
//! with its OpenAPI document.

use axum::Json;
use axum::body::Body;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;
use utoipa::{IntoParams, OpenApi};

use super::rejection;
pub use super::schema::*;
use super::writer::{Refused, Unavailable, WriterHandle};
use crate::event::{Event, EventInput};

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
        AuditEntryBody,
        VerdictBody,
        HealthResponse,
        ValidationErrors,
        ValidationError,
        ConflictResponse
    ))
)]
pub struct ApiDoc;

fn unavailable(e: &Unavailable) -> Response {
    tracing::error!(error = %e, "request failed");
    (
        StatusCode::SERVICE_UNAVAILABLE,
        Json(json!({"detail": &e.0})),
    )
        .into_response()
}

/// Process one event through the pipeline.
#[utoipa::path(
    post,
    path = "/events",
    request_body = EventBody,
    responses(
        (status = 200, description = "The decision (for a replay of an idempotency key: the stored one, `replayed` true, nothing recorded or written)", body = DecisionResponse),
        (status = 408, description = "The body did not arrive within 10 s"),
        (status = 409, description = "The idempotency key was used by a different event: nothing recorded; `detail` names the key and what differs", body = ConflictResponse),
        (status = 413, description = "Body over 1 MiB"),
        (status = 415, description = "A Content-Type that is not JSON"),
        (status = 422, description = "Invalid event or `Idempotency-Key` header", body = ValidationErrors),
        (status = 503, description = "Storage unavailable; the event was not recorded"),
    ),
    params(
        ("Idempotency-Key" = Option<String>, Header, description = "1 to 128 printable characters: the event is processed at most once under this key (SPEC §7.6); wins over the body's `idempotency_key`"),
    )
)]
pub async fn post_event(
    State(writer): State<WriterHandle>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    // Checked before the body is read: a bad header fails fast.
    let header_key = match idempotency_header(&headers) {
        Ok(k) => k,
        Err(resp) => return resp,
    };
    let body = match rejection::read_body(body).await {
        Ok(b) => b,
        Err(resp) => return resp,
    };
    let input: EventInput = match rejection::parse_json(&body) {
        Ok(i) => i,
        Err(resp) => return resp,
    };
    let mut event = Event::from(input);
    if header_key.is_some() {
        event.idempotency_key = header_key;
    }
    match writer.process(event.clone()).await {
        Ok(d) => Json(DecisionResponse::new(&event, d)).into_response(),
        Err(Refused::Unavailable(e)) => unavailable(&e),
        Err(Refused::Conflict(c)) => (
            StatusCode::CONFLICT,
            Json(ConflictResponse {
                detail: c.to_string(),
                idempotency_key: c.key.clone(),
                event_id: c.event_id,
                differs: c.fields.iter().map(ToString::to_string).collect(),
            }),
        )
            .into_response(),
    }
}

/// The `Idempotency-Key` header, if sent: 422 naming the header when it is not a key.
#[allow(clippy::result_large_err)]
fn idempotency_header(headers: &HeaderMap) -> Result<Option<String>, Response> {
    let mut values = headers.get_all(IDEMPOTENCY_KEY).iter();
    let Some(value) = values.next() else {
        return Ok(None);
    };
    let loc = [json!("header"), json!(IDEMPOTENCY_KEY)];
    if values.next().is_some() {
        return Err(rejection::invalid(
            &loc,
            "Idempotency-Key is sent more than once",
            "value_error",
        ));
    }
    let Ok(text) = std::str::from_utf8(value.as_bytes()) else {
        return Err(rejection::invalid(
            &loc,
            "Idempotency-Key is not valid UTF-8",
            "value_error",
        ));
    };
    match crate::event::check_key(text) {
        Ok(()) => Ok(Some(text.to_string())),
        Err(e) => Err(rejection::invalid(
            &loc,
            &format!("Idempotency-Key {e}"),
            "value_error",
        )),
    }
}

/// The request header that carries an idempotency key (SPEC §7.6).
pub const IDEMPOTENCY_KEY: &str = "idempotency-key";

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
    user_id: Result<Path<String>, PathRejection>,
    q: Result<Query<AuditQuery>, QueryRejection>,
) -> Response {
    let user_id = match user_id {
        Ok(Path(u)) => u,
        Err(r) => {
            return rejection::invalid(
                &[json!("path"), json!("user_id")],
                &r.body_text(),
                "value_error",
            );
        }
    };
    let q = match q {
        Ok(Query(q)) => q,
        Err(r) => {
            return rejection::invalid(&[json!("query")], &r.body_text(), "value_error");
        }
    };
    let limit = match q.limit.as_deref().map(str::parse::<usize>) {
        None => None,
        Some(Ok(n)) => Some(n),
        Some(Err(_)) => {
            return rejection::invalid(
                &[json!("query"), json!("limit")],
                "Input should be a non-negative integer",
                "int_parsing",
            );
        }
    };
    match writer.audit(user_id.clone(), limit).await {
        Ok(entries) => Json(AuditResponse {
            user_id,
            decisions: entries.into_iter().map(AuditEntryBody::from).collect(),
        })
        .into_response(),
        Err(e) => unavailable(&e),
    }
}

/// Ready when the database answers, the last writes to the database and to the messages file
/// succeeded, and the rules are loaded. Also says how many scheduled sends wait, and how many
/// of them are due.
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
    // The database is not asked while the last write to it failed: it may not answer soon.
    let down = |detail: String| {
        tracing::error!(detail = %detail, "unhealthy");
        (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(HealthResponse {
                status: "unavailable".into(),
                detail: Some(detail),
                unwritten_messages: state.unwritten,
                scheduled: None,
                overdue: None,
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
    match writer.scheduled().await {
        Ok(n) => Json(HealthResponse {
            status: "ok".into(),
            detail: None,
            unwritten_messages: state.unwritten,
            scheduled: Some(n.scheduled),
            overdue: Some(n.overdue),
        })
        .into_response(),
        Err(e) => down(e.0),
    }
}
