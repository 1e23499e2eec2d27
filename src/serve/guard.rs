//! Request limits checked before a handler runs, and JSON bodies for every error status:
//! 413 for a declared body over the limit (at once, before reading it), 414 and 431 for
//! oversized request heads, 415 for a body that is not JSON, and `{"detail": ...}` instead of
//! an empty or plain-text body for any error (404, 405, a bad path or query, ...).

use std::convert::Infallible;
use std::future::{Ready, ready};
use std::task::{Context, Poll};

use axum::Json;
use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use futures_util::future::{BoxFuture, Either};
use http_body_util::{BodyExt, Limited};
use serde_json::json;
use tower_service::Service;

use super::BODY_LIMIT;
use super::http::BODY_TIMEOUT;

/// The longest request target (path and query) answered normally.
pub const MAX_URI_BYTES: usize = 8 << 10;
/// The most header bytes (names and values) answered normally.
pub const MAX_HEADER_BYTES: usize = 32 << 10;
/// A declared body over [`BODY_LIMIT`] but at most this size is read (and thrown away) before
/// the 413; a larger one is refused at once, without reading it.
pub const DRAIN_LIMIT: u64 = 4 << 20;
/// The most headers answered normally.
pub const MAX_HEADER_COUNT: usize = 100;

fn detail(status: StatusCode, detail: impl Into<String>) -> Response {
    (status, Json(json!({"detail": detail.into()}))).into_response()
}

/// Checks the request against the limits before the router sees it. A tower service rather
/// than `middleware::from_fn`: the normal path allocates nothing (the single-event path was
/// measurably slower through two boxed middleware layers).
#[derive(Clone)]
pub struct Limits<S> {
    inner: S,
}

pub fn limits<S>(inner: S) -> Limits<S> {
    Limits { inner }
}

impl<S> Service<Request> for Limits<S>
where
    S: Service<Request, Response = Response, Error = Infallible> + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Either<
        Ready<Result<Response, Infallible>>,
        Either<BoxFuture<'static, Result<Response, Infallible>>, S::Future>,
    >;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request) -> Self::Future {
        match check(&req) {
            Check::Pass => Either::Right(Either::Right(self.inner.call(req))),
            Check::Refuse(resp) => Either::Left(ready(Ok(resp))),
            Check::DrainThenRefuse(resp) => Either::Right(Either::Left(Box::pin(async move {
                // Read it away first, so a client that sends before it reads (most do) gets
                // this answer rather than a reset connection.
                let _ = tokio::time::timeout(
                    BODY_TIMEOUT,
                    Limited::new(
                        req.into_body(),
                        usize::try_from(DRAIN_LIMIT).unwrap_or(usize::MAX),
                    )
                    .collect(),
                )
                .await;
                Ok(resp)
            }))),
        }
    }
}

enum Check {
    Pass,
    Refuse(Response),
    DrainThenRefuse(Response),
}

fn check(req: &Request) -> Check {
    let uri = req.uri();
    let uri_len = uri.path().len() + uri.query().map_or(0, |q| q.len() + 1);
    if uri_len > MAX_URI_BYTES {
        return Check::Refuse(detail(
            StatusCode::URI_TOO_LONG,
            format!("request target is {uri_len} bytes; the limit is {MAX_URI_BYTES}"),
        ));
    }
    if let Some(resp) = oversized_headers(req.headers()) {
        return Check::Refuse(resp);
    }
    if let Some(len) = req.headers().get(header::CONTENT_LENGTH) {
        match len.to_str().ok().and_then(|l| l.trim().parse::<u64>().ok()) {
            Some(n) if n > BODY_LIMIT as u64 => {
                let mut resp = detail(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    format!("request body is {n} bytes; the limit is 1 MiB"),
                );
                resp.headers_mut()
                    .insert(header::CONNECTION, HeaderValue::from_static("close"));
                return if n <= DRAIN_LIMIT {
                    Check::DrainThenRefuse(resp)
                } else {
                    Check::Refuse(resp)
                };
            }
            Some(_) => {}
            None => {
                return Check::Refuse(detail(
                    StatusCode::BAD_REQUEST,
                    "invalid Content-Length header",
                ));
            }
        }
    }
    if req.method() == Method::POST
        && let Some(ct) = req.headers().get(header::CONTENT_TYPE)
        && !is_json(ct.to_str().unwrap_or_default())
    {
        return Check::Refuse(detail(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!(
                "Content-Type `{}` is not JSON: send `application/json`",
                String::from_utf8_lossy(ct.as_bytes())
            ),
        ));
    }
    Check::Pass
}

fn oversized_headers(headers: &HeaderMap) -> Option<Response> {
    let count = headers.len();
    let bytes: usize = headers
        .iter()
        .map(|(k, v)| k.as_str().len() + v.len())
        .sum();
    (count > MAX_HEADER_COUNT || bytes > MAX_HEADER_BYTES).then(|| {
        detail(
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            format!(
                "{count} headers of {bytes} bytes; the limits are {MAX_HEADER_COUNT} headers and {MAX_HEADER_BYTES} bytes"
            ),
        )
    })
}

fn is_json(content_type: &str) -> bool {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// Give every error response a JSON body: a plain-text one becomes its `detail`, an empty
/// one gets the status' reason. For the routes whose handlers do not answer JSON themselves
/// (the Swagger UI's).
pub async fn json_errors(req: Request, next: Next) -> Response {
    let resp = next.run(req).await;
    let status = resp.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return resp;
    }
    let is_json = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(is_json);
    if is_json {
        return resp;
    }
    let (parts, body) = resp.into_parts();
    let text = match body.collect().await {
        Ok(b) => String::from_utf8_lossy(&b.to_bytes()).trim().to_string(),
        Err(_) => String::new(),
    };
    let text = if text.is_empty() {
        status
            .canonical_reason()
            .unwrap_or("error")
            .to_ascii_lowercase()
    } else {
        text
    };
    let mut out = detail(status, text);
    for (k, v) in &parts.headers {
        if k != header::CONTENT_TYPE && k != header::CONTENT_LENGTH {
            out.headers_mut().insert(k, v.clone());
        }
    }
    out
}

/// `GET /`: where to look.
pub async fn index() -> Response {
    Json(json!({
        "service": "workbench: marketing messaging service",
        "docs": "/docs/",
        "openapi": "/openapi.json",
        "endpoints": ["POST /events", "GET /audit/{user_id}", "GET /health"],
    }))
    .into_response()
}

/// A path that exists, with another method.
pub async fn method_not_allowed(req: Request<Body>) -> Response {
    detail(
        StatusCode::METHOD_NOT_ALLOWED,
        format!("{} is not allowed on {}", req.method(), req.uri().path()),
    )
}

/// Any other path.
pub async fn not_found(req: Request<Body>) -> Response {
    detail(
        StatusCode::NOT_FOUND,
        format!(
            "no such endpoint: {} {}; see /docs/ for the API",
            req.method(),
            req.uri().path()
        ),
    )
}
