//! `workbench check`: validate a rules file, summarise it in one line, and lint it.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use workbench::lint::lint;
use workbench::rules::RuleSet;

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The rules file (default: `RULES_PATH`, then `rules/rules.yaml`).
    rules: Option<PathBuf>,
    /// Exit 1 when there are warnings.
    #[arg(long)]
    deny_warnings: bool,
}

pub fn check(args: CheckArgs) -> color_eyre::Result<ExitCode> {
    let path = workbench::session::rules_path(args.rules.as_deref(), None);
    let rules = RuleSet::load(&path)?;
    let mut by_trigger: BTreeMap<&str, usize> = BTreeMap::new();
    for r in rules.enabled() {
        *by_trigger.entry(&r.trigger).or_default() += 1;
    }
    let triggers: Vec<String> = by_trigger.iter().map(|(t, n)| format!("{t} {n}")).collect();
    println!(
        "{}: ok, {} rules, {} enabled; by trigger: {}",
        path.display(),
        rules.rules.len(),
        rules.enabled().count(),
        if triggers.is_empty() {
            "none".into()
        } else {
            triggers.join(", ")
        }
    );
    let warnings = lint(&rules);
    for w in &warnings {
        let at = w.line.map(|l| format!(":{l}")).unwrap_or_default();
        println!("{}{at}: warning: {}", path.display(), w.message);
    }
    if !warnings.is_empty() {
        println!(
            "{} warning{}",
            warnings.len(),
            if warnings.len() == 1 { "" } else { "s" }
        );
    }
    Ok(if args.deny_warnings && !warnings.is_empty() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
