//! The full-screen views: the selected event in full (expectations, the whole trace, the
//! reason, the message and the raw event), and why-not over the user's history.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};

use super::{inner, wrapped_rows};
use crate::tui::app::App;
use crate::tui::content;
use crate::tui::scroll::{self, Scroll};
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
    let title = match app
        .detail
        .row
        .and_then(|r| app.session.as_ref().map(|s| &s.rows[r as usize]))
    {
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

pub fn why_not(
    frame: &mut Frame<'_>,
    area: Rect,
    app: &App,
    answer: &WhyNot,
    cursor: usize,
    scroll: &Scroll,
) {
    let body = inner(area);
    let title = format!(" Why not {} ── {} ", answer.target.label, answer.user);
    frame.render_widget(frame_block(app, title), area);
    let Some(s) = &app.session else { return };
    let height = usize::from(body.height.saturating_sub(2));
    app.events_height.set(height.max(1));
    let offset = scroll::window(0, cursor, answer.rows.len(), height);
    let mut head = content::lines(app.theme, vec![answer.summary()]);
    head.push(Line::raw(""));
    let shown: Vec<Line<'static>> = answer
        .rows
        .iter()
        .enumerate()
        .skip(offset)
        .take(height)
        .map(|(i, (row, a, why))| {
            let line = crate::explain::why_not::line(&s.rows[*row as usize], *a, why);
            let mut l = content::lines(app.theme, vec![line]).remove(0);
            if i == cursor {
                l = l.style(app.theme.selected_row());
            }
            l
        })
        .collect();
    let widest = shown.iter().map(Line::width).max().unwrap_or(0);
    let (_, x) = scroll.fit(0, 0, widest, body.width);
    head.extend(shown);
    frame.render_widget(Paragraph::new(head).scroll((0, x)), body);
}
