//! Rule lints for `workbench check`: rules that can never match, contradictions, overlaps
//! (shadowing), templates without text, disabled rules, suppressed alerts, `quiet_hours: false`
//! that changes nothing, user time without a zone source, and with scenarios event types
//! nothing sends and values of the wrong type.

mod facts;
mod guards;
mod pairs;
mod template_vars;
mod time;

use std::cmp::Ordering;
use std::collections::{HashMap, HashSet};

use serde_json::Value;

use crate::engine::json_eq;
use crate::rules::{
    ActionType, Condition, FieldPath, FieldTest, Operator, Rule, RuleSet, Suppression,
};

pub use facts::{Facts, KNOWN_EVENT_TYPES};
pub use pairs::MAX_PAIRS;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LintKind {
    Unreachable,
    Contradiction,
    Overlap,
    MissingText,
    Disabled,
    SuppressedAlert,
    UnknownEventType,
    TypeMismatch,
    /// `quiet_hours: false` on a rule that quiet hours could never hold anyway.
    QuietHoursNoEffect,
    /// A rule decides in the user's zone, but nothing gives a zone other than UTC.
    NoZoneSource,
    CapUnreachable,
    ConsentUnused,
    TemplateVariableMissing,
}

/// What `check` reports: warnings, and notes on lints that could not finish.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Lints {
    pub warnings: Vec<Warning>,
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Warning {
    pub kind: LintKind,
    /// The line of the rule the warning is about.
    pub line: Option<usize>,
    pub message: String,
}

fn at(rule: &Rule) -> String {
    match rule.pos {
        Some(p) => format!("`{}` (line {})", rule.name, p.line),
        None => format!("`{}`", rule.name),
    }
}

/// The conditions that must all hold: `all` nodes flattened, anything else is one atom.
fn conjuncts(c: Option<&Condition>) -> Vec<&Condition> {
    fn walk<'c>(c: &'c Condition, seen: &mut HashSet<String>, out: &mut Vec<&'c Condition>) {
        match c {
            Condition::All(kids) => kids.iter().for_each(|k| walk(k, seen, out)),
            other => {
                if seen.insert(format!("{other:?}")) {
                    out.push(other);
                }
            }
        }
    }
    let mut out = Vec::new();
    if let Some(c) = c {
        walk(c, &mut HashSet::new(), &mut out);
    }
    out
}

fn describe(c: &Condition) -> String {
    match c {
        Condition::Field(t) => t.to_string(),
        Condition::Prior(p) => p.to_string(),
        Condition::All(_) => "all of (...)".into(),
        Condition::Any(_) => "any of (...)".into(),
        Condition::Not(_) => "not (...)".into(),
    }
}

fn words(atoms: &[&Condition]) -> String {
    atoms
        .iter()
        .map(|a| format!("`{}`", describe(a)))
        .collect::<Vec<_>>()
        .join(" and ")
}

/// Lint without scenarios.
pub fn lint(rules: &RuleSet) -> Vec<Warning> {
    lint_with(rules, &Facts::for_rules(rules)).warnings
}

/// Lint with what scenarios say about events.
pub fn lint_with(rules: &RuleSet, facts: &Facts) -> Lints {
    let mut out = Vec::new();
    let mut notes = Vec::new();
    for rule in &rules.rules {
        let line = rule.pos.map(|p| p.line);
        if !rule.enabled {
            out.push(Warning {
                kind: LintKind::Disabled,
                line,
                message: format!("rule {} is disabled", at(rule)),
            });
        }
        if !rules.templates.contains_key(&*rule.action.template) {
            out.push(Warning {
                kind: LintKind::MissingText,
                line,
                message: format!(
                    "rule {}: template `{}` has no text under `templates:`",
                    at(rule),
                    rule.action.template
                ),
            });
        }
        if rule.action.kind == ActionType::Alert && rule.suppression != Suppression::None {
            out.push(Warning {
                kind: LintKind::SuppressedAlert,
                line,
                message: format!(
                    "rule {}: an alert with suppression `{}` hides repeat alerts from the CX team",
                    at(rule),
                    rule.suppression
                ),
            });
        }
        if let Some(c) = &rule.condition {
            for all in all_nodes(c) {
                if let Some(why) = contradiction(&all) {
                    out.push(Warning {
                        kind: LintKind::Contradiction,
                        line,
                        message: format!("rule {}: contradictory conditions: {why}", at(rule)),
                    });
                }
            }
        }
    }
    facts::unknown_event_types(rules, facts, &mut out);
    facts::type_mismatches(rules, facts, &mut out);
    time::quiet_hours_no_effect(rules, &mut out);
    time::no_zone_source(rules, facts, &mut out);
    guards::caps(rules, &mut out);
    guards::consent(rules, &mut out);
    template_vars::missing(rules, facts, &mut out);
    pairs::pairs(rules, &mut out, &mut notes);
    out.sort_by_key(|w| w.line);
    Lints {
        warnings: out,
        notes,
    }
}

