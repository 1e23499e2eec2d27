//! `workbench check`: validate a rules file and summarise it in one line.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use workbench::rules::RuleSet;

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The rules file (default: `RULES_PATH`, then `rules/rules.yaml`).
    rules: Option<PathBuf>,
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
    Ok(ExitCode::SUCCESS)
}
