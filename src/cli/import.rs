//! `workbench import`: a service database's history as a `.jsonl` scenario.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use color_eyre::eyre::{WrapErr, eyre};
use workbench::event::Timestamp;
use workbench::import::{Filter, export};
use workbench::serve::config::{Database, parse_database_url};
use workbench::store::{PgStore, SqliteStore};

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The service database: a file, a `sqlite:///` URL or a `postgres://` URL.
    #[arg(long)]
    db: String,
    /// Only events that arrived at or after this RFC 3339 time.
    #[arg(long)]
    since: Option<String>,
    /// Only this user's events.
    #[arg(long)]
    user: Option<String>,
    /// Write here instead of stdout.
    #[arg(long)]
    out: Option<PathBuf>,
}

pub fn import(a: ImportArgs) -> color_eyre::Result<ExitCode> {
    let since = a
        .since
        .as_deref()
        .map(Timestamp::parse)
        .transpose()
        .map_err(|e| eyre!("--since: {e}"))?
        .map(|t| t.0);
    let db = if a.db.contains("://") {
        parse_database_url(&a.db)?
    } else {
        Database::Sqlite(PathBuf::from(&a.db))
    };
    let mut out: Box<dyn Write> = match &a.out {
        Some(p) => Box::new(BufWriter::new(
            File::create(p).wrap_err_with(|| format!("cannot create `{}`", p.display()))?,
        )),
        None => Box::new(BufWriter::new(std::io::stdout().lock())),
    };
    let filter = Filter {
        since,
        user: a.user,
    };
    let n = match db {
        Database::Sqlite(path) => {
            if !path.is_file() {
                return Err(eyre!("`{}`: no such database file", path.display()));
            }
            let mut store = SqliteStore::open(&path)
                .wrap_err_with(|| format!("cannot open `{}`", path.display()))?;
            export(&mut store, &filter, &mut out)?
        }
        Database::Postgres(url) => {
            let mut store = PgStore::connect(&url).wrap_err("cannot connect to PostgreSQL")?;
            export(&mut store, &filter, &mut out)?
        }
    };
    drop(out);
    for why in &n.left_out {
        eprintln!("warning: left out {why}");
    }
    let n = n.count;
    eprintln!("exported {n} event{}", if n == 1 { "" } else { "s" });
    Ok(ExitCode::SUCCESS)
}
