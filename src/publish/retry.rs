//! Retries: the *policy* (what one attempt settles and what is sent again: [`decide`], on top of
//! the classification [`retry_action`]) kept apart from the *mechanics* (permit, timeout, sleep:
//! the relay's attempt loop) and from *backoff* (how long to wait: [`Backoff`], exponential with
//! full jitter, as AWS recommends for throttled clients).

use std::time::Duration;

use crate::ordering::KeyKind;
use crate::publish::classify::EventOutcome;
use crate::publish::{Accepted, EventError, NotRetried};

/// What to do after one attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RetryAction {
    /// Every event was accepted.
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
        .filter(|(_, o)| matches!(o, EventOutcome::Failed(e) if e.is_retryable()))
        .map(|(i, _)| i)
        .collect();
    let delivered = outcomes
        .iter()
        .all(|o| matches!(o, EventOutcome::Delivered | EventOutcome::Unlisted));
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

/// The facts about one attempt that the decision needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Attempt {
    /// This attempt's number, the first is 1.
    pub number: u32,
    /// Attempts allowed per event, the first included.
    pub max: u32,
    /// The request's events share one ordering key (an SQS FIFO message group, a partition key,
    /// an item), in order; `None` for unordered events.
    pub ordered: Option<KeyKind>,
    /// Whether a retry after the backoff delay would still start before the deadline.
    pub time_for_retry: bool,
}

/// What one request's events have come to: one entry per event, by position; `None` while
/// undecided.
pub type Fates = [Option<Result<Accepted, EventError>>];

/// The retry policy, for one attempt of one request: settles in `fates` (one per event of the
/// request, by position; `None` while undecided) what this attempt decided for the events it
/// sent (`sent`, with their `outcomes` in the same order), and returns the positions to send
/// again, each with its last failure (what it fails with if no later attempt happens).
///
/// - Only failed events are sent again, and only those that can succeed later.
/// - `ordered` (one ordering key): nothing is sent again after a later event of the request was accepted
///   (it would land after that event), nor after an earlier one failed for good (the group has
///   failed).
/// - No retry past the attempts allowed (`max` counts the first) or when the backoff would end
///   past the deadline. An event given up keeps its last failure and says why it was not retried.
pub fn decide(
    fates: &mut Fates,
    sent: &[usize],
    outcomes: Vec<EventOutcome>,
    attempt: Attempt,
) -> Vec<(usize, EventError)> {
    // What the classification says to send again (positions in `sent`).
    let action = retry_action(&outcomes);
    let again = |at: usize| match &action {
        RetryAction::Done | RetryAction::GiveUp => false,
        RetryAction::Retry => true,
        RetryAction::RetryIndices(indices) => indices.contains(&at),
    };
    let mut retry: Vec<(usize, EventError)> = Vec::new();
    for (at, (&slot, outcome)) in sent.iter().zip(outcomes).enumerate() {
        match outcome {
            EventOutcome::Delivered => fates[slot] = Some(Ok(Accepted::Listed)),
            EventOutcome::Unlisted => fates[slot] = Some(Ok(Accepted::Unlisted)),
            EventOutcome::Failed(e) if again(at) => retry.push((slot, e)),
            EventOutcome::Failed(e) => fates[slot] = Some(Err(e)),
        }
    }
    if let Some(kind) = attempt.ordered {
        // Each event for its own reason: one with a later accepted event is not sent again
        // (it would land after it), and that makes it a final failure for every event after it;
        // until nothing changes.
        loop {
            let before = retry.len();
            if let Some(first_failed) = fates.iter().position(|x| matches!(x, Some(Err(_)))) {
                let (keep, after): (Vec<_>, Vec<_>) = retry
                    .into_iter()
                    .partition(|(slot, _)| *slot < first_failed);
                give_up(fates, after, NotRetried::EarlierFailed(kind));
                retry = keep;
            }
            let later_accepted = |slot: usize| {
                fates
                    .iter()
                    .skip(slot + 1)
                    .any(|x| matches!(x, Some(Ok(_))))
            };
            let (later, keep): (Vec<_>, Vec<_>) = retry
                .into_iter()
                .partition(|(slot, _)| later_accepted(*slot));
            give_up(fates, later, NotRetried::LaterAccepted(kind));
            retry = keep;
            if retry.len() == before {
                break;
            }
        }
    }
    if retry.is_empty() {
        return Vec::new();
    }
    let why = if attempt.number >= attempt.max {
        Some(NotRetried::GaveUp {
            attempts: attempt.number,
        })
    } else if !attempt.time_for_retry {
        Some(NotRetried::NoTimeLeft)
    } else {
        None
    };
    match why {
        Some(why) => {
            give_up(fates, retry, why);
            Vec::new()
        }
        None => retry,
    }
}

