//! The workbench's views at three sizes (expectation failure, the full event, why-not, the
//! reload error, a filter with the cursor at the end), and its actions that reach outside:
//! `e` runs the editor and the reload follows, `p` pins a scenario that `run` passes.

mod common;

use std::path::{Path, PathBuf};

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use workbench::generate::{GenSpec, generate};
use workbench::session::{Budget, Session};
use workbench::tui::app::{App, Mode};
use workbench::tui::keys::Action;
use workbench::tui::theme::Theme;
use workbench::tui::update::{self, Command};
use workbench::tui::{editor, ui};

const SIZES: [(u16, u16); 3] = [(80, 24), (120, 40), (200, 50)];

fn load(app: &mut App, scenario: &Path, rules: Option<&Path>) {
    app.loaded(Session::load(scenario, rules, |_| {}), "12:00:00".into(), 3);
}

fn app_with(scenario: &str, rules: Option<&Path>) -> App {
    let mut app = App::new("rules/rules.yaml".into(), scenario.into(), Theme::PLAIN);
    load(&mut app, &common::root().join(scenario), rules);
    app.rules_label = "rules/rules.yaml".into();
    app
}

fn frame(app: &App, (width, height): (u16, u16), tmp: &Path) -> String {
    let mut t = Terminal::new(TestBackend::new(width, height)).unwrap();
    t.draw(|f| ui::render(f, app)).unwrap();
    t.backend()
        .to_string()
        .replace(tmp.to_str().unwrap(), "TMP")
}

fn press(app: &mut App, code: KeyCode) -> Option<Command> {
    update::key(app, KeyEvent::new(code, KeyModifiers::NONE))
}

fn type_in(app: &mut App, text: &str) {
    for c in text.chars() {
        press(app, KeyCode::Char(c));
    }
}

/// The bundled rules with the bank-link window widened from 24 to 100 hours: u_jo's link,
/// 97 hours after the signup, now sends, and its expectation fails.
fn widened_rules(dir: &Path) -> PathBuf {
    let rules = dir.join("rules.yaml");
    let good = std::fs::read_to_string(common::root().join("rules/rules.yaml")).unwrap();
    std::fs::write(&rules, good.replace("hours: 24", "hours: 100")).unwrap();
    rules
}

/// Select u_jo's bank link, 97 hours after the signup it counts.
fn select_jo_link(app: &mut App) {
    press(app, KeyCode::Char('/'));
    type_in(app, "u_jo");
    press(app, KeyCode::Enter);
    update::update(app, Action::FollowUser);
    update::update(app, Action::Last);
}

/// Render at each size; the compact layout's panes are checked by their own tabs.
fn snapshots(name: &str, app: &App, tmp: &Path) {
    for size in SIZES {
        insta::assert_snapshot!(
            format!("{name}_{}x{}", size.0, size.1),
            frame(app, size, tmp)
        );
    }
}

#[test]
fn a_failed_expectation_says_what_was_expected_and_what_came() {
    let dir = tempfile::tempdir().unwrap();
    let rules = widened_rules(dir.path());
    let mut app = app_with("scenarios/bank_link_nudge.yaml", Some(&rules));
    let s = app.session.as_ref().unwrap();
    assert_eq!(s.expectations.1, 3, "u_jo's link and two others now send");
    assert_eq!(
        app.first_failure.as_deref(),
        Some("scenarios/bank_link_nudge.yaml:38"),
        "the header names the first failing line"
    );
    select_jo_link(&mut app);
    let row = app.selected().unwrap();
    assert_eq!(
        app.session
            .as_ref()
            .unwrap()
            .row(row)
            .unwrap()
            .user_id
            .as_ref(),
        "u_jo"
    );
    let text: String = app
        .detail
        .expectations
        .iter()
        .map(ToString::to_string)
        .collect();
    assert!(text.contains("expected outcome none, got allow"), "{text}");
    assert!(text.contains("line 60"), "{text}");
    snapshots("view_expectation_failure", &app, dir.path());
}

