//! Outcome diffs between two rule versions over the same events: every changed decision,
//! grouped by kind of change, and per-rule counts before and after.

mod render;

pub use render::{json, text, write_json, write_text};

use std::path::PathBuf;

use crate::engine::Verdict;
use crate::results::{EventResult, FileRun, RuleCounts, RuleStats};
use crate::rules::RuleSet;

/// One event whose decision changed: the event under the new rules, and the old decision.
#[derive(Debug, Clone)]
pub struct Change {
    pub event: EventResult,
    pub before: Verdict,
}

/// Changes of one kind (`insufficient_funds_email allow -> suppress`).
#[derive(Debug, Clone)]
pub struct Group {
    pub label: String,
    pub changes: Vec<Change>,
}

/// One rules version's side of a diff: its file and its per-rule counts.
#[derive(Debug, Clone)]
pub struct Side {
    pub rules_path: PathBuf,
    pub counts: RuleCounts,
}

impl Side {
    pub fn new(rules_path: PathBuf, rules: &RuleSet) -> Side {
        Side {
            rules_path,
            counts: RuleCounts::new(rules),
        }
    }
}

/// One scenario run under both rule versions: the changed events, not every event.
#[derive(Debug, Clone)]
pub struct FileDiff {
    /// The scenario file.
    pub path: PathBuf,
    pub events: usize,
    pub base: Side,
    pub new: Side,
    pub groups: Vec<Group>,
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

impl FileDiff {
    pub fn changed(&self) -> usize {
        self.groups.iter().map(|g| g.changes.len()).sum()
    }

    /// Per-rule counts before and after, for every rule of either version (new order first).
    pub fn rule_counts(&self) -> Vec<(String, Option<RuleStats>, Option<RuleStats>)> {
        let before = &self.base.counts.stats;
        let mut out: Vec<(String, Option<RuleStats>, Option<RuleStats>)> = self
            .new
            .counts
            .stats
            .iter()
            .map(|a| {
                let b = before.iter().find(|b| b.rule == a.rule).cloned();
                (a.rule.to_string(), b, Some(a.clone()))
            })
            .collect();
        for b in before {
            if !out.iter().any(|(name, _, _)| **name == *b.rule) {
                out.push((b.rule.to_string(), Some(b.clone()), None));
            }
        }
        out
    }
}

/// A diff gathered one event at a time, so that neither run is held: each side's results
/// are counted as they come, and only changed events are kept.
#[derive(Debug, Clone)]
pub struct Builder {
    diff: FileDiff,
}

impl Builder {
    pub fn new(path: PathBuf, base: Side, new: Side) -> Builder {
        Builder {
            diff: FileDiff {
                path,
                events: 0,
                base,
                new,
                groups: Vec::new(),
                guards: Vec::new(),
            },
        }
    }

    /// A result of the run under the old rules.
    pub fn base(&mut self, r: &EventResult) {
        self.diff.base.counts.add(r);
    }

    /// A result of the run under the new rules.
    pub fn new_result(&mut self, r: &EventResult) {
        self.diff.new.counts.add(r);
        self.diff.events += 1;
    }

    /// An event whose new decision (`after`) is not the same decision as `before`.
    pub fn changed(&mut self, before: Verdict, after: EventResult) {
        let label = label(&before, &after.verdict);
        let change = Change {
            event: after,
            before,
        };
        match self.diff.groups.iter_mut().find(|g| g.label == label) {
            Some(g) => g.changes.push(change),
            None => self.diff.groups.push(Group {
                label,
                changes: vec![change],
            }),
        }
    }

    pub fn finish(self) -> FileDiff {
        let mut diff = self.diff;
        diff.groups.sort_by(|a, b| {
            b.changes
                .len()
                .cmp(&a.changes.len())
                .then_with(|| a.label.cmp(&b.label))
        });
        diff.guards = by_guard(&diff.groups);
        diff
    }
}

/// Compare two runs of the same scenario, event by event.
pub fn compare(base: &FileRun, new: &FileRun) -> FileDiff {
    let mut b = Builder::new(
        new.scenario.path.clone(),
        Side::new(base.rules_path.clone(), &base.rules),
        Side::new(new.rules_path.clone(), &new.rules),
    );
    for r in &base.results {
        b.base(r);
    }
    for (old, r) in base.results.iter().zip(&new.results) {
        b.new_result(r);
        if !old.verdict.same_decision(&r.verdict) {
            b.changed(old.verdict.clone(), r.clone());
        }
    }
    b.finish()
}

/// The changes a guard explains: sends it now stops that it did not, or no longer stops.
fn by_guard(groups: &[Group]) -> Vec<GuardChange> {
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
