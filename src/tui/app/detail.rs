//! The selected event's explanation: its expectations, the Rule match and Suppression panes
//! (re-decided from the scratch database when the selection moves), and the full-screen view
//! with the whole trace, reason, message and raw event.

use ratatui::text::Line;
use serde_json::{Map, Value, json};

use super::{App, Pane};
use crate::event::{Event, format_ts};
use crate::explain::{self, Line as Text, Span, Style};
use crate::tui::{content, explained};

/// The explanation panes' content for the selected row.
#[derive(Debug, Default)]
pub struct Detail {
    pub row: Option<u32>,
    /// The event's `expect`, key by key when one failed (empty without one).
    pub expectations: Vec<Line<'static>>,
    pub rule_match: Vec<Line<'static>>,
    pub suppression: Vec<Line<'static>>,
    /// The full-screen view, built when it is opened.
    pub full: Vec<Line<'static>>,
}

impl App {
    /// Rebuild the explanation panes for the selected row (re-decided from the scratch DB);
    /// a new row starts every pane at its top.
    pub fn refresh_detail(&mut self) {
        let row = self.selected();
        if row == self.detail.row && row.is_some() {
            return;
        }
        for p in [
            Pane::RuleMatch,
            Pane::Suppression,
            Pane::Messages,
            Pane::Audit,
        ] {
            self.scroll[p.index()].reset();
        }
        let theme = self.theme;
        let before = row.and_then(|r| self.baseline.as_ref()?.get(r));
        self.detail = match (row, self.session.as_mut()) {
            (Some(row), Some(s)) => {
                let Some(r) = s.row(row) else {
                    self.detail = Detail::default();
                    return;
                };
                let r = &*r;
                let file = shown_path(&s.scenario.path);
                let expectations = content::lines(
                    theme,
                    explain::expectations(&file, r, s.scenario.step(r.step as usize), false),
                );
                match explained::explain(s, row, before.as_deref().map(|b| &b.verdict)) {
                    Ok(Some(e)) => Detail {
                        row: Some(row),
                        expectations,
                        rule_match: content::lines(theme, e.rule_match),
                        suppression: content::lines(theme, e.suppression),
                        full: Vec::new(),
                    },
                    Ok(None) => Detail::default(),
                    Err(e) => Detail {
                        row: Some(row),
                        rule_match: vec![Line::styled(
                            format!("cannot explain: {e}"),
                            theme.error(),
                        )],
                        ..Detail::default()
                    },
                }
            }
            _ => Detail::default(),
        };
    }

    /// Build the full-screen view of the selected event.
    pub fn open_event(&mut self) {
        let Some(row) = self.selected() else { return };
        self.refresh_detail();
        let Some(s) = self.session.as_mut() else {
            return;
        };
        let Some(r) = s.row(row) else { return };
        let event = match s.explain(row) {
            Ok(found) => found.map(|(e, _)| e),
            Err(_) => None,
        };
        let message = s.message_line(row);
        let heading = |t: &str| Text::styled(t.to_string(), Style::Selected);
        let mut out = vec![Text::new(vec![
            Span::styled(format!("event #{}", r.event_id), Style::Winner),
            Span::plain(format!(
                "  {}  {}  {}",
                r.user_id,
                r.event_type,
                format_ts(r.event_timestamp)
            )),
            Span::styled(
                format!(
                    "  step {} · {}:{}",
                    r.step + 1,
                    shown_path(&s.scenario.path),
                    r.line
                ),
                Style::Dim,
            ),
        ])];
        let v = &r.verdict;
        out.push(Text::default());
        out.push(heading("decision"));
        out.push(Text::new(vec![
            Span::styled(format!("{} ", v.outcome), Style::Outcome(v.outcome)),
            Span::plain(format!(
                "{} · {} · {}",
                v.matched_rule.as_deref().unwrap_or("(no rule)"),
                v.reason_code,
                v.channel.map_or("-".to_string(), |c| c.to_string())
            )),
        ]));
        out.push(Text::styled(format!("reason: {}", v.reason), Style::Plain));
        if let Some(at) = v.deliver_at {
            out.push(Text::styled(
                format!("deliver_at: {}", format_ts(at)),
                Style::Plain,
            ));
        }
        if let Some(text) = &v.message_text {
            out.push(Text::styled(format!("message: {text}"), Style::Plain));
        }
        if let Some(line) = message {
            out.push(Text::styled(format!("messages.txt: {line}"), Style::Plain));
        }
        let file = shown_path(&s.scenario.path);
        let expectations = content::lines(
            self.theme,
            explain::expectations(&file, &r, s.scenario.step(r.step as usize), true),
        );
        let mut lines = content::lines(self.theme, out);
        let section = |title: &str, body: &[Line<'static>], lines: &mut Vec<Line<'static>>| {
            if body.is_empty() {
                return;
            }
            lines.push(Line::raw(""));
            lines.push(Line::styled(title.to_string(), self.theme.selected()));
            lines.extend(body.iter().cloned());
        };
        section("expectations", &expectations, &mut lines);
        section("rule match", &self.detail.rule_match, &mut lines);
        section(
            "suppression and guards",
            &self.detail.suppression,
            &mut lines,
        );
        if let Some(e) = event {
            let raw = serde_json::to_string_pretty(&event_json(&e)).unwrap_or_default();
            let raw: Vec<Line<'static>> = raw.lines().map(|l| Line::raw(l.to_string())).collect();
            section("event (as stored)", &raw, &mut lines);
        }
        self.detail.full = lines;
    }
}

/// `path` relative to the working directory when it is under it (as the user typed it).
pub fn shown_path(path: &std::path::Path) -> String {
    let cwd = std::env::current_dir().ok();
    cwd.as_deref()
        .and_then(|d| path.strip_prefix(d).ok())
        .unwrap_or(path)
        .display()
        .to_string()
}

/// An event as its JSON body would carry it.
fn event_json(e: &Event) -> Value {
    let mut m = Map::new();
    m.insert("user_id".into(), json!(e.user_id));
    m.insert("event_type".into(), json!(e.event_type));
    m.insert(
        "event_timestamp".into(),
        json!(format_ts(e.event_timestamp)),
    );
    m.insert("properties".into(), Value::Object(e.properties.clone()));
    if let Some(t) = &e.user_traits {
        m.insert("user_traits".into(), json!(t));
    }
    if let Some(k) = &e.idempotency_key {
        m.insert("idempotency_key".into(), json!(k));
    }
    Value::Object(m)
}
