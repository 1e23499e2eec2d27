//! The rules file's policies across rules (SPEC §7.1): the default time zone and quiet hours,
//! with the rule keys that refer to them (`category`, `quiet_hours: false`,
//! `suppression.calendar`). Each value validates while deserializing, so an error carries the
//! position of the value itself.

use std::collections::BTreeMap;
use std::fmt;

use chrono::NaiveTime;
use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};

use crate::time::quiet::{QuietHours, QuietMode};
use crate::time::zone::Zone;
use crate::yaml::suggest;

/// What every rule shares: the zone of users whose zone is unknown, quiet hours, consent
/// per category and the holdout group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    pub timezone: Zone,
    pub quiet_hours: Option<QuietHours>,
    /// Category -> the trait (`user_traits.NAME`, by NAME) that must be exactly `true`.
    pub consent: BTreeMap<Category, ConsentTrait>,
    pub holdout: Option<Holdout>,
    pub frequency_caps: Vec<super::caps::Cap>,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            timezone: Zone::UTC,
            quiet_hours: None,
            consent: BTreeMap::new(),
            holdout: None,
            frequency_caps: Vec::new(),
        }
    }
}

/// The trait a consent category reads, written `user_traits.NAME`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsentTrait(pub String);

impl fmt::Display for ConsentTrait {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "user_traits.{}", self.0)
    }
}

impl<'de> Deserialize<'de> for ConsentTrait {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = ConsentTrait;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a trait path, `user_traits.NAME`")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<ConsentTrait, E> {
                match s.strip_prefix("user_traits.") {
                    Some(name) if !name.is_empty() && !name.contains('.') => {
                        super::name::check_name("trait name", name)
                            .map(|()| ConsentTrait(name.to_string()))
                            .map_err(E::custom)
                    }
                    _ => Err(E::custom(format!(
                        "consent is read from a trait: write `user_traits.NAME`, got `{}`",
                        super::name::show(s)
                    ))),
                }
            }
        }
        d.deserialize_str(V)
    }
}

/// A global control group of marketing sends: users whose bucket is below `percent`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holdout {
    pub percent: u8,
    pub salt: String,
}

impl Holdout {
    /// The user's bucket, 0..100: `fnv1a64(salt + ":" + user_id) % 100` (SPEC §7.3).
    pub fn bucket(&self, user_id: &str) -> u8 {
        let key = format!("{}:{user_id}", self.salt);
        u8::try_from(fnv1a64(key.as_bytes()) % 100).expect("below 100")
    }
}

/// FNV-1a, 64-bit.
pub fn fnv1a64(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawHoldout {
    percent: u64,
    salt: String,
}

impl TryFrom<RawHoldout> for Holdout {
    type Error = String;

    fn try_from(raw: RawHoldout) -> Result<Self, String> {
        match u8::try_from(raw.percent) {
            Ok(percent) if percent <= 100 => Ok(Holdout {
                percent,
                salt: raw.salt,
            }),
            _ => Err(super::raw::at_key(
                "percent",
                &format!("`percent` is 0..100, got {}", raw.percent),
            )),
        }
    }
}

impl<'de> Deserialize<'de> for Holdout {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        super::raw::via_map::<D, RawHoldout, Holdout>(d, "a holdout mapping")
    }
}

/// What a send is about: consent, caps and quiet hours apply by category. Alerts have none.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    Marketing,
    Transactional,
}

/// Which calendar `once_per_calendar_day` counts days in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CalendarBasis {
    #[default]
    Utc,
    /// The user's local calendar, in the event's zone (SPEC §7.2).
    User,
}

names! {
    Category => { Marketing = "marketing", Transactional = "transactional" },
    CalendarBasis => { Utc = "utc", User = "user" }
}

/// An IANA zone name, checked against the compiled-in tz database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ZoneName(pub Zone);

