//! How numbers read in rules, reasons and explanations.

/// Hours as people write them: `24`, `1.5`.
pub fn fmt_hours(h: f64) -> String {
    if h.fract() == 0.0 && h.abs() < 1e15 {
        // A whole number below 1e15: exact as an integer.
        #[allow(clippy::cast_possible_truncation)]
        let whole = h as i64;
        format!("{whole}")
    } else {
        let s = format!("{h:.2}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}
