//! The text report: each failed expectation on one line, a per-rule table, `N passed, M failed`.

use std::fmt::Write;

use super::{
    Options, column_width, coverage_text, event_label, failure_line, mismatch_text, totals,
};
use crate::results::{FileRun, coverage, rule_stats};

pub fn text(runs: &[FileRun], opts: &Options) -> String {
    let mut out = String::new();
    for run in runs {
        let path = run.scenario.path.display();
        let expected = run
            .results
            .iter()
            .filter(|r| r.mismatches.is_some())
            .count();
        let _ = writeln!(
            out,
            "{path}: {} events, {expected} with expectations (rules {})",
            run.results.len(),
            run.rules_path.display()
        );
        for r in run.results.iter().filter(|r| r.passed() == Some(false)) {
            let _ = writeln!(
                out,
                "{path}:{}: {}: {} — {}",
                failure_line(r),
                event_label(r),
                mismatch_text(r),
                r.verdict.reason
            );
        }
        let (stats, unmatched) = rule_stats(&run.rules, &run.results);
        let width = column_width(stats.iter().map(|s| s.rule.chars().count()), 17);
        let _ = writeln!(
            out,
            "  {:width$}  {:>7}  {:>7}  {:>10}  {:>7}  {:>8}",
            "rule", "matched", "allowed", "suppressed", "alerted", "shadowed"
        );
        for s in &stats {
            let name = if s.enabled {
                s.rule.to_string()
            } else {
                format!("{} (disabled)", s.rule)
            };
            let _ = writeln!(
                out,
                "  {:width$}  {:>7}  {:>7}  {:>10}  {:>7}  {:>8}",
                name, s.matched, s.allowed, s.suppressed, s.alerted, s.shadowed
            );
        }
        let _ = writeln!(out, "  {:width$}  {:>7}", "(no rule matched)", unmatched);
    }
    for c in coverage(runs) {
        let _ = writeln!(out, "coverage {}", coverage_text(&c, opts));
    }
    let (passed, failed) = totals(runs);
    let _ = writeln!(out, "{passed} passed, {failed} failed");
    out
}
