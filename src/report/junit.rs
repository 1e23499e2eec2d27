//! The JUnit XML report: one testsuite per scenario file, one testcase per expectation.

use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};

use super::{event_label, mismatch_text};
use crate::runner::FileRun;

pub fn junit(runs: &[FileRun]) -> String {
    let mut report = Report::new("workbench");
    for run in runs {
        let path = run.scenario.path.display().to_string();
        let mut suite = TestSuite::new(path.clone());
        for r in run.results.iter().filter(|r| r.mismatches.is_some()) {
            let status = if r.passed() == Some(true) {
                TestCaseStatus::success()
            } else {
                let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
                s.set_message(mismatch_text(r));
                s.set_type("expectation");
                s.set_description(format!(
                    "{path}:{}: {} — {}",
                    r.line,
                    event_label(r),
                    r.verdict.reason
                ));
                s
            };
            let mut case = TestCase::new(event_label(r), status);
            case.set_classname(path.clone());
            suite.add_test_case(case);
        }
        report.add_test_suite(suite);
    }
    report.to_string().expect("junit serialises")
}
