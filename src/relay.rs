//! The top-level data flow of one invocation: records → route → batch → publish with retries →
//! per-record outcomes, inside the deadline and in FIFO group order.
//!
//! - Records without a message group are planned together: grouped by channel, chunked by five,
//!   channels published concurrently (bounded), each channel's requests in order.
//! - Records of an SQS FIFO message group are published one step at a time: a record only after
//!   the group's earlier records succeeded. Consecutive records of a group whose events all go to
//!   one channel share a request (at most five events). After a group's first failure the rest
//!   of the group is reported failed without publishing; other groups go on.
//! - Only failed events are retried, with backoff, and never past the deadline: what is left when
//!   time runs short is reported failed so the trigger redelivers it.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::task::Poll;
use std::time::Duration;

use futures_util::StreamExt;
use futures_util::future::join_all;
use futures_util::stream::FuturesUnordered;
use tokio::sync::Semaphore;
use tokio::time::Instant;
use tracing::{Instrument, debug, info_span};

use crate::config::Tuning;
use crate::input::Record;
use crate::limits::MAX_EVENTS_PER_PUBLISH;
use crate::publish::batch::{self, Chunk};
use crate::publish::classify::{EventOutcome, classify};
use crate::publish::retry::{Backoff, Jitter, RetryAction, retry_action};
use crate::publish::{Origin, OutgoingEvent, Publisher};
use crate::report::{EventResult, LaneResult, RecordFailure, Report, assemble};
use crate::route::{RouteError, Routed, route};
use crate::rules::RuleSet;

/// How the relay publishes: from the `BRIDGE_*` tuning knobs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelaySettings {
    /// Requests in flight at once across channels and groups.
    pub concurrency: usize,
    /// Attempts per event, the first included.
    pub max_attempts: u32,
    /// One request's timeout (shortened to what is left before the deadline).
    pub request_timeout: Duration,
    /// Delay between attempts.
    pub backoff: Backoff,
}

impl RelaySettings {
    /// Production settings: full jitter.
    pub fn from_tuning(tuning: &Tuning) -> Self {
        Self {
            concurrency: tuning.concurrency.max(1),
            max_attempts: tuning.max_attempts.max(1),
            request_timeout: tuning.request_timeout,
            backoff: Backoff {
                base: tuning.backoff_base,
                cap: tuning.backoff_cap,
                jitter: Jitter::Full,
            },
        }
    }
}

/// A record after routing: what it publishes, or why it fails before publishing.
#[derive(Debug, Clone, PartialEq)]
pub struct RoutedRecord {
    /// Position in the invocation.
    pub index: usize,
    /// `messageId` or the EventBridge `id`.
    pub id: String,
    /// FIFO message group, if any.
    pub group: Option<String>,
    /// The routed events (empty: no rule matched, dropped) or the failure.
    pub routed: Result<Vec<Routed>, RecordFailure>,
}

/// Routes every record of the invocation and publishes the result. The whole invocation's data
/// flow; `deadline` is Lambda's deadline minus the configured margin.
///
/// Records are routed one at a time as `records` yields them, so a lazily read batch
/// ([`crate::input::read_payload`]) never holds every record's document at once, and requests
/// go out while later records are still being routed ([`publish_records`]).
pub async fn relay<P: Publisher>(
    records: impl IntoIterator<Item = Record>,
    rules: &RuleSet,
    publisher: &P,
    settings: &RelaySettings,
    deadline: Instant,
) -> Report {
    let routed = records
        .into_iter()
        .map(|record| route_record(record, rules));
    publish_records(routed, publisher, settings, deadline).await
}

/// Route one record; input and routing errors become the record's failure.
pub fn route_record(record: Record, rules: &RuleSet) -> RoutedRecord {
    let routed = match &record.document {
        Err(e) => Err(RecordFailure::plain(format!("unreadable record: {e}"))),
        Ok(document) => route(rules, document).map_err(|e| match e {
            RouteError::Render { rule, reason } => RecordFailure {
                rule: Some(rule),
                channel: None,
                reason: format!("route failed: {reason}"),
            },
            other => RecordFailure::plain(format!("route failed: {other}")),
        }),
    };
    RoutedRecord {
        index: record.index,
        id: record.id,
        group: record.group,
        routed,
    }
}

/// A record's events ready to send, or why it stops before sending.
enum Prepared {
    Events(Vec<OutgoingEvent>),
    Unmatched,
    Failed(RecordFailure),
}

/// A record's routing result as events to send: each payload becomes its JSON text (a
/// `Value` always serialises), and the routed channel and rule move into the event.
fn prepare(index: usize, routed: Result<Vec<Routed>, RecordFailure>) -> Prepared {
    match routed {
        Err(f) => Prepared::Failed(f),
        Ok(routed) if routed.is_empty() => Prepared::Unmatched,
        Ok(routed) => Prepared::Events(
            routed
                .into_iter()
                .map(|r| OutgoingEvent {
                    origin: Origin {
                        record: index,
                        rule: r.rule,
                    },
                    channel: r.channel,
                    json: r.payload.to_string(),
                })
                .collect(),
        ),
    }
}

