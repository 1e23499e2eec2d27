//! `workbench` / `workbench tui`: open the terminal workbench on a scenario.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use color_eyre::eyre::eyre;
use workbench::scenario;

#[derive(Debug, Args, Default)]
pub struct TuiArgs {
    /// The scenario to open (default: the first file in `scenarios/`).
    scenario: Option<PathBuf>,
    /// Rules file; overrides the scenario's `rules:` and `RULES_PATH`.
    #[arg(long)]
    rules: Option<PathBuf>,
}

pub fn tui(args: TuiArgs) -> color_eyre::Result<ExitCode> {
    let scenario = match args.scenario {
        Some(s) => s,
        None => scenario::expand(&[PathBuf::from("scenarios")])?
            .into_iter()
            .next()
            .ok_or_else(|| eyre!("no scenario in `scenarios/`"))?,
    };
    if !std::io::stdout().is_terminal() {
        return Err(eyre!(
            "the workbench needs a terminal; use `workbench run` or `workbench explain` for text"
        ));
    }
    workbench::tui::run(&workbench::tui::Options {
        scenario,
        rules: args.rules,
    })?;
    Ok(ExitCode::SUCCESS)
}
