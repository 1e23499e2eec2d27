//! Lints on user time (SPEC §7): a `quiet_hours: false` that changes nothing, and rules that
//! decide in the user's zone when nothing gives a zone, so every user would be on UTC.

use super::{Facts, LintKind, Warning, at};
use crate::engine::zone::Zone;
use crate::rules::{ActionType, CalendarBasis, Category, Channel, Rule, RuleSet, Suppression};

/// Rules that say `quiet_hours: false` where quiet hours could never apply anyway.
pub fn quiet_hours_no_effect(rules: &RuleSet, out: &mut Vec<Warning>) {
    for rule in rules.rules.iter().filter(|r| !r.quiet_hours) {
        let why = if rule.action.kind == ActionType::Alert {
            "quiet hours never apply to an alert".to_string()
        } else if rule.category == Some(Category::Transactional) {
            "quiet hours apply only to marketing sends, and this rule's category is \
             `transactional`"
                .to_string()
        } else if rule.action.channel == Channel::Internal {
            "quiet hours never apply to sends on `internal`".to_string()
        } else if rules.policy.quiet_hours.is_none() {
            "the file sets no `quiet_hours:`".to_string()
        } else {
            continue;
        };
        out.push(Warning {
            kind: LintKind::QuietHoursNoEffect,
            line: rule.pos.map(|p| p.line),
            message: format!(
                "rule {}: `quiet_hours: false` has no effect: {why}",
                at(rule)
            ),
        });
    }
}

/// Rules that need the user's zone (a `calendar: user` day, quiet hours) when the file's
/// default zone is UTC and no scenario event carries `user_traits.timezone`: every user's
/// local time would be UTC. Without scenarios, the file's default alone decides.
pub fn no_zone_source(rules: &RuleSet, facts: &Facts, out: &mut Vec<Warning>) {
    if rules.policy.timezone != Zone::UTC || (facts.files > 0 && facts.zoned_events > 0) {
        return;
    }
    let (why, outcome) = if facts.files == 0 {
        (
            "the file sets no `timezone:` other than UTC and no scenario was checked".to_string(),
            "unless events carry `user_traits.timezone`, every user's",
        )
    } else {
        let bad = match facts.bad_zone_events {
            0 => String::new(),
            n => format!(
                " ({n} event{} carr{} one that is not a time zone)",
                if n == 1 { "" } else { "s" },
                if n == 1 { "ies" } else { "y" }
            ),
        };
        (
            format!(
                "no event of the {} scenario file{} carries a valid `user_traits.timezone`{bad} \
                 and the file sets no `timezone:` other than UTC",
                facts.files,
                if facts.files == 1 { "" } else { "s" }
            ),
            "every user's",
        )
    };
    let warn = |rule: &Rule, message: String| Warning {
        kind: LintKind::NoZoneSource,
        line: rule.pos.map(|p| p.line),
        message,
    };
    for rule in rules.enabled().filter(|r| {
        r.suppression == Suppression::OncePerCalendarDay && r.calendar == CalendarBasis::User
    }) {
        out.push(warn(
            rule,
            format!(
                "rule {} counts days in the user's calendar, but {why}: {outcome} day would be \
                 the UTC day",
                at(rule)
            ),
        ));
    }
    let Some(quiet) = rules.policy.quiet_hours else {
        return;
    };
    let quieted: Vec<&Rule> = rules.enabled().filter(|r| r.quiet_hours_apply()).collect();
    let Some(first) = quieted.first() else { return };
    let more = match quieted.len() - 1 {
        0 => String::new(),
        n => format!(" and {n} more rule{}", if n == 1 { "" } else { "s" }),
    };
    out.push(warn(
        first,
        format!(
            "quiet hours {quiet} apply to rule {}{more} in the user's local time, but {why}: \
             {outcome} quiet hours would be {quiet} UTC",
            at(first)
        ),
    ));
}

#[cfg(test)]
mod tests;
