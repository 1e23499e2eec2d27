//! Client errors as FastAPI shapes them: 422 `{"detail": [{"loc", "msg", "type"}]}` naming
//! the field, 413 for an oversized body. Never a 500 for what a client sent.

use axum::Json;
use axum::body::{Body, Bytes};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use serde_path_to_error::Segment;

use super::BODY_LIMIT;
use super::http::BODY_TIMEOUT;

/// A 422 with one error.
pub fn invalid(loc: &[Value], msg: &str, kind: &str) -> Response {
    (
        StatusCode::UNPROCESSABLE_ENTITY,
        Json(json!({"detail": [{"loc": loc, "msg": msg, "type": kind}]})),
    )
        .into_response()
}

/// Read a request body of at most [`BODY_LIMIT`] bytes within [`BODY_TIMEOUT`]: 413 past the
/// limit, 408 past the time, 400 when the connection breaks.
pub async fn read_body(body: Body) -> Result<Bytes, Response> {
    let error = |status: StatusCode, detail: &str| {
        (status, Json(json!({"detail": detail}))).into_response()
    };
    match tokio::time::timeout(BODY_TIMEOUT, Limited::new(body, BODY_LIMIT).collect()).await {
        Err(_) => Err(error(
            StatusCode::REQUEST_TIMEOUT,
            "the request body did not arrive within 10 s",
        )),
        Ok(Ok(collected)) => Ok(collected.to_bytes()),
        Ok(Err(e)) if e.is::<LengthLimitError>() => Err(error(
            StatusCode::PAYLOAD_TOO_LARGE,
            "request body is larger than 1 MiB",
        )),
        Ok(Err(e)) => Err(error(
            StatusCode::BAD_REQUEST,
            &format!("cannot read the request body: {e}"),
        )),
    }
}

/// Parse a JSON body into `T`, or the 422 naming what is wrong and where.
#[allow(clippy::result_large_err)]
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, Response> {
    // Serde would read a struct from a JSON array too; the API takes objects only.
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
    if first.is_some_and(|b| *b == b'[') {
        return Err(invalid(
            &[json!("body")],
            "Input should be a JSON object",
            "model_attributes_type",
        ));
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value: T = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let mut loc = vec![json!("body")];
        for seg in e.path() {
            match seg {
                Segment::Seq { index } => loc.push(json!(index)),
                Segment::Map { key } => loc.push(json!(key)),
                Segment::Enum { variant } => loc.push(json!(variant)),
                Segment::Unknown => {}
            }
        }
        let inner = e.inner();
        let text = inner.to_string();
        let text = text
            .split(" at line ")
            .next()
            .unwrap_or_default()
            .to_string();
        if inner.is_syntax() || inner.is_eof() {
            return invalid(
                &[json!("body"), json!(inner.column())],
                &format!("JSON decode error: {text}"),
                "json_invalid",
            );
        }
        if let Some(field) = text
            .strip_prefix("missing field `")
            .and_then(|r| r.strip_suffix('`'))
        {
            loc.push(json!(field));
            return invalid(&loc, "Field required", "missing");
        }
        let kind = if text.starts_with("invalid type") {
            "type_error"
        } else {
            "value_error"
        };
        invalid(&loc, &text, kind)
    })?;
    de.end().map_err(|e| {
        let text = e.to_string();
        let text = text
            .split(" at line ")
            .next()
            .unwrap_or_default()
            .to_string();
        invalid(
            &[json!("body"), json!(e.column())],
            &format!("JSON decode error: {text}"),
            "json_invalid",
        )
    })?;
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::EventInput;

    async fn detail(bytes: &[u8]) -> (StatusCode, Value) {
        let resp = parse_json::<EventInput>(bytes).unwrap_err();
        let status = resp.status();
        let body = axum::body::to_bytes(resp.into_body(), 1 << 20)
            .await
            .unwrap();
        (status, serde_json::from_slice(&body).unwrap())
    }

    #[tokio::test]
    async fn each_client_error_names_its_field() {
        let cases: &[(&[u8], Value, &str)] = &[
            (b"{", json!(["body", 1]), "json_invalid"),
            (b"[1]", json!(["body"]), "model_attributes_type"),
            (b"3", json!(["body"]), "type_error"),

            (br#"{"event_type":"x","event_timestamp":"2024-01-15T10:30:00Z"}"#, json!(["body", "user_id"]), "missing"),
            (br#"{"user_id":"","event_type":"x","event_timestamp":"2024-01-15T10:30:00Z"}"#, json!(["body", "user_id"]), "value_error"),
            (br#"{"user_id":7,"event_type":"x","event_timestamp":"2024-01-15T10:30:00Z"}"#, json!(["body", "user_id"]), "type_error"),
            (br#"{"user_id":"u","event_type":"x","event_timestamp":"2024-01-15T10:30:00"}"#, json!(["body", "event_timestamp"]), "value_error"),
            (br#"{"user_id":"u","event_type":"x","event_timestamp":"2024-01-15T10:30:00Z","user_traits":{"marketing_opt_in":"yes"}}"#, json!(["body", "user_traits", "marketing_opt_in"]), "type_error"),
            (br#"{"user_id":"u","event_type":"x","event_timestamp":"2024-01-15T10:30:00Z","properties":[]}"#, json!(["body", "properties"]), "type_error"),
        ];
        for (body, loc, kind) in cases {
            let (status, v) = detail(body).await;
            assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
            assert_eq!(&v["detail"][0]["loc"], loc, "{v}");
            assert_eq!(v["detail"][0]["type"], *kind, "{v}");
            assert!(
                v["detail"][0]["msg"]
                    .as_str()
                    .is_some_and(|m| !m.is_empty())
            );
        }
    }

    #[test]
    fn wrong_typed_properties_are_not_an_error() {
        let ok: EventInput = parse_json(
            br#"{"user_id":"u","event_type":"x","event_timestamp":"2024-01-15T10:30:00Z","properties":{"attempt_number":"three"},"extra":1}"#,
        )
        .unwrap();
        assert_eq!(ok.user_id.0, "u");
    }
}
