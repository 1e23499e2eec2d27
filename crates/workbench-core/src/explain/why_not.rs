//! Why-not: for one user and one template (or rule), what that rule said at each of the user's
//! events: a trigger miss, the first failing condition with the value seen, the rule that won
//! first, the suppression or guard that stopped the send, or the delivery.

use std::collections::BTreeSet;

use super::hours_apart;
use super::text::{Line, Span, Style};
use crate::engine::{CondTrace, Role, Trace};
use crate::event::format_ts;
use crate::results::EventResult;
use crate::rules::{Rule, RuleSet};
use crate::yaml::suggest::closest;

/// What the user asked about: a rule by name, or every rule that sends a template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub label: String,
    /// Indexes of the rules it covers, in file order (never empty).
    pub rules: Vec<usize>,
    pub template: Option<String>,
}

impl Target {
    /// A rule name wins over a template name; a template covers every rule that uses it.
    pub fn resolve(rules: &RuleSet, wanted: &str) -> Result<Target, String> {
        let wanted = wanted.trim();
        if let Some(i) = rules.rules.iter().position(|r| &*r.name == wanted) {
            return Ok(Target {
                label: format!("rule {wanted}"),
                rules: vec![i],
                template: None,
            });
        }
        let using: Vec<usize> = (0..rules.rules.len())
            .filter(|&i| &*rules.rules[i].action.template == wanted)
            .collect();
        if !using.is_empty() {
            return Ok(Target {
                label: format!("template {wanted}"),
                rules: using,
                template: Some(wanted.to_string()),
            });
        }
        let names: BTreeSet<&str> = rules
            .rules
            .iter()
            .flat_map(|r| [&*r.name, &*r.action.template])
            .collect();
        let hint = closest(wanted, names.iter().copied())
            .map(|c| format!("; did you mean `{c}`?"))
            .unwrap_or_default();
        Err(format!("no rule or template `{wanted}`{hint}"))
    }

    /// Whether an event of type `event_type` needs its trace re-decided to answer (some
    /// enabled rule of the target is triggered by it); otherwise the answer is a miss.
    pub fn needs_trace(&self, rules: &RuleSet, event_type: &str) -> bool {
        self.rules.iter().any(|&i| {
            let r = &rules.rules[i];
            r.enabled && r.trigger == event_type
        })
    }

    /// Whether `row`'s answer needs its trace: its trigger fired and no rule of the target
    /// decided it (the verdict alone explains those).
    pub fn needs_trace_for(&self, rules: &RuleSet, row: &EventResult) -> bool {
        self.needs_trace(rules, &row.event_type) && self.decider(rules, row).is_none()
    }

    /// The rule of the target that decided `row`, if one did.
    fn decider<'r>(&self, rules: &'r RuleSet, row: &EventResult) -> Option<&'r Rule> {
        let name = row.verdict.matched_rule.as_deref()?;
        self.rules
            .iter()
            .map(|&i| &rules.rules[i])
            .find(|r| &*r.name == name)
    }
}

/// What the target said at one event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Answer {
    Delivered,
    Scheduled,
    /// A suppression or a guard stopped the target's send.
    Stopped,
    /// Matched, but an earlier rule won.
    Shadowed,
    ConditionFailed,
    TriggerMiss,
    Disabled,
}

impl Answer {
    /// The target's trigger fired and it still did not send: where the answer is sought.
    pub fn is_miss(self) -> bool {
        matches!(
            self,
            Answer::Stopped | Answer::Shadowed | Answer::ConditionFailed
        )
    }

    fn label(self) -> &'static str {
        match self {
            Answer::Delivered => "delivered",
            Answer::Scheduled => "scheduled",
            Answer::Stopped => "stopped",
            Answer::Shadowed => "shadowed",
            Answer::ConditionFailed => "conditions failed",
            Answer::TriggerMiss => "trigger missed",
            Answer::Disabled => "disabled",
        }
    }

    /// How the summary counts it: `2 missed the trigger`.
    fn counted(self) -> &'static str {
        match self {
            Answer::Delivered => "delivered",
            Answer::Scheduled => "scheduled",
            Answer::Stopped => "stopped by a guard or suppression",
            Answer::Shadowed => "shadowed by an earlier rule",
            Answer::ConditionFailed => "failed the conditions",
            Answer::TriggerMiss => "missed the trigger",
            Answer::Disabled => "disabled",
        }
    }

    fn style(self) -> Style {
        match self {
            Answer::Delivered | Answer::Scheduled => Style::Pass,
            Answer::Stopped | Answer::ConditionFailed => Style::Fail,
            Answer::Shadowed => Style::Shadowed,
            Answer::TriggerMiss | Answer::Disabled => Style::Dim,
        }
    }

    fn symbol(self) -> &'static str {
        match self {
            Answer::Delivered => "✓",
            Answer::Scheduled => "◷",
            Answer::Stopped => "✗",
            Answer::Shadowed => "◐",
            Answer::ConditionFailed => "✗",
            Answer::TriggerMiss | Answer::Disabled => "·",
        }
    }
}