/// Fails events that will not be sent again: their last failure, and why not.
fn give_up(fates: &mut Fates, retry: Vec<(usize, EventError)>, why: NotRetried) {
    for (slot, last) in retry {
        fates[slot] = Some(Err(EventError::NotRetried {
            last: Box::new(last),
            why,
        }));
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

    /// A failure that is retryable (503) or not (400).
    fn fail(retryable: bool) -> EventOutcome {
        EventOutcome::Failed(status(if retryable { 503 } else { 400 }))
    }

    fn status(status: u16) -> EventError {
        EventError::Status {
            status,
            error_type: None,
            message: None,
        }
    }

    fn given_up(last: EventError, why: NotRetried) -> Option<Result<Accepted, EventError>> {
        Some(Err(EventError::NotRetried {
            last: Box::new(last),
            why,
        }))
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

    /// Attempt `number`; `ordered` events share one message group.
    fn attempt(number: u32, ordered: bool) -> Attempt {
        Attempt {
            number,
            max: 3,
            ordered: ordered.then_some(KeyKind::MessageGroup),
            time_for_retry: true,
        }
    }

    /// The positions to send again.
    fn slots(again: &[(usize, EventError)]) -> Vec<usize> {
        again.iter().map(|(slot, _)| *slot).collect()
    }

    fn fail_with(code: u16) -> EventOutcome {
        EventOutcome::Failed(status(code))
    }

    #[test]
    fn only_failed_events_that_can_succeed_later_are_sent_again() {
        use EventOutcome::Delivered;
        let mut fates = vec![None; 4];
        let again = decide(
            &mut fates,
            &[0, 1, 2, 3],
            vec![Delivered, fail(true), fail_with(404), fail(true)],
            attempt(1, false),
        );
        assert_eq!(slots(&again), vec![1, 3]);
        assert_eq!(
            fates,
            vec![
                Some(Ok(Accepted::Listed)),
                None,
                Some(Err(status(404))),
                None
            ]
        );
        // The second attempt sends 1 and 3 only; 3 succeeds, 1 fails for good.
        let again = decide(
            &mut fates,
            &[1, 3],
            vec![fail_with(403), Delivered],
            attempt(2, false),
        );
        assert!(again.is_empty());
        assert_eq!(fates[1], Some(Err(status(403))));
        assert_eq!(fates[3], Some(Ok(Accepted::Listed)));
    }

    #[test]
    fn the_last_allowed_attempt_gives_up_with_its_failure_and_why() {
        let mut fates = vec![None];
        let again = decide(&mut fates, &[0], vec![fail_with(503)], attempt(3, false));
        assert!(again.is_empty());
        assert_eq!(
            fates[0],
            given_up(status(503), NotRetried::GaveUp { attempts: 3 })
        );
    }

    #[test]
    fn no_retry_starts_when_the_backoff_would_end_past_the_deadline() {
        let mut fates = vec![None];
        let facts = Attempt {
            time_for_retry: false,
            ..attempt(1, false)
        };
        assert!(decide(&mut fates, &[0], vec![fail_with(429)], facts).is_empty());
        assert_eq!(fates[0], given_up(status(429), NotRetried::NoTimeLeft));
    }

    #[test]
    fn fifo_nothing_is_retried_after_a_later_event_was_delivered() {
        use EventOutcome::Delivered;
        let mut fates = vec![None; 3];
        let again = decide(
            &mut fates,
            &[0, 1, 2],
            vec![Delivered, fail_with(500), Delivered],
            attempt(1, true),
        );
        assert!(again.is_empty());
        assert_eq!(
            fates[1],
            given_up(
                status(500),
                NotRetried::LaterAccepted(KeyKind::MessageGroup)
            )
        );
        // Unordered, the same answer retries the failed event.
        let mut fates = vec![None; 3];
        let again = decide(
            &mut fates,
            &[0, 1, 2],
            vec![Delivered, fail_with(500), Delivered],
            attempt(1, false),
        );
        assert_eq!(slots(&again), vec![1]);
    }

    #[test]
    fn fifo_each_event_not_sent_again_says_its_own_reason() {
        // Event 0 has an accepted event after it; event 2 has none, but event 0 has now failed
        // for good before it.
        let mut fates = vec![None; 3];
        let again = decide(
            &mut fates,
            &[0, 1, 2],
            vec![fail_with(503), EventOutcome::Delivered, fail_with(503)],
            attempt(1, true),
        );
        assert!(again.is_empty());
        assert_eq!(
            fates[0],
            given_up(
                status(503),
                NotRetried::LaterAccepted(KeyKind::MessageGroup)
            )
        );
        assert_eq!(
            fates[2],
            given_up(
                status(503),
                NotRetried::EarlierFailed(KeyKind::MessageGroup)
            )
        );
    }

    #[test]
    fn a_retried_event_goes_back_with_its_last_failure() {
        let mut fates = vec![None; 2];
        let again = decide(
            &mut fates,
            &[0, 1],
            vec![EventOutcome::Delivered, fail_with(429)],
            attempt(1, false),
        );
        assert_eq!(again, vec![(1, status(429))]);
    }

    #[test]
    fn fifo_nothing_after_a_final_failure_is_retried_and_a_failing_tail_is() {
        let mut fates = vec![None; 3];
        let again = decide(
            &mut fates,
            &[0, 1, 2],
            vec![fail(true), fail_with(400), fail_with(429)],
            attempt(1, true),
        );
        // Event 0 came before the final failure: it may still go again, in order.
        assert_eq!(slots(&again), vec![0]);
        assert_eq!(
            fates[2],
            given_up(
                status(429),
                NotRetried::EarlierFailed(KeyKind::MessageGroup)
            )
        );
        let mut fates = vec![None; 2];
        let again = decide(
            &mut fates,
            &[0, 1],
            vec![EventOutcome::Delivered, fail(true)],
            attempt(1, true),
        );
        assert_eq!(slots(&again), vec![1]);
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
