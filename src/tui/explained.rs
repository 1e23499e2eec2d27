//! The explanation panes' content for one row, UI-free: Rule match (the baseline's decision
//! when it differs, the event's time for its user, every rule) and Suppression.

use crate::engine::Verdict;
use crate::explain::{self, Line};
use crate::session::Session;
use crate::store::StoreError;

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
    let Some(r) = s.row(row) else {
        return Ok(None);
    };
    let rules = s.rules.clone();
    let Some((_, d)) = s.explain(row)? else {
        return Ok(None);
    };
    let mut rule_match = explain::baseline(before, &r.verdict);
    let rules_lines = explain::rule_match(&rules, &d);
    let suppression = explain::suppression(&r, &d);
    let traced = d.trace.zone.clone();
    // The zone its decision used, else (when the rules use user time) the one SPEC §7.2
    // gives it, from the store.
    let zone = match traced {
        Some(z) => Some(z),
        None if explain::uses_user_time(&rules) => s.zone_of(row)?,
        None => None,
    };
    let when = explain::when(r.event_timestamp, zone.as_ref(), r.verdict.deliver_at);
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
