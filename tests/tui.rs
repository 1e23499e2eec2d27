//! The workbench without a terminal: `Action` -> state transitions, full-frame snapshots on a
//! `TestBackend`, and reloads that fail keeping the last good results.

mod common;

use std::path::Path;

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use workbench::engine::Outcome;
use workbench::session::Session;
use workbench::tui::app::{App, Ask, Filter, Mode, Pane};
use workbench::tui::keys::Action;
use workbench::tui::theme::Theme;
use workbench::tui::{ui, update};

fn session(scenario: &str, rules: Option<&Path>) -> Session {
    let root = common::root();
    Session::load(&root.join(scenario), rules, |_| {}).unwrap()
}

fn app() -> App {
    let mut app = App::new(
        "rules/rules.yaml".into(),
        "scenarios/payment_failures.yaml".into(),
        Theme::PLAIN,
    );
    app.loaded(
        Ok(session("scenarios/payment_failures.yaml", None)),
        "12:00:00".into(),
        3,
    );
    app.rules_label = "rules/rules.yaml".into();
    app
}

fn frame(app: &App, width: u16, height: u16) -> String {
    let mut t = Terminal::new(TestBackend::new(width, height)).unwrap();
    t.draw(|f| ui::render(f, app)).unwrap();
    t.backend().to_string()
}

fn press(app: &mut App, code: KeyCode) -> Option<update::Command> {
    update::key(app, KeyEvent::new(code, KeyModifiers::NONE))
}

#[test]
fn stepping_moves_the_cursor_within_bounds() {
    let mut app = app();
    assert_eq!(app.selected(), Some(0));
    update::update(&mut app, Action::Up);
    assert_eq!(app.cursor, 0);
    update::update(&mut app, Action::Down);
    update::update(&mut app, Action::Down);
    assert_eq!(app.selected(), Some(2));
    update::update(&mut app, Action::Last);
    assert_eq!(app.cursor, 13);
    update::update(&mut app, Action::Down);
    assert_eq!(app.cursor, 13);
    update::update(&mut app, Action::First);
    assert_eq!(app.cursor, 0);
    update::update(&mut app, Action::PageDown);
    assert!(app.cursor > 0);
}

#[test]
fn follow_user_lists_only_that_users_history() {
    let mut app = app();
    update::update(&mut app, Action::Last);
    update::update(&mut app, Action::Up);
    update::update(&mut app, Action::Up);
    let row = app.selected().unwrap();
    update::update(&mut app, Action::FollowUser);
    assert_eq!(app.follow.as_deref(), Some("u_oz"));
    assert_eq!(app.view, vec![6, 7, 8, 9, 10, 11, 12]);
    assert_eq!(
        app.selected(),
        Some(row),
        "the cursor stays on the same event"
    );
    update::update(&mut app, Action::First);
    assert_eq!(app.selected(), Some(6));
    update::update(&mut app, Action::FollowUser);
    assert_eq!(app.follow, None);
    assert_eq!(app.view.len(), 14);
    assert_eq!(app.selected(), Some(6));
}

#[test]
fn the_filter_cycles_through_outcomes() {
    let mut app = app();
    update::update(&mut app, Action::CycleFilter);
    assert_eq!(app.filter, Filter::Outcome(Outcome::Allow));
    assert_eq!(app.view, vec![0, 3, 5, 13]);
    for _ in 0..6 {
        update::update(&mut app, Action::CycleFilter);
    }
    assert_eq!(app.filter, Filter::All);
    assert_eq!(app.view.len(), 14);
}

#[test]
fn find_user_jumps_to_their_first_event() {
    let mut app = app();
    press(&mut app, KeyCode::Char('/'));
    assert!(matches!(
        app.mode,
        Mode::Prompt {
            ask: Ask::FindUser,
            ..
        }
    ));
    for c in "u_p".chars() {
        press(&mut app, KeyCode::Char(c));
    }
    press(&mut app, KeyCode::Enter);
    assert_eq!(app.mode, Mode::Normal);
    assert_eq!(app.selected(), Some(13), "prefix `u_p` finds u_pam");
    press(&mut app, KeyCode::Char('/'));
    press(&mut app, KeyCode::Char('z'));
    press(&mut app, KeyCode::Enter);
    assert_eq!(
        app.mode,
        Mode::Prompt {
            ask: Ask::FindUser,
            input: "z".into(),
            error: Some("no user `z`".into())
        }
    );
    press(&mut app, KeyCode::Esc);
    assert_eq!(app.mode, Mode::Normal);
}

