//! One request's attempts: permit, timeout, publish, classify, retry only what failed, back off,
//! inside the attempts allowed and the deadline.

use std::time::Duration;

use tokio::time::Instant;
use tracing::{Instrument, debug, info_span};

use super::Ctx;
use crate::publish::classify::{EventOutcome, classify};
use crate::publish::retry::{RetryAction, retry_action};
use crate::publish::{OutgoingEvent, Publisher};

/// Sends one request's events, retrying only failed ones, within attempts and the deadline.
/// `ordered` (FIFO): a failed event is retried only when no later event of the request was
/// delivered and no earlier one failed for good, so a retry never lands after a later event of
/// its message group nor after the group has failed.
pub(super) async fn send_with_retries<P: Publisher>(
    ctx: &Ctx<'_, P>,
    channel: &str,
    events: &[OutgoingEvent],
    ordered: bool,
) -> Vec<Result<(), String>> {
    let span = info_span!("publish", channel, events = events.len());
    async move {
        let mut results: Vec<Option<Result<(), String>>> = vec![None; events.len()];
        let mut pending: Vec<usize> = (0..events.len()).collect();
        let mut attempt: u32 = 0;
        while !pending.is_empty() {
            attempt += 1;
            // Waiting for a permit is bounded too: requests in flight end by their own timeouts.
            // (The semaphore is never closed, so an error can only be the deadline.)
            let permit = tokio::time::timeout_at(ctx.deadline, ctx.permits.acquire()).await;
            let (Ok(Ok(permit)), Some(remaining)) = (permit, remaining(ctx.deadline)) else {
                settle(
                    &mut results,
                    &pending,
                    "deadline reached before the request was sent",
                );
                break;
            };
            let timeout = ctx.settings.request_timeout.min(remaining);
            let texts: Vec<&str> = pending.iter().map(|&i| events[i].json.as_str()).collect();
            debug!(attempt, events = ?texts, "publish request");
            let started = Instant::now();
            let response =
                match tokio::time::timeout(timeout, ctx.publisher.publish(channel, &texts)).await {
                    Ok(r) => r,
                    Err(_) => Err(crate::publish::SendError::Timeout),
                };
            drop(permit);
            let latency = started.elapsed().as_secs_f64() * 1000.0;
            if let Ok(mut c) = ctx.counters.lock() {
                c.1.push(latency);
            }
            let outcomes = classify(pending.len(), &response);
            let action = retry_action(&outcomes);
            debug!(
                attempt,
                ?action,
                status = response.as_ref().map(|r| r.status).ok(),
                "publish response"
            );
            // What the classification says to send again (positions in `pending`).
            let again: &[usize] = match &action {
                RetryAction::Done | RetryAction::GiveUp => &[],
                RetryAction::Retry => &(0..pending.len()).collect::<Vec<_>>(),
                RetryAction::RetryIndices(indices) => indices,
            };
            // Settle the rest; keep each event to retry with its last failure.
            let mut retry: Vec<(usize, String)> = Vec::new();
            for (at, (slot, outcome)) in pending.iter().zip(outcomes).enumerate() {
                match outcome {
                    EventOutcome::Delivered => results[*slot] = Some(Ok(())),
                    EventOutcome::Failed(f) if again.contains(&at) => retry.push((*slot, f.reason)),
                    EventOutcome::Failed(f) => results[*slot] = Some(Err(f.reason)),
                }
            }
            if retry.is_empty() {
                break;
            }
            // FIFO: once an event of the request has failed for good, the group has failed; a
            // retry of a later event would publish group traffic after that failure.
            if ordered
                && let Some(first_failed) = results.iter().position(|x| matches!(x, Some(Err(_))))
            {
                let (keep, after): (Vec<_>, Vec<_>) = retry
                    .into_iter()
                    .partition(|(slot, _)| *slot < first_failed);
                give_up(
                    &mut results,
                    after,
                    "not retried: an earlier event of the message group failed",
                );
                retry = keep;
                if retry.is_empty() {
                    break;
                }
            }
            let why = if ordered
                && retry.iter().any(|(r, _)| {
                    results
                        .iter()
                        .skip(r + 1)
                        .any(|x| matches!(x, Some(Ok(()))))
                }) {
                Some("not retried: a later event of the message group was delivered".to_owned())
            } else if attempt >= ctx.settings.max_attempts {
                Some(format!("gave up after {attempt} attempts"))
            } else {
                None
            };
            let delay = ctx.settings.backoff.delay(attempt);
            let why = why.or_else(|| {
                (Instant::now() + delay >= ctx.deadline)
                    .then(|| "no time left before the deadline to retry".to_owned())
            });
            if let Some(why) = why {
                give_up(&mut results, retry, &why);
                break;
            }
            tokio::time::sleep(delay).await;
            if let Ok(mut c) = ctx.counters.lock() {
                c.0 += retry.len() as u64;
            }
            pending = retry.into_iter().map(|(slot, _)| slot).collect();
        }
        results
            .into_iter()
            .map(|r| r.unwrap_or_else(|| Err("not sent".to_owned())))
            .collect()
    }
    .instrument(span)
    .await
}

fn remaining(deadline: Instant) -> Option<Duration> {
    let left = deadline.saturating_duration_since(Instant::now());
    (!left.is_zero()).then_some(left)
}

/// Fails every pending event with `reason`.
fn settle(results: &mut [Option<Result<(), String>>], pending: &[usize], reason: &str) {
    for &slot in pending {
        results[slot] = Some(Err(reason.to_owned()));
    }
}

/// Fails events that will not be retried: their last failure, and why no retry.
fn give_up(results: &mut [Option<Result<(), String>>], retry: Vec<(usize, String)>, why: &str) {
    for (slot, reason) in retry {
        results[slot] = Some(Err(format!("{reason} ({why})")));
    }
}
