//! Scenario files (SPEC §6): YAML documents or JSON Lines of events with expectations.

mod error;
mod expect;
mod jsonl;
mod keys;

use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{Map, Value};

pub use error::ScenarioError;
pub use expect::{Expect, Mismatch};

use jsonl::JsonlSteps;
pub(crate) use keys::Keys;

use crate::event::{Event, IdempotencyKey, NonEmpty, Timestamp, Traits};
use crate::source;
use crate::yaml::{self, Pos, Positions};

/// The deepest a YAML scenario may nest, as deep as JSON Lines may (`serde_json`'s limit).

#[derive(Debug, Clone)]
pub struct Scenario {
    pub path: PathBuf,
    pub name: Option<String>,
    /// The scenario's own `rules:`, resolved against its directory.
    pub rules: Option<PathBuf>,
    /// Where `rules:` is written, for errors about that file.
    pub rules_pos: Option<Pos>,
    /// How many events it holds.
    pub len: usize,
    steps: Steps,
}

/// Where the events are: parsed in memory (YAML, strings), or a validated `.jsonl` file that
/// is streamed again when run, so that a million events never sit in memory at once.
#[derive(Debug, Clone)]
enum Steps {
    Memory(Vec<Step>),
    JsonlFile,
}

/// One event of a scenario, where it is in the file, when it arrives and what is expected.
#[derive(Debug, Clone)]
pub struct Step {
    /// The event's first line.
    pub line: usize,
    /// The event's `name:`, shown instead of its number in reports.
    pub name: Option<String>,
    pub event: Event,
    pub received_at: DateTime<Utc>,
    pub expect: Option<Expect>,
    /// The line of each given `expect` key (YAML only; JSON Lines events are one line).
    pub expect_lines: Vec<(&'static str, usize)>,
}

impl Step {
    /// The line of an `expect` key, else the event's.
    pub fn line_of(&self, key: &str) -> usize {
        self.expect_lines
            .iter()
            .find(|(k, _)| *k == key)
            .map_or(self.line, |(_, l)| *l)
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScenario {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    rules: Option<PathBuf>,
    events: Vec<RawStep>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawStep {
    #[serde(default)]
    name: Option<NonEmpty>,
    user_id: NonEmpty,
    event_type: NonEmpty,
    event_timestamp: Timestamp,
    #[serde(default)]
    properties: Option<Map<String, Value>>,
    #[serde(default)]
    user_traits: Option<Traits>,
    #[serde(default)]
    received_at: Option<Timestamp>,
    #[serde(default)]
    idempotency_key: Option<IdempotencyKey>,
    #[serde(default)]
    expect: Option<Expect>,
}

impl RawStep {
    pub(crate) fn into_step(self, line: usize, expect_lines: Vec<(&'static str, usize)>) -> Step {
        let ts = self.event_timestamp.0;
        Step {
            line,
            name: self.name.map(|n| n.0),
            event: Event {
                user_id: self.user_id.0,
                event_type: self.event_type.0,
                event_timestamp: ts,
                properties: self.properties.unwrap_or_default(),
                user_traits: self.user_traits,
                idempotency_key: self.idempotency_key.map(|k| k.0),
            },
            received_at: self.received_at.map_or(ts, |t| t.0),
            expect: self.expect,
            expect_lines,
        }
    }
}

impl Scenario {
    /// Load a `.yaml` / `.yml` / `.jsonl` scenario file.
    pub fn load(path: &Path) -> Result<Scenario, ScenarioError> {
        let err = |pos, message: String| ScenarioError {
            file: path.to_path_buf(),
            pos,
            message,
        };
        match extension(path).as_deref() {
            Some("jsonl") => Scenario::jsonl_file(path),
            Some("yaml" | "yml") => {
                let src = source::read_text(path, source::MAX_YAML_SCENARIO_BYTES)
                    .map_err(|m| err(None, m))?;
                if src.trim().is_empty() {
                    return Err(err(None, "scenario file is empty".into()));
                }
                Scenario::from_yaml(path, &src)
            }
            _ if path.is_dir() => Err(err(None, "is a directory, not a file".into())),
            _ => Err(err(
                None,
                "unknown scenario format: use a `.yaml`, `.yml` or `.jsonl` file".into(),
            )),
        }
    }

    pub fn from_yaml(path: &Path, src: &str) -> Result<Scenario, ScenarioError> {
        let err = |pos, message: String| ScenarioError {
            file: path.to_path_buf(),
            pos,
            message,
        };
        // Parsed before the positions are indexed: `yaml::from_str` refuses nesting past
        // `MAX_DEPTH` in one linear pass first, and the index's paths grow with the depth.
        let raw: RawScenario = yaml::from_str(src).map_err(|e| err(e.pos, e.message))?;
        let positions = Positions::index(src, |depth, p| match depth {
            1 => p == "rules",
            2 => p.starts_with("events["),
            3 => p.starts_with("events[") && p.ends_with("].idempotency_key"),
            4 => {
                p.starts_with("events[")
                    && p.split_once("].")
                        .is_some_and(|(_, r)| r.starts_with("expect."))
            }
            _ => false,
        });
        let raw_len = raw.events.len();
        let steps: Vec<Step> = raw
            .events
            .into_iter()
            .enumerate()
            .map(|(i, s)| {
                let line = positions.get(&format!("events[{i}]")).map_or(0, |p| p.line);
                let expect_lines = match &s.expect {
                    None => Vec::new(),
                    Some(_) => Expect::KEYS
                        .iter()
                        .filter_map(|&k| {
                            let at = positions.get(&format!("events[{i}].expect.{k}"))?;
                            Some((k, at.line))
                        })
                        .collect(),
                };
                s.into_step(line, expect_lines)
            })
            .collect();
        let mut keys = Keys::default();
        for (i, step) in steps.iter().enumerate() {
            let pos = positions
                .get(&format!("events[{i}].idempotency_key"))
                .or_else(|| positions.get(&format!("events[{i}]")));
            keys.check(step, pos).map_err(|message| err(pos, message))?;
        }
        Ok(Scenario {
            path: path.to_path_buf(),
            name: raw.name,
            rules: raw.rules.map(|r| resolve(path, &r)),
            rules_pos: positions.get("rules"),
            len: raw_len,
            steps: Steps::Memory(steps),
        })
    }

    /// Parse JSON Lines held in memory.
    pub fn from_jsonl(path: &Path, src: &str) -> Result<Scenario, ScenarioError> {
        let steps = JsonlSteps::new(path, src.as_bytes()).collect::<Result<Vec<_>, _>>()?;
        Ok(Scenario {
            path: path.to_path_buf(),
            name: None,
            rules: None,
            rules_pos: None,
            len: steps.len(),
            steps: Steps::Memory(steps),
        })
    }

    /// Open a scenario file for one pass: a `.yaml` / `.yml` file is loaded as by [`load`];
    /// a `.jsonl` file is only opened, and its lines are validated as they are run (so `len`
    /// is 0 until a run has counted them, and an invalid line is found by the run).
    ///
    /// [`load`]: Scenario::load
    pub fn open(path: &Path) -> Result<Scenario, ScenarioError> {
        if extension(path).as_deref() != Some("jsonl") {
            return Scenario::load(path);
        }
        open(path)?;
        Ok(Scenario {
            path: path.to_path_buf(),
            name: None,
            rules: None,
            rules_pos: None,
            len: 0,
            steps: Steps::JsonlFile,
        })
    }

    /// Whether the events are read from the file as they run (a `.jsonl` scenario).
    pub fn is_streamed(&self) -> bool {
        matches!(self.steps, Steps::JsonlFile)
    }

    /// The error for a scenario file that holds no event.
    pub fn empty_error(&self) -> ScenarioError {
        ScenarioError {
            file: self.path.clone(),
            pos: None,
            message: "scenario file is empty".into(),
        }
    }

    /// Validate a `.jsonl` file line by line without keeping its events.
    fn jsonl_file(path: &Path) -> Result<Scenario, ScenarioError> {
        let file = open(path)?;
        let mut len = 0;
        for step in JsonlSteps::new(path, BufReader::new(file)) {
            step?;
            len += 1;
        }
        if len == 0 {
            return Err(ScenarioError {
                file: path.to_path_buf(),
                pos: None,
                message: "scenario file is empty".into(),
            });
        }
        Ok(Scenario {
            path: path.to_path_buf(),
            name: None,
            rules: None,
            rules_pos: None,
            len,
            steps: Steps::JsonlFile,
        })
    }

    /// The events in arrival order. A streamed file is read again; if it changed since it
    /// was loaded, the error says where.
    pub fn steps(
        &self,
    ) -> Result<Box<dyn Iterator<Item = Result<Step, ScenarioError>> + '_>, ScenarioError> {
        match &self.steps {
            Steps::Memory(steps) => Ok(Box::new(steps.iter().cloned().map(Ok))),
            Steps::JsonlFile => Ok(Box::new(JsonlSteps::new(
                &self.path,
                BufReader::new(open(&self.path)?),
            ))),
        }
    }

    /// Event `i` when the events are held in memory (YAML); `None` for a streamed file.
    pub fn step(&self, i: usize) -> Option<&Step> {
        match &self.steps {
            Steps::Memory(steps) => steps.get(i),
            Steps::JsonlFile => None,
        }
    }

    /// An error reading the rules file this scenario's `rules:` names, located at that key.
    pub fn rules_error(&self, rules: &Path, message: &str) -> ScenarioError {
        ScenarioError {
            file: self.path.clone(),
            pos: self.rules_pos,
            message: format!("rules `{}`: {message}", rules.display()),
        }
    }

    pub fn display_name(&self) -> String {
        self.name
            .clone()
            .unwrap_or_else(|| self.path.display().to_string())
    }
}

fn open(path: &Path) -> Result<File, ScenarioError> {
    source::open_regular(path).map_err(|message| ScenarioError {
        file: path.to_path_buf(),
        pos: None,
        message,
    })
}

fn extension(path: &Path) -> Option<String> {
    path.extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
}

fn resolve(scenario: &Path, rules: &Path) -> PathBuf {
    if rules.is_absolute() {
        return rules.to_path_buf();
    }
    let joined = match scenario.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.join(rules),
        _ => rules.to_path_buf(),
    };
    normalize(&joined)
}

/// Drop `.` and fold `dir/..` lexically, so paths print the way people wrote them.
fn normalize(path: &Path) -> PathBuf {
    use std::path::Component;
    let mut out: Vec<Component<'_>> = Vec::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir if matches!(out.last(), Some(Component::Normal(_))) => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    if out.is_empty() {
        return PathBuf::from(".");
    }
    out.iter().collect()
}

/// Expand arguments into scenario files: a directory means its scenario files in name order.
pub fn expand(args: &[PathBuf]) -> Result<Vec<PathBuf>, ScenarioError> {
    let mut out = Vec::new();
    for arg in args {
        if !arg.is_dir() {
            out.push(arg.clone());
            continue;
        }
        let err = |message: String| ScenarioError {
            file: arg.clone(),
            pos: None,
            message,
        };
        let mut files: Vec<PathBuf> = std::fs::read_dir(arg)
            .map_err(|e| err(format!("cannot read directory: {e}")))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                p.is_file() && matches!(extension(p).as_deref(), Some("yaml" | "yml" | "jsonl"))
            })
            .collect();
        if files.is_empty() {
            return Err(err(
                "directory holds no `.yaml`, `.yml` or `.jsonl` scenario".into(),
            ));
        }
        files.sort();
        out.extend(files);
    }
    Ok(out)
}

#[cfg(test)]
mod tests;
