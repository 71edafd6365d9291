//! SigV4 verification of incoming requests, implemented from the AWS Signature Version 4
//! specification (not with the signer the bridge uses), checked against AWS's signing test suite.
//!
//! # Layout
//! - [`authorization`]: strict parsing of the `Authorization` header.
//! - [`canonical`]: canonical request, string to sign, signing key.
//! - this file: the checks around them (key, scope, date, skew) and [`verify`].
//!
//! # What is checked
//! Header-based `AWS4-HMAC-SHA256` signatures only; query-string (presigned) signatures are
//! refused with [`SigV4Error::PresignedNotSupported`]. A session token (`x-amz-security-token`)
//! is accepted, signed or not, and is **not** checked against anything: the local server has no
//! STS to ask.

mod authorization;
mod canonical;
#[cfg(test)]
mod suite;
#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use chrono::{DateTime, NaiveDateTime};
use http::HeaderMap;

use authorization::Authorization;
use canonical::{PathMode, Received};

/// The `x-amz-content-sha256` value that opts out of signing the body.
const UNSIGNED_PAYLOAD: &str = "UNSIGNED-PAYLOAD";

/// What a request must be signed for, and with which secrets.
#[derive(Clone)]
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

/// Secrets never reach a log line through `{:?}`: only the access key ids are shown.
impl fmt::Debug for SigV4Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut ids: Vec<&String> = self.credentials.keys().collect();
        ids.sort();
        f.debug_struct("SigV4Config")
            .field("access_key_ids", &ids)
            .field("region", &self.region)
            .field("service", &self.service)
            .field("max_skew", &self.max_skew)
            .finish()
    }
}

/// Why a signature was refused. Messages never contain secrets, signatures or header values
/// (they are attacker-controlled and may end up in logs); a signed header's name is the only
/// request text quoted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SigV4Error {
    /// No `Authorization` header (and no presigned query either).
    #[error("missing authorization header")]
    MissingAuthorization,
    /// The query carries `X-Amz-Signature`/`X-Amz-Algorithm`: presigned URLs are not supported.
    #[error("query-string (presigned) signatures are not supported")]
    PresignedNotSupported,
    /// The `Authorization` header does not follow the SigV4 grammar; the reason is a fixed text.
    #[error("malformed authorization header: {0}")]
    MalformedAuthorization(&'static str),
    /// Anything but `AWS4-HMAC-SHA256` (SigV4A, a bearer token in IAM mode, ...).
    #[error("unsupported signing algorithm")]
    UnsupportedAlgorithm,
    /// The access key id is not among the configured credentials.
    #[error("unknown access key id")]
    UnknownAccessKey,
    /// The credential scope names another region.
    #[error("credential scope region does not match the configured region")]
    WrongRegion,
    /// The credential scope names another service.
    #[error("credential scope service does not match the configured service")]
    WrongService,
    /// Neither `x-amz-date` nor `date` is present.
    #[error("missing x-amz-date or date header")]
    MissingDate,
    /// The request date is not `YYYYMMDD'T'HHMMSS'Z'` (or an RFC 2822 `date`), or appears twice.
    #[error("malformed request date")]
    MalformedDate,
    /// The date header the signature depends on is not among the signed headers.
    #[error("request date header is not signed")]
    DateNotSigned,
    /// The credential scope day differs from the request date's day.
    #[error("credential scope date does not match the request date")]
    ScopeDateMismatch,
    /// The request date is further from the server clock than `max_skew`.
    #[error("request time is outside the allowed clock skew")]
    RequestTimeTooSkewed,
    /// `host` must be signed (it binds the signature to the endpoint).
    #[error("host header is not signed")]
    HostNotSigned,
    /// A header named in `SignedHeaders` is absent from the request.
    #[error("signed header {0} is missing from the request")]
    MissingSignedHeader(String),
    /// A signed `x-amz-content-sha256` disagrees with the body actually received.
    #[error("x-amz-content-sha256 does not match the request body")]
    PayloadHashMismatch,
    /// A signed `x-amz-content-sha256` that is neither a SHA-256 hex digest nor `UNSIGNED-PAYLOAD`
    /// (e.g. the chunked `STREAMING-*` modes).
    #[error("unsupported x-amz-content-sha256 value")]
    UnsupportedPayloadHash,
    /// The recomputed signature differs: wrong secret, or anything signed was changed.
    #[error("signature does not match")]
    SignatureMismatch,
    /// Deriving the HMAC key failed (cannot happen with HMAC-SHA256; kept so nothing panics).
    #[error("could not derive the signing key")]
    SigningKey,
}