#[test]
fn enter_opens_the_event_in_full_and_esc_closes_it() {
    let dir = tempfile::tempdir().unwrap();
    let rules = widened_rules(dir.path());
    let mut app = app_with("scenarios/bank_link_nudge.yaml", Some(&rules));
    select_jo_link(&mut app);
    press(&mut app, KeyCode::Enter);
    assert!(matches!(app.mode, Mode::Zoom { .. }));
    let text = app
        .detail
        .full
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n");
    for part in [
        "expected outcome none, got allow",
        "reason: bank_link_nudge matched",
        "message: ",
        "\"user_id\": \"u_jo\"",
        "rule match",
    ] {
        assert!(text.contains(part), "`{part}` missing from:\n{text}");
    }
    snapshots("view_event_detail", &app, dir.path());
    press(&mut app, KeyCode::Esc);
    assert_eq!(app.mode, Mode::Normal);
}

#[test]
fn why_not_lists_what_the_template_said_at_each_event() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = app_with("scenarios/bank_link_nudge.yaml", None);
    update::update(&mut app, Action::NextMark);
    press(&mut app, KeyCode::Char('/'));
    type_in(&mut app, "u_jo");
    press(&mut app, KeyCode::Enter);
    press(&mut app, KeyCode::Char('w'));
    type_in(&mut app, "BANK_LINK_NUDGE_SM");
    press(&mut app, KeyCode::Enter);
    let Mode::Prompt { error, .. } = &app.mode else {
        panic!("an unknown template keeps the prompt open: {:?}", app.mode)
    };
    assert_eq!(
        error.as_deref(),
        Some("no rule or template `BANK_LINK_NUDGE_SM`; did you mean `BANK_LINK_NUDGE_SMS`?")
    );
    type_in(&mut app, "S");
    press(&mut app, KeyCode::Enter);
    let Mode::WhyNot { answer, cursor, .. } = &app.mode else {
        panic!("why-not opens: {:?}", app.mode)
    };
    assert_eq!(answer.rows.len(), 3);
    assert_eq!(
        *cursor, 2,
        "the cursor starts on the first event that did not send"
    );
    assert!(answer.rows[2].2.contains("97h before"), "{:?}", answer.rows);
    snapshots("view_why_not", &app, dir.path());
    press(&mut app, KeyCode::Enter);
    assert_eq!(app.mode, Mode::Normal);
    let s = app.session.as_ref().unwrap();
    assert_eq!(
        s.row(app.selected().unwrap()).unwrap().event_type.as_ref(),
        "link_bank_success",
        "Enter selects the event"
    );
}

#[test]
fn the_reload_error_shows_in_full_with_its_source_line() {
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("rules.yaml");
    let good = std::fs::read_to_string(common::root().join("rules/rules.yaml")).unwrap();
    std::fs::write(&rules, &good).unwrap();
    let scenario = common::root().join("scenarios/payment_failures.yaml");
    let mut app = app_with("scenarios/payment_failures.yaml", Some(&rules));
    std::fs::write(
        &rules,
        good.replace("      mode: once_ever", "      mode: once_evr"),
    )
    .unwrap();
    load(&mut app, &scenario, Some(&rules));
    let err = app.error.clone().unwrap();
    assert!(matches!(app.mode, Mode::LoadError { .. }));
    assert_eq!((err.line, err.column), (18, 13));
    assert_eq!(err.source.as_deref(), Some("      mode: once_evr"));
    assert!(
        err.message.ends_with("did you mean `once_ever`?"),
        "{}",
        err.message
    );
    snapshots("view_reload_error", &app, dir.path());
    press(&mut app, KeyCode::Esc);
    assert_eq!(app.mode, Mode::Normal);
    update::update(&mut app, Action::ShowError);
    assert!(
        matches!(app.mode, Mode::LoadError { .. }),
        "! shows it again"
    );
}

#[test]
fn a_filter_with_the_cursor_at_the_end_fills_the_pane() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("gen.jsonl");
    let mut out = Vec::new();
    let spec = GenSpec {
        users: 40,
        events: 3_000,
        seed: 7,
    };
    generate(spec, &mut out).unwrap();
    std::fs::write(&path, out).unwrap();
    let mut app = App::new("rules/rules.yaml".into(), "gen.jsonl".into(), Theme::PLAIN);
    load(
        &mut app,
        &path,
        Some(&common::root().join("rules/rules.yaml")),
    );
    app.rules_label = "rules/rules.yaml".into();
    frame(&app, (120, 40), dir.path());
    update::update(&mut app, Action::Last);
    frame(&app, (120, 40), dir.path());
    for _ in 0..2 {
        update::update(&mut app, Action::CycleFilter); // allow, then suppress
    }
    assert_eq!(
        app.cursor,
        app.view.len() - 1,
        "the cursor stays on the last row"
    );
    assert!(app.view.len() > 100, "more rows than any pane holds");
    for size in SIZES {
        let screen = frame(&app, size, dir.path());
        let listed = screen
            .lines()
            .filter(|l| l.starts_with("\"│") && l.contains("⊘ suppress  "))
            .count();
        let room = app.events_height.get();
        assert_eq!(
            listed,
            app.view.len().min(room),
            "no blank rows above the cursor at {size:?}:\n{screen}"
        );
        insta::assert_snapshot!(format!("view_filter_at_end_{}x{}", size.0, size.1), screen);
    }
}

