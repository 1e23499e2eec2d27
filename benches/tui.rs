//! The workbench's render path and reload on generated scenarios: frame time for a 200x50
//! frame over 1,000,000 events in each view (and 80x24), a cursor step (which re-explains the
//! selected event), paging through rows read from disk, a reload of 100,000 events, and
//! why-not over a user with 10,000 events.
//! `cargo bench --bench tui`; `BENCH_EVENTS` scales the big run.

use std::path::Path;
use std::time::{Duration, Instant};

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use workbench::generate::{GenSpec, generate};
use workbench::session::Session;
use workbench::tui::app::{App, Mode};
use workbench::tui::keys::Action;
use workbench::tui::theme::Theme;
use workbench::tui::{ui, update};

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn scenario(dir: &Path, events: usize) -> std::path::PathBuf {
    scenario_of(dir, events, (events / 10).max(1))
}

fn scenario_of(dir: &Path, events: usize, users: usize) -> std::path::PathBuf {
    let path = dir.join(format!("tui-{events}-{users}.jsonl"));
    let mut out = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    generate(
        GenSpec {
            users,
            events,
            seed: 7,
        },
        &mut out,
    )
    .unwrap();
    path
}

fn load(path: &Path) -> (Session, Duration) {
    let rules = Path::new(env!("CARGO_MANIFEST_DIR")).join("rules/rules.yaml");
    let t = Instant::now();
    let s = Session::load(path, Some(&rules), |_| {}).unwrap();
    (s, t.elapsed())
}

fn per_frame(app: &App, term: &mut Terminal<TestBackend>, frames: u32) -> Duration {
    let t = Instant::now();
    for _ in 0..frames {
        term.draw(|f| ui::render(f, app)).unwrap();
    }
    t.elapsed() / frames
}

