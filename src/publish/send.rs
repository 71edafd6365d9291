//! Sending: the real [`Publisher`], one pooled `reqwest` client (rustls with ring, no OpenSSL)
//! reused across invocations.
//!
//! The Lambda builds that client on the first publish ([`HttpPublisher::lazy`]), not at init:
//! building it loads the system's root certificates (on a Debian image about 150 files, ~6 ms),
//! which would make every cold start about four times a bare runtime's init (BENCHMARKS.md).
//!
//! Each request is signed by [`sign`](crate::publish::sign) (for `AWS_IAM` with credentials from
//! [`credentials`](crate::publish::credentials), also loaded on first use).

use std::sync::Arc;
use std::time::Duration;

use aws_credential_types::provider::SharedCredentialsProvider;
use reqwest::header::HeaderValue;
use tokio::sync::OnceCell;

use crate::config::{Endpoint, PublishSettings};
use crate::publish::sign::{CONTENT_TYPE, RequestAuth};
use crate::publish::{Publisher, RawResponse, SendError, build};

/// How long an idle pooled connection is kept: long enough to span warm invocations.
const POOL_IDLE_TIMEOUT: Duration = Duration::from_secs(60);

/// Installs ring as rustls' process-wide crypto provider. reqwest is built with
/// `rustls-no-provider` (no aws-lc build) and panics at client creation without one.
fn install_crypto_provider() {
    // Err means a provider is already installed, which is what we want.
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// Building the HTTP client failed (no usable TLS roots, for example).
#[derive(Debug, thiserror::Error)]
#[error("http client could not be built: {0}")]
struct ClientError(String);

/// Builds the one pooled HTTP client.
fn http_client() -> Result<reqwest::Client, ClientError> {
    install_crypto_provider();
    reqwest::Client::builder()
        .pool_idle_timeout(POOL_IDLE_TIMEOUT)
        .build()
        .map_err(|e| ClientError(e.to_string()))
}

/// The real publisher: POSTs to the configured endpoint with the configured auth.
#[derive(Clone)]
pub struct HttpPublisher {
    /// The pooled client, built on the first publish.
    client: Arc<OnceCell<reqwest::Client>>,
    endpoint: Endpoint,
    /// The endpoint parsed once: reqwest would parse the URL text on every request otherwise.
    /// `None` if it does not parse (configuration validates it, so only in odd cases); the text
    /// is then passed to reqwest, which reports the error per request.
    url: Option<reqwest::Url>,
    auth: Arc<RequestAuth>,
}

impl std::fmt::Debug for HttpPublisher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpPublisher")
            .field("endpoint", &self.endpoint.url)
            .finish_non_exhaustive()
    }
}

impl HttpPublisher {
    /// A publisher that builds its HTTP client on the first publish and keeps
    /// it for every later one. Init then loads no TLS roots; a client that cannot be built fails
    /// each publish with a transport error naming the cause. IAM credentials come from the
    /// default AWS chain, also loaded on first use.
    pub fn lazy(settings: &PublishSettings) -> Self {
        Self {
            client: Arc::new(OnceCell::new()),
            url: reqwest::Url::parse(&settings.endpoint.url).ok(),
            endpoint: settings.endpoint.clone(),
            auth: Arc::new(RequestAuth::new(&settings.auth)),
        }
    }

    /// Uses `provider` instead of the default chain (tests, or callers with their own chain).
    /// No effect for the API key and token modes.
    pub fn with_credentials_provider(mut self, provider: SharedCredentialsProvider) -> Self {
        if let Some(auth) = self.auth.with_provider(provider) {
            self.auth = Arc::new(auth);
        }
        self
    }

    /// A missing credential from the default chain says what it tried and how to provide one
    /// (laptop advice, for the CLI). No effect for the API key and token modes.
    pub fn with_credentials_explained(mut self) -> Self {
        if let Some(auth) = self.auth.explaining() {
            self.auth = Arc::new(auth);
        }
        self
    }

