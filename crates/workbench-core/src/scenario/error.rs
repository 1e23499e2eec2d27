//! Scenario errors: `file:line:column: message` on one line, whatever the input held.

use std::fmt;
use std::path::PathBuf;

use crate::source;
use crate::yaml::Pos;

#[derive(Debug, Clone, PartialEq)]
pub struct ScenarioError {
    pub file: PathBuf,
    pub pos: Option<Pos>,
    pub message: String,
}

impl std::error::Error for ScenarioError {}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {}",
            source::at(&self.file, self.pos),
            tidy(&self.message)
        )
    }
}

/// The longest quoted input an error repeats, in characters.
const MAX_QUOTE: usize = 80;

/// Messages quote input between backticks: escape control characters (an error is one line)
/// and shorten long quotes.
fn tidy(message: &str) -> String {
    let mut out = String::with_capacity(message.len().min(1024));
    for (i, part) in message.split('`').enumerate() {
        if i > 0 {
            out.push('`');
        }
        let long = i % 2 == 1 && part.chars().nth(MAX_QUOTE).is_some();
        let part = if long {
            part.chars().take(MAX_QUOTE - 3).collect()
        } else {
            part.to_string()
        };
        for c in part.chars() {
            if c.is_control() {
                out.extend(c.escape_default());
            } else {
                out.push(c);
            }
        }
        if long {
            out.push_str("...");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_are_one_line_and_quote_at_most_80_characters() {
        let e = ScenarioError {
            file: "s.yaml".into(),
            pos: Some(Pos { line: 2, column: 3 }),
            message: format!("`a\nb` is not `{}` at all\tx", "h".repeat(100_000)),
        };
        let text = e.to_string();
        assert_eq!(
            text,
            format!(
                "s.yaml:2:3: `a\\nb` is not `{}...` at all\\tx",
                "h".repeat(77)
            )
        );
    }
}
