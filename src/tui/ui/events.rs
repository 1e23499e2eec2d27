//! The Events pane: one row per listed event; only the visible rows are built.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::{block, inner};
use crate::event::format_ts;
use crate::tui::app::{App, Pane};

fn fit(s: &str, width: usize) -> String {
    if s.chars().count() <= width {
        format!("{s:<width$}")
    } else {
        let cut: String = s.chars().take(width.saturating_sub(1)).collect();
        format!("{cut}…")
    }
}

pub fn render(frame: &mut Frame<'_>, area: Rect, app: &App) {
    let t = app.theme;
    let subtitle = (!app.view.is_empty()).then(|| format!("{}/{}", app.cursor + 1, app.view.len()));
    frame.render_widget(block(app, Pane::Events, subtitle), area);
    let body = inner(area);
    let Some(s) = &app.session else {
        let msg = if app.progress.is_some() {
            "running the scenario…"
        } else {
            "nothing loaded"
        };
        frame.render_widget(Paragraph::new(Line::styled(msg, t.dim())), body);
        return;
    };
    let height = body.height.saturating_sub(1) as usize;
    app.events_height.set(height.max(1));
    // Keep the cursor visible, moving the window as little as possible.
    let mut offset = app
        .events_offset
        .get()
        .min(app.view.len().saturating_sub(1));
    if app.cursor < offset {
        offset = app.cursor;
    } else if height > 0 && app.cursor >= offset + height {
        offset = app.cursor + 1 - height;
    }
    app.events_offset.set(offset);

    let digits = s.rows.len().to_string().len().max(1);
    // Narrow panes put the outcome first and shorten the time, so it is never cut off.
    let compact = (body.width as usize) < 58 + digits;
    let header = if compact {
        format!(
            "  {:>digits$}     {:<8}  {:<8}  {:<11}  type",
            "#", "outcome", "user", "time (UTC)"
        )
    } else {
        format!(
            "  {:>digits$}     {:<20}  {:<8}  {:<11}  {:<8}  rule",
            "#", "event_timestamp", "user", "type", "outcome"
        )
    };
    let mut lines = vec![Line::styled(header, t.dim())];
    for (pos, &row) in app.view.iter().enumerate().skip(offset).take(height) {
        let r = &s.rows[row as usize];
        let v = &r.verdict;
        let check = match r.passed() {
            Some(true) => Span::styled("✓", t.pass()),
            Some(false) => Span::styled("✗", t.fail()),
            None => Span::raw(" "),
        };
        let delta = if app.is_changed(row) {
            Span::styled("Δ", t.changed())
        } else {
            Span::raw(" ")
        };
        let cursor = pos == app.cursor;
        let outcome = Span::styled(format!("{:<8}", v.outcome.as_str()), t.outcome(v.outcome));
        let mut spans = vec![
            Span::raw(format!(
                "{}{:>digits$} ",
                if cursor { "▶ " } else { "  " },
                r.step + 1
            )),
            check,
            delta,
            Span::raw("  "),
        ];
        if compact {
            spans.extend([
                outcome,
                Span::raw(format!(
                    "  {}  {}  {}",
                    fit(&r.user_id, 8),
                    r.event_timestamp.format("%m-%d %H:%M"),
                    r.event_type
                )),
            ]);
        } else {
            spans.extend([
                Span::raw(format!(
                    "{:<20}  {}  {}  ",
                    format_ts(r.event_timestamp),
                    fit(&r.user_id, 8),
                    fit(&r.event_type, 11),
                )),
                outcome,
                Span::raw(format!("  {}", v.matched_rule.as_deref().unwrap_or("-"))),
            ]);
        }
        let mut line = Line::from(spans);
        if cursor {
            line = line.style(t.selected());
        }
        lines.push(line);
    }
    if app.view.is_empty() {
        lines.push(Line::styled("no events match the filter", t.dim()));
    }
    frame.render_widget(Paragraph::new(lines), body);
}
