//! The reload error in full over the last good results: the whole message, its
//! `file:line:column`, and the offending source line with a caret under the column.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};

use super::wrapped_rows;
use crate::tui::app::{App, LoadError};
use crate::tui::scroll::Scroll;

pub fn load_error(frame: &mut Frame<'_>, area: Rect, app: &App, err: &LoadError, scroll: &Scroll) {
    let t = app.theme;
    let mut lines: Vec<Line<'static>> = err
        .message
        .lines()
        .map(|l| Line::styled(l.to_string(), t.error()))
        .collect();
    if let Some(file) = &err.file {
        lines.push(Line::raw(""));
        lines.push(Line::styled(
            format!("at {}:{}:{}", file.display(), err.line, err.column),
            t.key(),
        ));
        if let Some(src) = &err.source {
            let gutter = format!("{:>5} │ ", err.line);
            lines.push(Line::from(vec![
                Span::styled(gutter.clone(), t.dim()),
                Span::raw(src.replace('\t', " ")),
            ]));
            let pad = " ".repeat(err.column.saturating_sub(1));
            lines.push(Line::from(vec![
                Span::styled(format!("{:>5} │ ", ""), t.dim()),
                Span::styled(format!("{pad}^"), t.error()),
            ]));
        }
    }
    lines.push(Line::raw(""));
    let keep = if app.session.is_some() {
        "the last good results stay on screen; save a fixed file to reload  (Esc closes)"
    } else {
        "fix the file and save it to load  (Esc closes)"
    };
    lines.push(Line::styled(keep, t.dim()));

    let width = area.width.saturating_sub(4).clamp(20.min(area.width), 110);
    let inner_width = usize::from(width.saturating_sub(2));
    let rows = wrapped_rows(&lines, inner_width);
    let height = u16::try_from(rows)
        .unwrap_or(u16::MAX)
        .saturating_add(2)
        .min(area.height);
    let rect = Rect {
        x: area.x + (area.width - width) / 2,
        y: area.y + (area.height - height) / 2,
        width,
        height,
    };
    let (y, _) = scroll.fit(rows, height.saturating_sub(2), 0, width);
    frame.render_widget(Clear, rect);
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .scroll((y, 0))
            .block(
                Block::new()
                    .borders(Borders::ALL)
                    .border_style(t.error())
                    .title(Line::styled(" Reload failed ", t.error())),
            ),
        rect,
    );
}
