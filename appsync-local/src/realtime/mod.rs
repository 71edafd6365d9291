//! `GET /event/realtime`: AppSync Events' WebSocket protocol — connection auth through the
//! `header-<base64url>` subprotocol (or plain upgrade headers), `connection_init` / `ka`,
//! `subscribe` / `unsubscribe` with trailing-`*` wildcards, `data`, and `publish`.
//!
//! Slow subscribers: every connection reads accepted events from a bounded broadcast buffer
//! ([`crate::Config::subscriber_buffer`]). Publishers never wait for subscribers; a connection
//! that falls further behind than the buffer is closed with code 1008 and a reason saying how
//! many events it missed, so its client knows to reconnect and resynchronise.

mod operations;

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use axum::extract::State;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::http::{HeaderMap, Uri};
use axum::response::Response;
use base64::Engine;
use futures_util::SinkExt;
use serde_json::{Map, Value, json};
use tokio::sync::broadcast::error::RecvError;
use tracing::{info, warn};

use crate::auth::{AuthOutcome, headers_from_object, host_names_server};
use crate::channel::ChannelPath;
use crate::publish::ApiError;
use crate::state::{self, AppState, Delivery};
use operations::error_message;

/// The subprotocol AppSync Events clients request; the server selects it in the 101 answer
/// (UNVERIFIED on AWS, but the only sensible choice for browser clients).
pub const SUBPROTOCOL: &str = "aws-appsync-event-ws";

/// `connectionTimeoutMs` in `connection_ack`: AppSync documents five minutes.
pub const CONNECTION_TIMEOUT_MS: u64 = 300_000;

/// Close code sent to a connection that fell too far behind (policy violation).
pub const SLOW_SUBSCRIBER_CLOSE_CODE: u16 = 1008;

/// How long one write to a client may block before the connection is given up.
const WRITE_TIMEOUT: Duration = Duration::from_secs(30);

/// How long a refused connection waits for the client's `connection_init` before it sends its
/// `connection_error` anyway.
pub const REFUSAL_WAIT: Duration = Duration::from_secs(1);

/// `GET /event/realtime`.
pub async fn upgrade(
    State(state): State<AppState>,
    headers: HeaderMap,
    extensions: http::Extensions,
    ws: WebSocketUpgrade,
) -> Response {
    let peer = crate::http::peer_ip(&extensions);
    let connect_headers = connect_headers(&headers);
    // IAM connect signs `POST /event` with body `{}` (protocol notes §4.1).
    let mut auth = state.auth().check(
        "POST",
        &Uri::from_static("/event"),
        &connect_headers,
        b"{}",
        SystemTime::now(),
    );
    if state.auth().required() && auth.is_allowed() {
        let server_host = headers
            .get(http::header::HOST)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        let claimed = connect_headers
            .get(http::header::HOST)
            .and_then(|v| v.to_str().ok());
        auth = match claimed {
            None => AuthOutcome::denied("the authorization has no host"),
            Some(claimed) if !host_names_server(claimed, server_host) => {
                AuthOutcome::denied("the authorization's host does not name this server")
            }
            Some(_) => auth,
        };
    }
    ws.protocols([SUBPROTOCOL])
        .on_upgrade(move |socket| Connection::new(state, auth, headers, peer).run(socket))
}

/// The auth headers of a connection: the decoded `header-<base64url JSON>` subprotocol if the
/// client sent one (browsers), else the upgrade request's own headers (native SDKs).
fn connect_headers(headers: &HeaderMap) -> HeaderMap {
    let encoded = headers
        .get_all(http::header::SEC_WEBSOCKET_PROTOCOL)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .find_map(|p| p.strip_prefix("header-"));
    let Some(encoded) = encoded else {
        return headers.clone();
    };
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(encoded.trim_end_matches('='))
        .ok()
        .and_then(|bytes| serde_json::from_slice::<Map<String, Value>>(&bytes).ok())
        .map(|object| headers_from_object(&object))
        .unwrap_or_default()
}

struct Subscription {
    id: String,
    pattern: ChannelPath,
    /// Events with a sequence number up to this one were accepted before the subscription.
    since: u64,
}

struct Connection {
    state: AppState,
    id: u64,
    auth: AuthOutcome,
    /// The upgrade request's headers: what handlers see as `ctx.request.headers`.
    headers: HeaderMap,
    /// The connection's remote address: `ctx.identity.sourceIp`.
    peer: Option<std::net::IpAddr>,
    subscriptions: Vec<Subscription>,
}

/// Why a connection loop ends early.
struct Stop;

impl Connection {
    fn new(
        state: AppState,
        auth: AuthOutcome,
        headers: HeaderMap,
        peer: Option<std::net::IpAddr>,
    ) -> Self {
        let id = state.next_connection_id();
        Self {
            state,
            id,
            auth,
            headers,
            peer,
            subscriptions: Vec::new(),
        }
    }

