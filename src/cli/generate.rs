//! `workbench gen`: write a synthetic event stream.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, ValueEnum};
use color_eyre::eyre::WrapErr;
use workbench::generate::{GenSpec, Mix, Shape, generate_shaped};

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
    /// The days the timestamps span, from 2025-09-01T08:00:00Z.
    #[arg(long, default_value_t = 42, value_parser = clap::value_parser!(u32).range(1..=36_500))]
    days: u32,
    /// How events fall on users: `uniform` (every user equally active) or `active`
    /// (production-like: most users have a few events, some have thousands).
    #[arg(long, value_enum, default_value_t = MixArg::Uniform)]
    mix: MixArg,
    /// Write here instead of stdout.
    #[arg(long)]
    out: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum MixArg {
    Uniform,
    Active,
}

pub fn generate(a: &GenArgs) -> color_eyre::Result<ExitCode> {
    let spec = GenSpec {
        users: a.users,
        events: a.events,
        seed: a.seed,
    };
    let shape = Shape {
        days: a.days,
        mix: match a.mix {
            MixArg::Uniform => Mix::Uniform,
            MixArg::Active => Mix::Active,
        },
    };
    let mut out: Box<dyn Write> = match &a.out {
        Some(p) => Box::new(BufWriter::new(
            File::create(p).wrap_err_with(|| format!("cannot create `{}`", p.display()))?,
        )),
        None => Box::new(BufWriter::new(std::io::stdout().lock())),
    };
    generate_shaped(spec, shape, &mut out).wrap_err("cannot write the stream")?;
    Ok(ExitCode::SUCCESS)
}
