//! `workbench run`: scenarios through the engine, expectations checked, a report written.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, ValueEnum};
use color_eyre::eyre::{WrapErr, eyre};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use workbench::pipeline::Pipeline;
use workbench::plan::{self, Planned};
use workbench::provider::{Discard, MessagesFile, Provider};
use workbench::report;
use workbench::results::{EventResult, FileRun};
use workbench::rules::RuleSet;
use workbench::runner;
use workbench::scenario::Scenario;
use workbench::store::{SqliteStore, Store};

#[derive(Debug, Args)]
pub struct RunArgs {
    /// Scenario files (`.yaml`, `.yml`, `.jsonl`) or directories of them.
    #[arg(required = true)]
    scenarios: Vec<PathBuf>,
    /// Rules file; overrides the scenario's `rules:` and `RULES_PATH`.
    #[arg(long)]
    rules: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Write the report here instead of stdout.
    #[arg(long)]
    output: Option<PathBuf>,
    /// Keep the scratch database in this file (recreated per run; with several scenarios,
    /// one file per scenario: `NAME.<scenario>.db`).
    #[arg(long)]
    db: Option<PathBuf>,
    /// Append the delivered `messages.txt` lines to this file.
    #[arg(long)]
    messages: Option<PathBuf>,
    /// Fail (exit 1) when fewer than PERCENT of the enabled rules matched at least once
    /// (alone: 100, every enabled rule must match).
    #[arg(long, value_name = "PERCENT", num_args = 0..=1, default_missing_value = "100")]
    min_coverage: Option<f64>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Format {
    Text,
    Json,
    Junit,
}

pub fn run(args: &RunArgs) -> color_eyre::Result<ExitCode> {
    // Every input is loaded and validated before anything runs.
    let plan = plan::load(&args.scenarios, args.rules.as_deref())?;
    let mut provider: Box<dyn Provider> = match &args.messages {
        Some(p) => Box::new(
            MessagesFile::append(p, false)
                .wrap_err_with(|| format!("cannot open `{}`", p.display()))?,
        ),
        None => Box::new(Discard),
    };

    let several = plan.len() > 1;
    let mut runs = Vec::with_capacity(plan.len());
    for Planned {
        scenario,
        rules_path,
        rules,
    } in plan
    {
        let store = match &args.db {
            Some(db) => {
                let db = db_path(db, &scenario.path, several);
                fresh(&db)?;
                SqliteStore::open(&db)
                    .wrap_err_with(|| format!("cannot open `{}`", db.display()))?
            }
            None => SqliteStore::open_in_memory()?,
        }
        .batched(runner::BATCH);

        let results = run_one(&scenario, &rules, store, &mut provider)?;
        runs.push(FileRun {
            scenario,
            rules_path,
            rules,
            results,
        });
    }

    let opts = report::Options {
        min_coverage: args.min_coverage,
    };
    let out = match args.format {
        Format::Text => report::text(&runs, &opts),
        Format::Json => report::json(&runs, &opts),
        Format::Junit => report::junit(&runs, &opts),
    };
    match &args.output {
        Some(p) => {
            std::fs::write(p, out).wrap_err_with(|| format!("cannot write `{}`", p.display()))?;
        }
        None => print!("{out}"),
    }
    Ok(if report::failed(&runs, &opts) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn run_one<S: Store>(
    scenario: &Scenario,
    rules: &RuleSet,
    store: S,
    provider: &mut Box<dyn Provider>,
) -> color_eyre::Result<Vec<EventResult>> {
    let bar = progress_bar(scenario);
    let mut pipeline = Pipeline::new(store, &mut **provider);
    let results = runner::run(scenario, rules, &mut pipeline, |n| {
        bar.set_position(n as u64);
    })
    .wrap_err_with(|| format!("running `{}`", scenario.path.display()))?;
    bar.finish_and_clear();
    Ok(results)
}

/// A progress bar on stderr for long runs, only when stderr is a terminal.
fn progress_bar(scenario: &Scenario) -> ProgressBar {
    let n = scenario.len as u64;
    if n < 20_000 || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(n), ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len} events ({per_sec}, eta {eta})")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar.set_message(scenario.path.display().to_string());
    bar
}

fn db_path(db: &Path, scenario: &Path, several: bool) -> PathBuf {
    if !several {
        return db.to_path_buf();
    }
    let stem = db.file_stem().and_then(|s| s.to_str()).unwrap_or("scratch");
    let ext = db.extension().and_then(|s| s.to_str()).unwrap_or("db");
    let name = scenario
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("scenario");
    db.with_file_name(format!("{stem}.{name}.{ext}"))
}

/// Remove an earlier database (and its WAL files) so each run starts fresh.
fn fresh(db: &Path) -> color_eyre::Result<()> {
    if db.is_dir() {
        return Err(eyre!(
            "`{}` is a directory, not a database file",
            db.display()
        ));
    }
    for suffix in ["", "-wal", "-shm"] {
        let mut p = db.as_os_str().to_owned();
        p.push(suffix);
        let p = PathBuf::from(p);
        if p.exists() {
            std::fs::remove_file(&p)
                .wrap_err_with(|| format!("cannot replace `{}`", p.display()))?;
        }
    }
    Ok(())
}
