//! Replay real history: the events a service database holds, in arrival order, as a `.jsonl`
//! scenario whose expectations are the decisions the service made.

use std::io::Write;

use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};

use crate::event::format_ts;
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

/// Write the matching events as JSON Lines; returns how many.
pub fn export<S: Store>(
    store: &mut S,
    filter: &Filter,
    out: &mut impl Write,
) -> Result<usize, ImportError> {
    let mut count = 0;
    let mut failed: Option<std::io::Error> = None;
    store
        .recorded(filter.user.as_deref(), &mut |r: Recorded| {
            if filter.since.is_some_and(|s| r.created_at < s) {
                return Ok(());
            }
            let line = serde_json::to_string(&line(&r)).expect("json serialises");
            if let Err(e) = writeln!(out, "{line}") {
                failed = Some(e);
                return Err(StoreError::Corrupt("stopped: the output failed".into()));
            }
            count += 1;
            Ok(())
        })
        .map_err(|e| match failed.take() {
            Some(io) => ImportError::Write(io),
            None => ImportError::Store(e),
        })?;
    out.flush()?;
    Ok(count)
}

fn line(r: &Recorded) -> Value {
    let e = &r.event;
    let d = &r.decision;
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
    m.insert(
        "expect".into(),
        json!({
            "outcome": d.outcome,
            "matched_rule": d.matched_rule,
            "action_type": d.action_type,
            "template_name": d.template_name,
            "channel": d.channel,
            "reason_code": d.reason_code,
        }),
    );
    Value::Object(m)
}
