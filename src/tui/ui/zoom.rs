//! The full-screen views: the selected event in full (expectations, the whole trace, the
//! reason, the message and the raw event), and why-not over the user's history.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};

use super::{inner, wrapped_rows};
use crate::tui::app::App;
use crate::tui::content;
use crate::tui::scroll::Scroll;
use crate::why_not::WhyNot;

fn frame_block(app: &App, title: String) -> Block<'static> {
    Block::new()
        .borders(Borders::ALL)
        .border_style(app.theme.focused_border())
        .title(Line::styled(title, app.theme.title()))
}

pub fn event(frame: &mut Frame<'_>, area: Rect, app: &App, scroll: &Scroll) {
    let body = inner(area);
    let lines = app.detail.full.clone();
    let rows = wrapped_rows(&lines, usize::from(body.width));
    let (y, _) = scroll.fit(rows, body.height, 0, body.width);
    let title = match app.detail.row.and_then(|r| app.session.as_ref()?.row(r)) {
        Some(r) => format!(" Event #{} in full ", r.event_id),
        None => " Event ".to_string(),
    };
    frame.render_widget(
        Paragraph::new(lines)
            .block(frame_block(app, title))
            .wrap(Wrap { trim: false })
            .scroll((y, 0)),
        area,
    );
}

pub fn why_not(frame: &mut Frame<'_>, area: Rect, app: &App, answer: &WhyNot, cursor: usize) {
    let body = inner(area);
    let title = format!(" Why not {} ── {} ", answer.target.label, answer.user);
    frame.render_widget(frame_block(app, title), area);
    let Some(s) = &app.session else { return };
    let width = usize::from(body.width);
    let mut lines = content::lines(app.theme, vec![answer.summary()]);
    lines.push(Line::raw(""));
    let room = usize::from(body.height).saturating_sub(wrapped_rows(&lines, width));
    app.events_height.set(room.max(1));
    let entry = |i: usize| {
        let (row, a, why) = &answer.rows[i];
        let line = s
            .row(*row)
            .map(|r| crate::explain::why_not::line(&r, *a, why));
        let mut l = content::lines(app.theme, line.into_iter().collect())
            .pop()
            .unwrap_or_default();
        if i == cursor {
            l = l.style(app.theme.selected_row());
        }
        l
    };
    // The cursor's entry and as many before it as fit (the entries wrap).
    let cursor = cursor.min(answer.rows.len().saturating_sub(1));
    let mut first = cursor;
    let mut used = wrapped_rows(&[entry(cursor)], width);
    while first > 0 {
        let rows = wrapped_rows(&[entry(first - 1)], width);
        if used + rows > room {
            break;
        }
        used += rows;
        first -= 1;
    }
    lines.extend((first..answer.rows.len()).take(room).map(entry));
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), body);
}
