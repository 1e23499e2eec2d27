//! Command-line interface: argument parsing and the exit-code contract (0 ok, 1 failed
//! expectations, 2 invalid input).

mod check;
mod diff;
mod explain;
mod generate;
mod import;
mod run;
mod serve;
mod tui;

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
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Open the terminal workbench (the default with no command).
    Tui(tui::TuiArgs),
    /// Explain one user's history: every decision with its rule match, suppression and audit.
    Explain(explain::ExplainArgs),
    /// Run scenario files through the engine and check their expectations.
    Run(run::RunArgs),
    /// Serve the HTTP API (the seed's service) on the same engine.
    Serve(serve::ServeArgs),
    /// Compare the decisions of two rule versions over the same events.
    Diff(diff::DiffArgs),
    /// Export a service database's events and decisions as a `.jsonl` scenario.
    Import(import::ImportArgs),
    /// Load and validate a rules file.
    Check(check::CheckArgs),
    /// Generate a deterministic synthetic event stream as JSON Lines.
    Gen(generate::GenArgs),
}

/// Exit status for invalid input (CLI, rules, scenario) and other errors.
pub const INVALID: u8 = 2;

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command.unwrap_or(Command::Tui(tui::TuiArgs::default())) {
        Command::Tui(a) => tui::tui(a),
        Command::Explain(a) => explain::explain(&a),
        Command::Run(a) => run::run(&a),
        Command::Check(a) => check::check(a),
        Command::Diff(a) => diff::diff(&a),
        Command::Import(a) => import::import(a),
        Command::Serve(a) => serve::serve(a),
        Command::Gen(a) => generate::generate(&a),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {}", one_line(&err));
            ExitCode::from(INVALID)
        }
    }
}

/// An error and its causes on one line, each cause once: errors that already show their
/// source in their own message (`database `x`: postgres: ...`) do not repeat it.
fn one_line(err: &color_eyre::Report) -> String {
    let mut out = String::new();
    for cause in err.chain() {
        let text = cause.to_string();
        if out.contains(&text) {
            continue;
        }
        if !out.is_empty() {
            out.push_str(": ");
        }
        out.push_str(&text);
    }
    out
}
