//! The publish half of the configuration: endpoint, auth mode and its secret, the tuning knobs
//! and the metrics namespace, each problem naming its variable.

use std::fmt;
use std::time::Duration;

use super::Lookup;
use super::endpoint::{Endpoint, host_of, parse_endpoint, region_from_host};
use crate::problem::Problem;

/// The publish half of the configuration: endpoint, auth and tuning. Kept apart from the rules so
/// each half can be read (and tested) on its own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublishSettings {
    /// The normalised HTTP endpoint.
    pub endpoint: Endpoint,
    /// How requests are authorised.
    pub auth: Auth,
    /// Concurrency, attempts, timeouts and backoff.
    pub tuning: Tuning,
    /// The CloudWatch namespace of the Embedded Metric Format line (`BRIDGE_METRICS_NAMESPACE`).
    pub metrics_namespace: String,
}

/// A secret (API key or token), held as the header value it is sent as: checked once, and
/// marked sensitive, so HTTP/2 never puts it in its header table. Its `Debug` never shows the
/// value, so a configuration dump or an error message cannot leak it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(http::HeaderValue);

impl Secret {
    /// The secret, if it can be a header value (no control character, no newline).
    pub fn new(value: &str) -> Option<Self> {
        let mut value = http::HeaderValue::from_str(value).ok()?;
        value.set_sensitive(true);
        Some(Self(value))
    }

    /// The header value, for the one place that sends it.
    pub fn header_value(&self) -> &http::HeaderValue {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// The five AppSync auth modes (`APPSYNC_AUTH_MODE`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMode {
    /// SigV4 with the function's role (default).
    AwsIam,
    /// `x-api-key`.
    ApiKey,
    /// `Authorization: <Cognito JWT>`.
    AmazonCognitoUserPools,
    /// `Authorization: <OIDC JWT>`.
    OpenidConnect,
    /// `Authorization: <token for a Lambda authorizer>`.
    AwsLambda,
}

impl AuthMode {
    /// The contract's spelling, as `APPSYNC_AUTH_MODE` takes it.
    pub fn name(self) -> &'static str {
        match self {
            AuthMode::AwsIam => "AWS_IAM",
            AuthMode::ApiKey => "API_KEY",
            AuthMode::AmazonCognitoUserPools => "AMAZON_COGNITO_USER_POOLS",
            AuthMode::OpenidConnect => "OPENID_CONNECT",
            AuthMode::AwsLambda => "AWS_LAMBDA",
        }
    }

    /// Parses the contract's spelling (`AWS_IAM`, `API_KEY`, ...).
    pub fn parse(text: &str) -> Option<AuthMode> {
        match text.trim() {
            "AWS_IAM" => Some(AuthMode::AwsIam),
            "API_KEY" => Some(AuthMode::ApiKey),
            "AMAZON_COGNITO_USER_POOLS" => Some(AuthMode::AmazonCognitoUserPools),
            "OPENID_CONNECT" => Some(AuthMode::OpenidConnect),
            "AWS_LAMBDA" => Some(AuthMode::AwsLambda),
            _ => None,
        }
    }
}

/// How each publish request is authorised, with what it needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Auth {
    /// SigV4, service `appsync`, in `region`; credentials from the default AWS chain.
    AwsIam {
        /// The signing region.
        region: String,
    },
    /// `x-api-key: <key>`.
    ApiKey(Secret),
    /// `Authorization: <token>` for Cognito, OIDC and Lambda authorizers.
    Token {
        /// Which of the three token modes (for logs; the header is the same).
        mode: AuthMode,
        /// The token.
        token: Secret,
    },
}

/// Tuning knobs, each a `BRIDGE_*` variable with a documented default.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tuning {
    /// `BRIDGE_CONCURRENCY`: publish requests in flight at once across channels (default 8).
    pub concurrency: usize,
    /// `BRIDGE_MAX_ATTEMPTS`: attempts per event including the first (default 3).
    pub max_attempts: u32,
    /// `BRIDGE_REQUEST_TIMEOUT_MS`: one request's timeout, never beyond the deadline (default 5000).
    pub request_timeout: Duration,
    /// `BRIDGE_DEADLINE_MARGIN_MS`: time kept back from Lambda's deadline to answer (default 1000).
    pub deadline_margin: Duration,
    /// `BRIDGE_BACKOFF_BASE_MS`: first retry's maximum delay (default 100).
    pub backoff_base: Duration,
    /// `BRIDGE_BACKOFF_CAP_MS`: largest retry delay (default 2000).
    pub backoff_cap: Duration,
}

