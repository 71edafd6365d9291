//! Channel lanes: the requests of records without an ordering key — one sender per channel,
//! strictly in order, channels concurrently (bounded by the relay's permits) — started while
//! records are still arriving.
//!
//! Events are batched by a [`Planner`]: a channel's request is queued as soon as it is complete
//! (five events, or the next event would not fit), because no later record can change it, and
//! the channels' last requests are queued once the last record is in. The requests are exactly
//! those of planning the whole batch at once. The senders run in [`Senders`], which the routing
//! loop looks at while it still reads records, as it does the ordered records' ([`super::fifo`]).

use std::collections::VecDeque;
use std::sync::Mutex;

use super::Ctx;
use super::attempts::send_with_retries;
use super::senders::Senders;
use crate::publish::batch::{Chunk, Planner};
use crate::publish::{OutgoingEvent, Publisher};
use crate::report::{EventResult, LaneKey, LaneResult};

/// The planner, the senders at work and what finished senders and refused events produced.
/// `start(lane, sequence)` starts a sender for a channel whose queue just got work.
pub(super) struct ChannelLanes<'q, S, F> {
    queues: &'q ChannelQueues,
    planner: Planner,
    senders: Senders<S, F>,
    refused: LaneResult,
}

impl<'q, S, F> ChannelLanes<'q, S, F>
where
    S: FnMut(usize, usize) -> F,
    F: Future<Output = LaneResult>,
{
    pub(super) fn new(queues: &'q ChannelQueues, start: S) -> Self {
        Self {
            queues,
            planner: Planner::default(),
            senders: Senders::new(start),
            refused: LaneResult::default(),
        }
    }

    /// Plans a record's events; a request that is complete goes to its channel's queue (and
    /// starts a sender if the channel has none at work). An oversized event is refused.
    pub(super) fn push(&mut self, events: Vec<OutgoingEvent>) {
        for event in events {
            let Self {
                queues,
                planner,
                senders,
                ..
            } = self;
            let pushed = planner.push(event, |lane, chunk| {
                if queues.push(lane, chunk) {
                    senders.start(lane);
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

    /// After `taken` records: takes up finished senders if a look is due.
    pub(super) async fn look_if_due(&mut self, taken: usize) {
        self.senders.look_if_due(taken).await;
    }

    /// Queues every channel's last request and waits for all senders.
    pub(super) async fn finish(mut self) -> Vec<LaneResult> {
        for (lane, chunk) in self.planner.finish() {
            if self.queues.push(lane, chunk) {
                self.senders.start(lane);
            }
        }
        let mut done = self.senders.finish().await;
        done.push(self.refused);
        done
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