    async fn send(&self, channel: &str, events: &[&str]) -> Result<RawResponse, SendError> {
        let client = self
            .client
            .get_or_try_init(|| async { http_client() })
            .await
            .map_err(|e| SendError::Transport(e.to_string()))?;
        let body = build::body(channel, events);
        let request = match &self.url {
            Some(url) => client.post(url.clone()),
            None => client.post(&self.endpoint.url),
        };
        // Typed names and static values: no header parsing per request.
        let request = request
            .header(
                reqwest::header::CONTENT_TYPE,
                HeaderValue::from_static(CONTENT_TYPE),
            )
            .header(
                reqwest::header::ACCEPT,
                HeaderValue::from_static("application/json"),
            );
        let request = self.auth.authorize(request, &self.endpoint, &body).await?;
        let transport = |e| transport(e, &self.endpoint);
        let response = request.body(body).send().await.map_err(transport)?;
        let status = response.status().as_u16();
        let body = response.bytes().await.map_err(transport)?;
        Ok(RawResponse {
            status,
            body: body.to_vec(),
        })
    }
}

fn transport(e: reqwest::Error, endpoint: &Endpoint) -> SendError {
    if e.is_timeout() {
        return SendError::Timeout;
    }
    if answered_in_plain_http(&e) {
        // rustls only says "received corrupt message of type InvalidContentType".
        return SendError::Transport(format!(
            "the server at {} speaks plain HTTP, not TLS: use http:// for a local server without TLS (appsync-local without --tls), or start appsync-local with --tls",
            endpoint.authority
        ));
    }
    // `{:#}`-style chain without the URL's query (we send none) and never any header.
    let e = e.without_url();
    let mut message = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        message.push_str(": ");
        message.push_str(&s.to_string());
        source = s.source();
    }
    SendError::Transport(message)
}

/// Whether the TLS handshake failed because the server's first bytes were not a TLS record: a
/// plain HTTP server on an `https://` endpoint. rustls' error sits inside an `io::Error`, whose
/// `source()` skips it, so each `io::Error` in the chain is opened too.
fn answered_in_plain_http(e: &(dyn std::error::Error + 'static)) -> bool {
    let not_tls = |e: &(dyn std::error::Error + 'static)| {
        matches!(
            e.downcast_ref::<rustls::Error>(),
            Some(rustls::Error::InvalidMessage(
                rustls::InvalidMessage::InvalidContentType
            ))
        )
    };
    let mut next = Some(e);
    while let Some(e) = next {
        let inner = e
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
            .map(|inner| inner as &(dyn std::error::Error + 'static));
        if not_tls(e) || inner.is_some_and(|inner| not_tls(inner) || answered_in_plain_http(inner))
        {
            return true;
        }
        next = e.source();
    }
    false
}

impl Publisher for HttpPublisher {
    async fn publish(&self, channel: &str, events: &[&str]) -> Result<RawResponse, SendError> {
        self.send(channel, events).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Auth, Endpoint, Secret, Tuning};

    fn settings(url: String, authority: String) -> PublishSettings {
        PublishSettings {
            endpoint: Endpoint { url, authority },
            auth: Auth::ApiKey(Secret::new("da2-test").unwrap()),
            tuning: Tuning::default(),
            metrics_namespace: "Test".into(),
        }
    }

    #[tokio::test]
    async fn a_lazy_publisher_builds_its_client_on_the_first_publish_and_keeps_it() {
        // A port that refuses connections: the send fails, but only after the client exists.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        drop(listener);
        let publisher =
            HttpPublisher::lazy(&settings(format!("http://{addr}/event"), addr.to_string()));
        let cell = publisher.client.clone();
        assert!(!cell.initialized());
        let result = publisher.publish("/default/a", &["{}"]).await;
        assert!(matches!(result, Err(SendError::Transport(_))), "{result:?}");
        assert!(cell.initialized());
    }

    #[test]
    fn keys_and_tokens_go_out_as_sensitive_header_values() {
        let secret = Secret::new("da2-key").unwrap();
        let value = secret.header_value();
        assert!(value.is_sensitive());
        assert_eq!(value.to_str().unwrap(), "da2-key");
        assert!(!format!("{value:?}").contains("da2-key"));
    }

    #[test]
    fn a_value_that_cannot_be_a_header_gives_none_instead_of_a_panic() {
        assert!(Secret::new("a\nb").is_none());
    }
}
