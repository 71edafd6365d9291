//! Sending: the real [`Publisher`], one pooled `reqwest` client (rustls with ring, no OpenSSL)
//! reused across invocations.
//!
//! The Lambda builds that client on the first publish ([`HttpPublisher::lazy`]), not at init:
//! building it loads the system's root certificates (on a Debian image about 150 files, ~6 ms),
//! which would make every cold start about four times a bare runtime's init (BENCHMARKS.md).
//!
//! For `AWS_IAM` the credential provider is built lazily on the first publish (no network and
//! no certificate loading at init). Its credentials are kept and reused until five minutes
//! before they expire: aws-config's provider chain does not cache (SDK clients cache in their
//! identity cache, which a bare provider does not have), and an assume-role profile or the
//! container and instance endpoints would otherwise be asked on every request.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use aws_smithy_runtime_api::client::identity::Identity;
use reqwest::header::HeaderValue;
use tokio::sync::{Mutex, OnceCell};

use crate::config::{Auth, Endpoint, PublishSettings};
use crate::publish::auth::{CONTENT_TYPE, sigv4_headers};
use crate::publish::{Publisher, RawResponse, SendError, build};

/// How long an idle pooled connection is kept: long enough to span warm invocations.
const POOL_IDLE_TIMEOUT: Duration = Duration::from_secs(60);

/// Kept credentials are fetched again this long before they expire, so a request never signs
/// with credentials that expire on the way (the SDKs' identity cache uses the same margin).
const CREDENTIALS_REFRESH_MARGIN: Duration = Duration::from_secs(5 * 60);

/// Installs ring as rustls' process-wide crypto provider. reqwest is built with
/// `rustls-no-provider` (no aws-lc build) and panics at client creation without one.
pub fn install_crypto_provider() {
    // Err means a provider is already installed, which is what we want.
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// Building the HTTP client failed (no usable TLS roots, for example).
#[derive(Debug, thiserror::Error)]
#[error("http client could not be built: {0}")]
pub struct ClientError(String);

/// Builds the one pooled HTTP client.
pub fn http_client() -> Result<reqwest::Client, ClientError> {
    install_crypto_provider();
    reqwest::Client::builder()
        .pool_idle_timeout(POOL_IDLE_TIMEOUT)
        .build()
        .map_err(|e| ClientError(e.to_string()))
}

enum RequestAuth {
    Iam {
        region: String,
        provider: OnceCell<SharedCredentialsProvider>,
        /// The last credentials, reused until [`CREDENTIALS_REFRESH_MARGIN`] before they
        /// expire. Locked across the fetch, so a refresh asks the provider once.
        kept: Mutex<Option<Credentials>>,
    },
    Header {
        name: &'static str,
        /// Marked sensitive ([`Secret`](crate::config::Secret)), so HTTP/2 never puts it in the HPACK table and
        /// `Debug` hides it.
        value: HeaderValue,
    },
}

/// The real publisher: POSTs to the configured endpoint with the configured auth.
#[derive(Clone)]
pub struct HttpPublisher {
    /// The pooled client, built on the first publish.
    client: Arc<OnceCell<reqwest::Client>>,
    endpoint: Endpoint,
    /// The endpoint parsed once: reqwest would parse the URL text on every request otherwise.
    /// `None` if it does not parse (configuration validates it, so only in odd cases); the text
    /// is then passed as before and reqwest reports the error per request.
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
    /// A publisher that builds its HTTP client ([`http_client`]) on the first publish and keeps
    /// it for every later one. Init then loads no TLS roots; a client that cannot be built fails
    /// each publish with a transport error naming the cause. IAM credentials come from the
    /// default AWS chain, also loaded on first use.
    pub fn lazy(settings: &PublishSettings) -> Self {
        let auth = match &settings.auth {
            Auth::AwsIam { region } => RequestAuth::Iam {
                region: region.clone(),
                provider: OnceCell::new(),
                kept: Mutex::new(None),
            },
            Auth::ApiKey(key) => RequestAuth::Header {
                name: "x-api-key",
                value: key.header_value().clone(),
            },
            Auth::Token { token, .. } => RequestAuth::Header {
                name: "authorization",
                value: token.header_value().clone(),
            },
        };
        Self {
            client: Arc::new(OnceCell::new()),
            url: reqwest::Url::parse(&settings.endpoint.url).ok(),
            endpoint: settings.endpoint.clone(),
            auth: Arc::new(auth),
        }
    }

    /// Uses `provider` instead of the default chain (tests, or callers with their own chain).
    /// No effect for the API key and token modes.
    pub fn with_credentials_provider(mut self, provider: SharedCredentialsProvider) -> Self {
        if let RequestAuth::Iam { region, .. } = self.auth.as_ref() {
            self.auth = Arc::new(RequestAuth::Iam {
                region: region.clone(),
                provider: OnceCell::new_with(Some(provider)),
                kept: Mutex::new(None),
            });
        }
        self
    }

    async fn identity(
        region: &str,
        provider: &OnceCell<SharedCredentialsProvider>,
        kept: &Mutex<Option<Credentials>>,
    ) -> Result<Identity, SendError> {
        let mut kept = kept.lock().await;
        if let Some(credentials) = kept.as_ref().filter(|c| still_fresh(c, SystemTime::now())) {
            return Ok(credentials.clone().into());
        }
        let provider = provider
            .get_or_try_init(|| default_chain(region.to_owned()))
            .await?;
        let credentials = provider
            .provide_credentials()
            .await
            .map_err(|e| SendError::Credentials(e.to_string()))?;
        *kept = Some(credentials.clone());
        Ok(credentials.into())
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
        let mut request = request
            .header(
                reqwest::header::CONTENT_TYPE,
                HeaderValue::from_static(CONTENT_TYPE),
            )
            .header(
                reqwest::header::ACCEPT,
                HeaderValue::from_static("application/json"),
            );
        match self.auth.as_ref() {
            RequestAuth::Iam {
                region,
                provider,
                kept,
            } => {
                let identity = Self::identity(region, provider, kept).await?;
                let headers = sigv4_headers(
                    &self.endpoint.url,
                    &self.endpoint.authority,
                    &body,
                    &identity,
                    region,
                    SystemTime::now(),
                )?;
                for (name, value) in headers {
                    request = request.header(name, value);
                }
            }
            RequestAuth::Header { name, value } => {
                request = request.header(*name, value.clone());
            }
        }
        let response = request.body(body).send().await.map_err(transport)?;
        let status = response.status().as_u16();
        let body = response.bytes().await.map_err(transport)?;
        Ok(RawResponse {
            status,
            body: body.to_vec(),
        })
    }
}

/// Whether kept credentials can still sign: they never expire, or not within
/// [`CREDENTIALS_REFRESH_MARGIN`] of `now`.
fn still_fresh(credentials: &Credentials, now: SystemTime) -> bool {
    credentials
        .expiry()
        .is_none_or(|expiry| expiry > now + CREDENTIALS_REFRESH_MARGIN)
}

fn transport(e: reqwest::Error) -> SendError {
    if e.is_timeout() {
        SendError::Timeout
    } else {
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
}

/// The standard AWS credential chain (environment, profile, container, IMDS) with a ring-based
/// HTTP client: aws-config without its default client would pull a second TLS stack (aws-lc), and
/// without any client it panics in debug builds (toolchain notes, "Trap").
async fn default_chain(region: String) -> Result<SharedCredentialsProvider, SendError> {
    use aws_smithy_http_client::tls;
    let http = aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(
            tls::rustls_provider::CryptoMode::Ring,
        ))
        .build_https();
    let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new(region))
        .http_client(http)
        .load()
        .await;
    sdk.credentials_provider().ok_or_else(|| {
        SendError::Credentials("the default credential chain has no provider".to_owned())
    })
}

