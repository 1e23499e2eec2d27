//! Where the PostgreSQL server binaries (`initdb`, `postgres`) are, and how to run them when the
//! tests run as root (PostgreSQL refuses to).

use std::path::{Path, PathBuf};
use std::process::Command;

/// The directory holding both `initdb` and `postgres`, or why none was found.
///
/// `WORKBENCH_PG_BINDIR`, when set, is the only place looked at (set it to a directory without
/// them to simulate a machine without PostgreSQL). Otherwise: `pg_config --bindir` (on Debian
/// that may be the client-only directory, hence the check), `/usr/lib/postgresql/*/bin` (the
/// newest version first), `/usr/local/pgsql/bin`, Homebrew's directories, then `PATH`.
pub fn find() -> Result<PathBuf, String> {
    if let Some(dir) = std::env::var_os("WORKBENCH_PG_BINDIR") {
        let dir = PathBuf::from(dir);
        return if has_server(&dir) {
            Ok(dir)
        } else {
            Err(format!(
                "WORKBENCH_PG_BINDIR={} holds no `initdb` and `postgres`",
                dir.display()
            ))
        };
    }
    candidates()
        .into_iter()
        .find(|d| has_server(d))
        .ok_or_else(|| {
            "no PostgreSQL server binaries (`initdb`, `postgres`) found through `pg_config \
             --bindir`, /usr/lib/postgresql/*/bin, /usr/local/pgsql/bin, Homebrew or PATH"
                .to_string()
        })
}

fn has_server(dir: &Path) -> bool {
    dir.join("initdb").is_file() && dir.join("postgres").is_file()
}

fn candidates() -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    if let Ok(out) = Command::new("pg_config").arg("--bindir").output()
        && out.status.success()
    {
        dirs.push(PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()));
    }
    let mut debian: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let version = e.file_name().to_string_lossy().parse::<u32>().ok()?;
            Some((version, e.path().join("bin")))
        })
        .collect();
    debian.sort_by_key(|d| std::cmp::Reverse(d.0));
    dirs.extend(debian.into_iter().map(|(_, d)| d));
    dirs.push("/usr/local/pgsql/bin".into());
    dirs.push("/opt/homebrew/bin".into());
    for prefix in ["/opt/homebrew/opt", "/usr/local/opt"] {
        let mut brew: Vec<PathBuf> = std::fs::read_dir(prefix)
            .into_iter()
            .flatten()
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().starts_with("postgresql"))
            .map(|e| e.path().join("bin"))
            .collect();
        brew.sort();
        brew.reverse();
        dirs.extend(brew);
    }
    dirs.extend(path_dirs());
    dirs
}

fn path_dirs() -> Vec<PathBuf> {
    std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect())
        .unwrap_or_default()
}

/// A program on `PATH` or in the system directories (`runuser` lives in `/usr/sbin`).
pub fn which(name: &str) -> Option<PathBuf> {
    path_dirs()
        .into_iter()
        .chain(["/usr/sbin", "/sbin", "/usr/bin", "/bin"].map(PathBuf::from))
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

/// The account PostgreSQL runs as when the tests run as root: `nobody`.
#[derive(Clone, Debug)]
pub struct RunAs {
    pub uid: u32,
    pub gid: u32,
    /// The command prefix that drops to that account (`setpriv ...` or `runuser -u nobody --`).
    prefix: Vec<String>,
}

impl RunAs {
    /// `None` when the tests do not run as root (then PostgreSQL runs as the current user).
    pub fn when_root() -> Result<Option<RunAs>, String> {
        if id(&["-u"])? != 0 {
            return Ok(None);
        }
        let (uid, gid) = (id(&["-u", "nobody"])?, id(&["-g", "nobody"])?);
        let prefix = if let Some(setpriv) = which("setpriv") {
            vec![
                setpriv.display().to_string(),
                format!("--reuid={uid}"),
                format!("--regid={gid}"),
                "--clear-groups".into(),
                "--".into(),
            ]
        } else if let Some(runuser) = which("runuser") {
            vec![
                runuser.display().to_string(),
                "-u".into(),
                "nobody".into(),
                "--".into(),
            ]
        } else {
            return Err(
                "running as root, and neither `setpriv` nor `runuser` is there to \
                        start PostgreSQL as `nobody` (it refuses to run as root)"
                    .into(),
            );
        };
        Ok(Some(RunAs { uid, gid, prefix }))
    }

    /// `program` run as this account.
    pub fn command(&self, program: &Path) -> Command {
        let mut cmd = Command::new(&self.prefix[0]);
        cmd.args(&self.prefix[1..]).arg(program);
        cmd
    }
}

fn id(args: &[&str]) -> Result<u32, String> {
    let out = Command::new("id")
        .args(args)
        .output()
        .map_err(|e| format!("`id {}`: {e}", args.join(" ")))?;
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .map_err(|_| format!("`id {}` gave no number", args.join(" ")))
}