/// Verifies a request's SigV4 `Authorization` header. Returns the access key id on success.
///
/// `uri` is the request target as received (origin form `/event?x=y`, or absolute form); its
/// path is taken as already percent-encoded. `now` is injected so tests control the clock.
pub fn verify(
    method: &str,
    uri: &http::Uri,
    headers: &HeaderMap,
    body: &[u8],
    config: &SigV4Config,
    now: SystemTime,
) -> Result<String, SigV4Error> {
    let received = Received {
        method,
        path: uri.path(),
        query: uri.query().unwrap_or(""),
        headers,
        authority: uri.authority().map(http::uri::Authority::as_str),
        body,
    };
    verify_received(&received, config, now)
}

/// [`verify`] on an already split request; the test suite calls it with request targets that
/// `http::Uri` cannot hold (raw UTF-8).
fn verify_received(
    received: &Received<'_>,
    config: &SigV4Config,
    now: SystemTime,
) -> Result<String, SigV4Error> {
    let mut values = received.headers.get_all(http::header::AUTHORIZATION).iter();
    let (Some(value), None) = (values.next(), values.next()) else {
        if received.headers.contains_key(http::header::AUTHORIZATION) {
            return Err(SigV4Error::MalformedAuthorization("more than one header"));
        }
        if is_presigned(received.query) {
            return Err(SigV4Error::PresignedNotSupported);
        }
        return Err(SigV4Error::MissingAuthorization);
    };
    let auth = authorization::parse(value.as_bytes())?;

    let secret = config
        .credentials
        .get(auth.access_key_id)
        .ok_or(SigV4Error::UnknownAccessKey)?;
    if auth.region != config.region {
        return Err(SigV4Error::WrongRegion);
    }
    if auth.service != config.service {
        return Err(SigV4Error::WrongService);
    }

    let (amz_date, signed_at) = request_date(received.headers, &auth)?;
    if amz_date.get(..8) != Some(auth.date) {
        return Err(SigV4Error::ScopeDateMismatch);
    }
    let skew = now
        .duration_since(signed_at)
        .unwrap_or_else(|early| early.duration());
    if skew > config.max_skew {
        return Err(SigV4Error::RequestTimeTooSkewed);
    }
    if !auth.signs("host") {
        return Err(SigV4Error::HostNotSigned);
    }

    let payload_hash = payload_hash(received, &auth)?;
    let creq = canonical::canonical_request(received, &auth, &payload_hash, PathMode::Normalize)?;
    let sts = canonical::string_to_sign(&amz_date, &auth.scope(), &creq);
    let mac = canonical::signature_mac(secret, &auth, &sts)?;
    // `verify_slice` compares in constant time.
    hmac::Mac::verify_slice(mac, &auth.signature).map_err(|_| SigV4Error::SignatureMismatch)?;
    Ok(auth.access_key_id.to_owned())
}

/// Presigned requests carry the signature in the query (`X-Amz-Signature`, `X-Amz-Algorithm`).
fn is_presigned(query: &str) -> bool {
    query.split('&').any(|pair| {
        let name = pair.split_once('=').map_or(pair, |(name, _)| name);
        name == "X-Amz-Signature" || name == "X-Amz-Algorithm"
    })
}