#[test]
fn focus_help_rerun_and_quit() {
    let mut app = app();
    press(&mut app, KeyCode::Tab);
    assert_eq!(app.focus, Pane::RuleMatch);
    frame(&app, 120, 20); // a render tells each pane how far its content reaches
    press(&mut app, KeyCode::Char('j'));
    assert_eq!(app.cursor, 0, "j scrolls the focused pane, not the events");
    assert_eq!(app.scroll[Pane::RuleMatch.index()].y, 1);
    press(&mut app, KeyCode::BackTab);
    assert_eq!(app.focus, Pane::Events);
    press(&mut app, KeyCode::Char('?'));
    assert_eq!(app.mode, Mode::Help);
    press(&mut app, KeyCode::Char('j'));
    assert_eq!(app.cursor, 0, "keys do not leak through the help overlay");
    press(&mut app, KeyCode::Esc);
    assert_eq!(
        press(&mut app, KeyCode::Char('r')),
        Some(update::Command::Rerun)
    );
    assert!(!app.quit);
    update::key(
        &mut app,
        KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL),
    );
    assert!(app.quit);
}

#[test]
fn a_broken_rules_file_keeps_the_last_good_results_and_a_fixed_one_reloads() {
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("rules.yaml");
    let good = std::fs::read_to_string(common::root().join("rules/rules.yaml")).unwrap();
    std::fs::write(&rules, &good).unwrap();
    let mut app = app();
    update::update(&mut app, Action::Down);
    let rows = |app: &App| {
        app.session
            .as_ref()
            .unwrap()
            .rows
            .iter()
            .collect::<Vec<_>>()
    };
    let before = rows(&app);

    std::fs::write(&rules, good.replace("operator: gte", "operator: greater")).unwrap();
    let broken = Session::load(
        &common::root().join("scenarios/payment_failures.yaml"),
        Some(&rules),
        |_| {},
    );
    app.loaded(broken, "12:00:05".into(), 2);
    let err = app.error.clone().unwrap().message;
    assert!(
        err.contains(
            "rules.yaml:61:21: rules[3].conditions.all[0].operator: unknown variant `greater`"
        ),
        "{err}"
    );
    assert_eq!(rows(&app), before);
    assert_eq!(app.selected(), Some(1));
    insta::assert_snapshot!(
        "frame_reload_error",
        frame(&app, 120, 36).replace(dir.path().to_str().unwrap(), "TMP")
    );

    // Fixed: once_ever instead of once per day changes four decisions.
    std::fs::write(
        &rules,
        good.replacen("mode: once_per_calendar_day", "mode: once_ever", 1),
    )
    .unwrap();
    let fixed = Session::load(
        &common::root().join("scenarios/payment_failures.yaml"),
        Some(&rules),
        |_| {},
    );
    app.loaded(fixed, "12:00:09".into(), 4);
    assert_eq!(app.error, None);
    assert_eq!(app.last_reload.as_ref().unwrap().changed, 4);
    assert!(app.is_changed(3) && !app.is_changed(0));
    update::update(&mut app, Action::NextMark);
    assert_eq!(
        app.selected(),
        Some(2),
        "n goes to the next Δ or failed expectation"
    );
}

#[test]
fn frames_at_several_cursor_positions() {
    let mut app = app();
    insta::assert_snapshot!("frame_first_event", frame(&app, 120, 36));
    update::update(&mut app, Action::Down);
    insta::assert_snapshot!("frame_suppressed_same_day", frame(&app, 120, 36));
    for _ in 0..4 {
        update::update(&mut app, Action::Down);
    }
    insta::assert_snapshot!("frame_alert", frame(&app, 120, 36));
    update::update(&mut app, Action::FollowUser);
    update::update(&mut app, Action::Last);
    insta::assert_snapshot!("frame_follow_user", frame(&app, 120, 36));
}

#[test]
fn frames_with_help_and_at_80x24() {
    let mut app = app();
    update::update(&mut app, Action::Help);
    insta::assert_snapshot!("frame_help", frame(&app, 120, 36));
    update::update(&mut app, Action::Quit);
    let mut app = self::app();
    update::update(&mut app, Action::Down);
    insta::assert_snapshot!("frame_80x24", frame(&app, 80, 24));
    // Very small and very large terminals render without panicking.
    frame(&app, 20, 5);
    frame(&app, 400, 120);
}

