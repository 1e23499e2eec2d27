//! Helpers shared by the integration tests: run the built binary from the repository root;
//! `pg` gives PostgreSQL tests a throwaway server, `server` runs `workbench serve`, `quiet`
//! sets up scheduled sends and the service's clock.

#![allow(dead_code)]

pub mod pg;
pub mod quiet;
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
