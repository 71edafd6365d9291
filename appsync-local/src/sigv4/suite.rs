//! AWS's SigV4 signing test suite (header-signed cases), copied into `tests/sigv4-suite/v4`.
//! For every case: the canonical request, string to sign and signature rebuilt from the signed
//! request must equal the suite's, and the signed request must pass [`verify_received`] at the
//! suite's time with its credentials, region and service.
//!
//! Not run through `verify`: the `normalize: false` cases (S3-style paths; AppSync normalises),
//! whose intermediate values are still asserted. `double-encode-path` ships no context and a
//! canonical request whose date differs from its signed request: only its canonical request is
//! asserted, with that date. Query-signed (presigned) files are not used: not supported.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::DateTime;
use http::{HeaderMap, HeaderName, HeaderValue};

use super::authorization;
use super::canonical::{self, PathMode, Received};
use super::{SigV4Config, payload_hash, request_date, verify, verify_received};

const SUITE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/sigv4-suite/v4");

/// The suite's default secret for `AKIDEXAMPLE` (used by `double-url-encode`, which has no context).
const EXAMPLE_SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

struct SignedRequest {
    method: String,
    target: String,
    headers: HeaderMap,
    body: Vec<u8>,
}

impl SignedRequest {
    fn received(&self) -> Received<'_> {
        let (path, query) = self.target.split_once('?').unwrap_or((&self.target, ""));
        Received {
            method: &self.method,
            path,
            query,
            headers: &self.headers,
            authority: None,
            body: &self.body,
        }
    }
}

/// Parses `header-signed-request.txt`. Folded header lines (obs-fold, a line starting with
/// whitespace) are unfolded into one space, as RFC 9112 §5.2 lets a recipient do — hyper itself
/// refuses them, so this is what a fronting proxy would hand over.
fn parse_request(text: &str) -> SignedRequest {
    let (head, body) = match text.split_once("\n\n") {
        Some((head, body)) => (head, body),
        None => (text.trim_end_matches('\n'), ""),
    };
    let mut lines = head.split('\n');
    let request_line = lines.next().unwrap();
    let request_line = request_line
        .strip_suffix(" HTTP/1.1")
        .unwrap_or(request_line);
    let (method, target) = request_line.split_once(' ').unwrap();

    let mut fields: Vec<(String, String)> = Vec::new();
    for line in lines {
        if line.starts_with([' ', '\t']) {
            let last = fields.last_mut().unwrap();
            last.1.push(' ');
            last.1.push_str(line);
        } else {
            let (name, value) = line.split_once(':').unwrap();
            fields.push((name.to_owned(), value.to_owned()));
        }
    }
    let mut headers = HeaderMap::new();
    for (name, value) in fields {
        headers.append(
            HeaderName::from_bytes(name.as_bytes()).unwrap(),
            // hyper strips optional whitespace around a field value.
            HeaderValue::from_str(value.trim_matches([' ', '\t'])).unwrap(),
        );
    }
    SignedRequest {
        method: method.to_owned(),
        target: target.to_owned(),
        headers,
        body: body.as_bytes().to_vec(),
    }
}

fn read(case: &Path, file: &str) -> Option<String> {
    std::fs::read_to_string(case.join(file)).ok()
}

fn cases() -> Vec<PathBuf> {
    let mut cases: Vec<PathBuf> = std::fs::read_dir(SUITE)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .collect();
    cases.sort();
    cases
}

struct Context {
    access_key_id: String,
    secret: String,
    region: String,
    service: String,
    now: std::time::SystemTime,
    normalize: bool,
}

fn context(case: &Path) -> Option<Context> {
    let json: serde_json::Value = serde_json::from_str(&read(case, "context.json")?).unwrap();
    let timestamp = DateTime::parse_from_rfc3339(json["timestamp"].as_str().unwrap()).unwrap();
    Some(Context {
        access_key_id: json["credentials"]["access_key_id"]
            .as_str()
            .unwrap()
            .to_owned(),
        secret: json["credentials"]["secret_access_key"]
            .as_str()
            .unwrap()
            .to_owned(),
        region: json["region"].as_str().unwrap().to_owned(),
        service: json["service"].as_str().unwrap().to_owned(),
        now: timestamp.into(),
        normalize: json["normalize"].as_bool().unwrap(),
    })
}

fn config(ctx: &Context) -> SigV4Config {
    SigV4Config {
        credentials: HashMap::from([(ctx.access_key_id.clone(), ctx.secret.clone())]),
        region: ctx.region.clone(),
        service: ctx.service.clone(),
        max_skew: Duration::from_secs(300),
    }
}

