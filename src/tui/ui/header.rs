//! The header: files, counts per outcome, expectations, and how the last reload went.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::engine::Outcome;
use crate::tui::app::{App, Filter};

pub fn render(frame: &mut Frame<'_>, area: Rect, app: &App) {
    let t = app.theme;
    let events = app.session.as_ref().map_or(0, |s| s.rows.len());
    let mut first = vec![
        Span::styled(" workbench ", t.title()),
        Span::raw(format!(
            " rules: {}  scenario: {}  {events} events",
            app.rules_label, app.scenario_label
        )),
    ];
    if let Some(u) = &app.follow {
        first.push(Span::styled(format!("  following {u}"), t.key()));
    }
    if app.filter != Filter::All {
        first.push(Span::styled(
            format!("  filter: {}", app.filter.label()),
            t.key(),
        ));
    }

    let mut second = vec![Span::raw(" ")];
    if let Some(s) = &app.session {
        for o in [
            Outcome::Allow,
            Outcome::Suppress,
            Outcome::Alert,
            Outcome::None,
        ] {
            second.push(Span::styled(
                format!("{} {o} {}", t.symbol(o), s.counts.get(o)),
                t.outcome(o),
            ));
            second.push(Span::raw("  "));
        }
        let (passed, failed) = s.expectations;
        second.push(Span::raw(format!(
            " expectations {passed}/{}",
            passed + failed
        )));
        if failed > 0 {
            second.push(Span::styled(format!(" ✗{failed}"), t.fail()));
            if let Some(at) = &app.first_failure {
                second.push(Span::styled(format!(" first at {at} (n)"), t.fail()));
            }
        }
        second.push(Span::raw("   "));
    }
    if let Some(n) = app.baseline_changes() {
        second.push(Span::styled(
            format!("Δ {n} changed since baseline   "),
            t.changed(),
        ));
    }
    if let Some((done, total)) = app.progress {
        second.push(Span::styled(
            format!("running… {done}/{total} events  "),
            t.key(),
        ));
    }
    if let Some(status) = &app.status {
        second.extend(status.spans.iter().cloned());
        second.push(Span::raw("   "));
    }
    match (&app.error, &app.last_reload) {
        (Some(e), _) => {
            let first = e.message.lines().next().unwrap_or_default();
            second.push(Span::styled(format!("reload failed: {first}"), t.error()));
            second.push(Span::styled("  (! shows it in full)", t.dim()));
        }
        (None, Some(r)) => second.push(Span::raw(format!(
            "reloaded {} in {} ms, {} decision{} changed",
            r.at,
            r.millis,
            r.changed,
            if r.changed == 1 { "" } else { "s" }
        ))),
        (None, None) => {}
    }
    frame.render_widget(
        Paragraph::new(vec![Line::from(first), Line::from(second)]),
        area,
    );
}
