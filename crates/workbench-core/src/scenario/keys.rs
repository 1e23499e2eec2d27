//! Idempotency keys within one scenario file (SPEC §7.6).

use super::Step;
use crate::event::IDENTITY_FIELDS;
use crate::yaml::Pos;

/// The idempotency keys seen so far in a scenario (SPEC §7.6): a key used again must repeat
/// its event exactly (a replay); the same key on a different event is a load error naming
/// both lines.
#[derive(Debug, Default)]
pub(crate) struct Keys(std::collections::HashMap<String, KeyUse>);

#[derive(Debug)]
pub(crate) struct KeyUse {
    line: usize,
    identity: [u64; 5],
}

impl Keys {
    /// Check `step`'s key (if any) against the earlier uses; `pos` is where it is written.
    pub(crate) fn check(&mut self, step: &Step, pos: Option<Pos>) -> Result<(), String> {
        let Some(key) = &step.event.idempotency_key else {
            return Ok(());
        };
        let identity = step.event.identity().map(|s| {
            use std::hash::{Hash, Hasher};
            let mut h = std::collections::hash_map::DefaultHasher::new();
            s.hash(&mut h);
            h.finish()
        });
        match self.0.get(key) {
            None => {
                self.0.insert(
                    key.clone(),
                    KeyUse {
                        line: pos.map_or(step.line, |p| p.line),
                        identity,
                    },
                );
                Ok(())
            }
            Some(first) if first.identity == identity => Ok(()),
            Some(first) => {
                let differ: Vec<&str> = IDENTITY_FIELDS
                    .iter()
                    .zip(first.identity.iter().zip(identity.iter()))
                    .filter(|(_, (a, b))| a != b)
                    .map(|(f, _)| *f)
                    .collect();
                Err(format!(
                    "idempotency key `{key}` was already used on line {} by an event with a \
                     different {}: a reused key must repeat its event exactly",
                    first.line,
                    differ.join(", ")
                ))
            }
        }
    }
}
