//! Ordered records: the records of one ordering key (an SQS FIFO message group, a Kinesis
//! partition key, a DynamoDB item) one step at a time, each only after the key's earlier records
//! succeeded; after the first failure the rest of the key's records are reported failed without
//! publishing. Other keys go on, concurrently under the relay's permits.
//!
//! Each key's records are cut into [`Step`]s as they arrive ([`StepCutter`], pure): consecutive
//! records whose events all go to one channel share a request while it stays within five events.
//! A step is queued for its key as soon as no later record can change it, and a key's sender
//! ([`run_key`]) sends its steps in order until one fails, while later records are still being
//! routed. A stream batch holds up to 10,000 records with as many keys: a record finds its key
//! in a map, in constant time.

use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, MutexGuard, PoisonError};

use super::attempts::send_with_retries;
use super::senders::Senders;
use super::{Ctx, Prepared};
use crate::limits::MAX_EVENTS_PER_PUBLISH;
use crate::ordering::{KeyKind, OrderingKey};
use crate::publish::batch;
use crate::publish::{EventError, NotSent, OutgoingEvent, Publisher};
use crate::report::{EventResult, FailureReason, LaneKey, LaneResult, RecordFailure};

/// The ordered records' keys, their open steps and their senders at work. `start(place,
/// sequence)` starts a sender for a key whose queue just got work.
pub(super) struct Groups<'q, S, F> {
    queues: &'q KeyQueues,
    /// Each key's place: the order keys first appeared in.
    places: HashMap<OrderingKey, usize>,
    /// Each key's step still open to the next record, by place.
    cutters: Vec<StepCutter>,
    senders: Senders<S, F>,
}

impl<'q, S, F> Groups<'q, S, F>
where
    S: FnMut(usize, usize) -> F,
    F: Future<Output = LaneResult>,
{
    pub(super) fn new(queues: &'q KeyQueues, start: S) -> Self {
        Self {
            queues,
            places: HashMap::new(),
            cutters: Vec::new(),
            senders: Senders::new(start),
        }
    }

    /// Adds the record at `pos` to its key; the steps it completes go to the key's queue.
    pub(super) fn push(&mut self, key: OrderingKey, pos: usize, prepared: Prepared) {
        let place = match self.places.get(&key) {
            Some(&place) => place,
            None => {
                let place = self.cutters.len();
                self.places.insert(key.clone(), place);
                self.cutters.push(StepCutter::default());
                self.queues.open(key);
                place
            }
        };
        let completed = match self.cutters.get_mut(place) {
            Some(cutter) => cutter.push(pos, prepared),
            None => [None, None],
        };
        for step in completed.into_iter().flatten() {
            self.queue(place, step);
        }
    }

    fn queue(&mut self, place: usize, step: Step) {
        if self.queues.push(place, step) {
            self.senders.start(place);
        }
    }

    /// After `taken` records: takes up finished senders if a look is due, as the channel lanes do.
    pub(super) async fn look_if_due(&mut self, taken: usize) {
        self.senders.look_if_due(taken).await;
    }

    /// Queues every key's last step and waits for all senders.
    pub(super) async fn finish(mut self) -> Vec<LaneResult> {
        let last: Vec<(usize, Step)> = self
            .cutters
            .iter_mut()
            .enumerate()
            .filter_map(|(place, cutter)| cutter.finish().map(|step| (place, step)))
            .collect();
        for (place, step) in last {
            self.queue(place, step);
        }
        self.senders.finish().await
    }
}

/// Each key's steps waiting to be sent, whether a sender is working through them, and what the
/// key's senders have learnt (its first failed record). Shared by the routing loop (which
/// queues) and the keys' senders (which take); only ever locked for a push or a pop, never
/// across an await.
#[derive(Default)]
pub(super) struct KeyQueues {
    keys: Mutex<Vec<KeyQueue>>,
}

struct KeyQueue {
    key: OrderingKey,
    waiting: VecDeque<Step>,
    sending: bool,
    /// The position of the key's first failed record, once one failed.
    stopped_by: Option<usize>,
}