/// The answer for `row` and its one-line explanation. `trace` is the row's re-decided trace,
/// needed only when `target.needs_trace` says so.
pub fn answer(
    rules: &RuleSet,
    target: &Target,
    row: &EventResult,
    trace: Option<&Trace<'_>>,
) -> (Answer, String) {
    let v = &row.verdict;
    let rule = |i: usize| &rules.rules[i];
    if let Some(r) = target.decider(rules, row) {
        if row.replayed {
            return (
                Answer::Stopped,
                format!("a replay of event #{}: nothing new is sent", row.event_id),
            );
        }
        return if v.scheduled() {
            let at = v.deliver_at.map(format_ts).unwrap_or_default();
            (
                Answer::Scheduled,
                format!("{} won; held by quiet hours until {at}", r.name),
            )
        } else if v.delivers() {
            (
                Answer::Delivered,
                format!(
                    "{} won: {} by {}",
                    r.name, r.action.template, r.action.channel
                ),
            )
        } else {
            (
                Answer::Stopped,
                format!("{} won, then {}: {}", r.name, v.reason_code, v.reason),
            )
        };
    }
    let triggered: Vec<usize> = target
        .rules
        .iter()
        .copied()
        .filter(|&i| rule(i).trigger == *row.event_type)
        .collect();
    let Some(&first) = triggered.first() else {
        let wants: BTreeSet<&str> = target
            .rules
            .iter()
            .map(|&i| rule(i).trigger.as_str())
            .collect();
        let wants: Vec<&str> = wants.into_iter().collect();
        return (
            Answer::TriggerMiss,
            format!("trigger wants {}", wants.join(" or ")),
        );
    };
    let enabled: Vec<usize> = triggered
        .iter()
        .copied()
        .filter(|&i| rule(i).enabled)
        .collect();
    let Some(&first_enabled) = enabled.first() else {
        return (
            Answer::Disabled,
            format!("{} is disabled", rule(first).name),
        );
    };
    let Some(trace) = trace else {
        return (
            Answer::ConditionFailed,
            format!("{}: no trace", rule(first_enabled).name),
        );
    };
    let traced = |i: usize| trace.rules.iter().find(|t| t.rule == i);
    if let Some(&i) = enabled
        .iter()
        .find(|&&i| traced(i).is_some_and(|t| t.role == Role::Shadowed))
    {
        let winner = trace.winner().map_or("an earlier rule", |w| w.name);
        return (
            Answer::Shadowed,
            format!(
                "{} matched, but {winner} won first ({}: {})",
                rule(i).name,
                v.outcome,
                v.reason_code
            ),
        );
    }
    let r: &Rule = rule(first_enabled);
    let why = traced(first_enabled)
        .and_then(|t| t.condition.as_ref())
        .map_or_else(|| "did not match".to_string(), first_failure);
    (Answer::ConditionFailed, format!("{}: {why}", r.name))
}

/// The first condition that failed, with what it saw.
fn first_failure(c: &CondTrace<'_>) -> String {
    match c {
        CondTrace::Field { test, actual, .. } => format!("{test} failed, saw {actual}"),
        CondTrace::Prior {
            test,
            found,
            hours_between,
            ..
        } => match (found, hours_between) {
            (Some(p), Some(h)) => format!(
                "{test} failed, found event #{} {}",
                p.event_id,
                hours_apart(*h, "this one")
            ),
            _ => format!("{test} failed, none found"),
        },
        CondTrace::All(kids, _) => kids
            .iter()
            .find(|k| !k.result())
            .map_or_else(|| "all of: failed".to_string(), first_failure),
        CondTrace::Any(kids, _) => match kids.first() {
            Some(k) if kids.len() == 1 => first_failure(k),
            Some(k) => format!("none of {} held; first: {}", kids.len(), first_failure(k)),
            None => "any of nothing".to_string(),
        },
        CondTrace::Not(kid, _) => format!("not: {} held", describe(kid)),
    }
}

fn describe(c: &CondTrace<'_>) -> String {
    match c {
        CondTrace::Field { test, actual, .. } => format!("{test} (saw {actual})"),
        CondTrace::Prior { test, .. } => test.to_string(),
        CondTrace::All(k, _) => format!("all of {}", k.len()),
        CondTrace::Any(k, _) => format!("any of {}", k.len()),
        CondTrace::Not(k, _) => format!("not {}", describe(k)),
    }
}

/// One event's line: its id, time and type, then the answer.
pub fn line(row: &EventResult, answer: Answer, why: &str) -> Line {
    Line::new(vec![
        Span::styled(
            format!(
                "#{:<5} {}  {:<20} ",
                row.event_id,
                format_ts(row.event_timestamp),
                &*row.event_type
            ),
            Style::Dim,
        ),
        Span::styled(
            format!("{} {:<17}", answer.symbol(), answer.label()),
            answer.style(),
        ),
        Span::plain(format!(" {why}")),
    ])
}

/// The heading: who, what, and how many events got each answer.
pub fn summary(user: &str, target: &Target, answers: &[Answer]) -> Line {
    let mut counts: Vec<(Answer, usize)> = Vec::new();
    for &a in answers {
        match counts.iter_mut().find(|(x, _)| *x == a) {
            Some((_, n)) => *n += 1,
            None => counts.push((a, 1)),
        }
    }
    counts.sort();
    let mut spans = vec![Span::plain(format!(
        "why not {} for {user}: {} event{}",
        target.label,
        answers.len(),
        if answers.len() == 1 { "" } else { "s" }
    ))];
    for (i, (a, n)) in counts.into_iter().enumerate() {
        spans.push(Span::plain(if i == 0 { ": " } else { ", " }));
        spans.push(Span::styled(format!("{n} {}", a.counted()), a.style()));
    }
    Line::new(spans)
}

#[cfg(test)]
#[path = "why_not_tests.rs"]
mod tests;
