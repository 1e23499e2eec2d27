use std::fmt::Write;
use std::path::Path;

use serde_json::{Value, json};

use super::super::{Facts, LintKind, lint, lint_with};
use crate::event::Event;
use crate::rules::RuleSet;

const QUIET: &str = "quiet_hours: {start: \"21:00\", end: \"08:00\", mode: hold}\n";
const OSLO: &str = "timezone: Europe/Oslo\n";

fn load(src: &str) -> RuleSet {
    RuleSet::from_yaml(
        Path::new("r.yaml"),
        &format!("{src}templates:\n  T: text\n"),
    )
    .unwrap()
}

/// The time lints of `src` without scenarios: (kind, line, message).
fn time_lints(src: &str) -> Vec<(LintKind, Option<usize>, String)> {
    only_time(lint(&load(src)))
}

/// The time lints of `src` against one scenario file holding `events`.
fn time_lints_with(src: &str, events: &[Event]) -> Vec<(LintKind, Option<usize>, String)> {
    let rules = load(src);
    let mut facts = Facts::for_rules(&rules);
    facts.files = 1;
    for e in events {
        facts.observe(e);
    }
    only_time(lint_with(&rules, &facts).warnings)
}

fn only_time(w: Vec<super::Warning>) -> Vec<(LintKind, Option<usize>, String)> {
    w.into_iter()
        .filter(|w| {
            matches!(
                w.kind,
                LintKind::QuietHoursNoEffect | LintKind::NoZoneSource
            )
        })
        .map(|w| (w.kind, w.line, w.message))
        .collect()
}

fn kinds(w: &[(LintKind, Option<usize>, String)]) -> Vec<LintKind> {
    w.iter().map(|(k, _, _)| *k).collect()
}

/// A rules file with the policy lines `head`, then one rule per `(name, action, extra)`.
fn file(head: &str, rules: &[(&str, &str, &str)]) -> String {
    let mut s = format!("{head}rules:\n");
    for (name, action, extra) in rules {
        let _ = write!(
            s,
            "  - name: {name}\n    trigger: {{event_type: payment_failed}}\n    action: {action}\n{extra}"
        );
    }
    s
}

const EMAIL: &str = "{type: send, template_name: T, delivery_method: email}";
const INTERNAL: &str = "{type: send, template_name: T, delivery_method: internal}";
const ALERT: &str = "{type: alert, template_name: T, delivery_method: internal}";
const OFF: &str = "    quiet_hours: false\n";
const LOCAL_DAY: &str = "    suppression: {mode: once_per_calendar_day, calendar: user}\n";

fn event(traits: Value) -> Event {
    Event {
        user_id: "u".into(),
        event_type: "payment_failed".into(),
        event_timestamp: chrono::DateTime::UNIX_EPOCH,
        properties: serde_json::Map::new(),
        user_traits: serde_json::from_value(traits).ok(),
        idempotency_key: None,
    }
}

#[test]
fn quiet_hours_false_where_quiet_hours_never_apply_is_reported_with_why() {
    let src = file(
        &format!("{OSLO}{QUIET}"),
        &[
            ("alert", ALERT, OFF),
            (
                "receipt",
                EMAIL,
                "    category: transactional\n    quiet_hours: false\n",
            ),
            ("ops", INTERNAL, OFF),
            ("promo", EMAIL, OFF),
            ("plain", EMAIL, ""),
        ],
    );
    let w = time_lints(&src);
    assert_eq!(
        w,
        [
            (
                LintKind::QuietHoursNoEffect,
                Some(4),
                "rule `alert` (line 4): `quiet_hours: false` has no effect: quiet hours never \
                 apply to an alert"
                    .to_string()
            ),
            (
                LintKind::QuietHoursNoEffect,
                Some(8),
                "rule `receipt` (line 8): `quiet_hours: false` has no effect: quiet hours apply \
                 only to marketing sends, and this rule's category is `transactional`"
                    .to_string()
            ),
            (
                LintKind::QuietHoursNoEffect,
                Some(13),
                "rule `ops` (line 13): `quiet_hours: false` has no effect: quiet hours never \
                 apply to sends on `internal`"
                    .to_string()
            ),
        ]
    );
}

#[test]
fn quiet_hours_false_without_quiet_hours_in_the_file_is_reported() {
    let w = time_lints(&file(OSLO, &[("promo", EMAIL, OFF)]));
    assert_eq!(
        w,
        [(
            LintKind::QuietHoursNoEffect,
            Some(3),
            "rule `promo` (line 3): `quiet_hours: false` has no effect: the file sets no \
             `quiet_hours:`"
                .to_string()
        )]
    );
    // A marketing send opting out of the file's quiet hours is what the key is for.
    assert_eq!(
        time_lints(&file(&format!("{OSLO}{QUIET}"), &[("promo", EMAIL, OFF)])),
        []
    );
}

