//! A throwaway PostgreSQL cluster: `initdb` + `postgres` in a temporary directory, on a free
//! port of 127.0.0.1 (and a unix socket in that directory), stopped and removed by a watchdog
//! when the test process ends, however it ends.
//!
//! The watchdog is a small `sh` started before anything else, whose stdin is a pipe from the
//! test process. The test process never writes to it; when it exits (normally, on a panic, on
//! Ctrl-C or `kill -9`) the kernel closes the pipe, the watchdog's `cat` sees end of file, and
//! the watchdog stops the postmaster named in `postmaster.pid` (fast shutdown, then immediate,
//! then SIGKILL) and deletes the directory. Rust's test harness never runs the destructors of
//! statics, so nothing in the test process could do that reliably; the pipe needs no `unsafe`
//! (unlike `prctl(PR_SET_PDEATHSIG)`), works on Linux and macOS, and does not depend on PID reuse.
//! Both the watchdog and `postgres` get process groups of their own so that a Ctrl-C in the
//! terminal stops the tests, not them mid-cleanup.

use std::fs::File;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::{Duration, Instant};

use super::bindir::RunAs;

const WATCHDOG: &str = r#"
trap '' INT HUP TERM QUIT
dir=$1
cat >/dev/null
pidfile="$dir/data/postmaster.pid"
if [ -f "$pidfile" ]; then
  pid=$(head -n 1 "$pidfile")
  if [ -n "$pid" ] && kill -INT "$pid" 2>/dev/null; then
    n=0
    while kill -0 "$pid" 2>/dev/null; do
      n=$((n + 1))
      [ "$n" = 100 ] && kill -QUIT "$pid" 2>/dev/null
      [ "$n" = 200 ] && kill -KILL "$pid" 2>/dev/null
      sleep 0.1
    done
  fi
fi
rm -rf "$dir"
"#;

pub struct Cluster {
    bindir: PathBuf,
    dir: PathBuf,
    port: u16,
    run_as: Option<RunAs>,
    postgres: Option<Child>,
    watchdog: Option<(Child, ChildStdin)>,
}

impl Cluster {
    /// Creates and starts a cluster with the binaries in `bindir`; superuser `postgres`, trust
    /// authentication, durability off (it is thrown away).
    pub fn start(bindir: &Path) -> Result<Cluster, String> {
        let run_as = RunAs::when_root()?;
        // As root, PostgreSQL runs as `nobody`, which must reach the directory: /tmp, not a
        // TMPDIR that may be private to root.
        let base = match run_as {
            Some(_) => PathBuf::from("/tmp"),
            None => std::env::temp_dir(),
        };
        let dir = base.join(format!(
            "workbench-pg-{}-{:08x}",
            std::process::id(),
            fastrand::u32(..)
        ));
        std::fs::create_dir(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let watchdog = Command::new("sh")
            .args(["-c", WATCHDOG, "workbench-pg-watchdog"])
            .arg(&dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn();
        let mut watchdog = match watchdog {
            Ok(w) => w,
            Err(e) => {
                let _ = std::fs::remove_dir_all(&dir);
                return Err(format!("cannot start the watchdog `sh`: {e}"));
            }
        };
        let stdin = watchdog.stdin.take().unwrap();
        // From here on, dropping `cluster` stops and removes everything.
        let mut cluster = Cluster {
            bindir: bindir.to_path_buf(),
            dir,
            port: 0,
            run_as,
            postgres: None,
            watchdog: Some((watchdog, stdin)),
        };
        cluster.init()?;
        let mut last = String::new();
        for _ in 0..5 {
            cluster.port = free_port()?;
            match cluster.launch() {
                Ok(()) => return Ok(cluster),
                Err(e) if e.contains("could not bind") || e.contains("already in use") => last = e,
                Err(e) => return Err(e),
            }
        }
        Err(last)
    }

    /// `postgres://postgres@127.0.0.1:PORT`, without a database.
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}", self.port)
    }

    /// Fast shutdown, waiting until the server is gone.
    pub fn stop(&mut self) {
        let Some(mut child) = self.postgres.take() else {
            return;
        };
        // The postmaster's own pid: the child may be `runuser`, which waits for it.
        let pid = self.postmaster_pid().unwrap_or(child.id());
        let _ = Command::new("sh")
            .args(["-c", "kill -INT \"$1\"", "sh", &pid.to_string()])
            .status();
        let _ = child.wait();
    }

