//! How a decision was reached, as styled text for any front end: the Rule match, Suppression
//! and Audit panes of the TUI and the output of `workbench explain`.

mod expect;
mod text;
mod time;
pub mod why_not;

pub use expect::expectations;

pub use text::{Line, Span, Style, plain};
pub use time::{local_time, uses_user_time, when};

use crate::engine::{CondTrace, Decision, Outcome, Role, Verdict, Window, fmt_hours};
use crate::event::format_ts;
use crate::results::EventResult;
use crate::rules::{RuleSet, Suppression};

/// How far an earlier event lies from this one: `5h before`, or `2h after {this}` when its
/// timestamp is later (`h` is this event's time minus that one's, in hours).
pub fn hours_apart(h: f64, this: &str) -> String {
    if h < 0.0 {
        format!("{}h after {this}", fmt_hours(-h))
    } else {
        format!("{}h before", fmt_hours(h))
    }
}

fn mark(ok: bool) -> &'static str {
    if ok { "✓" } else { "✗" }
}

/// Every rule top-down: trigger hit or miss, each condition with what it saw, the winner and
/// the rules it shadowed.
pub fn rule_match(rules: &RuleSet, d: &Decision<'_>) -> Vec<Line> {
    let mut out = Vec::new();
    for rt in &d.trace.rules {
        let rule = &rules.rules[rt.rule];
        let at = rule
            .pos
            .map(|p| format!("  line {}", p.line))
            .unwrap_or_default();
        let (symbol, note, style) = match rt.role {
            Role::Disabled => ("·", "disabled".to_string(), Style::Dim),
            Role::TriggerMiss => ("✗", format!("≠ trigger {}", rule.trigger), Style::Dim),
            Role::NoMatch => ("✗", "conditions failed".to_string(), Style::Fail),
            Role::Winner => ("✓", "WINNER".to_string(), Style::Winner),
            Role::Shadowed => ("◐", "also matched (shadowed)".to_string(), Style::Shadowed),
        };
        out.push(Line::new(vec![
            Span::styled(format!("{symbol} {}", rt.name), style),
            Span::styled(format!("  {note}"), style),
            Span::styled(at, Style::Dim),
        ]));
        if matches!(rt.role, Role::Disabled | Role::TriggerMiss) {
            continue;
        }
        match &rt.condition {
            None => out.push(Line::styled(
                "    no conditions: always matches",
                Style::Dim,
            )),
            Some(c) => condition(c, 2, &mut out),
        }
    }
    out
}

fn condition(c: &CondTrace<'_>, depth: usize, out: &mut Vec<Line>) {
    let pad = "  ".repeat(depth);
    let style = if c.result() { Style::Pass } else { Style::Fail };
    let head = |text: String| {
        Line::new(vec![
            Span::plain(pad.clone()),
            Span::styled(format!("{} ", mark(c.result())), style),
            Span::plain(text),
        ])
    };
    match c {
        CondTrace::Field { test, actual, .. } => {
            let mut line = head(test.to_string());
            line.push(Span::styled(format!("  actual {actual}"), Style::Dim));
            out.push(line);
        }
        CondTrace::Prior {
            test,
            found,
            hours_between,
            ..
        } => {
            let seen = match (found, hours_between) {
                (Some(p), Some(h)) => format!(
                    "  event #{} at {}, {}",
                    p.event_id,
                    format_ts(p.event_timestamp),
                    hours_apart(*h, "this one")
                ),
                _ => "  none found".to_string(),
            };
            let mut line = head(test.to_string());
            line.push(Span::styled(seen, Style::Dim));
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
                condition(k, depth + 1, out);
            }
        }
        CondTrace::Not(kid, _) => {
            out.push(head("not".to_string()));
            condition(kid, depth + 1, out);
        }
    }
}

/// When a baseline is set and this decision differs from it: both, first in the pane.
pub fn baseline(before: Option<&Verdict>, now: &Verdict) -> Vec<Line> {
    let Some(before) = before.filter(|b| !b.same_decision(now)) else {
        return Vec::new();
    };
    let side = |label: &str, v: &Verdict| {
        Line::new(vec![
            Span::styled(format!("{label} "), Style::Changed),
            Span::styled(
                format!("{:<8}", v.outcome.as_str()),
                Style::Outcome(v.outcome),
            ),
            Span::plain(format!(
                " {} — {}",
                v.matched_rule.as_deref().unwrap_or("(no rule)"),
                v.reason
            )),
        ])
    };
    vec![
        side("Δ baseline", before),
        side("Δ now     ", now),
        Line::styled("", Style::Plain),
    ]
}

