//! appsync-local: a local AWS AppSync Events server — HTTP publish and the WebSocket real-time
//! protocol on one port — for tests, demos and front-end development without an AWS account.
//!
//! # Layout
//!
//! - [`config`]: what a server is configured with, including [`Faults`] and [`Scripted`].
//! - [`channel`]: AppSync's channel rules and trailing-`*` wildcards.
//! - [`auth`]: API key, SigV4 (through [`sigv4`]) and token authentication.
//! - [`publish`]: the publish contract shared by HTTP and WebSocket, and AppSync's shapes.
//! - [`state`]: faults and their seeded RNG, the request and event logs, the fan-out.
//! - [`http`]: `POST /event` and the `/_local/` control endpoints.
//! - `home`: `GET /`, a short page: what the server is, its endpoints, namespaces and auth.
//! - `latency`: the precise wait behind `latency_ms` and scripted delays.
//! - `malformed`: the garbled 200 bodies of [`Malformed`] faults.
//! - `handler`: namespace handlers (`onPublish`/`onSubscribe`) in an embedded JavaScript engine.
//! - [`realtime`]: `GET /event/realtime`, the WebSocket protocol.
//! - [`rules_namespaces`]: `--namespaces-from`: the namespaces an appsync-bridge rules document
//!   publishes to, read without the bridge crate.
//! - [`tls`]: `--tls`: a generated or given certificate, handshakes off the accept loop.
//! - [`server`]: [`router`], [`serve`], [`serve_tls`], [`start`] and the [`Server`] handle.
//!
//! ```no_run
//! # async fn demo() -> Result<(), appsync_local::StartError> {
//! let server = appsync_local::start(appsync_local::Config::default()).await?;
//! println!("publish to {}", server.http_endpoint());
//! server.wait_for_accepted(1).await;
//! server.shutdown().await;
//! # Ok(()) }
//! ```

pub mod auth;
pub mod channel;
pub mod config;
pub(crate) mod handler;
mod home;
pub mod http;
mod latency;
mod malformed;
pub mod publish;
pub mod realtime;
pub mod rules_namespaces;
pub mod server;
pub mod sigv4;
pub mod state;
pub mod tls;

pub use auth::AuthOutcome;
pub use config::{Config, Faults, Malformed, Scripted, TlsConfig};
pub use handler::{DEFAULT_HANDLER_TIMEOUT, HandlerError};
pub use server::{Server, StartError, router, serve, serve_tls, start};
pub use state::{AcceptedEvent, AppState, PublishRequest};
pub use tls::{Tls, TlsError};