impl Default for Tuning {
    fn default() -> Self {
        Self {
            concurrency: 8,
            max_attempts: 3,
            request_timeout: Duration::from_millis(5000),
            deadline_margin: Duration::from_millis(1000),
            backoff_base: Duration::from_millis(100),
            backoff_cap: Duration::from_millis(2000),
        }
    }
}

/// The default CloudWatch namespace for metrics.
pub const DEFAULT_METRICS_NAMESPACE: &str = "AppSyncBridge";

impl PublishSettings {
    /// Reads endpoint, auth, region and tuning; every problem names its variable.
    pub fn from_lookup(lookup: Lookup<'_>) -> Result<PublishSettings, Vec<Problem>> {
        let mut problems = Vec::new();
        let get = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());

        let endpoint = match get("APPSYNC_HTTP_ENDPOINT") {
            None => {
                problems.push(Problem::new("APPSYNC_HTTP_ENDPOINT", "is required"));
                None
            }
            Some(raw) => match parse_endpoint(&raw) {
                Ok(e) => Some(e),
                Err(message) => {
                    problems.push(Problem::new("APPSYNC_HTTP_ENDPOINT", message));
                    None
                }
            },
        };

        let mode = match get("APPSYNC_AUTH_MODE") {
            None => Some(AuthMode::AwsIam),
            Some(raw) => {
                let mode = AuthMode::parse(&raw);
                if mode.is_none() {
                    problems.push(Problem::new(
                        "APPSYNC_AUTH_MODE",
                        format!(
                            "{:?} is not one of AWS_IAM, API_KEY, AMAZON_COGNITO_USER_POOLS, OPENID_CONNECT, AWS_LAMBDA",
                            raw.trim()
                        ),
                    ));
                }
                mode
            }
        };

        let auth = match mode {
            None => None,
            Some(AuthMode::AwsIam) => {
                let from_host = endpoint
                    .as_ref()
                    .and_then(|e| region_from_host(host_of(&e.authority)));
                match get("APPSYNC_REGION")
                    .or(from_host)
                    .or_else(|| get("AWS_REGION"))
                {
                    Some(region) => Some(Auth::AwsIam {
                        region: region.trim().to_owned(),
                    }),
                    None => {
                        problems.push(Problem::new(
                            "APPSYNC_REGION",
                            "is required for AWS_IAM when the endpoint host does not name a region and AWS_REGION is unset",
                        ));
                        None
                    }
                }
            }
            Some(AuthMode::ApiKey) => match get("APPSYNC_API_KEY") {
                Some(key) => {
                    header_secret("APPSYNC_API_KEY", &key, &mut problems).map(Auth::ApiKey)
                }
                None => {
                    problems.push(Problem::new("APPSYNC_API_KEY", "is required for API_KEY"));
                    None
                }
            },
            Some(mode) => match get("APPSYNC_AUTH_TOKEN") {
                Some(token) => header_secret("APPSYNC_AUTH_TOKEN", &token, &mut problems)
                    .map(|token| Auth::Token { mode, token }),
                None => {
                    problems.push(Problem::new(
                        "APPSYNC_AUTH_TOKEN",
                        "is required for AMAZON_COGNITO_USER_POOLS, OPENID_CONNECT and AWS_LAMBDA",
                    ));
                    None
                }
            },
        };

        let defaults = Tuning::default();
        let mut number = |name: &str, default: u64, min: u64, max: u64| -> u64 {
            match get(name) {
                None => default,
                Some(raw) => match raw.trim().parse::<u64>() {
                    Ok(n) if (min..=max).contains(&n) => n,
                    _ => {
                        problems.push(Problem::new(
                            name,
                            format!("{:?} is not a whole number from {min} to {max}", raw.trim()),
                        ));
                        default
                    }
                },
            }
        };
        let ms = |n: u64| Duration::from_millis(n);
        let default_ms = |d: Duration| u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
        let tuning = Tuning {
            concurrency: number("BRIDGE_CONCURRENCY", defaults.concurrency as u64, 1, 256) as usize,
            max_attempts: number(
                "BRIDGE_MAX_ATTEMPTS",
                u64::from(defaults.max_attempts),
                1,
                20,
            ) as u32,
            request_timeout: ms(number(
                "BRIDGE_REQUEST_TIMEOUT_MS",
                default_ms(defaults.request_timeout),
                100,
                900_000,
            )),
            deadline_margin: ms(number(
                "BRIDGE_DEADLINE_MARGIN_MS",
                default_ms(defaults.deadline_margin),
                0,
                60_000,
            )),
            backoff_base: ms(number(
                "BRIDGE_BACKOFF_BASE_MS",
                default_ms(defaults.backoff_base),
                1,
                60_000,
            )),
            backoff_cap: ms(number(
                "BRIDGE_BACKOFF_CAP_MS",
                default_ms(defaults.backoff_cap),
                1,
                600_000,
            )),
        };
        if tuning.backoff_cap < tuning.backoff_base {
            problems.push(Problem::new(
                "BRIDGE_BACKOFF_CAP_MS",
                "must not be smaller than BRIDGE_BACKOFF_BASE_MS",
            ));
        }

