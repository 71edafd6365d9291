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

mod attempts;
mod fifo;
mod lanes;
#[cfg(test)]
mod tests;

use std::sync::Mutex;
use std::time::Duration;

use futures_util::StreamExt;
use futures_util::future::join_all;
use futures_util::stream::FuturesUnordered;
use tokio::sync::Semaphore;
use tokio::time::Instant;

use crate::config::Tuning;
use crate::input::Record;
use crate::publish::batch;
use crate::publish::retry::{Backoff, Jitter};
use crate::publish::{Origin, OutgoingEvent, Publisher};
use crate::report::{EventResult, FailureReason, LaneResult, RecordFailure, Report, assemble};
use crate::route::{RouteError, Routed, route};
use crate::rules::RuleSet;
use fifo::run_group;
use lanes::{
    ChannelQueues, RECORDS_BETWEEN_POLLS, ROUTING_BETWEEN_POLLS, run_channel, take_finished,
};

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
        Err(e) => Err(RecordFailure::plain(FailureReason::Unreadable(e.clone()))),
        Ok(document) => route(rules, document).map_err(|e| match e {
            RouteError::Render { rule, error } => RecordFailure {
                rule: Some(rule),
                channel: None,
                reason: FailureReason::Render(error),
            },
            RouteError::Unmatched => RecordFailure::plain(FailureReason::Unmatched),
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
