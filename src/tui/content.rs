//! The content of the explanation panes (Rule match, Suppression, Audit) as styled lines,
//! shared by the TUI and `workbench explain`.

use ratatui::text::{Line, Span};

use super::theme::Theme;
use crate::engine::{CondTrace, Decision, Outcome, Role, Verdict, Window};
use crate::event::format_ts;
use crate::results::EventResult;
use crate::rules::{RuleSet, Suppression};
use crate::session::Session;

fn mark(ok: bool) -> &'static str {
    if ok { "✓" } else { "✗" }
}

/// Every rule top-down: trigger hit or miss, each condition with what it saw, the winner and
/// the rules it shadowed.
pub fn rule_match(rules: &RuleSet, d: &Decision<'_>, theme: Theme) -> Vec<Line<'static>> {
    let mut out = Vec::new();
    for rt in &d.trace.rules {
        let rule = &rules.rules[rt.rule];
        let at = rule
            .pos
            .map(|p| format!("  line {}", p.line))
            .unwrap_or_default();
        let (symbol, note, style) = match rt.role {
            Role::Disabled => ("·", "disabled".to_string(), theme.dim()),
            Role::TriggerMiss => ("✗", format!("≠ trigger {}", rule.trigger), theme.dim()),
            Role::NoMatch => ("✗", "conditions failed".to_string(), theme.fail()),
            Role::Winner => ("✓", "WINNER".to_string(), theme.winner()),
            Role::Shadowed => ("◐", "also matched (shadowed)".to_string(), theme.shadowed()),
        };
        out.push(Line::from(vec![
            Span::styled(format!("{symbol} {}", rt.name), style),
            Span::styled(format!("  {note}"), style),
            Span::styled(at, theme.dim()),
        ]));
        if matches!(rt.role, Role::Disabled | Role::TriggerMiss) {
            continue;
        }
        match &rt.condition {
            None => out.push(Line::styled(
                "    no conditions: always matches",
                theme.dim(),
            )),
            Some(c) => condition(c, 2, theme, &mut out),
        }
    }
    out
}

fn condition(c: &CondTrace<'_>, depth: usize, theme: Theme, out: &mut Vec<Line<'static>>) {
    let pad = "  ".repeat(depth);
    let style = if c.result() {
        theme.pass()
    } else {
        theme.fail()
    };
    let head = |text: String| {
        Line::from(vec![
            Span::raw(pad.clone()),
            Span::styled(format!("{} ", mark(c.result())), style),
            Span::raw(text),
        ])
    };
    match c {
        CondTrace::Field { test, actual, .. } => {
            let mut line = head(test.to_string());
            line.push_span(Span::styled(format!("  actual {actual}"), theme.dim()));
            out.push(line);
        }
        CondTrace::Prior {
            test,
            found,
            hours_between,
            ..
        } => {
            let seen = match (found, hours_between) {
                (Some(p), Some(h)) if *h < 0.0 => format!(
                    "  event #{} at {}, {}h after this one",
                    p.event_id,
                    format_ts(p.event_timestamp),
                    crate::engine::fmt_hours(-h)
                ),
                (Some(p), Some(h)) => format!(
                    "  event #{} at {}, {}h before",
                    p.event_id,
                    format_ts(p.event_timestamp),
                    crate::engine::fmt_hours(*h)
                ),
                _ => "  none found".to_string(),
            };
            let mut line = head(test.to_string());
            line.push_span(Span::styled(seen, theme.dim()));
            out.push(line);
        }
        CondTrace::All(kids, _) | CondTrace::Any(kids, _) => {
            let word = if matches!(c, CondTrace::All(..)) {
                "all of"
            } else {
                "any of"
            };
            out.push(head(word.to_string()));
            for k in kids {
                condition(k, depth + 1, theme, out);
            }
        }
        CondTrace::Not(kid, _) => {
            out.push(head("not".to_string()));
            condition(kid, depth + 1, theme, out);
        }
    }
}

/// When a baseline is set and this decision differs from it: both, first in the pane.
pub fn baseline(before: Option<&Verdict>, now: &Verdict, theme: Theme) -> Vec<Line<'static>> {
    let Some(before) = before.filter(|b| !b.same_decision(now)) else {
        return Vec::new();
    };
    let side = |label: &str, v: &Verdict| {
        Line::from(vec![
            Span::styled(format!("{label} "), theme.changed()),
            Span::styled(
                format!("{:<8}", v.outcome.as_str()),
                theme.outcome(v.outcome),
            ),
            Span::raw(format!(
                " {} — {}",
                v.matched_rule.as_deref().unwrap_or("(no rule)"),
                v.reason
            )),
        ])
    };
    vec![
        side("Δ baseline", before),
        side("Δ now     ", now),
        Line::raw(""),
    ]
}

