//! The messages.txt pane: the lines written by the selected event's step, in the order they
//! were written, then the sends quiet hours still hold (dim), then the selected event's own
//! line when it is held or delivered nothing.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::Paragraph;

use super::{block, inner, side_hint};
use crate::session::Session;
use crate::tui::app::{App, Pane};

/// How many of the `held` lines (and of `written`, the rest) fit in `room` rows: the written
/// lines get at least half when there are that many.
fn split(room: usize, written: usize, held: usize) -> usize {
    held.min(room.saturating_sub(written).max(room - room / 2))
}

fn held_line(s: &Session, row: u32) -> Option<String> {
    s.message_line(row).map(|l| format!("scheduled for {l}"))
}

pub fn render(frame: &mut Frame<'_>, area: Rect, app: &App) {
    let t = app.theme;
    let (Some(s), Some(row)) = (&app.session, app.selected()) else {
        frame.render_widget(block(app, Pane::Messages, None), area);
        return;
    };
    // Row `i` is step `i`.
    let written = app.messages.written_by(row);
    let mut held = app.messages.held_at(row);
    let subtitle = (!held.is_empty()).then(|| format!("{} scheduled", held.len()));
    frame.render_widget(block(app, Pane::Messages, subtitle), area);

    let own_written = written.last() == Some(&row);
    let own_held = held.iter().position(|&r| r == row).map(|i| held.remove(i));
    let own = match own_held {
        Some(r) => held_line(s, r).map(|l| Line::styled(l, t.dim().patch(t.selected_row()))),
        None if own_written => None,
        None => s.row(row).map(|r| {
            Line::styled(
                format!("(event #{} delivered nothing)", r.event_id),
                t.dim(),
            )
        }),
    };
    let body = inner(area);
    let room = (body.height as usize).saturating_sub(usize::from(own.is_some()));
    let scroll = &app.scroll[Pane::Messages.index()];
    // Scrolled up from the latest line; sideways for long lines.
    let up = usize::from(
        scroll
            .y
            .min(u16::try_from(written.len().saturating_sub(room)).unwrap_or(u16::MAX)),
    );
    let end = written.len().saturating_sub(up);
    let held_room = split(room, end, held.len());
    let start = end.saturating_sub(room - held_room);

    let mut lines: Vec<Line<'static>> = written[start..end]
        .iter()
        .filter_map(|&r| {
            let line = s.message_line(r)?;
            Some(if r == row {
                Line::styled(line, t.selected_row())
            } else {
                Line::raw(line)
            })
        })
        .collect();
    let cut = held.len() > held_room;
    let shown = if cut {
        held_room.saturating_sub(1)
    } else {
        held_room
    };
    lines.extend(
        held[..shown]
            .iter()
            .filter_map(|&r| held_line(s, r))
            .map(|l| Line::styled(l, t.dim())),
    );
    if cut && held_room > 0 {
        lines.push(Line::styled(
            format!("… and {} more scheduled", held.len() - shown),
            t.dim(),
        ));
    }
    lines.extend(own);
    let widest = lines.iter().map(Line::width).max().unwrap_or(0);
    let (_, x) = scroll.fit(
        written.len().max(room),
        u16::try_from(room).unwrap_or(u16::MAX),
        widest,
        body.width,
    );
    frame.render_widget(Paragraph::new(lines).scroll((0, x)), body);
    side_hint(frame, app, body, x, widest);
}
