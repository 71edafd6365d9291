//! The server's shared state: configuration, fault settings and their seeded RNG, the scripted
//! outcome queue, the log of publish requests and accepted events, and the fan-out of accepted
//! events to WebSocket connections.
//! The fault settings, the scripted outcomes and each request's draw are in `faults.rs`.
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
use crate::config::Config;
use crate::handler::Handlers;
pub(crate) use crate::publish::Fate;
use crate::publish::{Failed, PublishResult, Successful};
use faults::FaultState;
pub(crate) use faults::Roll;

/// Largest accepted [`Config::subscriber_buffer`]; larger values are lowered to it.
pub const MAX_SUBSCRIBER_BUFFER: usize = 1 << 20;

/// Bounds applied to [`Config::keepalive`].
pub const MIN_KEEPALIVE: Duration = Duration::from_millis(1);
/// Upper bound applied to [`Config::keepalive`].
pub const MAX_KEEPALIVE: Duration = Duration::from_secs(24 * 60 * 60);

pub use crate::publish::EVENT_FAILURE_CODE;

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

struct Log {
    /// Requests with their arrival number, kept sorted by it.
    requests: VecDeque<(u64, PublishRequest)>,
    accepted: VecDeque<AcceptedEvent>,
    accepted_total: usize,
    seq: u64,
}

struct Shared {
    namespaces: Vec<String>,
    /// Whether the server is configured to serve HTTPS and WSS.
    tls: bool,
    handlers: Handlers,
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
        let mut namespaces = config.namespaces.clone();
        for namespace in config.handlers.keys() {
            if !namespaces.contains(namespace) {
                namespaces.push(namespace.clone());
            }
        }
        Self {
            inner: Arc::new(Shared {
                namespaces,
                tls: config.tls.is_some(),
                handlers: Handlers::new(config.handlers.clone(), config.handler_timeout),
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

    /// The namespaces served: the configured ones, then those only a handler names.
    pub fn namespaces(&self) -> &[String] {
        &self.inner.namespaces
    }

    /// Whether the server is configured for HTTPS and WSS (`Config::tls`).
    pub(crate) fn tls(&self) -> bool {
        self.inner.tls
    }

    pub(crate) fn handlers(&self) -> &Handlers {
        &self.inner.handlers
    }

    /// Loads every handler file once, so a missing file or a syntax error is found at start.
    pub async fn check_handlers(&self) -> Result<(), crate::HandlerError> {
        self.inner.handlers.check().await
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

    /// Carries out each event's [`Fate`]: delivered events are numbered, logged and fanned out
    /// to subscribers; failed ones get `failed[]` entries; unlisted ones leave no trace.
    pub(crate) fn accept(
        &self,
        channel: &ChannelPath,
        fates: Vec<(String, Fate)>,
    ) -> PublishResult {
        let mut result = PublishResult::default();
        let channel_text = channel.to_string();
        {
            let mut log = lock(&self.inner.log);
            for (index, (identifier, fate)) in fates.into_iter().enumerate() {
                let event = match fate {
                    Fate::Deliver(event) => event,
                    Fate::Fail { code, message } => {
                        result
                            .failed
                            .push(Failed::new(identifier, index, code, &message));
                        continue;
                    }
                    Fate::Unlisted => continue,
                };
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

mod faults;
#[cfg(test)]
mod tests;
