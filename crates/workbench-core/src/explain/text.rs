//! Styled text without a terminal: lines of spans, each with a semantic role that a front end
//! maps to its own colours (the TUI's theme) or drops (plain text).

use std::fmt;
use std::fmt::Write as _;

use crate::engine::Outcome;

/// What a piece of text is, not how it looks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Style {
    #[default]
    Plain,
    /// Secondary detail: labels, what a condition saw, skipped rules.
    Dim,
    /// A condition that held.
    Pass,
    /// A condition or rule that failed.
    Fail,
    /// The rule that decided the event.
    Winner,
    /// A rule that matched after the winner.
    Shadowed,
    /// A difference from the baseline.
    Changed,
    /// The line of the event being explained.
    Selected,
    Outcome(Outcome),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Span {
    pub text: String,
    pub style: Style,
}

/// Spans on one line; `style` lies under every span's own (a highlighted line).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Line {
    pub spans: Vec<Span>,
    pub style: Style,
}

impl Span {
    pub fn plain(text: impl Into<String>) -> Span {
        Span::styled(text, Style::Plain)
    }

    pub fn styled(text: impl Into<String>, style: Style) -> Span {
        Span {
            text: text.into(),
            style,
        }
    }
}

impl Line {
    pub fn new(spans: Vec<Span>) -> Line {
        Line {
            spans,
            style: Style::Plain,
        }
    }

    /// One plain span on a line styled `style`.
    pub fn styled(text: impl Into<String>, style: Style) -> Line {
        Line {
            spans: vec![Span::plain(text)],
            style,
        }
    }

    #[must_use]
    pub fn with_style(self, style: Style) -> Line {
        Line { style, ..self }
    }

    pub fn push(&mut self, span: Span) {
        self.spans.push(span);
    }
}

impl fmt::Display for Line {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.spans.iter().try_for_each(|s| f.write_str(&s.text))
    }
}

/// Lines as plain text, one per line, each ending in a newline.
pub fn plain(lines: &[Line]) -> String {
    let mut out = String::new();
    for l in lines {
        let _ = writeln!(out, "{l}");
    }
    out
}
