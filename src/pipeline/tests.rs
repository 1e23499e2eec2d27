use std::io;

use super::*;
use crate::store::SqliteStore;

/// A buffered provider whose first `flush` fails, dropping its buffer as `MessagesFile`
/// does after a failed append.
#[derive(Default)]
struct Flaky {
    buf: Vec<String>,
    lines: Vec<String>,
    failures: usize,
}

impl Provider for Flaky {
    fn deliver(&mut self, m: &Message) -> io::Result<()> {
        self.buf.push(m.line());
        Ok(())
    }
    fn flush(&mut self) -> io::Result<()> {
        if self.failures > 0 {
            self.failures -= 1;
            self.buf.clear();
            return Err(io::Error::other("disk full"));
        }
        self.lines.append(&mut self.buf);
        Ok(())
    }
}

fn event(user: &str) -> Event {
    Event {
        user_id: user.into(),
        event_type: "signup_completed".into(),
        event_timestamp: "2024-01-15T10:30:00Z".parse().unwrap(),
        properties: serde_json::Map::new(),
        user_traits: serde_json::from_value(serde_json::json!({"marketing_opt_in": true})).unwrap(),
        idempotency_key: None,
    }
}

#[test]
fn a_failed_flush_keeps_its_lines_and_writes_each_once_later() {
    let rules =
        RuleSet::load(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("rules/rules.yaml"))
            .unwrap();
    let store = SqliteStore::open_in_memory().unwrap().batched(usize::MAX);
    let provider = Flaky {
        failures: 1,
        ..Flaky::default()
    };
    let mut p = Pipeline::new(store, provider);
    let at = "2024-01-15T10:30:00Z".parse().unwrap();
    let ids: Vec<i64> = ["a", "b", "c"]
        .iter()
        .map(|u| p.process(&rules, &event(u), at).unwrap().event_id)
        .collect();
    assert!(matches!(p.finish(), Err(PipelineError::Deliver(_))));
    assert_eq!(p.unwritten(), 3);
    assert!(ids.iter().all(|id| p.unwritten_ids.contains(id)));
    p.retry_unwritten().unwrap();
    assert_eq!(p.unwritten(), 0);
    let written: Vec<Option<i64>> = p
        .provider
        .lines
        .iter()
        .map(|l| crate::provider::line::event_id(l))
        .collect();
    assert_eq!(written, ids.iter().map(|id| Some(*id)).collect::<Vec<_>>());
    assert!(
        p.store.undelivered().unwrap().is_empty(),
        "marked as written"
    );
}

fn rules() -> RuleSet {
    RuleSet::load(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("rules/rules.yaml"))
        .unwrap()
}

fn ts(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

/// The event ids of the lines the provider has written, in order.
fn written(p: &Flaky) -> Vec<i64> {
    p.lines
        .iter()
        .map(|l| crate::provider::line::event_id(l).unwrap())
        .collect()
}

/// SQLite whose first `failures` calls to `mark_delivered` fail.
struct MarkFails {
    inner: SqliteStore,
    failures: usize,
}

impl Store for MarkFails {
    type Tx<'a> = <SqliteStore as Store>::Tx<'a>;

    fn begin(&mut self) -> Result<Self::Tx<'_>, StoreError> {
        self.inner.begin()
    }
    fn flush(&mut self) -> Result<(), StoreError> {
        self.inner.flush()
    }
    fn mark_delivered(&mut self, event_ids: &[i64]) -> Result<(), StoreError> {
        if self.failures > 0 {
            self.failures -= 1;
            return Err(StoreError::Corrupt("no marking today".into()));
        }
        self.inner.mark_delivered(event_ids)
    }
    fn undelivered(&mut self) -> Result<Vec<crate::store::SendRequest>, StoreError> {
        self.inner.undelivered()
    }
    fn claim_due(
        &mut self,
        now: DateTime<Utc>,
        limit: usize,
    ) -> Result<(Vec<crate::store::SendRequest>, Durability), StoreError> {
        self.inner.claim_due(now, limit)
    }
    fn next_due(&mut self) -> Result<Option<DateTime<Utc>>, StoreError> {
        self.inner.next_due()
    }
    fn scheduled_counts(&mut self, now: DateTime<Utc>) -> Result<(u64, u64), StoreError> {
        self.inner.scheduled_counts(now)
    }
    fn recorded(
        &mut self,
        user: Option<&str>,
        each: &mut dyn FnMut(crate::store::Recorded) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        self.inner.recorded(user, each)
    }
    fn audit(
        &mut self,
        user_id: &str,
        limit: Option<usize>,
    ) -> Result<Vec<crate::store::AuditEntry>, StoreError> {
        self.inner.audit(user_id, limit)
    }
}

