//! Outcome diffs between two rule versions over the same events: every changed decision,
//! grouped by kind of change, and per-rule counts before and after.

mod render;

pub use render::{json, text, write_json, write_text};

use std::collections::{BTreeMap, BTreeSet};
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

/// Where a diff's changed events are kept until the report is written (in memory, or on
/// disk for a month of events): change `i` is the `i`th passed to [`Builder::changed`].
pub trait Changes: std::fmt::Debug {
    fn change(&self, i: u32) -> Option<Change>;
}

impl Changes for Vec<Change> {
    fn change(&self, i: u32) -> Option<Change> {
        self.get(i as usize).cloned()
    }
}

/// Changes of one kind (`insufficient_funds_email allow -> suppress`), by number.
#[derive(Debug, Clone)]
pub struct Group {
    pub label: String,
    pub changes: Vec<u32>,
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
#[derive(Debug)]
pub struct FileDiff {
    /// The scenario file.
    pub path: PathBuf,
    pub events: usize,
    pub base: Side,
    pub new: Side,
    pub groups: Vec<Group>,
    /// Changes by the guard that caused them: `newly stopped by cap marketing_per_day`.
    pub guards: Vec<GuardChange>,
    pub changes: Box<dyn Changes>,
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
/// are counted as they come, and each change is labelled and counted when it is met; the
/// caller keeps the changed events themselves (see [`Changes`]).
#[derive(Debug)]
pub struct Builder {
    path: PathBuf,
    events: usize,
    base: Side,
    new: Side,
    groups: Vec<Group>,
    /// Per guard label: the users and the number of events.
    guards: BTreeMap<String, (BTreeSet<Box<str>>, usize)>,
    changed: u32,
}

impl Builder {
    pub fn new(path: PathBuf, base: Side, new: Side) -> Builder {
        Builder {
            path,
            events: 0,
            base,
            new,
            groups: Vec::new(),
            guards: BTreeMap::new(),
            changed: 0,
        }
    }

    /// A result of the run under the old rules.
    pub fn base(&mut self, r: &EventResult) {
        self.base.counts.add(r);
    }

    /// A result of the run under the new rules.
    pub fn new_result(&mut self, r: &EventResult) {
        self.new.counts.add(r);
        self.events += 1;
    }

    /// An event whose new decision (`after`) is not the same decision as `before`: the next
    /// change, which the caller keeps.
    pub fn changed(&mut self, before: &Verdict, after: &EventResult) {
        let i = self.changed;
        self.changed += 1;
        let label = label(before, &after.verdict);
        match self.groups.iter_mut().find(|g| g.label == label) {
            Some(g) => g.changes.push(i),
            None => self.groups.push(Group {
                label,
                changes: vec![i],
            }),
        }
        if let Some(label) = guard_label(before, &after.verdict) {
            let entry = self.guards.entry(label).or_default();
            if !entry.0.contains(&after.user_id) {
                entry.0.insert(after.user_id.clone());
            }
            entry.1 += 1;
        }
    }

    pub fn finish(self, changes: Box<dyn Changes>) -> FileDiff {
        let mut groups = self.groups;
        groups.sort_by(|a, b| {
            b.changes
                .len()
                .cmp(&a.changes.len())
                .then_with(|| a.label.cmp(&b.label))
        });
        let mut guards: Vec<GuardChange> = self
            .guards
            .into_iter()
            .map(|(label, (users, events))| GuardChange {
                label,
                users: users.len(),
                events,
            })
            .collect();
        guards.sort_by(|a, b| b.users.cmp(&a.users).then_with(|| a.label.cmp(&b.label)));
        FileDiff {
            path: self.path,
            events: self.events,
            base: self.base,
            new: self.new,
            groups,
            guards,
            changes,
        }
    }
}

/// Compare two runs of the same scenario, event by event, holding the changes in memory.
pub fn compare(base: &FileRun, new: &FileRun) -> FileDiff {
    let mut b = Builder::new(
        new.scenario.path.clone(),
        Side::new(base.rules_path.clone(), &base.rules),
        Side::new(new.rules_path.clone(), &new.rules),
    );
    for r in &base.results {
        b.base(r);
    }
    let mut changes = Vec::new();
    for (old, r) in base.results.iter().zip(&new.results) {
        b.new_result(r);
        if !old.verdict.same_decision(&r.verdict) {
            b.changed(&old.verdict, r);
            changes.push(Change {
                event: r.clone(),
                before: old.verdict.clone(),
            });
        }
    }
    b.finish(Box::new(changes))
}

/// The guard a change is down to: sends it now stops that it did not, or no longer stops.
fn guard_label(before: &Verdict, after: &Verdict) -> Option<String> {
    let (before, after) = (before.stopped_by(), after.stopped_by());
    if before == after {
        return None;
    }
    match (after, before) {
        (Some(g), _) if g.starts_with("cap ") => Some(format!("newly capped by {}", &g[4..])),
        (Some(g), _) => Some(format!("newly stopped by {g}")),
        (None, Some(g)) => Some(format!("no longer stopped by {g}")),
        (None, None) => None,
    }
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
