//! A run's results kept on disk: each row encoded once into a temporary file, read back on
//! demand through a small cache, with in memory only what scans need (each row's decision,
//! whether its expectations held, when a held line was written) and what messages.txt needs.

mod codec;
mod names;

use std::fs::File;
use std::io::{BufWriter, Read, Seek, SeekFrom, Write};
use std::sync::{Arc, Mutex, PoisonError};

use chrono::{DateTime, Utc};

use crate::engine::{DecisionAction, Outcome, ReasonCode, Verdict};
use crate::results::EventResult;
use crate::rules::Channel;
use crate::runner::ResultSink;
use codec::Tables;

/// Rows decoded and kept, by row number modulo this (a page of the Events pane, and more).
const CACHE: usize = 1024;

/// What `Verdict::same_decision` compares, with names as ids into the rows' tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Key {
    outcome: Outcome,
    action: DecisionAction,
    channel: Option<Channel>,
    code: ReasonCode,
    rule: u32,
    template: u32,
    deliver_at: Option<DateTime<Utc>>,
}

/// Every row's decision, comparable with another run's (Δ, the baseline).
#[derive(Debug, Clone, Default)]
pub struct Decisions {
    keys: Vec<Key>,
    tables: Tables,
}

impl Decisions {
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Row `row` decided as row `other_row` of `other` did (see `Verdict::same_decision`).
    pub fn same(&self, row: u32, other: &Decisions, other_row: u32) -> bool {
        let (Some(a), Some(b)) = (
            self.keys.get(row as usize),
            other.keys.get(other_row as usize),
        ) else {
            return false;
        };
        (a.outcome, a.action, a.channel, a.code, a.deliver_at)
            == (b.outcome, b.action, b.channel, b.code, b.deliver_at)
            && self.tables.rules.name(a.rule) == other.tables.rules.name(b.rule)
            && self.tables.templates.name(a.template) == other.tables.templates.name(b.template)
    }

    pub fn outcome(&self, row: u32) -> Option<Outcome> {
        self.keys.get(row as usize).map(|k| k.outcome)
    }

    /// Row `row` decided as `v` does (see `Verdict::same_decision`).
    pub fn same_verdict(&self, row: u32, v: &Verdict) -> bool {
        let Some(k) = self.keys.get(row as usize) else {
            return false;
        };
        (k.outcome, k.action, k.channel, k.code, k.deliver_at)
            == (
                v.outcome,
                v.action_type,
                v.channel,
                v.reason_code,
                v.deliver_at,
            )
            && self.tables.rules.name(k.rule) == v.matched_rule.as_deref()
            && self.tables.templates.name(k.template) == v.template_name.as_deref()
    }
}

/// A delivering row, as messages.txt needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sent {
    pub row: u32,
    pub event_id: i64,
    /// When its line is stamped: `deliver_at` for a held send, else the event's time.
    pub time: DateTime<Utc>,
    /// Held by quiet hours.
    pub scheduled: bool,
}

/// Rows being written, in step order (a [`ResultSink`]); `finish` makes them readable.
pub struct RowsWriter {
    file: BufWriter<File>,
    offsets: Vec<u64>,
    end: u64,
    buf: Vec<u8>,
    rows: Rows,
}

impl RowsWriter {
    pub fn new() -> std::io::Result<RowsWriter> {
        let file = tempfile::tempfile()?;
        Ok(RowsWriter {
            file: BufWriter::with_capacity(1 << 16, file.try_clone()?),
            offsets: vec![0],
            end: 0,
            buf: Vec::with_capacity(512),
            rows: Rows {
                file: Mutex::new(file),
                offsets: Vec::new(),
                written_at: Vec::new(),
                failed: Vec::new(),
                decisions: Decisions::default(),
                sent: Vec::new(),
                cache: Mutex::new(vec![None; CACHE]),
            },
        })
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    pub fn finish(mut self) -> std::io::Result<Rows> {
        self.file.flush()?;
        self.rows.offsets = self.offsets;
        Ok(self.rows)
    }
}

impl ResultSink for RowsWriter {
    fn push(&mut self, r: EventResult) -> std::io::Result<()> {
        let rows = &mut self.rows;
        let row = u32::try_from(rows.written_at.len()).unwrap_or(u32::MAX);
        self.buf.clear();
        codec::encode(&r, &mut rows.decisions.tables, &mut self.buf);
        self.file.write_all(&self.buf)?;
        self.end += self.buf.len() as u64;
        self.offsets.push(self.end);
        let v = &r.verdict;
        let t = &mut rows.decisions.tables;
        rows.decisions.keys.push(Key {
            outcome: v.outcome,
            action: v.action_type,
            channel: v.channel,
            code: v.reason_code,
            rule: t.rules.opt_id(v.matched_rule.as_ref()),
            template: t.templates.opt_id(v.template_name.as_ref()),
            deliver_at: v.deliver_at,
        });
        rows.written_at.push(r.written_at.unwrap_or(u32::MAX));
        rows.failed.push(r.passed() == Some(false));
        // A replay's line is its original's.
        if v.delivers() && !r.replayed {
            rows.sent.push(Sent {
                row,
                event_id: r.event_id,
                time: v.deliver_at.unwrap_or(r.event_timestamp),
                scheduled: v.scheduled(),
            });
        }
        Ok(())
    }

