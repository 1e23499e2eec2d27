//! `workbench gen`: write a synthetic event stream.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use color_eyre::eyre::WrapErr;
use workbench::generate::{GenSpec, generate as write_stream};

#[derive(Debug, Args)]
pub struct GenArgs {
    /// Number of distinct users.
    #[arg(long, default_value_t = 1000)]
    users: usize,
    /// Number of events.
    #[arg(long, default_value_t = 10_000)]
    events: usize,
    /// Random seed: the same seed gives the same bytes.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Write here instead of stdout.
    #[arg(long)]
    out: Option<PathBuf>,
}

pub fn generate(a: &GenArgs) -> color_eyre::Result<ExitCode> {
    let spec = GenSpec {
        users: a.users,
        events: a.events,
        seed: a.seed,
    };
    let mut out: Box<dyn Write> = match &a.out {
        Some(p) => Box::new(BufWriter::new(
            File::create(p).wrap_err_with(|| format!("cannot create `{}`", p.display()))?,
        )),
        None => Box::new(BufWriter::new(std::io::stdout().lock())),
    };
    write_stream(spec, &mut out).wrap_err("cannot write the stream")?;
    Ok(ExitCode::SUCCESS)
}
