//! A first, cheap pass over a YAML document with `saphyr-parser` events: it refuses nesting
//! deeper than [`MAX_DEPTH`] before anything recurses, and explains syntax errors in plain
//! words (libyaml's and saphyr's scanner messages alike).

use saphyr_parser::{Event, Parser, ScanError};

use super::{Pos, YamlError};

/// The deepest nesting of collections (mappings and sequences) any YAML input may have.
/// Rules need at most 3 + 2 × 32 (conditions) + 1 (a list value); 128 is also the JSON
/// nesting limit of `.jsonl` scenarios and HTTP bodies.
pub const MAX_DEPTH: usize = 128;

/// What the first pass found: the document's syntax error, if any, explained.
#[derive(Debug, Default)]
pub struct Scan {
    pub syntax: Option<YamlError>,
}

/// An open collection: flow (`[` / `{`) or block, and where it started.
struct Open {
    flow: Option<char>,
    pos: Pos,
}

/// Walk the events of `src`. Nesting deeper than [`MAX_DEPTH`] is an error at once; a syntax
/// error is kept in the result (the caller reports it when the real parse fails too).
pub fn scan(src: &str) -> Result<Scan, YamlError> {
    let mut stack: Vec<Open> = Vec::new();
    let mut chars = Cursor::new(src);
    let mut last_end = 0;
    for item in Parser::new_from_str(src) {
        let (event, span) = match item {
            Ok(ok) => ok,
            Err(e) if e.info().contains("recursion limit") => {
                return Err(too_deep(&e));
            }
            Err(e) => {
                let syntax = explain_scan(&e, &stack, last_end, &mut chars);
                return Ok(Scan {
                    syntax: Some(syntax),
                });
            }
        };
        match event {
            Event::SequenceStart(..) | Event::MappingStart(..) => {
                let pos = Pos {
                    line: span.start.line(),
                    column: span.start.col() + 1,
                };
                if stack.len() >= MAX_DEPTH {
                    return Err(YamlError {
                        message: deep(),
                        pos: Some(pos),
                    });
                }
                let flow = chars
                    .at(span.start.index())
                    .filter(|c| matches!(c, '[' | '{'));
                stack.push(Open { flow, pos });
            }
            Event::SequenceEnd | Event::MappingEnd => {
                stack.pop();
            }
            Event::StreamEnd => break,
            _ => {}
        }
        last_end = last_end.max(span.end.index());
    }
    Ok(Scan::default())
}

fn deep() -> String {
    format!("nesting deeper than {MAX_DEPTH} levels of mappings and lists")
}

/// The scanner's own limit (on `[` / `{` it looked ahead at) counts as too deep too.
fn too_deep(e: &ScanError) -> YamlError {
    YamlError {
        message: deep(),
        pos: Some(Pos {
            line: e.marker().line(),
            column: e.marker().col() + 1,
        }),
    }
}

fn explain_scan(
    e: &ScanError,
    stack: &[Open],
    last_end: usize,
    chars: &mut Cursor<'_>,
) -> YamlError {
    let m = e.marker();
    let pos = Pos {
        line: m.line(),
        column: m.col() + 1,
    };
    let open_flow = stack.iter().rev().find_map(|o| o.flow.map(|c| (c, o.pos)));
    let quote = if e.info().contains("quoted scalar") && e.info().contains("end of stream") {
        chars.find_from(last_end, |c| c == '"' || c == '\'')
    } else {
        None
    };
    let found = chars.at(m.index());
    YamlError {
        message: plain(e.info(), open_flow, quote, found),
        pos: Some(pos),
    }
}

/// A scanner or parser message in plain words. `open_flow` is the innermost unclosed `[` or
/// `{`, `quote` where an unclosed quoted string starts, `found` the character at the error.
pub fn plain(
    message: &str,
    open_flow: Option<(char, Pos)>,
    quote: Option<(char, Pos)>,
    found: Option<char>,
) -> String {
    known(message, open_flow, quote, found).unwrap_or_else(|| {
        // Anything else: the parser's words, without its positions (reported separately).
        let text = message
            .split(" at line ")
            .next()
            .unwrap_or(message)
            .trim_start_matches("while ")
            .trim();
        format!("invalid YAML: {text}")
    })
}

