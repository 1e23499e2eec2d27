//! The JSON report: every decision of every file, with expectation results, and a summary.
//! Written as a stream: each decision is rendered on its own (in memory, or as a run decides
//! it into a spill file), then spliced into the pretty-printed rest of the report.

use std::io::{self, Write};

use serde::Serialize;

use super::tally::{Decisions, FileReport};
use super::{Options, coverage_of, totals_of};
use crate::engine::Verdict;
use crate::event::format_ts;
use crate::pipeline::DeliveryStatus;
use crate::results::{Coverage, EventResult, FileRun, RuleStats};
use crate::scenario::Mismatch;

#[derive(Serialize)]
struct Report {
    files: Vec<File>,
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

/// A file's entry; `decisions` is always written empty here and spliced in afterwards.
#[derive(Serialize)]
struct File {
    name: String,
    path: String,
    rules: String,
    decisions: [(); 0],
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

/// A file's empty `decisions` key as the printer writes it: once per file, in order (a
/// string holding these characters has its quotes escaped, so it never matches).
const EMPTY: &str = "\"decisions\": []";

/// The indentation of a decision inside the report (report, files, file, decisions).
const INDENT: &str = "\n        ";

/// Append `r` to `out` as an element of a file's `decisions` array, exactly as the pretty
/// printer writes it there; `first` is whether it is the array's first element.
pub(crate) fn render_decision(out: &mut Vec<u8>, r: &EventResult, first: bool) {
    let d = Decision {
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
    };
    let text = serde_json::to_string_pretty(&d).expect("decision serialises");
    if !first {
        out.push(b',');
    }
    // JSON strings hold no raw newline: every newline is the printer's.
    for line in text.split('\n') {
        out.extend_from_slice(INDENT.as_bytes());
        out.extend_from_slice(line.as_bytes());
    }
}

/// The JSON report of runs whose results are in memory.
pub fn json(runs: &[FileRun], opts: &Options) -> String {
    let files: Vec<FileReport<'_>> = runs.iter().map(FileReport::of).collect();
    let mut out = Vec::new();
    json_to(&mut out, &files, opts).expect("writing to memory");
    String::from_utf8(out).expect("the report is UTF-8")
}

/// Write the JSON report of `files` to `out`.
pub fn json_to(out: &mut impl Write, files: &[FileReport<'_>], opts: &Options) -> io::Result<()> {
    let entries = files
        .iter()
        .map(|f| File {
            name: f.scenario.display_name(),
            path: f.scenario.path.display().to_string(),
            rules: f.rules_path.display().to_string(),
            decisions: [],
            rule_stats: f.tally.rules.stats.clone(),
            unmatched: f.tally.rules.unmatched,
            guard_stops: f
                .tally
                .stops
                .sorted()
                .into_iter()
                .map(|(guard, stopped)| GuardStop { guard, stopped })
                .collect(),
        })
        .collect();
    let (passed, failed) = totals_of(files);
    let coverage = coverage_of(files)
        .into_iter()
        .map(|c| CoverageEntry {
            percent: (c.percent() * 10.0).round() / 10.0,
            passed: !opts.coverage_fails(&c),
            coverage: c,
        })
        .collect();
    let report = Report {
        files: entries,
        coverage,
        summary: Summary {
            files: files.len(),
            events: files.iter().map(|f| f.tally.events).sum(),
            passed,
            failed,
        },
    };
    let text = serde_json::to_string_pretty(&report).expect("report serialises");
    let mut rest = text.as_str();
    for f in files {
        let Some(at) = rest.find(EMPTY) else { break };
        let (before, after) = rest.split_at(at + EMPTY.len() - 1);
        out.write_all(before.as_bytes())?;
        if decisions(out, f.decisions)? {
            out.write_all(b"\n      ")?;
        }
        rest = after;
    }
    out.write_all(rest.as_bytes())?;
    out.write_all(b"\n")
}

/// Write a file's decision elements; whether there were any.
fn decisions(out: &mut impl Write, d: Decisions<'_>) -> io::Result<bool> {
    match d {
        Decisions::Results(results) => {
            let mut buf = Vec::new();
            for (i, r) in results.iter().enumerate() {
                render_decision(&mut buf, r, i == 0);
                if buf.len() > 1 << 16 {
                    out.write_all(&buf)?;
                    buf.clear();
                }
            }
            out.write_all(&buf)?;
            Ok(!results.is_empty())
        }
        Decisions::Rendered(path) => {
            let mut file = std::fs::File::open(path)?;
            Ok(io::copy(&mut file, out)? > 0)
        }
        Decisions::None => Ok(false),
    }
}
