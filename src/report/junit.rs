//! The JUnit XML report: one testsuite per scenario file, one testcase per expectation.

use quick_junit::{NonSuccessKind, Property, Report, TestCase, TestCaseStatus, TestSuite};

use super::tally::FileReport;
use super::{Options, coverage_of, event_label, failure_line, mismatch_text, quiet_note};
use crate::results::FileRun;

/// The JUnit report of runs whose results are in memory.
pub fn junit(runs: &[FileRun], opts: &Options) -> String {
    let files: Vec<FileReport<'_>> = runs.iter().map(FileReport::of).collect();
    junit_of(&files, opts)
}

/// The JUnit report of tallied runs (which kept every result with an expectation).
pub fn junit_of(runs: &[FileReport<'_>], opts: &Options) -> String {
    let mut report = Report::new("workbench");
    for run in runs {
        let path = run.scenario.path.display().to_string();
        let mut suite = TestSuite::new(path.clone());
        for r in &run.tally.listed {
            let status = if r.passed() == Some(true) {
                TestCaseStatus::success()
            } else {
                let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
                s.set_message(mismatch_text(r));
                s.set_type("expectation");
                s.set_description(format!(
                    "{path}:{}: {} — {}",
                    failure_line(r),
                    event_label(r),
                    r.verdict.reason
                ));
                s
            };
            let mut case = TestCase::new(event_label(r), status);
            case.set_classname(path.clone());
            // A held send: when it goes out, as a property and in its output.
            if let Some(at) = r.verdict.deliver_at {
                case.add_property(Property::new("deliver_at", crate::event::format_ts(at)));
            }
            if let Some(note) = quiet_note(&r.verdict) {
                case.set_system_out(format!("{}  {note}", r.verdict.outcome));
            }
            suite.add_test_case(case);
        }
        report.add_test_suite(suite);
    }
    // Coverage: one testcase per enabled rule; one that never matched fails under
    // `--min-coverage` when the share is below it, and is reported as skipped otherwise.
    for c in coverage_of(runs) {
        let mut suite = TestSuite::new(format!("coverage {}", c.rules));
        let fails = opts.coverage_fails(&c);
        for (rule, line) in &c.never_matched {
            let mut status = if fails {
                TestCaseStatus::non_success(NonSuccessKind::Failure)
            } else {
                TestCaseStatus::skipped()
            };
            let at = line.map(|l| format!(" (line {l})")).unwrap_or_default();
            status.set_message(format!("rule `{rule}`{at} never matched"));
            let mut case = TestCase::new(format!("rule {rule} matches"), status);
            case.set_classname(c.rules.clone());
            suite.add_test_case(case);
        }
        if c.never_matched.is_empty() {
            let mut case = TestCase::new(
                format!("all {} enabled rules match", c.enabled),
                TestCaseStatus::success(),
            );
            case.set_classname(c.rules.clone());
            suite.add_test_case(case);
        }
        report.add_test_suite(suite);
    }
    report.to_string().expect("junit serialises")
}
