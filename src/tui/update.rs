//! State transitions: a key or an `Action` changes the `App`; some ask the runtime for work.

use std::path::PathBuf;

use ratatui::crossterm::event::{KeyCode, KeyEvent};
use ratatui::layout::Position;
use ratatui::text::Line;

use super::app::{App, Ask, Filter, Mode, Pane, Zoom};
use super::keys::{Action, action_for};
use super::scroll::Scroll;
use crate::pin;
use crate::why_not;

/// Work the runtime does for the state (off the UI thread, or with the terminal suspended).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Rerun,
    /// Run `$EDITOR` on `file` at `line`, then reload.
    Edit {
        file: PathBuf,
        line: usize,
    },
}

/// Sideways steps are this many columns.
const SIDEWAYS: i64 = 8;

/// Handle a key press in the current mode.
pub fn key(app: &mut App, key: KeyEvent) -> Option<Command> {
    let page = i64::try_from(app.events_height.get().max(1)).unwrap_or(i64::MAX);
    match &mut app.mode {
        Mode::Normal => return action_for(key).and_then(|a| update(app, a)),
        Mode::Help => {
            if matches!(
                key.code,
                KeyCode::Esc | KeyCode::Char('?' | 'q') | KeyCode::Enter
            ) {
                app.mode = Mode::Normal;
            }
        }
        Mode::Prompt { ask, input, error } => match key.code {
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
                let (ask, wanted) = (*ask, input.trim().to_string());
                if let Err(e) = submit(app, ask, &wanted)
                    && let Mode::Prompt { error, .. } = &mut app.mode
                {
                    *error = Some(e);
                }
            }
            _ => {}
        },
        Mode::Zoom {
            zoom: Zoom::Pane(p),
            ..
        } => {
            let p = *p;
            match key.code {
                KeyCode::Esc | KeyCode::Enter | KeyCode::Char('q') => app.mode = Mode::Normal,
                code if scrolls_up(p) => {
                    // Scrolled up from the latest entry: keys read the other way.
                    let flipped = match code {
                        KeyCode::Down | KeyCode::Char('j') => KeyCode::Up,
                        KeyCode::Up | KeyCode::Char('k') => KeyCode::Down,
                        KeyCode::PageDown => KeyCode::PageUp,
                        KeyCode::PageUp => KeyCode::PageDown,
                        KeyCode::Home | KeyCode::Char('g') => KeyCode::End,
                        KeyCode::End | KeyCode::Char('G') => KeyCode::Home,
                        other => other,
                    };
                    scroll_by_key(&mut app.scroll[p.index()], flipped, page);
                }
                code => scroll_by_key(&mut app.scroll[p.index()], code, page),
            }
        }
        Mode::Zoom { scroll, .. } | Mode::LoadError { scroll } => match key.code {
            KeyCode::Esc | KeyCode::Enter | KeyCode::Char('q') => app.mode = Mode::Normal,
            code => scroll_by_key(scroll, code, page),
        },
        Mode::WhyNot { answer, cursor } => match key.code {
            KeyCode::Esc | KeyCode::Char('q') => app.mode = Mode::Normal,
            KeyCode::Enter => {
                let row = answer.rows.get(*cursor).map(|r| r.0);
                app.mode = Mode::Normal;
                if let Some(row) = row {
                    select_row(app, row);
                }
            }
            code => {
                let last = answer.rows.len().saturating_sub(1);
                let to = |c: usize| c.min(last);
                *cursor = match code {
                    KeyCode::Down | KeyCode::Char('j') => to(*cursor + 1),
                    KeyCode::Up | KeyCode::Char('k') => cursor.saturating_sub(1),
                    KeyCode::PageDown => to(*cursor + usize::try_from(page).unwrap_or(1)),
                    KeyCode::PageUp => cursor.saturating_sub(usize::try_from(page).unwrap_or(1)),
                    KeyCode::Home | KeyCode::Char('g') => 0,
                    KeyCode::End | KeyCode::Char('G') => last,
                    KeyCode::Char('n') => next_miss(answer, *cursor).unwrap_or(*cursor),
                    _ => *cursor,
                };
            }
        },
    }
    None
}

