//! User time (SPEC §7.2): which IANA zone an event is decided in and why, and the local
//! calendar windows (day, ISO week, month) of an instant in a zone, as UTC instants. DST is the
//! tz database's (chrono-tz, compiled in), never computed by hand.

use std::fmt;
use std::str::FromStr;

use chrono::{
    DateTime, Datelike, Days, LocalResult, Months, NaiveDate, NaiveDateTime, NaiveTime, TimeZone,
    Utc,
};
use chrono_tz::Tz;

/// A valid IANA zone (or link) name, spelled as in the tz database.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Zone(Tz);

impl Zone {
    pub const UTC: Zone = Zone(Tz::UTC);

    /// The zone named exactly `name` (`Europe/Oslo`; not `europe/oslo`, not `Local`).
    pub fn parse(name: &str) -> Option<Zone> {
        Tz::from_str(name).ok().map(Zone)
    }

    pub fn name(self) -> &'static str {
        self.0.name()
    }

    pub fn tz(self) -> Tz {
        self.0
    }

    /// The local wall-clock time of `t` in this zone.
    pub fn local(self, t: DateTime<Utc>) -> NaiveDateTime {
        t.with_timezone(&self.0).naive_local()
    }

    /// The UTC offset in effect at `t`, as `+02:00`.
    pub fn offset(self, t: DateTime<Utc>) -> String {
        t.with_timezone(&self.0).format("%:z").to_string()
    }

    /// The earliest instant whose local time is `local` or, when a DST gap skips `local`, the
    /// first instant after the gap. `None` only past the end of time.
    pub fn first_instant_at(self, local: NaiveDateTime) -> Option<DateTime<Utc>> {
        // Gaps are whole minutes and shorter than two days, 2,880 minutes (the longest,
        // Samoa's in 2011 and Kwajalein's in 1993, skipped one whole day).
        let mut t = local;
        for _ in 0..=2_880 {
            match self.0.from_local_datetime(&t) {
                LocalResult::Single(x) | LocalResult::Ambiguous(x, _) => {
                    return Some(x.with_timezone(&Utc));
                }
                LocalResult::None => t = t.checked_add_signed(chrono::TimeDelta::minutes(1))?,
            }
        }
        None
    }

    /// Every instant whose local time is `local`: none in a gap, two in an overlap.
    pub fn instants_at(self, local: NaiveDateTime) -> Vec<DateTime<Utc>> {
        match self.0.from_local_datetime(&local) {
            LocalResult::Single(x) => vec![x.with_timezone(&Utc)],
            LocalResult::Ambiguous(a, b) => vec![a.with_timezone(&Utc), b.with_timezone(&Utc)],
            LocalResult::None => Vec::new(),
        }
    }

    /// The first instant of local date `d`.
    fn start_of(self, d: NaiveDate) -> Option<DateTime<Utc>> {
        self.first_instant_at(d.and_time(NaiveTime::MIN))
    }

    /// The local calendar window of `kind` that holds `t`, as `[start, end)` in UTC.
    pub fn window(self, kind: Calendar, t: DateTime<Utc>) -> LocalWindow {
        let date = self.local(t).date();
        let (first, next) = match kind {
            Calendar::Day => (date, date.checked_add_days(Days::new(1))),
            Calendar::Week => {
                let monday = date - Days::new(u64::from(date.weekday().num_days_from_monday()));
                (monday, monday.checked_add_days(Days::new(7)))
            }
            Calendar::Month => {
                let first = date.with_day(1).unwrap_or(date);
                (first, first.checked_add_months(Months::new(1)))
            }
        };
        let start = self.start_of(first).unwrap_or(t);
        let end = next.and_then(|n| self.start_of(n));
        LocalWindow {
            kind,
            zone: self,
            first,
            start,
            end,
        }
    }
}

impl fmt::Display for Zone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A kind of local calendar window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Calendar {
    Day,
    /// ISO week, from Monday.
    Week,
    Month,
}

/// A local calendar window: its first local date, and its UTC bounds `[start, end)`
/// (`end` is `None` past the end of time).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LocalWindow {
    pub kind: Calendar,
    pub zone: Zone,
    pub first: NaiveDate,
    pub start: DateTime<Utc>,
    pub end: Option<DateTime<Utc>>,
}

impl LocalWindow {
    pub fn contains(&self, t: DateTime<Utc>) -> bool {
        self.start <= t && self.end.is_none_or(|e| t < e)
    }
}

impl fmt::Display for LocalWindow {
    /// `2025-10-10 (Europe/Oslo)`, `week of 2025-10-06 (UTC)`, `2025-10 (Asia/Kolkata)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            Calendar::Day => write!(f, "{} ({})", self.first, self.zone),
            Calendar::Week => write!(f, "week of {} ({})", self.first, self.zone),
            Calendar::Month => write!(f, "{} ({})", self.first.format("%Y-%m"), self.zone),
        }
    }
}

/// Where an event's zone came from (SPEC §7.2), for the explanation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ZoneSource {
    /// This event's `user_traits.timezone`.
    Trait,
    /// The user's latest earlier event (by arrival) with a valid zone.
    EarlierEvent { event_id: i64 },
    /// The rules file's `timezone:` (UTC when absent).
    Default,
}

/// The zone an event is decided in, why, and the invalid name it carried, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedZone {
    pub zone: Zone,
    pub source: ZoneSource,
    pub invalid: Option<String>,
}

impl Default for ResolvedZone {
    fn default() -> Self {
        ResolvedZone {
            zone: Zone::UTC,
            source: ZoneSource::Default,
            invalid: None,
        }
    }
}

impl ResolvedZone {
    /// SPEC §7.2: the event's own valid zone, else the latest earlier one, else the default.
    pub fn resolve(
        trait_value: Option<&serde_json::Value>,
        earlier: Option<(i64, Zone)>,
        default: Zone,
    ) -> ResolvedZone {
        let invalid = match trait_value {
            None | Some(serde_json::Value::Null) => None,
            Some(serde_json::Value::String(name)) => match Zone::parse(name) {
                Some(zone) => {
                    return ResolvedZone {
                        zone,
                        source: ZoneSource::Trait,
                        invalid: None,
                    };
                }
                None => Some(name.clone()),
            },
            Some(other) => Some(other.to_string()),
        };
        let (zone, source) = match earlier {
            Some((event_id, zone)) => (zone, ZoneSource::EarlierEvent { event_id }),
            None => (default, ZoneSource::Default),
        };
        ResolvedZone {
            zone,
            source,
            invalid,
        }
    }
}

impl fmt::Display for ResolvedZone {
    /// `Europe/Oslo (user_traits.timezone)`, `Asia/Tokyo (from event 12; `Mars/Base` is not a
    /// time zone)`, `UTC (the rules file's default)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (", self.zone)?;
        match &self.source {
            ZoneSource::Trait => f.write_str("user_traits.timezone")?,
            ZoneSource::EarlierEvent { event_id } => write!(f, "from event {event_id}")?,
            ZoneSource::Default => f.write_str("the rules file's default")?,
        }
        if let Some(name) = &self.invalid {
            write!(f, "; `{name}` is not a time zone")?;
        }
        f.write_str(")")
    }
}

#[cfg(test)]
mod tests;
