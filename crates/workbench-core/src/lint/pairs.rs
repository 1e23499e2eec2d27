//! Pairs of enabled rules with one trigger: a later rule no event can reach (an earlier rule
//! needs only conditions it also has), and overlaps (an event can satisfy both). Rules are
//! indexed by their `equals` tests, so two rules that want different values on one path are
//! never compared; what is left is bounded by [`MAX_PAIRS`].

use std::collections::{HashMap, HashSet};

use serde_json::Value;

use super::{LintKind, Warning, at, contradiction, words};
use crate::rules::{Condition, Operator, Rule, RuleSet};

/// The most pairs of rules compared per file; past it the lint stops with a note.
pub const MAX_PAIRS: usize = 200_000;

/// A rule prepared for comparisons: its conjuncts, a key per conjunct, its `equals` tests.
struct Prepared<'r> {
    rule: &'r Rule,
    atoms: Vec<&'r Condition>,
    keys: HashSet<String>,
    /// (path, value key) of each `equals` test on a scalar value.
    equals: Vec<(String, String)>,
}

/// The index of the rules seen so far in one trigger group.
#[derive(Default)]
struct Index {
    /// path -> value key -> rules (ascending) with `path equals value`.
    by_value: HashMap<String, HashMap<String, Vec<usize>>>,
    /// path -> rules (ascending) with at least one indexed `equals` test on it.
    tested: HashMap<String, Vec<usize>>,
}

pub fn pairs(rules: &RuleSet, out: &mut Vec<Warning>, notes: &mut Vec<String>) {
    pairs_within(rules, MAX_PAIRS, out, notes);
}

/// [`pairs`] comparing at most `max` pairs.
pub fn pairs_within(rules: &RuleSet, max: usize, out: &mut Vec<Warning>, notes: &mut Vec<String>) {
    let mut groups: HashMap<&str, Vec<&Rule>> = HashMap::new();
    let mut order: Vec<&str> = Vec::new();
    for r in rules.enabled() {
        let g = groups.entry(&r.trigger).or_default();
        if g.is_empty() {
            order.push(&r.trigger);
        }
        g.push(r);
    }
    let mut budget = max;
    for trigger in order {
        let group = prepare(&groups[trigger]);
        if let Err(stopped_at) = compare(&group, out, &mut budget) {
            let line = stopped_at
                .pos
                .map(|p| format!(" (from line {} on)", p.line))
                .unwrap_or_default();
            notes.push(format!(
                "overlap lint stopped after comparing {max} pairs of rules: later rules{line} \
                 were not compared with every earlier rule"
            ));
            return;
        }
    }
}

fn prepare<'r>(group: &[&'r Rule]) -> Vec<Prepared<'r>> {
    group
        .iter()
        .map(|rule| {
            let atoms = super::conjuncts(rule.condition.as_ref());
            let keys = atoms.iter().map(|a| format!("{a:?}")).collect();
            let equals = atoms
                .iter()
                .filter_map(|a| match a {
                    Condition::Field(t) if t.op == Operator::Equals => {
                        Some((t.path.to_string(), value_key(t.value.as_ref()?)?))
                    }
                    _ => None,
                })
                .collect();
            Prepared {
                rule,
                atoms,
                keys,
                equals,
            }
        })
        .collect()
}

/// Compare each rule with the earlier ones it may overlap; `Err(rule)` when the budget ran
/// out at that rule.
fn compare<'r>(
    group: &[Prepared<'r>],
    out: &mut Vec<Warning>,
    budget: &mut usize,
) -> Result<(), &'r Rule> {
    let mut index = Index::default();
    for (j, b) in group.iter().enumerate() {
        for i in candidates(&index, b, j) {
            if *budget == 0 {
                return Err(b.rule);
            }
            *budget -= 1;
            if compare_pair(&group[i], b, out) {
                break;
            }
        }
        index.add(j, b);
    }
    Ok(())
}

