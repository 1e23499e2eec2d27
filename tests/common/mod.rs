//! Helpers shared by the integration tests: run the built binary from the repository root.

#![allow(dead_code)]

pub mod server;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn workbench(args: &[&str]) -> Run {
    workbench_in(&root(), args)
}

pub fn workbench_in(dir: &Path, args: &[&str]) -> Run {
    let out: Output = Command::new(env!("CARGO_BIN_EXE_workbench"))
        .args(args)
        .current_dir(dir)
        .env_remove("RULES_PATH")
        .env("NO_COLOR", "1")
        .output()
        .expect("the binary runs");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8(out.stdout).expect("utf-8 stdout"),
        stderr: String::from_utf8(out.stderr).expect("utf-8 stderr"),
    }
}

/// A fresh PostgreSQL database with a random name on the local server, dropped afterwards.
/// `WORKBENCH_PG` overrides the server URL (default `postgres://postgres@127.0.0.1:5432`).
pub struct PgDb {
    pub name: String,
    server: String,
}

impl PgDb {
    pub fn new() -> PgDb {
        let server = std::env::var("WORKBENCH_PG")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".to_string());
        let name = format!("wb_test_{:016x}", fastrand::u64(..));
        let mut admin = postgres::Client::connect(&format!("{server}/postgres"), postgres::NoTls)
            .expect("a PostgreSQL server on 127.0.0.1:5432 (see .ci/run)");
        admin
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .unwrap();
        PgDb { name, server }
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