#[test]
fn a_local_day_without_any_zone_source_is_reported() {
    let src = file("", &[("daily", EMAIL, LOCAL_DAY), ("utc_day", EMAIL, "")]);
    // Without scenarios: the file's default alone decides.
    assert_eq!(
        time_lints(&src),
        [(
            LintKind::NoZoneSource,
            Some(2),
            "rule `daily` (line 2) counts days in the user's calendar, but the file sets no \
             `timezone:` other than UTC and no scenario was checked: unless events carry \
             `user_traits.timezone`, every user's day would be the UTC day"
                .to_string()
        )]
    );
    // With scenarios whose events carry no zone, or only invalid ones.
    let events = [
        event(json!({"country": "NO"})),
        event(json!({"timezone": "Europe/Olso"})),
        event(json!({"timezone": null})),
    ];
    assert_eq!(
        time_lints_with(&src, &events),
        [(
            LintKind::NoZoneSource,
            Some(2),
            "rule `daily` (line 2) counts days in the user's calendar, but no event of the 1 \
             scenario file carries a valid `user_traits.timezone` (1 event carries one that is \
             not a time zone) and the file sets no `timezone:` other than UTC: every user's day \
             would be the UTC day"
                .to_string()
        )]
    );
    // An explicit `timezone: UTC` is the same default.
    assert_eq!(
        kinds(&time_lints(&format!("timezone: UTC\n{src}"))),
        [LintKind::NoZoneSource]
    );
}

#[test]
fn a_zone_source_or_no_local_time_silences_the_zone_lint() {
    let src = file("", &[("daily", EMAIL, LOCAL_DAY)]);
    // One event with a valid zone is a source for the user's later events.
    let events = [
        event(json!({})),
        event(json!({"timezone": "America/New_York"})),
    ];
    assert_eq!(time_lints_with(&src, &events), []);
    // The file's default zone.
    assert_eq!(time_lints(&format!("{OSLO}{src}")), []);
    assert_eq!(time_lints_with(&format!("{OSLO}{src}"), &[]), []);
    // A disabled rule, a UTC day, quiet hours that apply to no rule: nothing needs a zone.
    let quiet = file(
        QUIET,
        &[
            (
                "off",
                EMAIL,
                "    enabled: false\n    suppression: {mode: once_per_calendar_day, calendar: user}\n",
            ),
            (
                "utc_day",
                EMAIL,
                "    category: transactional\n    suppression: {mode: once_per_calendar_day}\n",
            ),
            ("ops", INTERNAL, ""),
            ("risk", ALERT, ""),
        ],
    );
    assert_eq!(time_lints(&quiet), []);
}

#[test]
fn quiet_hours_without_a_zone_source_are_reported_once() {
    let src = file(
        QUIET,
        &[
            ("receipt", EMAIL, "    category: transactional\n"),
            ("promo", EMAIL, ""),
            ("nudge", EMAIL, ""),
            ("later", EMAIL, ""),
        ],
    );
    let w = time_lints_with(&src, &[event(json!({"country": "NO"}))]);
    assert_eq!(
        w,
        [(
            LintKind::NoZoneSource,
            Some(7),
            "quiet hours 21:00–08:00 apply to rule `promo` (line 7) and 2 more rules in the \
             user's local time, but no event of the 1 scenario file carries a valid \
             `user_traits.timezone` and the file sets no `timezone:` other than UTC: every \
             user's quiet hours would be 21:00–08:00 UTC"
                .to_string()
        )]
    );
    let events = [event(json!({"timezone": "Asia/Tokyo"}))];
    assert_eq!(time_lints_with(&src, &events), []);
    assert_eq!(time_lints(&format!("{OSLO}{src}")), []);
}

#[test]
fn facts_count_events_with_valid_and_invalid_zones() {
    let rules = load(&file("", &[("a", EMAIL, "")]));
    let mut facts = Facts::for_rules(&rules);
    for traits in [
        json!({"timezone": "Europe/Oslo"}),
        json!({"timezone": "europe/oslo"}),
        json!({"timezone": 3}),
        json!({"timezone": null}),
        json!({}),
        Value::Null,
    ] {
        facts.observe(&event(traits));
    }
    assert_eq!((facts.zoned_events, facts.bad_zone_events), (1, 2));
}