/// Why `name` is not a zone, with the closest zone name when one is near.
pub fn unknown_zone(name: &str) -> String {
    if name.is_empty() {
        return "the time zone name is empty: give an IANA name, e.g. `Europe/Oslo` or `UTC`"
            .to_string();
    }
    // Names shorter than three characters are too far from any zone to guess.
    let hint = (name.len() >= 3)
        .then(|| suggest::closest(name, chrono_tz::TZ_VARIANTS.iter().map(|z| z.name())))
        .flatten()
        .or_else(|| {
            // Case slips (`europe/oslo`) are farther than the edit distance allows.
            chrono_tz::TZ_VARIANTS
                .iter()
                .map(|z| z.name())
                .find(|z| z.eq_ignore_ascii_case(name))
        })
        .map(|z| format!("; did you mean `{z}`?"))
        .unwrap_or_default();
    format!(
        "`{}` is not an IANA time zone name (e.g. `Europe/Oslo`, `UTC`){hint}",
        super::name::show(name)
    )
}

impl<'de> Deserialize<'de> for ZoneName {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = ZoneName;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an IANA time zone name")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<ZoneName, E> {
                Zone::parse(s)
                    .map(ZoneName)
                    .ok_or_else(|| E::custom(unknown_zone(s)))
            }
        }
        d.deserialize_str(V)
    }
}

/// A local wall-clock time written `HH:MM` (24-hour).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClockTime(pub NaiveTime);

pub fn parse_clock(s: &str) -> Result<NaiveTime, String> {
    let ok = s.len() == 5 && s.as_bytes()[2] == b':';
    match NaiveTime::parse_from_str(s, "%H:%M") {
        Ok(t) if ok => Ok(t),
        _ => Err(format!(
            "`{}` is not a time of day: write `HH:MM`, 24-hour, e.g. `21:00`",
            super::name::show(s)
        )),
    }
}

impl<'de> Deserialize<'de> for ClockTime {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = ClockTime;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a time of day as \"HH:MM\"")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<ClockTime, E> {
                parse_clock(s).map(ClockTime).map_err(E::custom)
            }
        }
        d.deserialize_str(V)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RawQuietMode {
    Hold,
    Drop,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawQuietHours {
    start: ClockTime,
    end: ClockTime,
    mode: RawQuietMode,
}

impl TryFrom<RawQuietHours> for QuietHours {
    type Error = String;

    fn try_from(raw: RawQuietHours) -> Result<Self, String> {
        if raw.start == raw.end {
            return Err(super::raw::at_key(
                "end",
                &format!(
                    "`start` and `end` are both `{}`: the window would be empty or the whole \
                     day; give two different times",
                    raw.start.0.format("%H:%M")
                ),
            ));
        }
        Ok(QuietHours {
            start: raw.start.0,
            end: raw.end.0,
            mode: match raw.mode {
                RawQuietMode::Hold => QuietMode::Hold,
                RawQuietMode::Drop => QuietMode::Drop,
            },
        })
    }
}

impl<'de> Deserialize<'de> for QuietHours {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        super::raw::via_map::<D, RawQuietHours, QuietHours>(d, "a quiet_hours mapping")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clock_times_are_strict_hh_mm() {
        assert_eq!(
            parse_clock("21:00").unwrap(),
            NaiveTime::from_hms_opt(21, 0, 0).unwrap()
        );
        assert_eq!(
            parse_clock("00:00").unwrap(),
            NaiveTime::from_hms_opt(0, 0, 0).unwrap()
        );
        for bad in ["24:00", "9:00", "21:00:00", "21h", "", "25:61", "21:60"] {
            let e = parse_clock(bad).unwrap_err();
            assert!(e.contains("not a time of day"), "{bad}: {e}");
        }
    }

    #[test]
    fn fnv1a64_matches_the_reference_vectors() {
        // From the FNV reference (draft-eastlake-fnv): "", "a", "foobar".
        assert_eq!(fnv1a64(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a64(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a64(b"foobar"), 0x8594_4171_f739_67e8);
        let h = Holdout {
            percent: 10,
            salt: "2025-q4".into(),
        };
        assert_eq!(u64::from(h.bucket("u1")), fnv1a64(b"2025-q4:u1") % 100);
    }

    #[test]
    fn unknown_zones_suggest_the_closest_name() {
        assert!(unknown_zone("Europe/Olso").contains("did you mean `Europe/Oslo`?"));
        assert!(unknown_zone("europe/oslo").contains("did you mean `Europe/Oslo`?"));
        assert!(!unknown_zone("Local").contains("did you mean"));
    }
}
