//! Why-not over a run: for one user and one template (or rule), every event of theirs with
//! what that rule said, re-deciding from the scratch database only the events its trigger
//! fires on. `workbench explain --why-not` and the TUI's `w` both print it.

use crate::explain::Line;
use crate::explain::why_not::{self, Answer, Target};
use crate::session::Session;
use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum WhyNotError {
    /// An unknown user or target: the message says which, with a "did you mean".
    #[error("{0}")]
    Unknown(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The answer for every event of one user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WhyNot {
    pub user: String,
    pub target: Target,
    /// Each of the user's rows with its answer and explanation, in order.
    pub rows: Vec<(u32, Answer, String)>,
}

impl WhyNot {
    pub fn summary(&self) -> Line {
        let answers: Vec<Answer> = self.rows.iter().map(|r| r.1).collect();
        why_not::summary(&self.user, &self.target, &answers)
    }

    pub fn lines(&self, s: &Session) -> Vec<Line> {
        self.rows
            .iter()
            .filter_map(|(row, a, why)| Some(why_not::line(&*s.row(*row)?, *a, why)))
            .collect()
    }

    /// The row of the first event that delivered nothing of the target while its trigger
    /// fired, where the answer is most often sought.
    pub fn first_miss(&self) -> Option<u32> {
        self.rows.iter().find(|(_, a, _)| a.is_miss()).map(|r| r.0)
    }
}

pub fn why_not(s: &mut Session, user: &str, wanted: &str) -> Result<WhyNot, WhyNotError> {
    let target = Target::resolve(&s.rules, wanted).map_err(WhyNotError::Unknown)?;
    let Some(rows) = s.by_user.get(user).cloned() else {
        return Err(WhyNotError::Unknown(format!("no events for user `{user}`")));
    };
    let rules = s.rules.clone();
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let Some(r) = s.row(row) else { continue };
        let (a, why) = if target.needs_trace_for(&rules, &r) {
            match s.explain(row)? {
                Some((_, d)) => why_not::answer(&rules, &target, &r, Some(&d.trace)),
                None => why_not::answer(&rules, &target, &r, None),
            }
        } else {
            why_not::answer(&rules, &target, &r, None)
        };
        out.push((row, a, why));
    }
    Ok(WhyNot {
        user: user.to_string(),
        target,
        rows: out,
    })
}
