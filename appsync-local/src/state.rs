//! The server's shared state: configuration, fault settings and their seeded RNG, the scripted
//! outcome queue, the log of publish requests and accepted events, and the fan-out of accepted
//! events to WebSocket connections.
//!
//! Accepting an event, giving it a sequence number, logging it and broadcasting it happen under
//! one lock, so every subscriber sees events in the order [`AppState::accepted`] lists them.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use serde::Serialize;
use tokio::sync::{Notify, broadcast, watch};

use crate::auth::{AuthOutcome, Authenticator};
use crate::channel::ChannelPath;
use crate::config::{Config, Faults, Malformed, Scripted};
use crate::publish::{Failed, PublishResult, Successful};

/// Largest accepted [`Config::subscriber_buffer`]; larger values are lowered to it.
pub const MAX_SUBSCRIBER_BUFFER: usize = 1 << 20;

/// Bounds applied to [`Config::keepalive`].
pub const MIN_KEEPALIVE: Duration = Duration::from_millis(1);
/// Upper bound applied to [`Config::keepalive`].
pub const MAX_KEEPALIVE: Duration = Duration::from_secs(24 * 60 * 60);

/// `failed[]` code and message used for random per-event failures.
pub const EVENT_FAILURE_CODE: u16 = 500;
const EVENT_FAILURE_MESSAGE: &str = "Event processing failed";

/// One HTTP publish request as the server saw it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PublishRequest {
    /// The channel exactly as sent (empty if the body had none).
    pub channel: String,
    /// The raw event texts as sent.
    pub events: Vec<String>,
    /// The status answered, or that would have been answered for a dropped response;
    /// 0 when the request was scripted to hang.
    pub status: u16,
    /// Which mode authenticated the request, or why it was refused. Never a secret.
    pub auth: AuthOutcome,
}

/// One event accepted and fanned out (from HTTP or WebSocket publish).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AcceptedEvent {
    /// The normalised channel (`/ns/a/b`).
    pub channel: String,
    /// The event's JSON text, as published.
    pub event: String,
    /// The identifier answered in `successful[]`.
    pub identifier: String,
}

/// An accepted event on its way to WebSocket connections.
#[derive(Debug)]
pub(crate) struct Delivery {
    pub seq: u64,
    pub channel: ChannelPath,
    pub event: String,
}

/// What the random faults decided for one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Roll {
    /// Answer this status, accept nothing.
    Fail(u16),
    /// Accept, failing these event indices; maybe drop the response or garble its body.
    Accept {
        failed: Vec<usize>,
        drop_response: bool,
        malformed: Option<Malformed>,
    },
}

/// What becomes of one event of a publish that passed auth and validation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Fate {
    /// Accepted: logged, fanned out with this JSON text, listed in `successful[]`.
    Deliver(String),
    /// Listed in `failed[]` with this code and message; not fanned out.
    Fail { code: u16, message: String },
    /// In neither list and not fanned out (what a filtering `onPublish` handler leaves).
    Unlisted,
}

impl Fate {
    /// Every event delivered, except those in `failed` (a `failed[]` entry with `code`) and those
    /// in `unlisted`.
    pub(crate) fn plan(
        events: Vec<String>,
        failed: &[usize],
        code: u16,
        unlisted: &[usize],
    ) -> Vec<Fate> {
        events
            .into_iter()
            .enumerate()
            .map(|(index, event)| {
                if unlisted.contains(&index) {
                    Fate::Unlisted
                } else if failed.contains(&index) {
                    let message = if code == EVENT_FAILURE_CODE {
                        EVENT_FAILURE_MESSAGE
                    } else {
                        "Event failed"
                    };
                    Fate::Fail {
                        code,
                        message: message.to_owned(),
                    }
                } else {
                    Fate::Deliver(event)
                }
            })
            .collect()
    }
}

struct FaultState {
    faults: Faults,
    rng: fastrand::Rng,
    script: VecDeque<Scripted>,
}

struct Log {
    /// Requests with their arrival number, kept sorted by it.
    requests: VecDeque<(u64, PublishRequest)>,
    accepted: VecDeque<AcceptedEvent>,
    accepted_total: usize,
    seq: u64,
}

