use chrono::{NaiveDate, NaiveTime, Timelike};
use proptest::prelude::*;

use super::*;
use crate::engine::quiet::{QuietHours, QuietMode};

fn utc(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

fn zone(name: &str) -> Zone {
    Zone::parse(name).unwrap()
}

fn quiet(start: &str, end: &str) -> QuietHours {
    QuietHours {
        start: start.parse().unwrap(),
        end: end.parse().unwrap(),
        mode: QuietMode::Hold,
    }
}

#[test]
fn zone_names_are_exact_iana_names_or_links() {
    assert_eq!(zone("Europe/Oslo").name(), "Europe/Oslo");
    assert!(Zone::parse("Asia/Calcutta").is_some(), "a link");
    assert!(Zone::parse("UTC").is_some());
    for bad in [
        "europe/oslo",
        "Local",
        "",
        "Mars/Base",
        " Europe/Oslo",
        "+02:00",
    ] {
        assert!(Zone::parse(bad).is_none(), "{bad}");
    }
}

#[test]
fn resolution_follows_trait_then_earlier_event_then_default() {
    let oslo = zone("Europe/Oslo");
    let tokyo = zone("Asia/Tokyo");
    let r = ResolvedZone::resolve(Some(&"Europe/Oslo".into()), Some((3, tokyo)), Zone::UTC);
    assert_eq!((r.zone, r.source.clone()), (oslo, ZoneSource::Trait));
    assert_eq!(r.to_string(), "Europe/Oslo (user_traits.timezone)");

    let r = ResolvedZone::resolve(Some(&"europe/oslo".into()), Some((3, tokyo)), Zone::UTC);
    assert_eq!(r.source, ZoneSource::EarlierEvent { event_id: 3 });
    assert_eq!(
        r.to_string(),
        "Asia/Tokyo (from event 3; `europe/oslo` is not a time zone)"
    );

    let r = ResolvedZone::resolve(Some(&serde_json::json!(5)), None, oslo);
    assert_eq!((r.zone, r.source.clone()), (oslo, ZoneSource::Default));
    assert_eq!(r.invalid.as_deref(), Some("5"));
    let r = ResolvedZone::resolve(None, None, Zone::UTC);
    assert_eq!(r.to_string(), "UTC (the rules file's default)");
}

#[test]
fn local_days_follow_the_zone_and_its_dst() {
    let oslo = zone("Europe/Oslo");
    // 2025-03-30: clocks go 02:00 -> 03:00, a 23-hour day.
    let w = oslo.window(Calendar::Day, utc("2025-03-30T12:00:00Z"));
    assert_eq!(w.start, utc("2025-03-29T23:00:00Z"));
    assert_eq!(w.end, Some(utc("2025-03-30T22:00:00Z")));
    assert_eq!(w.to_string(), "2025-03-30 (Europe/Oslo)");
    // 2025-10-26: 03:00 -> 02:00, a 25-hour day.
    let w = oslo.window(Calendar::Day, utc("2025-10-26T12:00:00Z"));
    assert_eq!(w.start, utc("2025-10-25T22:00:00Z"));
    assert_eq!(w.end, Some(utc("2025-10-26T23:00:00Z")));
    // Auckland's day resets at 11:00 or 12:00 UTC; Kolkata's at 18:30 UTC.
    let w = zone("Pacific/Auckland").window(Calendar::Day, utc("2025-01-15T12:00:00Z"));
    assert_eq!(w.start, utc("2025-01-15T11:00:00Z"));
    let w = zone("Asia/Kolkata").window(Calendar::Day, utc("2025-01-15T20:00:00Z"));
    assert_eq!(
        (w.first, w.start),
        (
            NaiveDate::from_ymd_opt(2025, 1, 16).unwrap(),
            utc("2025-01-15T18:30:00Z")
        )
    );
}

#[test]
fn weeks_start_on_monday_and_months_on_the_first() {
    let ny = zone("America/New_York");
    let w = ny.window(Calendar::Week, utc("2025-03-09T12:00:00Z")); // a Sunday
    assert_eq!(w.to_string(), "week of 2025-03-03 (America/New_York)");
    assert_eq!(w.start, utc("2025-03-03T05:00:00Z"));
    assert_eq!(w.end, Some(utc("2025-03-10T04:00:00Z")), "EDT from the 9th");
    let w = ny.window(Calendar::Month, utc("2025-11-01T03:00:00Z")); // still October in New York
    assert_eq!(w.to_string(), "2025-10 (America/New_York)");
    assert_eq!(w.end, Some(utc("2025-11-01T04:00:00Z")));
    let last = Zone::UTC.window(Calendar::Month, utc("9999-12-31T23:59:59Z"));
    assert!(last.end.unwrap() > utc("9999-12-31T23:59:59Z"));
    assert!(last.contains(utc("9999-12-31T23:59:59Z")));
}

#[test]
fn quiet_windows_wrap_midnight_with_exact_bounds() {
    let q = quiet("21:00", "08:00");
    let t = |s: &str| s.parse::<NaiveTime>().unwrap();
    assert!(q.contains(t("21:00")), "start is inside");
    assert!(q.contains(t("23:59:59")) && q.contains(t("00:00")) && q.contains(t("07:59:59")));
    assert!(!q.contains(t("08:00")), "end is outside");
    assert!(!q.contains(t("20:59:59")) && !q.contains(t("12:00")));
    let day = quiet("13:00", "14:00");
    assert!(day.contains(t("13:30")) && !day.contains(t("14:00")) && !day.contains(t("12:59")));
}

#[test]
fn deliver_at_is_the_next_local_end() {
    let q = quiet("21:00", "08:00");
    let oslo = zone("Europe/Oslo");
    // 23:00 local on the 10th -> 08:00 local on the 11th.
    assert_eq!(
        q.deliver_at(oslo, utc("2025-10-10T21:00:00Z")),
        Some(utc("2025-10-11T06:00:00Z"))
    );
    // 02:00 local -> 08:00 the same day.
    assert_eq!(
        q.deliver_at(oslo, utc("2025-10-11T00:00:00Z")),
        Some(utc("2025-10-11T06:00:00Z"))
    );
    let kolkata = zone("Asia/Kolkata");
    assert_eq!(
        q.deliver_at(kolkata, utc("2025-01-15T17:00:00Z")),
        Some(utc("2025-01-16T02:30:00Z"))
    );
    let tonga = zone("Pacific/Tongatapu"); // +13:00
    assert_eq!(tonga.offset(utc("2025-01-15T12:00:00Z")), "+13:00");
    assert_eq!(
        q.deliver_at(tonga, utc("2025-01-15T12:00:00Z")),
        Some(utc("2025-01-15T19:00:00Z"))
    );
}

#[test]
fn deliver_at_across_dst_gaps_and_overlaps() {
    let oslo = zone("Europe/Oslo");
    let ny = zone("America/New_York");
    // Oslo 2025-03-30: 02:00-03:00 does not exist. A window ending 02:30 ends at 03:00 CEST.
    let q = quiet("01:00", "02:30");
    assert_eq!(
        q.deliver_at(oslo, utc("2025-03-30T00:10:00Z")),
        Some(utc("2025-03-30T01:00:00Z"))
    );
    // Oslo 2025-10-26: 02:30 happens twice (00:30Z and 01:30Z); the first not before the event.
    assert_eq!(
        q.deliver_at(oslo, utc("2025-10-25T23:10:00Z")),
        Some(utc("2025-10-26T00:30:00Z"))
    );
    let late = quiet("02:45", "02:30"); // wraps; an event at the second 02:40
    assert_eq!(
        late.deliver_at(oslo, utc("2025-10-26T00:40:00Z")),
        Some(utc("2025-10-26T01:30:00Z"))
    );
    // New York 2025-03-09: 02:00-03:00 does not exist.
    let q = quiet("22:00", "02:15");
    assert_eq!(
        q.deliver_at(ny, utc("2025-03-09T04:00:00Z")),
        Some(utc("2025-03-09T07:00:00Z"))
    );
    // New York 2025-11-02: 01:00-02:00 happens twice (05:00Z-06:00Z EDT, 06:00Z-07:00Z EST).
    let q = quiet("23:00", "01:30");
    assert_eq!(
        q.deliver_at(ny, utc("2025-11-02T04:00:00Z")),
        Some(utc("2025-11-02T05:30:00Z"))
    );
    assert_eq!(
        q.deliver_at(ny, utc("2025-11-02T05:45:00Z")),
        Some(utc("2025-11-02T06:30:00Z"))
    );
}

fn any_zone() -> impl Strategy<Value = Zone> {
    prop::sample::select(vec![
        "Europe/Oslo",
        "America/New_York",
        "Asia/Kolkata",
        "Pacific/Tongatapu",
        "Pacific/Auckland",
        "Australia/Lord_Howe",
        "America/Sao_Paulo",
        "Asia/Kathmandu",
        "UTC",
        "Pacific/Apia",
    ])
    .prop_map(zone)
}

fn minute_of_day() -> impl Strategy<Value = NaiveTime> {
    (0u32..24, 0u32..60).prop_map(|(h, m)| NaiveTime::from_hms_opt(h, m, 0).unwrap())
}

proptest! {
    #[test]
    fn deliver_at_is_never_quiet_nor_before_the_event(
        z in any_zone(),
        secs in 0i64..4_102_444_800,
        start in minute_of_day(),
        end in minute_of_day(),
    ) {
        prop_assume!(start != end);
        let q = QuietHours { start, end, mode: QuietMode::Hold };
        let t = DateTime::from_timestamp(secs, 0).unwrap();
        let at = q.deliver_at(z, t).unwrap();
        prop_assert!(at >= t);
        prop_assert!(!q.is_quiet(z, at), "{} at {} local {}", z, at, z.local(at));
        prop_assert!(at - t <= chrono::TimeDelta::hours(49));
    }

    #[test]
    fn local_dates_and_windows_agree_with_the_library(z in any_zone(), secs in 0i64..4_102_444_800) {
        let t = DateTime::from_timestamp(secs, 0).unwrap();
        let local = t.with_timezone(&z.tz());
        let w = z.window(Calendar::Day, t);
        prop_assert_eq!(w.first, local.date_naive());
        prop_assert!(w.contains(t));
        prop_assert_eq!(w.start.with_timezone(&z.tz()).date_naive(), local.date_naive());
        let before = w.start - chrono::TimeDelta::seconds(1);
        prop_assert_ne!(before.with_timezone(&z.tz()).date_naive(), local.date_naive());
        prop_assert!(w.start.with_timezone(&z.tz()).time().hour() <= 1);
    }
}

#[test]
fn a_local_window_holds_its_start_and_not_its_end() {
    let w = zone("Europe/Oslo").window(Calendar::Day, utc("2025-10-10T12:00:00Z"));
    assert_eq!(w.start, utc("2025-10-09T22:00:00Z"));
    assert!(w.contains(w.start), "the first instant is in");
    assert!(
        !w.contains(w.start - chrono::TimeDelta::seconds(1)),
        "before it is out"
    );
    let end = w.end.unwrap();
    assert!(w.contains(end - chrono::TimeDelta::seconds(1)));
    assert!(!w.contains(end), "the end is the next window's");
}

#[test]
fn an_instant_is_quiet_by_its_local_time() {
    let q = quiet("21:00", "08:00");
    let oslo = zone("Europe/Oslo");
    assert!(
        q.is_quiet(oslo, utc("2025-06-01T19:30:00Z")),
        "21:30 in Oslo"
    );
    assert!(
        !q.is_quiet(oslo, utc("2025-06-01T18:30:00Z")),
        "20:30 in Oslo"
    );
    assert!(
        !q.is_quiet(Zone::UTC, utc("2025-06-01T19:30:00Z")),
        "19:30 in UTC"
    );
    assert_eq!(QuietMode::Hold.to_string(), "hold");
    assert_eq!(QuietMode::Drop.to_string(), "drop");
}

/// Samoa skipped 2011-12-30 whole (UTC-10 to UTC+14): a local time that day comes first
/// at the next midnight, 1,440 minutes on.
#[test]
fn the_first_instant_after_a_skipped_day() {
    let apia = zone("Pacific/Apia");
    let day = NaiveDate::from_ymd_opt(2011, 12, 30).unwrap();
    assert!(
        apia.instants_at(day.and_hms_opt(0, 0, 0).unwrap())
            .is_empty()
    );
    assert_eq!(
        apia.first_instant_at(day.and_hms_opt(0, 0, 0).unwrap()),
        Some(utc("2011-12-30T10:00:00Z"))
    );
    assert_eq!(
        apia.first_instant_at(day.and_hms_opt(23, 59, 0).unwrap()),
        Some(utc("2011-12-30T10:00:00Z"))
    );
}
