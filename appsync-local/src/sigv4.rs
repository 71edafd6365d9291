//! SigV4 verification of incoming requests, implemented from the AWS Signature Version 4
//! specification (not with the signer the bridge uses), checked against AWS's signing test suite.
//!
//! PLACEHOLDER API: issue 3 (item 3) implements it.

use std::collections::HashMap;
use std::time::{Duration, SystemTime};

/// What a request must be signed for, and with which secrets.
#[derive(Debug, Clone)]
pub struct SigV4Config {
    /// Access key id → secret access key.
    pub credentials: HashMap<String, String>,
    /// The expected signing region (e.g. `us-east-1`).
    pub region: String,
    /// The expected signing service (`appsync`).
    pub service: String,
    /// The largest accepted difference between `x-amz-date` and now (AWS uses 5 minutes).
    pub max_skew: Duration,
}

/// Why a signature was refused. Messages never contain secrets or signatures.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SigV4Error {
    /// Placeholder until implemented.
    #[error("sigv4 verification is not implemented")]
    Unimplemented,
}

/// Verifies a request's SigV4 `Authorization` header. Returns the access key id on success.
pub fn verify(
    _method: &str,
    _uri: &http::Uri,
    _headers: &http::HeaderMap,
    _body: &[u8],
    _config: &SigV4Config,
    _now: SystemTime,
) -> Result<String, SigV4Error> {
    Err(SigV4Error::Unimplemented)
}
