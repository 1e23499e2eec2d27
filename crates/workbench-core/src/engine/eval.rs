//! Field comparisons: reading a path out of an event and comparing JSON values per SPEC §2.

use std::borrow::Cow;
use std::cmp::Ordering;
use std::fmt;

use serde_json::Value;

use crate::event::Event;
use crate::rules::{FieldPath, FieldTest, Operator, Root};

/// What a field test saw at its path.
#[derive(Debug, Clone, PartialEq)]
pub enum Actual {
    /// The path is absent (or a step on it is not an object).
    Missing,
    /// The value was there and comparable.
    Value(Value),
    /// The value was there but of a type the operator cannot compare with the expected value.
    Mismatch(Value),
}

impl fmt::Display for Actual {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Actual::Missing => f.write_str("missing"),
            Actual::Value(v) => write!(f, "{v}"),
            Actual::Mismatch(v) => write!(f, "{v} ({}, type mismatch)", kind(v)),
        }
    }
}

pub fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "list",
        Value::Object(_) => "object",
    }
}

/// Read `path` from the event, walking nested objects.
pub fn resolve<'e>(event: &'e Event, path: &FieldPath) -> Option<Cow<'e, Value>> {
    let (first, rest) = path.keys.split_first()?;
    let start: Cow<'e, Value> = match path.root {
        Root::Properties => Cow::Borrowed(event.properties.get(first)?),
        Root::UserTraits => Cow::Owned(event.user_traits.as_ref()?.get(first)?),
    };
    rest.iter().try_fold(start, |v, key| match v {
        Cow::Borrowed(v) => v.get(key).map(Cow::Borrowed),
        Cow::Owned(v) => v.get(key).cloned().map(Cow::Owned),
    })
}

/// Run one field test; `true` only when the condition holds.
pub fn test(event: &Event, t: &FieldTest) -> (bool, Actual) {
    let Some(actual) = resolve(event, &t.path) else {
        return (t.op == Operator::NotExists, Actual::Missing);
    };
    let expected = t.value.as_ref();
    let verdict: Option<bool> = match (t.op, expected) {
        (Operator::Exists, _) => Some(true),
        (Operator::NotExists, _) => Some(false),
        (Operator::Equals, Some(e)) => json_eq(&actual, e),
        (Operator::NotEquals, Some(e)) => json_eq(&actual, e).map(|eq| !eq),
        (Operator::Gt, Some(e)) => num_cmp(&actual, e).map(Ordering::is_gt),
        (Operator::Gte, Some(e)) => num_cmp(&actual, e).map(Ordering::is_ge),
        (Operator::Lt, Some(e)) => num_cmp(&actual, e).map(Ordering::is_lt),
        (Operator::Lte, Some(e)) => num_cmp(&actual, e).map(Ordering::is_le),
        (Operator::In, Some(Value::Array(list))) => member(&actual, list),
        (Operator::NotIn, Some(Value::Array(list))) => member(&actual, list).map(|m| !m),
        (Operator::Contains, Some(e)) => contains(&actual, e),
        _ => None,
    };
    let actual = actual.into_owned();
    match verdict {
        Some(b) => (b, Actual::Value(actual)),
        None => (false, Actual::Mismatch(actual)),
    }
}

/// JSON equality with numbers compared numerically; `None` when the kinds cannot be compared.
pub fn json_eq(a: &Value, b: &Value) -> Option<bool> {
    match (a, b) {
        (Value::Number(_), Value::Number(_)) => num_cmp(a, b).map(Ordering::is_eq),
        (Value::String(x), Value::String(y)) => Some(x == y),
        (Value::Bool(x), Value::Bool(y)) => Some(x == y),
        (Value::Null, Value::Null) => Some(true),
        (Value::Array(x), Value::Array(y)) => {
            Some(x.len() == y.len() && x.iter().zip(y).all(|(p, q)| json_eq(p, q) == Some(true)))
        }
        (Value::Object(x), Value::Object(y)) => Some(
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| json_eq(v, w) == Some(true))),
        ),
        _ => None,
    }
}

fn num_cmp(a: &Value, b: &Value) -> Option<Ordering> {
    let (Value::Number(x), Value::Number(y)) = (a, b) else {
        return None;
    };
    if let (Some(x), Some(y)) = (x.as_i64(), y.as_i64()) {
        return Some(x.cmp(&y));
    }
    if let (Some(x), Some(y)) = (x.as_u64(), y.as_u64()) {
        return Some(x.cmp(&y));
    }
    x.as_f64()?.partial_cmp(&y.as_f64()?)
}

/// Whether `v` equals an element of `list`; `None` when no element is comparable to it.
fn member(v: &Value, list: &[Value]) -> Option<bool> {
    let mut comparable = false;
    for item in list {
        match json_eq(v, item) {
            Some(true) => return Some(true),
            Some(false) => comparable = true,
            None => {}
        }
    }
    comparable.then_some(false)
}

