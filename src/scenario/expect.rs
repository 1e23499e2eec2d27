//! Expectations on a scenario event's decision, and checking a verdict against them.

use serde::{Deserialize, Deserializer, Serialize};

use crate::engine::{DecisionAction, Outcome, ReasonCode, Verdict};
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
}

/// A key that is present maps to `Some`, even when its value is `null`.
fn present<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

/// One expectation that did not hold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Mismatch {
    pub key: &'static str,
    pub expected: String,
    pub got: String,
}

fn opt<T: ToString>(v: &Option<T>) -> String {
    v.as_ref().map_or_else(|| "null".to_string(), T::to_string)
}

impl Expect {
    pub fn check(&self, v: &Verdict) -> Vec<Mismatch> {
        let mut out = Vec::new();
        let mut cmp = |key, expected: String, got: String| {
            if expected != got {
                out.push(Mismatch { key, expected, got });
            }
        };
        if let Some(o) = self.outcome {
            cmp("outcome", o.to_string(), v.outcome.to_string());
        }
        if let Some(r) = &self.matched_rule {
            cmp("matched_rule", opt(r), opt(&v.matched_rule));
        }
        if let Some(a) = self.action_type {
            cmp("action_type", a.to_string(), v.action_type.to_string());
        }
        if let Some(t) = &self.template_name {
            cmp("template_name", opt(t), opt(&v.template_name));
        }
        if let Some(c) = &self.channel {
            cmp("channel", opt(c), opt(&v.channel));
        }
        if let Some(c) = self.reason_code {
            cmp("reason_code", c.to_string(), v.reason_code.to_string());
        }
        if let Some(s) = &self.reason_contains
            && !v.reason.contains(s.as_str())
        {
            out.push(Mismatch {
                key: "reason_contains",
                expected: format!("{s:?}"),
                got: format!("{:?}", v.reason),
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
        }
    }

    #[test]
    fn null_matched_rule_means_no_rule_and_absent_keys_are_unchecked() {
        let e: Expect = serde_json::from_str(r#"{"matched_rule": null}"#).unwrap();
        assert_eq!(e.matched_rule, Some(None));
        assert!(e.check(&verdict()).is_empty());
        let e: Expect = serde_json::from_str(r#"{}"#).unwrap();
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
            ("outcome", "allow", "none")
        );
        assert!(serde_json::from_str::<Expect>(r#"{"outcome":"sent"}"#).is_err());
        assert!(serde_json::from_str::<Expect>(r#"{"outcom":"allow"}"#).is_err());
    }
}
