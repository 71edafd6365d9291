//! One request's attempts: permit, timeout, publish, classify, retry only what failed, back off,
//! inside the attempts allowed and the deadline.

use std::time::Duration;

use tokio::time::Instant;
use tracing::{Instrument, debug, debug_span};

use super::Ctx;
use crate::ordering::KeyKind;
use crate::publish::classify::classify;
use crate::publish::retry::{Attempt, decide};
use crate::publish::{
    Accepted, EventError, NotRetried, NotSent, OutgoingEvent, Publisher, SendError,
};

/// A request — first send or retry — is only started with at least this long left before the
/// deadline (a retry: after its backoff): one cut off after a millisecond would most likely be
/// taken by AppSync and reported failed, a duplicate for nothing.
const MIN_SEND_WINDOW: Duration = Duration::from_millis(50);

/// Sends one request's events, retrying only failed ones, within attempts and the deadline.
/// `ordered` (the events share an ordering key of that kind): a failed event is retried only
/// when no later event of the request was delivered and no earlier one failed for good, so a
/// retry never lands after a later event of its key nor after the key has failed.
pub(super) async fn send_with_retries<P: Publisher>(
    ctx: &Ctx<'_, P>,
    channel: &str,
    events: &[OutgoingEvent],
    ordered: Option<KeyKind>,
) -> Vec<Result<Accepted, EventError>> {
    // Debug level: nothing inside it logs at the default level, and an enabled span costs on
    // every poll of the request.
    let span = debug_span!("publish", channel, events = events.len());
    async move {
        let mut results: Vec<Option<Result<Accepted, EventError>>> = vec![None; events.len()];
        // The events to send, each with its last failure once it has been sent.
        let mut pending: Vec<(usize, Option<EventError>)> =
            (0..events.len()).map(|slot| (slot, None)).collect();
        let mut attempt: u32 = 0;
        while !pending.is_empty() {
            attempt += 1;
            // Waiting for a permit is bounded too: requests in flight end by their own timeouts.
            // (The semaphore is never closed, so an error can only be the time running out.)
            let start_by = ctx
                .deadline
                .checked_sub(MIN_SEND_WINDOW)
                .unwrap_or(ctx.deadline);
            let permit = tokio::time::timeout_at(start_by, ctx.permits.acquire()).await;
            let (Ok(Ok(permit)), Some(remaining)) = (permit, remaining(ctx.deadline)) else {
                // A retry cut off here keeps the failure it was being retried for.
                for (slot, last) in pending {
                    results[slot] = Some(Err(match last {
                        Some(last) => EventError::NotRetried {
                            last: Box::new(last),
                            why: NotRetried::NoTimeLeft,
                        },
                        None => EventError::NotSent(NotSent::DeadlineReached),
                    }));
                }
                break;
            };
            if attempt > 1 {
                ctx.count(|c| c.retries += pending.len() as u64);
            }
            let timeout = ctx.settings.request_timeout.min(remaining);
            let sent: Vec<usize> = pending.iter().map(|(slot, _)| *slot).collect();
            let texts: Vec<&str> = sent.iter().map(|&i| events[i].json.as_str()).collect();
            debug!(attempt, events = ?texts, "publish request");
            let started = Instant::now();
            let response =
                match tokio::time::timeout(timeout, ctx.publisher.publish(channel, &texts)).await {
                    Ok(r) => r,
                    Err(_) => Err(SendError::Timeout),
                };
            drop(permit);
            let latency = started.elapsed().as_secs_f64() * 1000.0;
            ctx.count(|c| c.latencies_ms.push(latency));
            debug!(
                attempt,
                status = response.as_ref().map(|r| r.status).ok(),
                "publish response"
            );
            let outcomes = classify(sent.len(), &response);
            let delay = ctx.settings.backoff.delay(attempt);
            let facts = Attempt {
                number: attempt,
                max: ctx.settings.max_attempts,
                ordered,
                time_for_retry: Instant::now() + delay + MIN_SEND_WINDOW < ctx.deadline,
            };
            pending = decide(&mut results, &sent, outcomes, facts)
                .into_iter()
                .map(|(slot, last)| (slot, Some(last)))
                .collect();
            if pending.is_empty() {
                break;
            }
            tokio::time::sleep(delay).await;
        }
        results
            .into_iter()
            .map(|r| r.unwrap_or(Err(EventError::NotSent(NotSent::Unsettled))))
            .collect()
    }
    .instrument(span)
    .await
}

/// What is left before the deadline, if a request may still start ([`MIN_SEND_WINDOW`]).
fn remaining(deadline: Instant) -> Option<Duration> {
    let left = deadline.saturating_duration_since(Instant::now());
    (left >= MIN_SEND_WINDOW).then_some(left)
}
