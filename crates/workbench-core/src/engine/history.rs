//! What the engine needs from the past before deciding an event: the lookups it asks for
//! (prior events, deliveries in a window, frequency caps' counts, the user's earlier zone) and
//! the history that answers them.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::guards;
use super::zone::{Calendar, LocalWindow, ResolvedZone, Zone};
use crate::event::Event;
use crate::rules::{CalendarBasis, RuleSet, Suppression};

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
    pub(super) fn prior(&self, event_type: &str) -> Option<PriorEvent> {
        self.priors
            .iter()
            .find(|(t, _)| *t == event_type)
            .and_then(|(_, p)| *p)
    }

    pub(super) fn delivery(&self, template: &str, window: Window) -> Option<Delivery> {
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
