//! Edges of the rules file that only mutation testing noticed were unpinned: condition depth
//! and the prior event types a tree asks for, names cut for messages, and the wording of a
//! consent trait, a zone or a time of the wrong shape, and condition keys that do not belong.

use std::path::Path;

use super::*;

fn err(src: &str) -> String {
    RuleSet::from_yaml(Path::new("r.yaml"), src)
        .unwrap_err()
        .to_string()
}

const RULE: &str = "rules:
  - name: r
    trigger: {event_type: e}
    action: {type: send, template_name: T, delivery_method: email}
";

#[test]
fn depth_counts_nodes_to_the_deepest_leaf_and_prior_types_are_listed_once() {
    let src = "rules:
  - name: r
    trigger: {event_type: e}
    conditions:
      all:
        - {prior_event: {event_type: signup, hours: 1}}
        - any:
            - {prior_event: {event_type: login, hours: 2}}
            - not: {prior_event: {event_type: signup, hours: 3}}
            - {field: properties.x, operator: exists}
    action: {type: send, template_name: T, delivery_method: email}
";
    let rules = RuleSet::from_yaml(Path::new("r.yaml"), src).unwrap();
    let c = rules.rules[0].condition.as_ref().unwrap();
    assert_eq!(c.depth(), 4, "all > any > not > prior_event");
    let mut types = Vec::new();
    c.prior_types(&mut types);
    assert_eq!(types, ["signup", "login"]);
}

#[test]
fn long_names_are_cut_to_64_characters_in_messages() {
    assert_eq!(name::show("short"), "short");
    let long = "x".repeat(70);
    assert_eq!(name::show(&long), format!("{}…", "x".repeat(64)));
    assert_eq!(name::show(&"y".repeat(64)), "y".repeat(64));
}

#[test]
fn a_consent_trait_must_be_one_trait_under_user_traits() {
    for bad in ["user_traits.", "user_traits.a.b", "properties.opt_in"] {
        let e = err(&format!("consent: {{marketing: \"{bad}\"}}\n{RULE}"));
        assert!(
            e.contains(&format!(
                "consent is read from a trait: write `user_traits.NAME`, got `{bad}`"
            )),
            "{bad}: {e}"
        );
    }
    let e = err(&format!("consent: {{marketing: [1]}}\n{RULE}"));
    assert!(
        e.contains("expected a trait path, `user_traits.NAME`"),
        "{e}"
    );
    assert!(
        RuleSet::from_yaml(
            Path::new("r.yaml"),
            &format!("consent: {{marketing: user_traits.opt_in}}\n{RULE}")
        )
        .is_ok()
    );
}

#[test]
fn a_zone_of_the_wrong_type_says_what_was_expected() {
    let e = err(&format!("timezone: [1]\n{RULE}"));
    assert!(e.contains("expected an IANA time zone name"), "{e}");
}

#[test]
fn a_quiet_hours_time_of_the_wrong_type_says_what_was_expected() {
    let e = err(&format!(
        "quiet_hours: {{start: [21], end: \"08:00\", mode: hold}}\n{RULE}"
    ));
    assert!(e.contains("expected a time of day as \"HH:MM\""), "{e}");
}

fn condition_err(condition: &str) -> String {
    err(&format!(
        "rules:
  - name: r
    trigger: {{event_type: e}}
    conditions: {condition}
    action: {{type: send, template_name: T, delivery_method: email}}
"
    ))
}

#[test]
fn operator_or_value_without_a_field_is_refused_each_alone() {
    for extra in ["operator: equals", "value: 1"] {
        let e = condition_err(&format!(
            "{{prior_event: {{event_type: s, hours: 1}}, {extra}}}"
        ));
        assert!(
            e.contains("`operator` and `value` belong with `field`"),
            "{extra}: {e}"
        );
    }
}

#[test]
fn contains_takes_one_value_not_a_list_or_a_mapping() {
    for value in ["[1, 2]", "{a: 1}"] {
        let e = condition_err(&format!(
            "{{field: properties.tags, operator: contains, value: {value}}}"
        ));
        assert!(
            e.contains("operator `contains` needs a single `value`"),
            "{value}: {e}"
        );
    }
    assert!(
        RuleSet::from_yaml(
            Path::new("r.yaml"),
            "rules:
  - name: r
    trigger: {event_type: e}
    conditions: {field: properties.tags, operator: contains, value: vip}
    action: {type: send, template_name: T, delivery_method: email}
"
        )
        .is_ok()
    );
}
