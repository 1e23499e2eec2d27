//! `diff`'s two runs over one scenario in bounded memory: the old rules' results go to disk
//! (see `session::Rows`) as they are counted; the new rules' results are counted and compared
//! with them as they come, and the changed ones go to disk too, read back as the report is
//! written.

use std::path::PathBuf;
use std::sync::Arc;

use crate::diff::{Builder, Change, Changes, FileDiff, Side};
use crate::provider::Discard;
use crate::results::EventResult;
use crate::rules::RuleSet;
use crate::runner::{self, ResultSink, RunError};
use crate::scenario::Scenario;
use crate::session::{Rows, RowsWriter};

/// One rules version: where it was read from, and the rules.
pub struct Version {
    pub path: PathBuf,
    pub rules: Arc<RuleSet>,
}

/// `scratch_mib`: each run's scratch databases' page cache, shared by the shards.
pub fn diff(
    scenario: &Scenario,
    base: &Version,
    new: &Version,
    scratch_mib: u32,
) -> Result<FileDiff, RunError> {
    let mut builder = Builder::new(
        scenario.path.clone(),
        Side::new(base.path.clone(), &base.rules),
        Side::new(new.path.clone(), &new.rules),
    );
    let mut before = Before {
        rows: RowsWriter::new()?,
        builder: &mut builder,
    };
    run(scenario, &base.rules, scratch_mib, &mut before)?;
    let rows = before.rows.finish()?;
    let mut after = After {
        base: &rows,
        builder: &mut builder,
        changed: RowsWriter::new()?,
    };
    run(scenario, &new.rules, scratch_mib, &mut after)?;
    let changed = after.changed.finish()?;
    Ok(builder.finish(Box::new(OnDisk {
        base: rows,
        changed,
    })))
}

/// The changed events under the new rules, and the old rules' rows they are compared with
/// (both on disk).
#[derive(Debug)]
struct OnDisk {
    base: Rows,
    changed: Rows,
}

impl Changes for OnDisk {
    fn change(&self, i: u32) -> Option<Change> {
        let after = self.changed.get(i)?;
        // Row `i` of a run is step `i`.
        let before = self.base.get(after.step)?;
        Some(Change {
            event: (*after).clone(),
            before: before.verdict.clone(),
        })
    }
}

fn run(
    scenario: &Scenario,
    rules: &RuleSet,
    scratch_mib: u32,
    out: &mut impl ResultSink,
) -> Result<(), RunError> {
    runner::run_sharded(
        scenario,
        rules,
        runner::default_shards(),
        scratch_mib,
        &mut Discard,
        |_| {},
        out,
    )
    .map(drop)
}

struct Before<'a> {
    rows: RowsWriter,
    builder: &'a mut Builder,
}

impl ResultSink for Before<'_> {
    fn push(&mut self, r: EventResult) -> std::io::Result<()> {
        self.builder.base(&r);
        self.rows.push(r)
    }

    fn written(&mut self, _: u32, _: u32) -> std::io::Result<()> {
        Ok(())
    }
}

struct After<'a> {
    base: &'a Rows,
    builder: &'a mut Builder,
    changed: RowsWriter,
}

impl ResultSink for After<'_> {
    fn push(&mut self, mut r: EventResult) -> std::io::Result<()> {
        self.builder.new_result(&r);
        // Row `i` is step `i`.
        if !self.base.decisions().same_verdict(r.step, &r.verdict) {
            let before = self.base.get(r.step).ok_or_else(|| {
                std::io::Error::other(format!("cannot read back the old rules' row {}", r.step))
            })?;
            self.builder.changed(&before.verdict, &r);
            // The report does not show when a line was written.
            r.written_at = None;
            self.changed.push(r)?;
        }
        Ok(())
    }

    fn written(&mut self, _: u32, _: u32) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::diff::{compare, json, text};
    use crate::results::FileRun;
    use crate::runner::run_scratch;

    fn version(path: &str) -> Version {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let src = std::fs::read_to_string(root.join(path)).unwrap();
        Version {
            path: path.into(),
            rules: RuleSet::from_yaml(Path::new(path), &src).unwrap().into(),
        }
    }

    /// Every event of both runs held in memory, compared pair by pair.
    fn held(scenario: &Scenario, base: &Version, new: &Version) -> FileDiff {
        let side = |v: &Version| FileRun {
            scenario: scenario.clone(),
            rules_path: v.path.clone(),
            rules: v.rules.clone(),
            results: run_scratch(scenario, &v.rules).unwrap(),
        };
        compare(&side(base), &side(new))
    }

    #[test]
    fn the_streamed_diff_reports_what_comparing_both_runs_in_memory_does() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let (rules, growth) = (version("rules/rules.yaml"), version("rules/growth.yaml"));
        let mut changed = 0;
        for file in [
            "scenarios/mixed_day.jsonl",
            "scenarios/payment_failures.yaml",
        ] {
            let scenario = Scenario::load(&root.join(file)).unwrap();
            for (base, new) in [(&rules, &growth), (&growth, &rules), (&rules, &rules)] {
                let streamed = [diff(&scenario, base, new, 64).unwrap()];
                let in_memory = [held(&scenario, base, new)];
                assert_eq!(text(&streamed), text(&in_memory), "{file}");
                assert_eq!(json(&streamed), json(&in_memory), "{file}");
                changed += streamed[0].changed();
            }
        }
        assert!(changed > 0, "the rule sets decide some events differently");
    }
}
