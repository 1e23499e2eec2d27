//! The one place YAML is read (and written): `yaml_serde` for typed deserialisation, `saphyr-parser` for the
//! source positions of nodes (which `yaml_serde` does not expose), and a first pass that
//! guards nesting depth and explains syntax errors before either of them runs.

mod scan;
pub mod suggest;

use std::collections::HashMap;

use saphyr_parser::{Event, Parser};
use serde::de::DeserializeOwned;

/// A 1-based line and column in a source file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
pub struct Pos {
    pub line: usize,
    pub column: usize,
}

/// A YAML error: message without position, and where it happened when known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YamlError {
    pub message: String,
    pub pos: Option<Pos>,
}

pub use scan::MAX_DEPTH;

/// Serialize `value` as one block-style YAML document (scenarios the workbench writes).
pub fn to_string<T: serde::Serialize>(value: &T) -> Result<String, String> {
    yaml_serde::to_string(value).map_err(|e| e.to_string())
}

/// Deserialize one YAML document. Nesting deeper than [`MAX_DEPTH`] is refused before any
/// parsing that recurses; syntax errors are told in plain words; a message naming an unknown
/// variant or field suggests the closest valid one; control characters are escaped.
pub fn from_str<T: DeserializeOwned>(src: &str) -> Result<T, YamlError> {
    let first = scan::scan(src)?;
    yaml_serde::from_str(src).map_err(|err| {
        // When both parsers find the document broken, the syntax error is the one to fix:
        // a type error yaml_serde met first (it deserializes as it parses) is a consequence.
        if let Some(syntax) = first.syntax {
            return syntax;
        }
        let pos = err.location().map(|l| Pos {
            line: l.line(),
            column: l.column(),
        });
        let text = err.to_string();
        // yaml_serde appends " at line L column C"; the position is reported separately.
        let mut message = match text.rfind(" at line ") {
            Some(i) if pos.is_some() => text[..i].to_string(),
            _ => text,
        };
        if !message.contains('`')
            && let Some(plain) = scan::known(&message, None, None, None)
        {
            message = plain;
        }
        if let Some(best) = suggest::for_message(&message) {
            message = format!("{message}; did you mean `{best}`?");
        }
        YamlError {
            message: escape_controls(&cut_quoted(&message)),
            pos,
        }
    })
}

/// Backticked user text longer than 80 characters cut to 64, so a hostile value cannot make
/// a message huge.
fn cut_quoted(message: &str) -> String {
    let parts: Vec<&str> = message.split('`').collect();
    if parts
        .iter()
        .skip(1)
        .step_by(2)
        .all(|p| p.chars().count() <= 80)
    {
        return message.to_string();
    }
    let mut out = String::with_capacity(message.len().min(4096));
    for (i, part) in parts.iter().enumerate() {
        if i > 0 {
            out.push('`');
        }
        if i % 2 == 1 && part.chars().count() > 80 {
            out.extend(part.chars().take(64));
            out.push('…');
        } else {
            out.push_str(part);
        }
    }
    out
}

/// Control characters as escapes (`\n`, `\u{1b}`), so that user text in a message stays on
/// one line and shows what is really there.
pub fn escape_controls(s: &str) -> String {
    if !s.chars().any(char::is_control) {
        return s.to_string();
    }
    s.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// The top-level shape of a document, for files that accept several.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TopLevel {
    Mapping,
    Sequence,
    Scalar,
    Empty,
}

/// Positions of the nodes of one YAML document, keyed by path (`rules[2].action`).
/// Only paths accepted by the filter given at build time are kept.
#[derive(Debug, Default)]
pub struct Positions {
    nodes: HashMap<String, Pos>,
    top: Option<TopLevel>,
}

enum Frame {
    Seq { path: String, next: usize },
    Map { path: String, key: Option<String> },
}

