//! `workbench` / `workbench tui`: open the terminal workbench on a scenario.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use color_eyre::eyre::eyre;
use workbench::scenario;

#[derive(Debug, Args)]
pub struct TuiArgs {
    /// The scenario to open (default: the first file in `scenarios/`).
    scenario: Option<PathBuf>,
    /// Rules file; overrides the scenario's `rules:` and `RULES_PATH`.
    #[arg(long)]
    rules: Option<PathBuf>,
    /// Memory for each run's scratch databases, shared by the shards: past it they spill to a
    /// temporary file.
    #[arg(long, value_name = "MIB", default_value_t = workbench::session::SCRATCH_MIB)]
    scratch_memory: u32,
}

/// Plain `workbench`: what `workbench tui` with no arguments gives.
impl Default for TuiArgs {
    fn default() -> TuiArgs {
        TuiArgs {
            scenario: None,
            rules: None,
            scratch_memory: workbench::session::SCRATCH_MIB,
        }
    }
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
        scratch_mib: args.scratch_memory,
    })?;
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        tui: TuiArgs,
    }

    #[test]
    fn plain_workbench_opens_as_workbench_tui_does() {
        let parsed = Cli::parse_from(["workbench"]).tui;
        let default = TuiArgs::default();
        assert_eq!(
            (parsed.scenario, parsed.rules, parsed.scratch_memory),
            (default.scenario, default.rules, default.scratch_memory)
        );
        assert_eq!(default.scratch_memory, workbench::session::SCRATCH_MIB);
        let given = Cli::parse_from(["workbench", "--scratch-memory", "64"]).tui;
        assert_eq!(given.scratch_memory, 64);
    }
}
