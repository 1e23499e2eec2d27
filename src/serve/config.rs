//! Service configuration: flags override environment variables, which override a `.env` file
//! in the working directory, which override the defaults.

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

/// Where the service keeps its data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Database {
    Sqlite(PathBuf),
    /// `postgres://` or `postgresql://` URL.
    Postgres(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    pub host: IpAddr,
    pub port: u16,
    pub database: Database,
    pub rules_path: PathBuf,
    pub messages_path: PathBuf,
    /// Connections (and writer threads) to PostgreSQL.
    pub pool_size: usize,
    /// The most events a PostgreSQL writer commits together (1: a transaction per event).
    pub group_size: usize,
    /// The test hook `WORKBENCH_CLOCK_FILE` (environment only; see `serve::clock`): the
    /// service's "now" is read from this file instead of the system clock.
    pub clock_file: Option<PathBuf>,
}

/// Values given on the command line (each optional).
#[derive(Debug, Clone, Default)]
pub struct Flags {
    pub host: Option<String>,
    pub port: Option<String>,
    pub database_url: Option<String>,
    pub rules_path: Option<String>,
    pub messages_path: Option<String>,
    pub pool_size: Option<String>,
    pub group_size: Option<String>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error("{name}: `{value}` is not {expected}")]
    Invalid {
        name: &'static str,
        value: String,
        expected: &'static str,
    },
    #[error(
        "DATABASE_URL: `{0}` is not supported: use `sqlite:///PATH` or `postgres://USER@HOST:PORT/DB`"
    )]
    UnsupportedDatabase(String),
    #[error(".env:{line}: {message}")]
    DotEnv { line: usize, message: String },
}

/// Read `.env` from `dir` (absent is fine) without touching the process environment.
pub fn read_dotenv(dir: &Path) -> Result<HashMap<String, String>, ConfigError> {
    let path = dir.join(".env");
    let Ok(iter) = dotenvy::from_path_iter(&path) else {
        return Ok(HashMap::new());
    };
    let mut out = HashMap::new();
    for (i, item) in iter.enumerate() {
        let (k, v) = item.map_err(|e| ConfigError::DotEnv {
            line: i + 1,
            message: e.to_string(),
        })?;
        out.insert(k, v);
    }
    Ok(out)
}

impl Config {
    /// Resolve every setting: flag > `env` > `dotenv` > default.
    pub fn resolve(
        flags: &Flags,
        env: impl Fn(&str) -> Option<String>,
        dotenv: &HashMap<String, String>,
    ) -> Result<Config, ConfigError> {
        let pick = |flag: &Option<String>, name: &str, default: &str| -> String {
            flag.clone()
                .or_else(|| env(name))
                .or_else(|| dotenv.get(name).cloned())
                .unwrap_or_else(|| default.to_string())
        };
        let host = pick(&flags.host, "API_HOST", "127.0.0.1");
        let port = pick(&flags.port, "API_PORT", "8000");
        let pool = pick(&flags.pool_size, "DATABASE_POOL_SIZE", "8");
        let group = pick(&flags.group_size, "DATABASE_GROUP_SIZE", "32");
        let url = pick(
            &flags.database_url,
            "DATABASE_URL",
            "sqlite:///./messaging.db",
        );
        Ok(Config {
            host: host.parse().map_err(|_| ConfigError::Invalid {
                name: "API_HOST",
                value: host.clone(),
                expected: "an IP address",
            })?,
            port: port.parse().map_err(|_| ConfigError::Invalid {
                name: "API_PORT",
                value: port.clone(),
                expected: "a port number",
            })?,
            database: parse_database_url(&url)?,
            rules_path: pick(&flags.rules_path, "RULES_PATH", "rules/rules.yaml").into(),
            messages_path: pick(&flags.messages_path, "MESSAGES_PATH", "messages.txt").into(),
            pool_size: pool.parse().ok().filter(|n| (1..=256).contains(n)).ok_or(
                ConfigError::Invalid {
                    name: "DATABASE_POOL_SIZE",
                    value: pool.clone(),
                    expected: "a number from 1 to 256",
                },
            )?,
            group_size: group
                .parse()
                .ok()
                .filter(|n| (1..=1024).contains(n))
                .ok_or(ConfigError::Invalid {
                    name: "DATABASE_GROUP_SIZE",
                    value: group.clone(),
                    expected: "a number from 1 to 1024",
                })?,
            clock_file: env(super::clock::CLOCK_FILE_VAR)
                .filter(|p| !p.is_empty())
                .map(PathBuf::from),
        })
    }
}

