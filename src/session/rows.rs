//! A run's results kept on disk: each row encoded once into a temporary file, read back on
//! demand through a small cache, with in memory only what scans need (each row's decision,
//! whether its expectations held, when a held line was written) and what messages.txt needs:
//! about 21 bytes a row.

mod codec;
mod column;
mod names;

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::sync::{Arc, Mutex, PoisonError};

use chrono::{DateTime, Utc};

use crate::engine::{DecisionAction, Outcome, ReasonCode, Verdict};
use crate::results::EventResult;
use crate::rules::Channel;
use crate::runner::ResultSink;
use codec::Tables;
use column::Column;

/// Rows decoded and kept, by row number modulo this (a page of the Events pane, and more).
const CACHE: usize = 1024;

/// Bytes read at once: the rows after one just read (the next page, a user's next events
/// when they are close) are then read without a system call.
const READ_AHEAD: usize = 16 * 1024;

/// Row flags: its expectations did not hold; its line was written at its own step.
const FAILED: u8 = 1;
const WRITTEN_OWN: u8 = 2;

/// What `Verdict::same_decision` compares but `deliver_at` (kept aside: few rows have one),
/// with names as ids into the rows' tables: 12 bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Key {
    outcome: Outcome,
    action: DecisionAction,
    channel: Option<Channel>,
    code: ReasonCode,
    rule: u32,
    template: u32,
}

/// Outcome, action, channel, reason code, `deliver_at`, rule and template.
type Compared<'a> = (
    Outcome,
    DecisionAction,
    Option<Channel>,
    ReasonCode,
    Option<&'a DateTime<Utc>>,
    Option<&'a str>,
    Option<&'a str>,
);

/// Every row's decision, comparable with another run's (Δ, the baseline).
#[derive(Debug, Clone, Default)]
pub struct Decisions {
    keys: Column<Key>,
    deliver_at: HashMap<u32, DateTime<Utc>>,
    tables: Tables,
}

impl Decisions {
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.len() == 0
    }

    fn push(&mut self, v: &Verdict) {
        let row = u32::try_from(self.keys.len()).unwrap_or(u32::MAX);
        let t = &mut self.tables;
        self.keys.push(Key {
            outcome: v.outcome,
            action: v.action_type,
            channel: v.channel,
            code: v.reason_code,
            rule: t.rules.opt_id(v.matched_rule.as_ref()),
            template: t.templates.opt_id(v.template_name.as_ref()),
        });
        if let Some(at) = v.deliver_at {
            self.deliver_at.insert(row, at);
        }
    }

    /// What `Verdict::same_decision` compares of row `row`, names as names.
    fn compared(&self, row: u32) -> Option<Compared<'_>> {
        let k = self.keys.get(row as usize)?;
        Some((
            k.outcome,
            k.action,
            k.channel,
            k.code,
            self.deliver_at.get(&row),
            self.tables.rules.name(k.rule),
            self.tables.templates.name(k.template),
        ))
    }

    /// Row `row` decided as row `other_row` of `other` did (see `Verdict::same_decision`).
    pub fn same(&self, row: u32, other: &Decisions, other_row: u32) -> bool {
        self.compared(row)
            .is_some_and(|a| other.compared(other_row) == Some(a))
    }

    pub fn outcome(&self, row: u32) -> Option<Outcome> {
        self.keys.get(row as usize).map(|k| k.outcome)
    }

    /// Row `row` decided as `v` does (see `Verdict::same_decision`).
    pub fn same_verdict(&self, row: u32, v: &Verdict) -> bool {
        self.compared(row)
            == Some((
                v.outcome,
                v.action_type,
                v.channel,
                v.reason_code,
                v.deliver_at.as_ref(),
                v.matched_rule.as_deref(),
                v.template_name.as_deref(),
            ))
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
    end: u64,
    buf: Vec<u8>,
    rows: Rows,
}

impl RowsWriter {
    pub fn new() -> std::io::Result<RowsWriter> {
        let file = tempfile::tempfile()?;
        Ok(RowsWriter {
            file: BufWriter::with_capacity(1 << 16, file.try_clone()?),
            end: 0,
            buf: Vec::with_capacity(512),
            rows: Rows {
                file: Mutex::new(Reader {
                    file: BufReader::with_capacity(READ_AHEAD, file),
                    pos: 0,
                }),
                offsets: Column::default(),
                flags: Column::default(),
                written_at: HashMap::new(),
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
        // The writer shares the file's position: the reader starts from the top.
        let reader = self
            .rows
            .file
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner);
        reader.file.seek(SeekFrom::Start(0))?;
        reader.pos = 0;
        self.rows.offsets.push(self.end);
        Ok(self.rows)
    }
}

impl ResultSink for RowsWriter {
    fn push(&mut self, r: EventResult) -> std::io::Result<()> {
        let rows = &mut self.rows;
        let row = u32::try_from(rows.flags.len()).unwrap_or(u32::MAX);
        self.buf.clear();
        codec::encode(&r, &mut rows.decisions.tables, &mut self.buf);
        self.file.write_all(&self.buf)?;
        rows.offsets.push(self.end);
        self.end += self.buf.len() as u64;
        let v = &r.verdict;
        rows.decisions.push(v);
        rows.flags
            .push(if r.passed() == Some(false) { FAILED } else { 0 });
        if let Some(at) = r.written_at {
            rows.set_written(row, at);
        }
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
        self.rows.set_written(step, at);
        Ok(())
    }
}

type Cached = Option<(u32, Arc<EventResult>)>;

/// The rows file, read through a buffer that is kept when the next read is within it.
struct Reader {
    file: BufReader<File>,
    /// Where the next read starts.
    pos: u64,
}

impl Reader {
    fn read_at(&mut self, at: u64, buf: &mut [u8]) -> std::io::Result<()> {
        let by = i64::try_from(at).unwrap_or(i64::MAX) - i64::try_from(self.pos).unwrap_or(0);
        self.file.seek_relative(by)?;
        self.pos = at;
        self.file.read_exact(buf)?;
        self.pos += buf.len() as u64;
        Ok(())
    }
}

/// A finished run's rows (row `i` is step `i`).
pub struct Rows {
    file: Mutex<Reader>,
    /// Where each row starts in the file (and, once finished, where the last ends).
    offsets: Column<u64>,
    /// `FAILED`, `WRITTEN_OWN`.
    flags: Column<u8>,
    /// The step a line was written at, for lines written at a later step (held sends).
    written_at: HashMap<u32, u32>,
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
        self.flags.len()
    }

    pub fn is_empty(&self) -> bool {
        self.flags.len() == 0
    }

    fn set_written(&mut self, row: u32, at: u32) {
        if at == row {
            if let Some(f) = self.flags.get_mut(row as usize) {
                *f |= WRITTEN_OWN;
            }
        } else if (row as usize) < self.flags.len() {
            self.written_at.insert(row, at);
        }
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
        let (start, end) = (self.offsets.get(i)?, self.offsets.get(i + 1)?);
        let mut bytes = vec![0; usize::try_from(end - start).ok()?];
        self.file
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .read_at(start, &mut bytes)
            .ok()?;
        let r = Arc::new(codec::decode(
            &bytes,
            &self.decisions.tables,
            self.written_at(row),
        )?);
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
        self.flags
            .get(row as usize)
            .is_some_and(|f| f & FAILED != 0)
    }

    /// The step row `row`'s line was written at.
    pub fn written_at(&self, row: u32) -> Option<u32> {
        if self.flags.get(row as usize)? & WRITTEN_OWN != 0 {
            return Some(row);
        }
        self.written_at.get(&row).copied()
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
