//! An event's expectations against its decision: every key of its `expect`, held (✓) or
//! "expected X, got Y" (✗), each with its line in the scenario file.

use serde_json::Value;

use super::text::{Line, Span, Style};
use crate::results::EventResult;
use crate::scenario::{Expect, Step};

/// The lines for `row`, whose scenario is `file`; `step` is its event when the scenario is
/// in memory (a streamed one knows only the keys that failed). Empty without an `expect`.
/// Unless `full`, expectations that all held take one line.
pub fn expectations(file: &str, row: &EventResult, step: Option<&Step>, full: bool) -> Vec<Line> {
    let Some(mismatches) = &row.mismatches else {
        return Vec::new();
    };
    let expect = step.and_then(|s| s.expect.as_ref());
    let given: Vec<(&str, Value)> = match expect.map(serde_json::to_value) {
        Some(Ok(Value::Object(m))) => Expect::KEYS
            .iter()
            .filter_map(|k| m.get(*k).map(|v| (*k, v.clone())))
            .collect(),
        _ => Vec::new(),
    };
    let failed = mismatches.len();
    if failed == 0 && !full {
        let n = given.len();
        let met = match n {
            0 => "✓ expectations met".to_string(),
            1 => "✓ 1 expectation met".to_string(),
            n => format!("✓ {n} expectations met"),
        };
        return vec![Line::new(vec![
            Span::styled(met, Style::Pass),
            Span::styled(format!("  {file}:{}", row.line), Style::Dim),
        ])];
    }
    let (head, style) = if failed == 0 {
        ("✓ expectations met".to_string(), Style::Pass)
    } else {
        (
            format!(
                "✗ {failed} expectation{} failed",
                if failed == 1 { "" } else { "s" }
            ),
            Style::Fail,
        )
    };
    let mut out = vec![Line::new(vec![
        Span::styled(head, style),
        Span::styled(format!("  {file}:{}", row.line), Style::Dim),
    ])];
    for m in mismatches {
        out.push(Line::new(vec![
            Span::styled("  ✗ ", Style::Fail),
            Span::plain(m.text()),
            Span::styled(format!("  line {}", m.line), Style::Dim),
        ]));
    }
    for (key, value) in &given {
        if mismatches.iter().any(|m| m.key == *key) {
            continue;
        }
        let shown = match value {
            Value::String(s) if matches!(*key, "reason_contains" | "message_text") => {
                format!("{s:?}")
            }
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        let line = step.map_or(row.line as usize, |s| s.line_of(key));
        out.push(Line::new(vec![
            Span::styled("  ✓ ", Style::Pass),
            Span::plain(format!("{key} {shown}")),
            Span::styled(format!("  line {line}"), Style::Dim),
        ]));
    }
    out
}

#[cfg(test)]
#[path = "expect_tests.rs"]
mod tests;
