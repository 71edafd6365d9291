//! The SigV4 canonical request, string to sign and signing key, rebuilt from what the server
//! received. Follows "Create a canonical request" / "Create a string to sign" / "Calculate the
//! signature" of the AWS Signature Version 4 specification
//! (<https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html>).

use hmac::{Hmac, Mac};
use http::HeaderMap;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, percent_encode};
use sha2::{Digest, Sha256};

use super::SigV4Error;
use super::authorization::{ALGORITHM, Authorization};

type HmacSha256 = Hmac<Sha256>;

/// SigV4 `UriEncode`: everything but the RFC 3986 unreserved characters is `%XX` (uppercase hex).
const NOT_UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// Whether dot segments and empty segments are removed from the path before encoding.
/// Every service but S3 normalises; only the test suite's `normalize: false` cases use `AsIs`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PathMode {
    Normalize,
    #[cfg_attr(not(test), allow(dead_code))]
    AsIs,
}

/// What the canonical request is built from: the request as received.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Received<'a> {
    pub method: &'a str,
    /// The path exactly as on the request line (still percent-encoded).
    pub path: &'a str,
    /// The raw query string, without `?`.
    pub query: &'a str,
    pub headers: &'a HeaderMap,
    /// Used for a signed `host` when there is no `Host` header (HTTP/2 sends `:authority`).
    pub authority: Option<&'a str>,
    pub body: &'a [u8],
}

/// The canonical URI. The path arrives percent-encoded, and it is percent-encoded once more:
/// for every service except S3 the spec encodes each segment twice (the client's encoding plus
/// the signer's), so `%3D` on the wire becomes `%253D` here — as `aws-sigv4`'s default
/// `PercentEncodingMode::Double` does.
pub(crate) fn canonical_uri(path: &str, mode: PathMode) -> String {
    let owned;
    let path = if path.starts_with('/') {
        path
    } else {
        owned = format!("/{path}");
        &owned
    };
    let normalized;
    let path = match mode {
        PathMode::AsIs => path,
        PathMode::Normalize => {
            normalized = remove_dot_segments(path);
            &normalized
        }
    };
    path.split('/')
        .map(|segment| percent_encode(segment.as_bytes(), NOT_UNRESERVED).to_string())
        .collect::<Vec<_>>()
        .join("/")
}

/// RFC 3986 §5.2.4 on an absolute path, also dropping empty segments (`//` → `/`), which the
/// spec's normalisation and the test suite's `get-slashes-normalized` require.
fn remove_dot_segments(path: &str) -> String {
    let mut kept: Vec<&str> = Vec::new();
    for segment in path.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                kept.pop();
            }
            other => kept.push(other),
        }
    }
    let mut out = String::with_capacity(path.len());
    for segment in &kept {
        out.push('/');
        out.push_str(segment);
    }
    let trailing = path.ends_with('/') || path.ends_with("/.") || path.ends_with("/..");
    if out.is_empty() || (trailing && !out.ends_with('/')) {
        out.push('/');
    }
    out
}

/// The canonical query string: each name and value decoded once, `UriEncode`d, pairs sorted by
/// name then value, `name=` for a name without a value.
pub(crate) fn canonical_query(query: &str) -> String {
    let encode = |raw: &str| {
        let decoded: Vec<u8> = percent_decode_str(raw).collect();
        percent_encode(&decoded, NOT_UNRESERVED).to_string()
    };
    let mut pairs: Vec<(String, String)> = query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            (encode(name), encode(value))
        })
        .collect();
    pairs.sort();
    let mut out = String::new();
    for (i, (name, value)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        out.push_str(name);
        out.push('=');
        out.push_str(value);
    }
    out
}

/// A header value as it enters the canonical request: leading and trailing spaces removed,
/// runs of spaces collapsed to one. Bytes, because header values need not be UTF-8.
fn trim_all(value: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(value.len());
    for &b in value {
        if b == b' ' && (out.is_empty() || out.last() == Some(&b' ')) {
            continue;
        }
        out.push(b);
    }
    if out.last() == Some(&b' ') {
        out.pop();
    }
    out
}

/// `name:value\n` for every signed header, in `SignedHeaders` order; repeated headers are joined
/// with commas in the order they arrived.
fn canonical_headers(
    received: &Received<'_>,
    auth: &Authorization<'_>,
) -> Result<Vec<u8>, SigV4Error> {
    let mut out = Vec::new();
    for &name in &auth.signed_headers {
        out.extend_from_slice(name.as_bytes());
        out.push(b':');
        let mut values = received.headers.get_all(name).iter().peekable();
        if values.peek().is_none() {
            match (name, received.authority) {
                ("host", Some(authority)) => out.extend_from_slice(&trim_all(authority.as_bytes())),
                _ => return Err(SigV4Error::MissingSignedHeader(name.to_owned())),
            }
        }
        for (i, value) in values.enumerate() {
            if i > 0 {
                out.push(b',');
            }
            out.extend_from_slice(&trim_all(value.as_bytes()));
        }
        out.push(b'\n');
    }
    Ok(out)
}

