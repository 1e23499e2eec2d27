//! The Events pane's columns, sized from their content and the pane's width: type and rule
//! get what they need, the user id up to a limit, and the time shortens to the time of day
//! when every row shown is on one day (the day goes in the title). What does not fit is
//! reached by scrolling sideways, never cut.

use chrono::{DateTime, NaiveDate, Utc};

use crate::event::format_ts;
use crate::session::Session;

/// The widest user id shown in full; longer ones end in `…` (the detail view has them all).
pub const USER_MAX: usize = 24;
/// The outcome column: a symbol, a space and the longest outcome (`suppress`).
pub const OUTCOME: usize = 10;

/// The widest value of each text column over a run, measured once per load.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Widths {
    pub user: usize,
    pub kind: usize,
    pub rule: usize,
}

impl Widths {
    pub fn of(s: &Session) -> Widths {
        let longest = |names: &mut dyn Iterator<Item = &str>| {
            names.map(|n| n.chars().count()).max().unwrap_or(0)
        };
        Widths {
            user: longest(&mut s.by_user.keys().map(AsRef::as_ref)),
            kind: longest(&mut s.rows.event_types()),
            rule: longest(&mut s.rows.rule_names()),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeFormat {
    /// `2025-10-10T09:00:00Z`
    Full,
    /// `10-10 09:00`
    DayTime,
    /// `09:00:00`, the day being in the title.
    TimeOfDay(NaiveDate),
}

impl TimeFormat {
    pub fn width(self) -> usize {
        match self {
            TimeFormat::Full => 20,
            TimeFormat::DayTime => 11,
            TimeFormat::TimeOfDay(_) => 8,
        }
    }

    pub fn format(self, t: DateTime<Utc>) -> String {
        match self {
            TimeFormat::Full => format_ts(t),
            TimeFormat::DayTime => t.format("%m-%d %H:%M").to_string(),
            TimeFormat::TimeOfDay(_) => t.format("%H:%M:%S").to_string(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Columns {
    /// Digits of the event number.
    pub digits: usize,
    pub time: TimeFormat,
    pub user: usize,
    pub kind: usize,
    pub rule: usize,
}

impl Columns {
    /// Columns for a pane `width` wide showing rows whose timestamps are `shown`.
    pub fn plan(
        width: usize,
        digits: usize,
        widths: Widths,
        shown: impl IntoIterator<Item = DateTime<Utc>>,
    ) -> Columns {
        let mut days = shown.into_iter().map(|t| t.date_naive());
        let first = days.next();
        let one_day = first.filter(|d| days.all(|x| x == *d));
        let mut c = Columns {
            digits: digits.max(1),
            time: one_day.map_or(TimeFormat::Full, TimeFormat::TimeOfDay),
            user: widths.user.clamp(4, USER_MAX),
            kind: widths.kind.max(4),
            rule: widths.rule.max(4),
        };
        if c.time == TimeFormat::Full && c.total() > width {
            c.time = TimeFormat::DayTime;
        }
        c
    }

    /// Everything before the time: cursor, number, ✓/✗, Δ and the gaps.
    pub fn lead(&self) -> usize {
        2 + self.digits + 1 + 2 + 2
    }

    /// The width of a full row.
    pub fn total(&self) -> usize {
        self.lead()
            + self.time.width()
            + 2
            + self.user
            + 2
            + self.kind
            + 2
            + OUTCOME
            + 2
            + self.rule
    }

    pub fn header(&self) -> String {
        let time = match self.time {
            TimeFormat::Full => "event_timestamp",
            TimeFormat::DayTime => "time (UTC)",
            TimeFormat::TimeOfDay(_) => "UTC",
        };
        format!(
            "{:lead$}{time:<tw$}  {:<uw$}  {:<kw$}  {:<ow$}  rule",
            format!("  {:>d$}", "#", d = self.digits),
            "user",
            "type",
            "outcome",
            lead = self.lead(),
            tw = self.time.width(),
            uw = self.user,
            kw = self.kind,
            ow = OUTCOME,
        )
    }
}

/// `s` padded to `width`, or cut with `…` when longer.
pub fn fit(s: &str, width: usize) -> String {
    if s.chars().count() <= width {
        format!("{s:<width$}")
    } else {
        let cut: String = s.chars().take(width.saturating_sub(1)).collect();
        format!("{cut}…")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    const W: Widths = Widths {
        user: 5,
        kind: 16,
        rule: 24,
    };

    #[test]
    fn one_day_shown_gives_the_time_of_day() {
        let c = Columns::plan(
            200,
            2,
            W,
            [at("2025-10-10T09:00:00Z"), at("2025-10-10T23:59:59Z")],
        );
        assert_eq!(
            c.time,
            TimeFormat::TimeOfDay(NaiveDate::from_ymd_opt(2025, 10, 10).unwrap())
        );
        assert_eq!(c.time.format(at("2025-10-10T23:59:59Z")), "23:59:59");
    }

    #[test]
    fn type_and_rule_get_what_they_need_and_the_time_shortens_first() {
        let days = [at("2025-10-10T09:00:00Z"), at("2025-10-11T09:00:00Z")];
        let wide = Columns::plan(200, 2, W, days);
        assert_eq!(
            (wide.time, wide.kind, wide.rule),
            (TimeFormat::Full, 16, 24)
        );
        // `▶ 12 ✓Δ  ` then the columns and their gaps.
        assert_eq!(wide.total(), 9 + 20 + 2 + 5 + 2 + 16 + 2 + 10 + 2 + 24);
        let narrow = Columns::plan(80, 2, W, days);
        assert_eq!(
            (narrow.time, narrow.kind, narrow.rule),
            (TimeFormat::DayTime, 16, 24)
        );
        assert!(
            narrow.total() > 80,
            "the rest is reached by scrolling sideways"
        );
        assert_eq!(
            narrow.header().chars().count(),
            narrow.total() - narrow.rule + "rule".len()
        );
    }

    #[test]
    fn short_columns_keep_their_headings_and_long_ids_end_in_an_ellipsis() {
        let c = Columns::plan(120, 1, Widths::default(), []);
        assert_eq!((c.user, c.kind, c.rule), (4, 4, 4));
        let long = Widths {
            user: 300,
            ..Widths::default()
        };
        assert_eq!(Columns::plan(120, 1, long, []).user, USER_MAX);
        assert_eq!(fit("abcdef", 4), "abc…");
        assert_eq!(fit("ab", 4), "ab  ");
    }
}
