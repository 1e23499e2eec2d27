//! Mutated copies of the bundled `rules/rules.yaml` (byte flips, deletions, control
//! characters, huge strings, deep nesting, type swaps): loading never panics, every error is
//! one line naming the file (and a position when the YAML had one), and `check` exits 0, 1 or
//! 2, never 101.

mod common;

use std::path::Path;

use proptest::prelude::*;
use workbench::lint::{Facts, lint_with};
use workbench::rules::{RuleSet, RulesError};

const BUNDLED: &str = include_str!("../rules/rules.yaml");

fn check_loads_or_explains(src: &str) {
    match RuleSet::from_yaml(Path::new("r.yaml"), src) {
        Ok(rules) => {
            let _ = lint_with(&rules, &Facts::for_rules(&rules));
        }
        Err(e) => {
            let text = e.to_string();
            assert!(text.starts_with("r.yaml"), "{text}");
            assert!(!text.contains('\n') && !text.contains('\r'), "{text:?}");
            if let RulesError::Invalid { pos: Some(p), .. } = &e {
                assert!(p.line >= 1 && p.column >= 1, "{text}");
            }
        }
    }
}

/// One mutation of the source at a position (a fraction of its length).
#[derive(Debug, Clone)]
enum Mutation {
    Flip(f64, u8),
    Delete(f64, usize),
    Control(f64, char),
    Huge(f64, usize),
    Nest(f64, &'static str, usize),
    Swap(usize, &'static str),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let at = 0.0..1.0f64;
    prop_oneof![
        (at.clone(), any::<u8>()).prop_map(|(a, b)| Mutation::Flip(a, b)),
        (at.clone(), 1..40usize).prop_map(|(a, n)| Mutation::Delete(a, n)),
        (at.clone(), prop::char::range('\0', '\u{1f}')).prop_map(|(a, c)| Mutation::Control(a, c)),
        (at.clone(), 200..300_000usize).prop_map(|(a, n)| Mutation::Huge(a, n)),
        (
            at,
            prop::sample::select(vec!["[", "{", "- ", "{a: ", "not: "]),
            1..3_000usize
        )
            .prop_map(|(a, s, n)| Mutation::Nest(a, s, n)),
        (
            0..200usize,
            prop::sample::select(vec![
                "[1]",
                "{a: 1}",
                "\"3\"",
                "3",
                "null",
                "~",
                "true",
                "-1",
                "1e400",
                "&a x",
                "*a",
                "!tag x",
                "\"\\u0000\"",
                "''",
                "|\n  x",
                "\"\\ud800\"",
            ])
        )
            .prop_map(|(i, s)| Mutation::Swap(i, s)),
    ]
}

fn apply(src: &str, m: &Mutation) -> String {
    let mut bytes = src.as_bytes().to_vec();
    // A fraction of a short file's length: exact enough, never negative.
    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        clippy::cast_precision_loss
    )]
    let at = |f: f64, len: usize| ((len as f64) * f) as usize;
    match m {
        Mutation::Flip(f, b) => {
            let i = at(*f, bytes.len()).min(bytes.len() - 1);
            bytes[i] = *b;
        }
        Mutation::Delete(f, n) => {
            let i = at(*f, bytes.len());
            let end = (i + n).min(bytes.len());
            bytes.drain(i..end);
        }
        Mutation::Control(f, c) => {
            let i = at(*f, bytes.len());
            bytes.splice(i..i, c.to_string().into_bytes());
        }
        Mutation::Huge(f, n) => {
            let i = at(*f, bytes.len());
            bytes.splice(i..i, std::iter::repeat_n(b'x', *n));
        }
        Mutation::Nest(f, s, n) => {
            let i = at(*f, bytes.len());
            bytes.splice(i..i, s.repeat(*n).into_bytes());
        }
        Mutation::Swap(i, s) => {
            // Replace the i-th value (text after `: ` up to the line's end).
            let text = String::from_utf8_lossy(&bytes).into_owned();
            let values: Vec<usize> = text.match_indices(": ").map(|(k, _)| k + 2).collect();
            let start = values[i % values.len()];
            let end = text[start..].find('\n').map_or(text.len(), |e| start + e);
            return format!("{}{s}{}", &text[..start], &text[end..]);
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn mutated_rules_load_or_explain_themselves(ms in prop::collection::vec(mutation(), 1..4)) {
        let mut src = BUNDLED.to_string();
        for m in &ms {
            src = apply(&src, m);
        }
        check_loads_or_explains(&src);
    }
}

#[test]
fn known_hostile_shapes_are_explained() {
    for src in [
        format!("{}{}", BUNDLED, "[".repeat(50_000)),
        BUNDLED.replace(
            "value: 3",
            &format!("value: {}3{}", "[".repeat(99), "]".repeat(99)),
        ),
        BUNDLED.replace("name: welcome_email", "name: welcome\u{7}email"),
        BUNDLED.replace("WELCOME_EMAIL:", "\"WELCOME\\nEMAIL\":"),
        BUNDLED.replace("mode: none", "mode: *nothing"),
        format!("a: &a [{}]\nb: *a\n", "x, ".repeat(1000)),
        String::from_utf8_lossy(&[0xff, 0xfe, b'a']).into_owned(),
    ] {
        check_loads_or_explains(&src);
    }
}

#[test]
fn the_check_binary_exits_0_1_or_2_on_mutated_files() {
    let dir = tempfile::tempdir().unwrap();
    let mut rng = fastrand::Rng::with_seed(7);
    let path = dir.path().join("r.yaml");
    for round in 0..8 {
        let m = match round % 4 {
            0 => Mutation::Flip(rng.f64(), rng.u8(..)),
            1 => Mutation::Control(rng.f64(), char::from(rng.u8(0..32))),
            2 => Mutation::Nest(rng.f64(), "{", 5_000),
            _ => Mutation::Swap(rng.usize(..200), "[1]"),
        };
        std::fs::write(&path, apply(BUNDLED, &m)).unwrap();
        let r = common::workbench_in(dir.path(), &["check", "r.yaml"]);
        assert!(matches!(r.code, 0..=2), "{m:?}: {}{}", r.stdout, r.stderr);
        if r.code == 2 {
            assert!(r.stderr.starts_with("error: r.yaml"), "{m:?}: {}", r.stderr);
            assert_eq!(r.stderr.lines().count(), 1, "{m:?}: {}", r.stderr);
        }
    }
}