impl KeyQueues {
    fn lock(&self) -> MutexGuard<'_, Vec<KeyQueue>> {
        self.keys.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A new key, at the next place.
    fn open(&self, key: OrderingKey) {
        self.lock().push(KeyQueue {
            key,
            waiting: VecDeque::new(),
            sending: false,
            stopped_by: None,
        });
    }

    /// Queues a key's next step. True when the key has no sender at work, so the caller must
    /// start one.
    fn push(&self, place: usize, step: Step) -> bool {
        let mut keys = self.lock();
        let Some(queue) = keys.get_mut(place) else {
            return false;
        };
        queue.waiting.push_back(step);
        !std::mem::replace(&mut queue.sending, true)
    }

    /// The key and its first failed record, for a sender that starts.
    fn state(&self, place: usize) -> Option<(OrderingKey, Option<usize>)> {
        self.lock()
            .get(place)
            .map(|q| (q.key.clone(), q.stopped_by))
    }

    /// Keeps what the sender learnt and hands it the key's next step; `None` also marks the
    /// sender as stopped.
    fn next(&self, place: usize, stopped_by: Option<usize>) -> Option<Step> {
        let mut keys = self.lock();
        let queue = keys.get_mut(place)?;
        queue.stopped_by = stopped_by;
        let next = queue.waiting.pop_front();
        if next.is_none() {
            queue.sending = false;
        }
        next
    }
}

/// One step of an ordering key.
#[derive(Debug, PartialEq)]
pub(super) enum Step {
    /// A record no rule matched: it does not stop the key.
    Unmatched(usize),
    /// A record that fails before publishing (unreadable, unroutable, an oversized event): it
    /// stops the key.
    Failed(usize, RecordFailure),
    /// Consecutive records sent together, in order: their positions and their events.
    Send(Vec<usize>, Vec<OutgoingEvent>),
}

/// Cuts one key's records into steps as they arrive, moving their events: a record's events
/// form a request, extended by the following records while every event goes to the one channel,
/// the request stays within five events and no event is oversized. A step is handed out as soon
/// as no later record can change it.
#[derive(Default)]
pub(super) struct StepCutter {
    /// The request still open to the next record: its records, its events, their one channel.
    open: Option<(Vec<usize>, Vec<OutgoingEvent>, String)>,
}

impl StepCutter {
    /// Adds the record at `pos`; returns the steps it completes, in order (at most two: the
    /// request it closes and its own).
    pub(super) fn push(&mut self, pos: usize, prepared: Prepared) -> [Option<Step>; 2] {
        let events = match prepared {
            Prepared::Unmatched => return [self.finish(), Some(Step::Unmatched(pos))],
            Prepared::Failed(f) => return [self.finish(), Some(Step::Failed(pos, f))],
            Prepared::Events(events) => events,
        };
        if let Some((event, error)) = events
            .iter()
            .find_map(|e| batch::check_size(e).err().map(|r| (e, r)))
        {
            let failure = RecordFailure {
                rule: Some(event.origin.rule.clone()),
                channel: Some(event.channel.clone()),
                reason: FailureReason::Event(error),
            };
            return [self.finish(), Some(Step::Failed(pos, failure))];
        }
        let joins = match (&self.open, single_channel(&events)) {
            (Some((_, segment, open)), Some(channel)) => {
                open == channel && segment.len() + events.len() <= MAX_EVENTS_PER_PUBLISH
            }
            _ => false,
        };
        if joins && let Some((records, segment, _)) = &mut self.open {
            records.push(pos);
            segment.extend(events);
            if segment.len() >= MAX_EVENTS_PER_PUBLISH {
                return [self.finish(), None];
            }
            return [None, None];
        }
        let closed = self.finish();
        let open = single_channel(&events)
            .filter(|_| events.len() < MAX_EVENTS_PER_PUBLISH)
            .map(str::to_owned);
        match open {
            Some(channel) => {
                self.open = Some((vec![pos], events, channel));
                [closed, None]
            }
            None => [closed, Some(Step::Send(vec![pos], events))],
        }
    }

    /// The open request, once no more records come.
    pub(super) fn finish(&mut self) -> Option<Step> {
        self.open
            .take()
            .map(|(records, events, _)| Step::Send(records, events))
    }
}

