//! The explanation panes: Rule match, Suppression and Audit for the selected event.

use crate::explain;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::widgets::{Paragraph, Wrap};

use super::{block, inner};
use crate::tui::app::{App, Pane};
use crate::tui::content;

fn selected_event(app: &App) -> Option<String> {
    let s = app.session.as_ref()?;
    let row = app.selected()?;
    Some(format!("event #{}", s.rows[row as usize].event_id))
}

pub fn rule_match(frame: &mut Frame<'_>, area: Rect, app: &App) {
    let lines = app.detail.rule_match.clone();
    let scroll = app.scroll[Pane::RuleMatch.index()];
    frame.render_widget(
        Paragraph::new(lines)
            .block(block(app, Pane::RuleMatch, selected_event(app)))
            .scroll((scroll, 0)),
        area,
    );
}

pub fn suppression(frame: &mut Frame<'_>, area: Rect, app: &App) {
    let lines = app.detail.suppression.clone();
    let scroll = app.scroll[Pane::Suppression.index()];
    frame.render_widget(
        Paragraph::new(lines)
            .block(block(app, Pane::Suppression, None))
            .wrap(Wrap { trim: false })
            .scroll((scroll, 0)),
        area,
    );
}

/// The selected user's decisions up to the cursor, as the audit showed them then.
pub fn audit(frame: &mut Frame<'_>, area: Rect, app: &App) {
    let (Some(s), Some(row)) = (&app.session, app.selected()) else {
        frame.render_widget(block(app, Pane::Audit, None), area);
        return;
    };
    let r = &s.rows[row as usize];
    let subtitle = format!("{} as of event #{}", r.user_id, r.event_id);
    let height = inner(area).height as usize;
    let scroll = app.scroll[Pane::Audit.index()] as usize;
    let user_rows = s.by_user.get(&r.user_id).map_or(&[][..], Vec::as_slice);
    let audit = explain::audit(&s.rows, user_rows, row, height + scroll);
    let mut lines = content::lines(app.theme, audit);
    lines.truncate(lines.len().saturating_sub(scroll));
    frame.render_widget(
        Paragraph::new(lines).block(block(app, Pane::Audit, Some(subtitle))),
        area,
    );
}