/// Rebuilds canonical request, string to sign and signature, asserting each against the files.
fn assert_intermediates(case: &Path, request: &SignedRequest, secret: &str, mode: PathMode) {
    let name = case.file_name().unwrap().to_string_lossy();
    let received = request.received();
    let auth_value = request.headers.get("authorization").unwrap();
    let auth = authorization::parse(auth_value.as_bytes()).unwrap();
    let hash = payload_hash(&received, &auth).unwrap();
    let creq = canonical::canonical_request(&received, &auth, &hash, mode).unwrap();
    let expected_creq = read(case, "header-canonical-request.txt").unwrap();
    assert_eq!(
        String::from_utf8(creq.clone()).unwrap(),
        expected_creq,
        "{name}: canonical request"
    );

    let (amz_date, _) = request_date(&request.headers, &auth).unwrap();
    let sts = canonical::string_to_sign(&amz_date, &auth.scope(), &creq);
    if let Some(expected_sts) = read(case, "header-string-to-sign.txt") {
        // `double-url-encode` ends its file with a newline, the others do not.
        assert_eq!(
            sts,
            expected_sts.trim_end_matches('\n'),
            "{name}: string to sign"
        );
    }
    let signature = hex::encode(
        hmac::Mac::finalize(canonical::signature_mac(secret, &auth, &sts).unwrap()).into_bytes(),
    );
    if let Some(expected_signature) = read(case, "header-signature.txt") {
        assert_eq!(
            signature,
            expected_signature.trim(),
            "{name}: signature file"
        );
    }
    assert_eq!(
        signature,
        hex::encode(auth.signature),
        "{name}: authorization signature"
    );
}

#[test]
fn every_applicable_case_of_the_aws_signing_test_suite_verifies() {
    let mut verified = Vec::new();
    let mut intermediates_only = Vec::new();
    for case in cases() {
        let name = case.file_name().unwrap().to_string_lossy().into_owned();
        let signed = read(&case, "header-signed-request.txt").unwrap();
        let request = parse_request(&signed);
        let ctx = match (context(&case), name.as_str()) {
            (Some(ctx), _) => ctx,
            (None, "double-url-encode") => Context {
                access_key_id: "AKIDEXAMPLE".into(),
                secret: EXAMPLE_SECRET.into(),
                region: "us-east-2".into(),
                service: "lambda".into(),
                now: DateTime::parse_from_rfc3339("2021-05-11T15:40:45Z")
                    .unwrap()
                    .into(),
                normalize: true,
            },
            (None, "double-encode-path") => continue, // see double_encode_path_case_is_double_encoded
            _ => panic!("{name}: no context.json and no special handling"),
        };
        let mode = if ctx.normalize {
            PathMode::Normalize
        } else {
            PathMode::AsIs
        };
        assert_intermediates(&case, &request, &ctx.secret, mode);
        if !ctx.normalize {
            intermediates_only.push(name);
            continue;
        }

        let config = config(&ctx);
        assert_eq!(
            verify_received(&request.received(), &config, ctx.now),
            Ok(ctx.access_key_id.clone()),
            "{name}"
        );
        // Through the public entry point too, when the target is a valid `http::Uri` (raw
        // spaces and raw UTF-8 are not, and never reach a server unencoded).
        if let Ok(uri) = request.target.parse::<http::Uri>() {
            assert_eq!(
                verify(
                    &request.method,
                    &uri,
                    &request.headers,
                    &request.body,
                    &config,
                    ctx.now
                ),
                Ok(ctx.access_key_id.clone()),
                "{name} through verify"
            );
        }
        // And the same request a second outside the skew is refused.
        let late = ctx.now + config.max_skew + Duration::from_secs(1);
        assert_eq!(
            verify_received(&request.received(), &config, late),
            Err(super::SigV4Error::RequestTimeTooSkewed),
            "{name}"
        );
        verified.push(name);
    }
    assert_eq!(verified.len(), 32, "verified: {verified:?}");
    assert_eq!(
        intermediates_only,
        [
            "get-relative-relative-unnormalized",
            "get-relative-unnormalized",
            "get-slash-dot-slash-unnormalized",
            "get-slash-pointless-dot-unnormalized",
            "get-slash-unnormalized",
            "get-slashes-unnormalized",
            "get-space-unnormalized",
        ]
    );
}

#[test]
fn double_encode_path_case_is_double_encoded() {
    let case = Path::new(SUITE).join("double-encode-path");
    let mut request = parse_request(&read(&case, "header-signed-request.txt").unwrap());
    // The suite's expected canonical request was made at another time than its signed request.
    request
        .headers
        .insert("x-amz-date", HeaderValue::from_static("20210511T154045Z"));
    let received = request.received();
    let auth_value = request.headers.get("authorization").unwrap();
    let auth = authorization::parse(auth_value.as_bytes()).unwrap();
    let hash = payload_hash(&received, &auth).unwrap();
    let creq = canonical::canonical_request(&received, &auth, &hash, PathMode::Normalize).unwrap();
    assert_eq!(
        String::from_utf8(creq).unwrap(),
        read(&case, "header-canonical-request.txt").unwrap()
    );
}
