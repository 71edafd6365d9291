//! [`verify`] against requests signed by `aws-sigv4` (the signer the bridge uses), one test per
//! refusal reason, and a loop of mangled inputs that must never panic.

use std::collections::HashMap;
use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{
    PayloadChecksumKind, SignableBody, SignableRequest, SigningSettings, sign,
};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use http::{HeaderMap, HeaderValue, Uri};

use super::{SigV4Config, SigV4Error, verify};

const AKID: &str = "AKIDLOCAL";
const SECRET: &str = "local/secret+KEY";
const TOKEN: &str = "session-token-value";
const HOST: &str = "127.0.0.1:44093";
const BODY: &[u8] = br#"{"channel":"/default/orders","events":["{\"id\":1}"]}"#;

/// 2026-11-22T09:39:17Z.
fn signed_at() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_795_340_357)
}

fn config() -> SigV4Config {
    SigV4Config {
        credentials: HashMap::from([(AKID.to_owned(), SECRET.to_owned())]),
        region: "us-east-1".to_owned(),
        service: "appsync".to_owned(),
        max_skew: Duration::from_secs(300),
    }
}

/// A request to appsync-local signed the way the bridge signs (protocol notes §8.4):
/// `SigningSettings` as given (default unless a test changes them) and session credentials.
struct Signed {
    uri: Uri,
    headers: HeaderMap,
    body: Vec<u8>,
}

fn sign_request(path_and_query: &str, body: &[u8], settings: SigningSettings) -> Signed {
    let url = format!("http://{HOST}{path_and_query}");
    let credentials = Credentials::new(AKID, SECRET, Some(TOKEN.to_owned()), None, "test");
    let identity: Identity = credentials.into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region("us-east-1")
        .name("appsync")
        .time(signed_at())
        .settings(settings)
        .build()
        .unwrap()
        .into();
    let unsigned = [("content-type", "application/json"), ("host", HOST)];
    let signable_body = if body.is_empty() && path_and_query.contains("unsigned") {
        SignableBody::UnsignedPayload
    } else {
        SignableBody::Bytes(body)
    };
    let signable = SignableRequest::new("POST", &url, unsigned.into_iter(), signable_body).unwrap();
    let (instructions, _signature) = sign(signable, &params).unwrap().into_parts();
    let mut headers = HeaderMap::new();
    for (name, value) in unsigned.into_iter().chain(instructions.headers()) {
        headers.append(
            http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
            HeaderValue::from_str(value).unwrap(),
        );
    }
    Signed {
        uri: path_and_query.parse().unwrap(),
        headers,
        body: body.to_vec(),
    }
}

fn publish() -> Signed {
    sign_request("/event", BODY, SigningSettings::default())
}

fn check(signed: &Signed, config: &SigV4Config, now: SystemTime) -> Result<String, SigV4Error> {
    verify(
        "POST",
        &signed.uri,
        &signed.headers,
        &signed.body,
        config,
        now,
    )
}

fn set(signed: &mut Signed, name: &'static str, value: &str) {
    signed
        .headers
        .insert(name, HeaderValue::from_str(value).unwrap());
}

fn authorization(signed: &Signed) -> String {
    signed.headers["authorization"].to_str().unwrap().to_owned()
}

#[test]
fn a_publish_signed_by_aws_sigv4_with_a_session_token_verifies() {
    let signed = publish();
    assert_eq!(
        authorization(&signed).split(", ").nth(1),
        Some("SignedHeaders=content-type;host;x-amz-date;x-amz-security-token")
    );
    assert_eq!(check(&signed, &config(), signed_at()), Ok(AKID.to_owned()));
    // Anywhere inside the skew window, on either side.
    let skew = config().max_skew;
    assert_eq!(
        check(&signed, &config(), signed_at() + skew),
        Ok(AKID.to_owned())
    );
    assert_eq!(
        check(&signed, &config(), signed_at() - skew),
        Ok(AKID.to_owned())
    );
}

#[test]
fn an_absolute_form_uri_and_an_http2_authority_without_host_header_verify() {
    let mut signed = publish();
    signed.uri = format!("http://{HOST}/event").parse().unwrap();
    assert_eq!(check(&signed, &config(), signed_at()), Ok(AKID.to_owned()));
    signed.headers.remove("host");
    assert_eq!(check(&signed, &config(), signed_at()), Ok(AKID.to_owned()));
}

