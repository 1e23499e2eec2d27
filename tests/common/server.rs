//! Start `workbench serve` as a child process on port 0 and talk to it over HTTP.
//!
//! Each server has a watchdog (`sh`, reading a pipe from the test process): should the test
//! process die without unwinding (`kill -9`, an abort), the pipe closes and the watchdog stops
//! the server and removes its directory. On the normal paths the watchdog is dismissed first.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;

pub struct Server {
    pub child: Child,
    pub base: String,
    pub dir: Option<tempfile::TempDir>,
    pub log: Arc<Mutex<Vec<String>>>,
    watchdog: Option<Child>,
}

const WATCHDOG: &str = r#"
trap '' INT HUP TERM QUIT
cat >/dev/null
if kill -TERM "$1" 2>/dev/null; then
  n=0
  while kill -0 "$1" 2>/dev/null; do
    n=$((n + 1))
    [ "$n" = 100 ] && kill -KILL "$1" 2>/dev/null
    sleep 0.1
  done
fi
rm -rf "$2"
"#;

/// The watchdog of the server `pid` in `dir` (its stdin is the pipe it waits on).
fn watchdog(pid: u32, dir: &std::path::Path) -> Option<Child> {
    Command::new("sh")
        .args(["-c", WATCHDOG, "workbench-serve-watchdog", &pid.to_string()])
        .arg(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .ok()
}

pub fn rules_abs() -> String {
    super::root().join("rules/rules.yaml").display().to_string()
}

pub fn start_in(
    dir: tempfile::TempDir,
    args: &[&str],
    env: &[(&str, &str)],
) -> Result<Server, String> {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_workbench"));
    cmd.arg("serve")
        .args(args)
        .current_dir(dir.path())
        .env("NO_COLOR", "1")
        .env_remove("API_HOST")
        .env_remove("API_PORT")
        .env_remove("DATABASE_URL")
        .env_remove("RULES_PATH")
        .env_remove("MESSAGES_PATH")
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().unwrap();
    let stderr = child.stderr.take().unwrap();
    let log = Arc::new(Mutex::new(Vec::new()));
    let (tx, rx) = std::sync::mpsc::channel();
    let sink = log.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Some(rest) = line.split("listening on http://").nth(1) {
                let addr = rest
                    .split_whitespace()
                    .next()
                    .unwrap_or_default()
                    .to_string();
                let _ = tx.send(addr);
            }
            sink.lock().unwrap().push(line);
        }
    });
    if let Ok(addr) = rx.recv_timeout(Duration::from_secs(20)) {
        Ok(Server {
            watchdog: watchdog(child.id(), dir.path()),
            child,
            base: format!("http://{addr}"),
            dir: Some(dir),
            log,
        })
    } else {
        let status = child.wait().unwrap();
        std::thread::sleep(Duration::from_millis(100));
        Err(format!("{status}: {}", log.lock().unwrap().join("\n")))
    }
}

pub fn start() -> Server {
    start_sqlite(tempfile::tempdir().unwrap())
}

/// `serve` on `m.db` and `messages.txt` in `dir` (which may already hold them).
pub fn start_sqlite(dir: tempfile::TempDir) -> Server {
    let db = format!("sqlite:///{}", dir.path().join("m.db").display());
    start_in(
        dir,
        &[
            "--port",
            "0",
            "--database-url",
            &db,
            "--rules",
            &rules_abs(),
            "--messages",
            "messages.txt",
        ],
        &[],
    )
    .unwrap()
}

pub fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .build()
        .into()
}

impl Server {
    pub fn post(&self, path: &str, body: &str) -> (u16, Value) {
        let mut r = agent()
            .post(format!("{}{path}", self.base))
            .header("content-type", "application/json")
            .send(body)
            .unwrap();
        let status = r.status().as_u16();
        let text = r.body_mut().read_to_string().unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    pub fn get(&self, path: &str) -> (u16, String) {
        let mut r = agent().get(format!("{}{path}", self.base)).call().unwrap();
        (r.status().as_u16(), r.body_mut().read_to_string().unwrap())
    }

    pub fn get_json(&self, path: &str) -> (u16, Value) {
        let (s, t) = self.get(path);
        (s, serde_json::from_str(&t).unwrap())
    }

    pub fn messages(&self) -> Vec<String> {
        std::fs::read_to_string(self.path().join("messages.txt"))
            .unwrap_or_default()
            .lines()
            .map(String::from)
            .collect()
    }

    pub fn db(&self) -> rusqlite::Connection {
        rusqlite::Connection::open(self.path().join("m.db")).unwrap()
    }

    pub fn stop(mut self) -> (std::process::ExitStatus, tempfile::TempDir) {
        self.dismiss_watchdog();
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let status = self.child.wait().unwrap();
        (status, self.dir.take().unwrap())
    }

    pub fn path(&self) -> &std::path::Path {
        self.dir.as_ref().unwrap().path()
    }
}

impl Server {
    /// The test process is alive and stops the server itself.
    fn dismiss_watchdog(&mut self) {
        if let Some(mut w) = self.watchdog.take() {
            let _ = w.kill();
            let _ = w.wait();
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.dismiss_watchdog();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn count(conn: &rusqlite::Connection, sql: &str) -> i64 {
    conn.query_row(sql, [], |r| r.get(0)).unwrap()
}