/// A whole key's records cut into steps at once (what [`StepCutter`] hands out one by one).
#[cfg(test)]
pub(super) fn steps(members: Vec<(usize, Prepared)>) -> Vec<Step> {
    let mut cutter = StepCutter::default();
    let mut steps: Vec<Step> = members
        .into_iter()
        .flat_map(|(pos, prepared)| cutter.push(pos, prepared))
        .flatten()
        .collect();
    steps.extend(cutter.finish());
    steps
}

/// One ordering key's steps, in order, as they are queued; stops publishing at the first
/// failure. Ends when the key's queue is empty (a later step starts a new sender, which
/// carries on from what this one learnt).
pub(super) async fn run_key<P: Publisher>(
    ctx: &Ctx<'_, P>,
    queues: &KeyQueues,
    place: usize,
    sequence: usize,
) -> LaneResult {
    let mut lane = LaneResult {
        key: LaneKey::Key { place, sequence },
        ..LaneResult::default()
    };
    let Some((key, mut stopped_by)) = queues.state(place) else {
        return lane;
    };
    while let Some(step) = queues.next(place, stopped_by) {
        stopped_by = run_step(ctx, &mut lane, &key, stopped_by, step).await;
    }
    lane
}

/// One step of a key, given its first failed record so far; returns it afterwards.
async fn run_step<P: Publisher>(
    ctx: &Ctx<'_, P>,
    lane: &mut LaneResult,
    key: &OrderingKey,
    mut stopped_by: Option<usize>,
    step: Step,
) -> Option<usize> {
    if let Some(first) = stopped_by {
        let records = match step {
            Step::Unmatched(pos) | Step::Failed(pos, _) => vec![pos],
            Step::Send(records, _) => records,
        };
        for pos in records {
            let reason = FailureReason::KeyFailedEarlier {
                first,
                key: key.clone(),
            };
            lane.records.push((pos, RecordFailure::plain(reason)));
        }
        return stopped_by;
    }
    let (records, segment) = match step {
        Step::Unmatched(pos) => {
            lane.unmatched.push(pos);
            return None;
        }
        Step::Failed(pos, failure) => {
            lane.records.push((pos, failure));
            return Some(pos);
        }
        Step::Send(records, segment) => (records, segment),
    };
    let results = send_segment(ctx, key.kind, segment).await;
    // Walk the segment's records in order: the first with a failure stops the key; later
    // records of the same request that were accepted are still reported failed, so the trigger
    // delivers them again after the failed one (a duplicate for subscribers, at-least-once).
    for pos in records {
        let mine = || results.iter().filter(|r| r.origin.record == pos);
        match stopped_by {
            Some(first) if mine().any(|r| r.result.is_ok()) => {
                let reason = FailureReason::AcceptedAfterKeyFailure {
                    first,
                    key: key.clone(),
                };
                lane.records.push((pos, RecordFailure::plain(reason)));
            }
            Some(_) => {}
            None if mine().any(|r| r.result.is_err()) => stopped_by = Some(pos),
            None => {}
        }
    }
    lane.events.extend(results);
    stopped_by
}

/// Sends one step's events. The byte cap can split them into several requests: they go in order
/// and stop at the first one with a failure, since a later request would publish the key's
/// traffic after the key has already failed.
async fn send_segment<P: Publisher>(
    ctx: &Ctx<'_, P>,
    kind: KeyKind,
    segment: Vec<OutgoingEvent>,
) -> Vec<EventResult> {
    let mut results: Vec<EventResult> = Vec::with_capacity(segment.len());
    let mut request_failed = false;
    for chunk in batch::plan(segment).channels.into_iter().flatten() {
        if request_failed {
            results.extend(chunk.events.into_iter().map(|e| EventResult {
                origin: e.origin,
                channel: e.channel,
                result: Err(EventError::NotSent(NotSent::EarlierRequestFailed(kind))),
            }));
            continue;
        }
        let sent = send_with_retries(ctx, &chunk.channel, &chunk.events, Some(kind)).await;
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
    results
}

fn single_channel(events: &[OutgoingEvent]) -> Option<&str> {
    let first = events.first()?.channel.as_str();
    events.iter().all(|e| e.channel == first).then_some(first)
}

#[cfg(test)]
mod tests;
