//! Command-line interface: argument parsing and the exit-code contract (0 ok, 1 failed
//! expectations, 2 invalid input).

mod check;
mod generate;
mod run;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "workbench",
    version,
    about = "A rule workbench for behavioural marketing messages"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run scenario files through the engine and check their expectations.
    Run(run::RunArgs),
    /// Load and validate a rules file.
    Check(check::CheckArgs),
    /// Generate a deterministic synthetic event stream as JSON Lines.
    Gen(generate::GenArgs),
}

/// Exit status for invalid input (CLI, rules, scenario) and other errors.
pub const INVALID: u8 = 2;

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run(a) => run::run(a),
        Command::Check(a) => check::check(a),
        Command::Gen(a) => generate::generate(a),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            let chain: Vec<String> = err.chain().map(ToString::to_string).collect();
            eprintln!("error: {}", chain.join(": "));
            ExitCode::from(INVALID)
        }
    }
}

/// The rules file to use: `--rules` > the scenario's `rules:` > `RULES_PATH` > `rules/rules.yaml`.
pub fn rules_path(flag: Option<&Path>, scenario: Option<&Path>) -> PathBuf {
    flag.or(scenario)
        .map(Path::to_path_buf)
        .or_else(|| std::env::var_os("RULES_PATH").map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from("rules/rules.yaml"))
}
