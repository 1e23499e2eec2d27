//! `workbench run`: scenarios through the engine, expectations checked, a report written.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Args, ValueEnum};
use color_eyre::eyre::{WrapErr, eyre};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use tempfile::NamedTempFile;
use workbench::pipeline::Pipeline;
use workbench::plan::{self, Planned};
use workbench::provider::{Discard, MessagesFile, Provider};
use workbench::report::{self, Collector, FileReport, Tally};
use workbench::rules::RuleSet;
use workbench::runner::{self, RunError};
use workbench::scenario::Scenario;
use workbench::store::SqliteStore;

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
    /// Memory for the scratch database, in MiB: past it, the database spills to a temporary
    /// file (not used with `--db`).
    #[arg(long, value_name = "MIB", default_value_t = runner::SCRATCH_MIB)]
    scratch_memory: u32,
    /// Decide on this many threads (default: one per core, at most 8), users split between
    /// them by a stable hash, each with its own scratch database; the output is the same as
    /// with one (not used with `--db`).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=64))]
    shards: Option<u16>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    Text,
    Json,
    Junit,
}

/// One scenario's finished run.
struct Done {
    scenario: Scenario,
    rules_path: PathBuf,
    rules: Arc<RuleSet>,
    tally: Tally,
    collector: Collector,
}

