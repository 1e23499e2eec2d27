//! The lint on template variables (SPEC §7.4): a template reads a property or trait, without a
//! `default`, that no scenario event of its rule's trigger carries, so the send would be
//! stopped as `suppressed_render_error` every time.

use super::{Facts, LintKind, Warning, at};
use crate::rules::RuleSet;

/// The `properties.*` / `user_traits.*` paths a template outputs without a `default` filter,
/// read from its `{{ ... }}` tags (a best-effort scan: tags in `{% raw %}` count too).
pub fn strict_paths(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find("{{") {
        let after = &rest[open + 2..];
        let Some(close) = after.find("}}") else { break };
        let tag = after[..close].trim().trim_start_matches('-').trim();
        rest = &after[close + 2..];
        if tag.contains("default") {
            continue;
        }
        let path: String = tag
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.'))
            .collect();
        let rooted = ["properties.", "user_traits."]
            .iter()
            .any(|r| path.starts_with(r) && path.len() > r.len());
        if rooted && !out.contains(&path) {
            out.push(path);
        }
    }
    out
}

/// Template variables that scenario events of the rule's trigger never carry.
pub fn missing(rules: &RuleSet, facts: &Facts, out: &mut Vec<Warning>) {
    if facts.files == 0 {
        return;
    }
    for rule in rules.enabled() {
        if !facts.event_types.contains(&rule.trigger) {
            continue;
        }
        let Some(text) = rules.templates.get(&*rule.action.template) else {
            continue;
        };
        for path in strict_paths(text) {
            if facts.carries(&rule.trigger, &path) {
                continue;
            }
            out.push(Warning {
                kind: LintKind::TemplateVariableMissing,
                line: rule.pos.map(|p| p.line),
                message: format!(
                    "rule {}: template `{}` reads `{path}` without a `default`, but no \
                     `{}` event in the scenarios carries it: those sends would be \
                     suppressed_render_error",
                    at(rule),
                    rule.action.template,
                    rule.trigger
                ),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strict_paths_skip_defaults_and_other_roots() {
        assert_eq!(
            strict_paths(
                "Hi {{ user_traits.first_name | default: 'there' }}, {{ properties.bank.name }} \
                 {{user_id}} {{ properties.amount | round }} {{ properties.bank.name }}"
            ),
            ["properties.bank.name", "properties.amount"]
        );
        assert!(strict_paths("no tags {{ unclosed").is_empty());
    }

    #[test]
    fn a_variable_no_event_of_the_trigger_carries_is_reported() {
        let rules = RuleSet::from_yaml(
            std::path::Path::new("r.yaml"),
            "rules:\n  - name: nudge\n    trigger: {event_type: linked}\n    \
             action: {type: send, template_name: N, delivery_method: sms}\n\
             templates:\n  N: \"{{ properties.bank.name }} is linked\"\n",
        )
        .unwrap();
        let mut facts = Facts::for_rules(&rules);
        facts.files = 1;
        let event = |props: serde_json::Value| crate::event::Event {
            user_id: "u".into(),
            event_type: "linked".into(),
            event_timestamp: "2025-10-10T10:00:00Z".parse().unwrap(),
            properties: props.as_object().cloned().unwrap_or_default(),
            user_traits: None,
            idempotency_key: None,
        };
        facts.observe(&event(serde_json::json!({"bank": {"id": 7}})));
        let mut out = Vec::new();
        missing(&rules, &facts, &mut out);
        assert_eq!(
            out.iter().map(|w| w.message.as_str()).collect::<Vec<_>>(),
            [
                "rule `nudge` (line 2): template `N` reads `properties.bank.name` without a \
              `default`, but no `linked` event in the scenarios carries it: those sends would \
              be suppressed_render_error"
            ]
        );
        facts.observe(&event(serde_json::json!({"bank": {"name": "Monzo"}})));
        out.clear();
        missing(&rules, &facts, &mut out);
        assert!(out.is_empty());
    }
}
