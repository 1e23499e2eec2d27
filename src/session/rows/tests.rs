use std::sync::Arc;

use chrono::{DateTime, Utc};
use proptest::prelude::*;
use serde_json::json;

use super::*;
use crate::engine::Verdict;
use crate::scenario::Mismatch;

fn ts(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

fn plain(step: u32, user: &str) -> EventResult {
    EventResult {
        step,
        line: step + 2,
        name: None,
        user_id: user.into(),
        event_type: "signup_completed".into(),
        event_timestamp: ts("2025-10-10T09:00:00Z"),
        event_id: i64::from(step) + 1,
        verdict: Verdict {
            matched_rule: None,
            action_type: DecisionAction::None,
            template_name: None,
            channel: None,
            outcome: Outcome::None,
            reason: "no rule matched".into(),
            reason_code: ReasonCode::NoMatch,
            deliver_at: None,
            message_text: None,
        },
        mismatches: None,
        shadowed: Box::new([]),
        written_at: None,
        replayed: false,
    }
}

/// Every field set, and the held send of step 1 written at step 3.
fn varied() -> Vec<EventResult> {
    let mut sent = plain(1, "u_ü");
    sent.name = Some("the held one".into());
    sent.event_timestamp = ts("2025-10-10T22:00:00.123456789Z");
    sent.verdict = Verdict {
        matched_rule: Some("welcome".into()),
        action_type: DecisionAction::Send,
        template_name: Some("WELCOME_EMAIL".into()),
        channel: Some(Channel::Sms),
        outcome: Outcome::Allow,
        reason: "held by quiet hours".into(),
        reason_code: ReasonCode::Scheduled,
        deliver_at: Some(ts("2025-10-11T08:00:00Z")),
        message_text: Some("Hi ✓ \"there\"\nline two".into()),
    };
    sent.mismatches = Some(vec![Mismatch {
        key: "deliver_at",
        expected: json!(null),
        got: json!("2025-10-11T08:00:00Z"),
        line: 41,
    }]);
    sent.shadowed = Box::new([2, 7, u16::MAX]);
    let mut replay = sent.clone();
    replay.step = 2;
    replay.replayed = true;
    replay.mismatches = Some(Vec::new());
    let mut alert = plain(3, "u_a");
    alert.verdict.outcome = Outcome::Alert;
    alert.verdict.action_type = DecisionAction::Alert;
    alert.verdict.channel = Some(Channel::Internal);
    alert.verdict.matched_rule = Some("fraud".into());
    alert.event_type = "payment_failed".into();
    // Written at its own step.
    alert.written_at = Some(3);
    vec![plain(0, "u_a"), sent, replay, alert]
}

fn write(results: &[EventResult]) -> Rows {
    let mut w = RowsWriter::new().unwrap();
    for r in results {
        w.push(r.clone()).unwrap();
    }
    w.finish().unwrap()
}

#[test]
fn rows_read_back_as_they_were_written_with_written_at_kept_aside() {
    let mut w = RowsWriter::new().unwrap();
    let mut want = varied();
    for r in &want {
        w.push(r.clone()).unwrap();
    }
    w.written(1, 3).unwrap();
    w.written(99, 3).unwrap();
    let rows = w.finish().unwrap();
    want[1].written_at = Some(3);
    assert_eq!(rows.len(), 4);
    for (i, r) in want.iter().enumerate() {
        let got = rows.get(u32::try_from(i).unwrap()).unwrap();
        assert_eq!(*got, *r, "row {i}");
        // Read again: the cached copy.
        assert!(Arc::ptr_eq(
            &got,
            &rows.get(u32::try_from(i).unwrap()).unwrap()
        ));
    }
    assert_eq!(rows.get(4), None);
    assert_eq!(rows.iter().count(), 4);
    assert_eq!(rows.written_at(1), Some(3));
    assert_eq!(rows.written_at(3), Some(3));
    assert_eq!(rows.written_at(0), None);
    assert_eq!(rows.written_at(4), None);
    assert_eq!(
        (
            rows.failed(0),
            rows.failed(1),
            rows.failed(2),
            rows.failed(9)
        ),
        (false, true, false, false)
    );
    assert_eq!(rows.outcome(3), Some(Outcome::Alert));
    assert_eq!(rows.outcome(4), None);
    // The replay wrote no line of its own.
    let sent: Vec<_> = rows.sent().iter().map(|s| (s.row, s.scheduled)).collect();
    assert_eq!(sent, [(1, true), (3, false)]);
    assert_eq!(rows.sent()[0].time, ts("2025-10-11T08:00:00Z"));
    assert_eq!(rows.sent()[1].time, ts("2025-10-10T09:00:00Z"));
    assert_eq!(
        rows.event_types().collect::<Vec<_>>(),
        ["signup_completed", "payment_failed"]
    );
    assert_eq!(rows.rule_names().collect::<Vec<_>>(), ["welcome", "fraud"]);
}

#[test]
fn more_rows_than_the_cache_holds_are_read_from_the_file() {
    let want: Vec<_> = (0..2500).map(|i| plain(i, &format!("u{i}"))).collect();
    let rows = write(&want);
    for i in [0, 1024, 2048, 0, 2499, 1] {
        assert_eq!(*rows.get(i).unwrap(), want[i as usize], "row {i}");
    }
    assert_eq!(
        rows.iter().map(|r| r.step).sum::<u32>(),
        (0..2500).sum::<u32>()
    );
}

#[test]
fn decisions_compare_by_name_across_runs() {
    let a = write(&varied());
    // The same decisions, with names met in another order (other ids).
    let mut other = varied();
    other.swap(0, 3);
    other[0].step = 0;
    other[3].step = 3;
    let b = write(&other);
    let (da, db) = (a.decisions(), b.decisions());
    assert!(da.same(1, db, 1) && da.same(2, db, 2));
    assert!(da.same(0, db, 3) && da.same(3, db, 0));
    assert!(!da.same(0, db, 0), "no rule vs `fraud`");
    assert!(!da.same(4, db, 4), "past the end");
    // The wording of the reason and the message may differ.
    let mut reworded = varied();
    reworded[1].verdict.reason = "other words".into();
    reworded[1].verdict.message_text = None;
    assert!(da.same(1, write(&reworded).decisions(), 1));
    for change in [
        |v: &mut Verdict| v.deliver_at = None,
        |v: &mut Verdict| v.channel = Some(Channel::Email),
        |v: &mut Verdict| v.template_name = Some("OTHER".into()),
        |v: &mut Verdict| v.reason_code = ReasonCode::Sent,
        |v: &mut Verdict| v.outcome = Outcome::Suppress,
        |v: &mut Verdict| v.action_type = DecisionAction::Alert,
    ] {
        let mut changed = varied();
        change(&mut changed[1].verdict);
        assert!(!da.same(1, write(&changed).decisions(), 1));
    }
    assert_eq!((da.len(), Decisions::default().is_empty()), (4, true));
}

#[test]
fn bytes_that_are_not_a_row_decode_to_none() {
    let mut t = Tables::default();
    let mut bytes = Vec::new();
    codec::encode(&varied()[1], &mut t, &mut bytes);
    assert!(codec::decode(&bytes, &t, None).is_some());
    for cut in [0, 1, 9, bytes.len() - 1] {
        assert!(
            codec::decode(&bytes[..cut], &t, None).is_none(),
            "cut at {cut}"
        );
    }
    let mut longer = bytes.clone();
    longer.push(0);
    assert!(codec::decode(&longer, &t, None).is_none());
    assert!(codec::decode(&bytes, &Tables::default(), None).is_none());
}

proptest! {
    #[test]
    fn any_row_round_trips(
        user in "\\PC{0,12}",
        name in proptest::option::of("\\PC{0,8}"),
        reason in "\\PC{0,40}",
        text in proptest::option::of("\\PC{0,40}"),
        secs in 0i64..4_000_000_000,
        nanos in 0u32..1_000_000_000,
        id in any::<i64>(),
        shadowed in proptest::collection::vec(any::<u16>(), 0..4),
        outcome in 0usize..4,
        channel in proptest::option::of(0usize..4),
        expected in proptest::option::of(("\\PC{0,8}", any::<i32>())),
    ) {
        let mut r = plain(0, &user);
        r.name = name.map(Into::into);
        r.verdict.reason = reason;
        r.verdict.message_text = text;
        r.event_timestamp = DateTime::from_timestamp(secs, nanos).unwrap();
        r.event_id = id;
        r.shadowed = shadowed.into();
        r.verdict.outcome = Outcome::parse(Outcome::NAMES[outcome]).unwrap();
        r.verdict.channel = channel.map(|c| Channel::parse(Channel::NAMES[c]).unwrap());
        r.mismatches = expected.map(|(s, n)| {
            vec![Mismatch { key: "message_text", expected: json!(s), got: json!(n), line: 3 }]
        });
        let rows = write(std::slice::from_ref(&r));
        prop_assert_eq!(&*rows.get(0).unwrap(), &r);
    }
}

#[test]
fn a_verdict_is_compared_with_a_row_by_decision() {
    let rows = write(&varied());
    let d = rows.decisions();
    for (i, r) in varied().iter().enumerate() {
        let i = u32::try_from(i).unwrap();
        assert!(d.same_verdict(i, &r.verdict), "row {i}");
        assert!(
            !d.same_verdict(i + 1, &r.verdict) || i == 1,
            "row {i} vs {}",
            i + 1
        );
    }
    let mut v = varied()[1].verdict.clone();
    v.reason = "other words".into();
    assert!(d.same_verdict(1, &v));
    v.template_name = None;
    assert!(!d.same_verdict(1, &v));
    assert!(!d.same_verdict(9, &v));
}