/// The winning rule's suppression: mode, key, window, the earlier delivery, the outcome.
pub fn suppression(row: &EventResult, d: &Decision<'_>) -> Vec<Line> {
    let v = &d.verdict;
    let outcome = Line::new(vec![
        Span::styled(format!("⇒ {}: ", v.outcome), Style::Outcome(v.outcome)),
        Span::plain(v.reason.clone()),
    ]);
    // The guards in SPEC §7.3's order: consent and holdout, the rule's own suppression,
    // caps, quiet hours; each passed (✓) or the one that stopped the send (✗).
    let guard = |name: &str, ok: bool, text: String| {
        let style = if ok { Style::Pass } else { Style::Fail };
        Line::new(vec![
            Span::styled(format!("{} {name} ", mark(ok)), style),
            Span::plain(text),
        ])
    };
    let mut out: Vec<Line> = d
        .trace
        .guards
        .iter()
        .map(|g| guard(g.name(), g.passed(), g.to_string()))
        .collect();
    let Some(s) = &d.trace.suppression else {
        if out.is_empty() {
            out.push(Line::styled(
                "no rule matched: nothing to suppress",
                Style::Dim,
            ));
        }
        out.push(outcome);
        return out;
    };
    out.push(Line::new(vec![
        Span::styled("mode ", Style::Dim),
        Span::plain(s.mode.to_string()),
        Span::styled("   key ", Style::Dim),
        Span::plain(format!("({}, {})", row.user_id, s.template)),
    ]));
    if s.mode == Suppression::None {
        out.push(Line::styled("never suppressed", Style::Dim));
    } else {
        let window = match s.window {
            Window::Calendar(w) if w.zone == crate::engine::Zone::UTC => w.to_string(),
            Window::Calendar(w) => match w.end {
                Some(end) => format!("{w}: {} – {}", format_ts(w.start), format_ts(end)),
                None => format!("{w}: from {}", format_ts(w.start)),
            },
            Window::Ever => "ever".to_string(),
        };
        out.push(Line::new(vec![
            Span::styled("window ", Style::Dim),
            Span::plain(window),
        ]));
        let earlier = match s.earlier {
            Some(e) => Span::styled(
                format!("event #{} at {}", e.event_id, format_ts(e.event_timestamp)),
                Style::Outcome(Outcome::Suppress),
            ),
            None => Span::plain("none found"),
        };
        out.push(Line::new(vec![
            Span::styled("earlier delivery: ", Style::Dim),
            earlier,
        ]));
    }
    out.extend(
        d.trace
            .caps
            .iter()
            .map(|c| guard("cap", !c.stopped(), c.to_string())),
    );
    // Guard 5: why the template does not render (the rendered text comes after the outcome,
    // which stays in view in a short pane).
    if v.reason_code == crate::engine::ReasonCode::SuppressedRenderError {
        let why = v.reason.split_once("; template ").map_or("", |(_, w)| w);
        out.push(guard("template", false, why.to_string()));
    }
    if let Some(z) = &d.trace.zone {
        let t = row.event_timestamp;
        out.push(Line::new(vec![
            Span::styled("zone ", Style::Dim),
            Span::plain(z.to_string()),
        ]));
        let local = t.with_timezone(&z.zone.tz());
        out.push(Line::new(vec![
            Span::styled("local ", Style::Dim),
            Span::plain(local.format("%Y-%m-%d %H:%M:%S %Z (%:z)").to_string()),
        ]));
    }
    if let Some(q) = &d.trace.quiet {
        let verdict = match (q.quiet, q.applies, q.deliver_at) {
            (true, true, Some(at)) => format!("held: deliver at {}", format_ts(at)),
            (true, true, None) => "dropped".to_string(),
            (true, false, _) => "inside, but not subject to them".to_string(),
            (false, _, _) => "outside".to_string(),
        };
        let style = if q.stopped() {
            Style::Outcome(v.outcome)
        } else {
            Style::Plain
        };
        out.push(Line::new(vec![
            Span::styled("quiet hours ", Style::Dim),
            Span::plain(format!("{} ({})  ", q.hours, q.hours.mode)),
            Span::styled(verdict, style),
        ]));
    }
    out.push(outcome);
    if let Some(text) = &v.message_text {
        out.push(Line::new(vec![
            Span::styled("message ", Style::Dim),
            Span::plain(text.clone()),
        ]));
    }
    out
}

/// A user's decisions (`user_rows`, row numbers in order, each looked up with `result`) up to
/// and including row `upto`, as the audit showed them then; at most the last `max`, `upto`
/// selected.
pub fn audit<R: std::borrow::Borrow<EventResult>>(
    result: impl Fn(u32) -> Option<R>,
    user_rows: &[u32],
    upto: u32,
    max: usize,
) -> Vec<Line> {
    let end = user_rows.partition_point(|&r| r <= upto);
    let start = end.saturating_sub(max);
    user_rows[start..end]
        .iter()
        .filter_map(|&i| Some((i, result(i)?)))
        .map(|(i, r)| {
            let r = r.borrow();
            let v = &r.verdict;
            let style = if i == upto {
                Style::Selected
            } else {
                Style::Plain
            };
            Line::new(vec![
                Span::plain(format!("#{:<5} {:<18} ", r.event_id, r.event_type)),
                Span::styled(
                    format!("{:<8}", v.outcome.as_str()),
                    Style::Outcome(v.outcome),
                ),
                Span::plain(format!(" {}", v.matched_rule.as_deref().unwrap_or("-"))),
            ])
            .with_style(style)
        })
        .collect()
}

#[cfg(test)]
mod tests;
