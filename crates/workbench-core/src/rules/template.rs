//! Template texts as Liquid (SPEC §7.4): parsed once when the rules load, rendered per event
//! with `user_id`, `event_type`, `event_timestamp`, `properties.*` and `user_traits.*`.
//!
//! liquid-rust is strict where the contract wants it: a variable the event lacks is a render
//! error (`Unknown variable` / `Unknown index`), never a parse error. It is too strict for
//! `default` (liquid-rust issue #477): the variable is looked up before any filter runs, so
//! `{{ user_traits.first_name | default: 'there' }}` fails when the trait is missing instead of
//! rendering `there`. So an output tag whose filters include `default` and whose input is a
//! plain variable path is rewritten, at load, to read a variable of its own
//! (`__wb_default_N`), which each render fills with the path's value, or nil when the event
//! lacks it. The same variable used elsewhere without `default` stays strict.

use std::fmt::{self, Write as _};
use std::sync::{Arc, OnceLock};

use liquid::model::{Object, Value as LValue};
use serde_json::{Map, Value};

use crate::event::Event;

/// A template text parsed as Liquid, ready to render.
#[derive(Clone)]
pub struct Template(Arc<Inner>);

struct Inner {
    text: String,
    compiled: liquid::Template,
    /// Per rewritten `default` input, the path it reads (`__wb_default_N` is index N).
    defaults: Vec<Vec<Seg>>,
    /// The text has no Liquid markup: it renders as itself, without building the event's
    /// variables (the common case, on every delivery's hot path).
    plain: bool,
}

impl fmt::Debug for Template {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Template").field(&self.0.text).finish()
    }
}

impl PartialEq for Template {
    fn eq(&self, other: &Template) -> bool {
        self.0.text == other.0.text
    }
}

/// Why a template does not parse: where in its text, and what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// 1-based line and column in the template's text, when Liquid says.
    pub at: Option<(usize, usize)>,
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.at {
            Some((l, c)) => write!(f, "line {l}, column {c} of the text: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

/// Why a template does not render for an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RenderError {
    /// A variable the event lacks, used without `default` (`user_traits.first_name`).
    UnknownVariable(String),
    /// A filter that failed, or anything else Liquid refused at render time.
    Filter(String),
}

impl fmt::Display for RenderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RenderError::UnknownVariable(v) => write!(f, "unknown variable {v}"),
            RenderError::Filter(m) => f.write_str(m),
        }
    }
}

fn parser() -> &'static liquid::Parser {
    static PARSER: OnceLock<liquid::Parser> = OnceLock::new();
    PARSER.get_or_init(|| {
        liquid::ParserBuilder::with_stdlib()
            .build()
            .expect("the standard library builds")
    })
}

impl Template {
    /// Parse a template text.
    pub fn parse(text: &str) -> Result<Template, ParseError> {
        let compiled = parser().parse(text).map_err(|e| parse_error(&e))?;
        let (rewritten, defaults) = rewrite_defaults(text);
        let (compiled, defaults) = if defaults.is_empty() {
            (compiled, defaults)
        } else {
            match parser().parse(&rewritten) {
                Ok(c) => (c, defaults),
                // Not expected: the rewrite only renames a variable. Keep Liquid's own reading.
                Err(_) => (compiled, Vec::new()),
            }
        };
        Ok(Template(Arc::new(Inner {
            plain: !text.contains("{{") && !text.contains("{%"),
            text: text.to_string(),
            compiled,
            defaults,
        })))
    }

    /// The text as written in the rules file.
    pub fn text(&self) -> &str {
        &self.0.text
    }

    /// Render for `event`.
    pub fn render(&self, event: &Event) -> Result<String, RenderError> {
        if self.0.plain {
            return Ok(self.0.text.clone());
        }
        let vars = variables(event);
        let mut globals = match liquid::model::to_object(&vars) {
            Ok(o) => o,
            Err(e) => return Err(RenderError::Filter(one_line(&e))),
        };
        for (i, path) in self.0.defaults.iter().enumerate() {
            let v = lookup(&vars, path).unwrap_or(LValue::Nil);
            globals.insert(format!("__wb_default_{i}").into(), v);
        }
        self.render_with(&globals)
    }

    fn render_with(&self, globals: &Object) -> Result<String, RenderError> {
        self.0
            .compiled
            .render(globals)
            .map_err(|e| render_error(&e))
    }
}

/// The variables an event offers a template, as JSON: a missing `user_traits` is empty.
pub fn variables(event: &Event) -> Value {
    let traits = event
        .user_traits
        .as_ref()
        .and_then(|t| serde_json::to_value(t).ok())
        .unwrap_or_else(|| Value::Object(Map::new()));
    let mut m = Map::new();
    m.insert("user_id".into(), Value::String(event.user_id.clone()));
    m.insert("event_type".into(), Value::String(event.event_type.clone()));
    m.insert(
        "event_timestamp".into(),
        Value::String(crate::event::format_ts(event.event_timestamp)),
    );
    m.insert("properties".into(), Value::Object(event.properties.clone()));
    m.insert("user_traits".into(), traits);
    Value::Object(m)
}

