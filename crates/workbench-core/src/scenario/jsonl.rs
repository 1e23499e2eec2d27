//! JSON Lines scenarios: one event per line, parsed lazily so a file of any size streams.

use std::io::BufRead;
use std::path::Path;

use super::{Keys, RawStep, ScenarioError, Step};
use crate::yaml::Pos;

/// JSON Lines parsed one line at a time; blank lines are skipped.
pub(crate) struct JsonlSteps<'p, R> {
    path: &'p Path,
    reader: R,
    buf: Vec<u8>,
    line: usize,
    keys: Keys,
}

impl<'p, R: BufRead> JsonlSteps<'p, R> {
    pub(crate) fn new(path: &'p Path, reader: R) -> Self {
        JsonlSteps {
            path,
            reader,
            buf: Vec::new(),
            line: 0,
            keys: Keys::default(),
        }
    }

    fn error(&self, column: usize, message: String) -> ScenarioError {
        ScenarioError {
            file: self.path.to_path_buf(),
            pos: (column > 0).then_some(Pos {
                line: self.line,
                column,
            }),
            message: if column > 0 {
                message
            } else {
                format!("line {}: {message}", self.line)
            },
        }
    }
}

impl<R: BufRead> Iterator for JsonlSteps<'_, R> {
    type Item = Result<Step, ScenarioError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            self.buf.clear();
            match self.reader.read_until(b'\n', &mut self.buf) {
                Ok(0) => return None,
                Ok(_) => self.line += 1,
                Err(e) => return Some(Err(self.error(0, format!("cannot read: {e}")))),
            }
            let Ok(text) = std::str::from_utf8(&self.buf) else {
                return Some(Err(self.error(0, "not valid UTF-8".into())));
            };
            if text.trim().is_empty() {
                continue;
            }
            let step = match parse_line(text) {
                Ok(raw) => raw.into_step(self.line, Vec::new()),
                Err((column, message)) => return Some(Err(self.error(column.max(1), message))),
            };
            // The key's column: where `"idempotency_key"` is written on the line.
            let column = text
                .find("\"idempotency_key\"")
                .map_or(1, |b| text[..b].chars().count() + 1);
            let pos = Pos {
                line: self.line,
                column,
            };
            return Some(match self.keys.check(&step, Some(pos)) {
                Ok(()) => Ok(step),
                Err(message) => Err(self.error(column, message)),
            });
        }
    }
}

/// One JSON Lines event; errors are (column, message naming the field). A valid line is
/// parsed once, without tracking the path (which cost about half of parsing, `perf`); only a
/// line that fails is parsed again to name the field.
fn parse_line(text: &str) -> Result<RawStep, (usize, String)> {
    if let Ok(step) = serde_json::from_str::<RawStep>(text) {
        return Ok(step);
    }
    parse_line_named(text)
}

fn parse_line_named(text: &str) -> Result<RawStep, (usize, String)> {
    let strip = |e: &serde_json::Error| {
        let m = e.to_string();
        m.split(" at line ").next().unwrap_or_default().to_string()
    };
    let mut de = serde_json::Deserializer::from_str(text);
    let step: RawStep = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let field = e.path().to_string();
        let inner = e.inner();
        let message = match field.as_str() {
            _ if inner.is_syntax() || inner.is_eof() => format!("invalid JSON: {}", strip(inner)),
            "." | "?" => strip(inner),
            _ => format!("field `{field}`: {}", strip(inner)),
        };
        (inner.column(), message)
    })?;
    de.end()
        .map_err(|e| (e.column(), format!("invalid JSON: {}", strip(&e))))?;
    Ok(step)
}
