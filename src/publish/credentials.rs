//! IAM credentials for signing: the standard AWS chain (environment, profile, container, IMDS),
//! built on the first publish that needs it, and its credentials kept until shortly before they
//! expire.
//!
//! aws-config's provider chain does not cache (SDK clients cache in their identity cache, which a
//! bare provider does not have), so an assume-role profile or the container and instance
//! endpoints would otherwise be asked on every request. Nothing is loaded at init: no network and
//! no certificate loading before the first publish.

use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use aws_smithy_runtime_api::client::identity::Identity;
use tokio::sync::{Mutex, OnceCell};

use crate::publish::SendError;

/// Kept credentials are fetched again this long before they expire, so a request never signs
/// with credentials that expire on the way (the SDKs' identity cache uses the same margin).
const CREDENTIALS_REFRESH_MARGIN: Duration = Duration::from_secs(5 * 60);

/// What the default chain tried and how to give it credentials: its own error only says "an
/// error occurred while loading credentials" (and its per-provider warnings are kept out of the
/// CLI's default log level).
const DEFAULT_CHAIN_HELP: &str = "the default AWS credential chain found none in the environment (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY), the profile (AWS_PROFILE, else default, in ~/.aws/config and ~/.aws/credentials), a web identity token (AWS_WEB_IDENTITY_TOKEN_FILE), the container endpoint or the EC2 instance metadata; export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN), or set AWS_PROFILE (for an SSO profile: eval \"$(aws configure export-credentials --format env)\")";

/// The credential provider (the default chain unless one is given) and the last credentials.
#[derive(Debug)]
pub(crate) struct KeptCredentials {
    region: String,
    /// Whether the provider is aws-config's default chain.
    default_chain: bool,
    /// Whether a failure of the default chain says what it tried and how to provide
    /// credentials: laptop advice (profiles, `export`), for the CLI; in Lambda the execution
    /// role's environment is the one source, and the advice would fill every reason.
    explain: bool,
    provider: OnceCell<SharedCredentialsProvider>,
    /// The last credentials, reused until [`CREDENTIALS_REFRESH_MARGIN`] before they expire.
    /// Locked across the fetch, so a refresh asks the provider once.
    kept: Mutex<Option<Credentials>>,
}

impl KeptCredentials {
    /// Credentials from the default chain, for `region`, loaded on first use.
    pub(crate) fn default_chain(region: String) -> Self {
        Self {
            region,
            default_chain: true,
            explain: false,
            provider: OnceCell::new(),
            kept: Mutex::new(None),
        }
    }

    /// Credentials from `provider` instead of the default chain.
    pub(crate) fn from_provider(region: String, provider: SharedCredentialsProvider) -> Self {
        Self {
            region,
            default_chain: false,
            explain: false,
            provider: OnceCell::new_with(Some(provider)),
            kept: Mutex::new(None),
        }
    }

    /// The same credentials, whose default-chain failures explain what was tried (the CLI); only
    /// made for the default chain (`RequestAuth::explaining`).
    pub(crate) fn explaining(self) -> Self {
        Self {
            explain: true,
            ..self
        }
    }

    /// Whether the provider is aws-config's default chain (not one given by the caller).
    pub(crate) fn is_default_chain(&self) -> bool {
        self.default_chain
    }

    /// The signing region.
    pub(crate) fn region(&self) -> &str {
        &self.region
    }

    /// The identity to sign with: the kept credentials while fresh, else the provider's.
    pub(crate) async fn identity(&self) -> Result<Identity, SendError> {
        let mut kept = self.kept.lock().await;
        if let Some(credentials) = kept.as_ref().filter(|c| still_fresh(c, SystemTime::now())) {
            return Ok(credentials.clone().into());
        }
        let provider = self
            .provider
            .get_or_try_init(|| default_chain(self.region.clone()))
            .await?;
        let credentials = provider
            .provide_credentials()
            .await
            .map_err(|e| self.failure(e))?;
        *kept = Some(credentials.clone());
        Ok(credentials.into())
    }
}

impl KeptCredentials {
    /// The provider's failure, explained where the caller asked for it.
    fn failure(&self, error: impl std::fmt::Display) -> SendError {
        if self.default_chain && self.explain {
            SendError::Credentials(format!("{error}; {DEFAULT_CHAIN_HELP}"))
        } else {
            SendError::Credentials(error.to_string())
        }
    }
}

/// Whether kept credentials can still sign: they never expire, or not within
/// [`CREDENTIALS_REFRESH_MARGIN`] of `now`.
fn still_fresh(credentials: &Credentials, now: SystemTime) -> bool {
    credentials
        .expiry()
        .is_none_or(|expiry| expiry > now + CREDENTIALS_REFRESH_MARGIN)
}

/// The standard AWS credential chain (environment, profile, container, IMDS) with a ring-based
/// HTTP client: aws-config without its default client would pull a second TLS stack (aws-lc),
/// and without any client it panics in debug builds (a debug assertion in aws-smithy-runtime,
/// even with `AWS_REGION` set and instance metadata disabled).
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

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    /// Counts how often it is asked; each answer expires `lifetime` from now (`None`: never).
    #[derive(Debug)]
    struct Counting {
        calls: Arc<AtomicUsize>,
        lifetime: Option<Duration>,
    }

    impl ProvideCredentials for Counting {
        fn provide_credentials<'a>(
            &'a self,
        ) -> aws_credential_types::provider::future::ProvideCredentials<'a>
        where
            Self: 'a,
        {
            self.calls.fetch_add(1, Ordering::SeqCst);
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
        let calls = Arc::new(AtomicUsize::new(0));
        let counting = Counting {
            calls: Arc::clone(&calls),
            lifetime,
        };
        let credentials = KeptCredentials::from_provider(
            "us-east-1".to_owned(),
            SharedCredentialsProvider::new(counting),
        );
        for _ in 0..3 {
            credentials.identity().await.unwrap();
        }
        calls.load(Ordering::SeqCst)
    }

    #[test]
    fn only_an_explaining_default_chain_adds_the_laptop_advice() {
        let lambda = KeptCredentials::default_chain("eu-west-1".to_owned());
        let SendError::Credentials(text) = lambda.failure("none found") else {
            unreachable!()
        };
        assert_eq!(text, "none found");
        let cli = KeptCredentials::default_chain("eu-west-1".to_owned()).explaining();
        let SendError::Credentials(text) = cli.failure("none found") else {
            unreachable!()
        };
        assert!(text.starts_with("none found; the default AWS credential chain found none"));
        assert!(text.contains("AWS_PROFILE"), "{text}");
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
