//! The text report: each failed expectation on one line, a per-rule table, `N passed, M failed`.

use std::fmt::Write;

use super::tally::FileReport;
use super::{
    Options, column_width, coverage_of, coverage_text, event_label, failure_line, mismatch_text,
    quiet_note, totals_of,
};
use crate::results::FileRun;

/// The most held or dropped decisions listed per file; the JSON report has them all.
pub const MAX_QUIET: usize = 20;

/// The decisions quiet hours held or dropped, after a count of each: `  late cart: allow
/// scheduled → 2025-03-30T06:00:00Z`. Nothing when there are none.
fn quiet_hours(out: &mut String, run: &FileReport<'_>) {
    let t = &run.tally;
    let noted = t.held + t.dropped;
    if noted == 0 {
        return;
    }
    let _ = writeln!(out, "  quiet hours: {} held, {} dropped", t.held, t.dropped);
    for r in &t.quiet {
        let note = quiet_note(&r.verdict).unwrap_or_default();
        let _ = writeln!(out, "    {}: {}  {note}", event_label(r), r.verdict.outcome);
    }
    if noted > MAX_QUIET {
        let _ = writeln!(
            out,
            "    … and {} more (every decision is in --format json)",
            noted - MAX_QUIET
        );
    }
}

/// The text report of runs whose results are in memory.
pub fn text(runs: &[FileRun], opts: &Options) -> String {
    let files: Vec<FileReport<'_>> = runs.iter().map(FileReport::of).collect();
    text_of(&files, opts)
}

/// The text report of tallied runs.
pub fn text_of(runs: &[FileReport<'_>], opts: &Options) -> String {
    let mut out = String::new();
    for run in runs {
        let path = run.scenario.path.display();
        let _ = writeln!(
            out,
            "{path}: {} events, {} with expectations (rules {})",
            run.tally.events,
            run.tally.expected,
            run.rules_path.display()
        );
        for r in run
            .tally
            .listed
            .iter()
            .filter(|r| r.passed() == Some(false))
        {
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
        let stops = run.tally.stops.sorted();
        if !stops.is_empty() {
            let list: Vec<String> = stops.iter().map(|(g, n)| format!("{g} {n}")).collect();
            let _ = writeln!(out, "  sends stopped by: {}", list.join(", "));
        }
        let (stats, unmatched) = (&run.tally.rules.stats, run.tally.rules.unmatched);
        let width = column_width(stats.iter().map(|s| s.rule.chars().count()), 17);
        let _ = writeln!(
            out,
            "  {:width$}  {:>7}  {:>7}  {:>10}  {:>7}  {:>8}",
            "rule", "matched", "allowed", "suppressed", "alerted", "shadowed"
        );
        for s in stats {
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
    for c in coverage_of(runs) {
        let _ = writeln!(out, "coverage {}", coverage_text(&c, opts));
    }
    let (passed, failed) = totals_of(runs);
    let _ = writeln!(out, "{passed} passed, {failed} failed");
    out
}
