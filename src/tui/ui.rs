//! Rendering: the screen layout, and one small render function per pane over `&App`.

mod events;
mod header;
mod help;
mod panes;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::Line;
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
    let [rule_area, supp_area] =
        Layout::vertical([Constraint::Min(4), Constraint::Length(9)]).areas(right);
    let [messages_area, audit_area] =
        Layout::horizontal([Constraint::Percentage(52), Constraint::Percentage(48)]).areas(bottom);

    header::render(frame, head, app);
    events::render(frame, events_area, app);
    panes::rule_match(frame, rule_area, app);
    panes::suppression(frame, supp_area, app);
    panes::messages(frame, messages_area, app);
    panes::audit(frame, audit_area, app);
    help::bar(frame, bar, app);
    if let Some(err) = &app.error {
        help::error_popup(frame, main, app, err);
    }
    if app.mode == Mode::Help {
        help::overlay(frame, frame.area(), app);
    }
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
