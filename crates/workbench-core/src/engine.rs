//! The pure rule engine: an event, the rules, the history they need and nothing else in;
//! a decision with its full explanation out. No storage, clock, terminal or file I/O here.

mod eval;
pub mod guards;
pub mod quiet;
mod reason;
mod trace;
pub mod zone;

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::Serialize;

pub use eval::{Actual, json_eq};
pub use trace::{CondTrace, QuietTrace, Role, RuleTrace, SuppressionTrace, Trace};
pub use zone::{Calendar, LocalWindow, ResolvedZone, Zone, ZoneSource};

use crate::event::Event;
use crate::rules::{ActionType, CalendarBasis, Channel, RuleSet, Suppression};

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

/// Which deliveries count for suppression: all of them, or those whose event falls in a
/// calendar window (a UTC day, or a day of the user's local calendar).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Window {
    Ever,
    Calendar(LocalWindow),
}

impl Window {
    /// The UTC calendar day of `t`.
    pub fn utc_day(t: DateTime<Utc>) -> Window {
        Window::Calendar(Zone::UTC.window(Calendar::Day, t))
    }

    /// The window a rule's suppression looks in for `event`, decided in `zone`.
    pub fn for_mode(
        mode: Suppression,
        calendar: CalendarBasis,
        event: &Event,
        zone: Zone,
    ) -> Window {
        match (mode, calendar) {
            (Suppression::OncePerCalendarDay, CalendarBasis::Utc) => {
                Window::utc_day(event.event_timestamp)
            }
            (Suppression::OncePerCalendarDay, CalendarBasis::User) => {
                Window::Calendar(zone.window(Calendar::Day, event.event_timestamp))
            }
            _ => Window::Ever,
        }
    }

    /// The window as a half-open range of UTC instants; `None` bounds are open.
    pub fn range(&self) -> (Option<DateTime<Utc>>, Option<DateTime<Utc>>) {
        match self {
            Window::Ever => (None, None),
            Window::Calendar(w) => (Some(w.start), w.end),
        }
    }
}

impl std::fmt::Display for Window {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Window::Ever => f.write_str("ever"),
            Window::Calendar(w) => w.fmt(f),
        }
    }
}

impl Serialize for Window {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// The history an event needs: what to look up before deciding.
#[derive(Debug, Clone, PartialEq)]
pub struct Lookups<'r> {
    pub prior_types: &'r [String],
    pub deliveries: Vec<(&'r str, Window)>,
    /// Frequency caps to count: the cap (by index) and this event's window for it.
    pub caps: Vec<(usize, Window)>,
}

/// The answers to [`Lookups`], in the same order, and the zone the event is decided in.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct History<'r> {
    pub priors: Vec<(&'r str, Option<PriorEvent>)>,
    pub deliveries: Vec<(&'r str, Window, Option<Delivery>)>,
    /// Per cap: the user's earlier deliveries it counts in its window (at most `max`).
    pub caps: Vec<(usize, Window, Vec<Delivery>)>,
    pub zone: ResolvedZone,
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

/// The event's own `user_traits.timezone`, as given (any JSON value).
pub fn timezone_trait(event: &Event) -> Option<serde_json::Value> {
    event.user_traits.as_ref().and_then(|t| t.get("timezone"))
}

/// The event's own valid zone, if its `user_traits.timezone` names one: what is stored with
/// the event for later events of the user to fall back on.
pub fn own_zone(event: &Event) -> Option<Zone> {
    match timezone_trait(event)? {
        serde_json::Value::String(name) => Zone::parse(&name),
        _ => None,
    }
}

/// Whether deciding `event` needs the user's latest earlier valid zone: some rule of its
/// trigger uses the user's time and the event names no valid zone itself.
pub fn needs_earlier_zone(rules: &RuleSet, event: &Event) -> bool {
    rules.plan(&event.event_type).is_some_and(|p| p.needs_zone) && own_zone(event).is_none()
}

/// The zone `event` is decided in (SPEC §7.2), given the user's latest earlier valid zone.
pub fn resolve_zone(rules: &RuleSet, event: &Event, earlier: Option<(i64, Zone)>) -> ResolvedZone {
    ResolvedZone::resolve(
        timezone_trait(event).as_ref(),
        earlier,
        rules.policy.timezone,
    )
}

/// What the engine needs to know about the past before it can decide `event` in `zone`.
pub fn lookups<'r>(rules: &'r RuleSet, event: &Event, zone: Zone) -> Lookups<'r> {
    match rules.plan(&event.event_type) {
        None => Lookups {
            prior_types: &[],
            deliveries: Vec::new(),
            caps: Vec::new(),
        },
        Some(plan) => Lookups {
            prior_types: &plan.prior_types,
            deliveries: plan
                .deliveries
                .iter()
                .map(|(t, mode, cal)| (&**t, Window::for_mode(*mode, *cal, event, zone)))
                .collect(),
            // A cap is looked up only when a send it covers can get past consent and the
            // holdout for this event (both read the event alone): a send stopped before
            // guard 4 never needs its count.
            caps: plan
                .caps
                .iter()
                .filter(|&&c| {
                    let cap = &rules.policy.frequency_caps[c];
                    plan.rules.iter().map(|&r| &rules.rules[r]).any(|r| {
                        cap.covers_rule(r)
                            && guards::before_suppression(rules, r, event)
                                .iter()
                                .all(guards::GuardTrace::passed)
                    })
                })
                .map(|&c| {
                    let cap = &rules.policy.frequency_caps[c];
                    let z = match cap.calendar {
                        CalendarBasis::User => zone,
                        CalendarBasis::Utc => Zone::UTC,
                    };
                    (
                        c,
                        Window::Calendar(z.window(cap.window, event.event_timestamp)),
                    )
                })
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
mod guard_tests;
#[cfg(test)]
mod render_tests;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod time_tests;
