//! State transitions: a key or an `Action` changes the `App`; some ask the runtime for work.

use ratatui::crossterm::event::{KeyCode, KeyEvent};

use super::app::{App, Mode, Pane};
use super::keys::{Action, action_for};

/// Work the runtime does for the state (off the UI thread).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    Rerun,
}

/// Handle a key press in the current mode.
pub fn key(app: &mut App, key: KeyEvent) -> Option<Command> {
    match &mut app.mode {
        Mode::Help => {
            if matches!(
                key.code,
                KeyCode::Esc | KeyCode::Char('?' | 'q') | KeyCode::Enter
            ) {
                app.mode = Mode::Normal;
            }
            None
        }
        Mode::FindUser { input, error } => {
            match key.code {
                KeyCode::Esc => app.mode = Mode::Normal,
                KeyCode::Backspace => {
                    input.pop();
                    *error = None;
                }
                KeyCode::Char(c) => {
                    input.push(c);
                    *error = None;
                }
                KeyCode::Enter => {
                    let wanted = input.clone();
                    match find_user(app, &wanted) {
                        Ok(()) => app.mode = Mode::Normal,
                        Err(e) => {
                            if let Mode::FindUser { error, .. } = &mut app.mode {
                                *error = Some(e);
                            }
                        }
                    }
                }
                _ => {}
            }
            None
        }
        Mode::Normal => action_for(key).and_then(|a| update(app, a)),
    }
}

/// Apply one action.
pub fn update(app: &mut App, action: Action) -> Option<Command> {
    let page = app.events_height.get().max(1);
    match action {
        Action::Down => step(app, 1),
        Action::Up => step(app, -1),
        Action::PageDown => step(app, i64::try_from(page).unwrap_or(i64::MAX)),
        Action::PageUp => step(app, -i64::try_from(page).unwrap_or(i64::MAX)),
        Action::First => move_to(app, 0),
        Action::Last => move_to(app, app.view.len().saturating_sub(1)),
        Action::FollowUser => {
            let keep = app.selected();
            app.follow = match (&app.follow, keep, &app.session) {
                (Some(_), _, _) => None,
                (None, Some(row), Some(s)) => Some(s.rows[row as usize].user_id.clone()),
                _ => None,
            };
            app.rebuild_view(keep);
        }
        Action::FindUser => {
            app.mode = Mode::FindUser {
                input: String::new(),
                error: None,
            }
        }
        Action::CycleFilter => {
            app.filter = app.filter.next();
            let keep = app.selected();
            app.rebuild_view(keep);
        }
        Action::NextMark => jump_mark(app, true),
        Action::PrevMark => jump_mark(app, false),
        Action::FocusNext => app.focus = Pane::ALL[(app.focus.index() + 1) % Pane::ALL.len()],
        Action::FocusPrev => {
            app.focus = Pane::ALL[(app.focus.index() + Pane::ALL.len() - 1) % Pane::ALL.len()];
        }
        Action::Rerun => return Some(Command::Rerun),
        Action::Baseline => app.take_baseline(),
        Action::Help => app.mode = Mode::Help,
        Action::Quit => app.quit = true,
    }
    None
}

/// Mouse wheel: scroll whatever has focus.
pub fn wheel(app: &mut App, down: bool) {
    let _ = update(app, if down { Action::Down } else { Action::Up });
}

/// Move the cursor by `delta` rows, or scroll the focused pane.
fn step(app: &mut App, delta: i64) {
    if app.focus != Pane::Events {
        let s = &mut app.scroll[app.focus.index()];
        let moved = i64::from(*s) + delta.signum() * delta.abs().min(10);
        *s = u16::try_from(moved.max(0)).unwrap_or(u16::MAX);
        return;
    }
    let last = app.view.len().saturating_sub(1);
    let target = if delta < 0 {
        app.cursor
            .saturating_sub(usize::try_from(delta.unsigned_abs()).unwrap_or(usize::MAX))
    } else {
        app.cursor
            .saturating_add(usize::try_from(delta).unwrap_or(usize::MAX))
    };
    move_to(app, target.min(last));
}

fn move_to(app: &mut App, pos: usize) {
    app.cursor = pos.min(app.view.len().saturating_sub(1));
    app.refresh_detail();
}

/// The next (or previous) listed row with a failed expectation or a Δ.
fn jump_mark(app: &mut App, forward: bool) {
    let Some(s) = &app.session else { return };
    let marked = |row: u32| s.rows[row as usize].passed() == Some(false) || app.is_changed(row);
    let found = if forward {
        (app.cursor + 1..app.view.len()).find(|&i| marked(app.view[i]))
    } else {
        (0..app.cursor).rev().find(|&i| marked(app.view[i]))
    };
    if let Some(i) = found {
        move_to(app, i);
    }
}

/// Select the first event of the user `wanted` (exact id, else the first id it starts).
fn find_user(app: &mut App, wanted: &str) -> Result<(), String> {
    let Some(s) = &app.session else {
        return Err("nothing loaded".into());
    };
    let wanted = wanted.trim();
    let user = if s.by_user.contains_key(wanted) {
        Some(wanted.to_string())
    } else {
        s.by_user
            .keys()
            .filter(|u| u.starts_with(wanted))
            .min()
            .map(std::string::ToString::to_string)
    };
    let Some(user) = user.filter(|_| !wanted.is_empty()) else {
        return Err(format!("no user `{wanted}`"));
    };
    let first = s.by_user[user.as_str()][0];
    if app.view.binary_search(&first).is_err() {
        app.follow = None;
        app.filter = super::app::Filter::All;
    }
    app.rebuild_view(Some(first));
    Ok(())
}