/// The rules and YAML scenarios are loaded and validated before anything runs; a `.jsonl`
/// scenario is validated as it runs, in the same read. Nothing is written unless every input
/// was valid and every run finished: the report and `messages.txt` go to temporary files in
/// their directories, moved into place at the end.
pub fn run(args: &RunArgs) -> color_eyre::Result<ExitCode> {
    let plan = plan::open(&args.scenarios, args.rules.as_deref())?;
    let messages = args.messages.as_deref().map(staged_messages).transpose()?;
    let mut provider: Box<dyn Provider> = match &messages {
        Some((target, staged)) => Box::new(
            MessagesFile::append(staged.path(), false)
                .wrap_err_with(|| format!("cannot open `{}`", target.display()))?,
        ),
        None => Box::new(Discard),
    };

    let several = plan.len() > 1;
    let mut runs = Vec::with_capacity(plan.len());
    for Planned {
        mut scenario,
        rules_path,
        rules,
    } in plan
    {
        let mut collector = Collector::new(
            &rules,
            args.format == Format::Json,
            args.format == Format::Junit,
        )
        .wrap_err("cannot create a temporary file for the results")?;
        let shards = args.shards.map_or_else(runner::default_shards, usize::from);
        let how = match &args.db {
            Some(db) => {
                let db = db_path(db, &scenario.path, several);
                fresh(&db)?;
                How::One(
                    SqliteStore::open(&db)
                        .wrap_err_with(|| format!("cannot open `{}`", db.display()))?,
                    runner::BATCH,
                )
            }
            None if shards > 1 => How::Sharded(shards),
            None => How::One(
                SqliteStore::open_scratch(args.scratch_memory)?,
                runner::SCRATCH_BATCH,
            ),
        };
        scenario.len = run_one(
            &scenario,
            &rules,
            how,
            args.scratch_memory,
            &mut provider,
            &mut collector,
        )?;
        collector
            .finish()
            .wrap_err("cannot write the results to a temporary file")?;
        runs.push(Done {
            scenario,
            rules_path,
            tally: std::mem::take(&mut collector.tally),
            rules,
            collector,
        });
    }
    drop(provider);

    let files: Vec<FileReport<'_>> = runs
        .iter()
        .map(|d| FileReport {
            scenario: &d.scenario,
            rules_path: &d.rules_path,
            rules: &d.rules,
            tally: d.tally.clone(),
            decisions: d.collector.decisions(),
        })
        .collect();
    let opts = report::Options {
        min_coverage: args.min_coverage,
    };
    let write = |out: &mut dyn Write| -> std::io::Result<()> {
        match args.format {
            Format::Text => out.write_all(report::text_of(&files, &opts).as_bytes()),
            Format::Json => report::json_to(&mut std::io::BufWriter::new(out), &files, &opts),
            Format::Junit => out.write_all(report::junit_of(&files, &opts).as_bytes()),
        }
    };
    let staged_report = match &args.output {
        Some(p) => {
            let mut staged = staged_in(p)?;
            write(staged.as_file_mut())
                .and_then(|()| staged.as_file_mut().flush())
                .wrap_err_with(|| format!("cannot write `{}`", p.display()))?;
            Some((p, staged))
        }
        None => None,
    };
    if let Some((target, staged)) = messages {
        staged
            .persist(&target)
            .wrap_err_with(|| format!("cannot write `{}`", target.display()))?;
    }
    match staged_report {
        Some((p, staged)) => {
            staged
                .persist(p)
                .wrap_err_with(|| format!("cannot write `{}`", p.display()))?;
        }
        None => write(&mut std::io::stdout().lock()).wrap_err("cannot write the report")?,
    }
    Ok(if report::failed_of(&files, &opts) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// A temporary file in `target`'s directory, to be moved onto it: with `target`'s
/// permissions when it exists, else readable by all (a report is no secret).
fn staged_in(target: &Path) -> color_eyre::Result<NamedTempFile> {
    let dir = match target.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let staged = NamedTempFile::new_in(dir)
        .wrap_err_with(|| format!("cannot write `{}`", target.display()))?;
    let perms = match std::fs::metadata(target) {
        Ok(m) => Some(m.permissions()),
        Err(_) => readable_by_all(),
    };
    if let Some(perms) = perms {
        let _ = staged.as_file().set_permissions(perms);
    }
    Ok(staged)
}

#[cfg(unix)]
#[allow(clippy::unnecessary_wraps)] // `None` elsewhere
fn readable_by_all() -> Option<std::fs::Permissions> {
    use std::os::unix::fs::PermissionsExt;
    Some(std::fs::Permissions::from_mode(0o644))
}

#[cfg(not(unix))]
fn readable_by_all() -> Option<std::fs::Permissions> {
    None
}

/// `messages.txt` staged: a temporary copy of it (empty when it does not exist yet) that the
/// run appends to, moved onto it once everything succeeded.
fn staged_messages(target: &Path) -> color_eyre::Result<(PathBuf, NamedTempFile)> {
    let staged = staged_in(target)?;
    if target.is_file() {
        std::fs::copy(target, staged.path())
            .wrap_err_with(|| format!("cannot read `{}`", target.display()))?;
    } else if target.exists() {
        return Err(eyre!("cannot open `{}`: not a file", target.display()));
    }
    Ok((target.to_path_buf(), staged))
}

/// How a scenario runs: on one store (committing every so many events), or sharded across
/// this many scratch databases.
enum How {
    One(SqliteStore, usize),
    Sharded(usize),
}

fn run_one(
    scenario: &Scenario,
    rules: &RuleSet,
    how: How,
    scratch_mib: u32,
    provider: &mut Box<dyn Provider>,
    collector: &mut Collector,
) -> color_eyre::Result<usize> {
    let bar = progress_bar(scenario);
    let progress = |n: usize| bar.set_position(n as u64);
    let done = match how {
        How::One(store, batch) => {
            let mut pipeline = Pipeline::new(store.batched(batch), &mut **provider);
            runner::run_into(scenario, rules, &mut pipeline, progress, collector)
        }
        How::Sharded(shards) => runner::run_sharded(
            scenario,
            rules,
            shards,
            scratch_mib,
            &mut **provider,
            progress,
            collector,
        ),
    };
    bar.finish_and_clear();
    match done {
        Ok(n) => Ok(n),
        // Invalid input reads as it did when files were validated first.
        Err(RunError::Scenario(e)) => Err(e.into()),
        Err(e) => Err(e).wrap_err_with(|| format!("running `{}`", scenario.path.display())),
    }
}

/// A progress bar on stderr for long runs, only when stderr is a terminal. A streamed file's
/// length is not known before it runs: its bar counts events.
fn progress_bar(scenario: &Scenario) -> ProgressBar {
    let n = scenario.len as u64;
    let streamed = scenario.is_streamed() && n == 0;
    if (!streamed && n < 20_000) || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let (len, template) = if streamed {
        (None, "{msg} {pos} events ({per_sec})")
    } else {
        (
            Some(n),
            "{msg} [{bar:40}] {pos}/{len} events ({per_sec}, eta {eta})",
        )
    };
    let bar = ProgressBar::with_draw_target(len, ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template(template)
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