#[test]
fn encoded_paths_and_queries_canonicalise_as_aws_sigv4_does() {
    let signed = sign_request(
        "/event/a%3Db/..//c%20d?z=1&b=%20x&a&b=y~",
        BODY,
        SigningSettings::default(),
    );
    assert_eq!(check(&signed, &config(), signed_at()), Ok(AKID.to_owned()));
}

#[test]
fn a_signed_content_sha256_header_is_honoured_and_checked() {
    let mut settings = SigningSettings::default();
    settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
    let mut signed = sign_request("/event", BODY, settings);
    assert!(signed.headers.contains_key("x-amz-content-sha256"));
    assert_eq!(check(&signed, &config(), signed_at()), Ok(AKID.to_owned()));

    signed.body = b"{}".to_vec();
    assert_eq!(
        check(&signed, &config(), signed_at()),
        Err(SigV4Error::PayloadHashMismatch)
    );
    set(
        &mut signed,
        "x-amz-content-sha256",
        "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
    );
    assert_eq!(
        check(&signed, &config(), signed_at()),
        Err(SigV4Error::UnsupportedPayloadHash)
    );
}

#[test]
fn an_unsigned_payload_leaves_the_body_out_of_the_signature() {
    let mut settings = SigningSettings::default();
    settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
    let mut signed = sign_request("/event?unsigned", b"", settings);
    assert_eq!(signed.headers["x-amz-content-sha256"], "UNSIGNED-PAYLOAD");
    signed.body = BODY.to_vec();
    assert_eq!(check(&signed, &config(), signed_at()), Ok(AKID.to_owned()));
}

#[test]
fn a_changed_body_is_refused() {
    let mut signed = publish();
    signed.body = br#"{"channel":"/default/orders","events":["{\"id\":2}"]}"#.to_vec();
    assert_eq!(
        check(&signed, &config(), signed_at()),
        Err(SigV4Error::SignatureMismatch)
    );
}

#[test]
fn a_changed_signed_header_is_refused() {
    let mut signed = publish();
    set(&mut signed, "content-type", "text/plain");
    assert_eq!(
        check(&signed, &config(), signed_at()),
        Err(SigV4Error::SignatureMismatch)
    );

    let mut signed = publish();
    set(&mut signed, "x-amz-security-token", "another-token");
    assert_eq!(
        check(&signed, &config(), signed_at()),
        Err(SigV4Error::SignatureMismatch)
    );
}

#[test]
fn an_unsigned_header_may_change() {
    let mut signed = publish();
    set(&mut signed, "user-agent", "curl/8");
    assert_eq!(check(&signed, &config(), signed_at()), Ok(AKID.to_owned()));
}

#[test]
fn a_changed_date_is_refused() {
    // Same day, inside the skew: only the signature can tell.
    let mut signed = publish();
    set(&mut signed, "x-amz-date", "20261122T093918Z");
    assert_eq!(
        check(&signed, &config(), signed_at()),
        Err(SigV4Error::SignatureMismatch)
    );
    // Another day than the credential scope.
    set(&mut signed, "x-amz-date", "20261123T093917Z");
    assert_eq!(
        check(&signed, &config(), signed_at()),
        Err(SigV4Error::ScopeDateMismatch)
    );
    set(&mut signed, "x-amz-date", "2026-11-22T09:39:17Z");
    assert_eq!(
        check(&signed, &config(), signed_at()),
        Err(SigV4Error::MalformedDate)
    );
    signed.headers.remove("x-amz-date");
    assert_eq!(
        check(&signed, &config(), signed_at()),
        Err(SigV4Error::MissingDate)
    );
}

#[test]
fn a_request_outside_the_clock_skew_is_refused() {
    let signed = publish();
    let beyond = config().max_skew + Duration::from_secs(1);
    for now in [signed_at() + beyond, signed_at() - beyond] {
        assert_eq!(
            check(&signed, &config(), now),
            Err(SigV4Error::RequestTimeTooSkewed)
        );
    }
}