/// Every `all` (flattened), including the rule's top level.
fn all_nodes(c: &Condition) -> Vec<Vec<&Condition>> {
    fn walk<'c>(c: &'c Condition, top: bool, out: &mut Vec<Vec<&'c Condition>>) {
        match c {
            Condition::All(kids) => {
                if top {
                    out.push(conjuncts(Some(c)));
                }
                for k in kids {
                    walk(k, false, out);
                }
            }
            Condition::Any(kids) => {
                for k in kids {
                    walk(k, true, out);
                }
            }
            Condition::Not(k) => walk(k, true, out),
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(c, true, &mut out);
    out
}

/// Why no event can satisfy all of `atoms`, if that can be shown from field tests alone.
fn contradiction(atoms: &[&Condition]) -> Option<String> {
    let fields: Vec<&FieldTest> = atoms
        .iter()
        .filter_map(|a| match a {
            Condition::Field(t) => Some(t),
            _ => None,
        })
        .collect();
    let mut by_path: HashMap<&FieldPath, usize> = HashMap::new();
    let mut groups: Vec<Vec<&FieldTest>> = Vec::new();
    for f in fields {
        let g = *by_path.entry(&f.path).or_insert_with(|| {
            groups.push(Vec::new());
            groups.len() - 1
        });
        groups[g].push(f);
    }
    for tests in groups {
        // Pairwise within one path, bounded so that a huge `all` stays cheap.
        let tests = &tests[..tests.len().min(MAX_TESTS_PER_PATH)];
        for (i, x) in tests.iter().enumerate() {
            for y in &tests[i + 1..] {
                if clash(x, y) {
                    return Some(format!("`{x}` and `{y}`"));
                }
            }
        }
    }
    None
}

/// Tests on one path compared pairwise for contradictions in one `all`; more are not compared.
const MAX_TESTS_PER_PATH: usize = 64;

fn num(v: Option<&Value>) -> Option<f64> {
    v.and_then(Value::as_f64)
}

/// Whether two tests on the same path can never hold together.
fn clash(x: &FieldTest, y: &FieldTest) -> bool {
    use Operator::{Equals, Exists, Gt, Gte, In, Lt, Lte, NotEquals, NotExists, NotIn};
    let (a, b) = if rank(x.op) <= rank(y.op) {
        (x, y)
    } else {
        (y, x)
    };
    match (a.op, b.op) {
        (Exists, NotExists) => true,
        (_, NotExists) => a.op != NotExists,
        (Equals, Equals) => json_eq(val(a), val(b)) != Some(true),
        (Equals, NotEquals) => json_eq(val(a), val(b)) == Some(true),
        (Equals, Gt | Gte | Lt | Lte) => match num(a.value.as_ref()) {
            None => true,
            Some(v) => !bound_ok(v, b.op, num(b.value.as_ref()).unwrap_or(f64::NAN)),
        },
        (Equals, In) => !list(b).iter().any(|i| json_eq(val(a), i) == Some(true)),
        (Equals, NotIn) => list(b).iter().any(|i| json_eq(val(a), i) == Some(true)),
        (Gt | Gte, Lt | Lte) | (Lt | Lte, Gt | Gte) => {
            let (lo, lo_op, hi, hi_op) = if matches!(a.op, Gt | Gte) {
                (num(a.value.as_ref()), a.op, num(b.value.as_ref()), b.op)
            } else {
                (num(b.value.as_ref()), b.op, num(a.value.as_ref()), a.op)
            };
            match (lo, hi) {
                (Some(lo), Some(hi)) => match lo.partial_cmp(&hi) {
                    Some(Ordering::Greater) => true,
                    Some(Ordering::Equal) => lo_op == Gt || hi_op == Lt,
                    _ => false,
                },
                _ => false,
            }
        }
        _ => false,
    }
}

fn rank(op: Operator) -> u8 {
    match op {
        Operator::Exists => 0,
        Operator::Equals => 1,
        Operator::NotEquals => 2,
        Operator::Gt | Operator::Gte => 3,
        Operator::Lt | Operator::Lte => 4,
        Operator::In => 5,
        Operator::NotIn => 6,
        Operator::Contains => 7,
        Operator::NotExists => 9,
    }
}

fn val(t: &FieldTest) -> &Value {
    t.value.as_ref().unwrap_or(&Value::Null)
}

fn list(t: &FieldTest) -> &[Value] {
    t.value
        .as_ref()
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

fn bound_ok(v: f64, op: Operator, bound: f64) -> bool {
    match op {
        Operator::Gt => v > bound,
        Operator::Gte => v >= bound,
        Operator::Lt => v < bound,
        Operator::Lte => v <= bound,
        _ => true,
    }
}

#[cfg(test)]
mod tests;