/// `sqlite:///./messaging.db` or `sqlite:///data/m.db` (relative), `sqlite:////abs/m.db` (absolute).
pub fn parse_database_url(url: &str) -> Result<Database, ConfigError> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return Ok(Database::Postgres(url.to_string()));
    }
    let Some(rest) = url.strip_prefix("sqlite://") else {
        return Err(ConfigError::UnsupportedDatabase(url.to_string()));
    };
    // SQLAlchemy style: three slashes then a relative path, four for an absolute one.
    let path = rest.strip_prefix('/').unwrap_or(rest);
    if path.is_empty() {
        return Err(ConfigError::Invalid {
            name: "DATABASE_URL",
            value: url.to_string(),
            expected: "a database path",
        });
    }
    Ok(Database::Sqlite(PathBuf::from(path)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_beat_env_beat_dotenv_beat_defaults() {
        let dotenv: HashMap<String, String> = [
            ("API_PORT".to_string(), "9001".to_string()),
            ("API_HOST".to_string(), "0.0.0.0".to_string()),
            ("MESSAGES_PATH".to_string(), "dot.txt".to_string()),
        ]
        .into();
        let env = |k: &str| (k == "API_PORT").then(|| "9002".to_string());
        let flags = Flags {
            host: Some("127.0.0.2".into()),
            ..Flags::default()
        };
        let c = Config::resolve(&flags, env, &dotenv).unwrap();
        assert_eq!(c.host.to_string(), "127.0.0.2");
        assert_eq!(c.port, 9002);
        assert_eq!(c.messages_path, PathBuf::from("dot.txt"));
        assert_eq!(c.rules_path, PathBuf::from("rules/rules.yaml"));
        assert_eq!(c.database, Database::Sqlite("./messaging.db".into()));
        assert_eq!(c.clock_file, None);
    }

    #[test]
    fn the_clock_file_comes_from_the_environment_only() {
        let dotenv: HashMap<String, String> =
            [("WORKBENCH_CLOCK_FILE".to_string(), "dot".to_string())].into();
        let c = Config::resolve(&Flags::default(), |_| None, &dotenv).unwrap();
        assert_eq!(c.clock_file, None, "a test hook, never from .env");
        let env = |k: &str| (k == "WORKBENCH_CLOCK_FILE").then(|| "/t/now".to_string());
        let c = Config::resolve(&Flags::default(), env, &dotenv).unwrap();
        assert_eq!(c.clock_file, Some(PathBuf::from("/t/now")));
    }

    #[test]
    fn database_urls() {
        assert_eq!(
            parse_database_url("sqlite:///./m.db"),
            Ok(Database::Sqlite("./m.db".into()))
        );
        assert_eq!(
            parse_database_url("sqlite:////tmp/m.db"),
            Ok(Database::Sqlite("/tmp/m.db".into()))
        );
        assert_eq!(
            parse_database_url("sqlite:///tmp/m.db"),
            Ok(Database::Sqlite("tmp/m.db".into()))
        );

        assert!(matches!(
            parse_database_url("mysql://x"),
            Err(ConfigError::UnsupportedDatabase(_))
        ));
        let bad = Config::resolve(
            &Flags {
                port: Some("x".into()),
                ..Flags::default()
            },
            |_| None,
            &HashMap::new(),
        );
        assert_eq!(
            bad.unwrap_err().to_string(),
            "API_PORT: `x` is not a port number"
        );
    }
}
