//! A run's results as they are decided, kept for the reports without keeping every row: a
//! [`Tally`], and for the JSON report each decision rendered into a spill file as soon as it
//! is final (a held send waits until its line is written, and the decisions after it with it).

use std::collections::VecDeque;
use std::io::{self, BufWriter, Write};
use std::path::Path;

use tempfile::NamedTempFile;

use super::json::render_decision;
use super::tally::{Decisions, Tally};
use crate::results::EventResult;
use crate::rules::RuleSet;
use crate::runner::ResultSink;

/// Where one file's results go during a run.
pub struct Collector {
    pub tally: Tally,
    spill: Option<Spill>,
}

/// The JSON decisions of one file, rendered in step order.
struct Spill {
    file: BufWriter<NamedTempFile>,
    /// Results not yet final: the first is a held send whose line is not written yet.
    waiting: VecDeque<EventResult>,
    /// The step of `waiting[0]`.
    first: u32,
    rendered: usize,
    buf: Vec<u8>,
}

impl Collector {
    /// A collector for a run with `rules`: `json` renders every decision into a temporary
    /// file (for [`json_to`](super::json_to)); `junit` keeps every result with an
    /// expectation.
    pub fn new(rules: &RuleSet, json: bool, junit: bool) -> io::Result<Collector> {
        let spill = if json {
            Some(Spill {
                file: BufWriter::with_capacity(1 << 16, NamedTempFile::new()?),
                waiting: VecDeque::new(),
                first: 0,
                rendered: 0,
                buf: Vec::new(),
            })
        } else {
            None
        };
        Ok(Collector {
            tally: Tally::new(rules, junit),
            spill,
        })
    }

    /// Render what still waits (at the end of a run every line is written) and flush the
    /// spill file.
    pub fn finish(&mut self) -> io::Result<()> {
        if let Some(s) = &mut self.spill {
            s.drain(true)?;
            s.file.flush()?;
        }
        Ok(())
    }

    /// Where the rendered decisions are, once [`finish`](Self::finish)ed.
    pub fn decisions(&self) -> Decisions<'_> {
        match &self.spill {
            Some(s) => Decisions::Rendered(s.path()),
            None => Decisions::None,
        }
    }
}

impl Spill {
    fn path(&self) -> &Path {
        self.file.get_ref().path()
    }

    /// Render the results at the front that are final (all of them when `all`).
    fn drain(&mut self, all: bool) -> io::Result<()> {
        while let Some(r) = self.waiting.front() {
            let pending = r.verdict.delivers() && !r.replayed && r.written_at.is_none();
            if pending && !all {
                break;
            }
            let r = self.waiting.pop_front().expect("a front result");
            self.buf.clear();
            render_decision(&mut self.buf, &r, self.rendered == 0);
            self.file.write_all(&self.buf)?;
            self.rendered += 1;
            self.first += 1;
        }
        Ok(())
    }
}

impl ResultSink for Collector {
    fn push(&mut self, r: EventResult) -> io::Result<()> {
        self.tally.add(&r);
        if let Some(s) = &mut self.spill {
            if s.waiting.is_empty() {
                s.first = r.step;
            }
            s.waiting.push_back(r);
            s.drain(false)?;
        }
        Ok(())
    }

    fn written(&mut self, step: u32, at: u32) -> io::Result<()> {
        if let Some(s) = &mut self.spill {
            if let Some(r) = step
                .checked_sub(s.first)
                .and_then(|i| s.waiting.get_mut(i as usize))
            {
                r.written_at = Some(at);
            }
            s.drain(false)?;
        }
        Ok(())
    }
}
