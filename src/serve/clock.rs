//! The service's one clock: when an event is received and decided, and which scheduled sends
//! are due. The system clock, unless the hidden test hook `WORKBENCH_CLOCK_FILE=PATH` names a
//! file holding an RFC 3339 instant: then "now" is that instant, read again on every call, so a
//! test moves time forward by rewriting the file (best atomically: write another file, then
//! rename it over this one). The file must hold a valid instant when the service starts; a
//! later read that fails (a file caught half-written) keeps the last instant read.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};

/// The environment variable of the test hook.
pub const CLOCK_FILE_VAR: &str = "WORKBENCH_CLOCK_FILE";

#[derive(Debug, Clone, Default)]
pub struct Clock(Source);

#[derive(Debug, Clone, Default)]
enum Source {
    #[default]
    System,
    File {
        path: Arc<PathBuf>,
        /// The last instant read, for a read that fails.
        last: Arc<Mutex<DateTime<Utc>>>,
    },
}

#[derive(Debug, thiserror::Error)]
#[error("{CLOCK_FILE_VAR} `{path}`: {message}")]
pub struct ClockError {
    path: String,
    message: String,
}

impl Clock {
    /// The system clock.
    pub fn system() -> Clock {
        Clock(Source::System)
    }

    /// "Now" is the instant in the file at `path` (see the module's documentation); it must
    /// hold one already.
    pub fn file(path: &Path) -> Result<Clock, ClockError> {
        let now = read(path).map_err(|message| ClockError {
            path: path.display().to_string(),
            message,
        })?;
        Ok(Clock(Source::File {
            path: Arc::new(path.to_path_buf()),
            last: Arc::new(Mutex::new(now)),
        }))
    }

    /// The file clock when `path` is given, else the system clock.
    pub fn from_file(path: Option<&Path>) -> Result<Clock, ClockError> {
        path.map_or_else(|| Ok(Clock::system()), Clock::file)
    }

    pub fn now(&self) -> DateTime<Utc> {
        match &self.0 {
            Source::System => Utc::now(),
            Source::File { path, last } => {
                let mut last = last
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                match read(path) {
                    Ok(t) => *last = t,
                    Err(e) => tracing::warn!(
                        file = %path.display(),
                        error = %e,
                        "the clock file cannot be read; keeping its last instant"
                    ),
                }
                *last
            }
        }
    }
}

fn read(path: &Path) -> Result<DateTime<Utc>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    DateTime::parse_from_rfc3339(text.trim())
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| format!("`{}` is not an RFC 3339 instant: {e}", text.trim()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_clock_reads_its_file_each_time_and_keeps_the_last_good_instant() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("now");
        assert!(Clock::file(&path).is_err(), "no file at start");
        std::fs::write(&path, "2024-01-15T22:00:00+01:00\n").unwrap();
        let clock = Clock::file(&path).unwrap();
        assert_eq!(clock.now().to_rfc3339(), "2024-01-15T21:00:00+00:00");
        std::fs::write(&path, "2024-01-16T08:00:00Z").unwrap();
        assert_eq!(clock.now().to_rfc3339(), "2024-01-16T08:00:00+00:00");
        std::fs::write(&path, "").unwrap();
        assert_eq!(clock.now().to_rfc3339(), "2024-01-16T08:00:00+00:00");
        std::fs::write(&path, "not a time").unwrap();
        let err = Clock::file(&path).unwrap_err().to_string();
        assert!(err.starts_with("WORKBENCH_CLOCK_FILE `"), "{err}");
        assert!(err.contains("is not an RFC 3339 instant"), "{err}");
    }

    #[test]
    fn the_system_clock_moves() {
        let c = Clock::from_file(None).unwrap();
        let a = c.now();
        assert!((Utc::now() - a).num_seconds() < 5);
    }
}