        let metrics_namespace = match get("BRIDGE_METRICS_NAMESPACE") {
            None => DEFAULT_METRICS_NAMESPACE.to_owned(),
            Some(ns) if ns.trim().len() <= 255 => ns.trim().to_owned(),
            Some(_) => {
                problems.push(Problem::new(
                    "BRIDGE_METRICS_NAMESPACE",
                    "is longer than cloudwatch's 255 characters",
                ));
                DEFAULT_METRICS_NAMESPACE.to_owned()
            }
        };

        match (endpoint, auth) {
            (Some(endpoint), Some(auth)) if problems.is_empty() => Ok(PublishSettings {
                endpoint,
                auth,
                tuning,
                metrics_namespace,
            }),
            _ => Err(problems),
        }
    }
}

/// A key or token that goes into a header as is: one that is not a valid header value (a control
/// character, an embedded newline) could never be sent, so it is a start-up problem here rather
/// than a transport error retried on every publish. The message never echoes the value.
fn header_secret(name: &str, raw: &str, problems: &mut Vec<Problem>) -> Option<Secret> {
    let secret = Secret::new(raw.trim());
    if secret.is_none() {
        problems.push(Problem::new(
            name,
            "is not a valid http header value (it holds a control character such as a newline)",
        ));
    }
    secret
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn settings(vars: &[(&str, &str)]) -> Result<PublishSettings, Vec<Problem>> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        PublishSettings::from_lookup(&move |name| map.get(name).cloned())
    }

    fn locations(problems: &[Problem]) -> Vec<&str> {
        problems.iter().map(|p| p.location.as_str()).collect()
    }

    #[test]
    fn iam_is_the_default_and_takes_the_region_from_the_host() {
        let s = settings(&[(
            "APPSYNC_HTTP_ENDPOINT",
            "abc.appsync-api.us-east-2.amazonaws.com",
        )])
        .unwrap();
        assert_eq!(
            s.auth,
            Auth::AwsIam {
                region: "us-east-2".into()
            }
        );
        assert_eq!(s.tuning, Tuning::default());
        assert_eq!(s.metrics_namespace, "AppSyncBridge");
    }

    #[test]
    fn an_explicit_region_wins_and_aws_region_is_the_fallback() {
        let s = settings(&[
            (
                "APPSYNC_HTTP_ENDPOINT",
                "abc.appsync-api.us-east-2.amazonaws.com",
            ),
            ("APPSYNC_REGION", "eu-central-1"),
            ("AWS_REGION", "ap-south-1"),
        ])
        .unwrap();
        assert_eq!(
            s.auth,
            Auth::AwsIam {
                region: "eu-central-1".into()
            }
        );
        let s = settings(&[
            ("APPSYNC_HTTP_ENDPOINT", "events.example.com"),
            ("AWS_REGION", "ap-south-1"),
        ])
        .unwrap();
        assert_eq!(
            s.auth,
            Auth::AwsIam {
                region: "ap-south-1".into()
            }
        );
    }

    #[test]
    fn every_problem_is_reported_each_naming_its_variable() {
        let problems = settings(&[
            ("APPSYNC_HTTP_ENDPOINT", "http://example.com"),
            ("APPSYNC_AUTH_MODE", "API_KEY"),
            ("BRIDGE_CONCURRENCY", "zero"),
            ("BRIDGE_MAX_ATTEMPTS", "0"),
        ])
        .unwrap_err();
        assert_eq!(
            locations(&problems),
            vec![
                "APPSYNC_HTTP_ENDPOINT",
                "APPSYNC_API_KEY",
                "BRIDGE_CONCURRENCY",
                "BRIDGE_MAX_ATTEMPTS"
            ]
        );
    }

    #[test]
    fn a_missing_endpoint_and_unknown_mode_are_both_reported() {
        let problems = settings(&[("APPSYNC_AUTH_MODE", "SAML")]).unwrap_err();
        assert_eq!(
            locations(&problems),
            vec!["APPSYNC_HTTP_ENDPOINT", "APPSYNC_AUTH_MODE"]
        );
    }

    #[test]
    fn iam_without_any_region_is_a_problem() {
        let problems = settings(&[("APPSYNC_HTTP_ENDPOINT", "events.example.com")]).unwrap_err();
        assert_eq!(locations(&problems), vec!["APPSYNC_REGION"]);
    }

    #[test]
    fn token_modes_need_a_token_and_keep_it_out_of_debug_output() {
        let problems = settings(&[
            ("APPSYNC_HTTP_ENDPOINT", "events.example.com"),
            ("APPSYNC_AUTH_MODE", "OPENID_CONNECT"),
        ])
        .unwrap_err();
        assert_eq!(locations(&problems), vec!["APPSYNC_AUTH_TOKEN"]);

        let s = settings(&[
            ("APPSYNC_HTTP_ENDPOINT", "events.example.com"),
            ("APPSYNC_AUTH_MODE", "AWS_LAMBDA"),
            ("APPSYNC_AUTH_TOKEN", "tok-very-secret"),
        ])
        .unwrap();
        assert!(
            matches!(&s.auth, Auth::Token { token, .. } if token.header_value().to_str().ok() == Some("tok-very-secret"))
        );
        assert!(!format!("{s:?}").contains("tok-very-secret"));

        let s = settings(&[
            ("APPSYNC_HTTP_ENDPOINT", "events.example.com"),
            ("APPSYNC_AUTH_MODE", "API_KEY"),
            ("APPSYNC_API_KEY", "da2-supersecret"),
        ])
        .unwrap();
        assert!(!format!("{s:?}").contains("da2-supersecret"));
    }

    #[test]
    fn a_key_or_token_that_cannot_be_a_header_is_a_start_up_problem_that_hides_the_value() {
        for (mode, variable) in [
            ("API_KEY", "APPSYNC_API_KEY"),
            ("OPENID_CONNECT", "APPSYNC_AUTH_TOKEN"),
        ] {
            for bad in [
                "da2-sec\nret",
                "da2-sec\rret",
                "da2-sec\u{0}ret",
                "da2-sec\u{7f}ret",
            ] {
                let problems = settings(&[
                    ("APPSYNC_HTTP_ENDPOINT", "events.example.com"),
                    ("APPSYNC_AUTH_MODE", mode),
                    (variable, bad),
                ])
                .unwrap_err();
                assert_eq!(locations(&problems), vec![variable], "{bad:?}");
                assert!(!problems[0].message.contains("sec"), "{}", problems[0]);
            }
        }
        // Surrounding whitespace (a trailing newline from a file) is trimmed, not a problem.
        let s = settings(&[
            ("APPSYNC_HTTP_ENDPOINT", "events.example.com"),
            ("APPSYNC_AUTH_MODE", "API_KEY"),
            ("APPSYNC_API_KEY", "da2-key\n"),
        ])
        .unwrap();
        assert!(
            matches!(&s.auth, Auth::ApiKey(k) if k.header_value().to_str().ok() == Some("da2-key"))
        );
    }

    #[test]
    fn tuning_knobs_are_read_and_validated() {
        let s = settings(&[
            ("APPSYNC_HTTP_ENDPOINT", "http://127.0.0.1:1/event"),
            ("APPSYNC_AUTH_MODE", "API_KEY"),
            ("APPSYNC_API_KEY", "k"),
            ("BRIDGE_CONCURRENCY", "3"),
            ("BRIDGE_MAX_ATTEMPTS", "5"),
            ("BRIDGE_REQUEST_TIMEOUT_MS", "250"),
            ("BRIDGE_DEADLINE_MARGIN_MS", "0"),
            ("BRIDGE_BACKOFF_BASE_MS", "10"),
            ("BRIDGE_BACKOFF_CAP_MS", "40"),
            ("BRIDGE_METRICS_NAMESPACE", "Shop/Bridge"),
        ])
        .unwrap();
        assert_eq!(s.tuning.concurrency, 3);
        assert_eq!(s.tuning.max_attempts, 5);
        assert_eq!(s.tuning.request_timeout, Duration::from_millis(250));
        assert_eq!(s.tuning.deadline_margin, Duration::ZERO);
        assert_eq!(s.tuning.backoff_cap, Duration::from_millis(40));
        assert_eq!(s.metrics_namespace, "Shop/Bridge");

        let problems = settings(&[
            ("APPSYNC_HTTP_ENDPOINT", "http://127.0.0.1:1/event"),
            ("APPSYNC_AUTH_MODE", "API_KEY"),
            ("APPSYNC_API_KEY", "k"),
            ("BRIDGE_BACKOFF_BASE_MS", "500"),
            ("BRIDGE_BACKOFF_CAP_MS", "40"),
        ])
        .unwrap_err();
        assert_eq!(locations(&problems), vec!["BRIDGE_BACKOFF_CAP_MS"]);
    }
}
