//! Faults: the random fault settings, the queue of scripted outcomes, and each request's draw.

use std::collections::VecDeque;
use std::time::Duration;

use super::{AppState, lock};
use crate::config::{Faults, Malformed, Scripted};

/// What the random faults decided for one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Roll {
    /// Answer this status, accept nothing.
    Fail(u16),
    /// Accept, failing these event indices; maybe drop the response or garble its body.
    Accept {
        failed: Vec<usize>,
        drop_response: bool,
        malformed: Option<Malformed>,
    },
}

/// The random fault settings, their RNG and the scripted outcomes still queued.
pub(super) struct FaultState {
    pub(super) faults: Faults,
    pub(super) rng: fastrand::Rng,
    pub(super) script: VecDeque<Scripted>,
}

impl AppState {
    /// The current random fault settings.
    pub fn faults(&self) -> Faults {
        lock(&self.inner.faults).faults.clone()
    }

    /// Replaces the random fault settings (the RNG keeps its position).
    pub fn set_faults(&self, faults: Faults) {
        lock(&self.inner.faults).faults = faults.sanitized();
    }

    /// Appends forced outcomes for the next publish requests.
    pub fn script(&self, outcomes: impl IntoIterator<Item = Scripted>) {
        lock(&self.inner.faults).script.extend(outcomes);
    }

    /// Replaces the queue of forced outcomes.
    pub fn replace_script(&self, outcomes: impl IntoIterator<Item = Scripted>) {
        let mut state = lock(&self.inner.faults);
        state.script.clear();
        state.script.extend(outcomes);
    }

    /// The scripted outcomes still queued, next first.
    pub fn queued_script(&self) -> Vec<Scripted> {
        lock(&self.inner.faults).script.iter().cloned().collect()
    }

    /// Numbers an arriving HTTP publish and takes its scripted outcome, atomically, so the n-th
    /// request to arrive gets the n-th scripted outcome.
    pub(crate) fn begin_request(&self) -> (u64, Option<Scripted>) {
        let mut faults = lock(&self.inner.faults);
        (self.arrival(), faults.script.pop_front())
    }

    pub(crate) fn latency(&self) -> Duration {
        Duration::from_millis(lock(&self.inner.faults).faults.latency_ms)
    }

    /// Draws this request's random fate: one draw for throttle / server error, one per event
    /// for `event_failure`, one for `drop_response`, and (only when `malformed_response` is above
    /// 0, so older seeds replay unchanged) one for `malformed_response` plus one for its shape.
    pub(crate) fn roll(&self, events: usize) -> Roll {
        let mut state = lock(&self.inner.faults);
        let faults = state.faults.clone();
        let r = state.rng.f64();
        if r < faults.throttle {
            return Roll::Fail(429);
        }
        if r < faults.throttle + faults.server_error {
            return Roll::Fail(500);
        }
        let failed = (0..events)
            .filter(|_| state.rng.f64() < faults.event_failure)
            .collect();
        let drop_response = state.rng.f64() < faults.drop_response;
        let malformed =
            if faults.malformed_response > 0.0 && state.rng.f64() < faults.malformed_response {
                Some(Malformed::ALL[state.rng.usize(..Malformed::ALL.len())])
            } else {
                None
            };
        Roll::Accept {
            failed,
            drop_response,
            malformed,
        }
    }
}