fn next_miss(w: &why_not::WhyNot, from: usize) -> Option<usize> {
    (from + 1..w.rows.len()).find(|&i| w.rows[i].1.is_miss())
}

/// The audit and messages.txt show their latest entries at the bottom and scroll up.
fn scrolls_up(p: Pane) -> bool {
    matches!(p, Pane::Audit | Pane::Messages)
}

fn scroll_by_key(scroll: &mut Scroll, code: KeyCode, page: i64) {
    match code {
        KeyCode::Down | KeyCode::Char('j') => scroll.by(1),
        KeyCode::Up | KeyCode::Char('k') => scroll.by(-1),
        KeyCode::PageDown => scroll.by(page),
        KeyCode::PageUp => scroll.by(-page),
        KeyCode::Home | KeyCode::Char('g') => scroll.top(),
        KeyCode::End | KeyCode::Char('G') => scroll.bottom(),
        KeyCode::Left | KeyCode::Char('h') => scroll.sideways(-SIDEWAYS),
        KeyCode::Right | KeyCode::Char('l') => scroll.sideways(SIDEWAYS),
        _ => {}
    }
}

/// A prompt's answer: find a user, ask why-not, or pin.
fn submit(app: &mut App, ask: Ask, wanted: &str) -> Result<(), String> {
    match ask {
        Ask::FindUser => {
            find_user(app, wanted)?;
            app.mode = Mode::Normal;
        }
        Ask::WhyNot => {
            let user = app.user().ok_or("no event selected")?;
            let s = app.session.as_mut().ok_or("nothing loaded")?;
            let answer = why_not::why_not(s, &user, wanted).map_err(|e| e.to_string())?;
            let cursor = answer
                .first_miss()
                .and_then(|row| answer.rows.iter().position(|r| r.0 == row))
                .unwrap_or(0);
            app.mode = Mode::WhyNot {
                answer: Box::new(answer),
                cursor,
            };
        }
        Ask::Pin => {
            if wanted.is_empty() {
                return Err("name the file".into());
            }
            let user = app.user().ok_or("no event selected")?;
            let s = app.session.as_ref().ok_or("nothing loaded")?;
            let path = PathBuf::from(wanted);
            let n = pin::pin(s, &user, &path).map_err(|e| e.to_string())?;
            app.status = Some(Line::styled(
                format!(
                    "pinned {n} event{} of {user} to {wanted}: `workbench run {wanted}` checks them",
                    if n == 1 { "" } else { "s" }
                ),
                app.theme.pass(),
            ));
            app.mode = Mode::Normal;
        }
    }
    Ok(())
}

