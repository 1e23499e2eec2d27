//! The terminal side: raw mode and restore (on panic too), the event loop, file watching and
//! re-running the scenario on a worker thread while the UI stays live.

use std::io::stdout;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use notify_debouncer_full::notify::{EventKind, RecommendedWatcher, RecursiveMode};
use notify_debouncer_full::{DebounceEventResult, Debouncer, RecommendedCache, new_debouncer};
use ratatui::DefaultTerminal;
use ratatui::crossterm::event::{
    self, DisableMouseCapture, EnableMouseCapture, Event, KeyEventKind, MouseButton, MouseEventKind,
};
use ratatui::crossterm::execute;
use ratatui::crossterm::terminal::{
    Clear, ClearType, EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode,
};
use ratatui::text::Line;

use super::app::App;
use super::editor;
use super::theme::Theme;
use super::ui;
use super::update::{self, Command};
use crate::plan::{RulesCache, rules_path};
use crate::scenario::Scenario;
use crate::session::{Budget, Session, SessionError};

enum Msg {
    FileChanged,
    Loaded {
        result: Box<Result<Session, SessionError>>,
        rules: Option<PathBuf>,
        took: Duration,
    },
}

/// What the workbench opens.
#[derive(Debug, Clone)]
pub struct Options {
    pub scenario: PathBuf,
    pub rules: Option<PathBuf>,
    /// The scratch databases' page cache for each run, in MiB.
    pub scratch_mib: u32,
}

pub fn run(opts: &Options) -> color_eyre::Result<()> {
    let theme = Theme::from_env();
    let rules_guess = rules_path(opts.rules.as_deref(), None);
    let mut app = App::new(
        rules_guess.display().to_string(),
        opts.scenario.display().to_string(),
        theme,
    );
    let (tx, rx) = mpsc::channel();
    let watched = Arc::new(Mutex::new(vec![absolute(&opts.scenario)]));
    let mut debouncer = watch(tx.clone(), watched.clone())?;
    add_watch(&mut debouncer, &watched, &opts.scenario);

    let mut worker = Worker::default();
    worker.start(opts, tx.clone(), &mut app);

    let mut terminal = Guard::enter()?;
    let result = event_loop(
        &mut terminal.0,
        &mut app,
        &rx,
        opts,
        &tx,
        &mut worker,
        |rules| add_watch(&mut debouncer, &watched, rules),
    );
    drop(terminal);
    result
}

#[allow(clippy::too_many_arguments)]
fn event_loop(
    terminal: &mut DefaultTerminal,
    app: &mut App,
    rx: &Receiver<Msg>,
    opts: &Options,
    tx: &Sender<Msg>,
    worker: &mut Worker,
    mut on_rules: impl FnMut(&Path),
) -> color_eyre::Result<()> {
    while !app.quit {
        if let Some(p) = worker.progress() {
            app.progress = Some(p);
        }
        terminal.draw(|f| ui::render(f, app))?;
        if event::poll(Duration::from_millis(50))? {
            match event::read()? {
                Event::Key(k) if k.kind != KeyEventKind::Release => match update::key(app, k) {
                    Some(Command::Rerun) => worker.start(opts, tx.clone(), app),
                    Some(Command::Edit { file, line }) => {
                        edit(terminal, app, &file, line)?;
                        worker.start(opts, tx.clone(), app);
                    }
                    None => {}
                },
                Event::Mouse(m) => match m.kind {
                    MouseEventKind::ScrollDown => update::wheel(app, true),
                    MouseEventKind::ScrollUp => update::wheel(app, false),
                    MouseEventKind::Down(MouseButton::Left) => update::click(app, m.column, m.row),
                    _ => {}
                },
                _ => {}
            }
        }
        while let Ok(msg) = rx.try_recv() {
            match msg {
                Msg::FileChanged => worker.start(opts, tx.clone(), app),
                Msg::Loaded {
                    result,
                    rules,
                    took,
                } => {
                    if let Some(r) = &rules {
                        on_rules(r);
                    }
                    let at = chrono::Local::now().format("%H:%M:%S").to_string();
                    app.loaded(*result, at, took.as_millis());
                    if worker.finished() {
                        worker.start(opts, tx.clone(), app);
                    }
                }
            }
        }
    }
    Ok(())
}

