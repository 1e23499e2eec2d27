//! When an event happened for its user: its UTC timestamp with the local time in the zone it
//! is decided in, and when a held send goes out, for the top of the Rule match pane and
//! `workbench explain`.

use chrono::{DateTime, Utc};

use super::{Line, Span, Style};
use crate::engine::{Outcome, ResolvedZone, Zone};
use crate::event::format_ts;
use crate::rules::{CalendarBasis, RuleSet};

/// Whether the file decides anything in the user's time: quiet hours, or a rule whose
/// suppression counts the user's local days. Then every event shows its local time.
pub fn uses_user_time(rules: &RuleSet) -> bool {
    rules.policy.quiet_hours.is_some()
        || rules
            .rules
            .iter()
            .any(|r| r.calendar == CalendarBasis::User)
}

/// `23:00 CET`, with the local date (`03-30 00:30 CEST`) when it is not the UTC date, and the
/// seconds when there are any.
pub fn local_time(zone: Zone, t: DateTime<Utc>) -> String {
    let local = t.with_timezone(&zone.tz());
    let time = if local.format("%S").to_string() == "00" {
        "%H:%M %Z"
    } else {
        "%H:%M:%S %Z"
    };
    if local.date_naive() == t.date_naive() {
        local.format(time).to_string()
    } else {
        format!("{} {}", local.format("%m-%d"), local.format(time))
    }
}

/// The event's time: UTC and local in `zone`, the zone and why, and when a held send is
/// delivered. Empty without a zone (the decision used none and the file has no user time).
pub fn when(
    t: DateTime<Utc>,
    zone: Option<&ResolvedZone>,
    deliver_at: Option<DateTime<Utc>>,
) -> Vec<Line> {
    let Some(z) = zone else {
        return Vec::new();
    };
    let mut out = vec![
        Line::new(vec![
            Span::plain(format_ts(t)),
            Span::styled(" · ", Style::Dim),
            Span::plain(local_time(z.zone, t)),
        ]),
        Line::new(vec![
            Span::styled("zone ", Style::Dim),
            Span::plain(z.to_string()),
        ]),
    ];
    if let Some(at) = deliver_at {
        out.push(Line::new(vec![
            Span::styled("scheduled → ", Style::Outcome(Outcome::Allow)),
            Span::plain(format_ts(at)),
            Span::styled(" · ", Style::Dim),
            Span::plain(local_time(z.zone, at)),
        ]));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::ZoneSource;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn local_time_names_the_offset_and_the_date_when_it_differs() {
        let oslo = Zone::parse("Europe/Oslo").unwrap();
        assert_eq!(local_time(oslo, at("2025-03-29T22:00:00Z")), "23:00 CET");
        assert_eq!(local_time(oslo, at("2025-03-30T06:00:00Z")), "08:00 CEST");
        assert_eq!(
            local_time(oslo, at("2025-03-29T23:30:05Z")),
            "03-30 00:30:05 CET"
        );
        assert_eq!(
            local_time(Zone::UTC, at("2025-03-29T23:30:00Z")),
            "23:30 UTC"
        );
    }

    #[test]
    fn when_shows_utc_local_zone_and_a_held_sends_time() {
        let z = ResolvedZone {
            zone: Zone::parse("Europe/Oslo").unwrap(),
            source: ZoneSource::Trait,
            invalid: None,
        };
        let t = at("2025-03-29T22:00:00Z");
        assert!(when(t, None, None).is_empty());
        let text = super::super::plain(&when(t, Some(&z), Some(at("2025-03-30T06:00:00Z"))));
        assert_eq!(
            text,
            "2025-03-29T22:00:00Z · 23:00 CET\n\
             zone Europe/Oslo (user_traits.timezone)\n\
             scheduled → 2025-03-30T06:00:00Z · 08:00 CEST\n"
        );
    }
}
