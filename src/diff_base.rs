//! The base of `workbench diff`: a rules file, or `git:REV[:PATH]` read with `git show`, each read once.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use crate::rules::{RuleSet, RulesError};

/// What `diff` compares with when no `--base` is given.
pub const DEFAULT_BASE: &str = "git:HEAD";

#[derive(Debug, thiserror::Error)]
pub enum BaseError {
    #[error("`{spec}`: {message}")]
    Git { spec: String, message: String },
    #[error("no `--base` given and `{}` is not in git HEAD: pass --base PATH", file.display())]
    NoDefault { file: PathBuf },
    #[error(transparent)]
    Rules(#[from] RulesError),
}

/// Base rule versions already loaded, so that a file or a git revision is read (and `git
/// show` run) once however many scenarios use it.
#[derive(Debug, Default)]
pub struct Bases {
    loaded: HashMap<(String, PathBuf), (String, Arc<RuleSet>)>,
}

impl Bases {
    /// The base for scenarios whose new rules are `current`: `spec` as [`load_base`] takes
    /// it, or [`DEFAULT_BASE`] when `None`. Returns its label and the rules.
    pub fn load(
        &mut self,
        spec: Option<&str>,
        current: &Path,
    ) -> Result<(String, Arc<RuleSet>), BaseError> {
        let given = spec.unwrap_or(DEFAULT_BASE);
        let key = (given.to_string(), file_of(given, current));
        if let Some(hit) = self.loaded.get(&key) {
            return Ok(hit.clone());
        }
        let (label, rules) = match load_base(given, current) {
            Err(BaseError::Git { .. }) if spec.is_none() => {
                return Err(BaseError::NoDefault {
                    file: current.to_path_buf(),
                });
            }
            other => other?,
        };
        let hit = (label, Arc::new(rules));
        self.loaded.insert(key, hit.clone());
        Ok(hit)
    }
}

/// The file a base spec reads: its path, or for `git:REV` the current rules file.
fn file_of(spec: &str, current: &Path) -> PathBuf {
    match spec.strip_prefix("git:") {
        None => PathBuf::from(spec),
        Some(rest) => match rest.split_once(':') {
            Some((_, path)) => PathBuf::from(path),
            None => current.to_path_buf(),
        },
    }
}

/// Load the base rules: a path, or `git:REV` (the rules file `current` as of revision REV), or
/// `git:REV:PATH`.
pub fn load_base(spec: &str, current: &Path) -> Result<(String, RuleSet), BaseError> {
    let Some(rest) = spec.strip_prefix("git:") else {
        let path = Path::new(spec);
        return Ok((spec.to_string(), RuleSet::load(path)?));
    };
    let rev = rest.split_once(':').map_or(rest, |(rev, _)| rev);
    let file = file_of(spec, current);
    let err = |message: String| BaseError::Git {
        spec: spec.to_string(),
        message,
    };
    let dir = match file.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => Path::new(".").to_path_buf(),
    };
    let name = file
        .file_name()
        .ok_or_else(|| err(format!("`{}` names no file", file.display())))?;
    let out = Command::new("git")
        .arg("-C")
        .arg(&dir)
        .arg("show")
        .arg(format!("{rev}:./{}", name.to_string_lossy()))
        .output()
        .map_err(|e| err(format!("cannot run git: {e}")))?;
    if !out.status.success() {
        let msg = String::from_utf8_lossy(&out.stderr);
        return Err(err(msg
            .lines()
            .next()
            .unwrap_or("git show failed")
            .to_string()));
    }
    if out.stdout.len() as u64 > crate::source::MAX_RULES_BYTES {
        return Err(err(format!(
            "the file at that revision is larger than the limit of {} MiB",
            crate::source::MAX_RULES_BYTES >> 20
        )));
    }
    let text = String::from_utf8(out.stdout)
        .map_err(|_| err("the file at that revision is not valid UTF-8".into()))?;
    let label = format!("git:{rev}:{}", file.display());
    let rules = RuleSet::from_yaml(Path::new(&label), &text)?;
    Ok((label, rules))
}
