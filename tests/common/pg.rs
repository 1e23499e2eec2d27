//! PostgreSQL for the tests: a fresh database per test on the server of this test binary (a
//! throwaway cluster of its own, or the one `WORKBENCH_PG` names), and a clear, visible skip
//! when there is no PostgreSQL at all (a failure instead under `WORKBENCH_REQUIRE_PG=1`).

pub mod bindir;
pub mod cluster;

use std::io::Write;
use std::sync::{Once, OnceLock};

pub use cluster::Cluster;

/// How to run the PostgreSQL tests, said whenever they are skipped.
const HOW: &str = "to run them, install the PostgreSQL server (Debian/Ubuntu: `apt-get install \
    postgresql`; macOS: `brew install postgresql`) so that `initdb` and `postgres` are found \
    (or point WORKBENCH_PG_BINDIR at them): the tests then start a throwaway cluster of their \
    own; or set WORKBENCH_PG=postgres://USER@HOST:PORT to use a server of yours";

enum Shared {
    /// `WORKBENCH_PG`: the user's server; never stopped or reconfigured.
    External(String),
    /// This test binary's own cluster, for the life of the process.
    Own(Cluster),
    /// No PostgreSQL binaries: the tests are skipped.
    Missing(String),
    /// Binaries found, but the cluster would not start: every test fails with this.
    Broken(String),
}

static SHARED: OnceLock<Shared> = OnceLock::new();

/// The server every test of this binary shares: `Ok(url)` (no database in it), or `Err(why)`
/// when there is no PostgreSQL.
fn shared() -> Result<String, String> {
    let shared = SHARED.get_or_init(|| {
        if let Some(url) = external() {
            return Shared::External(url);
        }
        match bindir::find() {
            Err(why) => Shared::Missing(why),
            Ok(dir) => match Cluster::start(&dir) {
                Ok(c) => Shared::Own(c),
                Err(e) => Shared::Broken(format!(
                    "could not start a throwaway PostgreSQL cluster from {}: {e}",
                    dir.display()
                )),
            },
        }
    });
    match shared {
        Shared::External(url) => Ok(url.clone()),
        Shared::Own(c) => Ok(c.url()),
        Shared::Missing(why) => Err(why.clone()),
        Shared::Broken(e) => panic!("{e}"),
    }
}

/// `WORKBENCH_PG` without any database path (`postgres://u@h:5432/db` -> `postgres://u@h:5432`).
fn external() -> Option<String> {
    let url = std::env::var("WORKBENCH_PG")
        .ok()
        .filter(|u| !u.is_empty())?;
    let (scheme, rest) = url.split_once("://").unwrap_or(("postgres", url.as_str()));
    let authority = rest.split(['/', '?']).next().unwrap_or(rest);
    Some(format!("{scheme}://{authority}"))
}

/// Says, once per test binary and past the test harness' output capture, that the PostgreSQL
/// tests are skipped and how to run them; under `WORKBENCH_REQUIRE_PG=1` fails the test instead.
pub fn skipped(why: &str) {
    assert!(
        !std::env::var("WORKBENCH_REQUIRE_PG").is_ok_and(|v| v == "1"),
        "WORKBENCH_REQUIRE_PG=1 and the PostgreSQL tests cannot run: {why}; {HOW}"
    );
    note_once(&format!("PostgreSQL tests skipped: {why}; {HOW}"));
}

/// Writes straight to the process' stderr (`eprintln!` in a test thread would be captured), once
/// per test binary, and only in the first of the binaries one `cargo test` runs: a marker file
/// in `target/tmp` named after cargo's process id says the note was already given.
fn note_once(message: &str) {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        if first_note_of_this_cargo_run() {
            let _ = writeln!(std::io::stderr(), "\nnote: {message}\n");
        }
    });
}

fn first_note_of_this_cargo_run() -> bool {
    let marker = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!(
        "workbench-pg-skip-noted.{}",
        std::os::unix::process::parent_id()
    ));
    // A marker left by an earlier run whose cargo had the same process id is stale.
    let stale = std::fs::metadata(&marker)
        .and_then(|m| m.modified())
        .is_ok_and(|t| t.elapsed().unwrap_or_default() > std::time::Duration::from_secs(3600));
    if stale {
        let _ = std::fs::remove_file(&marker);
    }
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&marker)
        .is_ok()
        || std::fs::metadata(&marker).is_err()
}

/// A cluster of the calling test's own, for a test that stops and restarts its server; `None`
/// (saying why) when there is none to be had. With `WORKBENCH_PG` set it is skipped: the user
/// chose their server, and this test never stops a server it did not start.
pub fn dedicated_cluster(test: &str) -> Option<Cluster> {
    if external().is_some() {
        let _ = writeln!(
            std::io::stderr(),
            "\nnote: {test} skipped: it stops and restarts its PostgreSQL server, which it only \
             does to a throwaway cluster of its own, and WORKBENCH_PG names a server of yours \
             (unset it to run this test)\n"
        );
        return None;
    }
    match bindir::find() {
        Err(why) => {
            skipped(&why);
            None
        }
        Ok(dir) => Some(Cluster::start(&dir).unwrap_or_else(|e| {
            panic!(
                "could not start a throwaway PostgreSQL cluster from {}: {e}",
                dir.display()
            )
        })),
    }
}

/// A fresh database with a unique name, dropped afterwards (a test's own: tests stay
/// independent however they run in parallel).
pub struct PgDb {
    pub name: String,
    server: String,
}

impl PgDb {
    /// A database on the server shared by this test binary; `None` (with the skip note, or a
    /// failure under `WORKBENCH_REQUIRE_PG=1`) when there is no PostgreSQL.
    pub fn new() -> Option<PgDb> {
        match shared() {
            Ok(server) => Some(PgDb::on(&server)),
            Err(why) => {
                skipped(&why);
                None
            }
        }
    }

    /// A database on the server at `server` (`postgres://USER@HOST:PORT`).
    pub fn on(server: &str) -> PgDb {
        let name = format!("wb_test_{:016x}", fastrand::u64(..));
        let mut admin = postgres::Client::connect(&format!("{server}/postgres"), postgres::NoTls)
            .unwrap_or_else(|e| panic!("PostgreSQL at {server}: {e}"));
        admin
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .unwrap();
        PgDb {
            name,
            server: server.to_string(),
        }
    }

    pub fn url(&self) -> String {
        format!("{}/{}", self.server, self.name)
    }
}

impl Drop for PgDb {
    fn drop(&mut self) {
        if let Ok(mut admin) =
            postgres::Client::connect(&format!("{}/postgres", self.server), postgres::NoTls)
        {
            let _ = admin.batch_execute(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ));
        }
    }
}
