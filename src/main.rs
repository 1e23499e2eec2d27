//! The `workbench` binary: parses the command line and hands off to a subcommand.

mod cli;

use std::process::ExitCode;

fn main() -> ExitCode {
    cli::main()
}