struct Shared {
    namespaces: Vec<String>,
    auth: Authenticator,
    keepalive: Duration,
    history: usize,
    faults: Mutex<FaultState>,
    log: Mutex<Log>,
    accepted_changed: Notify,
    fanout: broadcast::Sender<Arc<Delivery>>,
    shutdown: watch::Sender<bool>,
    next_connection: AtomicU64,
    next_arrival: AtomicU64,
}

/// Everything a handler needs; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Shared>,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("namespaces", &self.inner.namespaces)
            .finish_non_exhaustive()
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // Nothing panics while holding these locks; recover the data rather than propagate poison.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

fn push_bounded<T>(queue: &mut VecDeque<T>, item: T, bound: usize) {
    if queue.len() >= bound {
        queue.pop_front();
    }
    queue.push_back(item);
}

impl AppState {
    /// Builds the state for a server with this configuration.
    pub fn new(config: Config) -> Self {
        // tokio's broadcast channel panics on a capacity of 0 or an absurdly large one.
        let capacity = config.subscriber_buffer.clamp(1, MAX_SUBSCRIBER_BUFFER);
        let (fanout, _) = broadcast::channel(capacity);
        let (shutdown, _) = watch::channel(false);
        Self {
            inner: Arc::new(Shared {
                namespaces: config.namespaces.clone(),
                auth: Authenticator::new(&config),
                // A zero interval would panic in tokio, a huge one overflow the clock.
                keepalive: config.keepalive.clamp(MIN_KEEPALIVE, MAX_KEEPALIVE),
                // At least one: the log must keep the request or event it just took.
                history: config.history.max(1),
                faults: Mutex::new(FaultState {
                    faults: config.faults.clone().sanitized(),
                    rng: fastrand::Rng::with_seed(config.seed),
                    script: VecDeque::new(),
                }),
                log: Mutex::new(Log {
                    requests: VecDeque::new(),
                    accepted: VecDeque::new(),
                    accepted_total: 0,
                    seq: 0,
                }),
                accepted_changed: Notify::new(),
                fanout,
                shutdown,
                next_connection: AtomicU64::new(1),
                next_arrival: AtomicU64::new(0),
            }),
        }
    }

    pub(crate) fn namespaces(&self) -> &[String] {
        &self.inner.namespaces
    }

    pub(crate) fn auth(&self) -> &Authenticator {
        &self.inner.auth
    }

    pub(crate) fn keepalive(&self) -> Duration {
        self.inner.keepalive
    }

    pub(crate) fn next_connection_id(&self) -> u64 {
        self.inner.next_connection.fetch_add(1, Ordering::Relaxed)
    }

    /// The current random fault settings.
    pub fn faults(&self) -> Faults {
        lock(&self.inner.faults).faults.clone()
    }

    /// Replaces the random fault settings (the RNG keeps its position).
    pub fn set_faults(&self, faults: Faults) {
        lock(&self.inner.faults).faults = faults.sanitized();
    }

    /// Appends forced outcomes for the next publish requests.
    pub fn script(&self, outcomes: impl IntoIterator<Item = Scripted>) {
        lock(&self.inner.faults).script.extend(outcomes);
    }

    /// Replaces the queue of forced outcomes.
    pub fn replace_script(&self, outcomes: impl IntoIterator<Item = Scripted>) {
        let mut state = lock(&self.inner.faults);
        state.script.clear();
        state.script.extend(outcomes);
    }

    /// Numbers an arriving HTTP publish and takes its scripted outcome, atomically, so the n-th
    /// request to arrive gets the n-th scripted outcome.
    pub(crate) fn begin_request(&self) -> (u64, Option<Scripted>) {
        let mut faults = lock(&self.inner.faults);
        (self.arrival(), faults.script.pop_front())
    }

    pub(crate) fn latency(&self) -> Duration {
        Duration::from_millis(lock(&self.inner.faults).faults.latency_ms)
    }

