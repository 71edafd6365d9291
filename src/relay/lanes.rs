//! Channel lanes: the requests of records without an ordering key — one sender per channel,
//! strictly in order, channels concurrently (bounded by the relay's permits) — started while
//! records are still arriving.
//!
//! Events are batched by a [`Planner`]: a channel's request is queued as soon as it is complete
//! (five events, or the next event would not fit), because no later record can change it, and
//! the channels' last requests are queued once the last record is in. The requests are exactly
//! those of planning the whole batch at once. While requests are in flight, the routing loop
//! yields to the runtime and takes up finished requests (which starts queued ones) every
//! [`RECORDS_BETWEEN_POLLS`] records or [`ROUTING_BETWEEN_POLLS`], whichever comes first, so a
//! long batch does not hold responses and next requests back. A batch of fewer records than that
//! (an EventBridge event, SQS's default batch of ten) is routed whole before its first request.
//! Ordered records' senders ([`super::fifo`]) are looked at the same way.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::task::Poll;
use std::time::Duration;

use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;

use super::Ctx;
use super::attempts::send_with_retries;
use crate::publish::batch::{Chunk, Planner};
use crate::publish::{OutgoingEvent, Publisher};
use crate::report::{EventResult, LaneKey, LaneResult};

/// Most records routed between two looks at the requests in flight. A record of about 1 KB
/// takes some 10 µs to read and route.
pub(super) const RECORDS_BETWEEN_POLLS: usize = 16;

/// Longest routing time between two looks at the requests in flight, for batches of large
/// records: a response waits at most about this long to be taken up (and its permit to be
/// released), against the tens of milliseconds a request to AppSync takes. Measured on the
/// wall clock (`std::time::Instant`), not tokio's, which stands still in paused-clock tests.
pub(super) const ROUTING_BETWEEN_POLLS: Duration = Duration::from_micros(200);

/// The planner, the senders at work and what finished senders and refused events produced.
/// `start(lane, sequence)` starts a sender for a channel whose queue just got work.
pub(super) struct ChannelLanes<'q, S, F> {
    queues: &'q ChannelQueues,
    start: S,
    planner: Planner,
    running: FuturesUnordered<F>,
    started: usize,
    refused: LaneResult,
    done: Vec<LaneResult>,
    /// Records taken and the time at the last look at the senders.
    last_look: (usize, std::time::Instant),
}

impl<'q, S, F> ChannelLanes<'q, S, F>
where
    S: FnMut(usize, usize) -> F,
    F: Future<Output = LaneResult>,
{
    pub(super) fn new(queues: &'q ChannelQueues, start: S) -> Self {
        Self {
            queues,
            start,
            planner: Planner::default(),
            running: FuturesUnordered::new(),
            started: 0,
            refused: LaneResult::default(),
            done: Vec::new(),
            last_look: (0, std::time::Instant::now()),
        }
    }

    /// Plans a record's events; a request that is complete goes to its channel's queue (and
    /// starts a sender if the channel has none at work). An oversized event is refused.
    pub(super) fn push(&mut self, events: Vec<OutgoingEvent>) {
        for event in events {
            let Self {
                queues,
                start,
                planner,
                running,
                started,
                ..
            } = self;
            let pushed = planner.push(event, |lane, chunk| {
                if queues.push(lane, chunk) {
                    running.push(start(lane, *started));
                    *started += 1;
                }
            });
            if let Err(rejected) = pushed {
                let rejected = *rejected;
                self.refused.events.push(EventResult {
                    origin: rejected.event.origin,
                    channel: rejected.event.channel,
                    result: Err(rejected.reason),
                });
            }
        }
    }

    /// After `taken` records: takes up finished senders (which lets queued requests start) when
    /// [`RECORDS_BETWEEN_POLLS`] records or [`ROUTING_BETWEEN_POLLS`] have passed since the last
    /// look, and senders are at work.
    pub(super) async fn look_if_due(&mut self, taken: usize) {
        let (at, when) = self.last_look;
        if self.running.is_empty()
            || (taken - at < RECORDS_BETWEEN_POLLS && when.elapsed() < ROUTING_BETWEEN_POLLS)
        {
            return;
        }
        tokio::task::yield_now().await;
        let Self { running, done, .. } = self;
        std::future::poll_fn(|cx| {
            while let Poll::Ready(Some(lane)) = running.poll_next_unpin(cx) {
                done.push(lane);
            }
            Poll::Ready(())
        })
        .await;
        self.last_look = (taken, std::time::Instant::now());
    }

    /// Queues every channel's last request and waits for all senders.
    pub(super) async fn finish(mut self) -> Vec<LaneResult> {
        for (lane, chunk) in self.planner.finish() {
            if self.queues.push(lane, chunk) {
                self.running.push((self.start)(lane, self.started));
                self.started += 1;
            }
        }
        while let Some(lane) = self.running.next().await {
            self.done.push(lane);
        }
        self.done.push(self.refused);
        self.done
    }
}

/// Each channel's requests waiting to be sent, and whether a sender is working through them.
/// Shared by the routing loop (which queues) and the channels' senders (which take); only ever
/// locked for a push or a pop, never across an await.
#[derive(Default)]
pub(super) struct ChannelQueues {
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
pub(super) async fn run_channel<P: Publisher>(
    ctx: &Ctx<'_, P>,
    queues: &ChannelQueues,
    lane: usize,
    sequence: usize,
) -> LaneResult {
    let mut result = LaneResult {
        key: LaneKey::Channel { lane, sequence },
        ..LaneResult::default()
    };
    while let Some(chunk) = queues.next(lane) {
        let sent = send_with_retries(ctx, &chunk.channel, &chunk.events, None).await;
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