#[test]
fn e_runs_the_editor_at_the_winning_rule_and_the_reload_follows() {
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("rules.yaml");
    let good = std::fs::read_to_string(common::root().join("rules/rules.yaml")).unwrap();
    std::fs::write(&rules, &good).unwrap();
    let scenario = common::root().join("scenarios/bank_link_nudge.yaml");
    let mut app = app_with("scenarios/bank_link_nudge.yaml", Some(&rules));
    press(&mut app, KeyCode::Char('/'));
    type_in(&mut app, "u_kai");
    press(&mut app, KeyCode::Enter);
    update::update(&mut app, Action::Down);
    let Some(Command::Edit { file, line }) = press(&mut app, KeyCode::Char('e')) else {
        panic!("e asks the runtime for the editor")
    };
    assert_eq!(
        (file.as_path(), line),
        (rules.as_path(), 20),
        "bank_link_nudge's line"
    );

    // An "editor" that turns the rule off, as a user would at that line.
    let script = dir.path().join("editor.sh");
    std::fs::write(
        &script,
        "#!/bin/sh\n# $1 is +LINE, $2 the file\nsed -i 's/^  - name: bank_link_nudge$/  - name: bank_link_nudge\\n    enabled: false/' \"$2\"\necho \"$1\" > \"$2.line\"\n",
    )
    .unwrap();
    let words = editor::command(None, Some(&format!("sh {}", script.display())));
    editor::open(&words, &file, line).unwrap();
    assert_eq!(
        std::fs::read_to_string(dir.path().join("rules.yaml.line")).unwrap(),
        "+20\n"
    );
    let before = app.selected();
    load(&mut app, &scenario, Some(&rules));
    assert_eq!(app.selected(), before, "the reload keeps the cursor");
    let s = app.session.as_ref().unwrap();
    assert!(
        s.row(before.unwrap())
            .unwrap()
            .verdict
            .matched_rule
            .is_none()
    );
    assert!(app.is_changed(before.unwrap()), "Δ marks the edit's effect");
    let failing = editor::open(&editor::command(None, Some("false")), &file, 1);
    assert_eq!(
        failing.unwrap_err().to_string(),
        "the editor `false` exited with exit status: 1"
    );
}

#[test]
fn p_pins_the_users_history_as_a_scenario_that_run_passes() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = app_with("scenarios/guards.yaml", None);
    press(&mut app, KeyCode::Char('/'));
    type_in(&mut app, "u_ana");
    press(&mut app, KeyCode::Enter);
    press(&mut app, KeyCode::Char('p'));
    let Mode::Prompt { input, .. } = &app.mode else {
        panic!("p asks for a file")
    };
    assert_eq!(input, "scenarios/pinned/u_ana.yaml");
    let target = dir.path().join("pinned/ana.yaml");
    for _ in 0..input.chars().count() {
        press(&mut app, KeyCode::Backspace);
    }
    type_in(&mut app, target.to_str().unwrap());
    press(&mut app, KeyCode::Enter);
    assert_eq!(app.mode, Mode::Normal);
    assert!(
        app.status
            .as_ref()
            .unwrap()
            .to_string()
            .starts_with("pinned 4 events of u_ana")
    );
    let text = std::fs::read_to_string(&target).unwrap();
    assert!(
        text.contains("message_text: Hi Ana, welcome aboard!"),
        "{text}"
    );
    let run = common::workbench(&["run", target.to_str().unwrap()]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("4 passed, 0 failed"), "{}", run.stdout);

    // Never over an existing file.
    press(&mut app, KeyCode::Char('p'));
    for _ in 0..40 {
        press(&mut app, KeyCode::Backspace);
    }
    type_in(&mut app, target.to_str().unwrap());
    press(&mut app, KeyCode::Enter);
    let Mode::Prompt { error, .. } = &app.mode else {
        panic!("the prompt stays open")
    };
    assert!(
        error
            .as_deref()
            .unwrap()
            .ends_with("already exists: choose another name")
    );
}

