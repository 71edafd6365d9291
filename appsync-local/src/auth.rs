//! Who may publish and subscribe: API keys (`x-api-key`), SigV4 (`Authorization:
//! AWS4-HMAC-SHA256 …`, verified by [`crate::sigv4`]) and bearer-style tokens (`Authorization`,
//! as Cognito, OIDC and Lambda authorizer modes send).
//!
//! The mode is chosen from what the request carries, in this order: a SigV4 `Authorization`
//! header, then `x-api-key`, then any other `Authorization` value. When no credential of any kind
//! is configured the server is open and every request is accepted.

use std::time::{Duration, SystemTime};

use http::{HeaderMap, Uri};
use serde::Serialize;

use crate::config::Config;
use crate::sigv4::{self, SigV4Config};

/// AppSync's SigV4 signing service name.
pub const SIGV4_SERVICE: &str = "appsync";

/// SigV4 signatures older or newer than this are refused, as AWS does.
pub const MAX_CLOCK_SKEW: Duration = Duration::from_secs(5 * 60);

/// Which mode authenticated a request, or why it was refused. Never carries a secret: only the
/// access key id (which AWS treats as public) for IAM.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "mode")]
pub enum AuthOutcome {
    /// No credentials are configured: the server accepts everything.
    Open,
    /// A configured API key was presented.
    ApiKey,
    /// A valid SigV4 signature by this access key id.
    Iam { access_key_id: String },
    /// A configured `Authorization` token was presented.
    Token,
    /// Refused; `reason` says why in words safe to log.
    Denied { reason: String },
}

impl AuthOutcome {
    /// True unless the request was refused.
    pub fn is_allowed(&self) -> bool {
        !matches!(self, AuthOutcome::Denied { .. })
    }

    /// A short name for logs.
    pub fn mode(&self) -> &'static str {
        match self {
            AuthOutcome::Open => "open",
            AuthOutcome::ApiKey => "api_key",
            AuthOutcome::Iam { .. } => "iam",
            AuthOutcome::Token => "token",
            AuthOutcome::Denied { .. } => "denied",
        }
    }

    pub(crate) fn denied(reason: &str) -> Self {
        AuthOutcome::Denied {
            reason: reason.to_owned(),
        }
    }
}

/// The configured credentials, ready to check requests against.
#[derive(Debug, Clone)]
pub struct Authenticator {
    required: bool,
    api_keys: Vec<String>,
    tokens: Vec<String>,
    sigv4: Option<SigV4Config>,
}

impl Authenticator {
    /// Builds the checker from the server configuration.
    pub fn new(config: &Config) -> Self {
        let sigv4 = (!config.iam_credentials.is_empty()).then(|| SigV4Config {
            credentials: config.iam_credentials.iter().cloned().collect(),
            region: config.region.clone(),
            service: SIGV4_SERVICE.to_owned(),
            max_skew: MAX_CLOCK_SKEW,
        });
        Self {
            required: config.auth_required(),
            api_keys: config.api_keys.clone(),
            tokens: config.auth_tokens.clone(),
            sigv4,
        }
    }

    /// The kinds of credential configured, as AppSync names the auth modes (never a secret).
    pub fn modes(&self) -> Vec<&'static str> {
        let mut modes = Vec::new();
        if !self.api_keys.is_empty() {
            modes.push("API_KEY");
        }
        if self.sigv4.is_some() {
            modes.push("AWS_IAM");
        }
        if !self.tokens.is_empty() {
            modes.push("tokens (AMAZON_COGNITO_USER_POOLS, OPENID_CONNECT, AWS_LAMBDA)");
        }
        modes
    }

    /// True when credentials are configured, so every request must authenticate.
    pub fn required(&self) -> bool {
        self.required
    }

    /// Checks the credentials a request carries. `method`, `uri` and `body` are what a SigV4
    /// signature covers: for HTTP publish the request itself, for WebSocket messages the
    /// `POST /event` request the client signed (protocol notes §4.4).
    pub fn check(
        &self,
        method: &str,
        uri: &Uri,
        headers: &HeaderMap,
        body: &[u8],
        now: SystemTime,
    ) -> AuthOutcome {
        if !self.required {
            return AuthOutcome::Open;
        }
        let authorization = headers
            .get(http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok());
        if let Some(auth) = authorization
            && auth.starts_with("AWS4-HMAC-SHA256")
        {
            let Some(config) = &self.sigv4 else {
                return AuthOutcome::denied("iam auth is not configured");
            };
            return match sigv4::verify(method, uri, headers, body, config, now) {
                Ok(access_key_id) => AuthOutcome::Iam { access_key_id },
                Err(e) => AuthOutcome::Denied {
                    reason: format!("sigv4: {e}"),
                },
            };
        }
        if let Some(key) = headers.get("x-api-key") {
            let key = key.to_str().unwrap_or_default();
            return if self.api_keys.iter().any(|k| k == key) {
                AuthOutcome::ApiKey
            } else {
                AuthOutcome::denied("unknown api key")
            };
        }
        if let Some(auth) = authorization {
            // Cognito and OIDC accept the JWT with or without a `Bearer ` scheme.
            let token = auth.strip_prefix("Bearer ").unwrap_or(auth);
            return if self.tokens.iter().any(|t| t == token || t == auth) {
                AuthOutcome::Token
            } else {
                AuthOutcome::denied("unknown authorization token")
            };
        }
        AuthOutcome::denied("no credentials")
    }
}