/// One step of a variable path: `.name` / `['name']`, or `[2]`.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Seg {
    Key(String),
    Index(i64),
}

/// The value at `path`, as Liquid sees it (`size`, `first`, `last` included); `None` when
/// the event lacks it.
fn lookup(vars: &Value, path: &[Seg]) -> Option<LValue> {
    let mut cur = vars;
    let mut owned: Value;
    for seg in path {
        let next = match (seg, cur) {
            (Seg::Key(k), Value::Object(m)) => match m.get(k) {
                Some(v) => v.clone(),
                None if k == "size" => Value::from(m.len()),
                None => return None,
            },
            (Seg::Key(k), Value::Array(a)) => match k.as_str() {
                "size" => Value::from(a.len()),
                "first" => a.first()?.clone(),
                "last" => a.last()?.clone(),
                _ => return None,
            },
            (Seg::Key(k), Value::String(s)) if k == "size" => Value::from(s.chars().count()),
            (Seg::Index(i), Value::Array(a)) => {
                let len = i64::try_from(a.len()).ok()?;
                let at = if *i < 0 { len + i } else { *i };
                a.get(usize::try_from(at).ok()?)?.clone()
            }
            _ => return None,
        };
        owned = next;
        cur = &owned;
    }
    liquid::model::to_value(cur).ok()
}

/// Rewrite each `{{ path | … default … }}` to read `__wb_default_N`; returns the new text and
/// the paths in order. `{% raw %}` blocks are left alone.
fn rewrite_defaults(text: &str) -> (String, Vec<Vec<Seg>>) {
    let mut out = String::with_capacity(text.len());
    let mut paths = Vec::new();
    let mut rest = text;
    loop {
        let next_out = rest.find("{{");
        let next_tag = rest.find("{%");
        match (next_out, next_tag) {
            (None, None) => break,
            (_, Some(t)) if next_out.is_none_or(|o| t < o) => {
                let Some(end) = find_close(&rest[t + 2..], "%}") else {
                    break;
                };
                let tag_end = t + 2 + end + 2;
                let inner =
                    rest[t + 2..t + 2 + end].trim_matches(|c: char| c == '-' || c.is_whitespace());
                out.push_str(&rest[..tag_end]);
                rest = &rest[tag_end..];
                if inner == "raw" {
                    let Some(e) = find_endraw(rest) else {
                        break;
                    };
                    out.push_str(&rest[..e]);
                    rest = &rest[e..];
                }
            }
            (Some(o), _) => {
                let Some(end) = find_close(&rest[o + 2..], "}}") else {
                    break;
                };
                let inner = &rest[o + 2..o + 2 + end];
                out.push_str(&rest[..o + 2]);
                match rewrite_output(inner, paths.len()) {
                    Some((new, path)) => {
                        out.push_str(&new);
                        paths.push(path);
                    }
                    None => out.push_str(inner),
                }
                out.push_str("}}");
                rest = &rest[o + 2 + end + 2..];
            }
            (None, Some(_)) => unreachable!("handled by the arm above"),
        }
    }
    out.push_str(rest);
    (out, paths)
}

/// Where `close` is in `s`, outside quoted strings.
fn find_close(s: &str, close: &str) -> Option<usize> {
    let mut quote = None;
    for (i, c) in s.char_indices() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == '\'' || c == '"' => quote = Some(c),
            None if s[i..].starts_with(close) => return Some(i),
            None => {}
        }
    }
    None
}

/// Where the `{% endraw %}` tag closing a raw block starts.
fn find_endraw(s: &str) -> Option<usize> {
    let mut from = 0;
    while let Some(i) = s[from..].find("{%") {
        let at = from + i;
        let end = s[at + 2..].find("%}")?;
        let inner = s[at + 2..at + 2 + end].trim_matches(|c: char| c == '-' || c.is_whitespace());
        if inner == "endraw" {
            return Some(at);
        }
        from = at + 2;
    }
    None
}

/// The inside of one output tag with its input renamed to `__wb_default_{n}`, when it is a
/// plain variable path with a `default` filter.
fn rewrite_output(inner: &str, n: usize) -> Option<(String, Vec<Seg>)> {
    let parts = split_top(inner, '|');
    if parts.len() < 2 {
        return None;
    }
    let has_default = parts[1..].iter().any(|f| {
        let name = f.trim_start();
        let name = name
            .split(|c: char| c == ':' || c.is_whitespace())
            .next()
            .unwrap_or("");
        name == "default"
    });
    if !has_default {
        return None;
    }
    let entry = parts[0];
    let lead = entry.len() - entry.trim_start_matches(['-']).trim_start().len();
    let body = entry[lead..].trim_end();
    let path = parse_path(body)?;
    let mut new = String::with_capacity(inner.len() + 16);
    new.push_str(&entry[..lead]);
    let _ = write!(new, "__wb_default_{n}");
    new.push_str(&inner[lead + body.len()..]);
    Some((new, path))
}

