//! Outcome diffs between two rule versions over the same events: every changed decision,
//! grouped by kind of change, and per-rule counts before and after.

mod render;

pub use render::{json, text};

use crate::engine::Verdict;
use crate::results::{EventResult, FileRun, RuleStats, rule_stats};

/// One event whose decision changed.
#[derive(Debug, Clone)]
pub struct Change<'a> {
    pub event: &'a EventResult,
    pub before: &'a Verdict,
}

/// Changes of one kind (`insufficient_funds_email allow -> suppress`).
#[derive(Debug, Clone)]
pub struct Group<'a> {
    pub label: String,
    pub changes: Vec<Change<'a>>,
}

/// One scenario run under both rule versions.
pub struct FileDiff<'a> {
    pub base: &'a FileRun,
    pub new: &'a FileRun,
    pub groups: Vec<Group<'a>>,
    /// Changes by the guard that caused them: `newly stopped by cap marketing_per_day`.
    pub guards: Vec<GuardChange>,
}

/// How many users and events a guard newly stopped, or no longer stops.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct GuardChange {
    pub label: String,
    pub users: usize,
    pub events: usize,
}

impl FileDiff<'_> {
    pub fn changed(&self) -> usize {
        self.groups.iter().map(|g| g.changes.len()).sum()
    }

    /// Per-rule counts before and after, for every rule of either version (new order first).
    pub fn rule_counts(&self) -> Vec<(String, Option<RuleStats>, Option<RuleStats>)> {
        let (before, _) = rule_stats(&self.base.rules, &self.base.results);
        let (after, _) = rule_stats(&self.new.rules, &self.new.results);
        let mut out: Vec<(String, Option<RuleStats>, Option<RuleStats>)> = after
            .into_iter()
            .map(|a| {
                let b = before.iter().find(|b| b.rule == a.rule).cloned();
                (a.rule.to_string(), b, Some(a))
            })
            .collect();
        for b in before {
            if !out.iter().any(|(name, _, _)| **name == *b.rule) {
                out.push((b.rule.to_string(), Some(b), None));
            }
        }
        out
    }
}

/// Compare two runs of the same scenario, event by event.
pub fn compare<'a>(base: &'a FileRun, new: &'a FileRun) -> FileDiff<'a> {
    let mut groups: Vec<Group<'a>> = Vec::new();
    for (b, n) in base.results.iter().zip(&new.results) {
        if b.verdict.same_decision(&n.verdict) {
            continue;
        }
        let label = label(&b.verdict, &n.verdict);
        let change = Change {
            event: n,
            before: &b.verdict,
        };
        match groups.iter_mut().find(|g| g.label == label) {
            Some(g) => g.changes.push(change),
            None => groups.push(Group {
                label,
                changes: vec![change],
            }),
        }
    }
    groups.sort_by(|a, b| {
        b.changes
            .len()
            .cmp(&a.changes.len())
            .then_with(|| a.label.cmp(&b.label))
    });
    let guards = by_guard(&groups);
    FileDiff {
        base,
        new,
        groups,
        guards,
    }
}

/// The changes a guard explains: sends it now stops that it did not, or no longer stops.
fn by_guard(groups: &[Group<'_>]) -> Vec<GuardChange> {
    let mut seen: std::collections::BTreeMap<String, (std::collections::BTreeSet<&str>, usize)> =
        std::collections::BTreeMap::new();
    for c in groups.iter().flat_map(|g| &g.changes) {
        let (before, after) = (c.before.stopped_by(), c.event.verdict.stopped_by());
        if before == after {
            continue;
        }
        let label = match (after, before) {
            (Some(g), _) if g.starts_with("cap ") => format!("newly capped by {}", &g[4..]),
            (Some(g), _) => format!("newly stopped by {g}"),
            (None, Some(g)) => format!("no longer stopped by {g}"),
            (None, None) => continue,
        };
        let entry = seen.entry(label).or_default();
        entry.0.insert(&c.event.user_id);
        entry.1 += 1;
    }
    let mut out: Vec<GuardChange> = seen
        .into_iter()
        .map(|(label, (users, events))| GuardChange {
            label,
            users: users.len(),
            events,
        })
        .collect();
    out.sort_by(|a, b| b.users.cmp(&a.users).then_with(|| a.label.cmp(&b.label)));
    out
}

/// The kind of a change, in words.
fn label(a: &Verdict, b: &Verdict) -> String {
    let rule = |v: &Verdict| v.matched_rule.as_deref().unwrap_or("(no rule)").to_string();
    let delivery = |v: &Verdict| {
        format!(
            "{}/{}",
            v.template_name.as_deref().unwrap_or("-"),
            v.channel.map_or("-", |c| c.as_str())
        )
    };
    if a.matched_rule != b.matched_rule {
        return format!("{} {} -> {} {}", rule(a), a.outcome, rule(b), b.outcome);
    }
    if a.outcome != b.outcome {
        return format!("{} {} -> {}", rule(a), a.outcome, b.outcome);
    }
    if (&a.template_name, a.channel) != (&b.template_name, b.channel) {
        return format!(
            "{} {}: {} -> {}",
            rule(a),
            a.outcome,
            delivery(a),
            delivery(b)
        );
    }
    format!(
        "{} {}: {} -> {}",
        rule(a),
        a.outcome,
        a.reason_code,
        b.reason_code
    )
}
