//! The explanation of a decision: every rule tried, every condition with what it saw.

use chrono::{DateTime, NaiveDateTime, Utc};

use super::eval::{self, Actual};
use super::quiet::QuietHours;
use super::zone::ResolvedZone;
use super::{History, PriorEvent, Window};
use crate::engine::Delivery;
use crate::event::Event;
use crate::rules::{Condition, FieldTest, PriorEventTest, RuleSet, Suppression};

#[derive(Debug, Clone, PartialEq)]
pub struct Trace<'r> {
    /// Every rule in file order (disabled ones marked so).
    pub rules: Vec<RuleTrace<'r>>,
    pub suppression: Option<SuppressionTrace<'r>>,
    /// Consent and holdout, in order, as far as a send got through them.
    pub guards: Vec<super::guards::GuardTrace>,
    /// The frequency caps that cover the winning send, after its own suppression passed.
    pub caps: Vec<super::guards::CapTrace>,
    /// The zone the decision used, when it used one (a local calendar, quiet hours).
    pub zone: Option<ResolvedZone>,
    /// The quiet-hours guard, when the file has quiet hours and a send reached it.
    pub quiet: Option<QuietTrace>,
}

/// What the quiet-hours guard saw: the event's local time in its zone, whether the rule is
/// subject to quiet hours, and when a held send is delivered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuietTrace {
    pub hours: QuietHours,
    pub local: NaiveDateTime,
    /// Whether the event's local time is inside the window.
    pub quiet: bool,
    /// Whether quiet hours apply to the rule (a marketing send, not `internal`, not opted out).
    pub applies: bool,
    pub deliver_at: Option<DateTime<Utc>>,
}

impl QuietTrace {
    /// Whether this guard stopped or held the send.
    pub fn stopped(&self) -> bool {
        self.quiet && self.applies
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Disabled,
    /// The trigger's event type differs from the event's.
    TriggerMiss,
    /// Trigger hit, conditions failed.
    NoMatch,
    Winner,
    /// Matched, but an earlier rule won: recorded, never acted on.
    Shadowed,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RuleTrace<'r> {
    /// Index into `RuleSet::rules`.
    pub rule: usize,
    pub name: &'r str,
    pub role: Role,
    /// `None` when the rule has no conditions or its trigger missed.
    pub condition: Option<CondTrace<'r>>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum CondTrace<'r> {
    Field {
        test: &'r FieldTest,
        actual: Actual,
        result: bool,
    },
    Prior {
        test: &'r PriorEventTest,
        found: Option<PriorEvent>,
        /// `this.event_timestamp - that.event_timestamp` in hours, when one was found.
        hours_between: Option<f64>,
        result: bool,
    },
    All(Vec<CondTrace<'r>>, bool),
    Any(Vec<CondTrace<'r>>, bool),
    Not(Box<CondTrace<'r>>, bool),
}

#[derive(Debug, Clone, PartialEq)]
pub struct SuppressionTrace<'r> {
    pub mode: Suppression,
    pub template: &'r str,
    pub window: Window,
    /// The earlier delivery in the window, which suppresses this one.
    pub earlier: Option<Delivery>,
}

impl CondTrace<'_> {
    pub fn result(&self) -> bool {
        match self {
            CondTrace::Field { result, .. } | CondTrace::Prior { result, .. } => *result,
            CondTrace::All(_, r) | CondTrace::Any(_, r) | CondTrace::Not(_, r) => *r,
        }
    }
}

impl<'r> Trace<'r> {
    pub fn winner(&self) -> Option<&RuleTrace<'r>> {
        self.rules.iter().find(|r| r.role == Role::Winner)
    }

    pub fn shadowed(&self) -> impl Iterator<Item = &RuleTrace<'r>> {
        self.rules.iter().filter(|r| r.role == Role::Shadowed)
    }
}

pub(super) fn evaluate<'r>(rules: &'r RuleSet, event: &Event, history: &History<'_>) -> Trace<'r> {
    let mut won = false;
    let traces = rules
        .rules
        .iter()
        .enumerate()
        .map(|(i, rule)| {
            let (role, condition) = if !rule.enabled {
                (Role::Disabled, None)
            } else if rule.trigger != event.event_type {
                (Role::TriggerMiss, None)
            } else {
                let c = rule
                    .condition
                    .as_ref()
                    .map(|c| condition(c, event, history));
                let matched = c.as_ref().is_none_or(CondTrace::result);
                let role = match (matched, won) {
                    (false, _) => Role::NoMatch,
                    (true, false) => Role::Winner,
                    (true, true) => Role::Shadowed,
                };
                won |= matched;
                (role, c)
            };
            RuleTrace {
                rule: i,
                name: &rule.name,
                role,
                condition,
            }
        })
        .collect();
    Trace {
        rules: traces,
        suppression: None,
        guards: Vec::new(),
        caps: Vec::new(),
        zone: None,
        quiet: None,
    }
}

fn condition<'r>(c: &'r Condition, event: &Event, history: &History<'_>) -> CondTrace<'r> {
    match c {
        Condition::Field(test) => {
            let (result, actual) = eval::test(event, test);
            CondTrace::Field {
                test,
                actual,
                result,
            }
        }
        Condition::Prior(test) => {
            let found = history.prior(&test.event_type);
            let millis =
                found.map(|p| (event.event_timestamp - p.event_timestamp).num_milliseconds());
            // Milliseconds between two instants of 1970..9999 stay far below 2^52: exact.
            #[allow(clippy::cast_precision_loss)]
            let result = millis.is_some_and(|ms| ms >= 0 && ms as f64 <= test.hours * 3_600_000.0);
            CondTrace::Prior {
                test,
                found,
                #[allow(clippy::cast_precision_loss)]
                hours_between: millis.map(|ms| ms as f64 / 3_600_000.0),
                result,
            }
        }
        Condition::All(cs) => {
            let kids: Vec<_> = cs.iter().map(|c| condition(c, event, history)).collect();
            let r = kids.iter().all(CondTrace::result);
            CondTrace::All(kids, r)
        }
        Condition::Any(cs) => {
            let kids: Vec<_> = cs.iter().map(|c| condition(c, event, history)).collect();
            let r = kids.iter().any(CondTrace::result);
            CondTrace::Any(kids, r)
        }
        Condition::Not(c) => {
            let kid = condition(c, event, history);
            let r = !kid.result();
            CondTrace::Not(Box::new(kid), r)
        }
    }
}
