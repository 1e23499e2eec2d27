//! One `messages.txt` line: its fields escaped so that a delivery is always exactly one line
//! (SPEC §8), and parsed back by its structure.
//!
//! Fields are separated by ` | `. In a value, `\` is written `\\`, `|` is `\|`, and control
//! characters are `\n`, `\r`, `\t` or `\u{…}`; so every unescaped `|` separates two fields and
//! a value can neither end a line nor forge another field.

use std::fmt::Write as _;

/// Append `value` to `out`, escaped.
pub fn escape_into(out: &mut String, value: &str) {
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '|' => out.push_str("\\|"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
            }
            c => out.push(c),
        }
    }
}

/// The fields of a line, unescaped; `None` when an escape is malformed.
pub fn fields(line: &str) -> Option<Vec<String>> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next()? {
                'n' => cur.push('\n'),
                'r' => cur.push('\r'),
                't' => cur.push('\t'),
                'u' => {
                    if chars.next()? != '{' {
                        return None;
                    }
                    let hex: String = chars.by_ref().take_while(|c| *c != '}').collect();
                    cur.push(char::from_u32(u32::from_str_radix(&hex, 16).ok()?)?);
                }
                other => cur.push(other),
            },
            '|' => {
                // ` | `: the spaces around a separator belong to it.
                let field = cur.strip_suffix(' ').unwrap_or(&cur).to_string();
                out.push(field);
                cur.clear();
                if chars.as_str().starts_with(' ') {
                    chars.next();
                }
            }
            c => cur.push(c),
        }
    }
    out.push(cur);
    Some(out)
}

/// The event id of a delivery line, read from its fifth field (`event_id=N`); `None` for a
/// line that is not a delivery line.
pub fn event_id(line: &str) -> Option<i64> {
    match fields(line) {
        Some(fields) if fields.len() == 7 => fields[4].strip_prefix("event_id=")?.parse().ok(),
        // A line written before fields were escaped may not parse: its first ` | event_id=`.
        _ => line
            .split(" | ")
            .find_map(|f| f.strip_prefix("event_id="))
            .and_then(|v| v.parse().ok()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn escaped(v: &str) -> String {
        let mut s = String::new();
        escape_into(&mut s, v);
        s
    }

    #[test]
    fn escaping_round_trips_and_never_makes_a_newline() {
        for v in [
            "plain",
            "a | event_id=9 | b",
            "back\\slash",
            "x\ny\r\tz\u{7}",
            "\\|\\n",
            "",
        ] {
            let e = escaped(v);
            assert!(!e.contains('\n') && !e.contains('\r'), "{e}");
            let line = format!("ts | user_id={e} | t");
            assert_eq!(fields(&line).unwrap(), ["ts", &format!("user_id={v}"), "t"]);
        }
    }

    #[test]
    fn a_forged_field_in_a_value_is_not_a_field() {
        let line = format!(
            "2024-01-15T10:30:00Z | user_id={} | template=T | channel=email | event_id=7 | reason=rule:r | text=x",
            escaped("evil | event_id=1 | x")
        );
        assert_eq!(event_id(&line), Some(7));
        assert_eq!(event_id("garbage"), None);
        assert_eq!(event_id("bad \\u{zz} escape"), None);
    }
}
