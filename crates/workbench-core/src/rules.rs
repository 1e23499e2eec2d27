//! Validated rules: the `RuleSet` the engine evaluates, and loading one from YAML strictly.

pub mod caps;
pub mod condition;
pub mod name;
pub mod policy;
mod raw;
pub mod template;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Serialize;

pub use caps::Cap;
pub use condition::{
    Condition, FieldPath, FieldTest, MAX_CONDITION_DEPTH, Operator, PriorEventTest, Root,
};
pub use name::MAX_NAME_CHARS;
pub use policy::{CalendarBasis, Category, Policy};
pub use template::{RenderError, Template};

use crate::event::Event;
use crate::yaml::{self, Pos, Positions, TopLevel};

#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    pub name: Arc<str>,
    pub description: Option<String>,
    pub enabled: bool,
    pub trigger: String,
    pub condition: Option<Condition>,
    pub action: Action,
    pub suppression: Suppression,
    /// The calendar of `once_per_calendar_day` (UTC unless the rule says `user`).
    pub calendar: CalendarBasis,
    /// `None` for alerts; a send defaults to `marketing`.
    pub category: Option<Category>,
    /// `false` when the rule says `quiet_hours: false`.
    pub quiet_hours: bool,
    /// Where the rule starts in its file, when loaded from one.
    pub pos: Option<Pos>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Action {
    pub kind: ActionType,
    pub template: Arc<str>,
    pub channel: Channel,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ActionType {
    Send,
    Alert,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    Email,
    Sms,
    Push,
    Internal,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Suppression {
    #[default]
    None,
    OnceEver,
    OncePerCalendarDay,
}

names! {
    ActionType => { Send = "send", Alert = "alert" },
    Channel => { Email = "email", Sms = "sms", Push = "push", Internal = "internal" },
    Suppression => { None = "none", OnceEver = "once_ever", OncePerCalendarDay = "once_per_calendar_day" }
}

/// Rules in file order with their templates, and per trigger what the engine must look up.
#[derive(Debug, Clone, Default)]
pub struct RuleSet {
    pub rules: Vec<Rule>,
    pub templates: BTreeMap<String, String>,
    pub policy: Policy,
    plans: HashMap<String, TriggerPlan>,
    /// Each template text parsed as Liquid once, at load (SPEC §7.4).
    parsed: HashMap<String, Result<Template, template::ParseError>>,
}

/// For one event type: the enabled rules it triggers, in order, and the history they need.
#[derive(Debug, Clone, Default)]
pub struct TriggerPlan {
    pub rules: Vec<usize>,
    pub prior_types: Vec<String>,
    pub deliveries: Vec<(Arc<str>, Suppression, CalendarBasis)>,
    /// Whether some rule of this trigger needs the user's zone (a local calendar, quiet hours).
    pub needs_zone: bool,
    /// The frequency caps (indexes into `policy.frequency_caps`) some send of it counts for.
    pub caps: Vec<usize>,
}

impl RuleSet {
    pub fn new(rules: Vec<Rule>, templates: BTreeMap<String, String>) -> RuleSet {
        RuleSet::with_policy(rules, templates, Policy::default())
    }

    pub fn with_policy(
        rules: Vec<Rule>,
        templates: BTreeMap<String, String>,
        policy: Policy,
    ) -> RuleSet {
        let mut plans: HashMap<String, TriggerPlan> = HashMap::new();
        // Per trigger, what is already in its plan: thousands of rules stay linear.
        let mut priors: HashSet<(&str, &str)> = HashSet::new();
        let mut deliveries: HashSet<(&str, &str, Suppression, CalendarBasis)> = HashSet::new();
        for (i, rule) in rules.iter().enumerate().filter(|(_, r)| r.enabled) {
            let plan = plans.entry(rule.trigger.clone()).or_default();
            plan.rules.push(i);
            if let Some(c) = &rule.condition {
                each_prior(c, &mut |t| {
                    if priors.insert((&rule.trigger, t)) {
                        plan.prior_types.push(t.to_string());
                    }
                });
            }
            let key = (
                &*rule.trigger,
                &*rule.action.template,
                rule.suppression,
                rule.calendar,
            );
            if rule.suppression != Suppression::None && deliveries.insert(key) {
                plan.deliveries.push((
                    rule.action.template.clone(),
                    rule.suppression,
                    rule.calendar,
                ));
            }
            // A send's reason names its local time against quiet hours, exempt or not.
            plan.needs_zone |= rule.uses_zone(&policy)
                || (policy.quiet_hours.is_some() && rule.action.kind == ActionType::Send);
            for (c, cap) in policy.frequency_caps.iter().enumerate() {
                if cap.covers_rule(rule) && !plan.caps.contains(&c) {
                    plan.caps.push(c);
                    plan.needs_zone |= cap.calendar == CalendarBasis::User;
                }
            }
        }
        drop((priors, deliveries));
        let parsed = templates
            .iter()
            .map(|(name, text)| (name.clone(), Template::parse(text)))
            .collect();
        RuleSet {
            rules,
            templates,
            policy,
            plans,
            parsed,
        }
    }

    pub fn plan(&self, event_type: &str) -> Option<&TriggerPlan> {
        self.plans.get(event_type)
    }

    /// A template's text; a template with no text in `templates:` is its own name (SPEC §7.4).
    pub fn text<'a>(&'a self, template: &'a str) -> &'a str {
        self.templates
            .get(template)
            .map_or(template, String::as_str)
    }

    /// A template's text rendered for `event` (SPEC §7.4); a template with no text is its own
    /// name. A text that does not parse (only in rule sets not loaded from a file, which
    /// refuses it) does not render either.
    pub fn render(&self, template: &str, event: &Event) -> Result<String, RenderError> {
        match self.parsed.get(template) {
            None => Ok(template.to_string()),
            Some(Ok(t)) => t.render(event),
            Some(Err(e)) => Err(RenderError::Filter(format!("it does not parse: {e}"))),
        }
    }

    pub fn enabled(&self) -> impl Iterator<Item = &Rule> {
        self.rules.iter().filter(|r| r.enabled)
    }

    /// Parse rules from YAML text; `file` names the source in errors.
    pub fn from_yaml(file: &Path, src: &str) -> Result<RuleSet, RulesError> {
        let positions = Positions::index(src, |_, _| true);
        let err = |pos: Option<Pos>, message: String| {
            // An error about one key of a mapping (`raw::at_key`) points at that key's value.
            let (pos, message) = match raw::split_key(&message) {
                Some((path, key, rest)) => {
                    let at = if path.is_empty() {
                        key.to_string()
                    } else {
                        format!("{path}.{key}")
                    };
                    (positions.get(&at).or(pos), format!("{at}: {rest}"))
                }
                None => (pos, message),
            };
            RulesError::Invalid {
                file: file.to_path_buf(),
                pos,
                message,
            }
        };
        let (rules, templates, policy, prefix) = match positions.top_level() {
            TopLevel::Empty => return Err(err(None, "rules file is empty".into())),
            TopLevel::Sequence => {
                let rules: Vec<Rule> = yaml::from_str(src).map_err(|e| err(e.pos, e.message))?;
                (rules, BTreeMap::new(), Policy::default(), "")
            }
            _ => {
                let f: raw::RawFile = yaml::from_str(src).map_err(|e| err(e.pos, e.message))?;
                let (rules, templates, policy) = f.into_parts();
                (rules, templates, policy, "rules")
            }
        };
        let mut rules = rules;
        let mut seen: HashMap<Arc<str>, Option<Pos>> = HashMap::new();
        for (i, rule) in rules.iter_mut().enumerate() {
            rule.pos = positions.get(&format!("{prefix}[{i}]"));
            let at = positions.get(&format!("{prefix}[{i}].name")).or(rule.pos);
            if let Some(first) = seen.insert(rule.name.clone(), at) {
                let first = match first {
                    Some(p) => format!("first defined at line {}", p.line),
                    None => "defined earlier".to_string(),
                };
                return Err(err(
                    at,
                    format!("duplicate rule name `{}`: {first}", rule.name),
                ));
            }
        }
        let mut caps: HashMap<&str, usize> = HashMap::new();
        for (i, cap) in policy.frequency_caps.iter().enumerate() {
            if let Some(first) = caps.insert(&cap.name, i) {
                let at = positions.get(&format!("frequency_caps[{i}].name"));
                let first = positions
                    .get(&format!("frequency_caps[{first}].name"))
                    .map_or("defined earlier".to_string(), |p| {
                        format!("first defined at line {}", p.line)
                    });
                return Err(err(
                    at,
                    format!("duplicate frequency cap name `{}`: {first}", cap.name),
                ));
            }
        }
        drop(caps);
        let set = RuleSet::with_policy(rules, templates, policy);
        // BTreeMap order: the first broken template by name is the one reported.
        if let Some((name, e)) = set
            .parsed
            .iter()
            .filter_map(|(n, p)| Some((n, p.as_ref().err()?)))
            .min_by_key(|(n, _)| *n)
        {
            return Err(RulesError::Invalid {
                file: file.to_path_buf(),
                pos: positions.get(&format!("templates.{name}")),
                message: format!(
                    "templates.{}: the text is not valid Liquid: {e}",
                    yaml::escape_controls(name)
                ),
            });
        }
        Ok(set)
    }

    /// Load and validate a rules file.
    pub fn load(path: &Path) -> Result<RuleSet, RulesError> {
        let src = crate::source::read_text(path, crate::source::MAX_RULES_BYTES).map_err(|e| {
            RulesError::Read {
                file: path.to_path_buf(),
                message: e,
            }
        })?;
        RuleSet::from_yaml(path, &src)
    }
}

impl Rule {
    /// Whether quiet hours apply to this rule's sends (SPEC §7.3, row 6): a marketing send on
    /// a channel other than `internal`, unless the rule says `quiet_hours: false`.
    pub fn quiet_hours_apply(&self) -> bool {
        self.action.kind == ActionType::Send
            && self.category == Some(Category::Marketing)
            && self.quiet_hours
            && self.action.channel != Channel::Internal
    }

    /// Whether deciding this rule needs the user's zone.
    pub fn uses_zone(&self, policy: &Policy) -> bool {
        (self.suppression == Suppression::OncePerCalendarDay
            && self.calendar == CalendarBasis::User)
            || (policy.quiet_hours.is_some() && self.quiet_hours_apply())
    }
}

/// Call `f` with each `prior_event` type of the tree, in order.
fn each_prior<'c>(c: &'c Condition, f: &mut impl FnMut(&'c str)) {
    match c {
        Condition::Field(_) => {}
        Condition::Prior(p) => f(&p.event_type),
        Condition::All(cs) | Condition::Any(cs) => cs.iter().for_each(|c| each_prior(c, f)),
        Condition::Not(c) => each_prior(c, f),
    }
}

#[derive(Debug, Clone, thiserror::Error, PartialEq)]
pub enum RulesError {
    #[error("{}: {message}", file.display())]
    Read { file: PathBuf, message: String },
    #[error("{}: {message}", crate::source::at(file, *pos))]
    Invalid {
        file: PathBuf,
        pos: Option<Pos>,
        message: String,
    },
}

#[cfg(test)]
mod edge_tests;
#[cfg(test)]
mod plan_tests;
#[cfg(test)]
mod tests;
