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

#[cfg(test)]
mod tests {
    use super::fmt_hours;

    #[test]
    fn whole_hours_print_as_integers_up_to_1e15_and_exactly_beyond() {
        assert_eq!(fmt_hours(48.0), "48");
        assert_eq!(fmt_hours(999_999_999_999_999.0), "999999999999999");
        // Past i64's range an integer conversion would saturate: the digits are printed.
        assert_eq!(fmt_hours(1e20), "100000000000000000000");
        assert_eq!(fmt_hours(2.5), "2.5");
        assert_eq!(fmt_hours(0.004), "0");
    }
}
