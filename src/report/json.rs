//! The JSON report: every decision of every file, with expectation results, and a summary.

use serde::Serialize;

use super::{Options, totals};
use crate::engine::Verdict;
use crate::event::format_ts;
use crate::pipeline::DeliveryStatus;
use crate::results::{
    Coverage, EventResult, FileRun, RuleStats, coverage, guard_stops, rule_stats,
};
use crate::scenario::Mismatch;

#[derive(Serialize)]
struct Report<'a> {
    files: Vec<File<'a>>,
    coverage: Vec<CoverageEntry>,
    summary: Summary,
}

#[derive(Serialize)]
struct CoverageEntry {
    #[serde(flatten)]
    coverage: Coverage,
    percent: f64,
    passed: bool,
}

#[derive(Serialize)]
struct File<'a> {
    name: String,
    path: String,
    rules: String,
    decisions: Vec<Decision<'a>>,
    rule_stats: Vec<RuleStats>,
    unmatched: usize,
    /// How often each guard stopped a send.
    guard_stops: Vec<GuardStop>,
}

#[derive(Serialize)]
struct GuardStop {
    guard: String,
    stopped: usize,
}

#[derive(Serialize)]
struct Decision<'a> {
    index: u32,
    line: u32,
    event_id: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<&'a str>,
    user_id: &'a str,
    event_type: &'a str,
    event_timestamp: String,
    #[serde(flatten)]
    verdict: &'a Verdict,
    /// `delivered` once its line is written (every line, when a run has finished), null for
    /// a decision that delivers nothing.
    delivery_status: Option<DeliveryStatus>,
    /// A replay of an earlier event's idempotency key: the original's decision and event id.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    replayed: bool,
    expectation: Option<&'static str>,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    mismatches: &'a [Mismatch],
}

#[derive(Serialize)]
struct Summary {
    files: usize,
    events: usize,
    passed: usize,
    failed: usize,
}

/// Where a decision's message stands at the end of the run: written, or (were the run cut
/// short) still held or waiting.
fn delivery_status(r: &EventResult) -> Option<DeliveryStatus> {
    if r.replayed {
        // Its line is the original's, reported with the original.
        return None;
    }
    match (r.verdict.delivers(), r.written_at, r.verdict.scheduled()) {
        (false, _, _) => None,
        (true, Some(_), _) => Some(DeliveryStatus::Delivered),
        (true, None, true) => Some(DeliveryStatus::Scheduled),
        (true, None, false) => Some(DeliveryStatus::Pending),
    }
}

pub fn json(runs: &[FileRun], opts: &Options) -> String {
    let files = runs
        .iter()
        .map(|run| {
            let (rule_stats, unmatched) = rule_stats(&run.rules, &run.results);
            File {
                name: run.scenario.display_name(),
                path: run.scenario.path.display().to_string(),
                rules: run.rules_path.display().to_string(),
                decisions: run
                    .results
                    .iter()
                    .map(|r| Decision {
                        index: r.step + 1,
                        line: r.line,
                        event_id: r.event_id,
                        name: r.name.as_deref(),
                        user_id: &r.user_id,
                        event_type: &r.event_type,
                        event_timestamp: format_ts(r.event_timestamp),
                        verdict: &r.verdict,
                        delivery_status: delivery_status(r),
                        replayed: r.replayed,
                        expectation: r.passed().map(|ok| if ok { "passed" } else { "failed" }),
                        mismatches: r.mismatches.as_deref().unwrap_or_default(),
                    })
                    .collect(),
                rule_stats,
                unmatched,
                guard_stops: guard_stops(&run.results)
                    .into_iter()
                    .map(|(guard, stopped)| GuardStop { guard, stopped })
                    .collect(),
            }
        })
        .collect();
    let (passed, failed) = totals(runs);
    let coverage = coverage(runs)
        .into_iter()
        .map(|c| CoverageEntry {
            percent: (c.percent() * 10.0).round() / 10.0,
            passed: !opts.coverage_fails(&c),
            coverage: c,
        })
        .collect();
    let report = Report {
        files,
        coverage,
        summary: Summary {
            files: runs.len(),
            events: runs.iter().map(|r| r.results.len()).sum(),
            passed,
            failed,
        },
    };
    let mut s = serde_json::to_string_pretty(&report).expect("report serialises");
    s.push('\n');
    s
}
