//! `workbench check`: validate a rules file, summarise it in one line, and lint it, against
//! the events of scenario files when there are some.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args;
use workbench::lint::{Facts, lint_with};
use workbench::rules::RuleSet;

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The rules file (default: `RULES_PATH`, then `rules/rules.yaml`).
    rules: Option<PathBuf>,
    /// Exit 1 when there are warnings.
    #[arg(long)]
    deny_warnings: bool,
    /// Scenario files or directories whose events the lints look at (default: a `scenarios/`
    /// directory beside the rules file, else beside its directory, when there is one).
    #[arg(long, num_args = 1.., value_name = "PATH")]
    scenarios: Vec<PathBuf>,
    /// Look at no scenarios, not even the default directory.
    #[arg(long, conflicts_with = "scenarios")]
    no_scenarios: bool,
}

pub fn check(args: CheckArgs) -> color_eyre::Result<ExitCode> {
    let path = workbench::plan::rules_path(args.rules.as_deref(), None);
    let rules = RuleSet::load(&path)?;
    let scenarios = if args.no_scenarios {
        Vec::new()
    } else if args.scenarios.is_empty() {
        default_scenarios(&path).into_iter().collect()
    } else {
        args.scenarios
    };
    let facts = if scenarios.is_empty() {
        Facts::for_rules(&rules)
    } else {
        Facts::load(&scenarios, &rules)?
    };
    let mut by_trigger: BTreeMap<&str, usize> = BTreeMap::new();
    for r in rules.enabled() {
        *by_trigger.entry(&r.trigger).or_default() += 1;
    }
    let triggers: Vec<String> = by_trigger.iter().map(|(t, n)| format!("{t} {n}")).collect();
    let against = if facts.files == 0 {
        String::new()
    } else {
        format!(
            "; against {} and {}",
            count(facts.files, "scenario file"),
            count(facts.events, "event")
        )
    };
    println!(
        "{}: ok, {}, {} enabled; by trigger: {}{against}",
        path.display(),
        count(rules.rules.len(), "rule"),
        rules.enabled().count(),
        if triggers.is_empty() {
            "none".into()
        } else {
            triggers.join(", ")
        }
    );
    let lints = lint_with(&rules, &facts);
    for w in &lints.warnings {
        let at = w.line.map(|l| format!(":{l}")).unwrap_or_default();
        println!("{}{at}: warning: {}", path.display(), w.message);
    }
    for note in &lints.notes {
        println!("{}: note: {note}", path.display());
    }
    if !lints.warnings.is_empty() {
        println!("{}", count(lints.warnings.len(), "warning"));
    }
    Ok(if args.deny_warnings && !lints.warnings.is_empty() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// `n thing` or `n things`.
fn count(n: usize, thing: &str) -> String {
    format!("{n} {thing}{}", if n == 1 { "" } else { "s" })
}

/// `scenarios/` beside the rules file, else beside its directory (`rules/rules.yaml` ->
/// `scenarios/`; not above the working directory), when it is a directory.
fn default_scenarios(rules: &Path) -> Option<PathBuf> {
    let dir = match rules.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let beside = dir.join("scenarios");
    if beside.is_dir() {
        return Some(beside);
    }
    let up = match dir.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.join("scenarios"),
        _ if dir == Path::new(".") => return None,
        _ => PathBuf::from("scenarios"),
    };
    up.is_dir().then_some(up)
}