struct Ctx<'a, P> {
    publisher: &'a P,
    settings: &'a RelaySettings,
    deadline: Instant,
    permits: Semaphore,
    counters: Mutex<(u64, Vec<f64>)>,
}

/// Most records routed between two looks at the requests in flight (see [`publish_records`]).
/// A record of about 1 KB takes some 10 µs to read and route.
const RECORDS_BETWEEN_POLLS: usize = 16;

/// Longest routing time between two looks at the requests in flight, for batches of large
/// records: a response waits at most about this long to be taken up (and its permit to be
/// released), against the tens of milliseconds a request to AppSync takes. Measured on the
/// wall clock (`std::time::Instant`), not tokio's, which stands still in paused-clock tests.
const ROUTING_BETWEEN_POLLS: Duration = Duration::from_micros(200);

/// Publishes routed records: the relay minus routing, so it can be driven with hand-made
/// [`Routed`] events.
///
/// Requests start while records are still arriving. Events without a message group are batched
/// by a [`batch::Planner`]: a channel's request is queued as soon as it is complete (five events,
/// or the next event would not fit), because no later record can change it, and the channels'
/// last requests are queued once the last record is in. Each channel sends its requests one
/// after the other, as before; the requests are exactly those of planning the whole batch at
/// once. While requests are in flight, the routing loop yields to the runtime and takes up
/// finished requests (which starts queued ones) every [`RECORDS_BETWEEN_POLLS`] records or
/// [`ROUTING_BETWEEN_POLLS`], whichever comes first, so a long batch does not hold responses
/// and next requests back. A batch of fewer records than that (an EventBridge event, SQS's
/// default batch of ten) is routed whole before its first request, as before. FIFO message
/// groups (SQS FIFO batches hold at most ten records) start once every record is read.
pub async fn publish_records<P: Publisher>(
    records: impl IntoIterator<Item = RoutedRecord>,
    publisher: &P,
    settings: &RelaySettings,
    deadline: Instant,
) -> Report {
    let ctx = Ctx {
        publisher,
        settings,
        deadline,
        permits: Semaphore::new(settings.concurrency.max(1)),
        counters: Mutex::new((0, Vec::new())),
    };
    let queues = ChannelQueues::default();
    let mut planner = batch::Planner::default();
    let mut senders = FuturesUnordered::new();
    let mut started = 0;
    let mut lanes: Vec<LaneResult> = Vec::new();
    let mut last_poll = (0, std::time::Instant::now());

    // Per record, in arrival order: its index and id, and what is known before publishing.
    let mut seen: Vec<(usize, String)> = Vec::new();
    let mut failures: Vec<Vec<RecordFailure>> = Vec::new();
    let mut unmatched: Vec<bool> = Vec::new();
    let mut groups: Vec<(String, Vec<(usize, Prepared)>)> = Vec::new();

    for (pos, record) in records.into_iter().enumerate() {
        let RoutedRecord {
            index,
            id,
            group,
            routed,
        } = record;
        // Events and group members name their record by its place in the invocation; the
        // report gives back the record's own index and id from `seen`.
        let prepared = prepare(pos, routed);
        seen.push((index, id));
        failures.push(Vec::new());
        unmatched.push(false);
        match group {
            Some(group) => match groups.iter_mut().find(|(g, _)| *g == group) {
                Some((_, members)) => members.push((pos, prepared)),
                None => groups.push((group, vec![(pos, prepared)])),
            },
            None => match prepared {
                Prepared::Events(events) => {
                    for event in events {
                        let pushed = planner.push(event, |lane, chunk| {
                            if queues.push(lane, chunk) {
                                senders.push(run_channel(&ctx, &queues, lane, started));
                                started += 1;
                            }
                        });
                        if let Err(rejected) = pushed {
                            lanes.push(LaneResult {
                                order: (0, lanes.len(), 0),
                                events: vec![EventResult {
                                    origin: rejected.event.origin,
                                    channel: rejected.event.channel,
                                    result: Err(rejected.reason),
                                }],
                                ..LaneResult::default()
                            });
                        }
                    }
                }
                Prepared::Unmatched => unmatched[pos] = true,
                Prepared::Failed(f) => failures[pos].push(f),
            },
        }
        if !senders.is_empty()
            && (pos + 1 - last_poll.0 >= RECORDS_BETWEEN_POLLS
                || last_poll.1.elapsed() >= ROUTING_BETWEEN_POLLS)
        {
            tokio::task::yield_now().await;
            take_finished(&mut senders, &mut lanes).await;
            last_poll = (pos + 1, std::time::Instant::now());
        }
    }
    for (lane, chunk) in planner.finish() {
        if queues.push(lane, chunk) {
            senders.push(run_channel(&ctx, &queues, lane, started));
            started += 1;
        }
    }

    let channel_lanes = async {
        let mut done = Vec::new();
        while let Some(lane) = senders.next().await {
            done.push(lane);
        }
        done
    };
    let group_lanes = join_all(
        groups
            .into_iter()
            .enumerate()
            .map(|(place, (group, members))| run_group(&ctx, place, group, members)),
    );
    let (channel_results, group_results) =
        futures_util::future::join(channel_lanes, group_lanes).await;
    lanes.extend(channel_results);
    lanes.extend(group_results);
    drop(senders);

    let (retries, latencies) = ctx
        .counters
        .into_inner()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let mut report = assemble(seen, failures, unmatched, lanes);
    report.stats.retries = retries;
    report.stats.latencies_ms = latencies;
    report
}