#[test]
fn each_message_says_where_it_stands() {
    let rules = rules();
    let store = SqliteStore::open_in_memory().unwrap();
    let mut p = Pipeline::new(store, Flaky::default());
    let at = ts("2024-01-15T10:30:00Z");
    let sent = p.process(&rules, &event("a"), at).unwrap();
    assert_eq!(
        p.delivery_status(sent.event_id, &sent.decision.verdict),
        Some(DeliveryStatus::Delivered)
    );
    // Payday at 22:00 in London: marketing, held by quiet hours until 08:00.
    let mut payday = event("a");
    payday.event_type = "salary_received".into();
    payday.event_timestamp = ts("2024-01-15T22:00:00Z");
    let held = p.process(&rules, &payday, at).unwrap();
    assert_eq!(
        p.delivery_status(held.event_id, &held.decision.verdict),
        Some(DeliveryStatus::Scheduled)
    );
    // A second signup: once_ever stops it, so it has no message.
    let again = p.process(&rules, &event("a"), at).unwrap();
    assert!(!again.decision.verdict.delivers());
    assert_eq!(
        p.delivery_status(again.event_id, &again.decision.verdict),
        None
    );
    // A line the provider could not take waits.
    p.provider.failures = 1;
    let waits = p.process(&rules, &event("b"), at).unwrap();
    assert_eq!(
        p.delivery_status(waits.event_id, &waits.decision.verdict),
        Some(DeliveryStatus::Pending)
    );
}

#[test]
fn a_failed_write_is_named_until_a_retry_writes_it() {
    let rules = rules();
    let store = SqliteStore::open_in_memory().unwrap();
    let mut p = Pipeline::new(store, Flaky::default());
    let at = ts("2024-01-15T10:30:00Z");
    assert!(!p.has_backlog());
    p.provider.failures = 1;
    let id = p.process(&rules, &event("a"), at).unwrap().event_id;
    assert_eq!(p.delivery_error(), Some("disk full"));
    assert_eq!(p.mark_error(), None);
    assert!(p.has_backlog(), "a line to write");
    p.retry_unwritten().unwrap();
    assert_eq!(p.delivery_error(), None);
    assert!(!p.has_backlog());
    assert_eq!(written(&p.provider), [id]);
}

#[test]
fn a_written_line_the_store_could_not_mark_is_marked_later() {
    let rules = rules();
    let store = MarkFails {
        inner: SqliteStore::open_in_memory().unwrap(),
        failures: 1,
    };
    let mut p = Pipeline::new(store, Flaky::default());
    let at = ts("2024-01-15T10:30:00Z");
    let id = p.process(&rules, &event("a"), at).unwrap().event_id;
    assert_eq!(written(&p.provider), [id]);
    assert_eq!(p.delivery_error(), None);
    assert_eq!(
        p.mark_error(),
        Some("stored data is corrupt: no marking today")
    );
    assert_eq!(p.unwritten(), 0);
    assert!(p.has_backlog(), "a written line to mark");
    assert_eq!(p.store.undelivered().unwrap().len(), 1);
    p.retry_unwritten().unwrap();
    assert_eq!(p.mark_error(), None);
    assert!(!p.has_backlog());
    assert!(p.store.undelivered().unwrap().is_empty());
    assert_eq!(written(&p.provider), [id], "written once");
}

#[test]
fn a_replay_or_a_conflict_retries_waiting_lines() {
    let rules = rules();
    let store = SqliteStore::open_in_memory().unwrap();
    let mut p = Pipeline::new(store, Flaky::default());
    let at = ts("2024-01-15T10:30:00Z");
    let mut first = event("a");
    first.idempotency_key = Some("k1".into());
    p.provider.failures = 1;
    let id = p.process(&rules, &first, at).unwrap().event_id;
    assert_eq!(p.unwritten(), 1);
    // The same event again: a replay of the stored one, which writes what waited.
    let replay = p.process(&rules, &first, at).unwrap();
    assert!(replay.replayed);
    assert_eq!(replay.event_id, id);
    assert_eq!(replay.stored_delivery, Some(DeliveryStatus::Pending));
    assert_eq!(p.unwritten(), 0);
    assert_eq!(written(&p.provider), [id]);

    // Another event under a stored key: a conflict, which also writes what waited.
    let mut second = event("b");
    second.idempotency_key = Some("k2".into());
    p.provider.failures = 1;
    let id2 = p.process(&rules, &second, at).unwrap().event_id;
    let mut other = second.clone();
    other.event_type = "app_opened".into();
    let Err(PipelineError::Conflict(c)) = p.process(&rules, &other, at) else {
        panic!("a conflict");
    };
    assert_eq!(
        c,
        KeyConflict {
            key: "k2".into(),
            event_id: id2,
            fields: vec!["event_type"],
        }
    );
    assert_eq!(p.unwritten(), 0);
    assert_eq!(written(&p.provider), [id, id2]);
}