#[test]
fn the_readme_key_table_is_the_key_table() {
    let readme = std::fs::read_to_string(common::root().join("README.md")).unwrap();
    let table = workbench::tui::keys::markdown();
    assert!(
        readme.contains(&table),
        "README.md's key table differs from src/tui/keys.rs; it should read:\n{table}"
    );
}

#[test]
fn explain_why_not_prints_the_same_answers() {
    let run = common::workbench(&[
        "explain",
        "scenarios/bank_link_nudge.yaml",
        "--user",
        "u_jo",
        "--why-not",
        "BANK_LINK_NUDGE_SMS",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    insta::assert_snapshot!("explain_why_not_u_jo", run.stdout);
    let bad = common::workbench(&[
        "explain",
        "scenarios/bank_link_nudge.yaml",
        "--user",
        "u_jo",
        "--why-not",
        "NOPE",
    ]);
    assert_eq!(bad.code, 2);
    assert_eq!(bad.stderr, "error: no rule or template `NOPE`\n");
}

#[test]
fn the_readme_frame_is_a_real_frame() {
    let snap = std::fs::read_to_string(
        common::root().join("tests/snapshots/tui_views__view_expectation_failure_120x40.snap"),
    )
    .unwrap();
    let body = snap.splitn(3, "---\n").nth(2).unwrap();
    let frame: Vec<&str> = body
        .trim_matches('\n')
        .lines()
        .map(|l| l[1..l.len() - 1].trim_end())
        .collect();
    let readme = std::fs::read_to_string(common::root().join("README.md")).unwrap();
    let start = readme.find("<!-- frame:start -->\n```text\n").unwrap() + 29;
    let end = readme[start..].find("```\n<!-- frame:end -->").unwrap() + start;
    let shown: Vec<&str> = readme[start..end].lines().map(str::trim_end).collect();
    assert_eq!(shown, frame, "README.md's frame differs from the snapshot");
}

#[test]
fn a_click_selects_a_row_and_focuses_the_pane_under_it() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = app_with("scenarios/payment_failures.yaml", None);
    let screen = frame(&app, (120, 40), dir.path());
    let y = screen
        .lines()
        .position(|l| l.contains("   4 ✓"))
        .expect("row 4 is listed");
    update::click(&mut app, 10, u16::try_from(y).unwrap());
    assert_eq!(app.selected(), Some(3));
    assert_eq!(app.focus, workbench::tui::app::Pane::Events);
    // Column 100 is inside the Rule match pane at 120 columns.
    update::click(&mut app, 100, 10);
    assert_eq!(app.focus, workbench::tui::app::Pane::RuleMatch);
    assert_eq!(
        app.selected(),
        Some(3),
        "a click elsewhere keeps the selection"
    );
}

#[test]
fn a_sharded_session_explains_every_event_from_its_users_shard() {
    let root = common::root();
    for file in ["scenarios/guards.yaml", "scenarios/user_time.yaml"] {
        let plan = workbench::plan::RulesCache::new(None)
            .plan(&root.join(file))
            .unwrap();
        let budget = |shards| Budget {
            shards,
            ..Budget::default()
        };
        let one = Session::run_with(
            plan.scenario.clone(),
            plan.rules_path.clone(),
            plan.rules.clone(),
            budget(1),
            |_| {},
        )
        .unwrap();
        let mut three = Session::run_with(
            plan.scenario,
            plan.rules_path,
            plan.rules,
            budget(3),
            |_| {},
        )
        .unwrap();
        assert_eq!(
            one.rows.iter().collect::<Vec<_>>(),
            three.rows.iter().collect::<Vec<_>>(),
            "{file}: the same rows on 1 and 3 shards"
        );
        for row in 0..u32::try_from(three.rows.len()).unwrap() {
            let r = three.row(row).unwrap();
            let (event, d) = three.explain(row).unwrap().expect("every event is stored");
            assert_eq!(event.user_id, r.user_id.as_ref(), "{file} row {row}");
            if !r.replayed {
                assert!(
                    d.verdict.same_decision(&r.verdict),
                    "{file} row {row}: re-decided {:?}, ran {:?}",
                    d.verdict,
                    r.verdict
                );
            }
        }
    }
}
