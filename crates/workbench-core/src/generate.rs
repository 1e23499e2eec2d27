//! A deterministic synthetic event stream (`workbench gen`) for benchmarks and demos.

use std::io::{self, Write};

use chrono::{DateTime, Duration, FixedOffset, SecondsFormat, Utc};
use serde_json::{Map, Value, json};

/// How big the stream is.
#[derive(Debug, Clone, Copy)]
pub struct GenSpec {
    pub users: usize,
    pub events: usize,
    pub seed: u64,
}

/// How the stream is spread: over how many days, and how events fall on users.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shape {
    /// The span of the stream's timestamps, from 2025-09-01T08:00:00Z.
    pub days: u32,
    pub mix: Mix,
}

impl Default for Shape {
    /// The stream `generate` has always written: 42 days, every user equally active.
    fn default() -> Self {
        Shape {
            days: 42,
            mix: Mix::Uniform,
        }
    }
}

/// Which user each event belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mix {
    /// Every user equally likely.
    Uniform,
    /// Production-like: a user's activity is heavy-tailed (Pareto, shape 2, at most 1,000
    /// times the least active), so most users have a few events and some have thousands.
    Active,
}

#[derive(Debug, Clone, Default)]
struct UserState {
    signed_up: bool,
    linked: bool,
    attempts: u32,
    last: Option<DateTime<Utc>>,
}

const START: &str = "2025-09-01T08:00:00Z";
const REASONS: [(&str, u32); 4] = [
    ("INSUFFICIENT_FUNDS", 50),
    ("CARD_DECLINED", 25),
    ("NETWORK_ERROR", 15),
    ("EXPIRED_CARD", 10),
];
const UNKNOWN: [&str; 3] = ["app_opened", "card_viewed", "statement_downloaded"];
const COUNTRIES: [&str; 5] = ["US", "GB", "DE", "FR", "CA"];
/// A zone per country (by the same index), the US's alternating coast to coast.
const ZONES: [[&str; 2]; 5] = [
    ["America/New_York", "America/Los_Angeles"],
    ["Europe/London", "Europe/London"],
    ["Europe/Berlin", "Europe/Berlin"],
    ["Europe/Paris", "Europe/Paris"],
    ["America/Toronto", "America/Vancouver"],
];
const SEGMENTS: [&str; 3] = ["low", "medium", "high"];
const OFFSETS: [i32; 4] = [2 * 3600, -5 * 3600, 5 * 3600 + 1800, -8 * 3600];

/// Write `spec.events` JSON lines to `out`, shaped as always (see [`Shape::default`]).
/// Same spec, same bytes.
pub fn generate(spec: GenSpec, out: &mut impl Write) -> io::Result<()> {
    generate_shaped(spec, Shape::default(), out)
}

/// Write `spec.events` JSON lines to `out`, spread as `shape` says. Same inputs, same bytes.
pub fn generate_shaped(spec: GenSpec, shape: Shape, out: &mut impl Write) -> io::Result<()> {
    let mut rng = fastrand::Rng::with_seed(spec.seed);
    let users = spec.users.max(1);
    let mut state = vec![UserState::default(); users];
    let picker = match shape.mix {
        Mix::Uniform => None,
        Mix::Active => Some(Activity::new(users, spec.seed)),
    };
    let start: DateTime<Utc> = START.parse().expect("valid start");
    let span_ms = i64::from(shape.days.max(1)) * 86_400_000;
    let step_ms = span_ms / i64::try_from(spec.events.max(1)).unwrap_or(i64::MAX);
    for i in 0..spec.events {
        let u = match &picker {
            None => rng.usize(0..users),
            Some(a) => a.pick(&mut rng),
        };
        let clock = start
            + Duration::milliseconds(
                step_ms * i64::try_from(i).unwrap_or(i64::MAX) + rng.i64(0..step_ms.max(1)),
            );
        let s = &mut state[u];
        let mut ts = match s.last {
            Some(last) if last >= clock => last + Duration::seconds(rng.i64(1..600)),
            _ => clock,
        };
        s.last = Some(ts);
        let event_type = pick_type(&mut rng, s);
        let properties = properties(&mut rng, s, event_type);
        // A few producers send late (out-of-order) or with a local offset.
        if rng.u32(0..100) < 2 {
            ts -= Duration::minutes(rng.i64(1..240));
        }
        let stamp = if rng.u32(0..100) < 5 {
            let off = FixedOffset::east_opt(OFFSETS[rng.usize(0..OFFSETS.len())]).expect("offset");
            ts.with_timezone(&off)
                .to_rfc3339_opts(SecondsFormat::Secs, true)
        } else {
            ts.to_rfc3339_opts(SecondsFormat::Secs, true)
        };
        let mut line = Map::new();
        line.insert("user_id".into(), json!(format!("u_{u:06}")));
        line.insert("event_type".into(), json!(event_type));
        line.insert("event_timestamp".into(), json!(stamp));
        line.insert("properties".into(), Value::Object(properties));
        if rng.u32(0..100) >= 10 {
            line.insert("user_traits".into(), traits(&mut rng, u));
        }
        serde_json::to_writer(&mut *out, &line)?;
        out.write_all(b"\n")?;
    }
    out.flush()
}

