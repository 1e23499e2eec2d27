//! The stub messaging provider: `messages.txt`, an append-only log of one line per delivery.

pub mod line;

use std::collections::HashSet;
use std::fs::{File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::Path;
use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::engine::Verdict;
use crate::event::format_ts;
use crate::rules::RuleSet;

/// One delivery as the provider receives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// The line's time: the event's timestamp, or a scheduled send's `deliver_at`.
    pub at: DateTime<Utc>,
    pub user_id: String,
    pub template: Arc<str>,
    pub channel: &'static str,
    pub event_id: i64,
    pub rule: Arc<str>,
    pub text: String,
}

impl Message {
    /// The message a verdict delivers, if it delivers one, with the text the engine rendered
    /// (the template's text as the rules have it, for a verdict that carries none).
    pub fn for_verdict(
        rules: &RuleSet,
        event_timestamp: DateTime<Utc>,
        user_id: &str,
        event_id: i64,
        v: &Verdict,
    ) -> Option<Message> {
        let (true, Some(rule), Some(template), Some(channel)) =
            (v.delivers(), &v.matched_rule, &v.template_name, v.channel)
        else {
            return None;
        };
        Some(Message {
            at: v.deliver_at.unwrap_or(event_timestamp),
            user_id: user_id.to_string(),
            template: template.clone(),
            channel: channel.as_str(),
            event_id,
            rule: rule.clone(),
            text: v
                .message_text
                .clone()
                .unwrap_or_else(|| rules.text(template).to_string()),
        })
    }

    /// The message of a stored send request (after a crash, or a scheduled one now due), with
    /// the text rendered when it was decided; rows from before migration 6 have none and take
    /// the template's text as the rules have it.
    pub fn for_request(rules: &RuleSet, req: &crate::store::SendRequest) -> Message {
        Message {
            at: req.deliver_at.unwrap_or(req.event_timestamp),
            user_id: req.user_id.clone(),
            template: req.template_name.clone(),
            channel: req.channel.as_str(),
            event_id: req.event_id,
            rule: req.rule.clone(),
            text: req
                .message_text
                .clone()
                .unwrap_or_else(|| rules.text(&req.template_name).to_string()),
        }
    }

    /// The `messages.txt` line (without newline), every value escaped (see [`line`]).
    pub fn line(&self) -> String {
        let mut out = format_ts(self.at);
        let fields: [(&str, &str); 6] = [
            ("user_id", &self.user_id),
            ("template", &self.template),
            ("channel", self.channel),
            ("event_id", ""),
            ("reason", ""),
            ("text", &self.text),
        ];
        for (key, value) in fields {
            out.push_str(" | ");
            out.push_str(key);
            out.push('=');
            match key {
                "event_id" => out.push_str(&self.event_id.to_string()),
                "reason" => {
                    out.push_str("rule:");
                    line::escape_into(&mut out, &self.rule);
                }
                _ => line::escape_into(&mut out, value),
            }
        }
        out
    }
}

pub trait Provider {
    fn deliver(&mut self, message: &Message) -> io::Result<()>;
    /// Make delivered lines durable (for buffered providers).
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Appends to a file, a whole line (or a whole buffer of lines) at a time: each append is one
/// `write` of all its bytes, and one that fails part-way is cut off again, so the file only
/// ever holds whole lines. `durable` writes every line as it comes (the service); otherwise
/// lines are buffered until `flush` (scenario runs).
pub struct MessagesFile {
    file: File,
    buf: Vec<u8>,
    durable: bool,
    /// The length to cut back to before the next append, when cutting a failed append off
    /// failed too.
    torn_at: Option<u64>,
}

impl MessagesFile {
    pub fn append(path: &Path, durable: bool) -> io::Result<MessagesFile> {
        let file = OpenOptions::new().create(true).append(true).open(path)?;
        Ok(MessagesFile {
            file,
            buf: Vec::new(),
            durable,
            torn_at: None,
        })
    }

    fn write_buf(&mut self) -> io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        if let Some(len) = self.torn_at {
            self.file.set_len(len)?;
            self.torn_at = None;
        }
        // The length now, not a remembered one: the file may have been rotated or truncated.
        let len = self.file.metadata()?.len();
        let written = self.file.write_all(&self.buf);
        // Written, or not at all: a failed append is cut off and dropped (its messages are
        // kept by the pipeline and delivered again).
        self.buf.clear();
        if let Err(e) = written {
            if self.file.set_len(len).is_err() {
                self.torn_at = Some(len);
            }
            return Err(e);
        }
        Ok(())
    }
}

