//! Rule lints for `workbench check`: rules that can never match, contradictions, overlaps
//! (shadowing), templates without text, disabled rules, suppressed alerts.

use std::cmp::Ordering;

use serde_json::Value;

use crate::engine::json_eq;
use crate::rules::{ActionType, Condition, FieldTest, Operator, Rule, RuleSet, Suppression};

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LintKind {
    Unreachable,
    Contradiction,
    Overlap,
    MissingText,
    Disabled,
    SuppressedAlert,
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
    fn walk<'c>(c: &'c Condition, out: &mut Vec<&'c Condition>) {
        match c {
            Condition::All(kids) => kids.iter().for_each(|k| walk(k, out)),
            other => {
                if !out.contains(&other) {
                    out.push(other)
                }
            }
        }
    }
    let mut out = Vec::new();
    if let Some(c) = c {
        walk(c, &mut out);
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

pub fn lint(rules: &RuleSet) -> Vec<Warning> {
    let mut out = Vec::new();
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
    pairs(rules, &mut out);
    out.sort_by_key(|w| w.line);
    out
}

/// Every `all` (flattened), including the rule's top level.
fn all_nodes(c: &Condition) -> Vec<Vec<&Condition>> {
    fn walk<'c>(c: &'c Condition, top: bool, out: &mut Vec<Vec<&'c Condition>>) {
        match c {
            Condition::All(kids) => {
                if top {
                    out.push(conjuncts(Some(c)));
                }
                kids.iter().for_each(|k| walk(k, false, out));
            }
            Condition::Any(kids) => kids.iter().for_each(|k| walk(k, true, out)),
            Condition::Not(k) => walk(k, true, out),
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(c, true, &mut out);
    out
}

/// Earlier rules that make a later one unreachable, and pairs that overlap.
fn pairs(rules: &RuleSet, out: &mut Vec<Warning>) {
    let enabled: Vec<&Rule> = rules.enabled().collect();
    for (j, later) in enabled.iter().enumerate() {
        let b = conjuncts(later.condition.as_ref());
        for earlier in &enabled[..j] {
            if earlier.trigger != later.trigger {
                continue;
            }
            let a = conjuncts(earlier.condition.as_ref());
            if a.iter().all(|x| b.contains(x)) {
                let why = if a.is_empty() {
                    "has no conditions".to_string()
                } else {
                    format!("needs only {}, which this rule also needs", words(&a))
                };
                out.push(Warning {
                    kind: LintKind::Unreachable,
                    line: later.pos.map(|p| p.line),
                    message: format!(
                        "rule {} can never match: the earlier rule {} for `{}` {why}",
                        at(later),
                        at(earlier),
                        later.trigger
                    ),
                });
                break;
            }
            let mut both = a.clone();
            for x in &b {
                if !both.contains(x) {
                    both.push(x);
                }
            }
            if contradiction(&both).is_none() {
                out.push(Warning {
                    kind: LintKind::Overlap,
                    line: later.pos.map(|p| p.line),
                    message: format!(
                        "rules {} and {} overlap: `{}` with {} goes to `{}`, never to `{}`",
                        at(earlier),
                        at(later),
                        later.trigger,
                        words(&both),
                        earlier.name,
                        later.name
                    ),
                });
            }
        }
    }
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
    for (i, x) in fields.iter().enumerate() {
        for y in &fields[i + 1..] {
            if x.path == y.path && clash(x, y) {
                return Some(format!("`{x}` and `{y}`"));
            }
        }
    }
    None
}

fn num(v: &Option<Value>) -> Option<f64> {
    v.as_ref().and_then(Value::as_f64)
}

/// Whether two tests on the same path can never hold together.
fn clash(x: &FieldTest, y: &FieldTest) -> bool {
    use Operator::*;
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
        (Equals, Gt | Gte | Lt | Lte) => match num(&a.value) {
            None => true,
            Some(v) => !bound_ok(v, b.op, num(&b.value).unwrap_or(f64::NAN)),
        },
        (Equals, In) => !list(b).iter().any(|i| json_eq(val(a), i) == Some(true)),
        (Equals, NotIn) => list(b).iter().any(|i| json_eq(val(a), i) == Some(true)),
        (Gt | Gte, Lt | Lte) | (Lt | Lte, Gt | Gte) => {
            let (lo, lo_op, hi, hi_op) = if matches!(a.op, Gt | Gte) {
                (num(&a.value), a.op, num(&b.value), b.op)
            } else {
                (num(&b.value), b.op, num(&a.value), a.op)
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
