//! Outcomes: what happened to each record of an invocation and the invocation's counters — the
//! model the handler answers the trigger from, logs, and turns into metrics.
//!
//! `assemble` builds the [`Report`] from what each record met before publishing (a read or
//! route failure, no match) and from its events' fates, all by arrival position.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use crate::input::InputError;
use crate::ordering::OrderingKey;
use crate::publish::{Accepted, EventError, NotSent, Origin};
use crate::rules::template::RenderError;

/// Why one record (or one of its events) failed: where, and what happened. Its `Display` is how
/// the EventBridge error message and the log line name it: `rule r channel c: reason`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordFailure {
    /// The rule involved, when the failure is tied to one.
    pub rule: Option<Arc<str>>,
    /// The channel involved, when the failure is tied to one.
    pub channel: Option<String>,
    /// What happened.
    pub reason: FailureReason,
}

impl RecordFailure {
    /// A failure tied to no rule or channel.
    pub(crate) fn plain(reason: FailureReason) -> Self {
        Self {
            rule: None,
            channel: None,
            reason,
        }
    }
}

impl fmt::Display for RecordFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.rule, &self.channel) {
            (Some(r), Some(c)) => write!(f, "rule {r} channel {c}: {}", self.reason),
            (Some(r), None) => write!(f, "rule {r}: {}", self.reason),
            (None, Some(c)) => write!(f, "channel {c}: {}", self.reason),
            (None, None) => write!(f, "{}", self.reason),
        }
    }
}

/// What made a record fail.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FailureReason {
    /// The record could not be read into an event document.
    #[error("unreadable record: {0}")]
    Unreadable(InputError),
    /// A matching rule could not render its channel for this record (the rule is in
    /// [`RecordFailure::rule`]).
    #[error("route failed: {0}")]
    Render(RenderError),
    /// No rule matched and the rules say `unmatched: fail`.
    #[error("route failed: no rule matched")]
    Unmatched,
    /// One of its events was not accepted.
    #[error(transparent)]
    Event(EventError),
    /// Ordered: an earlier record of its ordering key (an SQS FIFO message group, a partition
    /// key, an item) failed, so it was not published.
    #[error("not published: record {first} {} failed earlier", key.of_record())]
    KeyFailedEarlier {
        /// The position of the key's first failed record.
        first: usize,
        /// The key.
        key: OrderingKey,
    },
    /// Ordered: it was accepted, but an earlier record of its key (sent in the same request)
    /// failed, so it is reported failed for the trigger to deliver again after that one.
    #[error(
        "accepted by appsync, but reported failed because record {first} {} failed before it",
        key.of_record()
    )]
    AcceptedAfterKeyFailure {
        /// The position of the key's first failed record.
        first: usize,
        /// The key.
        key: OrderingKey,
    },
}

/// The outcome of one record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecordOutcome {
    /// Every event of the record was accepted by AppSync.
    Delivered {
        /// How many events it published.
        events: usize,
    },
    /// No rule matched and unmatched records are dropped.
    Unmatched,
    /// At least one event failed, or the record could not be read or routed.
    Failed(Vec<RecordFailure>),
}

/// One record's report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordReport {
    /// Position in the invocation.
    pub index: usize,
    /// `messageId` (the SQS `itemIdentifier`) or the EventBridge `id`.
    pub id: String,
    /// What happened.
    pub outcome: RecordOutcome,
}

/// Per-rule counters for metrics.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RuleStats {
    /// Events of this rule AppSync accepted.
    pub published: u64,
    /// Events of this rule that failed.
    pub failed: u64,
}

/// Counters of one invocation, for the summary log line and metrics.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Stats {
    /// Records in the invocation.
    pub records: u64,
    /// Events AppSync accepted.
    pub events_published: u64,
    /// Of those, events a well-formed answer listed neither as successful nor as failed (a
    /// namespace handler that drops events may answer so).
    pub unlisted: u64,
    /// Records reported failed.
    pub records_failed: u64,
    /// Event re-sends (an event sent three times counts two).
    pub retries: u64,
    /// Records no rule matched (dropped).
    pub unmatched: u64,
    /// Each request's latency in milliseconds.
    pub latencies_ms: Vec<f64>,
    /// Counters per rule name.
    pub per_rule: BTreeMap<String, RuleStats>,
}

