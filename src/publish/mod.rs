//! Publishing to AppSync Events: the [`Publisher`] boundary and the pure steps around it.
//!
//! # Layout
//!
//! - [`batch`]: events → per-channel chunks of at most five, oversized events rejected.
//! - [`build`]: a chunk → the request body (`{"channel":..,"events":["<json text>",..]}`).
//! - [`sign`]: SigV4 signing and the header of the API key and token modes.
//! - [`credentials`]: IAM credentials from the default chain, kept until shortly before expiry.
//! - [`send`]: the real [`HttpPublisher`](send::HttpPublisher) (reqwest, one pooled client).
//! - [`classify`]: a response or transport error → one outcome per event.
//! - [`error`]: [`EventError`], why one event was not accepted, and whether a retry can help.
//! - [`retry`]: what to retry (classification) apart from when (backoff).
//!
//! Only `sign`, `credentials` and `send` touch the clock, credentials or the network.

pub mod batch;
pub mod build;
pub mod classify;
pub mod credentials;
pub mod error;
pub mod retry;
pub mod send;
pub mod sign;

#[cfg(test)]
pub(crate) mod fake;

use std::future::Future;
use std::sync::Arc;

pub use error::{EventError, Malformed, NotRetried, NotSent};

/// Where an outgoing event came from, so every failure maps back to its record and rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// The record's position in the invocation.
    pub record: usize,
    /// The rule that produced the event.
    pub rule: Arc<str>,
}

/// One event ready to publish: its channel, its JSON text and its origin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingEvent {
    /// The record and rule it came from.
    pub origin: Origin,
    /// The rendered channel, `/namespace/...`.
    pub channel: String,
    /// The payload's JSON text; AppSync wants each event as a string holding JSON.
    pub json: String,
}

/// How AppSync took an event it did not fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Accepted {
    /// Listed in `successful[]`.
    Listed,
    /// In neither list of a well-formed answer (a namespace handler that drops events may answer
    /// so): counted accepted, and reported.
    Unlisted,
}

/// The raw answer to one publish request; [`classify`] reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawResponse {
    /// The HTTP status.
    pub status: u16,
    /// The response body (JSON when AppSync answered).
    pub body: Vec<u8>,
}

/// Why a request got no HTTP response.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// The request did not complete within its timeout.
    #[error("request timed out")]
    Timeout,
    /// Connection, TLS or protocol failure.
    #[error("transport error: {0}")]
    Transport(String),
    /// The credential chain gave no credentials (for example an expired role session).
    #[error("no aws credentials: {0}")]
    Credentials(String),
    /// The request could not be signed (a bug or an unusable endpoint; never worth a retry).
    #[error("request could not be signed: {0}")]
    Signing(String),
}

impl SendError {
    /// Transport errors, timeouts and credential look-ups can succeed later; signing cannot.
    pub fn is_retryable(&self) -> bool {
        !matches!(self, SendError::Signing(_))
    }
}

/// The network boundary: send one publish request for `channel` with `events` (JSON texts, at
/// most five) and return the raw response. [`send::HttpPublisher`] is the real one; tests use
/// an in-memory fake.
///
/// The relay bounds every call with the request timeout (credential look-up, connect, send and
/// body read together), so an implementation need not time itself out.
pub trait Publisher: Sync {
    /// Sends one request.
    fn publish(
        &self,
        channel: &str,
        events: &[&str],
    ) -> impl Future<Output = Result<RawResponse, SendError>> + Send;
}
