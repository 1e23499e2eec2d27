//! Lints on the guards across rules (SPEC §7.1, §7.3): a frequency cap that covers no rule or
//! can never be reached by the rules it covers, and a consent category no rule sends in.

use super::{LintKind, Warning};
use crate::engine::Calendar;
use crate::rules::{Cap, RuleSet, Suppression};

/// How many deliveries one rule can make in one window of `cap`, if that is bounded.
fn most_per_window(suppression: Suppression, cap: &Cap) -> Option<u32> {
    match (suppression, cap.window) {
        (Suppression::OnceEver, _) => Some(1),
        (Suppression::OncePerCalendarDay, Calendar::Day) => Some(1),
        (Suppression::OncePerCalendarDay, Calendar::Week) => Some(7),
        (Suppression::OncePerCalendarDay, Calendar::Month) => Some(31),
        (Suppression::None, _) => None,
    }
}

/// Caps that cover no enabled rule, or whose `max` is more than the rules they cover can
/// ever send in one window (each rule at most once ever or once a day): they never stop
/// anything. Rules sharing a template are counted once.
pub fn caps(rules: &RuleSet, out: &mut Vec<Warning>) {
    for cap in &rules.policy.frequency_caps {
        let covered: Vec<_> = rules.enabled().filter(|r| cap.covers_rule(r)).collect();
        if covered.is_empty() {
            out.push(Warning {
                kind: LintKind::CapUnreachable,
                line: None,
                message: format!(
                    "frequency cap `{}` covers no enabled rule: no send has a category and \
                     channel it counts",
                    cap.name
                ),
            });
            continue;
        }
        let mut templates: Vec<(&str, Option<u32>)> = Vec::new();
        for r in &covered {
            let most = most_per_window(r.suppression, cap);
            match templates
                .iter_mut()
                .find(|(t, _)| *t == &*r.action.template)
            {
                // Two rules for one template share its suppression key: the looser bound.
                Some((_, m)) => *m = m.zip(most).map(|(a, b)| a.max(b)),
                None => templates.push((&r.action.template, most)),
            }
        }
        let bound: Option<u32> = templates.iter().map(|(_, m)| *m).sum();
        if let Some(most) = bound.filter(|m| *m < cap.max) {
            out.push(Warning {
                kind: LintKind::CapUnreachable,
                line: None,
                message: format!(
                    "frequency cap `{}` (max {}) can never be reached: the {} rule{} it covers \
                     can send at most {most} in one window",
                    cap.name,
                    cap.max,
                    covered.len(),
                    if covered.len() == 1 { "" } else { "s" }
                ),
            });
        }
    }
}

/// Consent categories that no enabled send is in: the consent never applies.
pub fn consent(rules: &RuleSet, out: &mut Vec<Warning>) {
    for (category, trait_) in &rules.policy.consent {
        if !rules.enabled().any(|r| r.category == Some(*category)) {
            out.push(Warning {
                kind: LintKind::ConsentUnused,
                line: None,
                message: format!(
                    "consent for `{category}` ({trait_}) applies to no enabled rule: no send \
                     has category `{category}`"
                ),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn warnings(src: &str) -> Vec<String> {
        let rules = RuleSet::from_yaml(Path::new("r.yaml"), src).unwrap();
        let mut out = Vec::new();
        caps(&rules, &mut out);
        consent(&rules, &mut out);
        out.into_iter().map(|w| w.message).collect()
    }

    const RULES: &str = "rules:
  - name: a
    trigger: {event_type: x}
    action: {type: send, template_name: A, delivery_method: email}
    suppression: {mode: once_per_calendar_day}
  - name: b
    trigger: {event_type: y}
    action: {type: send, template_name: B, delivery_method: sms}
    suppression: {mode: once_ever}
";

    #[test]
    fn a_cap_above_what_its_rules_can_send_is_reported() {
        let w = warnings(&format!(
            "{RULES}frequency_caps:\n  - {{name: daily, max: 3, window: calendar_day}}\n"
        ));
        assert_eq!(
            w,
            [
                "frequency cap `daily` (max 3) can never be reached: the 2 rules it covers can \
              send at most 2 in one window"
            ]
        );
        assert!(
            warnings(&format!(
                "{RULES}frequency_caps:\n  - {{name: daily, max: 2, window: calendar_day}}\n"
            ))
            .is_empty()
        );
        // A week holds seven days of a daily rule.
        assert!(
            warnings(&format!(
                "{RULES}frequency_caps:\n  - {{name: w, max: 8, window: calendar_week}}\n"
            ))
            .is_empty()
        );
        // An unsuppressed rule can send without bound.
        let open = RULES.replace("{mode: once_ever}", "{mode: none}");
        assert!(
            warnings(&format!(
                "{open}frequency_caps:\n  - {{name: d, max: 50, window: calendar_day}}\n"
            ))
            .is_empty()
        );
    }

    #[test]
    fn a_cap_or_consent_that_covers_nothing_is_reported() {
        let w = warnings(&format!(
            "{RULES}frequency_caps:\n  - {{name: push, max: 1, window: calendar_day, channels: [push]}}\n\
             consent: {{transactional: user_traits.service_ok}}\n"
        ));
        assert_eq!(
            w,
            [
                "frequency cap `push` covers no enabled rule: no send has a category and channel \
                 it counts",
                "consent for `transactional` (user_traits.service_ok) applies to no enabled \
                 rule: no send has category `transactional`"
            ]
        );
    }
}
