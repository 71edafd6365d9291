//! Channel lanes: the requests of records without a message group, one sender per channel,
//! strictly in order, channels concurrently (bounded by the relay's permits).

use std::collections::VecDeque;
use std::sync::Mutex;
use std::task::Poll;
use std::time::Duration;

use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;

use super::Ctx;
use super::attempts::send_with_retries;
use crate::publish::Publisher;
use crate::publish::batch::Chunk;
use crate::report::{EventResult, LaneResult};

/// Most records routed between two looks at the requests in flight (see [`publish_records`]).
/// A record of about 1 KB takes some 10 µs to read and route.
pub(super) const RECORDS_BETWEEN_POLLS: usize = 16;

/// Longest routing time between two looks at the requests in flight, for batches of large
/// records: a response waits at most about this long to be taken up (and its permit to be
/// released), against the tens of milliseconds a request to AppSync takes. Measured on the
/// wall clock (`std::time::Instant`), not tokio's, which stands still in paused-clock tests.
pub(super) const ROUTING_BETWEEN_POLLS: Duration = Duration::from_micros(200);

/// Takes up the senders that have finished, without waiting for the others.
pub(super) async fn take_finished<F: Future<Output = LaneResult>>(
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
    pub(super) fn push(&self, lane: usize, chunk: Chunk) -> bool {
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
