//! The guards a send passes before the rule's own suppression (SPEC §7.3, rows 1 and 2):
//! consent and the holdout group, each traced with what it saw.

use std::fmt;

use serde_json::Value;

use super::{Delivery, History, Window};
use crate::event::Event;
use crate::rules::policy::{ConsentTrait, Holdout};
use crate::rules::{ActionType, Category, Rule, RuleSet};

/// One guard as it stood for a send, in the order they ran.
#[derive(Debug, Clone, PartialEq)]
pub enum GuardTrace {
    Consent {
        category: Category,
        trait_: ConsentTrait,
        /// The trait's value on this event; `None` when it is missing.
        seen: Option<Value>,
        passed: bool,
    },
    Holdout {
        percent: u8,
        salt: String,
        bucket: u8,
        passed: bool,
    },
}

impl GuardTrace {
    pub fn passed(&self) -> bool {
        match self {
            GuardTrace::Consent { passed, .. } | GuardTrace::Holdout { passed, .. } => *passed,
        }
    }

    pub fn name(&self) -> &'static str {
        match self {
            GuardTrace::Consent { .. } => "consent",
            GuardTrace::Holdout { .. } => "holdout",
        }
    }
}

impl fmt::Display for GuardTrace {
    /// The evidence: `marketing needs user_traits.marketing_opt_in exactly true, got false`,
    /// `bucket 7 of 100 (salt `2025-q4`) is below the 10% holdout`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GuardTrace::Consent {
                category,
                trait_,
                seen,
                ..
            } => {
                let got = seen
                    .as_ref()
                    .map_or("missing".to_string(), Value::to_string);
                write!(f, "{category} needs {trait_} exactly true, got {got}")
            }
            GuardTrace::Holdout {
                percent,
                salt,
                bucket,
                passed,
            } => {
                let rel = if *passed { "is not below" } else { "is below" };
                write!(
                    f,
                    "bucket {bucket} of 100 (salt `{salt}`) {rel} the {percent}% holdout"
                )
            }
        }
    }
}

/// Consent then holdout for a send of `rule`, stopping at the first that fails. Alerts and
/// rules no guard covers get none.
pub fn before_suppression(rules: &RuleSet, rule: &Rule, event: &Event) -> Vec<GuardTrace> {
    let (ActionType::Send, Some(category)) = (rule.action.kind, rule.category) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    if let Some(trait_) = rules.policy.consent.get(&category) {
        let seen = event.user_traits.as_ref().and_then(|t| t.get(&trait_.0));
        let passed = seen == Some(Value::Bool(true));
        out.push(GuardTrace::Consent {
            category,
            trait_: trait_.clone(),
            seen,
            passed,
        });
        if !passed {
            return out;
        }
    }
    if let (Category::Marketing, Some(h)) = (category, &rules.policy.holdout) {
        out.push(holdout(h, &event.user_id));
    }
    out
}

fn holdout(h: &Holdout, user_id: &str) -> GuardTrace {
    let bucket = h.bucket(user_id);
    GuardTrace::Holdout {
        percent: h.percent,
        salt: h.salt.clone(),
        bucket,
        passed: bucket >= h.percent,
    }
}

/// A frequency cap as it stood for a send: its window in the zone used and the earlier
/// deliveries it counted there (at most `max`).
#[derive(Debug, Clone, PartialEq)]
pub struct CapTrace {
    pub name: std::sync::Arc<str>,
    pub max: u32,
    pub window: Window,
    pub found: Vec<Delivery>,
}

impl CapTrace {
    pub fn stopped(&self) -> bool {
        self.found.len() >= usize::try_from(self.max).unwrap_or(usize::MAX)
    }
}

impl fmt::Display for CapTrace {
    /// `marketing_per_day: 2 of max 2 in 2025-10-10 (Europe/Oslo), events 3, 5`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ids: Vec<String> = self.found.iter().map(|d| d.event_id.to_string()).collect();
        write!(
            f,
            "{}: {} of max {} in {}",
            self.name,
            self.found.len(),
            self.max,
            self.window
        )?;
        match ids.len() {
            0 => Ok(()),
            1 => write!(f, ", event {}", ids[0]),
            _ => write!(f, ", events {}", ids.join(", ")),
        }
    }
}

/// The caps covering a send of `rule`, with what the history found for each.
pub fn caps(rules: &RuleSet, rule: &Rule, history: &History<'_>) -> Vec<CapTrace> {
    history
        .caps
        .iter()
        .filter_map(|(i, window, found)| {
            let cap = rules.policy.frequency_caps.get(*i)?;
            cap.covers_rule(rule).then(|| CapTrace {
                name: cap.name.clone(),
                max: cap.max,
                window: *window,
                found: found.clone(),
            })
        })
        .collect()
}