/// [`plain`] for the messages it knows; `None` for any other message (not a syntax error).
pub fn known(
    message: &str,
    open_flow: Option<(char, Pos)>,
    quote: Option<(char, Pos)>,
    found: Option<char>,
) -> Option<String> {
    let m = message.to_ascii_lowercase();
    let has = |s: &str| m.contains(s);
    if let Some((q, at)) = quote {
        return Some(format!(
            "unclosed quote: the string started with {q} at line {} column {} never ends",
            at.line, at.column
        ));
    }
    if has("end of stream") && has("quoted scalar") {
        return Some("unclosed quote: a quoted string runs to the end of the file".into());
    }
    let flow_error = has("flow sequence")
        || has("flow mapping")
        || has("','")
        || has("expected node content")
        || has("unexpected eof")
        || has("misplaced bracket")
        || has("end of stream");
    if let (Some((c, at)), true) = (open_flow, flow_error) {
        let (what, close) = if c == '[' {
            ("flow sequence", ']')
        } else {
            ("flow mapping", '}')
        };
        return Some(format!(
            "unclosed `{c}`: a {what} started at line {} column {} was never closed \
             (or an item in it lacks a `,` before it); close it with `{close}`",
            at.line, at.column
        ));
    }
    if found == Some('\t') || has("a tab") || has("tabs ") || has("tab cannot") {
        return Some("a tab character where YAML needs spaces: indent with spaces only".into());
    }
    if has("cannot start any token") || has("unexpected character") {
        return Some(match found {
            Some(c) if !c.is_control() => {
                format!("`{c}` cannot start a plain value: put the value in quotes (\"...\")")
            }
            _ => "a character that cannot start a value: put the value in quotes (\"...\")".into(),
        });
    }
    if has("mapping values are not allowed") || has("illegal placement of ':'") {
        return Some(
            "unexpected `:`: a value that contains `: ` must be quoted (\"...\"), \
                or the indentation of this line is wrong"
                .into(),
        );
    }
    if has("did not find expected key") || has("invalid indentation") {
        return Some(
            "bad indentation: this line does not line up with the keys of its mapping \
                (or a `key:` is missing)"
                .into(),
        );
    }
    if has("expected '-' indicator") {
        return Some("bad indentation: expected a `- ` list item at this indentation".into());
    }
    if has("block sequence entries are not allowed") {
        return Some("a `- ` list item is not allowed here: check the indentation".into());
    }
    if has("could not find expected ':'") || has("simple key expect") {
        return Some("a key without `:`: expected `key: value`".into());
    }
    if has("unknown escape") || has("escape code") || has("hexadecimal number") {
        return Some(
            "unknown escape in a double-quoted string: write `\\\\` for a backslash, \
                or use single quotes"
                .into(),
        );
    }
    if has("unknown anchor") {
        return Some(
            "an alias (`*name`) refers to an anchor (`&name`) that is not defined before it".into(),
        );
    }
    if has("duplicated anchor") {
        return Some("an anchor (`&name`) is defined twice".into());
    }
    if has("anchor or alias") {
        return Some(
            "`&` or `*` must be followed by a name: quote a value that starts with them".into(),
        );
    }
    if has("a tag") || has("tag handle") || has("verbatim tag") || has("tag directive") {
        return Some("a malformed tag (`!...`): quote a value that starts with `!`".into());
    }
    if has("expected node content") {
        return Some("a value is missing here".into());
    }
    if has("end of stream") || has("unexpected eof") {
        return Some("the file ends in the middle of a value".into());
    }
    if has("unprintable") {
        return Some(
            "an unprintable (control) character: remove it or write it as an escape \
                inside double quotes"
                .into(),
        );
    }
    None
}

/// Converts character indices (as `saphyr` reports them) to characters of the source,
/// moving forward cheaply and restarting only when asked about an earlier index.
struct Cursor<'s> {
    src: &'s str,
    ascii: bool,
    char_index: usize,
    byte_index: usize,
}

impl<'s> Cursor<'s> {
    fn new(src: &'s str) -> Self {
        Cursor {
            src,
            ascii: src.is_ascii(),
            char_index: 0,
            byte_index: 0,
        }
    }

    fn seek(&mut self, index: usize) -> bool {
        if index < self.char_index {
            self.char_index = 0;
            self.byte_index = 0;
        }
        let rest = &self.src[self.byte_index..];
        if self.ascii {
            let step = index - self.char_index;
            if step > rest.len() {
                return false;
            }
            self.byte_index += step;
            self.char_index = index;
            return true;
        }
        for c in rest.chars() {
            if self.char_index == index {
                return true;
            }
            self.char_index += 1;
            self.byte_index += c.len_utf8();
        }
        self.char_index == index
    }

    fn at(&mut self, index: usize) -> Option<char> {
        if !self.seek(index) {
            return None;
        }
        self.src[self.byte_index..].chars().next()
    }

    /// The first character from `index` on that satisfies `want`, with its position.
    fn find_from(&mut self, index: usize, want: impl Fn(char) -> bool) -> Option<(char, Pos)> {
        if !self.seek(index) {
            return None;
        }
        let before = &self.src[..self.byte_index];
        let mut line = before.matches('\n').count() + 1;
        let mut column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        for c in self.src[self.byte_index..].chars() {
            if want(c) {
                return Some((c, Pos { line, column }));
            }
            if c == '\n' {
                line += 1;
                column = 1;
            } else {
                column += 1;
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn depth_is_capped_and_positioned_on_any_document() {
        let ok = format!("{}{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        assert!(scan(&ok).unwrap().syntax.is_none());
        let deep = format!("é: {}", "{a: ".repeat(MAX_DEPTH + 5));
        let e = scan(&deep).unwrap_err();
        assert_eq!(e.message, deep_message());
        assert_eq!(e.pos.map(|p| p.line), Some(1));
    }

    fn deep_message() -> String {
        format!("nesting deeper than {MAX_DEPTH} levels of mappings and lists")
    }

    #[test]
    fn unclosed_brackets_are_found_after_multibyte_text() {
        let e = scan("ü: ö\nmode: [a, b\n").unwrap().syntax.unwrap();
        assert!(
            e.message
                .starts_with("unclosed `[`: a flow sequence started at line 2 column 7"),
            "{}",
            e.message
        );
    }

    #[test]
    fn unknown_messages_keep_the_parser_words() {
        assert_eq!(
            plain(
                "while scanning something odd at line 3 column 1",
                None,
                None,
                None
            ),
            "invalid YAML: scanning something odd"
        );
    }
}
