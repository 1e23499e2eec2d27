//! The workbench's state: the last good run, what is selected and shown, and reload status.

use std::cell::Cell;

use ratatui::text::Line;

use super::content;
use super::explained;
use super::messages::Messages;
use super::theme::Theme;
use crate::engine::{Outcome, Verdict};
use crate::session::Session;

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

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    Normal,
    Help,
    FindUser {
        input: String,
        error: Option<String>,
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

/// The explanation panes' content for the selected row.
#[derive(Debug, Default)]
pub struct Detail {
    pub row: Option<u32>,
    pub rule_match: Vec<Line<'static>>,
    pub suppression: Vec<Line<'static>>,
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
    pub mode: Mode,
    /// Δ: rows whose decision changed at the last reload, or since the baseline when set.
    pub changed: Vec<bool>,
    /// Decisions taken as the baseline with `b`.
    pub baseline: Option<Vec<Verdict>>,
    pub last_reload: Option<ReloadReport>,
    /// The current load error (`file:line:column: ...`), cleared by the next good load.
    pub error: Option<String>,
    /// A reload in progress: events done of total.
    pub progress: Option<(usize, usize)>,
    /// Scroll offset of each pane but Events (whose offset follows the cursor).
    pub scroll: [u16; 5],
    pub detail: Detail,
    /// `messages.txt` at each step of the run.
    pub messages: Messages,
    pub theme: Theme,
    pub quit: bool,
    /// First row shown in the Events pane and its height at the last render.
    pub events_offset: Cell<usize>,
    pub events_height: Cell<usize>,
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
            mode: Mode::Normal,
            changed: Vec::new(),
            baseline: None,
            last_reload: None,
            error: None,
            progress: None,
            scroll: [0; 5],
            detail: Detail::default(),
            messages: Messages::default(),
            theme,
            quit: false,
            events_offset: Cell::new(0),
            events_height: Cell::new(20),
        }
    }

    /// The selected row, if any.
    pub fn selected(&self) -> Option<u32> {
        self.view.get(self.cursor).copied()
    }

    pub fn is_changed(&self, row: u32) -> bool {
        self.changed.get(row as usize).copied().unwrap_or(false)
    }

    /// Swap in a new run: mark Δ against the previous one, keep the cursor on the same event.
    pub fn install(&mut self, session: Session, at: String, millis: u128) {
        let keep = self.selected();
        let changed: Vec<bool> = match (&self.baseline, &self.session) {
            (Some(base), _) => session
                .rows
                .iter()
                .enumerate()
                .map(|(i, r)| base.get(i).is_none_or(|b| !b.same_decision(&r.verdict)))
                .collect(),
            (None, Some(old)) => session
                .rows
                .iter()
                .enumerate()
                .map(|(i, r)| {
                    old.rows
                        .get(i)
                        .is_none_or(|o| !o.verdict.same_decision(&r.verdict))
                })
                .collect(),
            (None, None) => vec![false; session.rows.len()],
        };
        let count = changed.iter().filter(|c| **c).count();
        self.changed = changed;
        self.rules_label = session.rules_path.display().to_string();
        self.messages = Messages::new(&session.rows);
        self.session = Some(session);
        self.detail = Detail::default();
        self.error = None;
        self.progress = None;
        self.last_reload = Some(ReloadReport {
            at,
            millis,
            changed: count,
        });
        self.rebuild_view(keep);
    }

    /// `b`: the current decisions become the baseline; from now on Δ compares with them.
    pub fn take_baseline(&mut self) {
        let Some(s) = &self.session else { return };
        self.baseline = Some(s.rows.iter().map(|r| r.verdict.clone()).collect());
        self.changed = vec![false; s.rows.len()];
        self.detail = Detail::default();
        let keep = self.selected();
        self.rebuild_view(keep);
    }

    /// Decisions that differ from the baseline, when one is set.
    pub fn baseline_changes(&self) -> Option<usize> {
        self.baseline.as_ref()?;
        Some(self.changed.iter().filter(|c| **c).count())
    }

    /// Apply the outcome of a (re)load: a good run is swapped in; an error is shown while the
    /// last good results stay.
    pub fn loaded(
        &mut self,
        result: Result<Session, crate::session::SessionError>,
        at: String,
        millis: u128,
    ) {
        match result {
            Ok(session) => self.install(session, at, millis),
            Err(e) => {
                self.error = Some(e.to_string());
                self.progress = None;
            }
        }
    }

    /// Recompute `view` from follow and filter, keeping `keep` selected when it is listed.
    pub fn rebuild_view(&mut self, keep: Option<u32>) {
        let Some(s) = &self.session else {
            self.view.clear();
            return;
        };
        let base: Box<dyn Iterator<Item = u32>> = match &self.follow {
            Some(u) => Box::new(s.by_user.get(u).into_iter().flatten().copied()),
            None => Box::new(0..u32::try_from(s.rows.len()).unwrap_or(u32::MAX)),
        };
        let filter = self.filter;
        let changed = &self.changed;
        self.view = base
            .filter(|&i| {
                let r = &s.rows[i as usize];
                match filter {
                    Filter::All => true,
                    Filter::Outcome(o) => r.verdict.outcome == o,
                    Filter::Failed => r.passed() == Some(false),
                    Filter::Changed => changed.get(i as usize).copied().unwrap_or(false),
                }
            })
            .collect();
        self.cursor = match keep {
            Some(k) => match self.view.binary_search(&k) {
                Ok(i) => i,
                Err(i) => i.min(self.view.len().saturating_sub(1)),
            },
            None => 0,
        };
        self.refresh_detail();
    }

    /// Rebuild the explanation panes for the selected row (re-decided from the scratch DB).
    pub fn refresh_detail(&mut self) {
        let row = self.selected();
        if row == self.detail.row && row.is_some() {
            return;
        }
        self.scroll[Pane::RuleMatch.index()] = 0;
        self.scroll[Pane::Suppression.index()] = 0;
        let theme = self.theme;
        let before = row.and_then(|r| self.baseline.as_ref()?.get(r as usize).cloned());
        self.detail = match (row, self.session.as_mut()) {
            (Some(row), Some(s)) => match explained::explain(s, row, before.as_ref()) {
                Ok(Some(e)) => Detail {
                    row: Some(row),
                    rule_match: content::lines(theme, e.rule_match),
                    suppression: content::lines(theme, e.suppression),
                },
                Ok(None) => Detail::default(),
                Err(e) => Detail {
                    row: Some(row),
                    rule_match: vec![Line::styled(format!("cannot explain: {e}"), theme.error())],
                    suppression: Vec::new(),
                },
            },
            _ => Detail::default(),
        };
    }
}
