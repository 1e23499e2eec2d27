//! Scheduled sends under `workbench serve`: a rules file with quiet hours that hold sends, a
//! clock file the service reads its "now" from (the `WORKBENCH_CLOCK_FILE` test hook), and
//! helpers to read `messages.txt` by event.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Quiet hours 21:00–08:00 in Europe/Oslo (unless an event names its zone) that hold
/// marketing sends; `nudge` always sends, without suppression.
pub const QUIET_RULES: &str = r#"timezone: Europe/Oslo
quiet_hours: {start: "21:00", end: "08:00", mode: hold}
rules:
  - name: nudge
    trigger: {event_type: nudge}
    action: {type: send, template_name: NUDGE_EMAIL, delivery_method: email}
"#;

/// A directory of the test's own (it outlives every server the test starts) with the rules
/// file and the clock file.
pub struct Quiet {
    pub dir: tempfile::TempDir,
}

impl Quiet {
    /// The clock starts at `now` (RFC 3339).
    pub fn new(now: &str) -> Quiet {
        let q = Quiet {
            dir: tempfile::tempdir().unwrap(),
        };
        std::fs::write(q.rules(), QUIET_RULES).unwrap();
        q.set_clock(now);
        q
    }

    pub fn rules(&self) -> PathBuf {
        self.dir.path().join("quiet.yaml")
    }

    pub fn clock(&self) -> PathBuf {
        self.dir.path().join("now")
    }

    /// Move the service's clock: written aside, then renamed over, so a reader never sees a
    /// half-written file.
    pub fn set_clock(&self, now: &str) {
        let tmp = self.dir.path().join("now.tmp");
        std::fs::write(&tmp, format!("{now}\n")).unwrap();
        std::fs::rename(&tmp, self.clock()).unwrap();
    }

    /// The environment a server needs for this clock.
    pub fn env(&self) -> (&'static str, String) {
        ("WORKBENCH_CLOCK_FILE", self.clock().display().to_string())
    }
}

/// A `nudge` event body; `zone` goes into `user_traits.timezone`.
pub fn nudge(user: &str, at: &str, zone: Option<&str>) -> String {
    let traits = zone.map_or_else(String::new, |z| {
        format!(r#","user_traits":{{"timezone":"{z}"}}"#)
    });
    format!(r#"{{"user_id":"{user}","event_type":"nudge","event_timestamp":"{at}"{traits}}}"#)
}

/// The lines of a messages file by event id, in file order.
pub fn lines_by_event(path: &Path) -> BTreeMap<i64, Vec<String>> {
    let mut out: BTreeMap<i64, Vec<String>> = BTreeMap::new();
    for line in std::fs::read_to_string(path).unwrap_or_default().lines() {
        out.entry(event_id_of(line))
            .or_default()
            .push(line.to_string());
    }
    out
}

/// The event id of a `messages.txt` line.
pub fn event_id_of(line: &str) -> i64 {
    line.split(" | ")
        .find_map(|f| f.strip_prefix("event_id="))
        .and_then(|i| i.parse().ok())
        .unwrap_or_else(|| panic!("a line without an event id: {line}"))
}

/// The timestamp a line starts with.
pub fn line_time(line: &str) -> &str {
    line.split(" | ").next().unwrap_or_default()
}

/// Wait (up to `limit`) until `done` holds; panics with `what` otherwise.
pub fn wait_until(limit: Duration, what: &str, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < limit, "waited {limit:?} for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}