impl Provider for MessagesFile {
    fn deliver(&mut self, m: &Message) -> io::Result<()> {
        self.buf.extend_from_slice(m.line().as_bytes());
        self.buf.push(b'\n');
        if self.durable {
            return self.write_buf();
        }
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.write_buf()
    }
}

/// Make `messages.txt` whole again after a crash or a full disk: a last line without its
/// newline (a write cut off) is removed, its delivery to be written again. Returns the event
/// ids that have a whole line. The file is read as bytes: invalid UTF-8 never stops a start.
pub fn repair(path: &Path) -> io::Result<HashSet<i64>> {
    let mut file = match OpenOptions::new().read(true).write(true).open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(HashSet::new()),
        Err(e) => return Err(e),
    };
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes)?;
    let whole = bytes.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
    if whole < bytes.len() {
        tracing::warn!(
            path = %path.display(),
            bytes = bytes.len() - whole,
            "removing a torn last line from the messages file"
        );
        file.set_len(whole as u64)?;
        file.seek(SeekFrom::End(0))?;
    }
    Ok(bytes[..whole]
        .split(|b| *b == b'\n')
        .filter_map(|l| line::event_id(&String::from_utf8_lossy(l)))
        .collect())
}

/// Keeps nothing: for runs that do not write `messages.txt`.
pub struct Discard;

impl Provider for Discard {
    fn deliver(&mut self, _: &Message) -> io::Result<()> {
        Ok(())
    }
}

/// Keeps every line in memory (tests, the TUI's messages.txt pane).
#[derive(Debug, Default)]
pub struct Collect(pub Vec<String>);

impl Provider for Collect {
    fn deliver(&mut self, m: &Message) -> io::Result<()> {
        self.0.push(m.line());
        Ok(())
    }
}

impl<P: Provider + ?Sized> Provider for &mut P {
    fn deliver(&mut self, m: &Message) -> io::Result<()> {
        (**self).deliver(m)
    }
    fn flush(&mut self) -> io::Result<()> {
        (**self).flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_format_matches_the_spec() {
        let m = Message {
            at: "2024-01-15T10:30:00Z".parse().unwrap(),
            user_id: "user_12345".into(),
            template: "INSUFFICIENT_FUNDS_EMAIL".into(),
            channel: "email",
            event_id: 123,
            rule: "insufficient_funds_email".into(),
            text: "top up\nplease | event_id=1".into(),
        };
        assert_eq!(
            m.line(),
            "2024-01-15T10:30:00Z | user_id=user_12345 | template=INSUFFICIENT_FUNDS_EMAIL | \
             channel=email | event_id=123 | reason=rule:insufficient_funds_email | text=top up\\nplease \\| event_id=1"
        );
    }

    #[test]
    fn repair_cuts_a_torn_last_line_even_inside_a_character() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("messages.txt");
        let mut bytes =
            b"t | user_id=a | template=T | channel=email | event_id=1 | reason=rule:r | text=x\n"
                .to_vec();
        bytes.extend_from_slice(
            "t | user_id=é | template=T | channel=email | event_id=2 | reason=rule:r | text=é"
                .as_bytes(),
        );
        bytes.pop(); // half of `é`
        std::fs::write(&path, &bytes).unwrap();
        let written = repair(&path).unwrap();
        assert_eq!(written, HashSet::from([1]));
        let after = std::fs::read(&path).unwrap();
        assert!(
            after.ends_with(b"text=x\n"),
            "{}",
            String::from_utf8_lossy(&after)
        );
        // A missing file is an empty log.
        assert!(repair(&dir.path().join("none.txt")).unwrap().is_empty());
    }

    #[test]
    fn durable_appends_are_whole_lines() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("messages.txt");
        let mut f = MessagesFile::append(&path, true).unwrap();
        let m = Message {
            at: "2024-01-15T10:30:00Z".parse().unwrap(),
            user_id: "a\nb".into(),
            template: "T".into(),
            channel: "email",
            event_id: 5,
            rule: "r".into(),
            text: "x".into(),
        };
        f.deliver(&m).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text.lines().count(), 1);
        assert_eq!(repair(&path).unwrap(), HashSet::from([5]));
    }
}
