//! The senders at work for one kind of lane (the channel lanes, the ordering keys), and the
//! routing loop's look at them.
//!
//! While requests are in flight, the routing loop yields to the runtime and takes up finished
//! senders (which lets queued requests start and releases their permits) every
//! [`RECORDS_BETWEEN_POLLS`] records or [`ROUTING_BETWEEN_POLLS`], whichever comes first, so a
//! long batch does not hold responses and next requests back. A batch of fewer records than that
//! (an EventBridge event, SQS's default batch of ten) is routed whole before its first request.

use std::task::Poll;
use std::time::Duration;

use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;

use crate::report::LaneResult;

/// Most records routed between two looks at the requests in flight. A record of about 1 KB
/// takes some 10 µs to read and route.
pub(super) const RECORDS_BETWEEN_POLLS: usize = 16;

/// Longest routing time between two looks at the requests in flight, for batches of large
/// records: a response waits at most about this long to be taken up (and its permit to be
/// released), against the tens of milliseconds a request to AppSync takes. Measured on the
/// wall clock (`std::time::Instant`), not tokio's, which stands still in paused-clock tests.
pub(super) const ROUTING_BETWEEN_POLLS: Duration = Duration::from_micros(200);

/// Senders at work and what the finished ones produced. `start(lane, sequence)` starts a sender
/// for a lane (a channel, a key) whose queue just got work; `sequence` counts the senders
/// started so far.
pub(super) struct Senders<S, F> {
    start: S,
    running: FuturesUnordered<F>,
    started: usize,
    done: Vec<LaneResult>,
    /// Records taken and the time at the last look at the senders.
    last_look: (usize, std::time::Instant),
}

impl<S, F> Senders<S, F>
where
    S: FnMut(usize, usize) -> F,
    F: Future<Output = LaneResult>,
{
    pub(super) fn new(start: S) -> Self {
        Self {
            start,
            running: FuturesUnordered::new(),
            started: 0,
            done: Vec::new(),
            last_look: (0, std::time::Instant::now()),
        }
    }

    /// Starts a sender for `lane`.
    pub(super) fn start(&mut self, lane: usize) {
        self.running.push((self.start)(lane, self.started));
        self.started += 1;
    }

    /// After `taken` records: takes up finished senders when [`RECORDS_BETWEEN_POLLS`] records or
    /// [`ROUTING_BETWEEN_POLLS`] have passed since the last look, and senders are at work.
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

    /// Waits for every sender; what each produced, finished ones first.
    pub(super) async fn finish(mut self) -> Vec<LaneResult> {
        while let Some(lane) = self.running.next().await {
            self.done.push(lane);
        }
        self.done
    }
}
