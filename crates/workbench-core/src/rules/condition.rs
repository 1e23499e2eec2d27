//! Validated condition trees: field comparisons, `prior_event`, and `all` / `any` / `not`.

use std::fmt;

use serde::Serialize;
use serde_json::Value;

#[derive(Debug, Clone, PartialEq)]
pub enum Condition {
    Field(FieldTest),
    Prior(PriorEventTest),
    All(Vec<Condition>),
    Any(Vec<Condition>),
    Not(Box<Condition>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct FieldTest {
    pub path: FieldPath,
    pub op: Operator,
    /// `None` only for `exists` / `not_exists`.
    pub value: Option<Value>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PriorEventTest {
    pub event_type: String,
    pub hours: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Operator {
    Equals,
    NotEquals,
    Gt,
    Gte,
    Lt,
    Lte,
    In,
    NotIn,
    Contains,
    Exists,
    NotExists,
}

names! {
    Operator => {
        Equals = "equals", NotEquals = "not_equals", Gt = "gt", Gte = "gte", Lt = "lt",
        Lte = "lte", In = "in", NotIn = "not_in", Contains = "contains", Exists = "exists",
        NotExists = "not_exists"
    }
}

impl Operator {
    pub fn takes_value(self) -> bool {
        !matches!(self, Operator::Exists | Operator::NotExists)
    }
}

/// Where a field test reads: `properties.a.b` or `user_traits.name`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FieldPath {
    pub root: Root,
    pub keys: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Root {
    Properties,
    UserTraits,
}

impl FieldPath {
    pub fn parse(s: &str) -> Result<FieldPath, String> {
        let mut parts = s.split('.');
        let root = match parts.next() {
            Some("properties") => Root::Properties,
            Some("user_traits") => Root::UserTraits,
            _ => {
                return Err(format!(
                    "field `{s}` must start with `properties.` or `user_traits.`"
                ));
            }
        };
        let keys: Vec<String> = parts.map(str::to_string).collect();
        if keys.is_empty() || keys.iter().any(String::is_empty) {
            return Err(format!("field `{s}` needs a key after each `.`"));
        }
        Ok(FieldPath { root, keys })
    }
}

impl fmt::Display for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let root = match self.root {
            Root::Properties => "properties",
            Root::UserTraits => "user_traits",
        };
        write!(f, "{root}.{}", self.keys.join("."))
    }
}

/// The deepest a condition tree may nest (SPEC §8): nodes on its longest path from the top
/// node to a leaf, so a lone field test is 1 and `{all: [field test]}` is 2.
pub const MAX_CONDITION_DEPTH: usize = 32;

impl Condition {
    /// Nodes on the longest path from this node to a leaf.
    pub fn depth(&self) -> usize {
        match self {
            Condition::Field(_) | Condition::Prior(_) => 1,
            Condition::All(cs) | Condition::Any(cs) => {
                1 + cs.iter().map(Condition::depth).max().unwrap_or(0)
            }
            Condition::Not(c) => 1 + c.depth(),
        }
    }

    /// Event types referenced by `prior_event` anywhere in the tree, in order, deduplicated.
    pub fn prior_types(&self, out: &mut Vec<String>) {
        match self {
            Condition::Field(_) => {}
            Condition::Prior(p) => {
                if !out.contains(&p.event_type) {
                    out.push(p.event_type.clone());
                }
            }
            Condition::All(cs) | Condition::Any(cs) => cs.iter().for_each(|c| c.prior_types(out)),
            Condition::Not(c) => c.prior_types(out),
        }
    }
}

impl fmt::Display for FieldTest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.path, self.op)?;
        if let Some(v) = &self.value {
            write!(f, " {}", show_expected(v))?;
        }
        Ok(())
    }
}

impl fmt::Display for PriorEventTest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "prior {} within {}h",
            self.event_type,
            crate::fmt::fmt_hours(self.hours)
        )
    }
}

/// An expected value as written in rules: bare strings, JSON for everything else.
pub fn show_expected(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_parse_and_print() {
        let p = FieldPath::parse("properties.card.brand").unwrap();
        assert_eq!(p.root, Root::Properties);
        assert_eq!(p.keys, vec!["card", "brand"]);
        assert_eq!(p.to_string(), "properties.card.brand");
        assert!(FieldPath::parse("traits.x").is_err());
        assert!(FieldPath::parse("properties").is_err());
        assert!(FieldPath::parse("properties..x").is_err());
    }
}
