//! Rendering: the screen layout, and one small render function per pane over `&App`.

mod events;
mod header;
mod help;
mod messages;
mod panes;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders};
use std::fmt::Write as _;

use super::app::{App, Mode, Pane};

pub fn render(frame: &mut Frame<'_>, app: &App) {
    let [head, main, bottom, bar] = Layout::vertical([
        Constraint::Length(2),
        Constraint::Min(6),
        Constraint::Percentage(28),
        Constraint::Length(1),
    ])
    .areas(frame.area());
    let [events_area, right] =
        Layout::horizontal([Constraint::Percentage(56), Constraint::Percentage(44)]).areas(main);
    let [rule_area, supp_area] = Layout::vertical([
        Constraint::Min(4),
        Constraint::Length(suppression_height(app, right)),
    ])
    .areas(right);
    let [messages_area, audit_area] =
        Layout::horizontal([Constraint::Percentage(52), Constraint::Percentage(48)]).areas(bottom);

    header::render(frame, head, app);
    events::render(frame, events_area, app);
    panes::rule_match(frame, rule_area, app);
    panes::suppression(frame, supp_area, app);
    messages::render(frame, messages_area, app);
    panes::audit(frame, audit_area, app);
    help::bar(frame, bar, app);
    if let Some(err) = &app.error {
        help::error_popup(frame, main, app, err);
    }
    if app.mode == Mode::Help {
        help::overlay(frame, frame.area(), app);
    }
}

/// The Suppression pane is 9 rows high, more when its wrapped lines need them (the zone,
/// quiet hours, a long window), while Rule match keeps its lines or half the height.
fn suppression_height(app: &App, right: Rect) -> u16 {
    const MIN: u16 = 9;
    let rows = |lines: &[Line<'_>]| {
        let n = wrapped_rows(lines, usize::from(inner(right).width));
        u16::try_from(n).unwrap_or(u16::MAX).saturating_add(2)
    };
    let rule_match = rows(&app.detail.rule_match).min(right.height / 2);
    rows(&app.detail.suppression).clamp(MIN, right.height.saturating_sub(rule_match).max(MIN))
}

/// Rows `lines` take when wrapped at spaces to `width`, as `Wrap { trim: false }` does (close
/// enough to size a pane by).
fn wrapped_rows(lines: &[Line<'_>], width: usize) -> usize {
    if width == 0 {
        return lines.len();
    }
    lines
        .iter()
        .map(|l| {
            let text: String = l.spans.iter().map(|s| s.content.as_ref()).collect();
            let (mut rows, mut col) = (1, 0);
            for word in text.split_inclusive(' ') {
                let w = Span::raw(word.trim_end_matches(' ')).width();
                if col > 0 && col + w > width {
                    rows += 1;
                    col = 0;
                }
                col += Span::raw(word).width();
                while col > width {
                    rows += 1;
                    col -= width;
                }
            }
            rows
        })
        .sum()
}

/// A pane's frame: its title (and subtitle), highlighted when focused.
fn block(app: &App, pane: Pane, subtitle: Option<String>) -> Block<'static> {
    let mut title = format!(" {} ", pane.title());
    if let Some(s) = subtitle {
        let _ = write!(title, "── {s} ");
    }
    let border = if app.focus == pane {
        app.theme.focused_border()
    } else {
        Style::new()
    };
    Block::new()
        .borders(Borders::ALL)
        .border_style(border)
        .title(Line::styled(title, app.theme.title()))
}

/// The area inside a block's borders.
fn inner(area: Rect) -> Rect {
    Block::new().borders(Borders::ALL).inner(area)
}
