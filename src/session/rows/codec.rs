//! The on-disk form of one `EventResult`: little-endian integers, length-prefixed strings,
//! closed names as their index, and event types, rules and templates as ids into the rows'
//! name tables (`written_at` is kept in memory, since it changes after the row is written).

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::names::Names;
use crate::engine::{DecisionAction, Outcome, ReasonCode, Verdict};
use crate::results::EventResult;
use crate::rules::Channel;
use crate::scenario::{Expect, Mismatch};

/// The name tables rows refer to.
#[derive(Debug, Clone, Default)]
pub struct Tables {
    pub types: Names,
    pub rules: Names,
    pub templates: Names,
}

pub fn encode(r: &EventResult, t: &mut Tables, out: &mut Vec<u8>) {
    let v = &r.verdict;
    u32s(out, r.step);
    u32s(out, r.line);
    opt_str(out, r.name.as_deref());
    str(out, &r.user_id);
    u32s(out, t.types.id(&r.event_type));
    ts(out, r.event_timestamp);
    out.extend_from_slice(&r.event_id.to_le_bytes());
    u32s(out, t.rules.opt_id(v.matched_rule.as_ref()));
    out.push(index(DecisionAction::NAMES, v.action_type.as_str()));
    u32s(out, t.templates.opt_id(v.template_name.as_ref()));
    out.push(
        v.channel
            .map_or(u8::MAX, |c| index(Channel::NAMES, c.as_str())),
    );
    out.push(index(Outcome::NAMES, v.outcome.as_str()));
    str(out, &v.reason);
    out.push(index(ReasonCode::NAMES, v.reason_code.as_str()));
    match v.deliver_at {
        Some(at) => {
            out.push(1);
            ts(out, at);
        }
        None => out.push(0),
    }
    opt_str(out, v.message_text.as_deref());
    match &r.mismatches {
        None => u32s(out, u32::MAX),
        Some(ms) => {
            u32s(out, len(ms.len()));
            for m in ms {
                out.push(index(&Expect::KEYS, m.key));
                str(out, &m.expected.to_string());
                str(out, &m.got.to_string());
                u32s(out, m.line);
            }
        }
    }
    u32s(out, len(r.shadowed.len()));
    for s in &r.shadowed {
        out.extend_from_slice(&s.to_le_bytes());
    }
    out.push(u8::from(r.replayed));
}

/// `None` when the bytes are not a row this module wrote.
pub fn decode(bytes: &[u8], t: &Tables, written_at: Option<u32>) -> Option<EventResult> {
    let mut b = Bytes(bytes);
    let step = b.u32()?;
    let line = b.u32()?;
    let name = b.opt_str()?.map(Box::from);
    let user_id = Box::from(b.str()?);
    let event_type = t.types.get(b.u32()?)?;
    let event_timestamp = b.ts()?;
    let event_id = i64::from_le_bytes(b.take()?);
    let matched_rule = t.rules.opt_get(b.u32()?)?;
    let action_type = DecisionAction::parse(DecisionAction::NAMES.get(usize::from(b.u8()?))?)?;
    let template_name = t.templates.opt_get(b.u32()?)?;
    let channel = match b.u8()? {
        u8::MAX => None,
        c => Some(Channel::parse(Channel::NAMES.get(usize::from(c))?)?),
    };
    let outcome = Outcome::parse(Outcome::NAMES.get(usize::from(b.u8()?))?)?;
    let reason = b.str()?.to_string();
    let reason_code = ReasonCode::parse(ReasonCode::NAMES.get(usize::from(b.u8()?))?)?;
    let deliver_at = match b.u8()? {
        0 => None,
        _ => Some(b.ts()?),
    };
    let message_text = b.opt_str()?.map(str::to_string);
    let mismatches = match b.u32()? {
        u32::MAX => None,
        n => {
            let mut ms = Vec::with_capacity(n.min(16) as usize);
            for _ in 0..n {
                ms.push(Mismatch {
                    key: Expect::KEYS.get(usize::from(b.u8()?))?,
                    expected: serde_json::from_str::<Value>(b.str()?).ok()?,
                    got: serde_json::from_str::<Value>(b.str()?).ok()?,
                    line: b.u32()?,
                });
            }
            Some(ms)
        }
    };
    let n = b.u32()?;
    let mut shadowed = Vec::with_capacity(n.min(64) as usize);
    for _ in 0..n {
        shadowed.push(u16::from_le_bytes(b.take()?));
    }
    let replayed = b.u8()? != 0;
    b.0.is_empty().then_some(EventResult {
        step,
        line,
        name,
        user_id,
        event_type,
        event_timestamp,
        event_id,
        verdict: Verdict {
            matched_rule,
            action_type,
            template_name,
            channel,
            outcome,
            reason,
            reason_code,
            deliver_at,
            message_text,
        },
        mismatches,
        shadowed: shadowed.into(),
        written_at,
        replayed,
    })
}

fn index(names: &[&str], name: &str) -> u8 {
    let i = names.iter().position(|n| *n == name).unwrap_or(usize::MAX);
    u8::try_from(i).unwrap_or(u8::MAX)
}

fn len(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX - 1)
}

fn u32s(out: &mut Vec<u8>, n: u32) {
    out.extend_from_slice(&n.to_le_bytes());
}

fn str(out: &mut Vec<u8>, s: &str) {
    u32s(out, len(s.len()));
    out.extend_from_slice(s.as_bytes());
}

fn opt_str(out: &mut Vec<u8>, s: Option<&str>) {
    match s {
        Some(s) => str(out, s),
        None => u32s(out, u32::MAX),
    }
}

fn ts(out: &mut Vec<u8>, t: DateTime<Utc>) {
    out.extend_from_slice(&t.timestamp().to_le_bytes());
    u32s(out, t.timestamp_subsec_nanos());
}

struct Bytes<'a>(&'a [u8]);

impl<'a> Bytes<'a> {
    fn take<const N: usize>(&mut self) -> Option<[u8; N]> {
        let (head, rest) = self.0.split_first_chunk::<N>()?;
        self.0 = rest;
        Some(*head)
    }

    fn u8(&mut self) -> Option<u8> {
        Some(self.take::<1>()?[0])
    }

    fn u32(&mut self) -> Option<u32> {
        Some(u32::from_le_bytes(self.take()?))
    }

    fn str(&mut self) -> Option<&'a str> {
        let n = self.u32()? as usize;
        let (s, rest) = self.0.split_at_checked(n)?;
        self.0 = rest;
        std::str::from_utf8(s).ok()
    }

    fn opt_str(&mut self) -> Option<Option<&'a str>> {
        if self.0.get(..4)? == u32::MAX.to_le_bytes() {
            self.0 = &self.0[4..];
            return Some(None);
        }
        self.str().map(Some)
    }

    fn ts(&mut self) -> Option<DateTime<Utc>> {
        let secs = i64::from_le_bytes(self.take()?);
        DateTime::from_timestamp(secs, self.u32()?)
    }
}
