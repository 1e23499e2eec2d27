//! Quiet hours (SPEC §7.3, row 6): a local wall-clock window `[start, end)` in which marketing
//! sends are dropped or held until `end`.

use std::fmt;

use chrono::{DateTime, Days, NaiveTime, Utc};

use super::zone::Zone;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuietMode {
    /// Allow, scheduled for the window's end.
    Hold,
    /// Suppress.
    Drop,
}

/// A validated quiet window: `start != end`; `start > end` wraps midnight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuietHours {
    pub start: NaiveTime,
    pub end: NaiveTime,
    pub mode: QuietMode,
}

impl QuietHours {
    /// Whether local time `t` is inside `[start, end)`.
    pub fn contains(&self, t: NaiveTime) -> bool {
        if self.start < self.end {
            self.start <= t && t < self.end
        } else {
            t >= self.start || t < self.end
        }
    }

    /// Whether instant `t` is quiet in `zone`.
    pub fn is_quiet(&self, zone: Zone, t: DateTime<Utc>) -> bool {
        self.contains(zone.local(t).time())
    }

    /// When a send held at `t` is delivered: the first instant at or after `t` whose local
    /// time is `end` (of two in a DST fall-back, the first not before `t`); when a DST gap
    /// skips `end` that day, the first instant after the gap.
    pub fn deliver_at(&self, zone: Zone, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let today = zone.local(t).date();
        (0..=2)
            .filter_map(|n| today.checked_add_days(Days::new(n)))
            .flat_map(|d| {
                let local = d.and_time(self.end);
                let exact = zone.instants_at(local);
                if exact.is_empty() {
                    zone.first_instant_at(local).into_iter().collect()
                } else {
                    exact
                }
            })
            .filter(|x| *x >= t)
            .min()
    }
}

impl fmt::Display for QuietMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            QuietMode::Hold => "hold",
            QuietMode::Drop => "drop",
        })
    }
}

impl fmt::Display for QuietHours {
    /// `21:00–08:00`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}–{}",
            self.start.format("%H:%M"),
            self.end.format("%H:%M")
        )
    }
}