fn contains(haystack: &Value, needle: &Value) -> Option<bool> {
    match (haystack, needle) {
        (Value::String(h), Value::String(n)) => Some(h.contains(n.as_str())),
        (Value::Array(items), _) => Some(items.iter().any(|i| json_eq(i, needle) == Some(true))),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn event(props: Value, traits: Value) -> Event {
        Event {
            user_id: "u".into(),
            event_type: "t".into(),
            event_timestamp: chrono::DateTime::UNIX_EPOCH,
            properties: match props {
                Value::Object(m) => m,
                _ => serde_json::Map::new(),
            },
            user_traits: serde_json::from_value(traits).ok(),
            idempotency_key: None,
        }
    }

    fn run(op: Operator, path: &str, value: Option<Value>, e: &Event) -> (bool, Actual) {
        let t = FieldTest {
            path: FieldPath::parse(path).unwrap(),
            op,
            value,
        };
        test(e, &t)
    }

    #[test]
    fn numbers_compare_numerically_and_types_never_cross() {
        let e = event(json!({"n": 3, "f": 3.0, "s": "3", "b": true}), json!({}));
        assert!(run(Operator::Equals, "properties.n", Some(json!(3.0)), &e).0);
        assert!(run(Operator::Equals, "properties.f", Some(json!(3)), &e).0);
        let (ok, actual) = run(Operator::Equals, "properties.s", Some(json!(3)), &e);
        assert!(!ok);
        assert!(matches!(actual, Actual::Mismatch(_)));
        assert!(!run(Operator::Equals, "properties.b", Some(json!(1)), &e).0);
        assert!(!run(Operator::NotEquals, "properties.b", Some(json!(1)), &e).0);
        assert!(run(Operator::Gte, "properties.n", Some(json!(3)), &e).0);
        assert!(!run(Operator::Gt, "properties.s", Some(json!(1)), &e).0);
    }

    #[test]
    fn missing_paths_are_false_except_not_exists() {
        let e = event(json!({"a": {"b": 1}}), json!({}));
        assert_eq!(
            run(Operator::Equals, "properties.a.c", Some(json!(1)), &e),
            (false, Actual::Missing)
        );
        assert!(run(Operator::NotExists, "properties.a.c", None, &e).0);
        assert!(run(Operator::Exists, "properties.a.b", None, &e).0);
        assert!(!run(Operator::NotEquals, "properties.zz", Some(json!(1)), &e).0);
        assert!(
            !run(
                Operator::Equals,
                "user_traits.country",
                Some(json!("US")),
                &e
            )
            .0
        );
    }

    #[test]
    fn lists_and_contains() {
        let e = event(
            json!({"r": "CARD_DECLINED", "tags": ["vip", "new"]}),
            json!({"country": "US", "tier": {"level": 2}}),
        );
        assert!(
            run(
                Operator::In,
                "properties.r",
                Some(json!(["X", "CARD_DECLINED"])),
                &e
            )
            .0
        );
        assert!(run(Operator::NotIn, "properties.r", Some(json!(["X"])), &e).0);
        assert!(!run(Operator::NotIn, "properties.r", Some(json!([1, 2])), &e).0);
        assert!(run(Operator::Contains, "properties.r", Some(json!("DECL")), &e).0);
        assert!(
            run(
                Operator::Contains,
                "properties.tags",
                Some(json!("vip")),
                &e
            )
            .0
        );
        assert!(
            run(
                Operator::Equals,
                "user_traits.tier.level",
                Some(json!(2)),
                &e
            )
            .0
        );
        assert!(
            run(
                Operator::Equals,
                "user_traits.country",
                Some(json!("US")),
                &e
            )
            .0
        );
    }

    /// Every operator against every kind of value (SPEC §2): the result, and whether the
    /// explanation saw a value, a type mismatch or nothing.
    #[test]
    fn operator_by_value_kind_matrix() {
        use Operator::{
            Contains, Equals, Exists, Gt, Gte, In, Lt, Lte, NotEquals, NotExists, NotIn,
        };
        let e = event(
            json!({"i": 3, "f": 2.5, "s": "abc", "b": true, "z": null,
                   "l": [1, "a"], "o": {"k": 1}}),
            json!({}),
        );
        // (operator, field, expected value, holds, what was seen: V value, M mismatch, - missing)
        let cases: &[(Operator, &str, Option<Value>, bool, char)] = &[
            (Equals, "i", Some(json!(3)), true, 'V'),
            (Equals, "i", Some(json!(3.0)), true, 'V'),
            (Equals, "i", Some(json!(4)), false, 'V'),
            (Equals, "i", Some(json!("3")), false, 'M'),
            (Equals, "f", Some(json!(2.5)), true, 'V'),
            (Equals, "f", Some(json!(2)), false, 'V'),
            (Equals, "s", Some(json!("abc")), true, 'V'),
            (Equals, "s", Some(json!("ABC")), false, 'V'),
            (Equals, "s", Some(json!(3)), false, 'M'),
            (Equals, "b", Some(json!(true)), true, 'V'),
            (Equals, "b", Some(json!(false)), false, 'V'),
            (Equals, "b", Some(json!(1)), false, 'M'),
            (Equals, "z", Some(json!(null)), true, 'V'),
            (Equals, "z", Some(json!(0)), false, 'M'),
            (Equals, "l", Some(json!([1, "a"])), true, 'V'),
            (Equals, "l", Some(json!([1.0, "a"])), true, 'V'),
            (Equals, "l", Some(json!([1])), false, 'V'),
            (Equals, "l", Some(json!(["a", 1])), false, 'V'),
            (Equals, "l", Some(json!("a")), false, 'M'),
            (Equals, "o", Some(json!({"k": 1})), true, 'V'),
            (Equals, "o", Some(json!({"k": 1.0})), true, 'V'),
            (Equals, "o", Some(json!({"k": 2})), false, 'V'),
            (Equals, "o", Some(json!({"j": 1})), false, 'V'),
            (Equals, "o", Some(json!({"k": 1, "j": 2})), false, 'V'),
            (Equals, "q", Some(json!(1)), false, '-'),
            (NotEquals, "i", Some(json!(4)), true, 'V'),
            (NotEquals, "i", Some(json!(3)), false, 'V'),
            (NotEquals, "s", Some(json!("x")), true, 'V'),
            (NotEquals, "s", Some(json!(3)), false, 'M'),
            (NotEquals, "z", Some(json!(null)), false, 'V'),
            (NotEquals, "q", Some(json!(1)), false, '-'),
            (Gt, "i", Some(json!(2)), true, 'V'),
            (Gt, "i", Some(json!(3)), false, 'V'),
            (Gt, "f", Some(json!(2)), true, 'V'),
            (Gt, "s", Some(json!(1)), false, 'M'),
            (Gt, "i", Some(json!("2")), false, 'M'),
            (Gt, "b", Some(json!(0)), false, 'M'),
            (Gte, "i", Some(json!(3)), true, 'V'),
            (Gte, "i", Some(json!(4)), false, 'V'),
            (Gte, "f", Some(json!(2.5)), true, 'V'),
            (Lt, "i", Some(json!(4)), true, 'V'),
            (Lt, "i", Some(json!(3)), false, 'V'),
            (Lt, "f", Some(json!(2.5)), false, 'V'),
            (Lt, "f", Some(json!(3)), true, 'V'),
            (Lt, "z", Some(json!(1)), false, 'M'),
            (Lte, "i", Some(json!(3)), true, 'V'),
            (Lte, "i", Some(json!(2)), false, 'V'),
            (Lte, "f", Some(json!(2.5)), true, 'V'),
            (Lte, "l", Some(json!(9)), false, 'M'),
            (In, "i", Some(json!([1, 3])), true, 'V'),
            (In, "i", Some(json!([3.0])), true, 'V'),
            (In, "i", Some(json!([1, 2])), false, 'V'),
            (In, "i", Some(json!(["3"])), false, 'M'),
            (In, "s", Some(json!([1, "abc"])), true, 'V'),
            (In, "z", Some(json!([null])), true, 'V'),
            (In, "q", Some(json!([1])), false, '-'),
            (NotIn, "i", Some(json!([1, 2])), true, 'V'),
            (NotIn, "i", Some(json!([3])), false, 'V'),
            (NotIn, "i", Some(json!(["3"])), false, 'M'),
            (NotIn, "s", Some(json!(["x"])), true, 'V'),
            (Contains, "s", Some(json!("b")), true, 'V'),
            (Contains, "s", Some(json!("x")), false, 'V'),
            (Contains, "s", Some(json!(1)), false, 'M'),
            (Contains, "l", Some(json!("a")), true, 'V'),
            (Contains, "l", Some(json!(1.0)), true, 'V'),
            (Contains, "l", Some(json!(2)), false, 'V'),
            (Contains, "i", Some(json!(3)), false, 'M'),
            (Contains, "o", Some(json!("k")), false, 'M'),
            (Exists, "i", None, true, 'V'),
            (Exists, "z", None, true, 'V'),
            (Exists, "q", None, false, '-'),
            (NotExists, "i", None, false, 'V'),
            (NotExists, "z", None, false, 'V'),
            (NotExists, "q", None, true, '-'),
        ];
        for (op, field, value, holds, seen) in cases {
            let path = format!("properties.{field}");
            let (got, actual) = run(*op, &path, value.clone(), &e);
            let got_seen = match actual {
                Actual::Value(_) => 'V',
                Actual::Mismatch(_) => 'M',
                Actual::Missing => '-',
            };
            assert_eq!((got, got_seen), (*holds, *seen), "{field} {op} {value:?}");
        }
    }

    #[test]
    fn explanations_name_what_was_seen() {
        assert_eq!(Actual::Missing.to_string(), "missing");
        assert_eq!(Actual::Value(json!("x")).to_string(), "\"x\"");
        assert_eq!(
            Actual::Mismatch(json!("3")).to_string(),
            "\"3\" (string, type mismatch)"
        );
        let kinds: Vec<&str> = [
            json!(null),
            json!(true),
            json!(1),
            json!("s"),
            json!([]),
            json!({}),
        ]
        .iter()
        .map(kind)
        .collect();
        assert_eq!(
            kinds,
            ["null", "boolean", "number", "string", "list", "object"]
        );
    }
}