/// Apply one action in normal mode.
pub fn update(app: &mut App, action: Action) -> Option<Command> {
    let page = i64::try_from(app.events_height.get().max(1)).unwrap_or(i64::MAX);
    let focus = app.focus;
    match action {
        Action::Down => step(app, 1),
        Action::Up => step(app, -1),
        Action::PageDown => step(app, page),
        Action::PageUp => step(app, -page),
        Action::Left | Action::Right
            if matches!(focus, Pane::Events | Pane::Messages | Pane::Audit) =>
        {
            let by = if action == Action::Left {
                -SIDEWAYS
            } else {
                SIDEWAYS
            };
            app.scroll[focus.index()].sideways(by);
        }
        Action::Left | Action::Right => {}
        Action::First if focus == Pane::Events => move_to(app, 0),
        // Panes scrolled up from their latest entry: their top is the furthest scroll.
        Action::First if scrolls_up(focus) => app.scroll[focus.index()].bottom(),
        Action::First => app.scroll[focus.index()].top(),
        Action::Last if focus == Pane::Events => move_to(app, app.view.len().saturating_sub(1)),
        Action::Last if scrolls_up(focus) => app.scroll[focus.index()].top(),
        Action::Last => app.scroll[focus.index()].bottom(),
        Action::FollowUser => {
            let keep = app.selected();
            app.follow = match (&app.follow, keep, &app.session) {
                (Some(_), _, _) => None,
                (None, Some(row), Some(s)) => s.row(row).map(|r| r.user_id.clone()),
                _ => None,
            };
            app.rebuild_view(keep);
        }
        Action::FindUser => prompt(app, Ask::FindUser, String::new()),
        Action::CycleFilter => {
            app.filter = app.filter.next();
            let keep = app.selected();
            app.rebuild_view(keep);
        }
        Action::NextMark => jump_mark(app, true),
        Action::PrevMark => jump_mark(app, false),
        Action::FocusNext => app.focus_on(Pane::ALL[(focus.index() + 1) % Pane::ALL.len()]),
        Action::FocusPrev => {
            app.focus_on(Pane::ALL[(focus.index() + Pane::ALL.len() - 1) % Pane::ALL.len()]);
        }
        Action::Open => {
            let zoom = if focus == Pane::Events {
                app.open_event();
                Zoom::Event
            } else {
                Zoom::Pane(focus)
            };
            if app.selected().is_some() {
                app.mode = Mode::Zoom {
                    zoom,
                    scroll: Scroll::default(),
                };
            }
        }
        Action::Edit => {
            let (file, line) = app.edit_target()?;
            return Some(Command::Edit { file, line });
        }
        Action::WhyNot => {
            if app.user().is_some() {
                prompt(app, Ask::WhyNot, String::new());
            }
        }
        Action::Pin => {
            if let Some(user) = app.user() {
                let path = pin::default_path(&user).display().to_string();
                prompt(app, Ask::Pin, path);
            }
        }
        Action::ShowError => {
            if app.error.is_some() {
                app.mode = Mode::LoadError {
                    scroll: Scroll::default(),
                };
            }
        }
        Action::Rerun => return Some(Command::Rerun),
        Action::Baseline => app.take_baseline(),
        Action::Help => app.mode = Mode::Help,
        Action::Quit => app.quit = true,
    }
    None
}

fn prompt(app: &mut App, ask: Ask, input: String) {
    app.mode = Mode::Prompt {
        ask,
        input,
        error: None,
    };
}

/// Mouse wheel: scroll whatever has focus.
pub fn wheel(app: &mut App, down: bool) {
    if let Mode::Zoom { scroll, .. } | Mode::LoadError { scroll } = &mut app.mode {
        scroll.by(if down { 3 } else { -3 });
        return;
    }
    if app.mode == Mode::Normal {
        let _ = update(app, if down { Action::Down } else { Action::Up });
    }
}

/// A left click: focus the pane under it; on an Events row, select that row.
pub fn click(app: &mut App, column: u16, row: u16) {
    if app.mode != Mode::Normal {
        return;
    }
    let areas = app.areas.get();
    let at = Position::new(column, row);
    let Some(pane) = Pane::ALL
        .into_iter()
        .find(|p| areas.panes[p.index()].contains(at))
    else {
        return;
    };
    app.focus_on(pane);
    if pane == Pane::Events && row >= areas.events_top {
        let pos = app.events_offset.get() + usize::from(row - areas.events_top);
        if pos < app.view.len() {
            move_to(app, pos);
        }
    }
}

/// Move the cursor by `delta` rows, or scroll the focused pane.
fn step(app: &mut App, delta: i64) {
    if app.focus != Pane::Events {
        let delta = if scrolls_up(app.focus) { -delta } else { delta };
        app.scroll[app.focus.index()].by(delta);
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

/// Select `row`, listing it if follow or filter hides it.
fn select_row(app: &mut App, row: u32) {
    if app.view.binary_search(&row).is_err() {
        app.filter = Filter::All;
        let s = app.session.as_ref();
        let user = s.and_then(|s| s.row(row)).map(|r| r.user_id.clone());
        if app.follow.is_some() && app.follow != user {
            app.follow = None;
        }
    }
    app.rebuild_view(Some(row));
}

/// The next (or previous) listed row with a failed expectation or a Δ.
fn jump_mark(app: &mut App, forward: bool) {
    let Some(s) = &app.session else { return };
    let marked = |row: u32| s.rows.failed(row) || app.is_changed(row);
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
        app.filter = Filter::All;
    }
    app.rebuild_view(Some(first));
    Ok(())
}