/// Users' cumulative activity, for picking a user in proportion to it.
struct Activity(Vec<f64>);

impl Activity {
    /// Each user's activity drawn from Pareto(1, 2) capped at 1,000, from its own generator
    /// (so the stream's other draws stay those of the seed).
    fn new(users: usize, seed: u64) -> Activity {
        let mut rng = fastrand::Rng::with_seed(seed ^ 0x5eed_ac71_u64);
        let mut total = 0.0;
        let cumulative = (0..users)
            .map(|_| {
                // 1 - f64() is in (0, 1]: never a division by zero.
                total += (1.0 / (1.0 - rng.f64()).sqrt()).min(1_000.0);
                total
            })
            .collect();
        Activity(cumulative)
    }

    fn pick(&self, rng: &mut fastrand::Rng) -> usize {
        let total = self.0.last().copied().unwrap_or(0.0);
        let at = rng.f64() * total;
        self.0.partition_point(|&c| c <= at).min(self.0.len() - 1)
    }
}

fn pick_type(rng: &mut fastrand::Rng, s: &mut UserState) -> &'static str {
    let roll = rng.u32(0..100);
    if !s.signed_up {
        if roll < 90 {
            s.signed_up = true;
            return "signup_completed";
        }
        return UNKNOWN[rng.usize(0..UNKNOWN.len())];
    }
    let t = match (s.linked, roll) {
        (false, 0..60) => "link_bank_success",
        (false, 60..80) => "payment_initiated",
        (false, 80..90) => "payment_failed",
        (true, 0..45) => "payment_initiated",
        (true, 45..80) => "payment_failed",
        (true, 80..83) => "salary_received",
        (true, 83..86) => "link_bank_success",
        (true, 86..90) => "signup_completed",
        _ => UNKNOWN[rng.usize(0..UNKNOWN.len())],
    };
    match t {
        "link_bank_success" => s.linked = true,
        "payment_initiated" => s.attempts = 0,
        "payment_failed" => s.attempts += 1,
        _ => {}
    }
    t
}

fn properties(rng: &mut fastrand::Rng, s: &UserState, event_type: &str) -> Map<String, Value> {
    let amount = f64::from(rng.u32(500..50_000)) / 100.0;
    let currency = ["USD", "EUR", "GBP"][rng.usize(0..3)];
    let v = match event_type {
        "payment_failed" => {
            let mut roll = rng.u32(0..100);
            let reason = REASONS
                .iter()
                .find(|(_, w)| {
                    let hit = roll < *w;
                    roll = roll.saturating_sub(*w);
                    hit
                })
                .map_or("CARD_DECLINED", |(r, _)| r);
            // Some producers send the attempt number as a string: it must never match `gte`.
            let attempt = if rng.u32(0..100) < 2 {
                json!(s.attempts.to_string())
            } else {
                json!(s.attempts)
            };
            json!({"failure_reason": reason, "attempt_number": attempt, "amount": amount, "currency": currency})
        }
        "payment_initiated" => json!({"amount": amount, "currency": currency, "method": "bank"}),
        "salary_received" => json!({"amount": amount * 40.0, "currency": currency}),
        "signup_completed" => json!({"platform": pick(rng, &["ios", "android", "web"])}),
        "link_bank_success" => json!({"bank": {"name": pick(rng, &["Chase", "Monzo", "N26"])}}),
        _ => json!({"screen": "home"}),
    };
    v.as_object().cloned().unwrap_or_default()
}

