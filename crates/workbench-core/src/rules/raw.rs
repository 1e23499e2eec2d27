//! The permissive serde shape of a rules file, converted node by node into validated types
//! (`try_from` errors carry the node's position through `yaml_serde`).

use std::collections::BTreeMap;

use std::marker::PhantomData;

use serde::Deserialize;
use serde::de::{self, MapAccess, Visitor, value::MapAccessDeserializer};
use serde_json::Value;

use super::caps::Cap;
use super::condition::{
    Condition, FieldPath, FieldTest, MAX_CONDITION_DEPTH, Operator, PriorEventTest,
};
use super::name::{EventType, RuleName, TemplateName};
use super::policy::{CalendarBasis, Category, ConsentTrait, Holdout, Policy, ZoneName};
use super::{Action, ActionType, Channel, Rule, Suppression};
use crate::time::quiet::QuietHours;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFile {
    pub rules: Vec<Rule>,
    #[serde(default)]
    pub templates: BTreeMap<TemplateName, String>,
    #[serde(default)]
    timezone: Option<ZoneName>,
    #[serde(default)]
    quiet_hours: Option<QuietHours>,
    #[serde(default)]
    consent: BTreeMap<Category, ConsentTrait>,
    #[serde(default)]
    holdout: Option<Holdout>,
    #[serde(default)]
    frequency_caps: Vec<Cap>,
}

