//! The explanation panes' text (built UI-free by `crate::explain`) as ratatui lines
//! in the theme's styles.

use crate::explain;
use ratatui::text::{Line, Span};

use super::theme::Theme;

pub fn lines(theme: Theme, lines: Vec<explain::Line>) -> Vec<Line<'static>> {
    lines
        .into_iter()
        .map(|l| {
            let spans: Vec<Span<'static>> = l
                .spans
                .into_iter()
                .map(|s| Span::styled(s.text, theme.style(s.style)))
                .collect();
            Line::from(spans).style(theme.style(l.style))
        })
        .collect()
}
