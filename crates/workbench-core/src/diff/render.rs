//! The diff as text (grouped changes, then per-rule counts) and as JSON.

use std::io::{self, Write};

use serde::Serialize;

use super::{Change, FileDiff};
use crate::engine::Verdict;
use crate::event::format_ts;
use crate::results::{RuleStats, column_width};

fn counts(s: Option<&RuleStats>) -> [String; 4] {
    match s {
        Some(s) => [s.matched, s.allowed, s.suppressed, s.alerted].map(|n| n.to_string()),
        None => ["-", "-", "-", "-"].map(String::from),
    }
}

pub fn text(diffs: &[FileDiff]) -> String {
    let mut out = Vec::new();
    write_text(diffs, &mut out).expect("writing to memory");
    String::from_utf8(out).expect("the report is UTF-8")
}

/// [`text`], written as it is rendered.
pub fn write_text(diffs: &[FileDiff], out: &mut impl Write) -> io::Result<()> {
    for d in diffs {
        writeln!(
            out,
            "{}: {} events, {} changed (base {}, new {})",
            d.path.display(),
            d.events,
            d.changed(),
            d.base.rules_path.display(),
            d.new.rules_path.display()
        )?;
        for g in &d.groups {
            let n = g.changes.len();
            writeln!(
                out,
                "  {}: {n} event{}",
                g.label,
                if n == 1 { "" } else { "s" }
            )?;
            for &i in &g.changes {
                let c = change(d, i)?;
                let e = &c.event;
                writeln!(
                    out,
                    "    #{} {} {} {} (line {})",
                    e.event_id,
                    format_ts(e.event_timestamp),
                    e.user_id,
                    e.event_type,
                    e.line
                )?;
                writeln!(out, "      before: {}", c.before.reason)?;
                writeln!(out, "      after:  {}", e.verdict.reason)?;
            }
        }
        for g in &d.guards {
            writeln!(
                out,
                "  {} user{} {} ({} event{})",
                g.users,
                if g.users == 1 { "" } else { "s" },
                g.label,
                g.events,
                if g.events == 1 { "" } else { "s" }
            )?;
        }
        let rows = d.rule_counts();
        let width = column_width(rows.iter().map(|(r, _, _)| r.chars().count()), 4);
        writeln!(
            out,
            "  {:width$}  {:>15}  {:>15}  {:>15}  {:>15}",
            "rule", "matched", "allowed", "suppressed", "alerted"
        )?;
        for (rule, before, after) in &rows {
            let (b, a) = (counts(before.as_ref()), counts(after.as_ref()));
            let cells: Vec<String> = b
                .iter()
                .zip(&a)
                .map(|(b, a)| {
                    if b == a {
                        b.clone()
                    } else {
                        format!("{b} -> {a}")
                    }
                })
                .collect();
            writeln!(
                out,
                "  {:width$}  {:>15}  {:>15}  {:>15}  {:>15}",
                rule, cells[0], cells[1], cells[2], cells[3]
            )?;
        }
    }
    let total: usize = diffs.iter().map(FileDiff::changed).sum();
    let events: usize = diffs.iter().map(|d| d.events).sum();
    writeln!(out, "{total} of {events} decisions changed")
}

fn change(d: &FileDiff, i: u32) -> io::Result<Change> {
    d.changes
        .change(i)
        .ok_or_else(|| io::Error::other(format!("cannot read back changed event {i}")))
}

#[derive(Serialize)]
struct JsonReport<'a> {
    files: Vec<JsonFile<'a>>,
    summary: JsonSummary,
}

#[derive(Serialize)]
struct JsonFile<'a> {
    path: String,
    base: String,
    new: String,
    events: usize,
    changed: usize,
    groups: Vec<JsonGroup<'a>>,
    guards: &'a [super::GuardChange],
    rules: Vec<JsonRule>,
}

#[derive(Serialize)]
struct JsonGroup<'a> {
    label: &'a str,
    count: usize,
    events: Events<'a>,
}

/// A group's changed events, read back one at a time as they are written.
struct Events<'a> {
    diff: &'a FileDiff,
    changes: &'a [u32],
}

impl Serialize for Events<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::{Error, SerializeSeq};
        let mut seq = s.serialize_seq(Some(self.changes.len()))?;
        for &i in self.changes {
            let c = change(self.diff, i).map_err(S::Error::custom)?;
            seq.serialize_element(&JsonChange {
                index: c.event.step + 1,
                line: c.event.line,
                event_id: c.event.event_id,
                user_id: &c.event.user_id,
                event_type: &c.event.event_type,
                event_timestamp: format_ts(c.event.event_timestamp),
                before: &c.before,
                after: &c.event.verdict,
            })?;
        }
        seq.end()
    }
}

#[derive(Serialize)]
struct JsonChange<'a> {
    index: u32,
    line: u32,
    event_id: i64,
    user_id: &'a str,
    event_type: &'a str,
    event_timestamp: String,
    before: &'a Verdict,
    after: &'a Verdict,
}

#[derive(Serialize)]
struct JsonRule {
    rule: String,
    before: Option<RuleStats>,
    after: Option<RuleStats>,
}

#[derive(Serialize)]
struct JsonSummary {
    events: usize,
    changed: usize,
}

pub fn json(diffs: &[FileDiff]) -> String {
    let mut out = Vec::new();
    write_json(diffs, &mut out).expect("writing to memory");
    String::from_utf8(out).expect("JSON is UTF-8")
}

/// [`json`], written as it is rendered.
pub fn write_json(diffs: &[FileDiff], out: &mut impl Write) -> io::Result<()> {
    let files: Vec<JsonFile> = diffs
        .iter()
        .map(|d| JsonFile {
            path: d.path.display().to_string(),
            base: d.base.rules_path.display().to_string(),
            new: d.new.rules_path.display().to_string(),
            events: d.events,
            changed: d.changed(),
            groups: d
                .groups
                .iter()
                .map(|g| JsonGroup {
                    label: &g.label,
                    count: g.changes.len(),
                    events: Events {
                        diff: d,
                        changes: &g.changes,
                    },
                })
                .collect(),
            guards: &d.guards,
            rules: d
                .rule_counts()
                .into_iter()
                .map(|(rule, before, after)| JsonRule {
                    rule,
                    before,
                    after,
                })
                .collect(),
        })
        .collect();
    let summary = JsonSummary {
        events: files.iter().map(|f| f.events).sum(),
        changed: files.iter().map(|f| f.changed).sum(),
    };
    serde_json::to_writer_pretty(&mut *out, &JsonReport { files, summary })?;
    writeln!(out)
}
