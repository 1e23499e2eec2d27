//! "did you mean ...?": the closest name of a closed set, by edit distance.

/// The candidate closest to `word`, when it is close enough to be a likely typo: at most a
/// third of the word's length in edits (at least 2), one is a prefix of the other, or the
/// word's parts are all parts of the candidate.
pub fn closest<'c>(word: &str, candidates: impl IntoIterator<Item = &'c str>) -> Option<&'c str> {
    let w = word.to_lowercase();
    let w_len = w.chars().count();
    if w_len == 0 || w_len > 256 {
        return None;
    }
    let limit = (w_len / 3).max(2);
    let mut best: Option<(usize, &str)> = None;
    for c in candidates {
        let lc = c.to_lowercase();
        if lc == w && c != word {
            return Some(c);
        }
        if c == word {
            continue;
        }
        let d = distance(&w, &lc);
        let prefix = w_len >= 3 && (lc.starts_with(&w) || w.starts_with(&lc));
        if (d <= limit || prefix || parts_within(&w, &lc)) && best.is_none_or(|(bd, _)| d < bd) {
            best = Some((d, c));
        }
    }
    best.map(|(_, c)| c)
}

/// Whether every `_`-separated part of `word` (at least two) is a part of `candidate`:
/// `once_per_day` for `once_per_calendar_day`.
fn parts_within(word: &str, candidate: &str) -> bool {
    let parts: Vec<&str> = word
        .split(['_', '-', '.'])
        .filter(|p| !p.is_empty())
        .collect();
    parts.len() >= 2
        && parts
            .iter()
            .all(|p| candidate.split(['_', '-', '.']).any(|c| c == *p))
}

/// Optimal string alignment distance: insertions, deletions, substitutions and swaps of
/// two neighbouring characters each cost one.
pub fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut prev2: Vec<usize> = vec![0; b.len() + 1];
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur: Vec<usize> = vec![0; b.len() + 1];
    for i in 1..=a.len() {
        cur[0] = i;
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut d = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d = d.min(prev2[j - 2] + 1);
            }
            cur[j] = d;
        }
        std::mem::swap(&mut prev2, &mut prev);
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

/// For a serde message about an unknown variant or field that lists the valid ones, the
/// closest valid one.
pub fn for_message(message: &str) -> Option<String> {
    let start = ["unknown variant `", "unknown field `"]
        .iter()
        .find_map(|p| message.find(p).map(|i| i + p.len()))?;
    let rest = &message[start..];
    let end = rest.find("`, expected")?;
    let word = &rest[..end];
    let listed = &rest[end + "`, expected".len()..];
    let candidates: Vec<&str> = listed.split('`').skip(1).step_by(2).collect();
    closest(word, candidates.iter().copied()).map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances() {
        assert_eq!(distance("equal", "equals"), 1);
        assert_eq!(distance("triger", "trigger"), 1);
        assert_eq!(distance("emial", "email"), 1);
        assert_eq!(distance("", "abc"), 3);
        assert_eq!(distance("kitten", "sitting"), 3);
    }

    #[test]
    fn close_names_are_suggested_far_ones_are_not() {
        let ops = ["equals", "not_equals", "gt", "gte", "in", "not_in"];
        assert_eq!(closest("equal", ops), Some("equals"));
        assert_eq!(closest("Equals", ops), Some("equals"));
        assert_eq!(closest("notequals", ops), Some("not_equals"));
        assert_eq!(closest("banana", ops), None);
        let modes = ["none", "once_ever", "once_per_calendar_day"];
        assert_eq!(
            closest("once_per_day", modes),
            Some("once_per_calendar_day")
        );
        assert_eq!(
            closest("signup_complete", ["signup_completed"]),
            Some("signup_completed")
        );
    }

    #[test]
    fn messages_with_a_list_get_a_suggestion() {
        let m = "unknown variant `equal`, expected one of `equals`, `not_equals`";
        assert_eq!(for_message(m).as_deref(), Some("equals"));
        let m = "unknown field `triger`, expected one of `name`, `trigger`";
        assert_eq!(for_message(m).as_deref(), Some("trigger"));
        let m = "unknown field `rulez`, expected `rules` or `templates`";
        assert_eq!(for_message(m).as_deref(), Some("rules"));
        assert_eq!(for_message("missing field `action`"), None);
    }
}
