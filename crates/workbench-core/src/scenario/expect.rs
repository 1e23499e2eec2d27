//! Expectations on a scenario event's decision, and checking a verdict against them.

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

use crate::engine::{DecisionAction, Outcome, ReasonCode, Verdict};
use crate::event::{Timestamp, format_ts};
use crate::rules::Channel;

/// Every key is optional; only given keys are checked. `matched_rule: null` means no rule.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<Outcome>,
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub matched_rule: Option<Option<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action_type: Option<DecisionAction>,
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub template_name: Option<Option<String>>,
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub channel: Option<Option<Channel>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason_code: Option<ReasonCode>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason_contains: Option<String>,
    /// When a held send is delivered (UTC); `null` means not scheduled.
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub deliver_at: Option<Option<Timestamp>>,
    /// The delivered text, exactly (SPEC §7.4); `null` means no message.
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub message_text: Option<Option<String>>,
}

/// A key that is present maps to `Some`, even when its value is `null`.
fn present<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

/// One expectation that did not hold: the values as JSON (`null` for "none"), so reports
/// keep their types.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Mismatch {
    pub key: &'static str,
    pub expected: Value,
    pub got: Value,
    /// The line of the key in the scenario file (the event's line when not known).
    pub line: u32,
}

impl Mismatch {
    /// `expected KEY X, got Y`: strings bare, except `reason_contains` and `message_text`,
    /// quoted.
    pub fn text(&self) -> String {
        let show = |v: &Value| match v {
            Value::String(s) if matches!(self.key, "reason_contains" | "message_text") => {
                format!("{s:?}")
            }
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        format!(
            "expected {} {}, got {}",
            self.key,
            show(&self.expected),
            show(&self.got)
        )
    }
}

fn val<T: ToString>(v: Option<T>) -> Value {
    v.map_or(Value::Null, |v| Value::String(v.to_string()))
}

impl Expect {
    /// Every key an expectation may have, as written in scenario files.
    pub const KEYS: [&'static str; 9] = [
        "outcome",
        "matched_rule",
        "action_type",
        "template_name",
        "channel",
        "reason_code",
        "reason_contains",
        "deliver_at",
        "message_text",
    ];

    /// The expectations `v` does not meet; their `line` is 0 (the caller knows the file).
    pub fn check(&self, v: &Verdict) -> Vec<Mismatch> {
        let mut out = Vec::new();
        let mut cmp = |key, expected: Value, got: Value| {
            if expected != got {
                out.push(Mismatch {
                    key,
                    expected,
                    got,
                    line: 0,
                });
            }
        };
        if let Some(o) = self.outcome {
            cmp("outcome", val(Some(o)), val(Some(v.outcome)));
        }
        if let Some(r) = &self.matched_rule {
            cmp(
                "matched_rule",
                val(r.as_ref()),
                val(v.matched_rule.as_ref()),
            );
        }
        if let Some(a) = self.action_type {
            cmp("action_type", val(Some(a)), val(Some(v.action_type)));
        }
        if let Some(t) = &self.template_name {
            cmp(
                "template_name",
                val(t.as_ref()),
                val(v.template_name.as_ref()),
            );
        }
        if let Some(c) = &self.channel {
            cmp("channel", val(c.as_ref()), val(v.channel.as_ref()));
        }
        if let Some(c) = self.reason_code {
            cmp("reason_code", val(Some(c)), val(Some(v.reason_code)));
        }
        if let Some(t) = &self.deliver_at {
            cmp(
                "deliver_at",
                val(t.as_ref().map(|t| format_ts(t.0))),
                val(v.deliver_at.map(format_ts)),
            );
        }
        if let Some(t) = &self.message_text {
            cmp(
                "message_text",
                val(t.as_ref()),
                val(v.message_text.as_ref()),
            );
        }
        if let Some(s) = &self.reason_contains
            && !v.reason.contains(s.as_str())
        {
            out.push(Mismatch {
                key: "reason_contains",
                expected: Value::String(s.clone()),
                got: Value::String(v.reason.clone()),
                line: 0,
            });
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn verdict() -> Verdict {
        Verdict {
            matched_rule: None,
            action_type: DecisionAction::None,
            template_name: None,
            channel: None,
            outcome: Outcome::None,
            reason: "no rule handles event type `x`".into(),
            reason_code: ReasonCode::NoMatch,
            deliver_at: None,
            message_text: None,
        }
    }

    #[test]
    fn message_text_is_exact_and_null_means_no_message() {
        let e: Expect = serde_json::from_str(r#"{"message_text": null}"#).unwrap();
        assert!(e.check(&verdict()).is_empty());
        let sent = Verdict {
            message_text: Some("Hi Ada!".into()),
            ..verdict()
        };
        let e: Expect = serde_json::from_str(r#"{"message_text": "Hi Ada!"}"#).unwrap();
        assert!(e.check(&sent).is_empty());
        let e: Expect = serde_json::from_str(r#"{"message_text": "Hi Ada"}"#).unwrap();
        let m = e.check(&sent);
        assert_eq!(
            m[0].text(),
            r#"expected message_text "Hi Ada", got "Hi Ada!""#
        );
        let m = e.check(&verdict());
        assert_eq!(m[0].text(), r#"expected message_text "Hi Ada", got null"#);
    }

    #[test]
    fn null_matched_rule_means_no_rule_and_absent_keys_are_unchecked() {
        let e: Expect = serde_json::from_str(r#"{"matched_rule": null}"#).unwrap();
        assert_eq!(e.matched_rule, Some(None));
        assert!(e.check(&verdict()).is_empty());
        let e: Expect = serde_json::from_str(r"{}").unwrap();
        assert!(e.check(&verdict()).is_empty());
    }

    #[test]
    fn mismatches_name_key_expected_and_got() {
        let e: Expect =
            serde_json::from_str(r#"{"outcome":"allow","reason_contains":"handles"}"#).unwrap();
        let m = e.check(&verdict());
        assert_eq!(m.len(), 1);
        assert_eq!(
            (m[0].key, m[0].expected.as_str(), m[0].got.as_str()),
            ("outcome", Some("allow"), Some("none"))
        );
        assert_eq!(m[0].text(), "expected outcome allow, got none");
        assert!(serde_json::from_str::<Expect>(r#"{"outcome":"sent"}"#).is_err());
        let e: Expect =
            serde_json::from_str(r#"{"matched_rule":"null","channel":"email"}"#).unwrap();
        let m = e.check(&verdict());
        assert_eq!(m[0].got, Value::Null, "a missing value is JSON null");
        assert_eq!(m[0].expected, Value::String("null".into()));
        assert_eq!(m[1].text(), "expected channel email, got null");
        assert!(serde_json::from_str::<Expect>(r#"{"outcom":"allow"}"#).is_err());
    }
}
