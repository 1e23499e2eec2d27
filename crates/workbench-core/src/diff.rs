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
    FileDiff { base, new, groups }
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
