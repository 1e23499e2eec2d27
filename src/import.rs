//! Replay real history: the events a service database holds, in arrival order, as a `.jsonl`
//! scenario whose expectations are the decisions the service made.

use std::io::Write;

use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};

use crate::event::{Timestamp, check_id, format_ts, in_range};
use crate::store::{Recorded, Store, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot write the scenario: {0}")]
    Write(#[from] std::io::Error),
}

/// Which events to export.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Only events that arrived at or after this time.
    pub since: Option<DateTime<Utc>>,
    pub user: Option<String>,
}

/// What an export wrote, and what it left out.
#[derive(Debug, Default)]
pub struct Exported {
    pub count: usize,
    /// Events a scenario could not load (stored by versions before the input limits of
    /// SPEC §8): `event N: why`.
    pub left_out: Vec<String>,
}

/// Why a stored event could not be loaded from a scenario, if it could not.
fn unloadable(r: &Recorded) -> Option<String> {
    let e = &r.event;
    if let Err(why) = check_id(&e.user_id) {
        return Some(format!("`user_id` {why}"));
    }
    if let Err(why) = check_id(&e.event_type) {
        return Some(format!("`event_type` {why}"));
    }
    for (name, t) in [
        ("event_timestamp", e.event_timestamp),
        ("received_at", r.created_at),
    ] {
        if !in_range(t) {
            return Some(format!(
                "`{name}` {} is outside {} .. {}",
                format_ts(t),
                Timestamp::MIN,
                Timestamp::MAX
            ));
        }
    }
    None
}

/// Write the matching events as JSON Lines, leaving out (and naming) any that a scenario
/// could not load.
pub fn export<S: Store>(
    store: &mut S,
    filter: &Filter,
    out: &mut impl Write,
) -> Result<Exported, ImportError> {
    let mut done = Exported::default();
    let mut failed: Option<std::io::Error> = None;
    store
        .recorded(filter.user.as_deref(), &mut |r: Recorded| {
            if filter.since.is_some_and(|s| r.created_at < s) {
                return Ok(());
            }
            if let Some(why) = unloadable(&r) {
                done.left_out.push(format!("event {}: {why}", r.event_id));
                return Ok(());
            }
            let line = serde_json::to_string(&line(&r)).expect("json serialises");
            if let Err(e) = writeln!(out, "{line}") {
                failed = Some(e);
                return Err(StoreError::Corrupt("stopped: the output failed".into()));
            }
            done.count += 1;
            Ok(())
        })
        .map_err(|e| match failed.take() {
            Some(io) => ImportError::Write(io),
            None => ImportError::Store(e),
        })?;
    out.flush()?;
    Ok(done)
}

fn line(r: &Recorded) -> Value {
    let e = &r.event;
    let d = &r.decision.verdict;
    let mut m = Map::new();
    m.insert("user_id".into(), json!(e.user_id));
    m.insert("event_type".into(), json!(e.event_type));
    m.insert(
        "event_timestamp".into(),
        json!(format_ts(e.event_timestamp)),
    );
    if !e.properties.is_empty() {
        m.insert("properties".into(), Value::Object(e.properties.clone()));
    }
    if let Some(t) = &e.user_traits {
        m.insert("user_traits".into(), json!(t));
    }
    m.insert("received_at".into(), json!(format_ts(r.created_at)));
    if let Some(k) = &e.idempotency_key {
        m.insert("idempotency_key".into(), json!(k));
    }
    let mut expect = json!({
        "outcome": d.outcome,
        "matched_rule": d.matched_rule,
        "action_type": d.action_type,
        "template_name": d.template_name,
        "channel": d.channel,
        "reason_code": d.reason_code,
    });
    if let Some(at) = d.deliver_at {
        expect["deliver_at"] = json!(format_ts(at));
    }
    m.insert("expect".into(), expect);
    Value::Object(m)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::SqliteStore;

    #[test]
    fn events_stored_before_the_input_limits_are_left_out_by_name() {
        let mut store = SqliteStore::open_in_memory().unwrap();
        store
            .connection()
            .execute_batch(
                "INSERT INTO events (id, user_id, event_type, event_timestamp, properties, created_at)
                    VALUES (1, 'u', 'x', '+10000-01-01T00:59:59Z', '{}', '2024-01-01T00:00:00Z');
                 INSERT INTO events (id, user_id, event_type, event_timestamp, properties, created_at)
                    VALUES (2, 'u', 'x', '2024-01-15T10:30:00Z', '{}', '2024-01-15T10:30:00Z');
                 INSERT INTO decisions (id, user_id, event_id, event_type, event_timestamp, action_type,
                    outcome, reason, reason_code, created_at)
                 SELECT id, user_id, id, event_type, event_timestamp, 'none', 'none', 'r', 'no_match',
                    created_at FROM events;",
            )
            .unwrap();
        let mut out = Vec::new();
        let done = export(&mut store, &Filter::default(), &mut out).unwrap();
        assert_eq!(done.count, 1);
        assert_eq!(done.left_out.len(), 1);
        assert!(
            done.left_out[0].starts_with("event 1: `event_timestamp`"),
            "{:?}",
            done.left_out
        );
        assert_eq!(String::from_utf8(out).unwrap().lines().count(), 1);
    }
}
