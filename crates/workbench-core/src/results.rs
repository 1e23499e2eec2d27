//! What running scenarios produced, independent of how they ran: each event's result with its
//! expectation checks, one file's run, counts per outcome and per rule, and rule coverage.

use std::path::PathBuf;
use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::engine::{Outcome, Verdict};
use crate::rules::RuleSet;
use crate::scenario::{Mismatch, Scenario};

/// The result of one scenario event, with just enough of the event to report it.
#[derive(Debug, Clone, PartialEq)]
pub struct EventResult {
    /// 0-based position in the scenario.
    pub step: u32,
    /// The event's first line in the scenario file.
    pub line: u32,
    /// The event's `name:` in the scenario.
    pub name: Option<Box<str>>,
    pub user_id: Box<str>,
    /// Shared between events of one type.
    pub event_type: Arc<str>,
    pub event_timestamp: DateTime<Utc>,
    pub event_id: i64,
    pub verdict: Verdict,
    /// `None` when the event has no expectation.
    pub mismatches: Option<Vec<Mismatch>>,
    /// Rules (indexes into the rule set) that also matched but lost to the winner.
    pub shadowed: Box<[u16]>,
    /// For a delivery: the step at which its `messages.txt` line was written (its own for
    /// an immediate one; for a scheduled one, the step whose arrival moved the simulated
    /// clock past `deliver_at`, or the number of steps when the scenario's end did).
    pub written_at: Option<u32>,
    /// A replay of an earlier event's idempotency key (SPEC §7.6): `event_id` and the verdict
    /// are the original's, and it wrote no line of its own (`written_at` is `None`).
    pub replayed: bool,
}

impl EventResult {
    pub fn passed(&self) -> Option<bool> {
        self.mismatches.as_ref().map(Vec::is_empty)
    }
}

/// One scenario file run against one rules file.
#[derive(Debug, Clone)]
pub struct FileRun {
    pub scenario: Scenario,
    pub rules_path: PathBuf,
    pub rules: std::sync::Arc<RuleSet>,
    pub results: Vec<EventResult>,
}

/// Decisions per outcome.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OutcomeCounts {
    pub allow: usize,
    pub suppress: usize,
    pub alert: usize,
    pub none: usize,
}

impl OutcomeCounts {
    fn slot(&mut self, o: Outcome) -> &mut usize {
        match o {
            Outcome::Allow => &mut self.allow,
            Outcome::Suppress => &mut self.suppress,
            Outcome::Alert => &mut self.alert,
            Outcome::None => &mut self.none,
        }
    }

    pub fn add(&mut self, o: Outcome) {
        *self.slot(o) += 1;
    }

    pub fn get(&self, o: Outcome) -> usize {
        match o {
            Outcome::Allow => self.allow,
            Outcome::Suppress => self.suppress,
            Outcome::Alert => self.alert,
            Outcome::None => self.none,
        }
    }
}

/// Per-rule counts over a run, in rule order.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct RuleStats {
    pub rule: Arc<str>,
    pub enabled: bool,
    pub matched: usize,
    pub allowed: usize,
    pub suppressed: usize,
    pub alerted: usize,
    /// Events where it also matched but an earlier rule won.
    pub shadowed: usize,
}

/// Per-rule counts and the number of events no rule matched.
pub fn rule_stats(rules: &RuleSet, results: &[EventResult]) -> (Vec<RuleStats>, usize) {
    let mut counts = RuleCounts::new(rules);
    for r in results {
        counts.add(r);
    }
    (counts.stats, counts.unmatched)
}

/// Per-rule counts gathered one result at a time (what [`rule_stats`] returns).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RuleCounts {
    pub stats: Vec<RuleStats>,
    pub unmatched: usize,
}

impl RuleCounts {
    pub fn new(rules: &RuleSet) -> RuleCounts {
        RuleCounts {
            stats: rules
                .rules
                .iter()
                .map(|r| RuleStats {
                    rule: r.name.clone(),
                    enabled: r.enabled,
                    ..RuleStats::default()
                })
                .collect(),
            unmatched: 0,
        }
    }

    pub fn add(&mut self, r: &EventResult) {
        for &i in &r.shadowed {
            if let Some(s) = self.stats.get_mut(i as usize) {
                s.shadowed += 1;
            }
        }
        let Some(name) = &r.verdict.matched_rule else {
            self.unmatched += 1;
            return;
        };
        let Some(s) = self.stats.iter_mut().find(|s| s.rule == *name) else {
            return;
        };
        s.matched += 1;
        match r.verdict.outcome {
            Outcome::Allow => s.allowed += 1,
            Outcome::Suppress => s.suppressed += 1,
            Outcome::Alert => s.alerted += 1,
            Outcome::None => {}
        }
    }
}

