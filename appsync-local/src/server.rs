//! Wiring: the [`router`], [`serve`] with graceful shutdown, and [`start`], which runs a server
//! on an ephemeral loopback port in-process and hands back a [`Server`] handle for tests.

use std::future::Future;
use std::net::SocketAddr;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use axum::serve::ListenerExt;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::config::{Config, Faults, Scripted};
use crate::state::{AcceptedEvent, AppState, PublishRequest};
use crate::{http, realtime};

/// All routes on one port, as an AppSync custom domain serves them: `POST /event`,
/// `GET /event/realtime`, and the local control endpoints under `/_local/`.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/event", post(http::publish).options(http::preflight))
        .route("/event/realtime", get(realtime::upgrade))
        .route("/_local/events", get(http::recent_events))
        .route("/_local/requests", get(http::recent_requests))
        .route(
            "/_local/faults",
            get(http::get_faults).post(http::set_faults),
        )
        // The publish handler enforces its own limit with an AppSync-shaped 413.
        .layer(DefaultBodyLimit::disable())
        .layer(axum::middleware::map_response(http::allow_any_origin))
        .with_state(state)
}

/// Serves `state` on `listener` until `shutdown` resolves, then closes WebSocket connections,
/// releases hanging requests and waits for in-flight requests to finish.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = router(state.clone());
    // Small JSON answers and WebSocket frames: do not let Nagle hold them back.
    let listener = listener.tap_io(|tcp| {
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!(error = %e, "cannot set TCP_NODELAY");
        }
    });
    axum::serve(listener, app)
        .with_graceful_shutdown(async move {
            shutdown.await;
            state.trigger_shutdown();
        })
        .await
}

/// Starts a server on `127.0.0.1:0` in the current runtime.
pub async fn start(config: Config) -> std::io::Result<Server> {
    let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
    let addr = listener.local_addr()?;
    let state = AppState::new(config);
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(serve(listener, state.clone(), async move {
        // A dropped sender also stops the server.
        let _ = stopped.await;
    }));
    Ok(Server {
        addr,
        state,
        stop,
        task,
    })
}

/// A running in-process server. Dropping it stops the server too, without waiting.
#[derive(Debug)]
pub struct Server {
    addr: SocketAddr,
    state: AppState,
    stop: oneshot::Sender<()>,
    task: JoinHandle<std::io::Result<()>>,
}

impl Server {
    /// The bound address (`127.0.0.1:PORT`).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The HTTP publish endpoint, `http://127.0.0.1:PORT/event`, as `APPSYNC_HTTP_ENDPOINT`.
    pub fn http_endpoint(&self) -> String {
        format!("http://{}/event", self.addr)
    }

    /// The WebSocket endpoint, `ws://127.0.0.1:PORT/event/realtime`.
    pub fn realtime_url(&self) -> String {
        format!("ws://{}/event/realtime", self.addr)
    }

    /// The shared state, for callers that want more than the methods here.
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Replaces the random fault settings.
    pub fn set_faults(&self, faults: Faults) {
        self.state.set_faults(faults);
    }

    /// Appends forced outcomes, consumed one per HTTP publish request before random faults.
    pub fn script(&self, outcomes: impl IntoIterator<Item = Scripted>) {
        self.state.script(outcomes);
    }

    /// Every HTTP publish received, in arrival order.
    pub fn requests(&self) -> Vec<PublishRequest> {
        self.state.requests()
    }

    /// Every event accepted (HTTP and WebSocket), in order.
    pub fn accepted(&self) -> Vec<AcceptedEvent> {
        self.state.accepted()
    }

    /// Resolves once at least `n` events were accepted.
    pub async fn wait_for_accepted(&self, n: usize) {
        self.state.wait_for_accepted(n).await;
    }

    /// Stops accepting connections, closes WebSockets, and waits for the server task.
    pub async fn shutdown(self) {
        let _ = self.stop.send(());
        match self.task.await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::warn!(error = %e, "server ended with an error"),
            Err(e) => tracing::warn!(error = %e, "server task failed"),
        }
    }
}
