//! `workbench explain`: one user's history with the Rule match, Suppression and Audit panes'
//! content, as text, each event's local time first when the rules use the user's time.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use color_eyre::eyre::eyre;
use workbench::explain::{self, Line};
use workbench::session::{Budget, Session};
use workbench::why_not;

#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// The scenario to run.
    scenario: PathBuf,
    /// The user whose history to explain.
    #[arg(long)]
    user: String,
    /// Rules file; overrides the scenario's `rules:` and `RULES_PATH`.
    #[arg(long)]
    rules: Option<PathBuf>,
    /// Instead of the full history: what this template's (or rule's) rules said at each of
    /// the user's events, and why it did not send.
    #[arg(long, value_name = "TEMPLATE")]
    why_not: Option<String>,
    /// Memory for the scratch databases, shared by the shards: past it they spill to a
    /// temporary file.
    #[arg(long, value_name = "MIB", default_value_t = workbench::session::SCRATCH_MIB)]
    scratch_memory: u32,
}

pub fn explain(args: &ExplainArgs) -> color_eyre::Result<ExitCode> {
    let budget = Budget {
        scratch_mib: args.scratch_memory,
        ..Budget::default()
    };
    let mut session = Session::load_with(&args.scenario, args.rules.as_deref(), budget, |_| {})?;
    let Some(rows) = session.by_user.get(args.user.as_str()).cloned() else {
        return Err(eyre!(
            "no events for user `{}` in `{}`",
            args.user,
            args.scenario.display()
        ));
    };
    if let Some(wanted) = &args.why_not {
        let w = why_not::why_not(&mut session, &args.user, wanted)?;
        let mut lines = vec![w.summary()];
        lines.extend(w.lines(&session));
        print!("{}", explain::plain(&lines));
        return Ok(ExitCode::SUCCESS);
    }
    print!("{}", text(&mut session, &args.user, &rows)?);
    Ok(ExitCode::SUCCESS)
}

fn indent(lines: &[Line]) -> String {
    let mut out = String::new();
    for l in explain::plain(lines).lines() {
        let _ = writeln!(out, "    {l}");
    }
    out
}

fn text(session: &mut Session, user: &str, rows: &[u32]) -> color_eyre::Result<String> {
    let mut out = format!(
        "user {user} in {} (rules {}): {} event{}\n",
        session.scenario.path.display(),
        session.rules_path.display(),
        rows.len(),
        if rows.len() == 1 { "" } else { "s" }
    );
    for &row in rows {
        let Some(r) = session.row(row) else { continue };
        let rules = session.rules.clone();
        let v = &r.verdict;
        let _ = write!(
            out,
            "\nevent #{}  {}  {}  -> {}  {}",
            r.event_id,
            workbench::event::format_ts(r.event_timestamp),
            r.event_type,
            v.outcome,
            v.matched_rule.as_deref().unwrap_or("(no rule)")
        );
        if let Some(note) = workbench::report::quiet_note(v) {
            let _ = write!(out, "  {note}");
        }
        out.push('\n');
        let Some((_, d)) = session.explain(row)? else {
            continue;
        };
        let rule_match = indent(&explain::rule_match(&rules, &d));
        let suppression = indent(&explain::suppression(&r, &d));
        // The zone its decision used, else (when the rules use user time) the one SPEC §7.2
        // gives it, from the store.
        let zone = match d.trace.zone.clone() {
            Some(z) => Some(z),
            None if explain::uses_user_time(&rules) => session.zone_of(row)?,
            None => None,
        };
        let when = explain::when(r.event_timestamp, zone.as_ref(), v.deliver_at);
        if !when.is_empty() {
            out.push_str("  time\n");
            out.push_str(&indent(&when));
        }
        let file = session.scenario.path.display().to_string();
        let step = session.scenario.step(r.step as usize);
        let expect = explain::expectations(&file, &r, step, true);
        if !expect.is_empty() {
            out.push_str("  expect\n");
            out.push_str(&indent(&expect));
        }
        out.push_str("  rule match\n");
        out.push_str(&rule_match);
        out.push_str("  suppression\n");
        out.push_str(&suppression);
        let _ = writeln!(out, "  audit as of event #{}", r.event_id);
        let audit = explain::audit(|i| session.row(i), rows, row, usize::MAX);
        out.push_str(&indent(&audit));
    }
    Ok(out)
}