#[test]
fn a_wrong_region_service_or_key_is_refused() {
    let signed = publish();
    let mut other = config();
    other.region = "eu-west-1".to_owned();
    assert_eq!(
        check(&signed, &other, signed_at()),
        Err(SigV4Error::WrongRegion)
    );

    let mut other = config();
    other.service = "execute-api".to_owned();
    assert_eq!(
        check(&signed, &other, signed_at()),
        Err(SigV4Error::WrongService)
    );

    let mut other = config();
    other.credentials = HashMap::from([("AKIDOTHER".to_owned(), SECRET.to_owned())]);
    assert_eq!(
        check(&signed, &other, signed_at()),
        Err(SigV4Error::UnknownAccessKey)
    );

    let mut other = config();
    other.credentials = HashMap::from([(AKID.to_owned(), "another secret".to_owned())]);
    assert_eq!(
        check(&signed, &other, signed_at()),
        Err(SigV4Error::SignatureMismatch)
    );
}

#[test]
fn a_malformed_or_missing_authorization_is_refused() {
    let mut signed = publish();
    let value = authorization(&signed).replace("Credential=", "Credential ");
    set(&mut signed, "authorization", &value);
    assert!(matches!(
        check(&signed, &config(), signed_at()),
        Err(SigV4Error::MalformedAuthorization(_))
    ));

    let mut signed = publish();
    let value = authorization(&signed);
    signed
        .headers
        .append("authorization", HeaderValue::from_str(&value).unwrap());
    assert!(matches!(
        check(&signed, &config(), signed_at()),
        Err(SigV4Error::MalformedAuthorization(_))
    ));

    signed.headers.remove("authorization");
    assert_eq!(
        check(&signed, &config(), signed_at()),
        Err(SigV4Error::MissingAuthorization)
    );
    signed.uri = "/event?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature=00"
        .parse()
        .unwrap();
    assert_eq!(
        check(&signed, &config(), signed_at()),
        Err(SigV4Error::PresignedNotSupported)
    );
}

#[test]
fn a_missing_signed_header_is_refused() {
    let mut signed = publish();
    signed.headers.remove("content-type");
    assert_eq!(
        check(&signed, &config(), signed_at()),
        Err(SigV4Error::MissingSignedHeader("content-type".to_owned()))
    );
}

#[test]
fn host_and_the_date_must_be_signed() {
    let mut signed = publish();
    let value = authorization(&signed).replace("content-type;host;", "content-type;");
    set(&mut signed, "authorization", &value);
    assert_eq!(
        check(&signed, &config(), signed_at()),
        Err(SigV4Error::HostNotSigned)
    );

    let mut signed = publish();
    let value = authorization(&signed).replace(";x-amz-date;", ";");
    set(&mut signed, "authorization", &value);
    assert_eq!(
        check(&signed, &config(), signed_at()),
        Err(SigV4Error::DateNotSigned)
    );
}

#[test]
fn a_date_header_can_stand_in_for_x_amz_date() {
    // aws-sigv4 always writes x-amz-date, so this request is signed by hand, from literal
    // canonical text: the RFC 2822 `date` enters the string to sign in basic ISO 8601 form.
    use hmac::{Hmac, Mac};
    use sha2::{Digest, Sha256};
    let mac = |key: &[u8], data: &str| {
        let mut m = Hmac::<Sha256>::new_from_slice(key).unwrap();
        m.update(data.as_bytes());
        m.finalize().into_bytes().to_vec()
    };
    let creq = format!(
        "POST\n/event\n\ncontent-type:application/json\ndate:Sun, 22 Nov 2026 09:39:17 +0000\n\
         host:{HOST}\n\ncontent-type;date;host\n{}",
        hex::encode(Sha256::digest(BODY))
    );
    let sts = format!(
        "AWS4-HMAC-SHA256\n20261122T093917Z\n20261122/us-east-1/appsync/aws4_request\n{}",
        hex::encode(Sha256::digest(creq.as_bytes()))
    );
    let key = ["20261122", "us-east-1", "appsync", "aws4_request"]
        .iter()
        .fold(format!("AWS4{SECRET}").into_bytes(), |key, part| {
            mac(&key, part)
        });
    let signature = hex::encode(mac(&key, &sts));

    let mut headers = HeaderMap::new();
    headers.insert("content-type", HeaderValue::from_static("application/json"));
    headers.insert(
        "date",
        HeaderValue::from_static("Sun, 22 Nov 2026 09:39:17 +0000"),
    );
    headers.insert("host", HeaderValue::from_static(HOST));
    let authorization = format!(
        "AWS4-HMAC-SHA256 Credential={AKID}/20261122/us-east-1/appsync/aws4_request, \
         SignedHeaders=content-type;date;host, Signature={signature}"
    );
    headers.insert(
        "authorization",
        HeaderValue::from_str(&authorization).unwrap(),
    );
    let mut signed = Signed {
        uri: Uri::from_static("/event"),
        headers,
        body: BODY.to_vec(),
    };
    assert_eq!(check(&signed, &config(), signed_at()), Ok(AKID.to_owned()));

    set(&mut signed, "date", "Sun, 22 Nov 2026 09:39:18 +0000");
    assert_eq!(
        check(&signed, &config(), signed_at()),
        Err(SigV4Error::SignatureMismatch)
    );
    set(&mut signed, "date", "yesterday");
    assert_eq!(
        check(&signed, &config(), signed_at()),
        Err(SigV4Error::MalformedDate)
    );
}