    fn written(&mut self, step: u32, at: u32) -> std::io::Result<()> {
        if let Some(w) = self.rows.written_at.get_mut(step as usize) {
            *w = at;
        }
        Ok(())
    }
}

type Cached = Option<(u32, Arc<EventResult>)>;

/// A finished run's rows (row `i` is step `i`).
pub struct Rows {
    file: Mutex<File>,
    /// Where each row starts in the file, and where the last ends.
    offsets: Vec<u64>,
    /// The step each row's line was written at (`u32::MAX`: not written).
    written_at: Vec<u32>,
    /// Rows whose expectations did not hold.
    failed: Vec<bool>,
    decisions: Decisions,
    sent: Vec<Sent>,
    cache: Mutex<Vec<Cached>>,
}

impl std::fmt::Debug for Rows {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Rows").field("len", &self.len()).finish()
    }
}

impl Rows {
    pub fn len(&self) -> usize {
        self.written_at.len()
    }

    pub fn is_empty(&self) -> bool {
        self.written_at.is_empty()
    }

    /// Row `row` in full; `None` past the end (or if the file cannot be read back).
    pub fn get(&self, row: u32) -> Option<Arc<EventResult>> {
        let slot = row as usize % CACHE;
        if let Some((r, hit)) = &self.cache.lock().unwrap_or_else(PoisonError::into_inner)[slot]
            && *r == row
        {
            return Some(Arc::clone(hit));
        }
        let i = row as usize;
        let (start, end) = (*self.offsets.get(i)?, *self.offsets.get(i + 1)?);
        let mut bytes = vec![0; usize::try_from(end - start).ok()?];
        {
            let mut file = self.file.lock().unwrap_or_else(PoisonError::into_inner);
            file.seek(SeekFrom::Start(start)).ok()?;
            file.read_exact(&mut bytes).ok()?;
        }
        let written = self.written_at.get(i).copied().filter(|&w| w != u32::MAX);
        let r = Arc::new(codec::decode(&bytes, &self.decisions.tables, written)?);
        self.cache.lock().unwrap_or_else(PoisonError::into_inner)[slot] =
            Some((row, Arc::clone(&r)));
        Some(r)
    }

    /// Every row, read in order.
    pub fn iter(&self) -> impl Iterator<Item = Arc<EventResult>> + '_ {
        (0..u32::try_from(self.len()).unwrap_or(u32::MAX)).map_while(|i| self.get(i))
    }

    pub fn outcome(&self, row: u32) -> Option<Outcome> {
        self.decisions.outcome(row)
    }

    /// Its expectations did not hold.
    pub fn failed(&self, row: u32) -> bool {
        self.failed.get(row as usize).copied().unwrap_or(false)
    }

    /// The step row `row`'s line was written at.
    pub fn written_at(&self, row: u32) -> Option<u32> {
        self.written_at
            .get(row as usize)
            .copied()
            .filter(|&w| w != u32::MAX)
    }

    pub fn decisions(&self) -> &Decisions {
        &self.decisions
    }

    /// Delivering rows (replays excepted), in order.
    pub fn sent(&self) -> &[Sent] {
        &self.sent
    }

    /// The event types, rules and templates the rows name.
    pub fn event_types(&self) -> impl Iterator<Item = &str> {
        self.decisions.tables.types.iter()
    }

    pub fn rule_names(&self) -> impl Iterator<Item = &str> {
        self.decisions.tables.rules.iter()
    }
}

#[cfg(test)]
mod tests;
