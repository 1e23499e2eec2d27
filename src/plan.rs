//! Loading a run's inputs once, before anything runs: scenario files, and the rules file each
//! scenario uses (by the precedence `--rules` > the scenario's `rules:` > `RULES_PATH` >
//! `rules/rules.yaml`), each rules file read once however many scenarios share it. Used by
//! `run`, `diff`, `check`, the TUI and `Session`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::rules::{RuleSet, RulesError};
use crate::scenario::{self, Scenario, ScenarioError};

/// The rules file to use: `--rules` > the scenario's `rules:` > `RULES_PATH` > `rules/rules.yaml`.
pub fn rules_path(flag: Option<&Path>, scenario: Option<&Path>) -> PathBuf {
    flag.or(scenario)
        .map(Path::to_path_buf)
        .or_else(|| std::env::var_os("RULES_PATH").map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from("rules/rules.yaml"))
}

#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error(transparent)]
    Scenario(#[from] ScenarioError),
    /// The rules file at `path` did not load.
    #[error("{error}")]
    Rules { path: PathBuf, error: RulesError },
}

impl PlanError {
    /// The rules file involved, when the rules were what failed.
    pub fn rules_path(&self) -> Option<&Path> {
        match self {
            PlanError::Rules { path, .. } => Some(path),
            PlanError::Scenario(_) => None,
        }
    }
}

/// One scenario with the rules it runs with.
#[derive(Debug, Clone)]
pub struct Planned {
    pub scenario: Scenario,
    pub rules_path: PathBuf,
    pub rules: Arc<RuleSet>,
}

/// Rules files loaded so far, by path.
#[derive(Debug, Default)]
pub struct RulesCache {
    flag: Option<PathBuf>,
    loaded: HashMap<PathBuf, Arc<RuleSet>>,
}

impl RulesCache {
    /// A cache for a run whose `--rules` flag is `flag`.
    pub fn new(flag: Option<&Path>) -> RulesCache {
        RulesCache {
            flag: flag.map(Path::to_path_buf),
            loaded: HashMap::new(),
        }
    }

    /// The rules `scenario` runs with. When the scenario's own `rules:` named the file (no
    /// `--rules`) and it cannot be read, the error points at that key.
    pub fn for_scenario(
        &mut self,
        scenario: &Scenario,
    ) -> Result<(PathBuf, Arc<RuleSet>), PlanError> {
        let path = rules_path(self.flag.as_deref(), scenario.rules.as_deref());
        if let Some(r) = self.loaded.get(&path) {
            return Ok((path, r.clone()));
        }
        let rules = RuleSet::load(&path).map_err(|e| match e {
            RulesError::Read { file, message }
                if self.flag.is_none() && scenario.rules.as_deref() == Some(path.as_path()) =>
            {
                PlanError::Scenario(scenario.rules_error(&file, &message))
            }
            error => PlanError::Rules {
                path: path.clone(),
                error,
            },
        })?;
        let rules = Arc::new(rules);
        self.loaded.insert(path.clone(), rules.clone());
        Ok((path, rules))
    }

    /// Plan one scenario file.
    pub fn plan(&mut self, file: &Path) -> Result<Planned, PlanError> {
        self.plan_with(file, Scenario::load)
    }

    /// Plan one scenario file, read by `open` (`Scenario::load`, or `Scenario::open` for
    /// one pass).
    pub fn plan_with(
        &mut self,
        file: &Path,
        open: fn(&Path) -> Result<Scenario, ScenarioError>,
    ) -> Result<Planned, PlanError> {
        let scenario = open(file)?;
        let (rules_path, rules) = self.for_scenario(&scenario)?;
        Ok(Planned {
            scenario,
            rules_path,
            rules,
        })
    }
}

/// Load every scenario of `args` (files or directories) and its rules; nothing is half-loaded.
pub fn load(args: &[PathBuf], rules_flag: Option<&Path>) -> Result<Vec<Planned>, PlanError> {
    let files = scenario::expand(args)?;
    let mut cache = RulesCache::new(rules_flag);
    files.iter().map(|f| cache.plan(f)).collect()
}

/// [`load`] for one pass: the rules and YAML scenarios are loaded and validated, `.jsonl`
/// scenarios only opened (`Scenario::open`): their lines are validated as they run.
pub fn open(args: &[PathBuf], rules_flag: Option<&Path>) -> Result<Vec<Planned>, PlanError> {
    let files = scenario::expand(args)?;
    let mut cache = RulesCache::new(rules_flag);
    files
        .iter()
        .map(|f| cache.plan_with(f, Scenario::open))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn root() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
    }

    #[test]
    fn scenarios_sharing_a_rules_file_share_one_load() {
        let plan = load(
            &[root().join("scenarios")],
            Some(&root().join("rules/rules.yaml")),
        )
        .unwrap();
        assert!(plan.len() >= 2);
        assert!(
            plan.windows(2)
                .all(|w| Arc::ptr_eq(&w[0].rules, &w[1].rules))
        );
    }

    #[test]
    fn a_rules_file_that_fails_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let bad = dir.path().join("bad.yaml");
        std::fs::write(&bad, "rules: [").unwrap();
        let scenario = root().join("scenarios/welcome_email.yaml");
        let err = RulesCache::new(Some(&bad)).plan(&scenario).unwrap_err();
        assert_eq!(err.rules_path(), Some(bad.as_path()));
    }
}