/// Takes up the senders that have finished, without waiting for the others.
async fn take_finished<F: Future<Output = LaneResult>>(
    senders: &mut FuturesUnordered<F>,
    into: &mut Vec<LaneResult>,
) {
    std::future::poll_fn(|cx| {
        while let Poll::Ready(Some(lane)) = senders.poll_next_unpin(cx) {
            into.push(lane);
        }
        Poll::Ready(())
    })
    .await;
}

/// Each channel's requests waiting to be sent, and whether a sender is working through them.
/// Shared by the routing loop (which queues) and the channels' senders (which take); only ever
/// locked for a push or a pop, never across an await.
#[derive(Default)]
struct ChannelQueues {
    lanes: Mutex<Vec<ChannelQueue>>,
}

#[derive(Default)]
struct ChannelQueue {
    waiting: VecDeque<Chunk>,
    sending: bool,
}

impl ChannelQueues {
    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<ChannelQueue>> {
        self.lanes
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Queues a channel's next request. True when the channel has no sender at work, so the
    /// caller must start one.
    fn push(&self, lane: usize, chunk: Chunk) -> bool {
        let mut lanes = self.lock();
        if lane >= lanes.len() {
            lanes.resize_with(lane + 1, ChannelQueue::default);
        }
        let queue = &mut lanes[lane];
        queue.waiting.push_back(chunk);
        !std::mem::replace(&mut queue.sending, true)
    }

    /// The channel's next request; `None` also marks its sender as stopped.
    fn next(&self, lane: usize) -> Option<Chunk> {
        let mut lanes = self.lock();
        let queue = lanes.get_mut(lane)?;
        let next = queue.waiting.pop_front();
        if next.is_none() {
            queue.sending = false;
        }
        next
    }
}

/// One channel's requests, strictly in order, as they are queued; a failed request does not stop
/// the next. Ends when the channel's queue is empty (a later request starts a new sender).
async fn run_channel<P: Publisher>(
    ctx: &Ctx<'_, P>,
    queues: &ChannelQueues,
    lane: usize,
    sequence: usize,
) -> LaneResult {
    let mut result = LaneResult {
        order: (1, lane, sequence),
        ..LaneResult::default()
    };
    while let Some(chunk) = queues.next(lane) {
        let sent = send_with_retries(ctx, &chunk.channel, &chunk.events, false).await;
        result.events.extend(
            chunk
                .events
                .into_iter()
                .zip(sent)
                .map(|(e, result)| EventResult {
                    origin: e.origin,
                    channel: e.channel,
                    result,
                }),
        );
    }
    result
}

/// One FIFO message group, record by record; stops at the first failure.
async fn run_group<P: Publisher>(
    ctx: &Ctx<'_, P>,
    place: usize,
    group: String,
    members: Vec<(usize, Prepared)>,
) -> LaneResult {
    let mut lane = LaneResult {
        order: (2, place, 0),
        ..LaneResult::default()
    };
    let mut stopped_by: Option<usize> = None;
    let mut i = 0;
    while i < members.len() {
        if let Some(first) = stopped_by {
            for (index, _) in &members[i..] {
                lane.records.push((
                    *index,
                    RecordFailure::plain(format!(
                        "not published: record {first} of message group {group} failed earlier"
                    )),
                ));
            }
            break;
        }
        let (index, prepared) = &members[i];
        let events = match prepared {
            Prepared::Unmatched => {
                lane.unmatched.push(*index);
                i += 1;
                continue;
            }
            Prepared::Failed(f) => {
                lane.records.push((*index, f.clone()));
                stopped_by = Some(*index);
                i += 1;
                continue;
            }
            Prepared::Events(events) => events,
        };
        if let Some((event, reason)) = events
            .iter()
            .find_map(|e| batch::check_size(e).err().map(|r| (e, r)))
        {
            lane.records.push((
                *index,
                RecordFailure {
                    rule: Some(event.origin.rule.clone()),
                    channel: Some(event.channel.clone()),
                    reason,
                },
            ));
            stopped_by = Some(*index);
            i += 1;
            continue;
        }

        // Extend to the following records of the group that go only to the same single channel,
        // while the request stays within five events.
        let mut end = i + 1;
        let mut segment: Vec<OutgoingEvent> = events.clone();
        if let Some(channel) = single_channel(events) {
            while end < members.len() {
                let Prepared::Events(next) = &members[end].1 else {
                    break;
                };
                let fits = segment.len() + next.len() <= MAX_EVENTS_PER_PUBLISH;
                let same = single_channel(next) == Some(channel);
                let sized = next.iter().all(|e| batch::check_size(e).is_ok());
                if !(fits && same && sized) {
                    break;
                }
                segment.extend(next.iter().cloned());
                end += 1;
            }
        }

        // The byte cap can split a segment into several requests. They go in order and stop at
        // the first one with a failure: a later request would publish group traffic after the
        // group has already failed.
        let mut results: Vec<EventResult> = Vec::with_capacity(segment.len());
        let mut request_failed = false;
        for chunk in batch::plan(segment).channels.into_iter().flatten() {
            if request_failed {
                results.extend(chunk.events.into_iter().map(|e| EventResult {
                    origin: e.origin,
                    channel: e.channel,
                    result: Err(
                        "not published: an earlier request of the message group failed".to_owned(),
                    ),
                }));
                continue;
            }
            let sent = send_with_retries(ctx, &chunk.channel, &chunk.events, true).await;
            request_failed = sent.iter().any(Result::is_err);
            results.extend(
                chunk
                    .events
                    .into_iter()
                    .zip(sent)
                    .map(|(e, result)| EventResult {
                        origin: e.origin,
                        channel: e.channel,
                        result,
                    }),
            );
        }
        // Walk the segment's records in order: the first with a failure stops the group; later
        // records of the same request that were delivered are still reported failed, so SQS
        // redelivers them after the failed one (a duplicate for subscribers, at-least-once).
        for (index, _) in &members[i..end] {
            if let Some(first) = stopped_by {
                let delivered = results
                    .iter()
                    .any(|r| r.origin.record == *index && r.result.is_ok());
                if delivered {
                    lane.records.push((
                        *index,
                        RecordFailure::plain(format!(
                            "delivered, but reported failed because record {first} of message group {group} failed before it"
                        )),
                    ));
                }
                continue;
            }
            let failed = results
                .iter()
                .any(|r| r.origin.record == *index && r.result.is_err());
            if failed {
                stopped_by = Some(*index);
            }
        }
        lane.events.extend(results);
        i = end;
    }
    lane
}

fn single_channel(events: &[OutgoingEvent]) -> Option<&str> {
    let first = events.first()?.channel.as_str();
    events.iter().all(|e| e.channel == first).then_some(first)
}

/// Sends one request's events, retrying only failed ones, within attempts and the deadline.
/// `ordered` (FIFO): a failed event is retried only when no later event of the request was
/// delivered and no earlier one failed for good, so a retry never lands after a later event of
/// its message group nor after the group has failed.
async fn send_with_retries<P: Publisher>(
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

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use serde_json::json;

    use super::*;
    use crate::publish::fake::{FakePublisher, Scripted};
    use crate::publish::{RawResponse, SendError};
    use crate::report::RecordOutcome;

    fn settings() -> RelaySettings {
        RelaySettings {
            concurrency: 4,
            max_attempts: 3,
            request_timeout: Duration::from_secs(2),
            backoff: Backoff {
                base: Duration::from_millis(100),
                cap: Duration::from_millis(400),
                jitter: Jitter::None,
            },
        }
    }

    fn routed(rule: &str, channel: &str, payload: serde_json::Value) -> Routed {
        Routed {
            rule: Arc::from(rule),
            channel: channel.to_owned(),
            payload,
        }
    }

    fn record(index: usize, group: Option<&str>, routed: Vec<Routed>) -> RoutedRecord {
        RoutedRecord {
            index,
            id: format!("m{index}"),
            group: group.map(str::to_owned),
            routed: Ok(routed),
        }
    }

    fn one(index: usize, channel: &str) -> RoutedRecord {
        record(index, None, vec![routed("r", channel, json!({"n": index}))])
    }

    fn failed_ids(report: &Report) -> Vec<&str> {
        report.failed().map(|r| r.id.as_str()).collect()
    }

    fn reasons(report: &Report, index: usize) -> Vec<String> {
        match &report.records[index].outcome {
            RecordOutcome::Failed(f) => f.iter().map(|f| f.reason.clone()).collect(),
            other => panic!("record {index} did not fail: {other:?}"),
        }
    }

    async fn run(records: Vec<RoutedRecord>, fake: &FakePublisher) -> Report {
        let deadline = Instant::now() + Duration::from_secs(10);
        publish_records(records, fake, &settings(), deadline).await
    }

    #[tokio::test(start_paused = true)]
    async fn twelve_events_for_one_channel_go_in_three_ordered_requests() {
        let fake = FakePublisher::new();
        let report = run((0..12).map(|i| one(i, "/orders/a")).collect(), &fake).await;
        let sizes: Vec<usize> = fake.requests().iter().map(|r| r.events.len()).collect();
        assert_eq!(sizes, vec![5, 5, 2]);
        let order: Vec<String> = fake.requests().into_iter().flat_map(|r| r.events).collect();
        let expected: Vec<String> = (0..12).map(|i| format!(r#"{{"n":{i}}}"#)).collect();
        assert_eq!(order, expected);
        assert!(failed_ids(&report).is_empty());
        assert_eq!(report.stats.events_published, 12);
        assert_eq!(report.stats.latencies_ms.len(), 3);
    }

    #[tokio::test(start_paused = true)]
    async fn failed_entries_fail_exactly_their_records_and_retryable_ones_are_resent_alone() {
        let fake = FakePublisher::new().script([Scripted::FailEvents {
            indices: vec![1, 3],
            code: 500,
        }]);
        let report = run((0..5).map(|i| one(i, "/a/b")).collect(), &fake).await;
        let requests = fake.requests();
        assert_eq!(requests.len(), 2);
        assert_eq!(requests[1].events, vec![r#"{"n":1}"#, r#"{"n":3}"#]);
        assert!(failed_ids(&report).is_empty());
        assert_eq!(report.stats.retries, 2);

        let fake = FakePublisher::new().script([Scripted::FailEvents {
            indices: vec![1, 3],
            code: 400,
        }]);
        let report = run((0..5).map(|i| one(i, "/a/b")).collect(), &fake).await;
        assert_eq!(fake.requests().len(), 1);
        assert_eq!(failed_ids(&report), vec!["m1", "m3"]);
        assert_eq!(report.stats.per_rule["r"].failed, 2);
        assert_eq!(report.stats.per_rule["r"].published, 3);
    }

    #[tokio::test(start_paused = true)]
    async fn throttling_then_success_delivers_once() {
        let fake = FakePublisher::new().script([Scripted::Status(429)]);
        let report = run(vec![one(0, "/a")], &fake).await;
        assert_eq!(fake.requests().len(), 2);
        assert!(failed_ids(&report).is_empty());
        assert_eq!(report.stats.events_published, 1);
        assert_eq!(report.stats.retries, 1);
    }

    #[tokio::test(start_paused = true)]
    async fn transport_errors_are_retried() {
        let fake = FakePublisher::new().script([Scripted::Transport, Scripted::Transport]);
        let report = run(vec![one(0, "/a")], &fake).await;
        assert_eq!(fake.requests().len(), 3);
        assert!(failed_ids(&report).is_empty());
    }

    #[tokio::test(start_paused = true)]
    async fn client_errors_are_never_retried() {
        for status in [400, 401, 403, 404, 413] {
            let fake = FakePublisher::new().script([Scripted::Status(status)]);
            let report = run(vec![one(0, "/a")], &fake).await;
            assert_eq!(fake.requests().len(), 1, "{status}");
            assert_eq!(failed_ids(&report), vec!["m0"]);
            assert!(reasons(&report, 0)[0].contains(&format!("http {status}")));
        }
    }

    #[tokio::test(start_paused = true)]
    async fn server_errors_stop_after_the_configured_attempts() {
        let fake = FakePublisher::new().script(vec![Scripted::Status(503); 10]);
        let report = run(vec![one(0, "/a")], &fake).await;
        assert_eq!(fake.requests().len(), 3);
        assert!(reasons(&report, 0)[0].contains("gave up after 3 attempts"));
    }

    #[tokio::test(start_paused = true)]
    async fn a_server_that_never_answers_is_given_up_before_the_deadline() {
        let fake = FakePublisher::new().script(vec![Scripted::Hang; 10]);
        let deadline = Instant::now() + Duration::from_millis(3500);
        let records = vec![one(0, "/a"), one(1, "/b"), one(2, "/a")];
        let report = publish_records(records, &fake, &settings(), deadline).await;
        assert!(Instant::now() <= deadline);
        assert_eq!(failed_ids(&report), vec!["m0", "m1", "m2"]);
        assert!(
            reasons(&report, 0)[0].contains("timed out"),
            "{:?}",
            reasons(&report, 0)
        );
    }

    #[tokio::test(start_paused = true)]
    async fn no_request_starts_once_the_deadline_has_passed() {
        let fake = FakePublisher::new();
        let deadline = Instant::now();
        let report = publish_records(vec![one(0, "/a")], &fake, &settings(), deadline).await;
        assert!(fake.requests().is_empty());
        assert!(reasons(&report, 0)[0].contains("deadline"));
    }

    #[tokio::test(start_paused = true)]
    async fn route_failures_unmatched_and_oversized_records_are_reported_without_requests() {
        let big = "x".repeat(crate::limits::MAX_EVENT_BYTES);
        let records = vec![
            one(0, "/a"),
            RoutedRecord {
                index: 1,
                id: "m1".into(),
                group: None,
                routed: Err(RecordFailure::plain("route failed: bad segment")),
            },
            record(2, None, vec![]),
            record(3, None, vec![routed("big", "/a", json!(big))]),
        ];
        let fake = FakePublisher::new();
        let report = run(records, &fake).await;
        assert_eq!(fake.requests().len(), 1);
        assert_eq!(fake.requests()[0].events.len(), 1);
        assert_eq!(failed_ids(&report), vec!["m1", "m3"]);
        assert_eq!(report.records[2].outcome, RecordOutcome::Unmatched);
        assert!(reasons(&report, 3)[0].contains("over appsync's"));
        assert_eq!(report.stats.unmatched, 1);
        assert_eq!(report.stats.records_failed, 2);
        assert_eq!(report.stats.records, 4);
    }

    #[tokio::test(start_paused = true)]
    async fn a_fan_out_record_fails_when_any_of_its_events_fails() {
        let records = vec![record(
            0,
            None,
            vec![
                routed("a", "/x/1", json!("ok")),
                routed("b", "/y/1", json!("poison")),
            ],
        )];
        let fake = FakePublisher::new().fail_matching("poison", 400);
        let report = run(records, &fake).await;
        assert_eq!(fake.requests().len(), 2);
        let RecordOutcome::Failed(f) = &report.records[0].outcome else {
            panic!("expected failure");
        };
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].rule.as_deref(), Some("b"));
        assert_eq!(f[0].channel.as_deref(), Some("/y/1"));
    }

    #[tokio::test(start_paused = true)]
    async fn fifo_a_failure_stops_the_rest_of_its_group_and_other_groups_go_on() {
        let records = vec![
            record(0, Some("A"), vec![routed("r", "/o/1", json!("a0"))]),
            record(1, Some("B"), vec![routed("r", "/o/2", json!("b1"))]),
            record(2, Some("A"), vec![routed("r", "/o/3", json!("a2 poison"))]),
            record(3, Some("A"), vec![routed("r", "/o/1", json!("a3"))]),
            record(4, Some("B"), vec![routed("r", "/o/2", json!("b4"))]),
        ];
        let fake = FakePublisher::new().fail_matching("poison", 400);
        let report = run(records, &fake).await;
        assert_eq!(failed_ids(&report), vec!["m2", "m3"]);
        let sent: Vec<String> = fake.requests().into_iter().flat_map(|r| r.events).collect();
        assert!(!sent.iter().any(|e| e.contains("a3")), "{sent:?}");
        assert!(sent.iter().any(|e| e.contains("b4")));
        assert!(reasons(&report, 3)[0].contains("not published"));
    }

    #[tokio::test(start_paused = true)]
    async fn fifo_records_for_one_channel_share_a_request_and_a_partial_failure_fails_the_tail() {
        let records = vec![
            record(0, Some("A"), vec![routed("r", "/o/1", json!("a0"))]),
            record(1, Some("A"), vec![routed("r", "/o/1", json!("a1"))]),
            record(2, Some("A"), vec![routed("r", "/o/1", json!("a2"))]),
        ];
        // The middle event fails retryably while the last is delivered: re-sending it would put
        // it after a2, so it is not retried here; a1 and a2 are redelivered by SQS.
        let fake = FakePublisher::new().script([Scripted::FailEvents {
            indices: vec![1],
            code: 500,
        }]);
        let report = run(records, &fake).await;
        assert_eq!(fake.requests().len(), 1);
        assert_eq!(fake.requests()[0].events.len(), 3);
        assert_eq!(failed_ids(&report), vec!["m1", "m2"]);
        assert!(reasons(&report, 2)[0].contains("delivered, but reported failed"));
    }

    #[tokio::test(start_paused = true)]
    async fn fifo_a_segment_split_by_the_byte_cap_stops_at_its_first_failed_request() {
        // Each event text is ~240 KB of `\"`, which doubles when escaped into the body: ~480 KB
        // per event, so the byte cap splits the group's segment into requests of two and one.
        let big = |tag: &str| json!(format!("{tag}{}", "\"".repeat(120_000)));
        let records = vec![
            record(0, Some("A"), vec![routed("r", "/o/1", big("a0"))]),
            record(1, Some("A"), vec![routed("r", "/o/1", big("a1"))]),
            record(2, Some("A"), vec![routed("r", "/o/1", big("a2"))]),
        ];
        let fake = FakePublisher::new().script([Scripted::Status(400)]);
        let report = run(records, &fake).await;
        let requests = fake.requests();
        assert_eq!(requests.len(), 1, "only the first request is sent");
        assert_eq!(requests[0].events.len(), 2);
        assert_eq!(failed_ids(&report), vec!["m0", "m1", "m2"]);
        assert!(reasons(&report, 1)[0].contains("http 400"));
        assert_eq!(
            reasons(&report, 2),
            vec!["not published: an earlier request of the message group failed"]
        );
    }

    #[tokio::test(start_paused = true)]
    async fn fifo_an_event_after_a_final_failure_is_not_retried() {
        let records = vec![
            record(0, Some("A"), vec![routed("r", "/o/1", json!("a0"))]),
            record(1, Some("A"), vec![routed("r", "/o/1", json!("a1"))]),
        ];
        let fake = FakePublisher::new().script([Scripted::FailEach(vec![(0, 400), (1, 429)])]);
        let report = run(records, &fake).await;
        assert_eq!(fake.requests().len(), 1, "no retry request");
        assert_eq!(failed_ids(&report), vec!["m0", "m1"]);
        assert!(reasons(&report, 0)[0].contains("400"));
        assert!(
            reasons(&report, 1)[0].contains("an earlier event of the message group failed"),
            "{:?}",
            reasons(&report, 1)
        );
    }

    #[tokio::test(start_paused = true)]
    async fn unordered_events_are_retried_whatever_failed_before_them() {
        let fake = FakePublisher::new().script([Scripted::FailEach(vec![(0, 400), (1, 429)])]);
        let report = run(vec![one(0, "/a"), one(1, "/a")], &fake).await;
        assert_eq!(fake.requests().len(), 2);
        assert_eq!(fake.requests()[1].events, vec![r#"{"n":1}"#]);
        assert_eq!(failed_ids(&report), vec!["m0"]);
    }

    #[tokio::test(start_paused = true)]
    async fn fifo_a_failing_tail_is_retried_in_order() {
        let records = vec![
            record(0, Some("A"), vec![routed("r", "/o/1", json!("a0"))]),
            record(1, Some("A"), vec![routed("r", "/o/1", json!("a1"))]),
        ];
        let fake = FakePublisher::new().script([Scripted::FailEvents {
            indices: vec![1],
            code: 429,
        }]);
        let report = run(records, &fake).await;
        assert_eq!(fake.requests().len(), 2);
        assert_eq!(fake.requests()[1].events, vec![r#""a1""#]);
        assert!(failed_ids(&report).is_empty());
    }

    /// Wraps the fake to see what the relay does while records are still arriving: how many
    /// records had been read when each request went out, and whether a channel ever had two
    /// requests in flight. Every request takes `delay` (paused clock).
    struct Probe {
        fake: FakePublisher,
        pulled: Arc<AtomicUsize>,
        delay: Duration,
        read_at_publish: Mutex<Vec<usize>>,
        in_flight: Mutex<BTreeMap<String, usize>>,
        overlapped: Mutex<Vec<String>>,
    }

    impl Publisher for Probe {
        async fn publish(&self, channel: &str, events: &[&str]) -> Result<RawResponse, SendError> {
            self.read_at_publish
                .lock()
                .unwrap()
                .push(self.pulled.load(Ordering::SeqCst));
            {
                let mut in_flight = self.in_flight.lock().unwrap();
                let n = in_flight.entry(channel.to_owned()).or_default();
                if *n > 0 {
                    self.overlapped.lock().unwrap().push(channel.to_owned());
                }
                *n += 1;
            }
            tokio::time::sleep(self.delay).await;
            let answer = self.fake.publish(channel, events).await;
            *self.in_flight.lock().unwrap().get_mut(channel).unwrap() -= 1;
            answer
        }
    }

    fn probe(delay: Duration) -> Probe {
        Probe {
            fake: FakePublisher::new(),
            pulled: Arc::new(AtomicUsize::new(0)),
            delay,
            read_at_publish: Mutex::new(Vec::new()),
            in_flight: Mutex::new(BTreeMap::new()),
            overlapped: Mutex::new(Vec::new()),
        }
    }

    /// Publishes `n` records, record `i` to channel `/c/{i % channels}`, through a probe whose
    /// requests take 20 ms; the probe counts records as the relay takes them.
    async fn run_counted(n: usize, channels: usize) -> (Probe, Report) {
        let probe = probe(Duration::from_millis(20));
        let pulled = Arc::clone(&probe.pulled);
        let records = (0..n).map(move |i| {
            pulled.fetch_add(1, Ordering::SeqCst);
            one(i, &format!("/c/{}", i % channels))
        });
        let deadline = Instant::now() + Duration::from_secs(60);
        let report = publish_records(records, &probe, &settings(), deadline).await;
        (probe, report)
    }

    #[tokio::test(start_paused = true)]
    async fn requests_go_out_while_later_records_are_still_being_read() {
        // Ten channels: each has its first full request at its fifth event, records 40–49.
        let (probe, report) = run_counted(200, 10).await;

        let read = probe.read_at_publish.lock().unwrap().clone();
        assert_eq!(read.len(), 40);
        // The paused clock stands still while records are routed, so the requests that went out
        // early are those the concurrency allows before any response: four.
        let early = read.iter().filter(|&&r| r < 200).count();
        assert_eq!(early, settings().concurrency, "{read:?}");
        assert!(
            read[0] >= 41 && read[0] < 41 + RECORDS_BETWEEN_POLLS,
            "{read:?}"
        );
        // Still one request at a time per channel, in source order.
        assert!(probe.overlapped.lock().unwrap().is_empty());
        let order: Vec<String> = probe
            .fake
            .requests()
            .into_iter()
            .flat_map(|r| r.events)
            .collect();
        for channel in 0..10 {
            let mine: Vec<&String> = order
                .iter()
                .filter(|e| {
                    let n: usize = e[5..e.len() - 1].parse().unwrap();
                    n % 10 == channel
                })
                .collect();
            let expected: Vec<String> = (0..200)
                .filter(|i| i % 10 == channel)
                .map(|i| format!(r#"{{"n":{i}}}"#))
                .collect();
            assert_eq!(mine, expected.iter().collect::<Vec<_>>());
        }
        assert!(failed_ids(&report).is_empty());
        assert_eq!(report.stats.events_published, 200);
    }

    #[tokio::test(start_paused = true)]
    async fn streamed_requests_are_those_of_the_whole_batch_and_channels_never_overlap() {
        let (probe, report) = run_counted(1_003, 7).await;

        assert!(probe.overlapped.lock().unwrap().is_empty());
        // Per channel, the requests are the whole batch's plan: same events, same split.
        let events: Vec<OutgoingEvent> = (0..1_003)
            .map(|i| OutgoingEvent {
                origin: Origin {
                    record: i,
                    rule: Arc::from("r"),
                },
                channel: format!("/c/{}", i % 7),
                json: format!(r#"{{"n":{i}}}"#),
            })
            .collect();
        let mut expected: Vec<(String, Vec<String>)> = batch::plan(events)
            .channels
            .into_iter()
            .flatten()
            .map(|c| (c.channel, c.events.into_iter().map(|e| e.json).collect()))
            .collect();
        let mut sent: Vec<(String, Vec<String>)> = probe
            .fake
            .requests()
            .into_iter()
            .map(|r| (r.channel, r.events))
            .collect();
        // Across channels the order depends on timing; within one, it must be the plan's.
        expected.sort_by(|a, b| a.0.cmp(&b.0));
        sent.sort_by(|a, b| a.0.cmp(&b.0));
        assert_eq!(sent, expected);
        assert_eq!(report.stats.events_published, 1_003);
        assert_eq!(report.records.len(), 1_003);
        assert!(report.records.iter().enumerate().all(|(i, r)| r.index == i));
    }

    /// Answers `/a` late and `/b` at once; every event fails for good.
    struct SlowA(FakePublisher);

    impl Publisher for SlowA {
        async fn publish(&self, channel: &str, events: &[&str]) -> Result<RawResponse, SendError> {
            if channel == "/a" {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            self.0.publish(channel, events).await
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_record_lists_its_failures_in_channel_order_whichever_answer_comes_first() {
        let fake = SlowA(FakePublisher::new().fail_matching("n", 400));
        let records = vec![record(
            0,
            None,
            vec![
                routed("r", "/a", json!({"n": 0})),
                routed("r", "/b", json!({"n": 1})),
            ],
        )];
        let deadline = Instant::now() + Duration::from_secs(10);
        let report = publish_records(records, &fake, &settings(), deadline).await;
        // The fake notes a request when it answers: `/b` first. The report still follows the
        // channels' first appearance.
        let answered: Vec<String> = fake.0.requests().into_iter().map(|r| r.channel).collect();
        assert_eq!(answered, vec!["/b", "/a"]);
        let channels: Vec<Option<String>> = match &report.records[0].outcome {
            RecordOutcome::Failed(f) => f.iter().map(|f| f.channel.clone()).collect(),
            other => panic!("not failed: {other:?}"),
        };
        assert_eq!(channels, vec![Some("/a".to_owned()), Some("/b".to_owned())]);
    }

    #[tokio::test(start_paused = true)]
    async fn fifo_an_unmatched_record_is_reported_unmatched_and_does_not_stop_its_group() {
        let records = vec![
            record(0, Some("A"), vec![routed("r", "/o/1", json!("a0"))]),
            record(1, Some("A"), vec![]),
            record(2, Some("A"), vec![routed("r", "/o/1", json!("a2"))]),
        ];
        let fake = FakePublisher::new();
        let report = run(records, &fake).await;
        let outcomes: Vec<&RecordOutcome> = report.records.iter().map(|r| &r.outcome).collect();
        assert_eq!(
            outcomes,
            vec![
                &RecordOutcome::Delivered { events: 1 },
                &RecordOutcome::Unmatched,
                &RecordOutcome::Delivered { events: 1 },
            ]
        );
        assert_eq!(report.stats.unmatched, 1);
    }
}
