//! Integration tests: a real `appsync-local` server on port 0, driven over HTTP (`reqwest`) and
//! WebSocket (`tokio-tungstenite`).

mod auth;
mod cli;
mod faults;
mod handlers;
mod helpers;
mod http;
mod realtime;
mod tls;
