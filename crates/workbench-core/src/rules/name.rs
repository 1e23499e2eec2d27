//! Names in a rules file (SPEC §8): rule and template names use letters, digits, `_`, `-`
//! and `.`, at most 256 characters; event types have no control characters. Each is a type
//! that validates while deserializing, so an error carries the position of the name itself.

use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};

use crate::event::check_id;
use crate::yaml::escape_controls;

/// The longest rule or template name, in characters.
pub const MAX_NAME_CHARS: usize = 256;

/// A name for messages: control characters escaped, cut to 64 characters.
pub fn show(s: &str) -> String {
    let mut cut: String = s.chars().take(64).collect();
    if cut.len() < s.len() {
        cut.push('…');
    }
    escape_controls(&cut)
}

/// Check a rule or template name; `what` says which (`rule name`, `template name`).
pub fn check_name(what: &str, s: &str) -> Result<(), String> {
    if s.is_empty() {
        return Err(format!("{what} must not be empty"));
    }
    let chars = s.chars().count();
    if chars > MAX_NAME_CHARS {
        return Err(format!(
            "{what} `{}` is {chars} characters long; the limit is {MAX_NAME_CHARS}",
            show(s)
        ));
    }
    if let Some(c) = s
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.')))
    {
        let which = match c {
            ' ' => "a space".to_string(),
            c if c.is_control() => format!("the control character `{}`", c.escape_default()),
            c => format!("`{c}`"),
        };
        return Err(format!(
            "{what} `{}` contains {which}: names use only letters, digits, `_`, `-` and `.`",
            show(s)
        ));
    }
    Ok(())
}

/// An event type named by a rule (`trigger.event_type`, `prior_event.event_type`).
pub fn check_event_type(s: &str) -> Result<(), String> {
    check_id(s).map_err(|why| format!("event type `{}` {why}", show(s)))
}

macro_rules! checked_string {
    ($($t:ident => $check:expr, $expecting:literal;)*) => {$(
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
        pub struct $t(pub String);

        impl<'de> Deserialize<'de> for $t {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                struct V;
                impl Visitor<'_> for V {
                    type Value = $t;
                    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                        f.write_str($expecting)
                    }
                    fn visit_str<E: de::Error>(self, s: &str) -> Result<$t, E> {
                        let check: fn(&str) -> Result<(), String> = $check;
                        check(s).map(|()| $t(s.to_string())).map_err(E::custom)
                    }
                }
                d.deserialize_str(V)
            }
        }
    )*};
}

checked_string! {
    RuleName => |s| check_name("rule name", s), "a rule name";
    TemplateName => |s| check_name("template name", s), "a template name";
    EventType => check_event_type, "an event type";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_allow_letters_digits_and_three_marks() {
        assert!(check_name("rule name", "welcome_email-v2.1").is_ok());
        let e = check_name("template name", "A\nB").unwrap_err();
        assert_eq!(
            e,
            "template name `A\\nB` contains the control character `\\n`: names use only \
             letters, digits, `_`, `-` and `.`"
        );
        let e = check_name("rule name", "a b").unwrap_err();
        assert!(e.contains("contains a space"), "{e}");
        let e = check_name("rule name", "é").unwrap_err();
        assert!(e.contains("contains `é`"), "{e}");
        let long = "x".repeat(257);
        let e = check_name("rule name", &long).unwrap_err();
        assert!(e.contains("257 characters long; the limit is 256"), "{e}");
        assert!(e.len() < 200, "long names are cut in messages: {e}");
        assert!(check_name("rule name", &"x".repeat(256)).is_ok());
        assert!(check_name("rule name", "").is_err());
    }

    #[test]
    fn event_types_refuse_control_characters() {
        assert!(check_event_type("payment_failed").is_ok());
        let e = check_event_type("a\u{1b}b").unwrap_err();
        assert!(e.starts_with("event type `a\\u{1b}b` contains"), "{e}");
    }
}
