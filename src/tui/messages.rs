//! `messages.txt` as it stood at each step of a run: the lines written by then, in the order
//! they were written, and the sends quiet hours still held.
//!
//! A scheduled line is written at a later step than its event's (`EventResult::written_at`),
//! before that step's own line: the run delivers what is due before it processes the event
//! (oldest `deliver_at` first, then lowest event id); only a send held and already due (a
//! late arrival) is written right after its own event.

use crate::results::EventResult;

#[derive(Debug, Clone, Default)]
pub struct Messages {
    /// Delivering rows in the order their lines were written.
    written: Vec<u32>,
    /// The step at which each of `written` was written (non-decreasing).
    steps: Vec<u32>,
    /// Rows held by quiet hours, in order.
    scheduled: Vec<u32>,
}

fn row_u32(i: usize) -> u32 {
    u32::try_from(i).unwrap_or(u32::MAX)
}

impl Messages {
    pub fn new(rows: &[EventResult]) -> Messages {
        let mut written: Vec<(u32, bool, chrono::DateTime<chrono::Utc>, i64, u32)> = Vec::new();
        let mut scheduled = Vec::new();
        for (i, r) in rows.iter().enumerate() {
            let v = &r.verdict;
            // A replay's line is its original's.
            if !v.delivers() || r.replayed {
                continue;
            }
            if v.scheduled() {
                scheduled.push(row_u32(i));
            }
            // An immediate line is written at its own step; a held one when it fell due (a
            // finished run writes every line).
            let Some(at) = r.written_at.or((!v.scheduled()).then_some(r.step)) else {
                continue;
            };
            let own = at == r.step;
            let time = v.deliver_at.unwrap_or(r.event_timestamp);
            written.push((at, own, time, r.event_id, row_u32(i)));
        }
        written.sort_unstable();
        Messages {
            steps: written.iter().map(|w| w.0).collect(),
            written: written.into_iter().map(|w| w.4).collect(),
            scheduled,
        }
    }

    /// The rows whose lines were written by the end of step `step`, in order.
    pub fn written_by(&self, step: u32) -> &[u32] {
        &self.written[..self.steps.partition_point(|&s| s <= step)]
    }

    /// The rows held at the end of step `step`: decided by then, not yet written; soonest
    /// `deliver_at` first (then lowest event id), as they will be written.
    pub fn held_at(&self, rows: &[EventResult], step: u32) -> Vec<u32> {
        let upto = self
            .scheduled
            .partition_point(|&r| rows[r as usize].step <= step);
        let mut held: Vec<u32> = self.scheduled[..upto]
            .iter()
            .copied()
            .filter(|&r| rows[r as usize].written_at.is_none_or(|w| w > step))
            .collect();
        held.sort_by_key(|&r| {
            let r = &rows[r as usize];
            (r.verdict.deliver_at, r.event_id)
        });
        held
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::rules::RuleSet;
    use crate::runner::run_scratch;
    use crate::scenario::Scenario;

    const RULES: &str = r#"quiet_hours: {start: "21:00", end: "08:00", mode: hold}
rules:
  - name: promo
    trigger: {event_type: cart}
    action: {type: send, template_name: CART, delivery_method: email}
"#;

    fn event(user: &str, ts: &str) -> String {
        format!(
            "  - {{user_id: {user}, event_type: cart, event_timestamp: {ts}, \
             user_traits: {{timezone: Europe/Oslo}}}}\n"
        )
    }

    #[test]
    fn held_lines_are_written_when_due_before_the_events_own_line() {
        let rules = RuleSet::from_yaml(Path::new("r.yaml"), RULES).unwrap();
        let src = format!(
            "events:\n{}{}{}{}",
            event("a", "2025-03-29T22:00:00Z"), // held until 06:00Z
            event("b", "2025-03-29T21:30:00Z"), // held until 06:00Z too
            event("c", "2025-03-30T05:00:00Z"), // 07:00 CEST: held until 06:00Z
            event("d", "2025-03-30T07:00:00Z"), // sent; the three held go out first
        );
        let scenario = Scenario::from_yaml(Path::new("s.yaml"), &src).unwrap();
        let rows = run_scratch(&scenario, &rules).unwrap();
        let m = Messages::new(&rows);
        assert_eq!(m.written_by(2), &[] as &[u32]);
        assert_eq!(m.held_at(&rows, 0), vec![0]);
        assert_eq!(m.held_at(&rows, 2), vec![0, 1, 2]);
        assert_eq!(m.written_by(3), &[0, 1, 2, 3]);
        assert!(m.held_at(&rows, 3).is_empty());
    }
}
