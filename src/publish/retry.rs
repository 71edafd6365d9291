//! Retries: *classification* (what to do after an attempt) kept apart from *mechanics* (how long
//! to wait). Exponential backoff with full jitter, as AWS recommends for throttled clients.

use std::time::Duration;

use crate::publish::classify::EventOutcome;

/// What to do after one attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RetryAction {
    /// Every event was delivered.
    Done,
    /// Every event failed and may succeed later: send the whole request again.
    Retry,
    /// Some events failed retryably: send only these indices again (the others are settled).
    RetryIndices(Vec<usize>),
    /// Events failed and none can succeed later.
    GiveUp,
}

/// Classifies the outcomes of one attempt.
pub fn retry_action(outcomes: &[EventOutcome]) -> RetryAction {
    let retryable: Vec<usize> = outcomes
        .iter()
        .enumerate()
        .filter(|(_, o)| matches!(o, EventOutcome::Failed(f) if f.retryable))
        .map(|(i, _)| i)
        .collect();
    let delivered = outcomes
        .iter()
        .all(|o| matches!(o, EventOutcome::Delivered));
    if delivered {
        RetryAction::Done
    } else if retryable.is_empty() {
        RetryAction::GiveUp
    } else if retryable.len() == outcomes.len() {
        RetryAction::Retry
    } else {
        RetryAction::RetryIndices(retryable)
    }
}

/// Whether delays are randomised.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Jitter {
    /// Uniform in `[0, ceiling]` ("full jitter"): spreads retries of concurrent invocations.
    Full,
    /// Always the ceiling: deterministic, for tests.
    None,
}

/// Exponential backoff: the ceiling doubles from `base` per retry up to `cap`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// Ceiling of the first retry's delay.
    pub base: Duration,
    /// Largest ceiling.
    pub cap: Duration,
    /// Full jitter in production, none in tests.
    pub jitter: Jitter,
}

impl Backoff {
    /// The delay before retry number `retry` (1 = the first retry).
    pub fn delay(&self, retry: u32) -> Duration {
        let factor = 1u32
            .checked_shl(retry.saturating_sub(1))
            .unwrap_or(u32::MAX);
        let ceiling = self.base.saturating_mul(factor).min(self.cap);
        match self.jitter {
            Jitter::None => ceiling,
            Jitter::Full => {
                let ms = u64::try_from(ceiling.as_millis()).unwrap_or(u64::MAX);
                Duration::from_millis(fastrand::u64(0..=ms))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::publish::classify::Failure;

    fn fail(retryable: bool) -> EventOutcome {
        EventOutcome::Failed(Failure {
            reason: "x".into(),
            retryable,
        })
    }

    #[test]
    fn classification_covers_done_retry_indices_and_give_up() {
        use EventOutcome::Delivered;
        assert_eq!(retry_action(&[Delivered, Delivered]), RetryAction::Done);
        assert_eq!(retry_action(&[fail(true), fail(true)]), RetryAction::Retry);
        assert_eq!(
            retry_action(&[Delivered, fail(true), fail(false), fail(true)]),
            RetryAction::RetryIndices(vec![1, 3])
        );
        assert_eq!(retry_action(&[Delivered, fail(false)]), RetryAction::GiveUp);
    }

    #[test]
    fn delays_double_up_to_the_cap_without_jitter() {
        let b = Backoff {
            base: Duration::from_millis(100),
            cap: Duration::from_millis(700),
            jitter: Jitter::None,
        };
        let delays: Vec<u128> = (1..=5).map(|r| b.delay(r).as_millis()).collect();
        assert_eq!(delays, vec![100, 200, 400, 700, 700]);
        assert_eq!(b.delay(200), Duration::from_millis(700));
    }

    #[test]
    fn full_jitter_stays_within_the_ceiling() {
        let b = Backoff {
            base: Duration::from_millis(50),
            cap: Duration::from_millis(120),
            jitter: Jitter::Full,
        };
        for retry in 1..10 {
            let ceiling = (50u64 << (retry - 1)).min(120);
            assert!(b.delay(retry) <= Duration::from_millis(ceiling));
        }
    }
}
