//! The Events pane: one row per listed event, columns sized by `columns`, scrolled sideways
//! when they are wider than the pane; only the visible rows are built.

use std::fmt::Write as _;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::{block, inner, side_hint};
use crate::tui::app::{App, Pane};
use crate::tui::columns::{Columns, OUTCOME, TimeFormat, fit};
use crate::tui::scroll;

pub fn render(frame: &mut Frame<'_>, area: Rect, app: &App) {
    let t = app.theme;
    let body = inner(area);
    let Some(s) = &app.session else {
        frame.render_widget(block(app, Pane::Events, None), area);
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
    let offset = scroll::window(app.events_offset.get(), app.cursor, app.view.len(), height);
    app.events_offset.set(offset);
    let shown: Vec<_> = app.view[offset..(offset + height).min(app.view.len())]
        .iter()
        .filter_map(|&row| Some((row, s.row(row)?)))
        .collect();

    let digits = s.rows.len().to_string().len();
    let cols = Columns::plan(
        body.width as usize,
        digits,
        app.widths,
        shown.iter().map(|(_, r)| r.event_timestamp),
    );
    let mut subtitle =
        (!app.view.is_empty()).then(|| format!("{}/{}", app.cursor + 1, app.view.len()));
    if let (TimeFormat::TimeOfDay(day), Some(sub)) = (cols.time, subtitle.as_mut()) {
        let _ = write!(sub, " ── {day} (UTC)");
    }
    frame.render_widget(block(app, Pane::Events, subtitle), area);

    // The number and marks stay put; the rest scrolls sideways.
    let lead = u16::try_from(cols.lead())
        .unwrap_or(u16::MAX)
        .min(body.width);
    let [lead_area, rest_area] =
        Layout::horizontal([Constraint::Length(lead), Constraint::Min(0)]).areas(body);
    let rest_width = cols.total() - cols.lead();
    let (_, x) = app.scroll[Pane::Events.index()].fit(0, 0, rest_width, rest_area.width);
    let header = cols.header();
    let (head_lead, head_rest) = header.split_at(cols.lead().min(header.len()));
    let mut leads = vec![Line::styled(head_lead.to_string(), t.dim())];
    let mut rests = vec![Line::styled(head_rest.to_string(), t.dim())];
    for (i, (row, r)) in shown.iter().enumerate() {
        let row = *row;
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
        let cursor = offset + i == app.cursor;
        let outcome = format!("{} {}", t.symbol(v.outcome), v.outcome.as_str());
        let mut head = Line::from(vec![
            Span::raw(format!(
                "{}{:>d$} ",
                if cursor { "▶ " } else { "  " },
                r.step + 1,
                d = cols.digits
            )),
            check,
            delta,
            Span::raw("  "),
        ]);
        let mut rest = Line::from(vec![
            Span::raw(format!(
                "{:<tw$}  {}  {:<kw$}  ",
                cols.time.format(r.event_timestamp),
                fit(&r.user_id, cols.user),
                &*r.event_type,
                tw = cols.time.width(),
                kw = cols.kind,
            )),
            Span::styled(format!("{outcome:<OUTCOME$}"), t.outcome(v.outcome)),
            Span::raw(format!("  {}", v.matched_rule.as_deref().unwrap_or("-"))),
        ]);
        if cursor {
            head = head.style(t.selected_row());
            rest = rest.style(t.selected_row());
        }
        leads.push(head);
        rests.push(rest);
    }
    if app.view.is_empty() {
        rests.push(Line::styled("no events match the filter", t.dim()));
    }
    frame.render_widget(Paragraph::new(leads), lead_area);
    frame.render_widget(Paragraph::new(rests).scroll((0, x)), rest_area);
    side_hint(
        frame,
        app,
        Rect {
            y: rest_area.y + 1,
            ..rest_area
        },
        x,
        rest_width,
    );
}