impl RawFile {
    pub fn into_parts(self) -> (Vec<Rule>, BTreeMap<String, String>, Policy) {
        let templates = self.templates.into_iter().map(|(k, v)| (k.0, v)).collect();
        let policy = Policy {
            timezone: self.timezone.map_or(Policy::default().timezone, |z| z.0),
            quiet_hours: self.quiet_hours,
            consent: self.consent,
            holdout: self.holdout,
            frequency_caps: self.frequency_caps,
        };
        (self.rules, templates, policy)
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRule {
    name: RuleName,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    enabled: Option<bool>,
    trigger: RawTrigger,
    #[serde(default)]
    conditions: Option<Condition>,
    action: RawAction,
    #[serde(default)]
    suppression: Option<RawSuppression>,
    #[serde(default)]
    category: Option<Category>,
    #[serde(default)]
    quiet_hours: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTrigger {
    event_type: EventType,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAction {
    #[serde(rename = "type")]
    kind: ActionType,
    template_name: TemplateName,
    delivery_method: Channel,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSuppression {
    #[serde(default)]
    mode: Suppression,
    #[serde(default)]
    calendar: Option<CalendarBasis>,
}

impl TryFrom<RawRule> for Rule {
    type Error = String;

    fn try_from(raw: RawRule) -> Result<Self, String> {
        let name = raw.name.0;
        if raw.action.kind == ActionType::Alert && raw.action.delivery_method != Channel::Internal {
            return Err(format!(
                "rule `{name}`: an `alert` action must use delivery_method `internal`, got `{}`",
                raw.action.delivery_method
            ));
        }
        let category = match (raw.action.kind, raw.category) {
            (ActionType::Alert, Some(c)) => {
                return Err(at_key(
                    "category",
                    &format!(
                        "rule `{name}`: an `alert` has no category, got `{c}`; categories are \
                         for `send` actions"
                    ),
                ));
            }
            (ActionType::Alert, None) => None,
            (ActionType::Send, c) => Some(c.unwrap_or(Category::Marketing)),
        };
        let mode = raw.suppression.as_ref().map(|s| s.mode).unwrap_or_default();
        let calendar = raw.suppression.as_ref().and_then(|s| s.calendar);
        if let (Some(c), m) = (calendar, mode)
            && m != Suppression::OncePerCalendarDay
        {
            return Err(at_key(
                "suppression.calendar",
                &format!(
                    "rule `{name}`: `calendar: {c}` needs mode `once_per_calendar_day`, got `{m}`"
                ),
            ));
        }
        Ok(Rule {
            name: name.into(),
            description: raw.description,
            enabled: raw.enabled.unwrap_or(true),
            trigger: raw.trigger.event_type.0,
            condition: raw.conditions,
            action: Action {
                kind: raw.action.kind,
                template: raw.action.template_name.0.into(),
                channel: raw.action.delivery_method,
            },
            suppression: mode,
            calendar: calendar.unwrap_or_default(),
            category,
            quiet_hours: raw.quiet_hours.unwrap_or(true),
            pos: None,
        })
    }
}

/// Marks a validation error as being about `key` of the mapping being validated, so the
/// error points at that key's value (see [`split_key`]).
pub(super) fn at_key(key: &str, message: &str) -> String {
    format!("@{key}@ {message}")
}

/// `(path, key, message)` of an error made by [`at_key`], as the YAML reader reports it
/// (`rules[0]: @category@ ...`, or `@end@ ...` at the top).
pub(super) fn split_key(message: &str) -> Option<(&str, &str, &str)> {
    let (path, rest) = match message.split_once(": @") {
        Some((path, rest)) => (path, rest),
        None => ("", message.strip_prefix('@')?),
    };
    let (key, rest) = rest.split_once("@ ")?;
    Some((path, key, rest))
}

/// Every key a condition node may have; exactly one shape must be used.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCondition {
    #[serde(default)]
    field: Option<String>,
    #[serde(default)]
    operator: Option<Operator>,
    #[serde(default)]
    value: Option<Value>,
    #[serde(default)]
    prior_event: Option<RawPrior>,
    #[serde(default)]
    all: Option<Vec<Condition>>,
    #[serde(default)]
    any: Option<Vec<Condition>>,
    #[serde(default)]
    not: Option<Box<Condition>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPrior {
    event_type: EventType,
    hours: f64,
}

const SHAPES: &str = "`field`, `prior_event`, `all`, `any` or `not`";

impl TryFrom<RawCondition> for Condition {
    type Error = String;

    fn try_from(raw: RawCondition) -> Result<Self, String> {
        let shapes = [
            raw.field.is_some(),
            raw.prior_event.is_some(),
            raw.all.is_some(),
            raw.any.is_some(),
            raw.not.is_some(),
        ];
        match shapes.iter().filter(|s| **s).count() {
            0 => return Err(format!("a condition needs one of {SHAPES}")),
            1 => {}
            _ => return Err(format!("a condition has exactly one of {SHAPES}")),
        }
        if raw.field.is_none() && (raw.operator.is_some() || raw.value.is_some()) {
            return Err("`operator` and `value` belong with `field`".into());
        }
        if let Some(field) = raw.field {
            return field_test(&field, raw.operator, raw.value).map(Condition::Field);
        }
        if let Some(p) = raw.prior_event {
            if !(p.hours.is_finite() && p.hours > 0.0) {
                return Err(format!(
                    "`prior_event.hours` must be a positive number, got {}",
                    p.hours
                ));
            }
            return Ok(Condition::Prior(PriorEventTest {
                event_type: p.event_type.0,
                hours: p.hours,
            }));
        }
        let node = if let Some(all) = raw.all {
            non_empty("all", all).map(Condition::All)?
        } else if let Some(any) = raw.any {
            non_empty("any", any).map(Condition::Any)?
        } else {
            Condition::Not(raw.not.expect("one shape is present"))
        };
        // Children were checked when they were built, so this walks at most one level more.
        let depth = node.depth();
        if depth > MAX_CONDITION_DEPTH {
            return Err(format!(
                "conditions nest {depth} levels deep here; the limit is {MAX_CONDITION_DEPTH}"
            ));
        }
        Ok(node)
    }
}

fn non_empty(key: &str, list: Vec<Condition>) -> Result<Vec<Condition>, String> {
    if list.is_empty() {
        return Err(format!("`{key}` needs at least one condition"));
    }
    Ok(list)
}

fn field_test(
    field: &str,
    op: Option<Operator>,
    value: Option<Value>,
) -> Result<FieldTest, String> {
    let path = FieldPath::parse(field)?;
    let op = op.ok_or_else(|| format!("condition on `{field}` is missing `operator`"))?;
    let value = match (op.takes_value(), value) {
        (true, None) => return Err(format!("operator `{op}` on `{field}` needs a `value`")),
        (false, Some(_)) => return Err(format!("operator `{op}` takes no `value`")),
        (_, v) => v,
    };
    match (op, &value) {
        (Operator::In | Operator::NotIn, Some(v)) if !v.is_array() => {
            return Err(format!("operator `{op}` needs a list `value`, got {v}"));
        }
        (Operator::Gt | Operator::Gte | Operator::Lt | Operator::Lte, Some(v))
            if !v.is_number() =>
        {
            return Err(format!("operator `{op}` needs a number `value`, got {v}"));
        }
        (Operator::Contains, Some(v)) if v.is_array() || v.is_object() => {
            return Err(format!(
                "operator `contains` needs a single `value`, got {v}"
            ));
        }
        _ => {}
    }
    Ok(FieldTest { path, op, value })
}

impl<'de> Deserialize<'de> for Condition {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        via_map::<D, RawCondition, Condition>(d, "a condition mapping")
    }
}

impl<'de> Deserialize<'de> for Rule {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        via_map::<D, RawRule, Rule>(d, "a rule mapping")
    }
}

/// Deserialize a mapping as `R`, then validate it into `T` inside the same deserializer call,
/// so that a validation error carries the position of the mapping it is about.
pub(super) fn via_map<'de, D, R, T>(d: D, expecting: &'static str) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    R: Deserialize<'de>,
    T: TryFrom<R, Error = String>,
{
    struct V<R, T>(&'static str, PhantomData<(R, T)>);
    impl<'de, R, T> Visitor<'de> for V<R, T>
    where
        R: Deserialize<'de>,
        T: TryFrom<R, Error = String>,
    {
        type Value = T;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str(self.0)
        }
        fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
            let raw = R::deserialize(MapAccessDeserializer::new(map))?;
            T::try_from(raw).map_err(de::Error::custom)
        }
    }
    d.deserialize_map(V::<R, T>(expecting, PhantomData))
}