/// What the relay did with an invocation.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Report {
    /// One report per record, in invocation order.
    pub records: Vec<RecordReport>,
    /// Counters.
    pub stats: Stats,
}

impl Report {
    /// The failed records.
    pub fn failed(&self) -> impl Iterator<Item = &RecordReport> {
        self.records
            .iter()
            .filter(|r| matches!(r.outcome, RecordOutcome::Failed(_)))
    }
}

/// The fate of one sent (or refused) event.
pub(crate) struct EventResult {
    pub(crate) origin: Origin,
    pub(crate) channel: String,
    pub(crate) result: Result<Accepted, EventError>,
}

/// Where a lane's results go in a record's list of failures, so reports and error messages are
/// the same from run to run although senders finish in any order: events refused before sending
/// first (in event order), then channels in first-appearance order (each channel's senders in
/// the order they started), then ordering keys in first-appearance order (each key's senders in
/// the order they started).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum LaneKey {
    /// Every event refused before sending, in event order.
    #[default]
    Refused,
    /// A channel's sender: the channel's lane, and the sender's start number.
    Channel { lane: usize, sequence: usize },
    /// A sender of the n-th ordering key (message group, partition key, item), and the sender's
    /// start number.
    Key { place: usize, sequence: usize },
}

/// What one lane (refused events, a channel's sender or an ordering key's sender) produced.
#[derive(Default)]
pub(crate) struct LaneResult {
    /// Where its results go among a record's failures.
    pub(crate) key: LaneKey,
    pub(crate) events: Vec<EventResult>,
    /// Records failed without (or despite) their own events' results.
    pub(crate) records: Vec<(usize, RecordFailure)>,
    /// Records no rule matched (ordered records; other records are settled before publishing).
    pub(crate) unmatched: Vec<usize>,
}

/// Per record, by arrival position: its id and what is known before publishing (its own
/// failure, or that no rule matched).
#[derive(Default)]
pub(crate) struct Book {
    ids: Vec<String>,
    failures: Vec<Vec<RecordFailure>>,
    unmatched: Vec<bool>,
    /// Events routed per record: a record is accepted only when every one of them came back
    /// accepted.
    routed: Vec<usize>,
}

impl Book {
    /// Notes the next record; returns its position.
    pub(crate) fn open(&mut self, id: String) -> usize {
        self.ids.push(id);
        self.failures.push(Vec::new());
        self.unmatched.push(false);
        self.routed.push(0);
        self.ids.len() - 1
    }

    /// The record at `pos` was routed to `events` events.
    pub(crate) fn routed(&mut self, pos: usize, events: usize) {
        if let Some(routed) = self.routed.get_mut(pos) {
            *routed = events;
        }
    }

    /// The record at `pos` failed before publishing.
    pub(crate) fn fail(&mut self, pos: usize, failure: RecordFailure) {
        if let Some(failures) = self.failures.get_mut(pos) {
            failures.push(failure);
        }
    }

    /// No rule matched the record at `pos`.
    pub(crate) fn unmatched(&mut self, pos: usize) {
        if let Some(unmatched) = self.unmatched.get_mut(pos) {
            *unmatched = true;
        }
    }
}

/// What the relay counted while publishing.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    /// Event re-sends.
    pub(crate) retries: u64,
    /// Each request's latency in milliseconds.
    pub(crate) latencies_ms: Vec<f64>,
}

