//! Pin a user's history as a test: their events, in order, with the decisions the current
//! rules gave them as `expect`, written to a scenario file that `workbench run` checks in CI.
//! Users are independent (every lookup is per user), so the pinned file decides the same.

use std::path::{Component, Path, PathBuf};

use serde::Serialize;
use serde_json::{Map, Value};

use crate::engine::{DecisionAction, Outcome, ReasonCode, Verdict};
use crate::event::{Traits, format_ts};
use crate::rules::Channel;
use crate::scenario::ScenarioError;
use crate::session::Session;

#[derive(Debug, thiserror::Error)]
pub enum PinError {
    #[error("no events for user `{0}`")]
    NoUser(String),
    #[error("`{}` already exists: choose another name", .0.display())]
    Exists(PathBuf),
    #[error(transparent)]
    Scenario(#[from] ScenarioError),
    #[error("cannot write `{}`: {error}", path.display())]
    Write {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("cannot serialise the scenario: {0}")]
    Yaml(String),
}

/// Where `p` pins a user unless told otherwise.
pub fn default_path(user: &str) -> PathBuf {
    let safe: String = user
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect();
    PathBuf::from("scenarios/pinned").join(format!("{safe}.yaml"))
}

#[derive(Serialize)]
struct Pinned {
    name: String,
    rules: String,
    events: Vec<PinnedEvent>,
}

#[derive(Serialize)]
struct PinnedEvent {
    user_id: String,
    event_type: String,
    event_timestamp: String,
    #[serde(skip_serializing_if = "Map::is_empty")]
    properties: Map<String, Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    user_traits: Option<Traits>,
    #[serde(skip_serializing_if = "Option::is_none")]
    received_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    idempotency_key: Option<String>,
    expect: PinnedExpect,
}

#[derive(Serialize)]
struct PinnedExpect {
    outcome: Outcome,
    matched_rule: Option<String>,
    action_type: DecisionAction,
    template_name: Option<String>,
    channel: Option<Channel>,
    reason_code: ReasonCode,
    #[serde(skip_serializing_if = "Option::is_none")]
    deliver_at: Option<String>,
    message_text: Option<String>,
}

impl From<&Verdict> for PinnedExpect {
    fn from(v: &Verdict) -> PinnedExpect {
        PinnedExpect {
            outcome: v.outcome,
            matched_rule: v.matched_rule.as_deref().map(str::to_string),
            action_type: v.action_type,
            template_name: v.template_name.as_deref().map(str::to_string),
            channel: v.channel,
            reason_code: v.reason_code,
            deliver_at: v.deliver_at.map(format_ts),
            message_text: v.message_text.clone(),
        }
    }
}

/// Write `user`'s events with their current decisions as expectations to `path` (its
/// directory is created; an existing file is never overwritten). Returns how many events.
pub fn pin(s: &Session, user: &str, path: &Path) -> Result<usize, PinError> {
    let Some(rows) = s.by_user.get(user) else {
        return Err(PinError::NoUser(user.to_string()));
    };
    // Row `i` is step `i`.
    let steps: std::collections::HashSet<u32> = rows.iter().copied().collect();
    let mut events = Vec::with_capacity(rows.len());
    for (i, step) in s.scenario.steps()?.enumerate() {
        let step = step?;
        let Some(row) = u32::try_from(i).ok().filter(|i| steps.contains(i)) else {
            continue;
        };
        let Some(r) = s.row(row) else { continue };
        let e = step.event;
        events.push(PinnedEvent {
            received_at: (step.received_at != e.event_timestamp)
                .then(|| format_ts(step.received_at)),
            event_timestamp: format_ts(e.event_timestamp),
            user_id: e.user_id,
            event_type: e.event_type,
            properties: e.properties,
            user_traits: e.user_traits,
            idempotency_key: e.idempotency_key,
            expect: PinnedExpect::from(&r.verdict),
        });
    }
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let doc = Pinned {
        name: format!(
            "{user}'s history from {}, pinned with {}",
            s.scenario.path.display(),
            s.rules_path.display()
        ),
        rules: relative(&s.rules_path, dir).display().to_string(),
        events,
    };
    let text = crate::yaml::to_string(&doc).map_err(PinError::Yaml)?;
    let text = format!(
        "# Pinned by the workbench (`p`): expectations are the decisions the rules gave when \
         pinned.\n{text}"
    );
    let write_err = |error| PinError::Write {
        path: path.to_path_buf(),
        error,
    };
    std::fs::create_dir_all(dir).map_err(write_err)?;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::AlreadyExists => PinError::Exists(path.to_path_buf()),
            _ => write_err(e),
        })?;
    std::io::Write::write_all(&mut file, text.as_bytes()).map_err(write_err)?;
    Ok(doc.events.len())
}

/// `target` as a path relative to the directory `from` (both made absolute first).
fn relative(target: &Path, from: &Path) -> PathBuf {
    let abs = |p: &Path| std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
    let (target, from) = (abs(target), abs(from));
    let t: Vec<Component<'_>> = target.components().collect();
    let f: Vec<Component<'_>> = from.components().collect();
    let common = t.iter().zip(&f).take_while(|(a, b)| a == b).count();
    if common == 0 {
        return target;
    }
    let mut out = PathBuf::new();
    for _ in common..f.len() {
        out.push("..");
    }
    for c in &t[common..] {
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_relative_to_the_pinned_files_directory() {
        assert_eq!(
            relative(
                Path::new("/a/rules/r.yaml"),
                Path::new("/a/scenarios/pinned")
            ),
            PathBuf::from("../../rules/r.yaml")
        );
        assert_eq!(
            relative(Path::new("/a/r.yaml"), Path::new("/a")),
            PathBuf::from("r.yaml")
        );
        assert_eq!(
            default_path("u jo/x"),
            PathBuf::from("scenarios/pinned/u_jo_x.yaml")
        );
    }
}
