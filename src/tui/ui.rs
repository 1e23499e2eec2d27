//! Rendering: the screen layout (side by side, or tabs below a size), one small render
//! function per pane over `&App`, and the views over them (detail, why-not, prompts, help).

mod events;
mod header;
mod help;
mod messages;
mod panes;
mod popup;
mod zoom;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};
use std::fmt::Write as _;

use super::app::{App, Areas, Mode, Pane, Zoom};
use super::columns::Columns;

/// Below this width or height the explanation panes become tabs under the events.
pub const COMPACT_WIDTH: u16 = 100;
pub const COMPACT_HEIGHT: u16 = 28;

pub fn render(frame: &mut Frame<'_>, app: &App) {
    let area = frame.area();
    let [head, main, bar] = Layout::vertical([
        Constraint::Length(2),
        Constraint::Min(3),
        Constraint::Length(1),
    ])
    .areas(area);
    header::render(frame, head, app);
    help::bar(frame, bar, app);
    match &app.mode {
        Mode::Zoom {
            zoom: Zoom::Event,
            scroll,
        } => zoom::event(frame, main, app, scroll),
        Mode::Zoom {
            zoom: Zoom::Pane(p),
            ..
        } => pane(frame, main, app, *p),
        Mode::WhyNot { answer, cursor } => zoom::why_not(frame, main, app, answer, *cursor),
        _ => {
            let mut areas = Areas::default();
            if area.width < COMPACT_WIDTH || area.height < COMPACT_HEIGHT {
                compact(frame, main, app, &mut areas);
            } else {
                wide(frame, main, app, &mut areas);
            }
            app.areas.set(areas);
        }
    }
    match &app.mode {
        Mode::Help => help::overlay(frame, area, app),
        Mode::LoadError { scroll } => {
            if let Some(err) = &app.error {
                popup::load_error(frame, main, app, err, scroll);
            }
        }
        _ => {}
    }
}

/// The five panes side by side: events and the explanation on top, messages and audit below.
fn wide(frame: &mut Frame<'_>, main: Rect, app: &App, areas: &mut Areas) {
    let [top, bottom] =
        Layout::vertical([Constraint::Min(6), Constraint::Percentage(28)]).areas(main);
    // The events get the width their columns need, between 45% and 60% of the screen.
    let digits = app
        .session
        .as_ref()
        .map_or(1, |s| s.rows.len().to_string().len());
    let need = Columns::plan(usize::MAX, digits, app.widths, []).total() + 2;
    let width = usize::from(top.width);
    let events_width = need.clamp(width * 45 / 100, width * 60 / 100);
    let [events_area, right] = Layout::horizontal([
        Constraint::Length(u16::try_from(events_width).unwrap_or(u16::MAX)),
        Constraint::Min(20),
    ])
    .areas(top);
    let [rule_area, supp_area] = Layout::vertical([
        Constraint::Min(4),
        Constraint::Length(suppression_height(app, right)),
    ])
    .areas(right);
    let [messages_area, audit_area] =
        Layout::horizontal([Constraint::Percentage(52), Constraint::Percentage(48)]).areas(bottom);
    for (p, r) in [
        (Pane::Events, events_area),
        (Pane::RuleMatch, rule_area),
        (Pane::Suppression, supp_area),
        (Pane::Messages, messages_area),
        (Pane::Audit, audit_area),
    ] {
        areas.panes[p.index()] = r;
        pane(frame, r, app, p);
    }
    areas.events_top = events_area.y + 2;
}

/// Small terminals: the events on top, then one explanation pane at a time under tabs.
fn compact(frame: &mut Frame<'_>, main: Rect, app: &App, areas: &mut Areas) {
    let [events_area, tabs, below] = Layout::vertical([
        Constraint::Percentage(42),
        Constraint::Length(1),
        Constraint::Min(3),
    ])
    .areas(main);
    pane(frame, events_area, app, Pane::Events);
    areas.panes[Pane::Events.index()] = events_area;
    areas.events_top = events_area.y + 2;
    let mut spans = vec![Span::raw(" ")];
    for p in &Pane::ALL[1..] {
        let style = if *p == app.tab {
            app.theme.title().patch(app.theme.focused_border())
        } else {
            app.theme.dim()
        };
        spans.push(Span::styled(format!(" {} ", p.title()), style));
        spans.push(Span::styled("│", app.theme.dim()));
    }
    spans.push(Span::styled("  Tab switches", app.theme.dim()));
    frame.render_widget(Paragraph::new(Line::from(spans)), tabs);
    areas.panes[app.tab.index()] = below;
    pane(frame, below, app, app.tab);
}

fn pane(frame: &mut Frame<'_>, area: Rect, app: &App, p: Pane) {
    match p {
        Pane::Events => events::render(frame, area, app),
        Pane::RuleMatch => panes::rule_match(frame, area, app),
        Pane::Suppression => panes::suppression(frame, area, app),
        Pane::Messages => messages::render(frame, area, app),
        Pane::Audit => panes::audit(frame, area, app),
    }
}

/// The Suppression pane is 9 rows high, more when its wrapped lines need them (the zone,
/// quiet hours, a long window), while Rule match keeps its lines or half the height.
fn suppression_height(app: &App, right: Rect) -> u16 {
    const MIN: u16 = 9;
    let width = usize::from(inner(right).width);
    let rows = |lines: &[Line<'_>]| {
        let n = wrapped_rows(lines, width);
        u16::try_from(n).unwrap_or(u16::MAX).saturating_add(2)
    };
    let rule_match = rows(&app.detail.rule_match)
        .saturating_add(rows(&app.detail.expectations))
        .min(right.height / 2);
    rows(&app.detail.suppression).clamp(MIN, right.height.saturating_sub(rule_match).max(MIN))
}

/// Rows `lines` take when wrapped at spaces to `width`, as `Wrap { trim: false }` does (close
/// enough to size a pane and its scrolling by).
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

/// Where more columns are, over the right end of `body`'s first row: `← h`, `l →` or both.
fn side_hint(frame: &mut Frame<'_>, app: &App, body: Rect, x: u16, widest: usize) {
    let more = usize::from(x) + usize::from(body.width) < widest;
    let hint = match (x > 0, more) {
        (true, true) => "← h  l →",
        (true, false) => "← h",
        (false, true) => "l →",
        (false, false) => return,
    };
    let w = u16::try_from(hint.chars().count())
        .unwrap_or(0)
        .min(body.width);
    let spot = Rect {
        x: body.right().saturating_sub(w),
        y: body.y.saturating_sub(1),
        width: w,
        height: 1.min(body.height),
    };
    frame.render_widget(Paragraph::new(Line::styled(hint, app.theme.key())), spot);
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
