//! The pure rule engine: an event, the rules, the history they need and nothing else in;
//! a decision with its full explanation out. No storage, clock, terminal or file I/O here.

mod eval;
pub mod quiet;
mod reason;
mod trace;
pub mod zone;

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

pub use eval::{Actual, json_eq};
pub use trace::{CondTrace, Role, RuleTrace, SuppressionTrace, Trace};

use crate::event::Event;
use crate::rules::{ActionType, Channel, RuleSet, Suppression};

/// The latest earlier event of a type for the user, as `prior_event` sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct PriorEvent {
    pub event_id: i64,
    pub event_timestamp: DateTime<Utc>,
}

/// An earlier delivery of a template to the user, as suppression sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Delivery {
    pub event_id: i64,
    pub event_timestamp: DateTime<Utc>,
}

/// Which deliveries count for suppression: all of them, or those whose event falls on a UTC day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum Window {
    Ever,
    Day(NaiveDate),
}

impl Window {
    pub fn for_mode(mode: Suppression, event: &Event) -> Window {
        match mode {
            Suppression::OncePerCalendarDay => Window::Day(event.event_timestamp.date_naive()),
            _ => Window::Ever,
        }
    }
}

/// The history an event needs: what to look up before deciding.
#[derive(Debug, Clone, PartialEq)]
pub struct Lookups<'r> {
    pub prior_types: &'r [String],
    pub deliveries: Vec<(&'r str, Window)>,
}

/// The answers to [`Lookups`], in the same order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct History<'r> {
    pub priors: Vec<(&'r str, Option<PriorEvent>)>,
    pub deliveries: Vec<(&'r str, Window, Option<Delivery>)>,
}

impl History<'_> {
    fn prior(&self, event_type: &str) -> Option<PriorEvent> {
        self.priors
            .iter()
            .find(|(t, _)| *t == event_type)
            .and_then(|(_, p)| *p)
    }

    fn delivery(&self, template: &str, window: Window) -> Option<Delivery> {
        self.deliveries
            .iter()
            .find(|(t, w, _)| *t == template && *w == window)
            .and_then(|(_, _, d)| *d)
    }
}

/// What the engine needs to know about the past before it can decide `event`.
pub fn lookups<'r>(rules: &'r RuleSet, event: &Event) -> Lookups<'r> {
    match rules.plan(&event.event_type) {
        None => Lookups {
            prior_types: &[],
            deliveries: Vec::new(),
        },
        Some(plan) => Lookups {
            prior_types: &plan.prior_types,
            deliveries: plan
                .deliveries
                .iter()
                .map(|(t, mode)| (&**t, Window::for_mode(*mode, event)))
                .collect(),
        },
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Allow,
    Suppress,
    Alert,
    None,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ReasonCode {
    NoMatch,
    Sent,
    Alerted,
    SuppressedOnceEver,
    SuppressedOncePerCalendarDay,
}

/// `send`, `alert`, or `none` when no rule matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DecisionAction {
    None,
    Send,
    Alert,
}

impl From<ActionType> for DecisionAction {
    fn from(a: ActionType) -> Self {
        match a {
            ActionType::Send => DecisionAction::Send,
            ActionType::Alert => DecisionAction::Alert,
        }
    }
}

names! {
    Outcome => { Allow = "allow", Suppress = "suppress", Alert = "alert", None = "none" },
    ReasonCode => { NoMatch = "no_match", Sent = "sent", Alerted = "alerted",
        SuppressedOnceEver = "suppressed_once_ever",
        SuppressedOncePerCalendarDay = "suppressed_once_per_calendar_day" },
    DecisionAction => { None = "none", Send = "send", Alert = "alert" }
}

/// The decision for one event, without its trace: what is stored and reported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verdict {
    pub matched_rule: Option<Arc<str>>,
    pub action_type: DecisionAction,
    pub template_name: Option<Arc<str>>,
    pub channel: Option<Channel>,
    pub outcome: Outcome,
    pub reason: String,
    pub reason_code: ReasonCode,
}

impl Verdict {
    pub fn delivers(&self) -> bool {
        matches!(self.outcome, Outcome::Allow | Outcome::Alert)
    }

    /// The same decision: outcome, rule, action, template, channel and reason code (the
    /// wording of the reason may differ).
    pub fn same_decision(&self, other: &Verdict) -> bool {
        (
            self.outcome,
            &self.matched_rule,
            self.action_type,
            &self.template_name,
            self.channel,
            self.reason_code,
        ) == (
            other.outcome,
            &other.matched_rule,
            other.action_type,
            &other.template_name,
            other.channel,
            other.reason_code,
        )
    }
}

/// A verdict and the explanation of how it was reached.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision<'r> {
    pub verdict: Verdict,
    pub trace: Trace<'r>,
}

/// Decide one event: first enabled matching rule wins, then its suppression.
pub fn decide<'r>(rules: &'r RuleSet, event: &Event, history: &History<'_>) -> Decision<'r> {
    let mut trace = trace::evaluate(rules, event, history);
    let Some(win) = trace.winner() else {
        let reason = reason::no_match(rules, event, &trace);
        return Decision {
            verdict: Verdict {
                matched_rule: None,
                action_type: DecisionAction::None,
                template_name: None,
                channel: None,
                outcome: Outcome::None,
                reason,
                reason_code: ReasonCode::NoMatch,
            },
            trace,
        };
    };
    let rule = &rules.rules[win.rule];
    let window = Window::for_mode(rule.suppression, event);
    let earlier = match rule.suppression {
        Suppression::None => None,
        _ => history.delivery(&rule.action.template, window),
    };
    let suppression = SuppressionTrace {
        mode: rule.suppression,
        template: &rule.action.template,
        window,
        earlier,
    };
    let (outcome, reason_code) = match (earlier, rule.suppression, rule.action.kind) {
        (Some(_), Suppression::OnceEver, _) => (Outcome::Suppress, ReasonCode::SuppressedOnceEver),
        (Some(_), _, _) => (Outcome::Suppress, ReasonCode::SuppressedOncePerCalendarDay),
        (None, _, ActionType::Send) => (Outcome::Allow, ReasonCode::Sent),
        (None, _, ActionType::Alert) => (Outcome::Alert, ReasonCode::Alerted),
    };
    let reason = reason::matched(rule, &trace, &suppression, outcome);
    trace.suppression = Some(suppression);
    Decision {
        verdict: Verdict {
            matched_rule: Some(rule.name.clone()),
            action_type: rule.action.kind.into(),
            template_name: Some(rule.action.template.clone()),
            channel: Some(rule.action.channel),
            outcome,
            reason,
            reason_code,
        },
        trace,
    }
}

pub use crate::fmt::fmt_hours;

#[cfg(test)]
mod tests;