/// The signing time: `x-amz-date` (`YYYYMMDD'T'HHMMSS'Z'`), else `date` in that form or RFC 2822.
/// Returns it in the basic ISO 8601 form the string to sign uses, and as a `SystemTime`.
/// Whichever header is used must be signed, or the date could be replayed with a new value.
fn request_date(
    headers: &HeaderMap,
    auth: &Authorization<'_>,
) -> Result<(String, SystemTime), SigV4Error> {
    let (name, rfc2822_allowed) = if headers.contains_key("x-amz-date") {
        ("x-amz-date", false)
    } else if headers.contains_key(http::header::DATE) {
        ("date", true)
    } else {
        return Err(SigV4Error::MissingDate);
    };
    let mut values = headers.get_all(name).iter();
    let (Some(value), None) = (values.next(), values.next()) else {
        return Err(SigV4Error::MalformedDate);
    };
    let text = value.to_str().map_err(|_| SigV4Error::MalformedDate)?;
    let timestamp = match parse_basic_iso8601(text) {
        Some(timestamp) => timestamp,
        None if rfc2822_allowed => DateTime::parse_from_rfc2822(text)
            .map_err(|_| SigV4Error::MalformedDate)?
            .timestamp(),
        None => return Err(SigV4Error::MalformedDate),
    };
    if !auth.signs(name) {
        return Err(SigV4Error::DateNotSigned);
    }
    let seconds = u64::try_from(timestamp).map_err(|_| SigV4Error::MalformedDate)?;
    let signed_at = UNIX_EPOCH
        .checked_add(Duration::from_secs(seconds))
        .ok_or(SigV4Error::MalformedDate)?;
    let basic = DateTime::from_timestamp(timestamp, 0)
        .ok_or(SigV4Error::MalformedDate)?
        .format("%Y%m%dT%H%M%SZ")
        .to_string();
    Ok((basic, signed_at))
}

/// Strict `YYYYMMDD'T'HHMMSS'Z'` (chrono alone would accept signs and short fields).
fn parse_basic_iso8601(text: &str) -> Option<i64> {
    let bytes = text.as_bytes();
    let shape_ok = bytes.len() == 16
        && bytes[8] == b'T'
        && bytes[15] == b'Z'
        && bytes[..8]
            .iter()
            .chain(&bytes[9..15])
            .all(u8::is_ascii_digit);
    if !shape_ok {
        return None;
    }
    NaiveDateTime::parse_from_str(text, "%Y%m%dT%H%M%SZ")
        .ok()
        .map(|t| t.and_utc().timestamp())
}

/// The payload line of the canonical request. Without a signed `x-amz-content-sha256` it is the
/// SHA-256 of the body received (what `aws-sigv4`'s default settings sign). With one, its value
/// is used — after checking that a digest matches the body; `UNSIGNED-PAYLOAD` is accepted and
/// then the body is not covered by the signature.
fn payload_hash(received: &Received<'_>, auth: &Authorization<'_>) -> Result<String, SigV4Error> {
    let body_hash = canonical::sha256_hex(received.body);
    if !auth.signs("x-amz-content-sha256") {
        return Ok(body_hash);
    }
    let mut values = received.headers.get_all("x-amz-content-sha256").iter();
    let value = match (values.next(), values.next()) {
        (Some(value), None) => value.as_bytes(),
        (None, _) => {
            return Err(SigV4Error::MissingSignedHeader(
                "x-amz-content-sha256".to_owned(),
            ));
        }
        (Some(_), Some(_)) => return Err(SigV4Error::UnsupportedPayloadHash),
    };
    if value == UNSIGNED_PAYLOAD.as_bytes() {
        return Ok(UNSIGNED_PAYLOAD.to_owned());
    }
    let is_digest = value.len() == 64 && value.iter().all(u8::is_ascii_hexdigit);
    if !is_digest {
        return Err(SigV4Error::UnsupportedPayloadHash);
    }
    if !value.eq_ignore_ascii_case(body_hash.as_bytes()) {
        return Err(SigV4Error::PayloadHashMismatch);
    }
    // The header value (as sent, in whatever case) is what the client signed.
    String::from_utf8(value.to_vec()).map_err(|_| SigV4Error::UnsupportedPayloadHash)
}