impl Publisher for HttpPublisher {
    async fn publish(&self, channel: &str, events: &[&str]) -> Result<RawResponse, SendError> {
        self.send(channel, events).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Endpoint, Secret, Tuning};

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

    /// Counts how often it is asked; each answer expires `lifetime` from now (`None`: never).
    #[derive(Debug)]
    struct Counting {
        calls: Arc<std::sync::atomic::AtomicUsize>,
        lifetime: Option<Duration>,
    }

    impl ProvideCredentials for Counting {
        fn provide_credentials<'a>(
            &'a self,
        ) -> aws_credential_types::provider::future::ProvideCredentials<'a>
        where
            Self: 'a,
        {
            self.calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let expiry = self.lifetime.map(|l| SystemTime::now() + l);
            aws_credential_types::provider::future::ProvideCredentials::ready(Ok(Credentials::new(
                "AKID",
                "secret",
                Some("token".into()),
                expiry,
                "counting",
            )))
        }
    }

    async fn calls_for_three_identities(lifetime: Option<Duration>) -> usize {
        let calls = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counting = Counting {
            calls: Arc::clone(&calls),
            lifetime,
        };
        let provider = OnceCell::new_with(Some(SharedCredentialsProvider::new(counting)));
        let kept = Mutex::new(None);
        for _ in 0..3 {
            HttpPublisher::identity("us-east-1", &provider, &kept)
                .await
                .unwrap();
        }
        calls.load(std::sync::atomic::Ordering::SeqCst)
    }

    #[tokio::test]
    async fn credentials_are_kept_until_shortly_before_they_expire() {
        // Static keys and session credentials with an hour left: asked once.
        assert_eq!(calls_for_three_identities(None).await, 1);
        assert_eq!(
            calls_for_three_identities(Some(Duration::from_secs(3600))).await,
            1
        );
        // Credentials inside the refresh margin are fetched again every time.
        assert_eq!(
            calls_for_three_identities(Some(Duration::from_secs(60))).await,
            3
        );
    }
}
