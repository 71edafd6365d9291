//! Signing a publish request: SigV4 for `AWS_IAM` (service `appsync`, the exact body bytes
//! signed; <https://docs.aws.amazon.com/appsync/latest/eventapi/event-api-websocket-protocol.html>),
//! a static header for the API key and token modes. Signatures, keys and tokens go to the request
//! only; nothing here logs.

use std::time::SystemTime;

use aws_credential_types::provider::SharedCredentialsProvider;
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use reqwest::header::HeaderValue;

use crate::config::{Auth, Endpoint};
use crate::publish::SendError;
use crate::publish::credentials::KeptCredentials;

/// How every request of a publisher is authorised, with what it needs.
#[derive(Debug)]
pub(crate) enum RequestAuth {
    /// SigV4 with credentials kept between requests.
    Iam(KeptCredentials),
    /// A static header: `x-api-key` or `authorization`.
    Header {
        name: &'static str,
        /// Marked sensitive ([`Secret`](crate::config::Secret)), so HTTP/2 never puts it in the
        /// HPACK table and `Debug` hides it.
        value: HeaderValue,
    },
}

impl RequestAuth {
    /// The authorisation configured by `auth`; IAM credentials load on first use.
    pub(crate) fn new(auth: &Auth) -> Self {
        match auth {
            Auth::AwsIam { region } => {
                RequestAuth::Iam(KeptCredentials::default_chain(region.clone()))
            }
            Auth::ApiKey(key) => RequestAuth::Header {
                name: "x-api-key",
                value: key.header_value().clone(),
            },
            Auth::Token { token, .. } => RequestAuth::Header {
                name: "authorization",
                value: token.header_value().clone(),
            },
        }
    }

    /// IAM signing with `provider` instead of the default chain; `None` for the header modes.
    pub(crate) fn with_provider(&self, provider: SharedCredentialsProvider) -> Option<Self> {
        match self {
            RequestAuth::Iam(kept) => Some(RequestAuth::Iam(KeptCredentials::from_provider(
                kept.region().to_owned(),
                provider,
            ))),
            RequestAuth::Header { .. } => None,
        }
    }

    /// IAM signing from the default chain whose failures explain what it tried and how to
    /// provide credentials (the CLI); `None` for the header modes and for a provider the caller
    /// gave, which is kept as it is.
    pub(crate) fn explaining(&self) -> Option<Self> {
        match self {
            RequestAuth::Iam(kept) if kept.is_default_chain() => Some(RequestAuth::Iam(
                KeptCredentials::default_chain(kept.region().to_owned()).explaining(),
            )),
            RequestAuth::Iam(_) | RequestAuth::Header { .. } => None,
        }
    }

    /// Adds the authorisation of `body`, sent to `endpoint`, to `request`.
    pub(crate) async fn authorize(
        &self,
        mut request: reqwest::RequestBuilder,
        endpoint: &Endpoint,
        body: &[u8],
    ) -> Result<reqwest::RequestBuilder, SendError> {
        match self {
            RequestAuth::Iam(kept) => {
                let identity = kept.identity().await?;
                let headers = sigv4_headers(
                    &endpoint.url,
                    &endpoint.authority,
                    body,
                    &identity,
                    kept.region(),
                    SystemTime::now(),
                )?;
                for (name, value) in headers {
                    request = request.header(name, value);
                }
                Ok(request)
            }
            RequestAuth::Header { name, value } => Ok(request.header(*name, value.clone())),
        }
    }
}

/// The content type of every publish body; signed, so it must be sent exactly like this.
pub const CONTENT_TYPE: &str = "application/json";

/// SigV4 service name of AppSync Events.
const SIGNING_SERVICE: &str = "appsync";

/// Signs `POST url` with `body` and returns the headers to add (`x-amz-date`, `authorization`
/// and, with temporary credentials, `x-amz-security-token`).
///
/// Signed headers are `content-type;host;x-amz-date[;x-amz-security-token]`; `host` must be
/// the `Host` the client sends (`authority`, port included). Whether AppSync requires more
/// signed headers (its own samples also sign `accept`) is UNVERIFIED.
pub fn sigv4_headers(
    url: &str,
    authority: &str,
    body: &[u8],
    identity: &Identity,
    region: &str,
    time: SystemTime,
) -> Result<Vec<(String, String)>, SendError> {
    let params = v4::SigningParams::builder()
        .identity(identity)
        .region(region)
        .name(SIGNING_SERVICE)
        .time(time)
        .settings(SigningSettings::default())
        .build()
        .map_err(|e| SendError::Signing(e.to_string()))?
        .into();
    let headers = [("content-type", CONTENT_TYPE), ("host", authority)];
    let signable =
        SignableRequest::new("POST", url, headers.into_iter(), SignableBody::Bytes(body))
            .map_err(|e| SendError::Signing(e.to_string()))?;
    let (instructions, _signature) = sign(signable, &params)
        .map_err(|e| SendError::Signing(e.to_string()))?
        .into_parts();
    Ok(instructions
        .headers()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect())
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use aws_credential_types::Credentials;

    use super::*;

    #[test]
    fn explaining_keeps_a_credentials_provider_the_caller_gave() {
        let creds = Credentials::new("AKIDGIVEN", "secret", None, None, "given");
        let given = RequestAuth::Iam(KeptCredentials::default_chain("eu-west-1".to_owned()))
            .with_provider(SharedCredentialsProvider::new(creds))
            .unwrap();
        assert!(given.explaining().is_none());
        let chain = RequestAuth::Iam(KeptCredentials::default_chain("eu-west-1".to_owned()));
        assert!(chain.explaining().is_some());
    }

    #[test]
    fn sigv4_signs_the_appsync_service_with_the_session_token() {
        let creds = Credentials::new("AKIDEXAMPLE", "secret", Some("token-1".into()), None, "t");
        let identity: Identity = creds.into();
        let time = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let headers = sigv4_headers(
            "https://abc.appsync-api.us-east-1.amazonaws.com/event",
            "abc.appsync-api.us-east-1.amazonaws.com",
            br#"{"channel":"/a","events":["1"]}"#,
            &identity,
            "us-east-1",
            time,
        )
        .unwrap();
        let get = |name: &str| {
            headers
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.as_str())
        };
        assert_eq!(get("x-amz-date"), Some("20231114T221320Z"));
        assert_eq!(get("x-amz-security-token"), Some("token-1"));
        let auth = get("authorization").unwrap();
        assert!(auth.starts_with(
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20231114/us-east-1/appsync/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-security-token, Signature="
        ), "{auth}");
    }

    #[test]
    fn a_different_body_gives_a_different_signature() {
        let identity: Identity = Credentials::new("AK", "s", None, None, "t").into();
        let sig = |body: &[u8]| {
            sigv4_headers(
                "http://127.0.0.1:9/event",
                "127.0.0.1:9",
                body,
                &identity,
                "eu-west-1",
                UNIX_EPOCH,
            )
            .unwrap()
            .into_iter()
            .find(|(k, _)| k == "authorization")
            .unwrap()
            .1
        };
        assert_ne!(sig(b"{}"), sig(b"{ }"));
    }
}
