//! Reports of scenario runs: text for people, JSON for machines, JUnit XML for CI.

mod json;
mod junit;
mod text;

pub use json::json;
pub use junit::junit;
pub use text::text;

use crate::runner::{EventResult, FileRun};

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

/// `event #N (user U, TYPE @ TIMESTAMP)`.
pub fn event_label(r: &EventResult) -> String {
    format!(
        "event #{} (user {}, {} @ {})",
        r.step + 1,
        r.user_id,
        r.event_type,
        crate::event::format_ts(r.event_timestamp)
    )
}

/// `expected outcome X, got Y; expected ...`.
pub fn mismatch_text(r: &EventResult) -> String {
    r.mismatches
        .iter()
        .flatten()
        .map(|m| format!("expected {} {}, got {}", m.key, m.expected, m.got))
        .collect::<Vec<_>>()
        .join("; ")
}