/// The report from what each record met before publishing (`book`) and its events' fates
/// (`lanes`), all by arrival position.
pub(crate) fn assemble(book: Book, mut lanes: Vec<LaneResult>, counters: Counters) -> Report {
    let Book {
        ids,
        mut failures,
        mut unmatched,
        routed,
    } = book;
    lanes.sort_by_key(|lane| lane.key);
    let records = ids.len();
    let position = |pos: usize| (pos < records).then_some(pos);
    let mut counts = vec![0usize; records];
    let mut stats = Stats {
        records: records as u64,
        retries: counters.retries,
        latencies_ms: counters.latencies_ms,
        ..Stats::default()
    };
    for lane in lanes {
        for event in lane.events {
            // Look up before inserting: `entry` would allocate the rule's name for every event.
            if !stats.per_rule.contains_key(&*event.origin.rule) {
                stats
                    .per_rule
                    .insert(event.origin.rule.to_string(), RuleStats::default());
            }
            let Some(rule) = stats.per_rule.get_mut(&*event.origin.rule) else {
                continue;
            };
            let Some(pos) = position(event.origin.record) else {
                continue;
            };
            match event.result {
                Ok(accepted) => {
                    rule.published += 1;
                    stats.events_published += 1;
                    if accepted == Accepted::Unlisted {
                        stats.unlisted += 1;
                    }
                    counts[pos] += 1;
                }
                Err(error) => {
                    rule.failed += 1;
                    failures[pos].push(RecordFailure {
                        rule: Some(event.origin.rule),
                        channel: Some(event.channel),
                        reason: FailureReason::Event(error),
                    });
                }
            }
        }
        for (pos, failure) in lane.records {
            if let Some(pos) = position(pos) {
                failures[pos].push(failure);
            }
        }
        for pos in lane.unmatched {
            if let Some(pos) = position(pos) {
                unmatched[pos] = true;
            }
        }
    }

    let reports = ids
        .into_iter()
        .enumerate()
        .map(|(pos, id)| {
            // An event that never came back (a path that dropped it) was not accepted: the
            // record fails rather than report a loss as delivered.
            if failures[pos].is_empty() && !unmatched[pos] && counts[pos] < routed[pos] {
                let reason = FailureReason::Event(EventError::NotSent(NotSent::Unsettled));
                failures[pos].push(RecordFailure::plain(reason));
            }
            let outcome = if !failures[pos].is_empty() {
                RecordOutcome::Failed(std::mem::take(&mut failures[pos]))
            } else if unmatched[pos] {
                RecordOutcome::Unmatched
            } else {
                RecordOutcome::Delivered {
                    events: counts[pos],
                }
            };
            RecordReport {
                index: pos,
                id,
                outcome,
            }
        })
        .collect::<Vec<_>>();
    stats.unmatched = reports
        .iter()
        .filter(|r| r.outcome == RecordOutcome::Unmatched)
        .count() as u64;
    stats.records_failed = reports
        .iter()
        .filter(|r| matches!(r.outcome, RecordOutcome::Failed(_)))
        .count() as u64;
    Report {
        records: reports,
        stats,
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    fn accepted(record: usize) -> EventResult {
        EventResult {
            origin: Origin {
                record,
                rule: Arc::from("r"),
            },
            channel: "/a".into(),
            result: Ok(Accepted::Listed),
        }
    }

    #[test]
    fn a_record_is_accepted_only_when_every_event_it_routed_came_back_accepted() {
        let mut book = Book::default();
        let short = book.open("m0".into());
        book.routed(short, 2);
        let whole = book.open("m1".into());
        book.routed(whole, 1);
        let lane = LaneResult {
            events: vec![accepted(short), accepted(whole)],
            ..LaneResult::default()
        };
        let report = assemble(book, vec![lane], Counters::default());
        assert_eq!(
            report.records[0].outcome,
            RecordOutcome::Failed(vec![RecordFailure::plain(FailureReason::Event(
                EventError::NotSent(NotSent::Unsettled)
            ))])
        );
        assert_eq!(
            report.records[1].outcome,
            RecordOutcome::Delivered { events: 1 }
        );
        assert_eq!(report.stats.records_failed, 1);
    }
}