#[test]
fn errors_and_debug_output_never_show_secrets_or_signatures() {
    let signed = publish();
    let auth = authorization(&signed);
    let signature = auth.rsplit("Signature=").next().unwrap().to_owned();
    let debug = format!("{:?}", config());
    assert!(debug.contains(AKID) && !debug.contains(SECRET), "{debug}");

    let mut errors = Vec::new();
    let mut other = config();
    other.credentials = HashMap::from([(AKID.to_owned(), "x".to_owned())]);
    errors.push(check(&signed, &other, signed_at()).unwrap_err());
    let mut changed = publish();
    changed.body.push(b' ');
    errors.push(check(&changed, &config(), signed_at()).unwrap_err());
    for error in errors {
        let text = error.to_string();
        assert!(!text.contains(&signature) && !text.contains(SECRET) && !text.contains(TOKEN));
    }
}

#[test]
fn mangled_inputs_never_panic_and_are_refused() {
    let original = publish();
    let mut rng = fastrand::Rng::with_seed(0x0005_1674);
    let targets = [
        "authorization",
        "x-amz-date",
        "content-type",
        "host",
        "x-amz-security-token",
    ];
    let mut refused = 0;
    for _ in 0..3000 {
        let mut signed = Signed {
            uri: original.uri.clone(),
            headers: original.headers.clone(),
            body: original.body.clone(),
        };
        let name = targets[rng.usize(..targets.len())];
        let mut value = signed.headers[name].as_bytes().to_vec();
        for _ in 0..rng.usize(1..4) {
            match rng.u8(..4) {
                0 if !value.is_empty() => {
                    let at = rng.usize(..value.len());
                    value.remove(at);
                }
                1 => {
                    let at = rng.usize(..=value.len());
                    value.insert(at, rng.u8(..));
                }
                2 if !value.is_empty() => {
                    let at = rng.usize(..value.len());
                    value[at] = rng.u8(..);
                }
                _ => value.truncate(rng.usize(..=value.len())),
            }
        }
        let Ok(mangled) = HeaderValue::from_bytes(&value) else {
            continue; // not representable in a request
        };
        // Spaces around `,` in Authorization and around/inside signed values do not count.
        let without_spaces =
            |v: &[u8]| v.iter().copied().filter(|&b| b != b' ').collect::<Vec<_>>();
        let equivalent = without_spaces(&value) == without_spaces(signed.headers[name].as_bytes());
        signed.headers.insert(name, mangled);
        let result = check(&signed, &config(), signed_at());
        if !equivalent {
            assert!(result.is_err(), "{name} mangled to {value:?} was accepted");
            refused += 1;
        }
    }
    assert!(refused > 2000, "only {refused} mangled requests were tried");

    // Arbitrary request targets and bodies too.
    for _ in 0..500 {
        let path: String = (0..rng.usize(..30))
            .map(|_| char::from(b"/.%2Fa?=&~ #"[rng.usize(..12)]))
            .collect();
        let Ok(uri) = format!("/{path}").parse::<Uri>() else {
            continue;
        };
        let body: Vec<u8> = (0..rng.usize(..64)).map(|_| rng.u8(..)).collect();
        let result = verify(
            "POST",
            &uri,
            &original.headers,
            &body,
            &config(),
            signed_at(),
        );
        assert!(result.is_err());
    }
}
