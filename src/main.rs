//! The `workbench` binary: parses the command line and hands off to a subcommand.

mod cli;

use std::process::ExitCode;

// mimalloc instead of glibc's malloc: a run allocates and frees small strings and maps for
// every event, and glibc's `malloc`/`free` (with its consolidation) were ~9 % of a run's
// samples (`perf`, issue #15; BENCHMARKS.md has the before/after).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    cli::main()
}
