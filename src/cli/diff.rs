//! `workbench diff`: what a rules change does to the decisions of the same events.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, ValueEnum};
use color_eyre::eyre::WrapErr;
use workbench::diff;
use workbench::diff_base::Bases;
use workbench::diff_run::{self, Version};
use workbench::plan;

#[derive(Debug, Args)]
pub struct DiffArgs {
    /// Scenario files (`.yaml`, `.yml`, `.jsonl`) or directories of them.
    #[arg(required = true)]
    scenarios: Vec<PathBuf>,
    /// The new rules (default: the scenario's `rules:`, `RULES_PATH`, `rules/rules.yaml`).
    #[arg(long)]
    rules: Option<PathBuf>,
    /// The old rules: a path, `git:REV` (the new rules file as of REV), or `git:REV:PATH`
    /// [default: git:HEAD].
    #[arg(long)]
    base: Option<String>,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Exit 1 when any decision changed.
    #[arg(long)]
    fail_on_change: bool,
    /// Memory for each run's scratch databases, shared by the shards: past it they spill to a
    /// temporary file.
    #[arg(long, value_name = "MIB", default_value_t = workbench::runner::SCRATCH_MIB)]
    scratch_memory: u32,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Format {
    Text,
    Json,
}

pub fn diff(args: &DiffArgs) -> color_eyre::Result<ExitCode> {
    // Every rules version is loaded first, each file and git revision once: nothing runs on
    // bad input.
    let planned = plan::load(&args.scenarios, args.rules.as_deref())?;
    let mut bases = Bases::default();
    let mut plan = Vec::new();
    for p in planned {
        let (base_label, base) = bases.load(args.base.as_deref(), &p.rules_path)?;
        plan.push((
            p.scenario,
            p.rules_path,
            p.rules,
            PathBuf::from(base_label),
            base,
        ));
    }
    let mut diffs = Vec::new();
    for (scenario, new_path, new, base_path, base) in plan {
        let base = Version {
            path: base_path,
            rules: base,
        };
        let new = Version {
            path: new_path,
            rules: new,
        };
        diffs.push(diff_run::diff(&scenario, &base, &new, args.scratch_memory)?);
    }
    // Written as rendered: a month's changes need not sit in memory twice.
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    match args.format {
        Format::Text => diff::write_text(&diffs, &mut out),
        Format::Json => diff::write_json(&diffs, &mut out),
    }
    .and_then(|()| out.flush())
    .wrap_err("cannot write the diff")?;
    let changed: usize = diffs.iter().map(workbench::diff::FileDiff::changed).sum();
    Ok(if args.fail_on_change && changed > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