/// `s` split at `sep` outside quoted strings.
fn split_top(s: &str, sep: char) -> Vec<&str> {
    let mut out = Vec::new();
    let mut quote = None;
    let mut start = 0;
    for (i, c) in s.char_indices() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == '\'' || c == '"' => quote = Some(c),
            None if c == sep => {
                out.push(&s[start..i]);
                start = i + c.len_utf8();
            }
            None => {}
        }
    }
    out.push(&s[start..]);
    out
}

/// A variable path (`user_traits.first_name`, `properties['a b'][0]`), or `None` for a
/// literal or anything else.
fn parse_path(s: &str) -> Option<Vec<Seg>> {
    let ident_len = |s: &str| {
        let mut chars = s.char_indices();
        match chars.next() {
            Some((_, c)) if c.is_ascii_alphabetic() || c == '_' => {}
            _ => return 0,
        }
        chars
            .find(|(_, c)| !(c.is_ascii_alphanumeric() || *c == '_' || *c == '-'))
            .map_or(s.len(), |(i, _)| i)
    };
    let n = ident_len(s);
    if n == 0 {
        return None;
    }
    let root = &s[..n];
    if matches!(root, "true" | "false" | "nil" | "null" | "empty" | "blank") {
        return None;
    }
    let mut path = vec![Seg::Key(root.to_string())];
    let mut rest = &s[n..];
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix('.') {
            let n = ident_len(r);
            if n == 0 {
                return None;
            }
            path.push(Seg::Key(r[..n].to_string()));
            rest = &r[n..];
        } else if let Some(r) = rest.strip_prefix('[') {
            let close = r.find(']')?;
            let inside = r[..close].trim();
            let seg = if let Some(q) = inside
                .strip_prefix('\'')
                .and_then(|x| x.strip_suffix('\''))
                .or_else(|| inside.strip_prefix('"').and_then(|x| x.strip_suffix('"')))
            {
                Seg::Key(q.to_string())
            } else {
                Seg::Index(inside.parse().ok()?)
            };
            path.push(seg);
            rest = &r[close + 1..];
        } else {
            return None;
        }
    }
    Some(path)
}

/// Liquid's error as (message, trace of contexts), without its `liquid: ` prefix.
fn contexts(e: &liquid::Error) -> (String, Vec<(String, String)>) {
    let text = e.to_string();
    let mut lines = text.lines();
    let msg = lines
        .next()
        .unwrap_or("")
        .trim_start_matches("liquid:")
        .trim()
        .to_string();
    let mut ctx = Vec::new();
    for line in lines {
        let line = line.trim();
        if let Some(t) = line.strip_prefix("from:") {
            ctx.push(("from".to_string(), t.trim().to_string()));
        } else if let Some((k, v)) = line.split_once('=') {
            ctx.push((k.trim().to_string(), v.to_string()));
        }
    }
    (msg, ctx)
}

fn one_line(e: &liquid::Error) -> String {
    let (msg, ctx) = contexts(e);
    let mut out = msg;
    for (k, v) in ctx {
        if k.starts_with("available") || k == "input" {
            continue;
        }
        let _ = write!(out, ", {k}: {v}");
    }
    crate::yaml::escape_controls(&out)
}

fn parse_error(e: &liquid::Error) -> ParseError {
    let text = e.to_string();
    // A syntax error is pest's picture: `--> 1:4`, the line, a caret, `= expected Literal`.
    if let Some(i) = text.find("--> ") {
        let at = text[i + 4..]
            .split_whitespace()
            .next()
            .and_then(|lc| lc.split_once(':'))
            .and_then(|(l, c)| Some((l.parse().ok()?, c.parse().ok()?)));
        let message = text
            .lines()
            .find_map(|l| l.trim().strip_prefix("= "))
            .unwrap_or("invalid syntax")
            .to_string();
        return ParseError {
            at,
            message: crate::yaml::escape_controls(&message),
        };
    }
    let (msg, ctx) = contexts(e);
    let get = |key: &str| ctx.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str());
    let message = match (msg.as_str(), get("requested filter"), get("requested tag")) {
        ("Unknown filter", Some(f), _) => format!("unknown filter `{f}`"),
        (_, _, Some(t)) => format!("{}: `{t}`", msg.to_lowercase()),
        _ => one_line(e),
    };
    ParseError {
        at: None,
        message: crate::yaml::escape_controls(&message),
    }
}

fn render_error(e: &liquid::Error) -> RenderError {
    let (msg, ctx) = contexts(e);
    let get = |key: &str| ctx.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str());
    match (
        msg.as_str(),
        get("requested variable"),
        get("variable"),
        get("requested index"),
    ) {
        ("Unknown variable", Some(v), _, _) => {
            RenderError::UnknownVariable(crate::yaml::escape_controls(v))
        }
        ("Unknown index", _, Some(v), Some(i)) => {
            RenderError::UnknownVariable(crate::yaml::escape_controls(&format!("{v}.{i}")))
        }
        _ => match get("filter") {
            Some(f) => {
                let cause = get("cause").unwrap_or(&msg);
                RenderError::Filter(crate::yaml::escape_controls(&format!(
                    "filter `{}` fails: {cause}",
                    f.trim()
                )))
            }
            None => RenderError::Filter(one_line(e)),
        },
    }
}

#[cfg(test)]
mod tests;