    /// Draws this request's random fate: one draw for throttle / server error, one per event
    /// for `event_failure`, one for `drop_response`, and (only when `malformed_response` is above
    /// 0, so older seeds replay unchanged) one for `malformed_response` plus one for its shape.
    pub(crate) fn roll(&self, events: usize) -> Roll {
        let mut state = lock(&self.inner.faults);
        let faults = state.faults.clone();
        let r = state.rng.f64();
        if r < faults.throttle {
            return Roll::Fail(429);
        }
        if r < faults.throttle + faults.server_error {
            return Roll::Fail(500);
        }
        let failed = (0..events)
            .filter(|_| state.rng.f64() < faults.event_failure)
            .collect();
        let drop_response = state.rng.f64() < faults.drop_response;
        let malformed =
            if faults.malformed_response > 0.0 && state.rng.f64() < faults.malformed_response {
                Some(Malformed::ALL[state.rng.usize(..Malformed::ALL.len())])
            } else {
                None
            };
        Roll::Accept {
            failed,
            drop_response,
            malformed,
        }
    }

    /// Carries out each event's [`Fate`]: delivered events are numbered, logged and fanned out
    /// to subscribers; failed ones get `failed[]` entries; unlisted ones leave no trace.
    pub(crate) fn accept(&self, channel: &ChannelPath, fates: Vec<Fate>) -> PublishResult {
        let mut result = PublishResult::default();
        let channel_text = channel.to_string();
        {
            let mut log = lock(&self.inner.log);
            for (index, fate) in fates.into_iter().enumerate() {
                let event = match fate {
                    Fate::Deliver(event) => event,
                    Fate::Fail { code, message } => {
                        let identifier = uuid::Uuid::new_v4().to_string();
                        result
                            .failed
                            .push(Failed::new(identifier, index, code, &message));
                        continue;
                    }
                    Fate::Unlisted => continue,
                };
                let identifier = uuid::Uuid::new_v4().to_string();
                log.seq += 1;
                log.accepted_total += 1;
                let seq = log.seq;
                push_bounded(
                    &mut log.accepted,
                    AcceptedEvent {
                        channel: channel_text.clone(),
                        event: event.clone(),
                        identifier: identifier.clone(),
                    },
                    self.inner.history,
                );
                // No receivers is fine: nobody is subscribed.
                let _ = self.inner.fanout.send(Arc::new(Delivery {
                    seq,
                    channel: channel.clone(),
                    event,
                }));
                result.successful.push(Successful { identifier, index });
            }
        }
        if !result.successful.is_empty() {
            self.inner.accepted_changed.notify_waiters();
        }
        result
    }

    /// Numbers a request as it arrives, so the log keeps arrival order even when concurrent
    /// requests finish in another order (latency, scripted delays).
    pub(crate) fn arrival(&self) -> u64 {
        self.inner.next_arrival.fetch_add(1, Ordering::Relaxed)
    }

    pub(crate) fn record_request(&self, arrival: u64, request: PublishRequest) {
        let mut log = lock(&self.inner.log);
        let at = log.requests.partition_point(|(n, _)| *n < arrival);
        log.requests.insert(at, (arrival, request));
        if log.requests.len() > self.inner.history {
            log.requests.pop_front();
        }
    }

    /// Every HTTP publish request received (up to the configured history), in arrival order.
    pub fn requests(&self) -> Vec<PublishRequest> {
        lock(&self.inner.log)
            .requests
            .iter()
            .map(|(_, r)| r.clone())
            .collect()
    }

    /// Every accepted event (up to the configured history), in acceptance order.
    pub fn accepted(&self) -> Vec<AcceptedEvent> {
        lock(&self.inner.log).accepted.iter().cloned().collect()
    }

    /// The last `limit` HTTP publish requests, in arrival order.
    pub fn recent_requests(&self, limit: usize) -> Vec<PublishRequest> {
        let log = lock(&self.inner.log);
        let skip = log.requests.len().saturating_sub(limit);
        log.requests
            .iter()
            .skip(skip)
            .map(|(_, r)| r.clone())
            .collect()
    }

    /// The last `limit` accepted events, oldest first.
    pub fn recent(&self, limit: usize) -> Vec<AcceptedEvent> {
        let log = lock(&self.inner.log);
        let skip = log.accepted.len().saturating_sub(limit);
        log.accepted.iter().skip(skip).cloned().collect()
    }

    /// How many events were accepted since start (not bounded by history).
    pub fn accepted_total(&self) -> usize {
        lock(&self.inner.log).accepted_total
    }

