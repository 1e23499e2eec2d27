//! `messages.txt` as it stood at each step of a run: the lines written by then, in the order
//! they were written, and the sends quiet hours still held.
//!
//! A scheduled line is written at a later step than its event's (`EventResult::written_at`),
//! before that step's own line: the run delivers what is due before it processes the event
//! (oldest `deliver_at` first, then lowest event id); only a send held and already due (a
//! late arrival) is written right after its own event.

use crate::session::{Rows, Sent};

#[derive(Debug, Clone, Default)]
pub struct Messages {
    /// Delivering rows in the order their lines were written.
    written: Vec<u32>,
    /// The step at which each of `written` was written (non-decreasing).
    steps: Vec<u32>,
    /// Sends held by quiet hours, in order, with the step their line was written at.
    scheduled: Vec<(Sent, Option<u32>)>,
}

impl Messages {
    pub fn new(rows: &Rows) -> Messages {
        let mut written: Vec<(u32, bool, chrono::DateTime<chrono::Utc>, i64, u32)> = Vec::new();
        let mut scheduled = Vec::new();
        for s in rows.sent() {
            let at = rows.written_at(s.row);
            if s.scheduled {
                scheduled.push((*s, at));
            }
            // An immediate line is written at its own step (row `i` is step `i`); a held one
            // when it fell due (a finished run writes every line).
            let Some(at) = at.or((!s.scheduled).then_some(s.row)) else {
                continue;
            };
            written.push((at, at == s.row, s.time, s.event_id, s.row));
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
    pub fn held_at(&self, step: u32) -> Vec<u32> {
        let upto = self.scheduled.partition_point(|(s, _)| s.row <= step);
        let mut held: Vec<&Sent> = self.scheduled[..upto]
            .iter()
            .filter(|(_, w)| w.is_none_or(|w| w > step))
            .map(|(s, _)| s)
            .collect();
        held.sort_by_key(|s| (s.time, s.event_id));
        held.into_iter().map(|s| s.row).collect()
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::rules::RuleSet;
    use crate::scenario::Scenario;
    use crate::session::Session;

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
        let s = Session::run(scenario, "r.yaml".into(), rules.into(), |_| {}).unwrap();
        let m = Messages::new(&s.rows);
        assert_eq!(m.written_by(2), &[] as &[u32]);
        assert_eq!(m.held_at(0), vec![0]);
        assert_eq!(m.held_at(2), vec![0, 1, 2]);
        assert_eq!(m.written_by(3), &[0, 1, 2, 3]);
        assert!(m.held_at(3).is_empty());
    }
}
