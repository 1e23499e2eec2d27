//! What scenarios say about events (their types, the JSON types of the fields rules read, and
//! whether they carry a time zone), and the lints that use it: a trigger no event will ever have, and a condition value
//! whose type never matches its field.

use std::collections::{BTreeSet, HashMap};
use std::path::PathBuf;

use serde_json::Value;

use super::{LintKind, Warning, at};
use crate::engine::zone::Zone;
use crate::event::Event;
use crate::rules::{Condition, FieldPath, FieldTest, Operator, Root, RuleSet};
use crate::scenario::{self, Scenario, ScenarioError};
use crate::yaml::suggest::closest;

/// The event types of the product description (SPEC §1).
pub const KNOWN_EVENT_TYPES: [&str; 5] = [
    "signup_completed",
    "link_bank_success",
    "payment_initiated",
    "payment_failed",
    "salary_received",
];

/// JSON kinds seen at one path, as bits, with how many events had the path.
#[derive(Debug, Clone, Copy, Default)]
struct Kinds {
    bits: u8,
    events: usize,
}

const KIND_NAMES: [&str; 6] = [
    "null",
    "a boolean",
    "a number",
    "a string",
    "a list",
    "an object",
];

fn bit(v: &Value) -> u8 {
    1 << match v {
        Value::Null => 0,
        Value::Bool(_) => 1,
        Value::Number(_) => 2,
        Value::String(_) => 3,
        Value::Array(_) => 4,
        Value::Object(_) => 5,
    }
}

const NUMBER: u8 = 1 << 2;
const STRING: u8 = 1 << 3;
const LIST: u8 = 1 << 4;

fn names(bits: u8) -> String {
    let names: Vec<&str> = (0..6)
        .filter(|i| bits & (1 << i) != 0)
        .map(|i| KIND_NAMES[i])
        .collect();
    names.join(" or ")
}

/// What the scenarios hold: files, events, event types, how many events carry a time zone,
/// and the kinds of the fields that the rules read, per event type.
#[derive(Debug, Default)]
pub struct Facts {
    pub files: usize,
    pub events: usize,
    pub event_types: BTreeSet<String>,
    /// Events whose `user_traits.timezone` is a valid zone name (SPEC §7.2).
    pub zoned_events: usize,
    /// Events whose `user_traits.timezone` is present, not null, and not a zone name.
    pub bad_zone_events: usize,
    paths: Vec<(String, FieldPath)>,
    kinds: HashMap<(String, String), Kinds>,
}

impl Facts {
    /// Read every event of the scenario files (directories expand as for `run`), keeping the
    /// kinds of the fields that `rules` read.
    pub fn load(args: &[PathBuf], rules: &RuleSet) -> Result<Facts, ScenarioError> {
        let mut facts = Facts::for_rules(rules);
        for file in scenario::expand(args)? {
            let s = Scenario::load(&file)?;
            facts.files += 1;
            for step in s.steps()? {
                facts.observe(&step?.event);
            }
        }
        Ok(facts)
    }

    /// Empty facts that will watch the fields `rules` read (conditions and templates).
    pub fn for_rules(rules: &RuleSet) -> Facts {
        let mut seen = BTreeSet::new();
        for r in &rules.rules {
            if let Some(c) = &r.condition {
                each_test(c, &mut |t| {
                    seen.insert(t.path.to_string());
                });
            }
        }
        for text in rules.templates.values() {
            seen.extend(super::template_vars::strict_paths(text));
        }
        let paths = seen
            .into_iter()
            .filter_map(|p| FieldPath::parse(&p).ok().map(|f| (p, f)))
            .collect();
        Facts {
            paths,
            ..Facts::default()
        }
    }

    pub fn observe(&mut self, event: &Event) {
        self.events += 1;
        if !self.event_types.contains(&event.event_type) {
            self.event_types.insert(event.event_type.clone());
        }
        match event.user_traits.as_ref().and_then(|t| t.get("timezone")) {
            None | Some(Value::Null) => {}
            Some(Value::String(name)) if Zone::parse(&name).is_some() => self.zoned_events += 1,
            Some(_) => self.bad_zone_events += 1,
        }
        let Facts { paths, kinds, .. } = self;
        for (text, path) in paths.iter() {
            let Some(v) = read(event, path) else { continue };
            for key in [event.event_type.as_str(), ""] {
                let k = kinds.entry((key.to_string(), text.clone())).or_default();
                k.bits |= bit(&v);
                k.events += 1;
            }
        }
    }

    /// Whether some event of `event_type` carries `path` (a watched path).
    pub fn carries(&self, event_type: &str, path: &str) -> bool {
        self.kinds
            .contains_key(&(event_type.to_string(), path.to_string()))
    }

    /// Kinds seen at `path` in events of `event_type`, else in any event; `None` when never.
    fn kinds(&self, event_type: &str, path: &str) -> Option<(Kinds, bool)> {
        let get = |t: &str| self.kinds.get(&(t.to_string(), path.to_string())).copied();
        get(event_type)
            .map(|k| (k, true))
            .or_else(|| get("").map(|k| (k, false)))
    }
}