/// True when the `host` of a WebSocket `authorization` object names this server, reached at
/// `server_host` (the upgrade request's `Host`).
///
/// AppSync documents `host` as "the host for the AppSync Events HTTP endpoint", required in the
/// connection's auth object; what it does with a wrong one is UNVERIFIED. Here the names match
/// case-insensitively, any loopback name (`localhost`, `127.0.0.1`, `[::1]`) stands for any other
/// when the server was reached on loopback, and a port, when given, must be the server's.
pub fn host_names_server(claimed: &str, server_host: &str) -> bool {
    let (claimed_name, claimed_port) = split_host(claimed);
    let (server_name, server_port) = split_host(server_host);
    let is_loopback = |name: &str| {
        name.eq_ignore_ascii_case("localhost")
            || name
                .trim_start_matches('[')
                .trim_end_matches(']')
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback())
    };
    let same_name = claimed_name.eq_ignore_ascii_case(server_name)
        || (is_loopback(claimed_name) && is_loopback(server_name));
    let same_port = match (claimed_port, server_port) {
        (Some(c), Some(s)) => c == s,
        // A host without a port names the default port; the server's own port is unknown here
        // only when the client sent none either.
        (Some(_), None) | (None, _) => true,
    };
    !claimed_name.is_empty() && same_name && same_port
}

/// `name[:port]`, with IPv6 literals in brackets.
fn split_host(host: &str) -> (&str, Option<&str>) {
    let host = host.trim();
    if let Some(rest) = host.strip_prefix('[') {
        return match rest.split_once(']') {
            Some((name, after)) => (name, after.strip_prefix(':')),
            None => (host, None),
        };
    }
    match host.rsplit_once(':') {
        Some((name, port)) if !name.contains(':') => (name, Some(port)),
        _ => (host, None),
    }
}

/// Turns a WebSocket `authorization` object (or a decoded `header-` subprotocol) into headers,
/// lower-casing names; non-string values are ignored.
pub fn headers_from_object(object: &serde_json::Map<String, serde_json::Value>) -> HeaderMap {
    let mut headers = HeaderMap::new();
    for (name, value) in object {
        let (Some(value), Ok(name)) = (
            value.as_str(),
            http::HeaderName::from_bytes(name.to_ascii_lowercase().as_bytes()),
        ) else {
            continue;
        };
        if let Ok(value) = http::HeaderValue::from_str(value) {
            headers.insert(name, value);
        }
    }
    headers
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let object = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), serde_json::Value::from(*v)))
            .collect();
        headers_from_object(&object)
    }

    fn check(config: &Config, pairs: &[(&str, &str)]) -> AuthOutcome {
        Authenticator::new(config).check(
            "POST",
            &Uri::from_static("/event"),
            &headers(pairs),
            b"{}",
            SystemTime::now(),
        )
    }

    fn keyed() -> Config {
        Config {
            api_keys: vec!["da2-good".into()],
            auth_tokens: vec!["jwt-good".into()],
            ..Config::default()
        }
    }

    #[test]
    fn an_open_server_accepts_requests_without_credentials() {
        assert_eq!(check(&Config::default(), &[]), AuthOutcome::Open);
    }

    #[test]
    fn a_configured_api_key_is_accepted_and_others_refused() {
        assert_eq!(
            check(&keyed(), &[("x-api-key", "da2-good")]),
            AuthOutcome::ApiKey
        );
        assert!(!check(&keyed(), &[("x-api-key", "da2-bad")]).is_allowed());
        assert!(!check(&keyed(), &[]).is_allowed());
    }

    #[test]
    fn tokens_are_accepted_with_or_without_a_bearer_scheme() {
        assert_eq!(
            check(&keyed(), &[("Authorization", "jwt-good")]),
            AuthOutcome::Token
        );
        assert_eq!(
            check(&keyed(), &[("authorization", "Bearer jwt-good")]),
            AuthOutcome::Token
        );
        assert!(!check(&keyed(), &[("authorization", "jwt-bad")]).is_allowed());
    }

    #[test]
    fn a_sigv4_header_without_configured_iam_is_refused() {
        let outcome = check(
            &keyed(),
            &[("authorization", "AWS4-HMAC-SHA256 Credential=AKID/x")],
        );
        assert_eq!(
            outcome,
            AuthOutcome::Denied {
                reason: "iam auth is not configured".into()
            }
        );
    }

    #[test]
    fn the_auth_objects_host_must_name_this_server() {
        assert!(host_names_server("localhost:8787", "localhost:8787"));
        assert!(host_names_server("LOCALHOST:8787", "127.0.0.1:8787"));
        assert!(host_names_server("127.0.0.1:8787", "[::1]:8787"));
        assert!(host_names_server("localhost", "127.0.0.1:8787"));
        assert!(host_names_server("api.example.com", "API.example.com:443"));
        assert!(!host_names_server("localhost:9999", "127.0.0.1:8787"));
        assert!(!host_names_server(
            "abc.appsync-api.us-east-1.amazonaws.com",
            "localhost:8787"
        ));
        assert!(!host_names_server("", "localhost:8787"));
    }

    #[test]
    fn denial_reasons_never_echo_the_presented_secret() {
        let outcome = check(&keyed(), &[("x-api-key", "da2-secret-value")]);
        assert!(!format!("{outcome:?}").contains("da2-secret-value"));
    }
}
