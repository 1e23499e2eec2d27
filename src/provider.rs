//! The stub messaging provider: one `messages.txt` line per delivery.

use std::fs::{File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::Path;
use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::engine::Verdict;
use crate::event::format_ts;
use crate::rules::RuleSet;

/// One delivery as the provider receives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub event_timestamp: DateTime<Utc>,
    pub user_id: String,
    pub template: Arc<str>,
    pub channel: &'static str,
    pub event_id: i64,
    pub rule: Arc<str>,
    pub text: String,
}

impl Message {
    /// The message a verdict delivers, if it delivers one.
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
            event_timestamp,
            user_id: user_id.to_string(),
            template: template.clone(),
            channel: channel.as_str(),
            event_id,
            rule: rule.clone(),
            text: rules.text(template).to_string(),
        })
    }

    /// The `messages.txt` line (without newline); newlines in the text become spaces.
    pub fn line(&self) -> String {
        let text: String = self
            .text
            .chars()
            .map(|c| if c == '\n' || c == '\r' { ' ' } else { c })
            .collect();
        format!(
            "{} | user_id={} | template={} | channel={} | event_id={} | reason=rule:{} | text={}",
            format_ts(self.event_timestamp),
            self.user_id,
            self.template,
            self.channel,
            self.event_id,
            self.rule,
            text
        )
    }
}

pub trait Provider {
    fn deliver(&mut self, message: &Message) -> io::Result<()>;
    /// Make delivered lines durable (for buffered providers).
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Appends to a file. `durable` flushes every line (the service); otherwise lines are
/// buffered until `flush` (scenario runs).
pub struct MessagesFile {
    out: BufWriter<File>,
    durable: bool,
}

impl MessagesFile {
    pub fn append(path: &Path, durable: bool) -> io::Result<MessagesFile> {
        let file = OpenOptions::new().create(true).append(true).open(path)?;
        Ok(MessagesFile {
            out: BufWriter::new(file),
            durable,
        })
    }
}

impl Provider for MessagesFile {
    fn deliver(&mut self, m: &Message) -> io::Result<()> {
        writeln!(self.out, "{}", m.line())?;
        if self.durable {
            self.out.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

/// The event ids that already have a line in a `messages.txt` (empty when it does not exist).
pub fn written_event_ids(path: &Path) -> io::Result<std::collections::HashSet<i64>> {
    use std::io::BufRead;
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Default::default()),
        Err(e) => return Err(e),
    };
    let mut ids = std::collections::HashSet::new();
    for line in io::BufReader::new(file).lines() {
        let line = line?;
        if let Some(id) = line
            .split(" | ")
            .find_map(|f| f.strip_prefix("event_id="))
            .and_then(|v| v.parse().ok())
        {
            ids.insert(id);
        }
    }
    Ok(ids)
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
            event_timestamp: "2024-01-15T10:30:00Z".parse().unwrap(),
            user_id: "user_12345".into(),
            template: "INSUFFICIENT_FUNDS_EMAIL".into(),
            channel: "email",
            event_id: 123,
            rule: "insufficient_funds_email".into(),
            text: "top up\nplease".into(),
        };
        assert_eq!(
            m.line(),
            "2024-01-15T10:30:00Z | user_id=user_12345 | template=INSUFFICIENT_FUNDS_EMAIL | \
             channel=email | event_id=123 | reason=rule:insufficient_funds_email | text=top up please"
        );
    }
}
