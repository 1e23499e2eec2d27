//! The pure rule engine: an event, the rules, the history they need and nothing else in;
//! a decision with its full explanation out. No storage, clock, terminal or file I/O here.

mod eval;
pub mod guards;
mod history;
mod reason;
mod trace;

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::Serialize;

pub use crate::time::{quiet, zone};
pub use eval::{Actual, json_eq};
pub use history::{
    Delivery, History, Lookups, PriorEvent, Window, lookups, needs_earlier_zone, own_zone,
    resolve_zone, timezone_trait,
};
pub use trace::{CondTrace, QuietTrace, Role, RuleTrace, SuppressionTrace, Trace};
pub use zone::{Calendar, LocalWindow, ResolvedZone, Zone, ZoneSource};

use crate::event::Event;
use crate::rules::{ActionType, CalendarBasis, Channel, RuleSet, Suppression};

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
    SuppressedNoConsent,
    SuppressedHoldout,
    SuppressedFrequencyCap,
    SuppressedQuietHours,
    /// The rule's template does not render for the event (SPEC §7.3 row 5).
    SuppressedRenderError,
    /// Allowed, held by quiet hours until `deliver_at`.
    Scheduled,
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
        SuppressedOncePerCalendarDay = "suppressed_once_per_calendar_day",
        SuppressedNoConsent = "suppressed_no_consent", SuppressedHoldout = "suppressed_holdout",
        SuppressedFrequencyCap = "suppressed_frequency_cap",
        SuppressedQuietHours = "suppressed_quiet_hours",
        SuppressedRenderError = "suppressed_render_error", Scheduled = "scheduled" },
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
    /// When a send held by quiet hours is delivered (UTC); `None` unless scheduled.
    #[serde(serialize_with = "ser_opt_ts")]
    pub deliver_at: Option<DateTime<Utc>>,
    /// The template's text rendered for the event (SPEC §7.4), on deliveries only; an alert
    /// whose template does not render carries the raw text.
    pub message_text: Option<String>,
}

#[allow(clippy::ref_option)] // serde's `serialize_with` passes `&Option<T>`
fn ser_opt_ts<S: serde::Serializer>(t: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => s.serialize_str(&crate::event::format_ts(*t)),
        None => s.serialize_none(),
    }
}

impl Verdict {
    pub fn delivers(&self) -> bool {
        matches!(self.outcome, Outcome::Allow | Outcome::Alert)
    }

    /// The same decision: outcome, rule, action, template, channel, reason code and
    /// `deliver_at` (the wording of the reason and the message text may differ).
    pub fn same_decision(&self, other: &Verdict) -> bool {
        (
            self.outcome,
            &self.matched_rule,
            self.action_type,
            &self.template_name,
            self.channel,
            self.reason_code,
            self.deliver_at,
        ) == (
            other.outcome,
            &other.matched_rule,
            other.action_type,
            &other.template_name,
            other.channel,
            other.reason_code,
            other.deliver_at,
        )
    }

    /// The guard that stopped this send, in words (`consent`, `holdout`, `once_ever`,
    /// `once_per_calendar_day`, `cap marketing_per_day`, `template`, `quiet hours`); `None` unless
    /// suppressed.
    pub fn stopped_by(&self) -> Option<String> {
        Some(match self.reason_code {
            ReasonCode::SuppressedNoConsent => "consent".to_string(),
            ReasonCode::SuppressedHoldout => "holdout".to_string(),
            ReasonCode::SuppressedOnceEver => "once_ever".to_string(),
            ReasonCode::SuppressedOncePerCalendarDay => "once_per_calendar_day".to_string(),
            ReasonCode::SuppressedQuietHours => "quiet hours".to_string(),
            ReasonCode::SuppressedRenderError => "template".to_string(),
            ReasonCode::SuppressedFrequencyCap => {
                // The reason says `...; capped by NAME: ...` (see `decide`).
                let name = self
                    .reason
                    .split_once("; capped by ")
                    .and_then(|(_, rest)| rest.split_once(':'))
                    .map_or("?", |(name, _)| name);
                format!("cap {name}")
            }
            _ => return None,
        })
    }

    /// Whether this delivery waits for quiet hours to end.
    pub fn scheduled(&self) -> bool {
        self.deliver_at.is_some()
    }
}

/// A verdict and the explanation of how it was reached.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision<'r> {
    pub verdict: Verdict,
    pub trace: Trace<'r>,
}