    async fn run(mut self, mut socket: WebSocket) {
        if let AuthOutcome::Denied { reason } = &self.auth {
            warn!(connection = self.id, reason = %reason, "websocket connection refused");
            self.refuse(&mut socket).await;
            return;
        }
        info!(
            connection = self.id,
            auth = %self.auth.mode(),
            "websocket connected"
        );
        let _ = self.serve(&mut socket).await;
        info!(
            connection = self.id,
            subscriptions = self.subscriptions.len(),
            "websocket closed"
        );
    }

    /// Answers a refused connection's `connection_init` with `connection_error`, then closes.
    ///
    /// Every official client sends `connection_init` first and reads the answer from then on;
    /// an error sent before it can reach a client that is not listening yet (Node's `ws` under
    /// Amplify JS then sees only a close, retries, and reports `{}`). A client that sends
    /// nothing gets the error after [`REFUSAL_WAIT`]. UNVERIFIED: AWS's exact behaviour for a
    /// refused connection; `errorCode` is what Amplify JS reads to stop retrying.
    async fn refuse(&self, socket: &mut WebSocket) {
        let first = tokio::time::timeout(REFUSAL_WAIT, socket.recv()).await;
        if let Ok(None | Some(Err(_)) | Some(Ok(Message::Close(_)))) = first {
            return;
        }
        let error = json!({
            "type": "connection_error",
            "errors": [ApiError::unauthorized().entry_with_code()],
        });
        if self.send(socket, error).await.is_ok() {
            let _ = self.close(socket, 1000, "unauthorized").await;
        }
    }

    async fn serve(&mut self, socket: &mut WebSocket) -> Result<(), Stop> {
        let mut deliveries = self.state.fanout_receiver();
        let keepalive = self.state.keepalive();
        let mut ka = tokio::time::interval_at(tokio::time::Instant::now() + keepalive, keepalive);
        ka.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let shutdown = state::shutting_down(self.state.shutdown_receiver());
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                () = &mut shutdown => {
                    return self.close(socket, 1001, "server shutting down").await;
                }
                message = socket.recv() => match message {
                    None | Some(Err(_)) => return Ok(()),
                    // The WebSocket layer queues the close reply but only sends it on the next
                    // write: flush it, or the client sees 1006 (no close frame) instead of a
                    // clean close.
                    Some(Ok(Message::Close(_))) => return self.finish_close(socket).await,
                    Some(Ok(Message::Text(text))) => {
                        let reply = self.handle(text.as_str()).await;
                        self.send(socket, reply).await?;
                    }
                    Some(Ok(Message::Binary(_))) => {
                        let error = error_message(None, &ApiError::bad_request("Binary messages are not supported"));
                        self.send(socket, error).await?;
                    }
                    // Pings are answered by the WebSocket layer.
                    Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
                },
                delivery = deliveries.recv() => match delivery {
                    Ok(delivery) => self.deliver(socket, &delivery).await?,
                    Err(RecvError::Lagged(missed)) => {
                        warn!(connection = self.id, missed, "slow subscriber closed");
                        let reason = format!("subscriber too slow: {missed} events dropped");
                        return self.close(socket, SLOW_SUBSCRIBER_CLOSE_CODE, &reason).await;
                    }
                    Err(RecvError::Closed) => return Ok(()),
                },
                _ = ka.tick() => self.send(socket, json!({"type": "ka"})).await?,
            }
        }
    }

    async fn deliver(&self, socket: &mut WebSocket, delivery: &Arc<Delivery>) -> Result<(), Stop> {
        for sub in &self.subscriptions {
            if delivery.seq > sub.since && sub.pattern.matches(&delivery.channel) {
                // `event` is the event's JSON text as a string, one message per event: what every
                // official client parses (the doc example's array form is not what they read).
                let data = json!({"type": "data", "id": sub.id, "event": delivery.event});
                self.send(socket, data).await?;
            }
        }
        Ok(())
    }

    async fn send(&self, socket: &mut WebSocket, message: Value) -> Result<(), Stop> {
        let message = Message::text(message.to_string());
        tokio::select! {
            sent = socket.send(message) => sent.map_err(|_| Stop),
            () = state::shutting_down(self.state.shutdown_receiver()) => Err(Stop),
            () = tokio::time::sleep(WRITE_TIMEOUT) => Err(Stop),
        }
    }

    async fn close(&self, socket: &mut WebSocket, code: u16, reason: &str) -> Result<(), Stop> {
        let frame = CloseFrame {
            code,
            reason: reason.into(),
        };
        match tokio::time::timeout(WRITE_TIMEOUT, socket.send(Message::Close(Some(frame)))).await {
            Ok(Ok(())) => Ok(()),
            _ => Err(Stop),
        }
    }

    /// Sends the queued reply to the client's close frame and waits for the connection to end.
    async fn finish_close(&self, socket: &mut WebSocket) -> Result<(), Stop> {
        match tokio::time::timeout(WRITE_TIMEOUT, SinkExt::flush(socket)).await {
            Ok(Ok(())) => Ok(()),
            _ => Err(Stop),
        }
    }
}

#[cfg(test)]
mod tests;