#[test]
fn explain_prints_one_users_history() {
    let r = common::workbench(&[
        "explain",
        "scenarios/bank_link_nudge.yaml",
        "--user",
        "u_jo",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    insta::assert_snapshot!("explain_u_jo", r.stdout);
    let r = common::workbench(&[
        "explain",
        "scenarios/bank_link_nudge.yaml",
        "--user",
        "nobody",
    ]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("no events for user `nobody`"),
        "{}",
        r.stderr
    );
}

#[test]
fn without_a_terminal_the_tui_refuses_clearly() {
    let r = common::workbench(&["tui", "scenarios/payment_failures.yaml"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("needs a terminal"), "{}", r.stderr);
}

#[test]
fn the_baseline_keeps_marking_changes_across_reloads() {
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("rules.yaml");
    let good = std::fs::read_to_string(common::root().join("rules/rules.yaml")).unwrap();
    let scenario = common::root().join("scenarios/payment_failures.yaml");
    let mut app = app();
    press(&mut app, KeyCode::Char('b'));
    assert_eq!(app.baseline_changes(), Some(0));

    std::fs::write(
        &rules,
        good.replacen("mode: once_per_calendar_day", "mode: once_ever", 1),
    )
    .unwrap();
    app.loaded(
        Session::load(&scenario, Some(&rules), |_| {}),
        "12:01:00".into(),
        3,
    );
    assert_eq!(app.baseline_changes(), Some(4));
    // A second reload with the same edit: nothing changed since the last reload, but the
    // baseline still sees all four.
    app.loaded(
        Session::load(&scenario, Some(&rules), |_| {}),
        "12:01:05".into(),
        3,
    );
    assert_eq!(app.baseline_changes(), Some(4));
    update::update(&mut app, Action::NextMark);
    update::update(&mut app, Action::NextMark);
    update::update(&mut app, Action::NextMark);
    assert_eq!(app.selected(), Some(3));
    let screen = frame(&app, 120, 36).replace(dir.path().to_str().unwrap(), "TMP");
    insta::assert_snapshot!("frame_baseline_change", screen);

    std::fs::write(&rules, &good).unwrap();
    app.loaded(
        Session::load(&scenario, Some(&rules), |_| {}),
        "12:01:09".into(),
        3,
    );
    assert_eq!(
        app.baseline_changes(),
        Some(0),
        "back to the baseline's rules"
    );
}

/// Quiet hours 21:00–08:00 (hold) and a once-a-local-day reminder: u_ola's cart at 23:00 in
/// Oslo is held until 08:00 the next morning (CEST by then); u_kim's page view matches no
/// rule; u_ola's cart at 09:00 is sent, after the held line went out.
const QUIET_RULES: &str = r#"quiet_hours:
  start: "21:00"
  end: "08:00"
  mode: hold
rules:
  - name: cart_reminder
    trigger: {event_type: cart_abandoned}
    action: {type: send, template_name: CART_REMINDER, delivery_method: email}
    suppression: {mode: once_per_calendar_day, calendar: user}
"#;

const QUIET_SCENARIO: &str = "rules: rules.yaml
events:
  - name: late cart in Oslo
    user_id: u_ola
    event_type: cart_abandoned
    event_timestamp: 2025-03-29T22:00:00Z
    user_traits: {timezone: Europe/Oslo}
    expect: {outcome: allow, reason_code: scheduled, deliver_at: 2025-03-30T06:00:00Z}
  - user_id: u_kim
    event_type: page_viewed
    event_timestamp: 2025-03-29T23:00:00Z
  - name: morning cart
    user_id: u_ola
    event_type: cart_abandoned
    event_timestamp: 2025-03-30T07:00:00Z
    expect: {outcome: allow, reason_code: sent}
";

#[test]
fn a_held_send_shows_local_time_and_its_line_appears_once_due() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("rules.yaml"), QUIET_RULES).unwrap();
    let scenario = dir.path().join("quiet.yaml");
    std::fs::write(&scenario, QUIET_SCENARIO).unwrap();
    let mut app = App::new("rules.yaml".into(), "quiet.yaml".into(), Theme::PLAIN);
    app.loaded(Session::load(&scenario, None, |_| {}), "12:00:00".into(), 3);
    app.rules_label = "rules.yaml".into();
    assert_eq!(app.session.as_ref().unwrap().expectations, (2, 0));
    let tmp = dir.path().to_str().unwrap();
    insta::assert_snapshot!("frame_held_send", frame(&app, 120, 36).replace(tmp, "TMP"));
    update::update(&mut app, Action::Down);
    insta::assert_snapshot!(
        "frame_no_rule_local_time",
        frame(&app, 120, 36).replace(tmp, "TMP")
    );
    update::update(&mut app, Action::Down);
    insta::assert_snapshot!(
        "frame_held_send_written",
        frame(&app, 120, 36).replace(tmp, "TMP")
    );
}

#[test]
fn explain_prints_local_times_and_when_a_held_send_goes_out() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("rules.yaml"), QUIET_RULES).unwrap();
    std::fs::write(dir.path().join("quiet.yaml"), QUIET_SCENARIO).unwrap();
    let r = common::workbench_in(dir.path(), &["explain", "quiet.yaml", "--user", "u_ola"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout
            .contains("-> allow  cart_reminder  scheduled → 2025-03-30T06:00:00Z\n"),
        "{}",
        r.stdout
    );
    insta::assert_snapshot!("explain_held_send", r.stdout);
}