/// The value at `path` in `event`, as the engine reads it.
fn read(event: &Event, path: &FieldPath) -> Option<Value> {
    let (first, rest) = path.keys.split_first()?;
    let mut v = match path.root {
        Root::Properties => event.properties.get(first)?.clone(),
        Root::UserTraits => event.user_traits.as_ref()?.get(first)?,
    };
    for key in rest {
        v = v.get(key)?.clone();
    }
    Some(v)
}

fn each_test<'c>(c: &'c Condition, f: &mut impl FnMut(&'c FieldTest)) {
    match c {
        Condition::Field(t) => f(t),
        Condition::Prior(_) => {}
        Condition::All(cs) | Condition::Any(cs) => cs.iter().for_each(|c| each_test(c, f)),
        Condition::Not(c) => each_test(c, f),
    }
}

fn each_prior<'c>(c: &'c Condition, f: &mut impl FnMut(&'c str)) {
    match c {
        Condition::Prior(p) => f(&p.event_type),
        Condition::Field(_) => {}
        Condition::All(cs) | Condition::Any(cs) => cs.iter().for_each(|c| each_prior(c, f)),
        Condition::Not(c) => each_prior(c, f),
    }
}

/// Triggers and `prior_event` types of enabled rules that no scenario, no known event list and
/// no other rule mentions: such a rule (or condition) can never fire.
pub fn unknown_event_types(rules: &RuleSet, facts: &Facts, out: &mut Vec<Warning>) {
    // How many rules mention each type (as trigger or prior event), counting a rule once.
    let mut mentions: HashMap<&str, usize> = HashMap::new();
    for r in &rules.rules {
        let mut own: BTreeSet<&str> = BTreeSet::from([r.trigger.as_str()]);
        if let Some(c) = &r.condition {
            each_prior(c, &mut |t| {
                own.insert(t);
            });
        }
        for t in own {
            *mentions.entry(t).or_default() += 1;
        }
    }
    let known = |t: &str| {
        KNOWN_EVENT_TYPES.contains(&t) || facts.event_types.contains(t) || mentions[t] > 1
    };
    let mut candidates: BTreeSet<&str> = KNOWN_EVENT_TYPES.into_iter().collect();
    candidates.extend(facts.event_types.iter().map(String::as_str));
    candidates.extend(rules.rules.iter().map(|r| r.trigger.as_str()));
    let where_ = if facts.files == 0 {
        "no scenario was checked".to_string()
    } else {
        format!(
            "no event of the {} scenario file{} has it",
            facts.files,
            if facts.files == 1 { "" } else { "s" }
        )
    };
    for r in rules.enabled() {
        let mut report = |t: &str, what: &str| {
            let hint = closest(t, candidates.iter().copied().filter(|c| *c != t))
                .map(|c| format!("; did you mean `{c}`?"))
                .unwrap_or_default();
            out.push(Warning {
                kind: LintKind::UnknownEventType,
                line: r.pos.map(|p| p.line),
                message: format!(
                    "rule {}: {what} `{t}` is not a known event type and {where_}, so it \
                     never fires{hint}",
                    at(r)
                ),
            });
        };
        if !known(&r.trigger) {
            report(&r.trigger, "trigger");
        }
        if let Some(c) = &r.condition {
            let mut priors = BTreeSet::new();
            each_prior(c, &mut |t| {
                priors.insert(t);
            });
            for t in priors.into_iter().filter(|t| !known(t)) {
                report(t, "prior_event");
            }
        }
    }
}

/// Field tests whose value can never compare with the field as the scenarios have it.
pub fn type_mismatches(rules: &RuleSet, facts: &Facts, out: &mut Vec<Warning>) {
    for r in rules.enabled() {
        let Some(c) = &r.condition else { continue };
        each_test(c, &mut |t| {
            let path = t.path.to_string();
            let Some((kinds, same_type)) = facts.kinds(&r.trigger, &path) else {
                return;
            };
            if fits(t, kinds.bits) {
                return;
            }
            let events = if same_type {
                format!("`{}` event", r.trigger)
            } else {
                "event".to_string()
            };
            let value = t
                .value
                .as_ref()
                .map(|v| format!(" {v}"))
                .unwrap_or_default();
            out.push(Warning {
                kind: LintKind::TypeMismatch,
                line: r.pos.map(|p| p.line),
                message: format!(
                    "rule {}: `{path} {}{value}` never holds: `{path}` is {} in every {events} \
                     of the scenarios that has it ({} event{})",
                    at(r),
                    t.op,
                    names(kinds.bits),
                    kinds.events,
                    if kinds.events == 1 { "" } else { "s" }
                ),
            });
        });
    }
}

/// Whether the test can hold for a field of one of the kinds in `bits`.
fn fits(t: &FieldTest, bits: u8) -> bool {
    let Some(v) = &t.value else { return true };
    match t.op {
        Operator::Exists | Operator::NotExists => true,
        Operator::Equals | Operator::NotEquals => bits & bit(v) != 0,
        Operator::In | Operator::NotIn => v
            .as_array()
            .is_none_or(|items| items.iter().any(|i| bits & bit(i) != 0)),
        Operator::Gt | Operator::Gte | Operator::Lt | Operator::Lte => bits & NUMBER != 0,
        Operator::Contains => bits & LIST != 0 || (bits & STRING != 0 && v.is_string()),
    }
}