/// `e`: leave the screen to the editor, come back when it exits (the caller reloads).
fn edit(
    terminal: &mut DefaultTerminal,
    app: &mut App,
    file: &Path,
    line: usize,
) -> color_eyre::Result<()> {
    let _ = execute!(stdout(), DisableMouseCapture, LeaveAlternateScreen);
    let _ = disable_raw_mode();
    let result = editor::open(&editor::from_env(), file, line);
    enable_raw_mode()?;
    execute!(
        stdout(),
        EnterAlternateScreen,
        Clear(ClearType::All),
        EnableMouseCapture
    )?;
    // A fresh terminal redraws everything; `Terminal::clear` would ask the terminal where its
    // cursor is, and not every terminal answers.
    *terminal = ratatui::Terminal::new(ratatui::backend::CrosstermBackend::new(stdout()))?;
    app.status = Some(match result {
        Ok(()) => Line::styled(
            format!("edited {}:{line}; reloading", file.display()),
            app.theme.dim(),
        ),
        Err(e) => Line::styled(e.to_string(), app.theme.error()),
    });
    Ok(())
}

/// Runs one reload at a time; a request during a run is queued and starts after it.
#[derive(Default)]
struct Worker {
    running: bool,
    queued: bool,
    done: Arc<AtomicUsize>,
    total: Arc<AtomicUsize>,
}

impl Worker {
    fn start(&mut self, opts: &Options, tx: Sender<Msg>, app: &mut App) {
        if self.running {
            self.queued = true;
            return;
        }
        self.running = true;
        self.done = Arc::new(AtomicUsize::new(0));
        self.total = Arc::new(AtomicUsize::new(0));
        app.progress = Some((0, 0));
        let (done, total) = (self.done.clone(), self.total.clone());
        let opts = opts.clone();
        std::thread::spawn(move || {
            let started = Instant::now();
            let mut rules = None;
            let result = Scenario::load(&opts.scenario)
                .map_err(SessionError::from)
                .and_then(|scenario| {
                    total.store(scenario.len, Ordering::Relaxed);
                    // Watched even when it fails to load, so fixing it reloads.
                    rules = Some(rules_path(opts.rules.as_deref(), scenario.rules.as_deref()));
                    let (path, set) =
                        RulesCache::new(opts.rules.as_deref()).for_scenario(&scenario)?;
                    let budget = Budget {
                        scratch_mib: opts.scratch_mib,
                        ..Budget::default()
                    };
                    Session::run_with(scenario, path, set, budget, |n| {
                        done.store(n, Ordering::Relaxed);
                    })
                });
            let _ = tx.send(Msg::Loaded {
                result: Box::new(result),
                rules,
                took: started.elapsed(),
            });
        });
    }

    fn progress(&self) -> Option<(usize, usize)> {
        self.running.then(|| {
            (
                self.done.load(Ordering::Relaxed),
                self.total.load(Ordering::Relaxed),
            )
        })
    }

    /// The running reload ended; true when another was queued meanwhile.
    fn finished(&mut self) -> bool {
        self.running = false;
        std::mem::take(&mut self.queued)
    }
}

fn absolute(p: &Path) -> PathBuf {
    std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf())
}

/// Watch the directories of the watched files (an editor's save-by-rename replaces the file).
type Watcher = Debouncer<RecommendedWatcher, RecommendedCache>;

fn watch(tx: Sender<Msg>, watched: Arc<Mutex<Vec<PathBuf>>>) -> color_eyre::Result<Watcher> {
    let debouncer = new_debouncer(
        Duration::from_millis(150),
        None,
        move |res: DebounceEventResult| {
            let Ok(events) = res else { return };
            let files = watched.lock().map(|w| w.clone()).unwrap_or_default();
            // Reading a file (ours included) is not a change.
            let changed = events.iter().any(|e| {
                !matches!(e.kind, EventKind::Access(_))
                    && e.paths.iter().any(|p| files.contains(&absolute(p)))
            });
            if changed {
                let _ = tx.send(Msg::FileChanged);
            }
        },
    )?;
    Ok(debouncer)
}

fn add_watch(debouncer: &mut Watcher, watched: &Mutex<Vec<PathBuf>>, file: &Path) {
    let file = absolute(file);
    let Ok(mut list) = watched.lock() else { return };
    let dir = file.parent().map(Path::to_path_buf).unwrap_or_default();
    let dir_known = list.iter().any(|f| f.parent() == Some(dir.as_path()));
    if !list.contains(&file) {
        list.push(file);
    }
    if !dir_known || list.len() == 1 {
        let _ = debouncer.watch(&dir, RecursiveMode::NonRecursive);
    }
}

/// The terminal in raw mode with the alternate screen and mouse capture; restored when
/// dropped, and by the panic hook on a panic.
struct Guard(DefaultTerminal);

impl Guard {
    fn enter() -> color_eyre::Result<Guard> {
        let hook = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let _ = execute!(stdout(), DisableMouseCapture);
            hook(info);
        }));
        // ratatui's own hook restores raw mode and the screen before ours runs.
        let terminal = ratatui::try_init()?;
        execute!(stdout(), EnableMouseCapture)?;
        Ok(Guard(terminal))
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = execute!(stdout(), DisableMouseCapture);
        ratatui::restore();
    }
}
