//! The key table: every key, the `Action` it maps to and its help text, in one place. The help
//! bar and the help overlay are drawn from it.

use std::fmt::Write as _;

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Down,
    Up,
    Left,
    Right,
    PageDown,
    PageUp,
    First,
    Last,
    FollowUser,
    FindUser,
    CycleFilter,
    NextMark,
    PrevMark,
    FocusNext,
    FocusPrev,
    Open,
    Edit,
    WhyNot,
    Pin,
    ShowError,
    Rerun,
    Baseline,
    Help,
    Quit,
}

pub struct Binding {
    pub keys: &'static [KeyCode],
    pub ctrl: bool,
    /// How the overlay names the keys.
    pub label: &'static str,
    pub help: &'static str,
    /// The help bar's entry, for the bindings that have one.
    pub bar: Option<&'static str>,
    pub action: Action,
}

const fn bind(
    keys: &'static [KeyCode],
    label: &'static str,
    help: &'static str,
    bar: Option<&'static str>,
    action: Action,
) -> Binding {
    Binding {
        keys,
        ctrl: false,
        label,
        help,
        bar,
        action,
    }
}

use KeyCode::{BackTab, Char, Down, End, Enter, Home, Left, PageDown, PageUp, Right, Tab, Up};

pub const KEYS: &[Binding] = &[
    bind(
        &[Char('j'), Down],
        "j ↓",
        "next event (or scroll the focused pane)",
        Some("j/k step"),
        Action::Down,
    ),
    bind(
        &[Char('k'), Up],
        "k ↑",
        "previous event (or scroll the focused pane)",
        None,
        Action::Up,
    ),
    bind(
        &[Char('h'), Left],
        "h ←",
        "scroll left (Events, messages.txt, Audit)",
        None,
        Action::Left,
    ),
    bind(
        &[Char('l'), Right],
        "l →",
        "scroll right (Events, messages.txt, Audit)",
        None,
        Action::Right,
    ),
    bind(&[PageDown], "PgDn", "a page down", None, Action::PageDown),
    bind(&[PageUp], "PgUp", "a page up", None, Action::PageUp),
    bind(
        &[Char('g'), Home],
        "g Home",
        "first event (or top of the focused pane)",
        None,
        Action::First,
    ),
    bind(
        &[Char('G'), End],
        "G End",
        "last event (or bottom of the focused pane)",
        None,
        Action::Last,
    ),
    bind(
        &[Char('u')],
        "u",
        "follow the selected user (again: all users)",
        Some("u follow"),
        Action::FollowUser,
    ),
    bind(
        &[Char('/')],
        "/",
        "jump to a user id (exact, or the first id starting with what you typed)",
        Some("/ find"),
        Action::FindUser,
    ),
    bind(
        &[Char('f')],
        "f",
        "cycle the outcome filter: all, allow, suppress, alert, none, failed ✗, changed Δ",
        Some("f filter"),
        Action::CycleFilter,
    ),
    bind(
        &[Char('n')],
        "n",
        "next failed expectation or Δ",
        Some("n/N next ✗/Δ"),
        Action::NextMark,
    ),
    bind(
        &[Char('N')],
        "N",
        "previous failed expectation or Δ",
        None,
        Action::PrevMark,
    ),
    bind(
        &[Tab],
        "Tab",
        "focus the next pane (below 100×28 columns and rows: show it under the events)",
        Some("Tab focus"),
        Action::FocusNext,
    ),
    bind(
        &[BackTab],
        "S-Tab",
        "focus the previous pane",
        None,
        Action::FocusPrev,
    ),
    bind(
        &[Enter],
        "Enter",
        "open the selected event in full (or the focused pane full screen); Esc closes",
        Some("Enter detail"),
        Action::Open,
    ),
    bind(
        &[Char('e')],
        "e",
        "edit in $VISUAL or $EDITOR (else vi) at the winning rule's line, or without a winner at the event's line in the scenario; reloads when the editor exits",
        Some("e edit"),
        Action::Edit,
    ),
    bind(
        &[Char('w')],
        "w",
        "why not: for the followed (or selected) user, what a template's or rule's rules said at each of their events",
        Some("w why-not"),
        Action::WhyNot,
    ),
    bind(
        &[Char('p')],
        "p",
        "pin the followed (or selected) user's events, their current decisions as `expect`, to a new scenario file",
        Some("p pin"),
        Action::Pin,
    ),
    bind(
        &[Char('!')],
        "!",
        "show the last reload error in full",
        None,
        Action::ShowError,
    ),
    bind(
        &[Char('r')],
        "r",
        "re-run the scenario",
        None,
        Action::Rerun,
    ),
    bind(
        &[Char('b')],
        "b",
        "take the current results as the baseline: from then on Δ, the header and Rule match compare with it",
        Some("b baseline"),
        Action::Baseline,
    ),
    bind(&[Char('?')], "?", "this help", Some("? help"), Action::Help),
    bind(&[Char('q')], "q", "quit", Some("q quit"), Action::Quit),
    Binding {
        keys: &[Char('c')],
        ctrl: true,
        label: "Ctrl-C",
        help: "quit",
        bar: None,
        action: Action::Quit,
    },
];

/// The action a key press maps to in normal mode.
pub fn action_for(key: KeyEvent) -> Option<Action> {
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    KEYS.iter()
        .find(|b| b.ctrl == ctrl && b.keys.contains(&key.code))
        .map(|b| b.action)
}

/// The key table as the README's Markdown table (a test keeps the README in step).
pub fn markdown() -> String {
    let mut out = String::from("| key | action |\n|---|---|\n");
    for b in KEYS {
        let keys: Vec<String> = b.label.split(' ').map(|k| format!("`{k}`")).collect();
        let _ = writeln!(
            out,
            "| {} | {} |",
            keys.join(" "),
            b.help.replace('|', "\\|")
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_map_to_actions_and_no_key_is_bound_twice() {
        let k = |c| KeyEvent::new(c, KeyModifiers::NONE);
        assert_eq!(action_for(k(Char('j'))), Some(Action::Down));
        assert_eq!(action_for(k(Down)), Some(Action::Down));
        assert_eq!(
            action_for(KeyEvent::new(Char('c'), KeyModifiers::CONTROL)),
            Some(Action::Quit)
        );
        assert_eq!(action_for(k(Char('c'))), None);
        let mut seen = Vec::new();
        for b in KEYS {
            for key in b.keys {
                assert!(!seen.contains(&(key, b.ctrl)), "{key:?} bound twice");
                seen.push((key, b.ctrl));
            }
        }
    }
}
