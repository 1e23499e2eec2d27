//! Behavioural events: the validated `Event` and the serde types that parse one at the edge.

use std::fmt;

use chrono::{DateTime, NaiveDateTime, SecondsFormat, Utc};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

/// A validated event: non-empty ids, a UTC timestamp, properties and traits as JSON objects.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub user_id: String,
    pub event_type: String,
    pub event_timestamp: DateTime<Utc>,
    pub properties: Map<String, Value>,
    pub user_traits: Option<Traits>,
    /// SPEC §7.6: a key under which this event is processed at most once.
    pub idempotency_key: Option<String>,
}

/// The wire shape of an event (HTTP body, scenario line): parsed into an [`Event`].
#[derive(Debug, Deserialize)]
pub struct EventInput {
    pub user_id: NonEmpty,
    pub event_type: NonEmpty,
    pub event_timestamp: Timestamp,
    #[serde(default)]
    pub properties: Option<Map<String, Value>>,
    #[serde(default)]
    pub user_traits: Option<Traits>,
    #[serde(default)]
    pub idempotency_key: Option<IdempotencyKey>,
}

impl From<EventInput> for Event {
    fn from(input: EventInput) -> Self {
        Event {
            user_id: input.user_id.0,
            event_type: input.event_type.0,
            event_timestamp: input.event_timestamp.0,
            properties: input.properties.unwrap_or_default(),
            user_traits: input.user_traits,
            idempotency_key: input.idempotency_key.map(|k| k.0),
        }
    }
}

/// The longest idempotency key, in characters (SPEC §7.6).
pub const MAX_KEY_CHARS: usize = 128;

/// An idempotency key (SPEC §7.6): 1 to [`MAX_KEY_CHARS`] printable characters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IdempotencyKey(pub String);

impl<'de> Deserialize<'de> for IdempotencyKey {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        via_str(d, "an idempotency key string", |s| {
            check_key(s).map(|()| IdempotencyKey(s.to_string()))
        })
    }
}

/// Whether `s` is a valid idempotency key: 1 to [`MAX_KEY_CHARS`] characters, none of them
/// a control character.
pub fn check_key(s: &str) -> Result<(), String> {
    if s.is_empty() {
        return Err("must be 1 to 128 printable characters; it is empty".to_string());
    }
    let chars = s.chars().count();
    if chars > MAX_KEY_CHARS {
        return Err(format!(
            "is {chars} characters long; the limit is {MAX_KEY_CHARS}"
        ));
    }
    if let Some(c) = s.chars().find(|c| c.is_control()) {
        return Err(format!(
            "contains the control character {}; control characters are not allowed",
            c.escape_unicode()
        ));
    }
    Ok(())
}

/// The fields that make an event's identity for its idempotency key (SPEC §7.6): a replay
/// repeats all of them, a conflict differs in at least one.
pub const IDENTITY_FIELDS: [&str; 5] = [
    "user_id",
    "event_type",
    "event_timestamp",
    "properties",
    "user_traits",
];

impl Event {
    /// The canonical JSON of each of [`IDENTITY_FIELDS`]: object keys sorted at every depth,
    /// the timestamp in UTC, absent traits as `{}`.
    pub fn identity(&self) -> [String; 5] {
        let traits = serde_json::to_value(self.user_traits.clone().unwrap_or_default())
            .expect("traits serialise");
        [
            canonical(&Value::String(self.user_id.clone())),
            canonical(&Value::String(self.event_type.clone())),
            canonical(&Value::String(format_ts(self.event_timestamp))),
            canonical(&Value::Object(self.properties.clone())),
            canonical(&traits),
        ]
    }

    /// A stable fingerprint of the event's identity: the hex SHA-256 of the canonical JSON
    /// object of [`IDENTITY_FIELDS`]. Equal for the same event whatever its keys' order.
    pub fn fingerprint(&self) -> String {
        fingerprint_of(&self.identity())
    }

    /// The [`IDENTITY_FIELDS`] in which `other` differs from this event.
    pub fn differing_fields(&self, other: &Event) -> Vec<&'static str> {
        let (a, b) = (self.identity(), other.identity());
        IDENTITY_FIELDS
            .iter()
            .zip(a.iter().zip(b.iter()))
            .filter(|(_, (x, y))| x != y)
            .map(|(f, _)| *f)
            .collect()
    }
}

/// The fingerprint of an identity (see [`Event::fingerprint`]).
pub fn fingerprint_of(identity: &[String; 5]) -> String {
    use sha2::{Digest, Sha256};
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut text = String::from("{");
    for (i, (field, value)) in IDENTITY_FIELDS.iter().zip(identity).enumerate() {
        if i > 0 {
            text.push(',');
        }
        text.push('"');
        text.push_str(field);
        text.push_str("\":");
        text.push_str(value);
    }
    text.push('}');
    let digest = Sha256::digest(text.as_bytes());
    digest
        .iter()
        .flat_map(|b| [HEX[usize::from(b >> 4)], HEX[usize::from(b & 15)]])
        .map(char::from)
        .collect()
}

