//! The help bar and overlay (both drawn from the key table) and the one-line prompts.

use ratatui::Frame;
use ratatui::layout::{Constraint, Flex, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};

use super::wrapped_rows;
use crate::tui::app::{App, Ask, Mode, Zoom};
use crate::tui::keys::KEYS;

pub fn bar(frame: &mut Frame<'_>, area: Rect, app: &App) {
    let t = app.theme;
    let hint = |text: &str| Line::styled(format!(" {text}"), t.dim());
    let line = match &app.mode {
        Mode::Prompt { ask, input, error } => {
            let mut spans = vec![
                Span::styled(format!(" {}: ", ask.label()), t.key()),
                Span::raw(format!("{input}▏")),
                Span::styled("  Enter ok  Esc cancel", t.dim()),
            ];
            if *ask == Ask::WhyNot && error.is_none() {
                spans.push(Span::styled(
                    "  e.g. a template_name or a rule name",
                    t.dim(),
                ));
            }
            if let Some(e) = error {
                spans.push(Span::styled(format!("  {e}"), t.error()));
            }
            Line::from(spans)
        }
        Mode::Zoom { zoom, .. } => hint(match zoom {
            Zoom::Event => "j/k scroll  g/G top/bottom  Esc close",
            Zoom::Pane(_) => "j/k scroll  g/G top/bottom  Esc close",
        }),
        Mode::WhyNot { .. } => hint("j/k move  n next miss  Enter go to the event  Esc close"),
        Mode::LoadError { .. } => hint("j/k scroll  Esc close (the error stays in the header)"),
        Mode::Normal | Mode::Help => keys_bar(app, usize::from(area.width)),
    };
    frame.render_widget(Paragraph::new(line), area);
}

/// The key table's bar entries that fit in `width`, `? help` always last.
fn keys_bar(app: &App, width: usize) -> Line<'static> {
    let t = app.theme;
    let entry = |e: &'static str| {
        let (keys, what) = e.split_once(' ').unwrap_or((e, ""));
        [Span::styled(keys, t.key()), Span::raw(format!(" {what}  "))]
    };
    let (help, rest): (Vec<&'static str>, Vec<&'static str>) = KEYS
        .iter()
        .filter_map(|b| b.bar)
        .partition(|e| e.starts_with("? "));
    let tail: Vec<Span<'static>> = help.into_iter().flat_map(entry).collect();
    let tail_width: usize = tail.iter().map(Span::width).sum();
    let mut spans = vec![Span::raw(" ")];
    let mut used = 1 + tail_width;
    for e in rest {
        let pair = entry(e);
        let w: usize = pair.iter().map(Span::width).sum();
        if used + w > width {
            break;
        }
        used += w;
        spans.extend(pair);
    }
    spans.extend(tail);
    Line::from(spans)
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

/// Every key with its help, sized to its text (wrapped when the screen is narrower), plus
/// the mouse.
pub fn overlay(frame: &mut Frame<'_>, area: Rect, app: &App) {
    let t = app.theme;
    let label = KEYS
        .iter()
        .map(|b| b.label.chars().count())
        .max()
        .unwrap_or(0)
        + 4;
    let mut lines: Vec<Line<'static>> = KEYS
        .iter()
        .map(|b| {
            Line::from(vec![
                Span::styled(format!("  {:<w$}", b.label, w = label - 2), t.key()),
                Span::raw(b.help),
            ])
        })
        .collect();
    lines.push(Line::from(vec![
        Span::styled(format!("  {:<w$}", "mouse", w = label - 2), t.key()),
        Span::raw("click selects a row and focuses a pane; the wheel scrolls"),
    ]));
    lines.push(Line::raw(""));
    lines.push(Line::styled("  Esc or ? closes this help", t.dim()));
    let widest = lines.iter().map(Line::width).max().unwrap_or(0) + 3;
    let width = u16::try_from(widest).unwrap_or(u16::MAX).min(area.width);
    let rows = wrapped_rows(&lines, usize::from(width.saturating_sub(2)));
    let height = u16::try_from(rows).unwrap_or(u16::MAX).saturating_add(2);
    let rect = centered(area, width, height);
    frame.render_widget(Clear, rect);
    frame.render_widget(
        Paragraph::new(lines).wrap(Wrap { trim: false }).block(
            Block::new()
                .borders(Borders::ALL)
                .title(Line::styled(" Keys ", t.title())),
        ),
        rect,
    );
}
