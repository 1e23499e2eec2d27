//! Colours of the workbench, the plain theme used under `NO_COLOR`, and how the core's
//! explanation styles look in each.

use crate::explain;
use ratatui::style::{Color, Modifier, Style};

use crate::engine::Outcome;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Theme {
    pub color: bool,
}

impl Theme {
    /// Colours unless `NO_COLOR` is set (https://no-color.org).
    pub fn from_env() -> Theme {
        Theme {
            color: std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
        }
    }

    pub const PLAIN: Theme = Theme { color: false };

    fn fg(self, c: Color) -> Style {
        if self.color {
            Style::new().fg(c)
        } else {
            Style::new()
        }
    }

    pub fn outcome(self, o: Outcome) -> Style {
        self.fg(match o {
            Outcome::Allow => Color::Green,
            Outcome::Suppress => Color::Yellow,
            Outcome::Alert => Color::Magenta,
            Outcome::None => Color::DarkGray,
        })
    }

    /// Each outcome's symbol, so outcomes read without colour (and to colour-blind eyes).
    pub fn symbol(self, o: Outcome) -> &'static str {
        match o {
            Outcome::Allow => "●",
            Outcome::Suppress => "⊘",
            Outcome::Alert => "▲",
            Outcome::None => "·",
        }
    }

    pub fn pass(self) -> Style {
        self.fg(Color::Green)
    }

    pub fn fail(self) -> Style {
        self.fg(Color::Red).add_modifier(Modifier::BOLD)
    }

    pub fn dim(self) -> Style {
        if self.color {
            Style::new().fg(Color::DarkGray)
        } else {
            Style::new().add_modifier(Modifier::DIM)
        }
    }

    pub fn changed(self) -> Style {
        self.fg(Color::Cyan).add_modifier(Modifier::BOLD)
    }

    pub fn title(self) -> Style {
        Style::new().add_modifier(Modifier::BOLD)
    }

    /// Keys and the workbench's own chrome: blue, never an outcome's or Δ's colour.
    pub fn key(self) -> Style {
        self.fg(Color::LightBlue).add_modifier(Modifier::BOLD)
    }

    pub fn winner(self) -> Style {
        self.fg(Color::Green).add_modifier(Modifier::BOLD)
    }

    /// A rule that matched but lost: grey and italic, apart from every outcome's colour.
    pub fn shadowed(self) -> Style {
        self.fg(Color::Gray).add_modifier(Modifier::ITALIC)
    }

    pub fn error(self) -> Style {
        self.fg(Color::Red).add_modifier(Modifier::BOLD)
    }

    /// A highlighted line or heading: reversed, so it shows without colour too.
    pub fn selected(self) -> Style {
        Style::new().add_modifier(Modifier::REVERSED)
    }

    /// The cursor row: a dark background under the row's own colours (the outcome stays
    /// readable); reversed without colour.
    pub fn selected_row(self) -> Style {
        if self.color {
            Style::new()
                .bg(Color::Indexed(237))
                .add_modifier(Modifier::BOLD)
        } else {
            Style::new().add_modifier(Modifier::REVERSED)
        }
    }

    pub fn focused_border(self) -> Style {
        if self.color {
            Style::new().fg(Color::LightBlue)
        } else {
            Style::new().add_modifier(Modifier::BOLD)
        }
    }

    /// The look of each role in the core's explanation text.
    pub fn style(self, s: explain::Style) -> Style {
        match s {
            explain::Style::Plain => Style::new(),
            explain::Style::Dim => self.dim(),
            explain::Style::Pass => self.pass(),
            explain::Style::Fail => self.fail(),
            explain::Style::Winner => self.winner(),
            explain::Style::Shadowed => self.shadowed(),
            explain::Style::Changed => self.changed(),
            explain::Style::Selected => self.selected_row(),
            explain::Style::Outcome(o) => self.outcome(o),
        }
    }
}