/// The winning rule's suppression: mode, key, window, the earlier delivery, the outcome.
pub fn suppression(row: &EventResult, d: &Decision<'_>, theme: Theme) -> Vec<Line<'static>> {
    let v = &d.verdict;
    let outcome = Line::from(vec![
        Span::styled(format!("⇒ {}: ", v.outcome), theme.outcome(v.outcome)),
        Span::raw(v.reason.clone()),
    ]);
    let Some(s) = &d.trace.suppression else {
        return vec![
            Line::styled("no rule matched: nothing to suppress", theme.dim()),
            outcome,
        ];
    };
    let mut out = vec![Line::from(vec![
        Span::styled("mode ", theme.dim()),
        Span::raw(s.mode.to_string()),
        Span::styled("   key ", theme.dim()),
        Span::raw(format!("({}, {})", row.user_id, s.template)),
    ])];
    if s.mode == Suppression::None {
        out.push(Line::styled("never suppressed", theme.dim()));
    } else {
        let window = match s.window {
            Window::Day(d) => format!("{d} (UTC)"),
            Window::Ever => "ever".to_string(),
        };
        out.push(Line::from(vec![
            Span::styled("window ", theme.dim()),
            Span::raw(window),
        ]));
        out.push(match s.earlier {
            Some(e) => Line::from(vec![
                Span::styled("earlier delivery: ", theme.dim()),
                Span::styled(
                    format!("event #{} at {}", e.event_id, format_ts(e.event_timestamp)),
                    theme.outcome(Outcome::Suppress),
                ),
            ]),
            None => Line::from(vec![
                Span::styled("earlier delivery: ", theme.dim()),
                Span::raw("none found"),
            ]),
        });
    }
    out.push(outcome);
    out
}

/// The user's decisions up to and including row `upto`, as the audit showed them then; at
/// most the last `max`.
pub fn audit(
    session: &Session,
    user: &str,
    upto: u32,
    max: usize,
    theme: Theme,
) -> Vec<Line<'static>> {
    let Some(rows) = session.by_user.get(user) else {
        return Vec::new();
    };
    let end = rows.partition_point(|&r| r <= upto);
    let start = end.saturating_sub(max);
    rows[start..end]
        .iter()
        .map(|&i| {
            let r = &session.rows[i as usize];
            let v = &r.verdict;
            let style = if i == upto {
                theme.selected()
            } else {
                ratatui::style::Style::new()
            };
            Line::from(vec![
                Span::raw(format!("#{:<5} {:<18} ", r.event_id, r.event_type)),
                Span::styled(
                    format!("{:<8}", v.outcome.as_str()),
                    theme.outcome(v.outcome),
                ),
                Span::raw(format!(" {}", v.matched_rule.as_deref().unwrap_or("-"))),
            ])
            .style(style)
        })
        .collect()
}

/// Lines as plain text, for output without a terminal UI.
pub fn plain(lines: &[Line<'_>]) -> String {
    let mut s = String::new();
    for line in lines {
        for span in &line.spans {
            s.push_str(&span.content);
        }
        s.push('\n');
    }
    s
}