impl Positions {
    /// Index `src`; `keep(depth, path)` says which node positions to record. Parse errors
    /// leave the index partial: `yaml_serde` reports them.
    pub fn index(src: &str, keep: impl Fn(usize, &str) -> bool) -> Positions {
        let mut out = Positions::default();
        let mut stack: Vec<Frame> = Vec::new();
        for item in Parser::new_from_str(src) {
            let Ok((event, span)) = item else { break };
            if stack.len() > MAX_DEPTH {
                break; // `from_str` refuses such a document
            }
            let pos = Pos {
                line: span.start.line(),
                column: span.start.col() + 1,
            };
            match event {
                Event::SequenceStart(..) | Event::MappingStart(..) | Event::Scalar(..) => {
                    let is_key = matches!(stack.last(), Some(Frame::Map { key: None, .. }));
                    if is_key {
                        let text = match &event {
                            Event::Scalar(text, ..) => text.to_string(),
                            _ => String::from("?"),
                        };
                        if let Some(Frame::Map { key, .. }) = stack.last_mut() {
                            *key = Some(text);
                        }
                        // complex keys are not addressed; their content lands under `?`
                        match event {
                            Event::SequenceStart(..) => stack.push(Frame::Seq {
                                path: String::from("?"),
                                next: 0,
                            }),
                            Event::MappingStart(..) => stack.push(Frame::Map {
                                path: String::from("?"),
                                key: None,
                            }),
                            _ => {}
                        }
                        continue;
                    }
                    let path = child_path(&mut stack);
                    if out.top.is_none() {
                        out.top = Some(match event {
                            Event::SequenceStart(..) => TopLevel::Sequence,
                            Event::MappingStart(..) => TopLevel::Mapping,
                            _ => TopLevel::Scalar,
                        });
                    }
                    if keep(stack.len(), &path) {
                        out.nodes.insert(path.clone(), pos);
                    }
                    match event {
                        Event::SequenceStart(..) => stack.push(Frame::Seq { path, next: 0 }),
                        Event::MappingStart(..) => stack.push(Frame::Map { path, key: None }),
                        _ => {}
                    }
                }
                Event::SequenceEnd | Event::MappingEnd => {
                    stack.pop();
                }
                Event::Alias(_) => {
                    let _ = child_path(&mut stack);
                }
                _ => {}
            }
        }
        out
    }

    pub fn get(&self, path: &str) -> Option<Pos> {
        self.nodes.get(path).copied()
    }

    pub fn top_level(&self) -> TopLevel {
        self.top.unwrap_or(TopLevel::Empty)
    }
}

/// The path of the next child of the innermost open node, advancing that node.
fn child_path(stack: &mut [Frame]) -> String {
    match stack.last_mut() {
        None => String::new(),
        Some(Frame::Seq { path, next }) => {
            let p = format!("{path}[{next}]");
            *next += 1;
            p
        }
        Some(Frame::Map { path, key }) => {
            let k = key.take().unwrap_or_default();
            if path.is_empty() {
                k
            } else {
                format!("{path}.{k}")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indexes_nested_paths() {
        let src = "rules:\n  - name: a\n    action:\n      type: send\n  - name: b\n";
        let p = Positions::index(src, |_, _| true);
        assert_eq!(p.top_level(), TopLevel::Mapping);
        assert_eq!(p.get("rules[0]"), Some(Pos { line: 2, column: 5 }));
        assert_eq!(
            p.get("rules[0].action.type"),
            Some(Pos {
                line: 4,
                column: 13
            })
        );
        assert_eq!(
            p.get("rules[1].name"),
            Some(Pos {
                line: 5,
                column: 11
            })
        );
    }

    #[test]
    fn flow_style_and_filters() {
        let src = "events: [{a: 1}, {a: 2}]\n";
        let p = Positions::index(src, |depth, _| depth == 2);
        assert_eq!(
            p.get("events[1]"),
            Some(Pos {
                line: 1,
                column: 18
            })
        );
        assert_eq!(p.get("events"), None);
    }

    #[test]
    fn long_user_text_in_messages_is_cut_and_controls_escaped() {
        let m = format!("unknown variant `{}`, expected `a`", "x".repeat(5000));
        let cut = cut_quoted(&m);
        assert!(cut.len() < 120, "{cut}");
        assert!(cut.ends_with("…`, expected `a`"), "{cut}");
        assert_eq!(escape_controls("a\nb\u{1b}"), "a\\nb\\u{1b}");
    }

    #[test]
    fn errors_carry_positions_without_the_suffix() {
        #[derive(serde::Deserialize, Debug)]
        #[allow(dead_code)]
        struct T {
            a: u32,
        }
        let err = from_str::<T>("a: x\n").unwrap_err();
        assert_eq!(err.pos, Some(Pos { line: 1, column: 4 }));
        assert!(!err.message.contains("at line"), "{}", err.message);
    }
}
