//! The explanation panes: Rule match (the event's expectations first), Suppression and Audit
//! for the selected event, wrapped to the pane and scrolled within their content.

use crate::explain;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::{Paragraph, Wrap};

use super::{block, inner, side_hint, wrapped_rows};
use crate::tui::app::{App, Pane};
use crate::tui::content;

fn selected_event(app: &App) -> Option<String> {
    let s = app.session.as_ref()?;
    let row = app.selected()?;
    Some(format!("event #{}", s.row(row)?.event_id))
}

/// `lines` wrapped in `area` under the pane's frame, from the pane's scroll offset.
fn wrapped(
    frame: &mut Frame<'_>,
    area: Rect,
    app: &App,
    pane: Pane,
    lines: Vec<Line<'static>>,
    subtitle: Option<String>,
) {
    let body = inner(area);
    let rows = wrapped_rows(&lines, usize::from(body.width));
    let (y, _) = app.scroll[pane.index()].fit(rows, body.height, 0, body.width);
    frame.render_widget(
        Paragraph::new(lines)
            .block(block(app, pane, subtitle))
            .wrap(Wrap { trim: false })
            .scroll((y, 0)),
        area,
    );
}

pub fn rule_match(frame: &mut Frame<'_>, area: Rect, app: &App) {
    let mut lines = app.detail.expectations.clone();
    if !lines.is_empty() {
        lines.push(Line::raw(""));
    }
    lines.extend(app.detail.rule_match.iter().cloned());
    wrapped(
        frame,
        area,
        app,
        Pane::RuleMatch,
        lines,
        selected_event(app),
    );
}

pub fn suppression(frame: &mut Frame<'_>, area: Rect, app: &App) {
    wrapped(
        frame,
        area,
        app,
        Pane::Suppression,
        app.detail.suppression.clone(),
        None,
    );
}

/// The selected user's decisions up to the cursor, as the audit showed them then: one row
/// each, the latest at the bottom, scrolling up to earlier ones and sideways.
pub fn audit(frame: &mut Frame<'_>, area: Rect, app: &App) {
    let (Some(s), Some(row)) = (&app.session, app.selected()) else {
        frame.render_widget(block(app, Pane::Audit, None), area);
        return;
    };
    let Some(r) = s.row(row) else {
        frame.render_widget(block(app, Pane::Audit, None), area);
        return;
    };
    let subtitle = format!("{} as of event #{}", r.user_id, r.event_id);
    let body = inner(area);
    let scroll = &app.scroll[Pane::Audit.index()];
    let user_rows = s.by_user.get(&r.user_id).map_or(&[][..], Vec::as_slice);
    let total = user_rows.partition_point(|&x| x <= row);
    let height = usize::from(body.height);
    let up = usize::from(scroll.y).min(total.saturating_sub(height));
    let audit = explain::audit(|i| s.row(i), user_rows, row, height + up);
    let mut lines = content::lines(app.theme, audit);
    lines.truncate(lines.len().saturating_sub(up));
    let widest = lines.iter().map(Line::width).max().unwrap_or(0);
    let (_, x) = scroll.fit(total.max(height), body.height, widest, body.width);
    frame.render_widget(
        Paragraph::new(lines)
            .block(block(app, Pane::Audit, Some(subtitle)))
            .scroll((0, x)),
        area,
    );
    side_hint(frame, app, body, x, widest);
}