/// Hex SHA-256 of `data`.
pub(crate) fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

/// The six-line canonical request, as bytes (signed header values may be non-UTF-8).
pub(crate) fn canonical_request(
    received: &Received<'_>,
    auth: &Authorization<'_>,
    payload_hash: &str,
    mode: PathMode,
) -> Result<Vec<u8>, SigV4Error> {
    let mut out = Vec::new();
    out.extend_from_slice(received.method.as_bytes());
    out.push(b'\n');
    out.extend_from_slice(canonical_uri(received.path, mode).as_bytes());
    out.push(b'\n');
    out.extend_from_slice(canonical_query(received.query).as_bytes());
    out.push(b'\n');
    out.extend_from_slice(&canonical_headers(received, auth)?);
    out.push(b'\n');
    out.extend_from_slice(auth.signed_headers_raw.as_bytes());
    out.push(b'\n');
    out.extend_from_slice(payload_hash.as_bytes());
    Ok(out)
}

/// `AWS4-HMAC-SHA256\n<timestamp>\n<scope>\n<hex sha256 of the canonical request>`.
pub(crate) fn string_to_sign(amz_date: &str, scope: &str, canonical_request: &[u8]) -> String {
    format!(
        "{ALGORITHM}\n{amz_date}\n{scope}\n{}",
        sha256_hex(canonical_request)
    )
}

fn hmac(key: &[u8], data: &[u8]) -> Result<HmacSha256, SigV4Error> {
    // HMAC accepts keys of any length, so this error cannot happen; it is mapped, not unwrapped.
    let mut mac = HmacSha256::new_from_slice(key).map_err(|_| SigV4Error::SigningKey)?;
    mac.update(data);
    Ok(mac)
}

/// `kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request")`,
/// then a MAC over the string to sign, ready to compare against the sent signature.
pub(crate) fn signature_mac(
    secret: &str,
    auth: &Authorization<'_>,
    string_to_sign: &str,
) -> Result<HmacSha256, SigV4Error> {
    let k_date = hmac(format!("AWS4{secret}").as_bytes(), auth.date.as_bytes())?.finalize();
    let k_region = hmac(&k_date.into_bytes(), auth.region.as_bytes())?.finalize();
    let k_service = hmac(&k_region.into_bytes(), auth.service.as_bytes())?.finalize();
    let k_signing = hmac(&k_service.into_bytes(), b"aws4_request")?.finalize();
    hmac(&k_signing.into_bytes(), string_to_sign.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_normalised_before_encoding() {
        let cases = [
            ("", "/"),
            ("/", "/"),
            ("//", "/"),
            ("/./", "/"),
            ("/example/..", "/"),
            ("/example1/example2/../..", "/"),
            ("/../../x", "/x"),
            ("//example//", "/example/"),
            ("/./example", "/example"),
            ("/a/b/.", "/a/b/"),
            ("/a/b/..", "/a/"),
            ("event", "/event"),
            ("/event", "/event"),
        ];
        for (path, expected) in cases {
            assert_eq!(
                canonical_uri(path, PathMode::Normalize),
                expected,
                "{path:?}"
            );
        }
        assert_eq!(canonical_uri("//a/./b", PathMode::AsIs), "//a/./b");
    }

    #[test]
    fn an_already_encoded_path_is_encoded_a_second_time() {
        assert_eq!(
            canonical_uri("/documents%20and%20settings/", PathMode::Normalize),
            "/documents%2520and%2520settings/"
        );
        assert_eq!(canonical_uri("/a@b:c", PathMode::Normalize), "/a%40b%3Ac");
        assert_eq!(canonical_uri("/ሴ", PathMode::Normalize), "/%E1%88%B4");
    }

    #[test]
    fn query_parameters_are_decoded_reencoded_and_sorted() {
        assert_eq!(canonical_query(""), "");
        assert_eq!(canonical_query("b=2&a=1&a=0"), "a=0&a=1&b=2");
        assert_eq!(canonical_query("flag&x="), "flag=&x=");
        assert_eq!(canonical_query("a%20b=c+d&&e=%7E"), "a%20b=c%2Bd&e=~");
        assert_eq!(canonical_query("bad=%zz%"), "bad=%25zz%25");
    }

    #[test]
    fn header_values_are_trimmed_and_inner_spaces_collapsed() {
        assert_eq!(trim_all(b"  a   b  c  "), b"a b c");
        assert_eq!(trim_all(b"\"a   b\""), b"\"a b\"");
        assert_eq!(trim_all(b"   "), b"");
        assert_eq!(trim_all(b"a\tb"), b"a\tb");
    }
}
