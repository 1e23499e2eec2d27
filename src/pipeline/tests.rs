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
