//! The help bar and overlay (both drawn from the key table), the find-user prompt and the
//! reload error popup.

use ratatui::Frame;
use ratatui::layout::{Constraint, Flex, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};

use crate::tui::app::{App, Mode};
use crate::tui::keys::KEYS;

pub fn bar(frame: &mut Frame<'_>, area: Rect, app: &App) {
    let t = app.theme;
    let line = if let Mode::FindUser { input, error } = &app.mode {
        let mut spans = vec![
            Span::styled(" find user: ", t.key()),
            Span::raw(format!("{input}▏")),
            Span::styled("  Enter jump  Esc cancel", t.dim()),
        ];
        if let Some(e) = error {
            spans.push(Span::styled(format!("  {e}"), t.error()));
        }
        Line::from(spans)
    } else {
        let mut spans = vec![Span::raw(" ")];
        for entry in KEYS.iter().filter_map(|b| b.bar) {
            let (keys, what) = entry.split_once(' ').unwrap_or((entry, ""));
            spans.push(Span::styled(keys, t.key()));
            spans.push(Span::raw(format!(" {what}  ")));
        }
        Line::from(spans)
    };
    frame.render_widget(Paragraph::new(line), area);
}

fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let [v] = Layout::vertical([Constraint::Length(height.min(area.height))])
        .flex(Flex::Center)
        .areas(area);
    let [h] = Layout::horizontal([Constraint::Length(width.min(area.width))])
        .flex(Flex::Center)
        .areas(v);
    h
}

pub fn overlay(frame: &mut Frame<'_>, area: Rect, app: &App) {
    let t = app.theme;
    let mut lines: Vec<Line<'static>> = KEYS
        .iter()
        .map(|b| {
            Line::from(vec![
                Span::styled(format!("  {:<8}", b.label), t.key()),
                Span::raw(b.help),
            ])
        })
        .collect();
    lines.push(Line::raw(""));
    lines.push(Line::styled("  Esc or ? closes this help", t.dim()));
    let rect = centered(
        area,
        60,
        u16::try_from(lines.len())
            .unwrap_or(u16::MAX)
            .saturating_add(2),
    );
    frame.render_widget(Clear, rect);
    frame.render_widget(
        Paragraph::new(lines).block(
            Block::new()
                .borders(Borders::ALL)
                .title(Line::styled(" Keys ", t.title())),
        ),
        rect,
    );
}

/// A load error over the main area: the last good results stay behind it.
pub fn error_popup(frame: &mut Frame<'_>, area: Rect, app: &App, err: &str) {
    let t = app.theme;
    let width = area.width.saturating_sub(2).max(20).min(area.width);
    let rect = Rect {
        x: area.x + 1,
        y: area.y + area.height.saturating_sub(6),
        width,
        height: 5.min(area.height),
    };
    frame.render_widget(Clear, rect);
    let keep = if app.session.is_some() {
        "the last good results stay on screen; save a fixed file to reload"
    } else {
        "fix the file and save it to load"
    };
    frame.render_widget(
        Paragraph::new(vec![
            Line::styled(err.to_string(), t.error()),
            Line::styled(keep, t.dim()),
        ])
        .wrap(Wrap { trim: false })
        .block(
            Block::new()
                .borders(Borders::ALL)
                .border_style(t.error())
                .title(Line::styled(" Reload failed ", t.error())),
        ),
        rect,
    );
}
