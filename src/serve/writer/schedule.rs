//! The scheduler's turn among one instance's writers, and how its looks went.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use super::{DUE_EVERY, Health};

/// The scheduler of one instance, shared by its writers: the first writer between groups
/// once [`DUE_EVERY`] has passed looks next (never at the same time as another writer of the
/// instance, which would only find the rows already claimed). Its health has a slot of its
/// own in [`Health`], after the writers': whichever writer looks next clears a failure.
#[derive(Debug, Clone)]
pub(super) struct Schedule {
    state: Arc<Mutex<ScheduleState>>,
    /// Its place in [`Health`].
    slot: usize,
}

#[derive(Debug, Default)]
struct ScheduleState {
    last: Option<Instant>,
    /// Why the last look failed, while it fails.
    error: Option<String>,
}

impl Schedule {
    pub(super) fn new(slot: usize) -> Schedule {
        Schedule {
            state: Arc::default(),
            slot,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, ScheduleState> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Whether it is this caller's turn to look; if so, the period starts again.
    pub(super) fn take(&self) -> bool {
        let mut state = self.lock();
        if state.last.is_some_and(|t| t.elapsed() < DUE_EVERY) {
            return false;
        }
        state.last = Some(Instant::now());
        true
    }

    /// Record how the last look went, saying so in the log when that changes.
    pub(super) fn outcome(&self, health: &Health, error: Option<String>) {
        let mut state = self.lock();
        match (&state.error, &error) {
            (None, Some(e)) => {
                tracing::warn!(error = %e, "cannot claim the scheduled sends that are due");
            }
            (Some(_), None) => tracing::info!("scheduled sends are claimed again"),
            _ => {}
        }
        state.error.clone_from(&error);
        health.update(self.slot, |h| h.database = error);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::serve::writer::HealthState;

    #[test]
    fn one_look_per_period_whose_failure_shows_until_a_look_succeeds() {
        let health = Health::default();
        let schedule = Schedule::new(2);
        assert!(schedule.take(), "the first look is at once");
        assert!(!schedule.clone().take(), "one look per period per instance");
        schedule.outcome(&health, Some("database down".into()));
        assert_eq!(health.get().database.as_deref(), Some("database down"));
        std::thread::sleep(DUE_EVERY);
        assert!(schedule.take());
        schedule.outcome(&health, None);
        assert_eq!(health.get(), HealthState::default());
    }
}