/// A JSON value's canonical text: object keys sorted at every depth, no whitespace.
pub fn canonical(v: &Value) -> String {
    let mut out = String::new();
    write_canonical(v, &mut out);
    out
}

fn write_canonical(v: &Value, out: &mut String) {
    match v {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(k.clone()).to_string());
                out.push(':');
                write_canonical(&map[k], out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

/// User traits as sent: the four known ones are typed, every other key is kept as given.
#[derive(Debug, Clone, PartialEq, Default, Deserialize, Serialize)]
pub struct Traits {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub marketing_opt_in: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub risk_segment: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Traits {
    /// The trait `name` as a JSON value, or `None` when absent.
    pub fn get(&self, name: &str) -> Option<Value> {
        match name {
            "email" => self.email.clone().map(Value::String),
            "country" => self.country.clone().map(Value::String),
            "marketing_opt_in" => self.marketing_opt_in.map(Value::Bool),
            "risk_segment" => self.risk_segment.clone().map(Value::String),
            _ => self.extra.get(name).cloned(),
        }
    }
}

/// A non-empty string field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NonEmpty(pub String);

impl<'de> Deserialize<'de> for NonEmpty {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        via_str(d, "a non-empty string", |s| {
            check_id(s).map(|()| NonEmpty(s.to_string()))
        })
    }
}

/// The longest `user_id`, `event_type` or idempotency key, in characters (SPEC §8).
pub const MAX_ID_CHARS: usize = 256;

/// An identifier (`user_id`, `event_type`): non-empty, at most [`MAX_ID_CHARS`] characters,
/// no control characters (SPEC §8), so it can never break a `messages.txt` line or a log.
pub fn check_id(s: &str) -> Result<(), String> {
    if s.trim().is_empty() {
        return Err("must be a non-empty string".to_string());
    }
    let chars = s.chars().count();
    if chars > MAX_ID_CHARS {
        return Err(format!(
            "is {chars} characters long; the limit is {MAX_ID_CHARS}"
        ));
    }
    if let Some(c) = s.chars().find(|c| c.is_control()) {
        return Err(format!(
            "contains the control character {}; control characters are not allowed",
            c.escape_unicode()
        ));
    }
    Ok(())
}

/// Deserialize a string and validate it inside the deserializer call, so that errors carry
/// the position of the value.
fn via_str<'de, D, T>(
    d: D,
    expecting: &'static str,
    parse: fn(&str) -> Result<T, String>,
) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
{
    struct V<T>(&'static str, fn(&str) -> Result<T, String>);
    impl<T> serde::de::Visitor<'_> for V<T> {
        type Value = T;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str(self.0)
        }
        fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<T, E> {
            (self.1)(s).map_err(E::custom)
        }
    }
    d.deserialize_str(V(expecting, parse))
}

/// An RFC 3339 timestamp with `Z` or an offset, normalised to UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Timestamp(pub DateTime<Utc>);

impl Timestamp {
    /// The earliest instant an event may carry (SPEC §8).
    pub const MIN: &'static str = "1970-01-01T00:00:00Z";
    /// The latest instant an event may carry (SPEC §8).
    pub const MAX: &'static str = "9999-12-31T23:59:59Z";

    pub fn parse(s: &str) -> Result<Timestamp, String> {
        match DateTime::parse_from_rfc3339(s.trim()) {
            Ok(t) => {
                let utc = t.with_timezone(&Utc);
                if in_range(utc) {
                    Ok(Timestamp(utc))
                } else {
                    Err(format!(
                        "timestamp `{s}` is out of range: it must fall in {} .. {} (UTC)",
                        Timestamp::MIN,
                        Timestamp::MAX
                    ))
                }
            }
            Err(_) if looks_naive(s.trim()) => Err(format!(
                "timestamp `{s}` has no UTC offset: add `Z` or an offset like `+02:00`"
            )),
            Err(e) => Err(format!("`{s}` is not an RFC 3339 timestamp: {e}")),
        }
    }
}

/// Whether a UTC instant is inside the range SPEC §8 accepts.
pub fn in_range(t: DateTime<Utc>) -> bool {
    let secs = t.timestamp();
    (0..=253_402_300_799).contains(&secs)
}

fn looks_naive(s: &str) -> bool {
    ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f"]
        .iter()
        .any(|f| NaiveDateTime::parse_from_str(s, f).is_ok())
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        via_str(d, "an RFC 3339 timestamp string", Timestamp::parse)
    }
}

impl Serialize for Timestamp {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&format_ts(self.0))
    }
}

/// The one text form of a UTC time: RFC 3339 with `Z`, fractional seconds only when present.
pub fn format_ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

#[cfg(test)]
mod tests;