/// Whether `later` can never match; otherwise records an overlap when there is one.
fn compare_pair(earlier: &Prepared<'_>, later: &Prepared<'_>, out: &mut Vec<Warning>) -> bool {
    let line = later.rule.pos.map(|p| p.line);
    if earlier.keys.iter().all(|k| later.keys.contains(k)) {
        let why = if earlier.atoms.is_empty() {
            "has no conditions".to_string()
        } else {
            format!(
                "needs only {}, which this rule also needs",
                words(&earlier.atoms)
            )
        };
        out.push(Warning {
            kind: LintKind::Unreachable,
            line,
            message: format!(
                "rule {} can never match: the earlier rule {} for `{}` {why}",
                at(later.rule),
                at(earlier.rule),
                later.rule.trigger
            ),
        });
        return true;
    }
    let mut both = earlier.atoms.clone();
    both.extend(
        later
            .atoms
            .iter()
            .filter(|a| !earlier.keys.contains(&format!("{a:?}"))),
    );
    if contradiction(&both).is_none() {
        out.push(Warning {
            kind: LintKind::Overlap,
            line,
            message: format!(
                "rules {} and {} overlap: `{}` with {} goes to `{}`, never to `{}`",
                at(earlier.rule),
                at(later.rule),
                later.rule.trigger,
                words(&both),
                earlier.rule.name,
                later.rule.name
            ),
        });
    }
    false
}

/// The earlier rules (ascending) that `b` may overlap or be shadowed by: with a path on which
/// `b` has exactly one `equals` value, only rules wanting that value or not testing the path.
fn candidates(index: &Index, b: &Prepared<'_>, j: usize) -> Vec<usize> {
    let mut per_path: HashMap<&str, Vec<&str>> = HashMap::new();
    for (path, key) in &b.equals {
        let keys = per_path.entry(path).or_default();
        if !keys.contains(&key.as_str()) {
            keys.push(key);
        }
    }
    let none: Vec<usize> = Vec::new();
    let best = per_path
        .iter()
        .filter(|(_, keys)| keys.len() == 1)
        .map(|(path, keys)| {
            let same = index
                .by_value
                .get(*path)
                .and_then(|m| m.get(keys[0]))
                .unwrap_or(&none);
            let tested = index.tested.get(*path).unwrap_or(&none);
            (same.len() + j - tested.len(), same, tested)
        })
        .min_by_key(|(cost, ..)| *cost);
    let Some((_, same, tested)) = best else {
        return (0..j).collect();
    };
    if tested.len() == j {
        return same.clone();
    }
    let mut out = Vec::with_capacity(same.len() + j - tested.len());
    let (mut s, mut t) = (0, 0);
    for i in 0..j {
        while t < tested.len() && tested[t] < i {
            t += 1;
        }
        while s < same.len() && same[s] < i {
            s += 1;
        }
        let untested = tested.get(t) != Some(&i);
        if untested || same.get(s) == Some(&i) {
            out.push(i);
        }
    }
    out
}

impl Index {
    fn add(&mut self, j: usize, rule: &Prepared<'_>) {
        for (path, key) in &rule.equals {
            let values = self.by_value.entry(path.clone()).or_default();
            let list = values.entry(key.clone()).or_default();
            if list.last() != Some(&j) {
                list.push(j);
            }
            let tested = self.tested.entry(path.clone()).or_default();
            if tested.last() != Some(&j) {
                tested.push(j);
            }
        }
    }
}

/// A key equal for two scalars exactly when the engine compares them equal (numbers by
/// value); lists and objects are not indexed.
fn value_key(v: &Value) -> Option<String> {
    Some(match v {
        Value::Null => "z".to_string(),
        Value::Bool(b) => format!("b{b}"),
        Value::Number(n) => format!("n{}", n.as_f64()?),
        Value::String(s) => format!("s{s}"),
        Value::Array(_) | Value::Object(_) => return None,
    })
}
