//! The text report: each failed expectation on one line, a per-rule table, `N passed, M failed`.

use std::fmt::Write;

use super::{
    Options, column_width, coverage_text, event_label, failure_line, mismatch_text, quiet_note,
    totals,
};
use crate::results::{FileRun, coverage, guard_stops, rule_stats};

/// The most held or dropped decisions listed per file; the JSON report has them all.
pub const MAX_QUIET: usize = 20;

/// The decisions quiet hours held or dropped, after a count of each: `  late cart: allow
/// scheduled → 2025-03-30T06:00:00Z`. Nothing when there are none.
fn quiet_hours(out: &mut String, run: &FileRun) {
    let noted: Vec<_> = run
        .results
        .iter()
        .filter_map(|r| Some((r, quiet_note(&r.verdict)?)))
        .collect();
    if noted.is_empty() {
        return;
    }
    let held = noted.iter().filter(|(r, _)| r.verdict.scheduled()).count();
    let _ = writeln!(
        out,
        "  quiet hours: {held} held, {} dropped",
        noted.len() - held
    );
    for (r, note) in noted.iter().take(MAX_QUIET) {
        let _ = writeln!(out, "    {}: {}  {note}", event_label(r), r.verdict.outcome);
    }
    if noted.len() > MAX_QUIET {
        let _ = writeln!(
            out,
            "    … and {} more (every decision is in --format json)",
            noted.len() - MAX_QUIET
        );
    }
}

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
        quiet_hours(&mut out, run);
        let stops = guard_stops(&run.results);
        if !stops.is_empty() {
            let list: Vec<String> = stops.iter().map(|(g, n)| format!("{g} {n}")).collect();
            let _ = writeln!(out, "  sends stopped by: {}", list.join(", "));
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
