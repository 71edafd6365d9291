//! Wiring: the [`router`], [`serve`] and [`serve_tls`] with graceful shutdown, and [`start`],
//! which runs a server on an ephemeral loopback port in-process (with TLS when configured) and
//! hands back a [`Server`] handle for tests.

use std::future::Future;
use std::net::SocketAddr;
use std::path::Path;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::extract::connect_info::Connected;
use axum::routing::{get, post};
use axum::serve::{IncomingStream, ListenerExt};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::config::{Config, Faults, Scripted};
use crate::handler::HandlerError;
use crate::state::{AcceptedEvent, AppState, PublishRequest};
use crate::tls::{Tls, TlsError};
use crate::{home, http, realtime};

/// All routes on one port, as an AppSync custom domain serves them: `POST /event`,
/// `GET /event/realtime`, the local control endpoints under `/_local/`, and `GET /`, a page
/// saying what the server is.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/", get(home::page))
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
        .layer(axum::middleware::map_response(http::cors_and_request_id))
        .with_state(state)
}

/// Serves `state` on `listener` until `shutdown` resolves, then closes WebSocket connections,
/// releases hanging requests and waits for in-flight requests to finish.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    // Small JSON answers and WebSocket frames: do not let Nagle hold them back.
    let listener = listener.tap_io(|tcp| {
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!(error = %e, "cannot set TCP_NODELAY");
        }
    });
    serve_on(listener, state, shutdown).await
}

/// [`serve`] over TLS: HTTPS and WSS on the same port.
pub async fn serve_tls(
    listener: TcpListener,
    tls: &Tls,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    // Tapped (doing nothing) so that axum gives requests the peer's `SocketAddr`, as for plain TCP.
    serve_on(tls.listener(listener)?.tap_io(|_| {}), state, shutdown).await
}

async fn serve_on<L>(
    listener: L,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()>
where
    L: axum::serve::Listener<Addr = SocketAddr>,
    SocketAddr: for<'a> Connected<IncomingStream<'a, L>>,
{
    // With the peer's address, so handlers see `ctx.identity.sourceIp`.
    let app = router(state.clone()).into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, app)
        .with_graceful_shutdown(async move {
            shutdown.await;
            state.trigger_shutdown();
        })
        .await
}

/// Why [`start`] could not start a server.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The loopback port could not be bound.
    #[error("cannot listen: {0}")]
    Listen(#[from] std::io::Error),
    /// The TLS certificate could not be generated or read.
    #[error(transparent)]
    Tls(#[from] TlsError),
    /// A handler file is missing or does not load.
    #[error(transparent)]
    Handler(#[from] HandlerError),
}

/// Starts a server on `127.0.0.1:0` in the current runtime, with TLS when [`Config::tls`] says so.
pub async fn start(config: Config) -> Result<Server, StartError> {
    let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
    let addr = listener.local_addr()?;
    let tls = match &config.tls {
        Some(tls) => Some(Tls::load(tls, addr.port())?),
        None => None,
    };
    let state = AppState::new(config);
    state.check_handlers().await?;
    let (stop, stopped) = oneshot::channel::<()>();
    // A dropped sender also stops the server.
    let shutdown = async move {
        let _ = stopped.await;
    };
    let task = match &tls {
        Some(tls) => {
            // Tapped (doing nothing), as in `serve_tls`, for the peer's address.
            let listener = tls.listener(listener)?.tap_io(|_| {});
            tokio::spawn(serve_on(listener, state.clone(), shutdown))
        }
        None => tokio::spawn(serve(listener, state.clone(), shutdown)),
    };
    Ok(Server {
        addr,
        tls,
        state,
        stop,
        task,
    })
}

/// A running in-process server. Dropping it stops the server too, without waiting.
#[derive(Debug)]
pub struct Server {
    addr: SocketAddr,
    tls: Option<Tls>,
    state: AppState,
    stop: oneshot::Sender<()>,
    task: JoinHandle<std::io::Result<()>>,
}

impl Server {
    /// The bound address (`127.0.0.1:PORT`).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The HTTP publish endpoint, `http://127.0.0.1:PORT/event` (`https://localhost:PORT/event`
    /// with TLS, the name the certificate is for), as `APPSYNC_HTTP_ENDPOINT`.
    pub fn http_endpoint(&self) -> String {
        format!("{}/event", self.base_url())
    }

    /// The WebSocket endpoint, `ws://127.0.0.1:PORT/event/realtime` (`wss://localhost:…` with TLS).
    pub fn realtime_url(&self) -> String {
        let base = self.base_url();
        let base = base
            .strip_prefix("http")
            .map(|rest| format!("ws{rest}"))
            .unwrap_or(base);
        format!("{base}/event/realtime")
    }

    /// `http://127.0.0.1:PORT`, or `https://localhost:PORT` with TLS.
    pub fn base_url(&self) -> String {
        match &self.tls {
            Some(_) => format!("https://localhost:{}", self.addr.port()),
            None => format!("http://{}", self.addr),
        }
    }

    /// The certificate's PEM when serving TLS, for a client to trust.
    pub fn tls_cert_pem(&self) -> Option<&str> {
        self.tls.as_ref().map(Tls::cert_pem)
    }

    /// Where the certificate's PEM file is when serving TLS.
    pub fn tls_cert_path(&self) -> Option<&Path> {
        self.tls.as_ref().map(Tls::cert_path)
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