#[test]
fn a_replay_answers_with_the_stored_decision() {
    let rules = rules();
    let store = SqliteStore::open_in_memory().unwrap();
    let mut p = Pipeline::new(store, Flaky::default());
    let at = ts("2024-01-15T10:30:00Z");
    let mut e = event("a");
    e.idempotency_key = Some("k".into());
    let first = p.process(&rules, &e, at).unwrap();
    assert!(!first.replayed);
    assert_eq!(first.stored_delivery, None);
    let again = p.process(&rules, &e, at).unwrap();
    assert!(again.replayed);
    assert_eq!(again.event_id, first.event_id);
    // The stored verdict and where its message stood; nothing is recorded or written again.
    assert_eq!(again.decision.verdict, first.decision.verdict);
    assert_eq!(again.stored_delivery, Some(DeliveryStatus::Delivered));
    assert_eq!(
        written(&p.provider),
        [first.event_id],
        "nothing new written"
    );
}

#[test]
fn recovery_writes_only_the_lines_the_provider_lacks() {
    let rules = rules();
    let store = SqliteStore::open_in_memory().unwrap();
    let mut p = Pipeline::new(
        store,
        Flaky {
            failures: usize::MAX,
            ..Flaky::default()
        },
    );
    let at = ts("2024-01-15T10:30:00Z");
    let ids: Vec<i64> = ["a", "b", "c"]
        .iter()
        .map(|u| p.process(&rules, &event(u), at).unwrap().event_id)
        .collect();
    assert_eq!(p.unwritten(), 3);
    // A restart: the provider already has the first line.
    let mut p = Pipeline::new(p.store, Flaky::default());
    assert_eq!(p.recover(&rules, |id| id == ids[0]).unwrap(), 2);
    assert_eq!(written(&p.provider), [ids[1], ids[2]]);
    assert!(p.store.undelivered().unwrap().is_empty(), "all marked");
    assert!(!p.has_backlog());
}

#[test]
fn a_held_send_is_delivered_when_the_clock_reaches_it() {
    let rules = rules();
    let store = SqliteStore::open_in_memory().unwrap();
    let mut p = Pipeline::new(store, Flaky::default());
    let mut payday = event("a");
    payday.event_type = "salary_received".into();
    payday.event_timestamp = ts("2024-01-15T22:00:00Z");
    let id = p
        .process(&rules, &payday, payday.event_timestamp)
        .unwrap()
        .event_id;
    assert!(written(&p.provider).is_empty());
    assert_eq!(
        p.advance(&rules, ts("2024-01-16T07:59:59Z")).unwrap(),
        Vec::<i64>::new()
    );
    assert!(written(&p.provider).is_empty());
    assert_eq!(p.advance(&rules, ts("2024-01-16T08:00:00Z")).unwrap(), [id]);
    assert_eq!(written(&p.provider), [id]);
    assert_eq!(
        p.advance(&rules, ts("2024-01-16T09:00:00Z")).unwrap(),
        Vec::<i64>::new()
    );
}

#[test]
fn explain_and_zone_of_read_a_stored_event_again() {
    let rules = rules();
    let store = SqliteStore::open_in_memory().unwrap();
    let mut p = Pipeline::new(store, Flaky::default());
    let at = ts("2024-01-15T10:30:00Z");
    let mut oslo = event("a");
    oslo.user_traits = serde_json::from_value(
        serde_json::json!({"marketing_opt_in": true, "timezone": "Europe/Oslo"}),
    )
    .unwrap();
    let first = p.process(&rules, &oslo, at).unwrap();
    let second = p.process(&rules, &event("a"), at).unwrap();

    let (e, d) = explain(&mut p.store, &rules, first.event_id)
        .unwrap()
        .unwrap();
    assert_eq!(e, oslo);
    assert_eq!(d.verdict, first.decision.verdict);
    assert!(explain(&mut p.store, &rules, 999).unwrap().is_none());

    let oslo_zone = engine::Zone::parse("Europe/Oslo").unwrap();
    assert_eq!(
        zone_of(&mut p.store, &rules, first.event_id).unwrap(),
        Some(ResolvedZone {
            zone: oslo_zone,
            source: engine::ZoneSource::Trait,
            invalid: None,
        })
    );
    assert_eq!(
        zone_of(&mut p.store, &rules, second.event_id).unwrap(),
        Some(ResolvedZone {
            zone: oslo_zone,
            source: engine::ZoneSource::EarlierEvent {
                event_id: first.event_id
            },
            invalid: None,
        })
    );
    assert_eq!(zone_of(&mut p.store, &rules, 999).unwrap(), None);
}