    /// Resolves once at least `n` events were accepted since start.
    pub async fn wait_for_accepted(&self, n: usize) {
        loop {
            let notified = self.inner.accepted_changed.notified();
            tokio::pin!(notified);
            // Register interest before checking, so an accept in between is not missed.
            notified.as_mut().enable();
            if self.accepted_total() >= n {
                return;
            }
            notified.await;
        }
    }

    /// A receiver of accepted events; a subscription sees only those numbered after
    /// [`current_seq`](Self::current_seq) when it was made.
    pub(crate) fn fanout_receiver(&self) -> broadcast::Receiver<Arc<Delivery>> {
        self.inner.fanout.subscribe()
    }

    pub(crate) fn current_seq(&self) -> u64 {
        lock(&self.inner.log).seq
    }

    pub(crate) fn shutdown_receiver(&self) -> watch::Receiver<bool> {
        self.inner.shutdown.subscribe()
    }

    pub(crate) fn trigger_shutdown(&self) {
        self.inner.shutdown.send_replace(true);
    }
}

/// Resolves when the server is shutting down.
pub(crate) async fn shutting_down(mut rx: watch::Receiver<bool>) {
    // An error means the sender is gone, which also means shutdown.
    let _ = rx.wait_for(|down| *down).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn channel() -> ChannelPath {
        ChannelPath::concrete("/default/a").unwrap()
    }

    #[test]
    fn rolls_with_the_same_seed_repeat_exactly() {
        let faults = Faults {
            throttle: 0.3,
            server_error: 0.2,
            event_failure: 0.1,
            drop_response: 0.1,
            malformed_response: 0.2,
            latency_ms: 0,
        };
        let config = Config {
            faults,
            seed: 7,
            ..Config::default()
        };
        let a = AppState::new(config.clone());
        let b = AppState::new(config);
        let rolls_a: Vec<Roll> = (0..50).map(|_| a.roll(5)).collect();
        let rolls_b: Vec<Roll> = (0..50).map(|_| b.roll(5)).collect();
        assert_eq!(rolls_a, rolls_b);
        assert!(rolls_a.contains(&Roll::Fail(429)));
        assert!(rolls_a.iter().any(|r| matches!(
            r,
            Roll::Accept {
                malformed: Some(_),
                ..
            }
        )));
    }

    #[test]
    fn dropped_responses_follow_the_configured_rate() {
        let state = AppState::new(Config {
            faults: Faults {
                drop_response: 0.3,
                ..Faults::default()
            },
            ..Config::default()
        });
        let dropped = (0..1000)
            .filter(|_| {
                matches!(
                    state.roll(1),
                    Roll::Accept {
                        drop_response: true,
                        ..
                    }
                )
            })
            .count();
        // ±5 standard deviations around 300.
        assert!((228..=372).contains(&dropped), "dropped: {dropped}");
    }

    #[test]
    fn without_faults_every_roll_accepts_everything() {
        let state = AppState::new(Config::default());
        for _ in 0..100 {
            assert_eq!(
                state.roll(5),
                Roll::Accept {
                    failed: vec![],
                    drop_response: false,
                    malformed: None,
                }
            );
        }
    }

    #[test]
    fn accept_reports_failed_indices_and_logs_only_the_others() {
        let state = AppState::new(Config::default());
        let result = state.accept(
            &channel(),
            Fate::plan(vec!["1".into(), "2".into(), "3".into()], &[1], 503, &[]),
        );
        assert_eq!(
            result
                .successful
                .iter()
                .map(|s| s.index)
                .collect::<Vec<_>>(),
            vec![0, 2]
        );
        assert_eq!(result.failed.len(), 1);
        assert_eq!((result.failed[0].index, result.failed[0].code), (1, 503));
        let accepted = state.accepted();
        assert_eq!(
            accepted
                .iter()
                .map(|e| e.event.as_str())
                .collect::<Vec<_>>(),
            vec!["1", "3"]
        );
        assert_eq!(accepted[0].channel, "/default/a");
        assert_eq!(accepted[0].identifier, result.successful[0].identifier);
    }

    #[test]
    fn unlisted_events_are_in_neither_list_and_not_delivered() {
        let state = AppState::new(Config::default());
        let events = vec!["1".into(), "2".into(), "3".into()];
        let result = state.accept(&channel(), Fate::plan(events, &[2], 500, &[1]));
        let indices: Vec<usize> = result.successful.iter().map(|s| s.index).collect();
        assert_eq!(indices, vec![0]);
        assert_eq!(result.failed.len(), 1);
        assert_eq!(result.failed[0].index, 2);
        let delivered: Vec<String> = state.accepted().into_iter().map(|e| e.event).collect();
        assert_eq!(delivered, vec!["1"]);
    }

    #[test]
    fn malformed_responses_follow_the_configured_rate_and_draw_every_shape() {
        let state = AppState::new(Config {
            faults: Faults {
                malformed_response: 0.5,
                ..Faults::default()
            },
            ..Config::default()
        });
        let shapes: Vec<Malformed> = (0..1000)
            .filter_map(|_| match state.roll(1) {
                Roll::Accept { malformed, .. } => malformed,
                Roll::Fail(_) => None,
            })
            .collect();
        // ±5 standard deviations around 500.
        assert!((420..=580).contains(&shapes.len()), "{}", shapes.len());
        for shape in Malformed::ALL {
            assert!(shapes.contains(&shape), "{shape:?} never drawn");
        }
    }

    #[test]
    fn history_is_bounded_but_the_total_keeps_counting() {
        let state = AppState::new(Config {
            history: 2,
            ..Config::default()
        });
        for i in 0..5 {
            state.accept(&channel(), Fate::plan(vec![i.to_string()], &[], 500, &[]));
        }
        assert_eq!(state.accepted_total(), 5);
        let kept: Vec<String> = state.accepted().into_iter().map(|e| e.event).collect();
        assert_eq!(kept, vec!["3", "4"]);
        assert_eq!(state.recent(1)[0].event, "4");
    }

    #[tokio::test]
    async fn wait_for_accepted_resolves_when_the_count_is_reached() {
        let state = AppState::new(Config::default());
        let waiter = tokio::spawn({
            let state = state.clone();
            async move { state.wait_for_accepted(2).await }
        });
        state.accept(&channel(), vec![Fate::Deliver("1".into())]);
        tokio::task::yield_now().await;
        assert!(!waiter.is_finished());
        state.accept(&channel(), vec![Fate::Deliver("2".into())]);
        tokio::time::timeout(Duration::from_secs(5), waiter)
            .await
            .unwrap()
            .unwrap();
    }

    fn request(channel: &str) -> PublishRequest {
        PublishRequest {
            channel: channel.to_owned(),
            events: vec![],
            status: 200,
            auth: AuthOutcome::Open,
        }
    }

    #[test]
    fn requests_are_listed_in_arrival_order_whatever_order_they_finish_in() {
        let state = AppState::new(Config::default());
        let (first, second, third) = (state.arrival(), state.arrival(), state.arrival());
        state.record_request(second, request("b"));
        state.record_request(third, request("c"));
        state.record_request(first, request("a"));
        let channels: Vec<String> = state.requests().into_iter().map(|r| r.channel).collect();
        assert_eq!(channels, vec!["a", "b", "c"]);
    }

    #[test]
    fn out_of_range_buffer_and_keepalive_settings_are_clamped_instead_of_panicking() {
        let state = AppState::new(Config {
            subscriber_buffer: 0,
            keepalive: Duration::ZERO,
            ..Config::default()
        });
        assert_eq!(state.keepalive(), MIN_KEEPALIVE);
        let huge = AppState::new(Config {
            subscriber_buffer: usize::MAX,
            keepalive: Duration::MAX,
            ..Config::default()
        });
        assert_eq!(huge.keepalive(), MAX_KEEPALIVE);
    }

    #[test]
    fn scripted_outcomes_come_out_in_order() {
        let state = AppState::new(Config::default());
        state.script([Scripted::Status(429), Scripted::Hang]);
        assert_eq!(state.begin_request(), (0, Some(Scripted::Status(429))));
        assert_eq!(state.begin_request(), (1, Some(Scripted::Hang)));
        assert_eq!(state.begin_request(), (2, None));
    }
}
