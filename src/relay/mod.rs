//! The top-level data flow of one invocation: records → route → batch → publish with retries →
//! per-record outcomes, inside the deadline and in order per ordering key.
//!
//! - Records without an ordering key are planned together: grouped by channel, chunked by five,
//!   channels published concurrently (bounded), each channel's requests in order.
//! - Records with an ordering key (an SQS FIFO message group, a Kinesis partition key, a
//!   DynamoDB item) are published one step at a time: a record only after the key's earlier
//!   records succeeded. Consecutive records of a key whose events all go to one channel share a
//!   request (at most five events). After a key's first failure the rest of its records are
//!   reported failed without publishing; other keys go on.
//! - Only failed events are retried, with backoff, and never past the deadline: what is left when
//!   time runs short is reported failed so the trigger redelivers it.

mod attempts;
mod fifo;
mod lanes;
mod senders;
#[cfg(test)]
mod tests;

use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use tokio::sync::Semaphore;
use tokio::time::Instant;

use crate::config::Tuning;
use crate::input::Record;
use crate::ordering::OrderingKey;
use crate::publish::retry::{Backoff, Jitter};
use crate::publish::{Origin, OutgoingEvent, Publisher};
use crate::report::{Book, Counters, FailureReason, RecordFailure, Report, assemble};
use crate::route::{RouteError, Routed, route};
use crate::rules::RuleSet;
use fifo::{Groups, KeyQueues, run_key};
use lanes::{ChannelLanes, ChannelQueues, run_channel};

/// How the relay publishes: from the `BRIDGE_*` tuning knobs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelaySettings {
    /// Requests in flight at once across channels and ordering keys.
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
            // Configuration guarantees at least one of each; a zero would stall or never send.
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

/// A record after routing: what it publishes, or why it fails before publishing. Its position
/// in the invocation is the order the relay takes it in.
#[derive(Debug, Clone, PartialEq)]
pub struct RoutedRecord {
    /// What identifies the record in the answer (see [`Record::id`]).
    pub id: String,
    /// What orders it (see [`Record::key`]), if anything.
    pub key: Option<OrderingKey>,
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

/// Routes one record; input and routing errors become the record's failure.
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
        id: record.id,
        key: record.key,
        routed,
    }
}

/// A record's events ready to send, or why it stops before sending.
#[derive(Debug, PartialEq)]
enum Prepared {
    Events(Vec<OutgoingEvent>),
    Unmatched,
    Failed(RecordFailure),
}

/// A record's routing result as events to send.
fn prepare(pos: usize, routed: Result<Vec<Routed>, RecordFailure>) -> Prepared {
    match routed {
        Err(f) => Prepared::Failed(f),
        Ok(routed) if routed.is_empty() => Prepared::Unmatched,
        Ok(routed) => Prepared::Events(routed.into_iter().map(|r| outgoing(pos, r)).collect()),
    }
}

/// One routed event of the record at `pos`, ready to send: its channel, rule and payload text
/// move into the event.
pub(crate) fn outgoing(pos: usize, routed: Routed) -> OutgoingEvent {
    OutgoingEvent {
        origin: Origin {
            record: pos,
            rule: routed.rule,
        },
        channel: routed.channel,
        json: routed.json,
    }
}

/// What every request of the invocation shares: the publisher, the settings, the deadline, the
/// permits that bound requests in flight, and the counters.
struct Ctx<'a, P> {
    publisher: &'a P,
    settings: &'a RelaySettings,
    deadline: Instant,
    permits: Semaphore,
    counters: Mutex<Counters>,
}

impl<P> Ctx<'_, P> {
    /// Adds to the counters (a poisoned lock still counts: nothing panics while holding it).
    fn count(&self, add: impl FnOnce(&mut Counters)) {
        add(&mut self.counters.lock().unwrap_or_else(PoisonError::into_inner));
    }
}

/// Publishes routed records: the relay minus routing, so it can be driven with hand-made
/// [`Routed`] events. Records without an ordering key go to the channel lanes as they arrive,
/// records with one to their key's queue; either way requests start while later records are
/// still routed.
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
        permits: Semaphore::new(settings.concurrency),
        counters: Mutex::new(Counters::default()),
    };
    let queues = ChannelQueues::default();
    let mut lanes = ChannelLanes::new(&queues, |lane, sequence| {
        run_channel(&ctx, &queues, lane, sequence)
    });
    let key_queues = KeyQueues::default();
    let mut groups = Groups::new(&key_queues, |place, sequence| {
        run_key(&ctx, &key_queues, place, sequence)
    });
    let mut book = Book::default();
    for record in records {
        let pos = book.open(record.id);
        let prepared = prepare(pos, record.routed);
        if let Prepared::Events(events) = &prepared {
            book.routed(pos, events.len());
        }
        match (record.key, prepared) {
            (Some(key), prepared) => groups.push(key, pos, prepared),
            (None, Prepared::Events(events)) => lanes.push(events),
            (None, Prepared::Unmatched) => book.unmatched(pos),
            (None, Prepared::Failed(failure)) => book.fail(pos, failure),
        }
        lanes.look_if_due(pos + 1).await;
        groups.look_if_due(pos + 1).await;
    }
    let (mut done, ordered) = futures_util::future::join(lanes.finish(), groups.finish()).await;
    done.extend(ordered);
    let counters = ctx
        .counters
        .into_inner()
        .unwrap_or_else(PoisonError::into_inner);
    assemble(book, done, counters)
}
