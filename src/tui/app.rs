//! The workbench's state: the last good run, what is selected and shown, the mode, and
//! reload status. Loading a run is in `app/load`, the selected event's explanation in
//! `app/detail`.

mod detail;
mod load;

use std::cell::Cell;
use std::path::PathBuf;

use ratatui::layout::Rect;
use ratatui::text::Line;

use super::columns::Widths;
use super::messages::Messages;
use super::scroll::Scroll;
use super::theme::Theme;
use crate::engine::Outcome;
use crate::session::Session;
use crate::why_not::WhyNot;

pub use detail::Detail;
pub use load::LoadError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pane {
    Events,
    RuleMatch,
    Suppression,
    Messages,
    Audit,
}

impl Pane {
    pub const ALL: [Pane; 5] = [
        Pane::Events,
        Pane::RuleMatch,
        Pane::Suppression,
        Pane::Messages,
        Pane::Audit,
    ];

    pub fn title(self) -> &'static str {
        match self {
            Pane::Events => "Events",
            Pane::RuleMatch => "Rule match",
            Pane::Suppression => "Suppression",
            Pane::Messages => "messages.txt",
            Pane::Audit => "Audit",
        }
    }

    pub fn index(self) -> usize {
        Pane::ALL.iter().position(|p| *p == self).unwrap_or(0)
    }
}

/// What a one-line prompt asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ask {
    FindUser,
    /// A template or rule, for why-not.
    WhyNot,
    /// The file to pin the followed user to.
    Pin,
}

impl Ask {
    pub fn label(self) -> &'static str {
        match self {
            Ask::FindUser => "find user",
            Ask::WhyNot => "why not (template or rule)",
            Ask::Pin => "pin to",
        }
    }
}

/// What the full-screen view shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Zoom {
    /// The selected event: expectations, the full trace, reason, message and raw event.
    Event,
    /// One pane, full screen.
    Pane(Pane),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    Normal,
    Help,
    Prompt {
        ask: Ask,
        input: String,
        error: Option<String>,
    },
    Zoom {
        zoom: Zoom,
        scroll: Scroll,
    },
    WhyNot {
        answer: Box<WhyNot>,
        cursor: usize,
    },
    /// The last load error in full, over the last good results.
    LoadError {
        scroll: Scroll,
    },
}

/// Which events the Events pane lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Filter {
    All,
    Outcome(Outcome),
    Failed,
    Changed,
}

impl Filter {
    #[must_use]
    pub fn next(self) -> Filter {
        match self {
            Filter::All => Filter::Outcome(Outcome::Allow),
            Filter::Outcome(Outcome::Allow) => Filter::Outcome(Outcome::Suppress),
            Filter::Outcome(Outcome::Suppress) => Filter::Outcome(Outcome::Alert),
            Filter::Outcome(Outcome::Alert) => Filter::Outcome(Outcome::None),
            Filter::Outcome(Outcome::None) => Filter::Failed,
            Filter::Failed => Filter::Changed,
            Filter::Changed => Filter::All,
        }
    }

    pub fn label(self) -> String {
        match self {
            Filter::All => "all".into(),
            Filter::Outcome(o) => o.to_string(),
            Filter::Failed => "failed ✗".into(),
            Filter::Changed => "changed Δ".into(),
        }
    }
}

/// How the last reload went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReloadReport {
    /// Wall-clock time of day it finished (`14:02:31`).
    pub at: String,
    pub millis: u128,
    pub changed: usize,
}

/// Where each pane was drawn last, for the mouse.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Areas {
    pub panes: [Rect; 5],
    /// The Events pane's first data row on screen and the row it shows there.
    pub events_top: u16,
}

pub struct App {
    pub rules_label: String,
    pub scenario_label: String,
    /// The last good run; stays on screen when a reload fails.
    pub session: Option<Session>,
    /// Rows the Events pane lists (follow and filter applied).
    pub view: Vec<u32>,
    /// Position in `view`.
    pub cursor: usize,
    pub follow: Option<Box<str>>,
    pub filter: Filter,
    pub focus: Pane,
    /// The pane the compact layout shows under the events (the last one focused).
    pub tab: Pane,
    pub mode: Mode,
    /// Δ: rows whose decision changed at the last reload, or since the baseline when set.
    pub changed: Vec<bool>,
    /// Decisions taken as the baseline with `b`.
    pub baseline: Option<std::sync::Arc<crate::session::Rows>>,
    pub last_reload: Option<ReloadReport>,
    /// The current load error, cleared by the next good load.
    pub error: Option<LoadError>,
    /// A reload in progress: events done of total.
    pub progress: Option<(usize, usize)>,
    /// Scroll offsets of each pane (the Events pane's vertical one follows the cursor).
    pub scroll: [Scroll; 5],
    pub detail: Detail,
    /// `messages.txt` at each step of the run.
    pub messages: Messages,
    /// The widest user, type and rule of the run.
    pub widths: Widths,
    /// The first failed expectation: `file:line`.
    pub first_failure: Option<String>,
    /// A one-line note of what the last action did (pinned, edited), or why it failed.
    pub status: Option<Line<'static>>,
    pub theme: Theme,
    pub quit: bool,
    /// First row shown in the Events pane and its height at the last render.
    pub events_offset: Cell<usize>,
    pub events_height: Cell<usize>,
    pub areas: Cell<Areas>,
}

impl App {
    pub fn new(rules_label: String, scenario_label: String, theme: Theme) -> App {
        App {
            rules_label,
            scenario_label,
            session: None,
            view: Vec::new(),
            cursor: 0,
            follow: None,
            filter: Filter::All,
            focus: Pane::Events,
            tab: Pane::RuleMatch,
            mode: Mode::Normal,
            changed: Vec::new(),
            baseline: None,
            last_reload: None,
            error: None,
            progress: None,
            scroll: Default::default(),
            detail: Detail::default(),
            messages: Messages::default(),
            widths: Widths::default(),
            first_failure: None,
            status: None,
            theme,
            quit: false,
            events_offset: Cell::new(0),
            events_height: Cell::new(20),
            areas: Cell::new(Areas::default()),
        }
    }

    /// The selected row, if any.
    pub fn selected(&self) -> Option<u32> {
        self.view.get(self.cursor).copied()
    }

    pub fn is_changed(&self, row: u32) -> bool {
        self.changed.get(row as usize).copied().unwrap_or(false)
    }

    /// The user why-not and pin act on: the followed one, else the selected row's.
    pub fn user(&self) -> Option<String> {
        if let Some(u) = &self.follow {
            return Some(u.to_string());
        }
        let s = self.session.as_ref()?;
        Some(s.row(self.selected()?)?.user_id.to_string())
    }

    /// Focus `pane`; the compact layout shows it under the events.
    pub fn focus_on(&mut self, pane: Pane) {
        self.focus = pane;
        if pane != Pane::Events {
            self.tab = pane;
        }
    }

    /// Where `e` opens the editor: the winning rule's line, else the event's in its scenario.
    pub fn edit_target(&self) -> Option<(PathBuf, usize)> {
        let s = self.session.as_ref()?;
        let r = s.row(self.selected()?)?;
        let rule = r
            .verdict
            .matched_rule
            .as_deref()
            .and_then(|name| s.rules.rules.iter().find(|x| &*x.name == name));
        match rule.and_then(|x| x.pos) {
            Some(p) => Some((s.rules_path.clone(), p.line)),
            None => Some((s.scenario.path.clone(), r.line as usize)),
        }
    }
}