fn pick(rng: &mut fastrand::Rng, items: &[&'static str]) -> &'static str {
    items[rng.usize(0..items.len())]
}

fn traits(rng: &mut fastrand::Rng, u: usize) -> Value {
    let mut t = json!({
        "email": format!("u_{u:06}@example.com"),
        "country": COUNTRIES[u % COUNTRIES.len()],
        "marketing_opt_in": !u.is_multiple_of(10) && rng.u32(0..100) < 85,
        "risk_segment": SEGMENTS[(u / 7) % 3],
    });
    // Three users in four carry their zone; a few carry a name that is not one.
    if u.is_multiple_of(101) {
        t["timezone"] = json!("Mars/Base");
    } else if !u.is_multiple_of(4) {
        t["timezone"] = json!(ZONES[u % COUNTRIES.len()][(u / 5) % 2]);
    }
    if rng.u32(0..100) < 3 {
        t["plan"] = json!("premium");
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gen_string(spec: GenSpec) -> String {
        let mut out = Vec::new();
        generate(spec, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn same_seed_same_bytes_and_every_line_parses() {
        let spec = GenSpec {
            users: 50,
            events: 2_000,
            seed: 7,
        };
        let a = gen_string(spec);
        assert_eq!(a, gen_string(spec));
        assert_ne!(a, gen_string(GenSpec { seed: 8, ..spec }));
        let s = crate::scenario::Scenario::from_jsonl("gen.jsonl".as_ref(), &a).unwrap();
        assert_eq!(s.len, 2_000);
        let steps: Vec<_> = s.steps().unwrap().map(Result::unwrap).collect();
        for t in [
            "signup_completed",
            "link_bank_success",
            "payment_failed",
            "salary_received",
            "app_opened",
        ] {
            assert!(steps.iter().any(|st| st.event.event_type == t), "no {t}");
        }
        assert!(
            a.contains("+02:00") || a.contains("-05:00"),
            "no offset timestamps"
        );
        assert!(a.contains(r#""timezone":"America/Los_Angeles""#) && a.contains("Mars/Base"));
    }

    fn shaped(spec: GenSpec, shape: Shape) -> Vec<crate::scenario::Step> {
        let mut out = Vec::new();
        generate_shaped(spec, shape, &mut out).unwrap();
        let s = crate::scenario::Scenario::from_jsonl(
            "gen.jsonl".as_ref(),
            &String::from_utf8(out).unwrap(),
        )
        .unwrap();
        s.steps().unwrap().map(Result::unwrap).collect()
    }

    #[test]
    fn the_default_shape_is_the_stream_as_it_always_was() {
        let spec = GenSpec {
            users: 30,
            events: 500,
            seed: 3,
        };
        let mut shaped = Vec::new();
        generate_shaped(spec, Shape::default(), &mut shaped).unwrap();
        assert_eq!(String::from_utf8(shaped).unwrap(), gen_string(spec));
    }

    #[test]
    fn days_bound_the_span_and_the_active_mix_gives_long_histories() {
        let spec = GenSpec {
            users: 1_000,
            events: 50_000,
            seed: 11,
        };
        let steps = shaped(
            spec,
            Shape {
                days: 30,
                mix: Mix::Active,
            },
        );
        let first = steps.iter().map(|s| s.received_at).min().unwrap();
        let last = steps.iter().map(|s| s.received_at).max().unwrap();
        assert!(last - first <= Duration::days(31), "{first} .. {last}");
        assert!(last - first >= Duration::days(29), "{first} .. {last}");
        let mut per_user = std::collections::HashMap::<&str, usize>::new();
        for s in &steps {
            *per_user.entry(s.event.user_id.as_str()).or_default() += 1;
        }
        let mut counts: Vec<usize> = per_user.into_values().collect();
        counts.sort_unstable();
        let (fewest, most) = (counts[0], counts[counts.len() - 1]);
        // 50 events a user on average: the most active have many times more than most.
        assert!(
            most >= 10 * counts[counts.len() / 2],
            "most {most}, median {}",
            counts[counts.len() / 2]
        );
        assert!(fewest < counts[counts.len() / 2]);
    }
}