/// Rule coverage over every run that used one rules file.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Coverage {
    pub rules: String,
    pub enabled: usize,
    pub matched: usize,
    /// Enabled rules that never matched, with their line in the rules file.
    pub never_matched: Vec<(String, Option<usize>)>,
}

impl Coverage {
    pub fn percent(&self) -> f64 {
        if self.enabled == 0 {
            100.0
        } else {
            // Rule counts are far below 2^52: exact as f64.
            #[allow(clippy::cast_precision_loss)]
            let (m, e) = (self.matched as f64, self.enabled as f64);
            100.0 * m / e
        }
    }
}

/// How often each guard stopped a send, in SPEC §7.3's order (caps by name, in the order
/// first met): `[("consent", 3), ("once_ever", 4), ("cap marketing_per_day", 2)]`.
pub fn guard_stops(results: &[EventResult]) -> Vec<(String, usize)> {
    let mut stops = GuardStops::default();
    for r in results {
        stops.add(r);
    }
    stops.sorted()
}

/// Guard stops gathered one result at a time (what [`guard_stops`] returns).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GuardStops(Vec<(String, usize)>);

impl GuardStops {
    pub fn add(&mut self, r: &EventResult) {
        let Some(g) = r.verdict.stopped_by() else {
            return;
        };
        match self.0.iter_mut().find(|(name, _)| *name == g) {
            Some((_, n)) => *n += 1,
            None => self.0.push((g, 1)),
        }
    }

    /// In SPEC §7.3's order; within a rank, in the order first met.
    pub fn sorted(&self) -> Vec<(String, usize)> {
        let rank = |g: &str| match g {
            "consent" => 0,
            "holdout" => 1,
            "once_ever" | "once_per_calendar_day" => 2,
            g if g.starts_with("cap ") => 3,
            "template" => 4,
            _ => 5,
        };
        let mut out = self.0.clone();
        out.sort_by_key(|(g, _)| rank(g));
        out
    }
}

/// Coverage per rules file, in the order the files were first used.
pub fn coverage(runs: &[FileRun]) -> Vec<Coverage> {
    let stats: Vec<Vec<RuleStats>> = runs
        .iter()
        .map(|run| rule_stats(&run.rules, &run.results).0)
        .collect();
    coverage_of(
        runs.iter()
            .zip(&stats)
            .map(|(run, s)| (run.rules_path.as_path(), &run.rules, s.as_slice())),
    )
}

/// Coverage per rules file from each run's rules file, rules and per-rule counts.
pub fn coverage_of<'a>(
    runs: impl Iterator<Item = (&'a std::path::Path, &'a Arc<RuleSet>, &'a [RuleStats])>,
) -> Vec<Coverage> {
    let mut out: Vec<(PathBuf, Vec<bool>, Arc<RuleSet>)> = Vec::new();
    for (rules_path, rules, stats) in runs {
        let i = if let Some(i) = out.iter().position(|(p, _, _)| p == rules_path) {
            i
        } else {
            out.push((
                rules_path.to_path_buf(),
                vec![false; rules.rules.len()],
                rules.clone(),
            ));
            out.len() - 1
        };
        for (seen, s) in out[i].1.iter_mut().zip(stats) {
            *seen |= s.matched > 0;
        }
    }
    out.into_iter()
        .map(|(path, seen, rules)| {
            let enabled: Vec<_> = rules
                .rules
                .iter()
                .zip(&seen)
                .filter(|(r, _)| r.enabled)
                .collect();
            Coverage {
                rules: path.display().to_string(),
                enabled: enabled.len(),
                matched: enabled.iter().filter(|(_, s)| **s).count(),
                never_matched: enabled
                    .iter()
                    .filter(|(_, s)| !**s)
                    .map(|(r, _)| (r.name.to_string(), r.pos.map(|p| p.line)))
                    .collect(),
            }
        })
        .collect()
}

/// The widest a name column gets; longer names overflow their row instead of widening every
/// row (and a runtime width never nears `fmt`'s limit of `u16::MAX`).
pub const MAX_COLUMN: usize = 60;

/// The width of a column holding names of these lengths (in characters): at least `min`, at
/// most [`MAX_COLUMN`].
pub fn column_width(lengths: impl Iterator<Item = usize>, min: usize) -> usize {
    lengths.max().unwrap_or(0).clamp(min, MAX_COLUMN.max(min))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcome_counts_are_kept_by_outcome() {
        let mut c = OutcomeCounts::default();
        for o in [
            Outcome::Alert,
            Outcome::None,
            Outcome::Alert,
            Outcome::Suppress,
        ] {
            c.add(o);
        }
        let want = OutcomeCounts {
            allow: 0,
            suppress: 1,
            alert: 2,
            none: 1,
        };
        assert_eq!(c, want);
        assert_eq!(c.get(Outcome::Alert), 2);
        assert_eq!(c.get(Outcome::Allow), 0);
    }
}
