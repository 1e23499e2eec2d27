//! What the reports need of one file's results, gathered one result at a time: counts, and
//! only the few results a report lists, so a run of any size keeps no per-event row.

use std::path::Path;
use std::sync::Arc;

use super::quiet_note;
use super::text::MAX_QUIET;
use crate::results::{EventResult, FileRun, GuardStops, RuleCounts};
use crate::rules::RuleSet;
use crate::scenario::Scenario;

/// Counts over one file's results, and the results the reports list.
#[derive(Debug, Clone, Default)]
pub struct Tally {
    pub events: usize,
    /// Results with an expectation.
    pub expected: usize,
    pub passed: usize,
    pub failed: usize,
    /// Results with an expectation, in step order: every one when kept for JUnit, else only
    /// the failed ones.
    pub listed: Vec<EventResult>,
    keep_expected: bool,
    /// Sends quiet hours held, and dropped.
    pub held: usize,
    pub dropped: usize,
    /// The first [`MAX_QUIET`] results quiet hours held or dropped.
    pub quiet: Vec<EventResult>,
    pub rules: RuleCounts,
    pub stops: GuardStops,
}

impl Tally {
    /// An empty tally for a run with `rules`; `keep_expected` keeps every result with an
    /// expectation (the JUnit report lists them all), not only the failed ones.
    pub fn new(rules: &RuleSet, keep_expected: bool) -> Tally {
        Tally {
            events: 0,
            expected: 0,
            passed: 0,
            failed: 0,
            listed: Vec::new(),
            keep_expected,
            held: 0,
            dropped: 0,
            quiet: Vec::new(),
            rules: RuleCounts::new(rules),
            stops: GuardStops::default(),
        }
    }

    /// Every result of `results`, tallied.
    pub fn of(rules: &RuleSet, results: &[EventResult], keep_expected: bool) -> Tally {
        let mut t = Tally::new(rules, keep_expected);
        for r in results {
            t.add(r);
        }
        t
    }

    pub fn add(&mut self, r: &EventResult) {
        self.events += 1;
        if let Some(passed) = r.passed() {
            self.expected += 1;
            if passed {
                self.passed += 1;
            } else {
                self.failed += 1;
            }
            if self.keep_expected || !passed {
                self.listed.push(r.clone());
            }
        }
        if quiet_note(&r.verdict).is_some() {
            if r.verdict.scheduled() {
                self.held += 1;
            } else {
                self.dropped += 1;
            }
            if self.quiet.len() < MAX_QUIET {
                self.quiet.push(r.clone());
            }
        }
        self.rules.add(r);
        self.stops.add(r);
    }
}

/// Where a file's decisions are for the JSON report.
#[derive(Debug, Clone, Copy)]
pub enum Decisions<'a> {
    /// Every result, in memory.
    Results(&'a [EventResult]),
    /// Already rendered as the report's array elements, in this file (see `Collector`).
    Rendered(&'a Path),
    /// Not kept (text and JUnit reports).
    None,
}

/// One file's run as the reports see it.
#[derive(Debug, Clone)]
pub struct FileReport<'a> {
    pub scenario: &'a Scenario,
    pub rules_path: &'a Path,
    pub rules: &'a Arc<RuleSet>,
    pub tally: Tally,
    pub decisions: Decisions<'a>,
}

impl<'a> FileReport<'a> {
    /// A file run whose results are all in memory.
    pub fn of(run: &'a FileRun) -> FileReport<'a> {
        FileReport {
            scenario: &run.scenario,
            rules_path: &run.rules_path,
            rules: &run.rules,
            tally: Tally::of(&run.rules, &run.results, true),
            decisions: Decisions::Results(&run.results),
        }
    }
}
