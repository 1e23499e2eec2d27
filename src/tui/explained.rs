//! The explanation panes' content for one row, UI-free: Rule match (the baseline's decision
//! when it differs, the event's time for its user, every rule) and Suppression.

use crate::engine::Verdict;
use crate::event::format_ts;
use crate::explain::{self, Line, Style};
use crate::session::Session;
use crate::store::StoreError;

use super::time::{self, Shown};

pub struct Explained {
    pub rule_match: Vec<Line>,
    pub suppression: Vec<Line>,
}

/// The Rule match and Suppression panes of row `row`: the baseline's decision when it
/// differs, the event's time for its user, every rule; the suppression and guards.
pub fn explain(
    s: &mut Session,
    row: u32,
    before: Option<&Verdict>,
) -> Result<Option<Explained>, StoreError> {
    let r = s.rows[row as usize].clone();
    let rules = s.rules.clone();
    let Some((event, d)) = s.explain(row)? else {
        return Ok(None);
    };
    let mut rule_match = explain::baseline(before, &r.verdict);
    let rules_lines = explain::rule_match(&rules, &d);
    let suppression = explain::suppression(&r, &d);
    let traced = d.trace.zone.clone();
    let when = match time::shown_zone(s, row, &event, traced)? {
        Shown::Nothing => Vec::new(),
        Shown::Zone(z) => explain::when(r.event_timestamp, Some(&z), r.verdict.deliver_at),
        Shown::TooFar => vec![Line::styled(
            format!(
                "{} · zone not looked up: over {} earlier events of {} without one",
                format_ts(r.event_timestamp),
                time::LOOKBACK,
                r.user_id
            ),
            Style::Dim,
        )],
    };
    if !when.is_empty() {
        rule_match.extend(when);
        rule_match.push(Line::default());
    }
    rule_match.extend(rules_lines);
    Ok(Some(Explained {
        rule_match,
        suppression,
    }))
}