    /// Starts the stopped server again, on the same port.
    pub fn restart(&mut self) -> Result<(), String> {
        self.stop();
        self.launch()
    }

    fn command(&self, program: &str) -> Command {
        let program = self.bindir.join(program);
        let mut cmd = match &self.run_as {
            Some(r) => r.command(&program),
            None => Command::new(&program),
        };
        cmd.current_dir(&self.dir);
        for var in [
            "PGDATA",
            "PGHOST",
            "PGPORT",
            "PGUSER",
            "PGDATABASE",
            "PGOPTIONS",
        ] {
            cmd.env_remove(var);
        }
        cmd
    }

    fn data(&self) -> PathBuf {
        self.dir.join("data")
    }

    fn init(&mut self) -> Result<(), String> {
        if let Some(r) = &self.run_as {
            std::os::unix::fs::chown(&self.dir, Some(r.uid), Some(r.gid))
                .map_err(|e| format!("chown {}: {e}", self.dir.display()))?;
        }
        let out = self
            .command("initdb")
            .arg("-D")
            .arg(self.data())
            .args(["-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-locale"])
            .arg("--no-sync")
            .output()
            .map_err(|e| format!("cannot run initdb: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "initdb failed ({}): {}{}",
                out.status,
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        Ok(())
    }

    fn launch(&mut self) -> Result<(), String> {
        let log_path = self.dir.join("postgres.log");
        let log = File::create(&log_path).map_err(|e| format!("{}: {e}", log_path.display()))?;
        let mut child = self
            .command("postgres")
            .arg("-D")
            .arg(self.data())
            .args(["-p", &self.port.to_string(), "-k"])
            .arg(&self.dir)
            .args(["-c", "listen_addresses=127.0.0.1"])
            .args(["-c", "max_connections=200"])
            .args(["-c", "fsync=off", "-c", "synchronous_commit=off"])
            .args(["-c", "full_page_writes=off"])
            .stdin(Stdio::null())
            .stdout(log.try_clone().map_err(|e| e.to_string())?)
            .stderr(log)
            .process_group(0)
            .spawn()
            .map_err(|e| format!("cannot run postgres: {e}"))?;
        let started = Instant::now();
        let conninfo = format!(
            "host=127.0.0.1 port={} user=postgres dbname=postgres connect_timeout=2",
            self.port
        );
        loop {
            if let Ok(Some(status)) = child.try_wait() {
                let log = std::fs::read_to_string(&log_path).unwrap_or_default();
                return Err(format!("postgres exited ({status}): {log}"));
            }
            if let Ok(mut c) = postgres::Client::connect(&conninfo, postgres::NoTls) {
                // Ours, not a server that took the port meanwhile.
                let dir: String = c
                    .query_one("SHOW data_directory", &[])
                    .map_err(|e| e.to_string())?
                    .get(0);
                let canon = |p: &Path| std::fs::canonicalize(p).unwrap_or(p.to_path_buf());
                if canon(Path::new(&dir)) != canon(&self.data()) {
                    return Err(format!("port {} answered from {dir}", self.port));
                }
                self.postgres = Some(child);
                return Ok(());
            }
            if started.elapsed() > Duration::from_secs(60) {
                let _ = child.kill();
                let _ = child.wait();
                let log = std::fs::read_to_string(&log_path).unwrap_or_default();
                return Err(format!("postgres did not answer within 60 s: {log}"));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn postmaster_pid(&self) -> Option<u32> {
        std::fs::read_to_string(self.data().join("postmaster.pid"))
            .ok()?
            .lines()
            .next()?
            .trim()
            .parse()
            .ok()
    }
}

impl Drop for Cluster {
    /// A cluster owned by a test (not the shared one, which lives until the process exits):
    /// stop it, then let the watchdog remove the directory, and wait for that.
    fn drop(&mut self) {
        self.stop();
        if let Some((mut watchdog, stdin)) = self.watchdog.take() {
            drop(stdin);
            let _ = watchdog.wait();
        }
    }
}

fn free_port() -> Result<u16, String> {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| format!("no free port on 127.0.0.1: {e}"))
}
