//! The one-line human reason of each decision (SPEC §4.6).

use super::trace::{CondTrace, QuietTrace, Role, Trace};
use super::zone::ResolvedZone;
use super::{Outcome, Window};
use crate::event::{Event, format_ts};
use crate::explain::hours_apart;
use crate::rules::{CalendarBasis, Category, Channel, Rule, RuleSet, Suppression};

pub(super) fn no_match(rules: &RuleSet, event: &Event, trace: &Trace<'_>) -> String {
    let tried: Vec<String> = trace
        .rules
        .iter()
        .filter(|r| r.role == Role::NoMatch)
        .map(|r| match r.condition.as_ref().and_then(first_failure) {
            Some(why) => format!("{}: {why}", r.name),
            None => format!("{}: conditions not met", r.name),
        })
        .collect();
    if !tried.is_empty() {
        return tried.join("; ");
    }
    let disabled = rules
        .rules
        .iter()
        .any(|r| !r.enabled && r.trigger == event.event_type);
    if disabled {
        format!(
            "no enabled rule handles event type `{}` (only disabled ones)",
            event.event_type
        )
    } else {
        format!("no rule handles event type `{}`", event.event_type)
    }
}

/// The first condition that failed, described with what it saw.
pub fn first_failure(c: &CondTrace<'_>) -> Option<String> {
    match c {
        _ if c.result() => None,
        CondTrace::Field { test, actual, .. } => Some(format!("{test}, got {actual}")),
        CondTrace::Prior {
            test,
            found,
            hours_between,
            ..
        } => Some(match (found, hours_between) {
            (Some(p), Some(h)) => format!(
                "{test}, got {} {} (event {})",
                test.event_type,
                hours_apart(*h, "this event"),
                p.event_id
            ),
            _ => format!("{test}, got none"),
        }),
        CondTrace::All(kids, _) | CondTrace::Any(kids, _) => kids.iter().find_map(first_failure),
        CondTrace::Not(kid, _) => Some(format!("not ({}) held", describe(kid))),
    }
}

/// A condition in words, for `not (...)`.
fn describe(c: &CondTrace<'_>) -> String {
    match c {
        CondTrace::Field { test, .. } => test.to_string(),
        CondTrace::Prior { test, .. } => test.to_string(),
        CondTrace::All(k, _) => format!(
            "all of {}",
            k.iter().map(describe).collect::<Vec<_>>().join(", ")
        ),
        CondTrace::Any(k, _) => format!(
            "any of {}",
            k.iter().map(describe).collect::<Vec<_>>().join(", ")
        ),
        CondTrace::Not(k, _) => format!("not ({})", describe(k)),
    }
}

pub(super) fn matched(rule: &Rule, trace: &Trace<'_>, outcome: Outcome) -> String {
    let s = trace
        .suppression
        .as_ref()
        .expect("a matched rule has its suppression traced");
    let t = s.template;
    let zone = trace.zone.as_ref();
    if let (Outcome::Suppress, Some(d)) = (outcome, s.earlier) {
        let ts = format_ts(d.event_timestamp);
        let (date, time) = ts.split_once('T').unwrap_or((&ts, ""));
        return match (s.window, zone) {
            (Window::Calendar(w), Some(z)) if rule.calendar == CalendarBasis::User => {
                let local = w.zone.local(d.event_timestamp);
                format!(
                    "{t} already sent on {} at {} local in {z} for event {} ({ts})",
                    local.date(),
                    local.format("%H:%M:%S"),
                    d.event_id
                )
            }
            (Window::Calendar(_), _) => format!(
                "{t} already sent on {date} (UTC) at {time} for event {}",
                d.event_id
            ),
            (Window::Ever, _) => format!(
                "{t} already sent once ever, on {date} (UTC) at {time} for event {}",
                d.event_id
            ),
        };
    }
    if let (Outcome::Suppress, Some(q), Some(z)) = (outcome, trace.quiet, zone) {
        return format!(
            "{} matched; dropped by quiet hours {}: {} local in {z}",
            rule.name,
            q.hours,
            q.local.format("%H:%M")
        );
    }
    let shadowed: Vec<&str> = trace.shadowed().map(|r| r.name).collect();
    let also = if shadowed.is_empty() {
        String::new()
    } else {
        format!(" (also matched, not acted on: {})", shadowed.join(", "))
    };
    let mut named = false;
    let why = match (s.mode, s.window, zone) {
        (Suppression::OncePerCalendarDay, Window::Calendar(w), Some(z))
            if rule.calendar == CalendarBasis::User =>
        {
            named = true;
            format!("first {t} for this user on {} in {z}", w.first)
        }
        (Suppression::OncePerCalendarDay, Window::Calendar(w), _) => {
            format!("first {t} for this user on {} (UTC)", w.first)
        }
        (Suppression::OnceEver, _, _) => format!("first {t} ever for this user"),
        _ => format!("{t} has no suppression"),
    };
    let verb = if outcome == Outcome::Alert {
        "alert"
    } else {
        "send"
    };
    let quiet = match (trace.quiet, zone) {
        (Some(q), Some(z)) => quiet_note(rule, &q, if named { None } else { Some(z) }),
        _ => String::new(),
    };
    format!(
        "{} matched{also}; {verb} by {}: {why}{quiet}",
        rule.name, rule.action.channel
    )
}

/// What quiet hours said about a send that went ahead (now or held); `z` is the zone, unless
/// the reason already named it.
fn quiet_note(rule: &Rule, q: &QuietTrace, z: Option<&ResolvedZone>) -> String {
    let local = match z {
        Some(z) => format!("{} local in {z}", q.local.format("%H:%M")),
        None => format!("{} local", q.local.format("%H:%M")),
    };
    let window = q.hours;
    match (q.quiet, q.applies, q.deliver_at) {
        (true, true, Some(at)) => format!(
            "; held by quiet hours {window} ({local}), deliver at {}",
            format_ts(at)
        ),
        (true, _, _) => {
            let why = match rule.category {
                Some(Category::Transactional) => "transactional sends ignore them",
                _ if rule.action.channel == Channel::Internal => "internal sends ignore them",
                _ => "the rule says `quiet_hours: false`",
            };
            format!("; {local} is in quiet hours {window}, but {why}")
        }
        (false, true, _) => format!("; {local} is outside quiet hours {window}"),
        (false, false, _) => String::new(),
    }
}
