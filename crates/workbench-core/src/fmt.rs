//! How numbers read in rules, reasons and explanations.

/// Hours as people write them: `24`, `1.5`.
pub fn fmt_hours(h: f64) -> String {
    if h.fract() == 0.0 && h.abs() < 1e15 {
        format!("{}", h as i64)
    } else {
        let s = format!("{h:.2}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}