/// Decide one event: first enabled matching rule wins, then its guards in SPEC §7.3's order
/// (consent, holdout, the rule's own suppression, frequency caps, the template renders, then
/// quiet hours).
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
                deliver_at: None,
                message_text: None,
            },
            trace,
        };
    };
    let rule = &rules.rules[win.rule];
    trace.guards = guards::before_suppression(rules, rule, event);
    if let Some(stop) = trace.guards.iter().find(|g| !g.passed()) {
        let reason_code = match stop {
            guards::GuardTrace::Consent { .. } => ReasonCode::SuppressedNoConsent,
            guards::GuardTrace::Holdout { .. } => ReasonCode::SuppressedHoldout,
        };
        let reason = format!("{} matched; stopped by {}: {stop}", rule.name, stop.name());
        return Decision {
            verdict: Verdict {
                matched_rule: Some(rule.name.clone()),
                action_type: rule.action.kind.into(),
                template_name: Some(rule.action.template.clone()),
                channel: Some(rule.action.channel),
                outcome: Outcome::Suppress,
                reason,
                reason_code,
                deliver_at: None,
                message_text: None,
            },
            trace,
        };
    }
    let zone = &history.zone;
    let window = Window::for_mode(rule.suppression, rule.calendar, event, zone.zone);
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
    let mut deliver_at = None;
    if earlier.is_none() && rule.action.kind == ActionType::Send {
        trace.caps = guards::caps(rules, rule, history);
    }
    let capped = trace.caps.iter().find(|c| c.stopped()).cloned();
    let template = &rule.action.template;
    // Guard 5 (SPEC §7.3): the template renders for this event, after the caps and before
    // quiet hours. An alert goes out all the same, with the template's raw text.
    let rendered = match (earlier, rule.action.kind) {
        (None, ActionType::Send) if capped.is_none() => Some(rules.render(template, event)),
        (None, ActionType::Alert) => Some(Ok(rules
            .render(template, event)
            .unwrap_or_else(|_| rules.text(template).to_string()))),
        _ => None,
    };
    let render_error = match &rendered {
        Some(Err(e)) => Some(e.clone()),
        _ => None,
    };
    let (outcome, reason_code) = match (earlier, rule.suppression, rule.action.kind) {
        (Some(_), Suppression::OnceEver, _) => (Outcome::Suppress, ReasonCode::SuppressedOnceEver),
        (Some(_), _, _) => (Outcome::Suppress, ReasonCode::SuppressedOncePerCalendarDay),
        (None, _, ActionType::Alert) => (Outcome::Alert, ReasonCode::Alerted),
        (None, _, ActionType::Send) if capped.is_some() => {
            (Outcome::Suppress, ReasonCode::SuppressedFrequencyCap)
        }
        (None, _, ActionType::Send) if render_error.is_some() => {
            (Outcome::Suppress, ReasonCode::SuppressedRenderError)
        }
        (None, _, ActionType::Send) => {
            let quiet = quiet_guard(rules, rule, event, zone.zone);
            trace.quiet = quiet;
            match quiet.filter(QuietTrace::stopped) {
                None => (Outcome::Allow, ReasonCode::Sent),
                Some(q) => match q.hours.mode {
                    quiet::QuietMode::Drop => (Outcome::Suppress, ReasonCode::SuppressedQuietHours),
                    quiet::QuietMode::Hold => {
                        deliver_at = q.deliver_at;
                        (Outcome::Allow, ReasonCode::Scheduled)
                    }
                },
            }
        }
    };
    let local_calendar =
        rule.suppression == Suppression::OncePerCalendarDay && rule.calendar == CalendarBasis::User;
    if local_calendar || trace.quiet.is_some() {
        trace.zone = Some(zone.clone());
    }
    trace.suppression = Some(suppression);
    let reason = match (capped, render_error) {
        (Some(c), _) => format!("{} matched; capped by {c}", rule.name),
        (None, Some(e)) => format!(
            "{} matched; template {template} does not render: {e}",
            rule.name
        ),
        (None, None) => reason::matched(rule, &trace, outcome),
    };
    let message_text = match rendered {
        Some(Ok(text)) if matches!(outcome, Outcome::Allow | Outcome::Alert) => Some(text),
        _ => None,
    };
    Decision {
        verdict: Verdict {
            matched_rule: Some(rule.name.clone()),
            action_type: rule.action.kind.into(),
            template_name: Some(rule.action.template.clone()),
            channel: Some(rule.action.channel),
            outcome,
            reason,
            reason_code,
            deliver_at,
            message_text,
        },
        trace,
    }
}

/// Quiet hours (SPEC §7.3, row 6) as they stand for a send of `rule`: `None` when the file
/// has none.
fn quiet_guard(
    rules: &RuleSet,
    rule: &crate::rules::Rule,
    event: &Event,
    zone: Zone,
) -> Option<QuietTrace> {
    let hours = rules.policy.quiet_hours?;
    let t = event.event_timestamp;
    let local = zone.local(t);
    let quiet = hours.contains(local.time());
    let applies = rule.quiet_hours_apply();
    let deliver_at = (quiet && applies && hours.mode == quiet::QuietMode::Hold)
        // Only past the end of time is there no such instant: then it goes out at once.
        .then(|| hours.deliver_at(zone, t).unwrap_or(t));
    Some(QuietTrace {
        hours,
        local,
        quiet,
        applies,
        deliver_at,
    })
}

pub use crate::fmt::fmt_hours;

#[cfg(test)]
mod decide_tests;
#[cfg(test)]
mod guard_tests;
#[cfg(test)]
mod reason_tests;
#[cfg(test)]
mod render_tests;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod time_tests;
#[cfg(test)]
mod verdict_tests;
