//! Reports of scenario runs: text for people, JSON for machines, JUnit XML for CI.

mod collect;
mod json;
mod junit;
mod tally;
mod text;

pub use collect::Collector;
pub use json::{json, json_to};
pub use junit::{junit, junit_of};
pub use tally::{Decisions, FileReport, Tally};
pub use text::{text, text_of};

use crate::engine::{ReasonCode, Verdict};
use crate::results::{Coverage, EventResult, FileRun};
use crate::scenario::Mismatch;
use std::fmt::Write as _;

/// What a report needs besides the runs.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// `--min-coverage`: the share (percent) of enabled rules that must match at least once.
    pub min_coverage: Option<f64>,
}

impl Options {
    pub fn coverage_fails(&self, c: &Coverage) -> bool {
        self.min_coverage.is_some_and(|min| c.percent() < min)
    }
}

/// `rules/rules.yaml: 3 of 4 enabled rules matched; never matched: x (line 53)`.
pub fn coverage_text(c: &Coverage, opts: &Options) -> String {
    let mut s = format!(
        "{}: {} of {} enabled rules matched",
        c.rules, c.matched, c.enabled
    );
    if !c.never_matched.is_empty() {
        let names: Vec<String> = c
            .never_matched
            .iter()
            .map(|(n, line)| match line {
                Some(l) => format!("{n} (line {l})"),
                None => n.clone(),
            })
            .collect();
        let _ = write!(s, "; never matched: {}", names.join(", "));
    }
    if let (true, Some(min)) = (opts.coverage_fails(c), opts.min_coverage) {
        let _ = write!(s, " — below the required {min}%");
    }
    s
}

/// Whether the run as a whole failed: a failed expectation or coverage below the minimum.
pub fn failed(runs: &[FileRun], opts: &Options) -> bool {
    let files: Vec<FileReport<'_>> = runs.iter().map(FileReport::of).collect();
    failed_of(&files, opts)
}

/// [`failed`] for tallied runs.
pub fn failed_of(files: &[FileReport<'_>], opts: &Options) -> bool {
    totals_of(files).1 > 0 || coverage_of(files).iter().any(|c| opts.coverage_fails(c))
}

/// Totals over tallied runs: (passed, failed) expectations.
pub fn totals_of(files: &[FileReport<'_>]) -> (usize, usize) {
    files.iter().fold((0, 0), |(p, f), file| {
        (p + file.tally.passed, f + file.tally.failed)
    })
}

/// Rule coverage per rules file over tallied runs.
pub fn coverage_of(files: &[FileReport<'_>]) -> Vec<Coverage> {
    crate::results::coverage_of(
        files
            .iter()
            .map(|f| (f.rules_path, f.rules, f.tally.rules.stats.as_slice())),
    )
}

/// Totals over every file: (passed, failed) expectations.
pub fn totals(runs: &[FileRun]) -> (usize, usize) {
    runs.iter()
        .flat_map(|r| &r.results)
        .filter_map(EventResult::passed)
        .fold(
            (0, 0),
            |(p, f), ok| if ok { (p + 1, f) } else { (p, f + 1) },
        )
}

pub use workbench_core::results::{MAX_COLUMN, column_width};

/// The event's name from the scenario, else `event #N (user U, TYPE @ TIMESTAMP)`.
pub fn event_label(r: &EventResult) -> String {
    if let Some(name) = &r.name {
        return name.to_string();
    }
    format!(
        "event #{} (user {}, {} @ {})",
        r.step + 1,
        r.user_id,
        r.event_type,
        crate::event::format_ts(r.event_timestamp)
    )
}

/// What quiet hours did to a decision: `scheduled → 2025-03-30T06:00:00Z` for a held send,
/// `dropped by quiet hours` for a dropped one.
pub fn quiet_note(v: &Verdict) -> Option<String> {
    match (v.deliver_at, v.reason_code) {
        (Some(at), _) => Some(format!("scheduled → {}", crate::event::format_ts(at))),
        (None, ReasonCode::SuppressedQuietHours) => Some("dropped by quiet hours".into()),
        (None, _) => None,
    }
}

/// `expected outcome X, got Y; expected ...`.
pub fn mismatch_text(r: &EventResult) -> String {
    r.mismatches
        .iter()
        .flatten()
        .map(Mismatch::text)
        .collect::<Vec<_>>()
        .join("; ")
}

/// The line a failure points at: its first failing key's, else the event's.
pub fn failure_line(r: &EventResult) -> u32 {
    r.mismatches
        .iter()
        .flatten()
        .map(|m| m.line)
        .find(|&l| l > 0)
        .unwrap_or(r.line)
}

#[cfg(test)]
mod diff_tests;
#[cfg(test)]
pub(crate) mod tests;
