//! The zone an event's local time is shown in: the one its decision used, else (when the rules
//! file uses user time at all) the one SPEC §7.2 gives it — its own `user_traits.timezone`,
//! the user's latest earlier valid one, the file's default.

use crate::engine::{self, ResolvedZone};
use crate::event::Event;
use crate::session::Session;
use crate::store::StoreError;

/// How many earlier events of the user are looked at for a zone before giving up (each is
/// loaded again from the scratch database).
pub const LOOKBACK: usize = 2_000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Shown {
    /// Nothing in the rules file depends on the user's time, and the decision used no zone.
    Nothing,
    Zone(ResolvedZone),
    /// The user has more than [`LOOKBACK`] earlier events without a zone to look through.
    TooFar,
}

/// The zone to show row `row`'s local time in, given its event and the zone its decision
/// used.
pub fn shown_zone(
    s: &mut Session,
    row: u32,
    event: &Event,
    traced: Option<ResolvedZone>,
) -> Result<Shown, StoreError> {
    if let Some(z) = traced {
        return Ok(Shown::Zone(z));
    }
    if !crate::explain::uses_user_time(&s.rules) {
        return Ok(Shown::Nothing);
    }
    let mut earlier = None;
    if engine::own_zone(event).is_none() {
        // The user's rows are in order, as their ids are: the latest earlier one first.
        let rows = s.by_user.get(event.user_id.as_str()).cloned();
        let rows = rows.unwrap_or_default();
        let end = rows.partition_point(|&r| r < row);
        for (n, &r) in rows[..end].iter().rev().enumerate() {
            if n == LOOKBACK {
                return Ok(Shown::TooFar);
            }
            let Some((e, _)) = s.explain(r)? else {
                continue;
            };
            if let Some(z) = engine::own_zone(&e) {
                earlier = Some((s.rows[r as usize].event_id, z));
                break;
            }
        }
    }
    Ok(Shown::Zone(engine::resolve_zone(&s.rules, event, earlier)))
}
