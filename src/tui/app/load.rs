//! Loading into the workbench: a good run swapped in (Δ against the previous one or the
//! baseline, the cursor kept on its event), a failed one kept as a `LoadError` with its place
//! in the file, and the Events list rebuilt from follow and filter.

use std::path::{Path, PathBuf};

use super::{App, Detail, Filter, Mode, ReloadReport};
use crate::session::{Rows, Session, SessionError};
use crate::tui::columns::Widths;
use crate::tui::messages::Messages;
use crate::tui::scroll::Scroll;

/// A load that failed: the whole message, and where it points when it names a place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadError {
    pub message: String,
    pub file: Option<PathBuf>,
    pub line: usize,
    pub column: usize,
    /// The offending line of the file, as it is now.
    pub source: Option<String>,
}

impl LoadError {
    pub fn new(message: String) -> LoadError {
        let (file, line, column) = match locate(&message) {
            Some((f, l, c)) => (Some(f), l, c),
            None => (None, 0, 0),
        };
        let source = file.as_deref().and_then(|f| source_line(f, line));
        LoadError {
            message,
            file,
            line,
            column,
            source,
        }
    }
}

/// The `file:line:column` a message starts with (or names first).
fn locate(message: &str) -> Option<(PathBuf, usize, usize)> {
    let bytes = message.as_bytes();
    for (i, _) in message.match_indices(':') {
        let rest = &message[i + 1..];
        let Some(line_end) = rest.find(|c: char| !c.is_ascii_digit()) else {
            continue;
        };
        if line_end == 0 || bytes.get(i + 1 + line_end) != Some(&b':') {
            continue;
        }
        let after = &rest[line_end + 1..];
        let col_end = after
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(after.len());
        if col_end == 0 {
            continue;
        }
        let start = message[..i].rfind([' ', '`']).map_or(0, |s| s + 1);
        let file = &message[start..i];
        if file.is_empty() {
            continue;
        }
        return Some((
            PathBuf::from(file),
            rest[..line_end].parse().ok()?,
            after[..col_end].parse().ok()?,
        ));
    }
    None
}

fn source_line(file: &Path, line: usize) -> Option<String> {
    let text = std::fs::read_to_string(file).ok()?;
    text.lines()
        .nth(line.checked_sub(1)?)
        .map(|l| l.trim_end().to_string())
}

impl App {
    /// Swap in a new run: mark Δ against the previous one, keep the cursor on the same event.
    pub fn install(&mut self, session: Session, at: String, millis: u128) {
        let keep = self.selected();
        let now = session.rows.decisions();
        let against = self
            .baseline
            .as_deref()
            .or(self.session.as_ref().map(|old| &*old.rows))
            .map(Rows::decisions);
        let changed: Vec<bool> = (0..u32::try_from(now.len()).unwrap_or(u32::MAX))
            .map(|i| against.is_some_and(|before| !now.same(i, before, i)))
            .collect();
        let count = changed.iter().filter(|c| **c).count();
        self.changed = changed;
        self.rules_label = session.rules_path.display().to_string();
        self.messages = Messages::new(&session.rows);
        self.widths = Widths::of(&session);
        self.first_failure = (0..u32::try_from(session.rows.len()).unwrap_or(u32::MAX))
            .find(|&i| session.rows.failed(i))
            .and_then(|i| session.row(i)?.mismatches.as_ref()?.first().cloned())
            .map(|m| {
                format!(
                    "{}:{}",
                    super::detail::shown_path(&session.scenario.path),
                    m.line
                )
            });
        self.session = Some(session);
        self.detail = Detail::default();
        self.error = None;
        if matches!(self.mode, Mode::LoadError { .. }) {
            self.mode = Mode::Normal;
        }
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
        self.baseline = Some(std::sync::Arc::clone(&s.rows));
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

    /// Apply the outcome of a (re)load: a good run is swapped in; an error is shown in full
    /// while the last good results stay.
    pub fn loaded(&mut self, result: Result<Session, SessionError>, at: String, millis: u128) {
        match result {
            Ok(session) => self.install(session, at, millis),
            Err(e) => {
                self.error = Some(LoadError::new(e.to_string()));
                self.progress = None;
                if matches!(self.mode, Mode::Normal | Mode::LoadError { .. }) {
                    self.mode = Mode::LoadError {
                        scroll: Scroll::default(),
                    };
                }
            }
        }
    }

    /// Recompute `view` from follow and filter, keeping `keep` selected when it is listed
    /// (else the nearest row after it).
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
            .filter(|&i| match filter {
                Filter::All => true,
                Filter::Outcome(o) => s.rows.outcome(i) == Some(o),
                Filter::Failed => s.rows.failed(i),
                Filter::Changed => changed.get(i as usize).copied().unwrap_or(false),
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
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_names_its_file_line_and_column() {
        assert_eq!(
            locate("rules/r.yaml:12:5: unknown field `mode`, expected one of `a`"),
            Some((PathBuf::from("rules/r.yaml"), 12, 5))
        );
        assert_eq!(
            locate("scenario `s.yaml`: rules `/tmp/x/r.yaml:3:1: bad`"),
            Some((PathBuf::from("/tmp/x/r.yaml"), 3, 1))
        );
        assert_eq!(locate("cannot read `x`: no such file"), None);
        assert_eq!(locate("at 10:30: nothing"), None);
    }
}