fn main() {
    let dir = tempfile::tempdir().unwrap();
    let events = env("BENCH_EVENTS", 1_000_000);

    let reload_events = env("BENCH_RELOAD", 100_000);
    let small = scenario(dir.path(), reload_events);
    let (_, reload) = load(&small);
    let (_, reload2) = load(&small);
    println!(
        "reload of {reload_events} events (load + run + index), best of 2: {:.0} ms",
        reload.min(reload2).as_secs_f64() * 1e3
    );
    // The same reload on one shard and on one per core, alternating: medians of 3.
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
    let rules_path = Path::new(env!("CARGO_MANIFEST_DIR")).join("rules/rules.yaml");
    let plan = workbench::plan::RulesCache::new(Some(&rules_path))
        .plan(&small)
        .unwrap();
    let mut times: [Vec<Duration>; 2] = [Vec::new(), Vec::new()];
    for _ in 0..3 {
        for (i, shards) in [1, cores].into_iter().enumerate() {
            let t = Instant::now();
            let s = Session::run_with(
                plan.scenario.clone(),
                plan.rules_path.clone(),
                plan.rules.clone(),
                workbench::session::Budget {
                    shards,
                    ..workbench::session::Budget::default()
                },
                |_| {},
            )
            .unwrap();
            times[i].push(t.elapsed());
            drop(s);
        }
    }
    for t in &mut times {
        t.sort();
    }
    println!(
        "session of {reload_events} events, medians of 3: 1 shard {:.0} ms, {cores} shards {:.0} ms ({:.2}x)",
        times[0][1].as_secs_f64() * 1e3,
        times[1][1].as_secs_f64() * 1e3,
        times[0][1].as_secs_f64() / times[1][1].as_secs_f64()
    );

    let big = scenario(dir.path(), events);
    let (session, took) = load(&big);
    println!("load of {events} events: {:.1} s", took.as_secs_f64());
    // The workbench's resident memory with this run loaded, and its peak so far (Linux).
    if let Ok(status) = std::fs::read_to_string("/proc/self/status") {
        let kib = |key: &str| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(key))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
                .unwrap_or(0)
        };
        println!(
            "resident memory with {events} events loaded: {} MiB (peak so far {} MiB)",
            kib("VmRSS:") / 1024,
            kib("VmHWM:") / 1024
        );
    }
    let mut app = App::new(
        "rules/rules.yaml".into(),
        big.display().to_string(),
        Theme { color: true },
    );
    app.loaded(Ok(session), "00:00:00".into(), took.as_millis());

    let mut term = Terminal::new(TestBackend::new(200, 50)).unwrap();
    let frames = u32::try_from(env("BENCH_FRAMES", 500)).unwrap_or(500);
    println!();
    println!("| 200x50 frame over {events} events | mean frame time |");
    println!("|---|---:|");
    let first = per_frame(&app, &mut term, frames);
    println!(
        "| cursor on the first event | {:.3} ms |",
        first.as_secs_f64() * 1e3
    );
    update::update(&mut app, Action::Last);
    let last = per_frame(&app, &mut term, frames);
    println!(
        "| cursor on the last event | {:.3} ms |",
        last.as_secs_f64() * 1e3
    );
    for _ in 0..(events / 2 / 50).max(1) {
        update::update(&mut app, Action::PageUp);
    }
    let middle = per_frame(&app, &mut term, frames);
    println!(
        "| cursor mid-stream | {:.3} ms |",
        middle.as_secs_f64() * 1e3
    );
    update::update(&mut app, Action::FollowUser);
    let follow = per_frame(&app, &mut term, frames);
    println!(
        "| following one user | {:.3} ms |",
        follow.as_secs_f64() * 1e3
    );
    update::update(&mut app, Action::FollowUser);

    // A key press: move the cursor (re-explaining the event from the scratch DB) and redraw.
    let steps = 2_000;
    let t = Instant::now();
    for i in 0..steps {
        update::update(&mut app, if i % 2 == 0 { Action::Down } else { Action::Up });
        term.draw(|f| ui::render(f, &app)).unwrap();
    }
    println!(
        "| step + redraw (j/k) | {:.3} ms |",
        (t.elapsed() / steps).as_secs_f64() * 1e3
    );
    // Paging: every frame shows rows not read yet (decoded from the session's rows file).
    update::update(&mut app, Action::First);
    let pages = (events / 50).clamp(1, 500);
    let t = Instant::now();
    for _ in 0..pages {
        update::update(&mut app, Action::PageDown);
        term.draw(|f| ui::render(f, &app)).unwrap();
    }
    println!(
        "| page down + redraw (rows read from disk) | {:.3} ms |",
        (t.elapsed() / u32::try_from(pages).unwrap_or(1)).as_secs_f64() * 1e3
    );
    let t = Instant::now();
    update::update(&mut app, Action::CycleFilter);
    term.draw(|f| ui::render(f, &app)).unwrap();
    println!(
        "| outcome filter over every event + redraw | {:.1} ms |",
        t.elapsed().as_secs_f64() * 1e3
    );
    update::update(&mut app, Action::Last);
    let filtered = per_frame(&app, &mut term, frames);
    println!(
        "| a filter with the cursor at the end | {:.3} ms |",
        filtered.as_secs_f64() * 1e3
    );
    for _ in 0..6 {
        update::update(&mut app, Action::CycleFilter);
    }
    let mut small_term = Terminal::new(TestBackend::new(80, 24)).unwrap();
    let compact = per_frame(&app, &mut small_term, frames);
    println!("| 80x24 (tabs) | {:.3} ms |", compact.as_secs_f64() * 1e3);
    update::update(&mut app, Action::Open);
    let detail = per_frame(&app, &mut term, frames);
    println!(
        "| the event in full (Enter) | {:.3} ms |",
        detail.as_secs_f64() * 1e3
    );
    app.mode = Mode::Normal;
    app.loaded(
        Err(workbench::session::SessionError::Store(
            workbench::store::StoreError::Corrupt(
                "rules/rules.yaml:61:21: rules[3].conditions.all[0].operator: unknown variant `greater`".into(),
            ),
        )),
        "00:00:01".into(),
        1,
    );
    let popup = per_frame(&app, &mut term, frames);
    println!(
        "| the reload error popup | {:.3} ms |",
        popup.as_secs_f64() * 1e3
    );
    app.mode = Mode::Normal;
    update::update(&mut app, Action::WhyNot);
    for c in "WELCOME_EMAIL".chars() {
        update::key(
            &mut app,
            KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE),
        );
    }
    update::key(&mut app, KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE));
    assert!(matches!(app.mode, Mode::WhyNot { .. }), "{:?}", app.mode);
    let why = per_frame(&app, &mut term, frames);
    println!("| why-not (w) | {:.3} ms |", why.as_secs_f64() * 1e3);

    // Why-not over one user's 10,000 events: re-deciding the ones its trigger fires on.
    let long_events = env("BENCH_WHY_NOT", 10_000);
    let long = scenario_of(dir.path(), long_events, 1);
    let (mut session, _) = load(&long);
    let user = session.row(0).unwrap().user_id.to_string();
    println!();
    println!("| why-not over a user with {long_events} events | median of 11 |");
    println!("|---|---:|");
    for template in ["WELCOME_EMAIL", "INSUFFICIENT_FUNDS_EMAIL"] {
        let mut times: Vec<Duration> = (0..11)
            .map(|_| {
                let t = Instant::now();
                let w = workbench::why_not::why_not(&mut session, &user, template).unwrap();
                assert_eq!(w.rows.len(), long_events);
                t.elapsed()
            })
            .collect();
        times.sort();
        println!(
            "| {template} | {:.1} ms |",
            times[times.len() / 2].as_secs_f64() * 1e3
        );
    }
}
